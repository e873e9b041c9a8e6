"""Every YAML Strata reads goes through the bounded loader in ``strata.core.safe_yaml``: alias
bombs, alias loops and deep nesting are refused in one line before anything expands them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import strata
from strata.core import safe_yaml

SRC = Path(strata.__file__).parent
# Loading or composing YAML with PyYAML directly (dumping and node types are fine).
_DIRECT = re.compile(
    r"\byaml\.(safe_load|load|load_all|safe_load_all|full_load|unsafe_load|compose|compose_all)\("
    r"|CSafeLoader|CLoader|yaml\.(Full|Unsafe)?Loader\b"
)


def test_no_module_but_the_bounded_loader_parses_yaml_itself() -> None:
    direct = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        if path != SRC / "core" / "safe_yaml.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _DIRECT.search(line)
    ]
    assert direct == []


def laughs(levels: int) -> str:
    """Aliases repeating aliases: 9**levels strings once expanded."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n")
    return "".join(lines)


BOMBS = [
    (laughs(9), "expands to more than"),
    ("a: &a [1, *a]\n", "contains itself"),
    ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than"),
    ("a: &a 1\nb: [" + ", ".join(["*a"] * 10_001) + "]\n", "aliases more"),
]


@pytest.mark.parametrize(("text", "fragment"), BOMBS)
def test_load_and_compose_refuse_a_bomb(text: str, fragment: str) -> None:
    for parse in (safe_yaml.load, safe_yaml.compose):
        with pytest.raises(safe_yaml.YamlTooLarge, match=fragment):
            parse(text)


def test_plain_documents_and_aliases_within_the_bounds_load() -> None:
    assert safe_yaml.load("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}
    assert safe_yaml.load("") is None and safe_yaml.compose("") is None
