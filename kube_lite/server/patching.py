"""PATCH requests: pick the patch type from the Content-Type and apply it to the current
object, with Kubernetes' errors (k8s.io/apiserver pkg/endpoints/handlers/patch.go)."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from kube_lite.api import errors
from kube_lite.api import validation as field_errors
from kube_lite.api.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kube_lite.api.patchmeta import schema_for
from kube_lite.api.registry import KindInfo

if TYPE_CHECKING:
    from kube_lite.server.app import Request

MERGE = "application/merge-patch+json"
JSON = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
SUPPORTED = (JSON, MERGE, STRATEGIC)


def _decode(req: Request) -> Any:
    from kube_lite.server.app import MAX_DEPTH, _too_deep

    if not req.body.strip():
        raise errors.bad_request("the body of the request was empty")
    try:
        data = _decode_any(req)
    except RecursionError:
        raise errors.bad_request("the patch is nested too deeply") from None
    if isinstance(data, (dict, list)) and _too_deep(data):
        raise errors.bad_request(f"the patch is nested more than {MAX_DEPTH} levels deep")
    return data


def _decode_any(req: Request) -> Any:
    try:
        return msgspec.json.decode(req.body)
    except msgspec.DecodeError:
        # kubectl sends JSON; Kubernetes also accepts YAML patch bodies.
        try:
            return yaml.safe_load(req.body)
        except yaml.YAMLError:
            raise errors.bad_request(f"error decoding patch: invalid JSON or YAML: {req.body[:100]!r}") from None


def _raise(exc: PatchError) -> None:
    if exc.code == 422:
        raise errors.APIError(
            422, "Invalid", "the server rejected our request due to an error in our request",
            details={"causes": [{"reason": "UnexpectedServerResponse", "message": exc.message}]},
        ) from None
    if exc.code == 413:
        raise errors.too_large(exc.message) from None
    if exc.code == 400:
        raise errors.bad_request(exc.message) from None
    raise errors.APIError(exc.code or 500, exc.reason, exc.message) from None


def check_patch_type(req: Request) -> str:
    """The request's patch type; 415 for the server-side apply type (not built yet) and for
    content types that are not patches."""
    content_type = req.content_type
    if content_type == APPLY:
        raise errors.unsupported_media_type(
            "the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(SUPPORTED)} (server-side apply is not supported by this server yet)"
        )
    if content_type not in SUPPORTED:
        raise errors.unsupported_media_type(
            f"the body of the request was in an unknown format - accepted media types include: {', '.join(SUPPORTED)}"
        )
    return content_type


def patch_function(
    req: Request, kind: KindInfo, *, scale: bool = False, field_validation: str = "Warn"
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function of the current object that returns the patched object. 415 for the
    server-side apply type (not built yet) and unknown types; 400 for malformed patches.

    The function raises what Kubernetes answers for the result (except for `scale`, whose
    result is a Scale the caller checks): 422 Invalid with a `patch` cause when it does not
    decode as the kind (a wrong type, not an object, and with `field_validation` Strict an
    unknown field; Warn adds a warning per unknown field), 400 when it moves the object to
    another namespace or renames it."""
    content_type = check_patch_type(req)
    body = _decode(req)
    if content_type == JSON:
        if not isinstance(body, list):
            raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    elif not isinstance(body, dict):
        raise errors.bad_request("error decoding patch: the patch must be a JSON object")
    schema = None
    if content_type == STRATEGIC:
        schema = None if scale else schema_for(kind.group, kind.kind)
        if schema is None and not scale:
            from kube_lite.store.strategy import strategy_for

            if strategy_for(kind).resource != kind.plural:
                raise errors.unsupported_media_type(
                    "strategic merge patch is not supported for custom resources: use a JSON merge patch or a JSON patch"
                )

    def apply(current: dict[str, Any]) -> dict[str, Any]:
        # The patch functions copy what they change: `current` stays as it was.
        try:
            if content_type == JSON:
                patched = json_patch(current, body)
            elif content_type == MERGE:
                patched = merge_patch(current, body)
            else:
                patched = strategic_merge_patch(current, body, schema)
        except PatchError as exc:
            _raise(exc)
            raise  # unreachable: _raise always raises
        if scale:
            return patched
        return _checked_result(req, kind, current, patched, content_type, body, field_validation)

    return apply


