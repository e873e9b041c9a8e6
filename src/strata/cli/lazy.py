"""A command group that imports a command's module only when that command runs.

``strata --help`` lists every command with its one-line help from a table (name → where the
command comes from, its first sentence), so it imports none of the command modules, and
``strata status`` imports the file commands and nothing else. A table entry's target is
``"module:attribute"``, where the attribute is

- a ``typer.Typer``: the command group ``name`` (``"strata.cli.config_cmds:app"``);
- a function named ``register``: the module's hook that adds ``name`` (and its siblings) to a
  Typer app (``"strata.cli.files_cmds:register"``);
- any other function: the command ``name`` itself (``"strata.cli.model_cmds:audit"``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter

Settings = tuple[tuple[str, Any], ...]


class Lazy(NamedTuple):
    """Where a command comes from, and the one line ``--help`` shows for it."""

    target: str
    help: str


def lazy_group(table: Mapping[str, Lazy], settings: Mapping[str, Any]) -> type[TyperGroup]:
    """A TyperGroup class whose ``commands`` hold ``table``'s names, each command built on
    first use; ``settings`` are the root Typer's (its markup mode reaches every command, so
    they are built under the same)."""
    frozen = tuple(sorted(settings.items()))

    class LazyGroup(TyperGroup):
        def __init__(self, **attrs: Any) -> None:
            super().__init__(**attrs)
            self.commands = LazyCommands(dict(self.commands), table, frozen)

        def list_commands(self, ctx: Context) -> list[str]:
            return list(self.commands)

        def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
            """The Commands section, the lazy ones' helps from the table (nothing imported)."""
            assert isinstance(self.commands, LazyCommands)
            shown = [
                (name, command)
                for name, command in self.commands.loaded_or_stand_ins()
                if not command.hidden
            ]
            if not shown:
                return
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            rows = [(name, command.get_short_help_str(limit)) for name, command in shown]
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    return LazyGroup


class LazyCommands(MutableMapping[str, "Command"]):
    """A group's commands: the ones added to it, then the table's, each imported when read."""

    def __init__(self, added: dict[str, Command], table: Mapping[str, Lazy], settings: Settings):
        self._added = added
        self._table = table
        self._settings = settings

    def __getitem__(self, name: str) -> Command:
        if name in self._added or name not in self._table:
            return self._added[name]
        command = _load(self._table[name].target, name, self._settings)
        if command is None:
            raise LookupError(f"{self._table[name].target} makes no command {name!r}")
        return command

    def __setitem__(self, name: str, command: Command) -> None:
        self._added[name] = command

    def __delitem__(self, name: str) -> None:
        del self._added[name]

    def __contains__(self, name: object) -> bool:
        return name in self._added or name in self._table

    def __iter__(self) -> Iterator[str]:
        yield from self._added
        yield from (name for name in self._table if name not in self._added)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def loaded_or_stand_ins(self) -> list[tuple[str, Command]]:
        """Each command, or for a table's, a stand-in that carries only its help."""
        return [
            (name, self._added.get(name) or TyperCommand(name, help=self._table[name].help))
            for name in self
        ]


def _load(target: str, name: str, settings: Settings) -> Command | None:
    """The command ``name`` that ``target`` makes."""
    key = "" if target.endswith(":register") else name  # a hook makes all its names at once
    return _built(target, key, settings).get(name)


@functools.cache
def _built(target: str, name: str, settings: Settings) -> Mapping[str, Command]:
    """The commands ``target`` makes, built once per process on a root like the real one."""
    module_name, attribute = target.split(":")
    found = getattr(importlib.import_module(module_name), attribute)
    root = typer.Typer(**dict(settings))
    if isinstance(found, typer.Typer):
        root.add_typer(found, name=name)
    elif attribute == "register":
        found(root)
    else:
        root.command(name)(found)
    return typer.main.get_group(root).commands
