"""The first admission plugins: typed decoding, defaulting and validation of built-in kinds.

Objects travel as dicts; these plugins convert them to the kind's Struct (a type error is a
400 BadRequest as Kubernetes' decoder gives it), write Kubernetes' defaults, convert back, and
validate with Kubernetes' messages (a 422 Invalid naming every field error).
"""

from __future__ import annotations

from typing import Any

import msgspec

from kube_lite.api import errors
from kube_lite.api.defaults import default_object
from kube_lite.api.validation import validate_object
from kube_lite.store.admission import AdmissionRequest


def to_struct(request: AdmissionRequest, obj: dict[str, Any]) -> Any:
    struct = request.kind.struct
    if struct is None:
        return None
    try:
        return msgspec.convert(obj, struct, str_keys=True)
    except msgspec.ValidationError as exc:
        kind = request.kind
        raise errors.bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: {_describe(exc)}'
        ) from None


def _describe(exc: msgspec.ValidationError) -> str:
    # msgspec: "Expected `int`, got `str` - at `$.spec.replicas`" -> Kubernetes-like wording.
    text = str(exc)
    if " - at `$." in text:
        what, _, where = text.partition(" - at `$.")
        return f"json: cannot unmarshal into field {where.rstrip('`')}: {what}"
    return text


class DefaultingPlugin:
    """Mutating: writes Kubernetes' defaults into built-in kinds."""

    async def admit(self, request: AdmissionRequest) -> None:
        if request.obj is None or request.kind.struct is None or request.operation == "DELETE":
            return
        typed = to_struct(request, request.obj)
        default_object(typed)
        rv = request.obj.get("metadata", {}).get("resourceVersion")
        converted = msgspec.to_builtins(typed)
        if rv is not None:
            converted.setdefault("metadata", {})["resourceVersion"] = rv
        request.obj.clear()
        request.obj.update(converted)


class ValidationPlugin:
    """Validating: Kubernetes' field validation of built-in kinds, on create and update."""

    async def validate(self, request: AdmissionRequest) -> None:
        if request.obj is None or request.kind.struct is None or request.operation == "DELETE":
            return
        typed = to_struct(request, request.obj)
        old = to_struct(request, request.old) if request.old is not None else None
        problems = validate_object(typed, old, subresource=request.subresource)
        if problems:
            kind = request.kind
            name = request.obj.get("metadata", {}).get("name") or request.name or ""
            raise errors.invalid(kind.kind, kind.group, name, problems)


SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}


class PriorityPlugin:
    """Mutating, as Kubernetes' Priority admission: a new pod's priorityClassName (or the
    globalDefault PriorityClass) resolves to spec.priority and spec.preemptionPolicy; naming a
    class that does not exist is refused."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    async def admit(self, request: AdmissionRequest) -> None:
        if request.operation != "CREATE" or request.kind.group != "" or request.kind.plural != "pods" or request.subresource:
            return
        spec = request.obj.get("spec") if request.obj else None
        if not isinstance(spec, dict):
            return
        classes = {c.obj["metadata"]["name"]: c.obj for c in self.registry.cache.cache("priorityclasses").list("")}
        name = spec.get("priorityClassName")
        if name:
            found = classes.get(name)
            if found is None and name not in SYSTEM_PRIORITY_CLASSES:
                raise errors.forbidden(
                    "pods", "", request.name or None, f"no PriorityClass with name {name} was found"
                )
        else:
            found = next((c for c in classes.values() if c.get("globalDefault")), None)
            if found is not None:
                spec["priorityClassName"] = found["metadata"]["name"]
        value = found.get("value", 0) if found is not None else SYSTEM_PRIORITY_CLASSES.get(name or "", 0)
        spec["priority"] = int(value)
        if found is None and not name:
            return  # no class: the pod keeps its own preemptionPolicy
        computed = (found or {}).get("preemptionPolicy") or "PreemptLowerPriority"
        given = spec.get("preemptionPolicy")
        if given is not None and given != computed:
            raise errors.forbidden(
                "pods", "", request.name or None,
                f"the string value of PreemptionPolicy ({given}) must not be provided in pod spec; "
                f"priority admission controller computed {computed} from the given PriorityClass name",
            )
        spec["preemptionPolicy"] = computed
