"""Reading ``strata.yaml``: checked completely on load, every problem named by file, line and key.

    vars:                         # values for ${...}; params.yaml is always available too
      - shards: [north, south]
    stages:
      prepare:
        cmd: python prepare.py
        deps: [data/raw.csv, prepare.py]
        params: [prepare.split]   # params.yaml; or "other.yaml:key", or {other.yaml: [a, b]}
        outs: [table:deliveries]  # a path (tracked like `strata add`) or a table/model it writes
      featurize:
        foreach: ${shards}        # or a list, or a mapping (then ${key} and ${item})
        do:
          cmd: python featurize.py ${item}
          deps: [table:deliveries@latest]
          outs: ["data/features/${item}.csv"]  # quote ${} inside [ ]
        wdir: .                   # commands run here; paths are relative to it
        desc: ...
        frozen: false             # a frozen stage is never rerun
        metrics: [metrics.json]   # JSON, YAML or TOML; not cached, committed to git
        plots: [plots/roc.json, {plots/loss.csv: {x: step, y: loss}}]

The YAML is composed into nodes (never constructed into objects), so custom tags are refused
and every error can name its line.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from strata.core import safe_yaml
from strata.errors import PipelineFileError, RefSyntaxError
from strata.paths import unsafe_reason
from strata.pipelines.datafiles import load_data, lookup
from strata.pipelines.spec import PARAMS_FILE, PIPELINE_FILE, ParamKey, Pipeline, PlotSpec, Stage
from strata.refs import parse_ref

if TYPE_CHECKING:
    from yaml import Node

Reader = Callable[[str], bytes | None]
"""Reads a workspace-relative file (now, or at a git revision); None when it is absent."""

_STAGE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")
_PLAIN_TAGS = {"map", "seq", "str", "int", "float", "bool", "null"}
_STAGE_KEYS = {"cmd", "deps", "params", "outs", "metrics", "plots", "wdir", "desc", "frozen"}
_FOREACH_KEYS = {"foreach", "do"}
_PLOT_KEYS = {"x", "y", "title"}
_TEMPLATE_HINT = "fix strata.yaml at that line"


def parse_pipeline(text: str, read: Reader, source_name: str = PIPELINE_FILE) -> Pipeline:
    """The pipeline in ``text``; ``read`` supplies params.yaml and ``vars`` files."""
    import yaml

    try:
        root = safe_yaml.compose(text)
    except safe_yaml.YamlTooLarge as exc:
        raise PipelineFileError(f"{source_name}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source_name}:{mark.line + 1}" if mark is not None else source_name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PipelineFileError(f"{where}: not valid YAML: {problem}") from None
    return _Reader(source_name, read).pipeline(root)


class _Reader:
    def __init__(self, source_name: str, read: Reader) -> None:
        self.source_name = source_name
        self.read = read

    # -- nodes --------------------------------------------------------------------------------
    def fail(self, node: Node | None, key: str, problem: str) -> PipelineFileError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        where = f" {key}:" if key else ""
        return PipelineFileError(f"{self.source_name}{line}:{where} {problem}", hint=_TEMPLATE_HINT)

    def check_tag(self, node: Node, key: str) -> None:
        tag = node.tag
        if not tag.startswith("tag:yaml.org,2002:") or tag.rsplit(":", 1)[-1] not in _PLAIN_TAGS:
            raise self.fail(node, key, f"YAML tags are not allowed ({tag})")

    def mapping(self, node: Node | None, key: str) -> dict[str, Node]:
        import yaml

        if node is not None:
            self.check_tag(node, key)
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, "must be a mapping")
        found: dict[str, Node] = {}
        for name, value in node.value:
            if not isinstance(name, yaml.ScalarNode) or not str(name.value):
                raise self.fail(name, key, "keys must be plain names")
            if name.value in found:
                raise self.fail(name, key, f"{name.value!r} appears twice")
            found[str(name.value)] = value
        return found

    def items(self, node: Node, key: str) -> list[Node]:
        """A sequence, or one scalar standing for a sequence of one."""
        import yaml

        self.check_tag(node, key)
        if isinstance(node, yaml.ScalarNode):
            return [] if node.tag.endswith(":null") else [node]
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, key, "must be a list")
        return list(node.value)

    def value(self, node: Node, key: str) -> Any:
        """A node as plain data (for vars and foreach), tags checked."""
        import yaml

        self.check_tag(node, key)
        if isinstance(node, yaml.MappingNode):
            return {k: self.value(v, f"{key}.{k}") for k, v in self.mapping(node, key).items()}
        if isinstance(node, yaml.SequenceNode):
            return [self.value(v, key) for v in node.value]
        constructor = yaml.SafeLoader(b"")
        try:
            return constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, key, str(exc).splitlines()[0]) from None
        finally:
            constructor.dispose()

    def text(self, node: Node, key: str, context: Mapping[str, Any]) -> str:
        import yaml

        self.check_tag(node, key)
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            raise self.fail(node, key, "must be a single value")
        found = self.interpolate(str(node.value), node, key, context)
        if isinstance(found, dict | list):
            raise self.fail(node, key, "must be a single value, not a list or mapping")
        return str(found)

    # -- templating -----------------------------------------------------------------------------
    def resolve(self, name: str, node: Node, key: str, context: Mapping[str, Any]) -> Any:
        try:
            return lookup(context, name)
        except KeyError:
            raise self.fail(node, key, f"${{{name}}} is not defined") from None

    def interpolate(self, text: str, node: Node, key: str, context: Mapping[str, Any]) -> Any:
        """``${name}`` alone keeps the value's type; inside text it must be a single value."""
        whole = _VARIABLE.fullmatch(text.strip())
        if whole:
            return self.resolve(whole.group(1), node, key, context)

        def substitute(match: re.Match[str]) -> str:
            value = self.resolve(match.group(1), node, key, context)
            if isinstance(value, dict | list):
                raise self.fail(node, key, f"${{{match.group(1)}}} is a list or mapping")
            return str(value)

        return _VARIABLE.sub(substitute, text)

    def variables(self, node: Node | None) -> dict[str, Any]:
        """params.yaml, then each ``vars`` entry: a mapping, or the name of a file to load."""
        import yaml

        context: dict[str, Any] = {}
        params = self.load_file(PARAMS_FILE, None, "vars", required=False)
        if isinstance(params, dict):
            context.update(params)
        if node is None:
            return context
        entries = [node] if isinstance(node, yaml.MappingNode) else self.items(node, "vars")
        for entry in entries:
            if isinstance(entry, yaml.ScalarNode):
                name = self.path(entry, "vars", ".", {})
                data = self.load_file(name, entry, "vars", required=True)
                if not isinstance(data, dict):
                    raise self.fail(entry, "vars", f"{name} is not a mapping")
                context.update(data)
            else:
                context.update(self.value(entry, "vars"))
        return context

    def load_file(self, name: str, node: Node | None, key: str, *, required: bool) -> Any:
        data = self.read(name)
        if data is None:
            if required:
                raise self.fail(node, key, f"{name} does not exist")
            return None
        return load_data(name, data)

    # -- the pipeline ---------------------------------------------------------------------------
    def pipeline(self, root: Node | None) -> Pipeline:
        if root is None:
            return Pipeline(self.source_name)
        top = self.mapping(root, "")
        for name, node in top.items():
            if name not in ("stages", "vars"):
                raise self.fail(node, name, "unknown key (known: stages, vars)")
        context = self.variables(top.get("vars"))
        stages: dict[str, Stage] = {}
        if "stages" not in top:
            return Pipeline(self.source_name)
        for name, node in self.mapping(top["stages"], "stages").items():
            key = f"stages.{name}"
            if not _STAGE_NAME.fullmatch(name):
                raise self.fail(node, key, "bad stage name; use letters, digits, '_', '.', '-'")
            for stage in self.stage_family(name, node, key, context):
                if stage.name in stages:
                    raise self.fail(node, key, f"stage {stage.name!r} is defined twice")
                stages[stage.name] = stage
        return Pipeline(self.source_name, stages)

    def stage_family(
        self, name: str, node: Node, key: str, context: Mapping[str, Any]
    ) -> list[Stage]:
        fields = self.mapping(node, key)
        if "foreach" not in fields:
            return [self.stage(name, node, key, context)]
        for field_name, value in fields.items():
            if field_name not in _FOREACH_KEYS:
                raise self.fail(value, f"{key}.{field_name}", "not allowed beside foreach/do")
        if "do" not in fields:
            raise self.fail(node, key, "foreach needs a `do` with the stage")
        each = fields["foreach"]
        items = self.value(each, f"{key}.foreach")
        if isinstance(items, str):
            items = self.interpolate(items, each, f"{key}.foreach", context)
        if isinstance(items, dict):
            pairs = [(str(k), {"key": k, "item": v}) for k, v in items.items()]
        elif isinstance(items, list):
            pairs = [
                (str(v) if isinstance(v, str | int | float) else str(i), {"key": i, "item": v})
                for i, v in enumerate(items)
            ]
        else:
            raise self.fail(each, f"{key}.foreach", "must be a list, a mapping or ${var} of one")
        if not pairs:
            raise self.fail(each, f"{key}.foreach", "is empty")
        return [
            self.stage(f"{name}@{suffix}", fields["do"], f"{key}.do", {**context, **local})
            for suffix, local in pairs
        ]

    def stage(self, name: str, node: Node, key: str, context: Mapping[str, Any]) -> Stage:
        fields = self.mapping(node, key)
        for field_name, value in fields.items():
            if field_name not in _STAGE_KEYS:
                known = ", ".join(sorted(_STAGE_KEYS))
                raise self.fail(value, f"{key}.{field_name}", f"unknown key (known: {known})")
        if "cmd" not in fields:
            raise self.fail(node, key, "the stage has no `cmd`")
        cmd = self.text(fields["cmd"], f"{key}.cmd", context)
        if not cmd.strip():
            raise self.fail(fields["cmd"], f"{key}.cmd", "is empty")
        wdir = "."
        if "wdir" in fields:
            wdir = self.path(fields["wdir"], f"{key}.wdir", ".", context)

        def paths(field_name: str, *, refs: bool) -> tuple[str, ...]:
            if field_name not in fields:
                return ()
            where = f"{key}.{field_name}"
            found = [
                self.entry(n, where, wdir, context, refs)
                for n in self.items(fields[field_name], where)
            ]
            return tuple(dict.fromkeys(found))

        frozen = False
        if "frozen" in fields:
            frozen = self.flag(fields["frozen"], f"{key}.frozen")
        desc = self.text(fields["desc"], f"{key}.desc", context) if "desc" in fields else None
        return Stage(
            name=name,
            cmd=cmd,
            wdir=wdir,
            deps=paths("deps", refs=True),
            params=self.params(fields.get("params"), f"{key}.params", context),
            outs=paths("outs", refs=True),
            metrics=paths("metrics", refs=False),
            plots=self.plots(fields.get("plots"), f"{key}.plots", wdir, context),
            desc=desc,
            frozen=frozen,
            line=node.start_mark.line + 1,
        )

    def flag(self, node: Node, key: str) -> bool:
        value = self.value(node, key)
        if not isinstance(value, bool):
            raise self.fail(node, key, "must be true or false")
        return value

    def entry(self, node: Node, key: str, wdir: str, context: Mapping[str, Any], refs: bool) -> str:
        text = self.text(node, key, context).strip()
        if refs and ":" in text and text.partition(":")[0].isalpha() and len(text) > 2:
            kind = text.partition(":")[0]
            if kind not in ("table", "model"):
                raise self.fail(node, key, f"{text!r}: only table: and model: refs can be used")
            try:
                parse_ref(text, expect=("table", "model"))
            except RefSyntaxError as exc:
                raise self.fail(node, key, exc.message) from None
            return text
        return self.path(node, key, wdir, context, text=text)

    def path(
        self,
        node: Node,
        key: str,
        wdir: str,
        context: Mapping[str, Any],
        *,
        text: str | None = None,
    ) -> str:
        """A workspace-relative POSIX path; nothing outside the workspace or inside .strata."""
        raw = self.text(node, key, context).strip() if text is None else text
        joined = posixpath.normpath(posixpath.join(wdir, raw.rstrip("/")))
        problem = None if joined == "." else unsafe_reason(joined)
        if problem is not None:
            raise self.fail(node, key, f"{raw!r}: not a path inside the workspace ({problem})")
        if joined == ".strata" or joined.startswith(".strata/"):
            raise self.fail(node, key, f"{raw!r}: Strata's own folder cannot be used")
        return joined

    def params(
        self, node: Node | None, key: str, context: Mapping[str, Any]
    ) -> tuple[ParamKey, ...]:
        import yaml

        if node is None:
            return ()
        found: list[ParamKey] = []
        for entry in self.items(node, key):
            if isinstance(entry, yaml.MappingNode):
                for file_name, keys in self.mapping(entry, key).items():
                    file = self.path(entry, key, ".", context, text=file_name)
                    found += [
                        ParamKey(file, self.text(k, key, context)) for k in self.items(keys, key)
                    ]
                continue
            text = self.text(entry, key, context).strip()
            file, colon, name = text.rpartition(":")
            if not colon:
                file, name = PARAMS_FILE, text
            file = self.path(entry, key, ".", context, text=file)
            if not name or not all(name.split(".")):
                raise self.fail(entry, key, f"{text!r}: name a key, e.g. train.lr")
            found.append(ParamKey(file, name))
        return tuple(dict.fromkeys(found))

    def plots(
        self, node: Node | None, key: str, wdir: str, context: Mapping[str, Any]
    ) -> tuple[PlotSpec, ...]:
        import yaml

        if node is None:
            return ()
        found: list[PlotSpec] = []
        for entry in self.items(node, key):
            if not isinstance(entry, yaml.MappingNode):
                found.append(PlotSpec(self.path(entry, key, wdir, context)))
                continue
            for name, options in self.mapping(entry, key).items():
                path = self.path(entry, key, wdir, context, text=name)
                settings = self.mapping(options, f"{key}.{name}")
                for option, value in settings.items():
                    if option not in _PLOT_KEYS:
                        raise self.fail(
                            value, f"{key}.{name}.{option}", "unknown (known: title, x, y)"
                        )
                picked = {
                    o: self.text(v, f"{key}.{name}.{o}", context) for o, v in settings.items()
                }
                found.append(PlotSpec(path, picked.get("x"), picked.get("y"), picked.get("title")))
        return tuple(found)