def _checked_result(
    req: Request, kind: KindInfo, current: dict[str, Any], patched: Any, patch_type: str, patch: Any, mode: str
) -> dict[str, Any]:
    """The patched object once it decodes as the kind and stays where it was (patch.go:
    applyPatchToCurrentObject, then EnsureObjectNamespaceMatchesRequestNamespace, checkName)."""
    from kube_lite.server import fields
    from kube_lite.server.handlers import decode_error, json_quote

    def shown() -> str:
        # What Kubernetes shows as the bad value: the patched object's JSON for JSON and merge
        # patches, Go's %+v of the decoded patch for strategic merge patches.
        return go_format(patch) if patch_type == STRATEGIC else msgspec.json.encode(patched).decode()

    if not isinstance(patched, dict):
        raise _invalid_patch(shown(), _not_an_object(patched))
    problem = decode_error(kind, patched)
    if problem is not None:
        raise _invalid_patch(shown(), problem)
    if mode != "Ignore" and kind.struct is not None:
        unknown = fields.unknown_fields(patched, kind.struct)
        if unknown:
            known_before = set(fields.unknown_fields(current, kind.struct))
            unknown = [u for u in unknown if u not in known_before]
        if unknown and mode == "Strict":
            listed = ", ".join(f"unknown field {json_quote(u)}" for u in unknown)
            raise _invalid_patch(shown(), f"strict decoding error: {listed}")
        for u in unknown:
            req.warn(f"unknown field {json_quote(u)}")
    meta = patched.get("metadata")
    if not isinstance(meta, dict):
        meta = patched["metadata"] = {}
    current_meta = current.get("metadata") or {}
    expected = (current_meta.get("namespace") or "") if kind.namespaced else ""
    namespace = meta.get("namespace") or ""
    if namespace != expected:
        if not namespace:
            meta["namespace"] = expected
        elif not expected:
            meta.pop("namespace", None)
        else:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
    name = current_meta.get("name") or ""
    if meta.get("name") != name:
        raise errors.bad_request(f"the name of the object ({meta.get('name') or ''}) does not match the name on the URL ({name})")
    return patched


def _invalid_patch(value: str, detail: str) -> errors.APIError:
    """422 ` "" is invalid: patch: Invalid value: ...`, as patch.go words a result that does not
    decode (an Invalid error with an empty kind and name)."""
    return errors.invalid("", "", "", [field_errors.invalid("patch", value, detail)])


_JSON_TYPES = ((bool, "bool"), ((int, float), "number"), (str, "string"), (list, "array"))
_FIND_KIND = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'


def _not_an_object(value: Any) -> str:
    """Kubernetes' decode error for a patched document that is not a JSON object."""
    if value is None:
        return "Object 'Kind' is missing in 'null'"
    what = next((name for types, name in _JSON_TYPES if isinstance(value, types)), "value")
    return f"couldn't get version/kind; json parse error: json: cannot unmarshal {what} into Go value of type {_FIND_KIND}"


def go_format(value: Any) -> str:
    """Go's `%+v` of a value decoded from JSON into interface{} (maps with sorted keys)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    """Go's %v of a float64: the shortest digits, in exponent form when the exponent is below
    -4 or at least 6 (`1e+06`, `1.5`, `2`)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    exp = len(digits) + int(exponent) - 1
    if exp < -4 or exp >= 6:
        frac = digits[1:]
        return f"{sign}{digits[0]}{'.' + frac if frac else ''}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    whole, frac = digits[: exp + 1], digits[exp + 1 :]
    return f"{sign}{whole.ljust(exp + 1, '0')}{'.' + frac if frac else ''}"
