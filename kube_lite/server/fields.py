"""What Kubernetes' decoder checks in a body beyond JSON types, from the kinds' Struct types:
unknown fields (for fieldValidation=Strict/Warn) and quantities that do not parse."""

from __future__ import annotations

import typing
from functools import cache
from typing import Any

import msgspec

from kube_lite.api.quantity import QuantityError, parse_quantity


@cache
def _schema(struct: type[msgspec.Struct]) -> dict[str, object]:
    hints = typing.get_type_hints(struct)
    return {f.encode_name: hints[f.name] for f in msgspec.structs.fields(struct)}


@cache
def _parts(annotation: object) -> tuple[type[msgspec.Struct] | None, object | None, object | None]:
    """(struct, list item type, dict value type) that an annotation admits (remembered: the
    walk asks it for every node of every request body)."""
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


# ---------------------------------------------------------------------- quantities
#
# A resource.Quantity is decoded by its own UnmarshalJSON, which parses it: a quantity that does
# not parse fails the whole decode (400 `<Kind> in version "v1" cannot be handled as a <Kind>:
# quantities must match the regular expression ...`), before any validation runs. Structs type a
# Quantity as `str | int | float` (kube_lite.api.base.Quantity), a union no other field uses.

_QUANTITY_TYPES = frozenset((str, int, float))


@cache
def _is_quantity(annotation: object) -> bool:
    args = typing.get_args(annotation)
    return bool(args) and frozenset(a for a in args if a is not type(None)) == _QUANTITY_TYPES


def _references(annotation: object) -> tuple[set[type[msgspec.Struct]], bool]:
    """The structs an annotation refers to (through lists, maps and unions), and whether it
    admits a quantity itself."""
    if _is_quantity(annotation):
        return set(), True
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return {annotation}, False
    structs: set[type[msgspec.Struct]] = set()
    quantity = False
    for arg in typing.get_args(annotation):
        inner, direct = _references(arg)
        structs |= inner
        quantity = quantity or direct
    return structs, quantity


@cache
def _quantity_holders(root: type[msgspec.Struct]) -> frozenset[type[msgspec.Struct]]:
    """The structs reachable from `root` that hold a quantity somewhere below them (a
    reachability fixpoint, so recursive types such as JSONSchemaProps terminate)."""
    graph: dict[type[msgspec.Struct], tuple[set[type[msgspec.Struct]], bool]] = {}
    pending = [root]
    while pending:
        struct = pending.pop()
        if struct in graph:
            continue
        refs: set[type[msgspec.Struct]] = set()
        direct = False
        for annotation in _schema(struct).values():
            inner, quantity = _references(annotation)
            refs |= inner
            direct = direct or quantity
        graph[struct] = (refs, direct)
        pending.extend(refs)
    holders = {s for s, (_, direct) in graph.items() if direct}
    changed = True
    while changed:
        changed = False
        for struct, (refs, _) in graph.items():
            if struct not in holders and refs & holders:
                holders.add(struct)
                changed = True
    return frozenset(holders)


def quantity_error(data: Any, struct: type[msgspec.Struct]) -> str | None:
    """Kubernetes' parse error for the first quantity in `data` that does not parse, or None.
    Only the parts of `data` whose type can hold a quantity are walked."""
    holders = _quantity_holders(struct)
    if not holders:
        return None
    return _first_bad_quantity(data, struct, holders)


def _first_bad_quantity(data: Any, annotation: object, holders: frozenset[type[msgspec.Struct]]) -> str | None:
    if _is_quantity(annotation):
        if data is None:
            return None
        try:
            parse_quantity(data)
        except QuantityError as exc:
            return str(exc)
        return None
    struct, item, value = _parts(annotation)
    if isinstance(data, dict):
        if struct is not None:
            if struct not in holders:
                return None
            schema = _schema(struct)
            for key, child in data.items():
                child_annotation = schema.get(key)
                if child_annotation is not None and child is not None:
                    found = _first_bad_quantity(child, child_annotation, holders)
                    if found:
                        return found
        elif value is not None:
            for child in data.values():
                found = _first_bad_quantity(child, value, holders)
                if found:
                    return found
    elif isinstance(data, list) and item is not None:
        for child in data:
            found = _first_bad_quantity(child, item, holders)
            if found:
                return found
    return None
