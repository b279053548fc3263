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
