"""Unknown-field detection for fieldValidation=Strict/Warn, from the kinds' Struct types."""

from __future__ import annotations

import typing
from functools import cache
from typing import Any

import msgspec


@cache
def _schema(struct: type[msgspec.Struct]) -> dict[str, object]:
    hints = typing.get_type_hints(struct)
    return {f.encode_name: hints[f.name] for f in msgspec.structs.fields(struct)}


def _parts(annotation: object) -> tuple[type[msgspec.Struct] | None, object | None, object | None]:
    """(struct, list item type, dict value type) that an annotation admits."""
    struct = None
    item = None
    value = None
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation, None, None
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(annotation)
        return None, args[0] if args else None, None
    if origin is dict:
        args = typing.get_args(annotation)
        return None, None, args[1] if len(args) == 2 else None
    for arg in typing.get_args(annotation):
        s, i, v = _parts(arg)
        struct = struct or s
        item = item or i
        value = value or v
    return struct, item, value


def unknown_fields(data: Any, struct: type[msgspec.Struct], path: str = "") -> list[str]:
    """Paths of fields in `data` that `struct` does not declare, as Kubernetes names them in
    strict decoding errors: `spec.foo`, `spec.containers[0].bar`."""
    found: list[str] = []
    _walk(data, struct, path, found)
    return found


def _walk(data: Any, annotation: object, path: str, found: list[str]) -> None:
    struct, item, value = _parts(annotation)
    if isinstance(data, dict) and struct is not None:
        schema = _schema(struct)
        for key, child in data.items():
            child_path = f"{path}.{key}" if path else key
            if key not in schema:
                found.append(child_path)
                continue
            if isinstance(child, (dict, list)):
                _walk(child, schema[key], child_path, found)
    elif isinstance(data, list) and item is not None:
        for index, child in enumerate(data):
            if isinstance(child, (dict, list)):
                _walk(child, item, f"{path}[{index}]", found)
    elif isinstance(data, dict) and value is not None:
        for key, child in data.items():
            if isinstance(child, (dict, list)):
                _walk(child, value, f"{path}[{key}]", found)
