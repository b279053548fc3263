"""An independent oracle for the object model: the `kubernetes` Python client's models.

`missing_fields(Struct, "V1Pod")` walks the client's model (its attribute_map and openapi_types)
and kube-lite's Struct side by side, recursively, and returns every JSON field path that the
client knows and the Struct lacks, as "V1PodSpec.overhead" (the client model that holds it and
the JSON name). A kind's test asserts that this list is a subset of its documented
not-supported-yet list.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator

import kubernetes.client.models as models
import msgspec

_MODEL_NAME = re.compile(r"\b(V\d\w*|Core\w+|Events\w+|Storage\w+|Discovery\w+|Rbac\w+|Authentication\w+|Apiextensions\w+|Admissionregistration\w+)\b")


def _struct_types(annotation: object) -> Iterator[type[msgspec.Struct]]:
    """Every Struct class named in a field annotation (through Optional, list, dict)."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _struct_types(arg)


def _fields(struct: type[msgspec.Struct]) -> dict[str, object]:
    hints = typing.get_type_hints(struct)
    return {f.encode_name: hints[f.name] for f in msgspec.structs.fields(struct)}


def missing_fields(struct: type[msgspec.Struct], model_name: str) -> list[str]:
    """JSON field paths known to the client model `model_name` and absent from `struct`."""
    missing: list[str] = []
    seen: set[tuple[type, str]] = set()

    def walk(st: type[msgspec.Struct], name: str) -> None:
        if (st, name) in seen:
            return
        seen.add((st, name))
        model = getattr(models, name)
        ours = _fields(st)
        for attr, json_name in model.attribute_map.items():
            if json_name not in ours:
                missing.append(f"{name}.{json_name}")
                continue
            nested = _MODEL_NAME.findall(model.openapi_types[attr])
            if not nested:
                continue
            structs = list(_struct_types(ours[json_name]))
            if not structs:
                missing.append(f"{name}.{json_name} (not a Struct in kube-lite)")
                continue
            walk(structs[0], nested[0])

    walk(struct, model_name)
    return missing


_SCALARS: dict[str, object] = {
    "str": "x",
    "int": 1,
    "float": 1.5,
    "bool": True,
    "datetime": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
}


def _sample_type(type_name: str, depth: int, overrides: dict[str, object]) -> object:
    type_name = type_name.strip()
    if type_name in _SCALARS:
        return _SCALARS[type_name]
    if type_name.startswith("List[") and type_name.endswith("]"):
        item = _sample_type(type_name[5:-1], depth, overrides)
        return [] if item is _SKIP else [item]
    if type_name.startswith("Dict[") and type_name.endswith("]"):
        item = _sample_type(type_name[5:-1].split(",", 1)[1], depth, overrides)
        return {} if item is _SKIP else {"k": item}
    if type_name == "object":
        return _SKIP  # IntOrString, RawExtension, fieldsV1...: give it with `overrides`
    return sample(type_name, depth=depth + 1, overrides=overrides)


_SKIP = object()


def sample(model_name: str, *, depth: int = 0, overrides: dict[str, object] | None = None) -> dict:
    """A JSON-ready dict with every field of the client model `model_name` set to a value of its
    type, recursively (to a depth of 6, which stops recursive schemas). Fields typed `object` in
    the client (IntOrString, RawExtension, ...) are left out unless `overrides` gives them as
    {"V1ServicePort.targetPort": 8080}."""
    overrides = overrides or {}
    if depth > 6:
        return {}
    model = getattr(models, model_name)
    out: dict[str, object] = {}
    for attr, json_name in model.attribute_map.items():
        key = f"{model_name}.{json_name}"
        if key in overrides:
            out[json_name] = overrides[key]
            continue
        value = _sample_type(model.openapi_types[attr], depth, overrides)
        if value is not _SKIP:
            out[json_name] = value
    return out
