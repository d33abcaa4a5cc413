"""YAML loading that remembers the line of every key and list item, for editor-facing errors."""

from __future__ import annotations

from typing import Any, Iterable

import yaml


class LinedDict(dict):
    """A mapping that knows the line of itself and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class LinedList(list):
    """A sequence that knows the line of itself and of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LinedDict:
    loader.flatten_mapping(node)
    mapping = LinedDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"clé « {key} » en double", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[str(key)] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LinedList:
    sequence = LinedList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


def _construct_str(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    # Times like 13:00 stay text (YAML 1.1 would read them as sexagesimal numbers).
    return loader.construct_scalar(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_str)
_LineLoader.add_constructor("tag:yaml.org,2002:float", _construct_str)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)


def load_yaml(text: str) -> Any:
    """Parse YAML; raises yaml.YAMLError (with its mark) on malformed text."""
    return yaml.load(text, Loader=_LineLoader)


def line_of(data: Any, path: Iterable[str | int], default: int | None = None) -> int | None:
    """Line of the deepest element of `path` found in `data` (a pydantic error `loc`)."""
    line = getattr(data, "line", None) or default
    node = data
    for part in path:
        if isinstance(node, LinedDict) and str(part) in node.key_lines:
            line = node.key_lines[str(part)]
            node = node[part]
        elif isinstance(node, LinedList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
