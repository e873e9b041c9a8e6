"""One output layer: a human form on the console, or ``--json`` for scripts."""

from __future__ import annotations

import functools
import json
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, Protocol, TypeVar, runtime_checkable

import typer

from strata.cli.source import check_command
from strata.cli.units import human_size as human_size  # the commands' sizes, from here
from strata.core.progress import ProgressSink
from strata.errors import StrataError
from strata.parallel import request_cancel, reset_cancel

if TYPE_CHECKING:
    from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class LazyConsole:
    """A rich Console made on first print: importing rich is a good part of ``strata --help``,
    which prints through click, not rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        self.get().print(*objects, **options)

    @property
    def is_terminal(self) -> bool:
        return self.get().is_terminal


console = LazyConsole(highlight=False, soft_wrap=True)
err_console = LazyConsole(stderr=True, highlight=False)
_settings = {"debug": False, "quiet": False}

EXIT_INTERRUPTED = 130


def set_debug(debug: bool) -> None:
    _settings["debug"] = debug


def set_quiet(quiet: bool) -> None:
    """With ``--quiet``, no progress bars; results, warnings and errors print as ever."""
    _settings["quiet"] = quiet


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


@runtime_checkable
class Record(Protocol):
    """A result that has a JSON form."""

    def to_dict(self) -> Mapping[str, object]: ...


T = TypeVar("T", bound=Record)


def print_line(text: str) -> None:
    """Print one line exactly as it is, without rich: the quick answers (``status`` with
    nothing changed) do not pay for importing it."""
    sys.stdout.write(text + "\n")


def escape(text: str) -> str:
    """``text`` with rich markup escaped, for a ``console.print`` line."""
    from rich.markup import escape as escape_markup

    return escape_markup(text)


def say(text: str) -> None:
    """Print plain text: rich markup is not read, so a ``[name]`` prints as it is."""
    console.print(text, markup=False)


def print_result(data: Record | Any, text: str | Iterable[str], *, json_out: bool) -> None:
    """With ``--json`` ``data`` as JSON (a Record's ``to_dict()``, else ``data`` as it is);
    otherwise ``text``, one line at a time (a generator of lines runs only for the text)."""
    if json_out:
        print_json(data.to_dict() if isinstance(data, Record) else data)
        return
    for line in [text] if isinstance(text, str) else text:
        say(line)


def print_records(records: Iterable[T], line: Callable[[T], str], *, json_out: bool) -> None:
    """A listing: with ``--json`` one JSON array of the records' ``to_dict()``, else a text
    line for each record."""
    if json_out:
        print_json([record.to_dict() for record in records])
        return
    for record in records:
        say(line(record))


def fail(message: str, code: int) -> typer.Exit:
    """Print one error line (any URL's password redacted) and give the exit to raise."""
    from strata.config import redact

    err_console.print(f"[bold red]error:[/] {escape(redact(message))}", markup=True, soft_wrap=True)
    return typer.Exit(code)


def _on_interrupt(signum: int, frame: object) -> None:
    request_cancel()


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map Strata errors and Ctrl-C to one line and an exit code; --debug shows the trace."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, _on_interrupt) if in_main else None
        try:
            check_command(func, _command_path(func))
            return func(*args, **kwargs)
        except StrataError as exc:
            if _settings["debug"]:
                traceback.print_exc()
            raise fail(exc.one_line(), exc.exit_code) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _settings["debug"]:
                raise
            raise fail(
                f"unexpected {type(exc).__name__}: {exc}; rerun with --debug and report it", 1
            ) from None
        except KeyboardInterrupt:
            raise fail(
                "interrupted: each write either landed whole or left no trace; run the command "
                "again to finish (a table write or model registration that landed is not repeated)",
                EXIT_INTERRUPTED,
            ) from None
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous or signal.default_int_handler)
            reset_cancel()

    return wrapper


def _command_path(func: Callable[..., Any]) -> str:
    from typer._click.globals import get_current_context  # typer's own click, not `click`

    context = get_current_context(silent=True)
    return context.command_path if context is not None else func.__name__


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[ProgressSink]:
    """A progress bar on stderr: objects done and expected, bytes when reported, the rate,
    time left once the total is known, and time elapsed. Yields the sink operations report
    to (calling it with a count still works); nothing is shown, and rich is not imported,
    when stderr is not a terminal or with ``--quiet``."""
    from strata.cli.progress import Tally, shown

    tally = Tally()
    if total:
        tally.expect(total)
    if _settings["quiet"] or not sys.stderr.isatty() or not err_console.is_terminal:
        yield tally
        return
    with shown(tally, description, err_console.get()):
        yield tally
