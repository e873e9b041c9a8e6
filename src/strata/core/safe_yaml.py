"""YAML composed and loaded with bounds, the one way Strata reads YAML (strata.yaml,
params.yaml, guard policies, values given on the command line): a few hundred bytes of nested
aliases ("billion laughs") stand for billions of nodes once expanded, and anything that walks
the document as data expands them.

``compose`` composes a document (aliases stay shared nodes, so composing is linear) and then
measures it in one linear walk before anyone expands it: the number of alias uses, the size
with every alias expanded, the nesting depth, and alias loops (``&a [*a]``). A document over a
bound is refused with ``YamlTooLarge``, a one-line reason the caller prefixes with the file.

The pure-Python loader is used, not libyaml's: libyaml's composer recurses in C and crashes
the interpreter on a document nested 100,000 deep, where Python's raises RecursionError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yaml import Node

MAX_ALIASES = 10_000
"""Alias uses (``*name``) in one document."""
MAX_EXPANDED = 1_000_000
"""Nodes plus scalar characters of the document with every alias expanded."""
MAX_DEPTH = 200
"""Nesting of mappings and sequences."""


class YamlTooLarge(ValueError):
    """A document over a bound; the message says which."""


def compose(text: str) -> Node | None:
    """The node tree of ``text``, checked against the bounds; ``yaml.YAMLError`` when it is
    not YAML, ``YamlTooLarge`` when it is over a bound."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except RecursionError:
        raise YamlTooLarge(f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
    if root is not None:
        check(root)
    return root


def load(text: str) -> Any:
    """The data of ``text`` (safe types only), checked like ``compose`` before it is built."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except RecursionError:
            raise YamlTooLarge(f"nested more than {MAX_DEPTH} levels deep") from None
        if root is None:
            return None
        check(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _children(node: Node) -> list[Node]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check(root: Node) -> None:
    """Refuse a tree over a bound, in one walk that never expands an alias: each node's
    expanded size is computed once and reused wherever an alias repeats it."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # started and not finished: the path from the root
    aliases = 0
    stack: list[tuple[Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            own = 1 + (len(node.value) if isinstance(node.value, str) else 0)
            sizes[key] = own + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_EXPANDED:
                raise YamlTooLarge(
                    f"expands to more than {MAX_EXPANDED:,} nodes and characters "
                    "(aliases repeating aliases)"
                )
            continue
        if key in sizes:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlTooLarge(f"uses aliases more than {MAX_ALIASES:,} times")
            continue
        if key in open_nodes:
            raise YamlTooLarge(f"an alias at line {node.start_mark.line + 1} contains itself")
        if depth > MAX_DEPTH:
            raise YamlTooLarge(f"nested more than {MAX_DEPTH} levels deep")
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))
