"""PATCH requests: pick the patch type from the Content-Type and apply it to the current
object, with Kubernetes' errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from kube_lite.api import errors
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


def patch_function(req: Request, kind: KindInfo, *, scale: bool = False) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function of the current object that returns the patched object. 415 for the
    server-side apply type (not built yet) and unknown types; 400 for malformed patches."""
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
        try:
            if content_type == JSON:
                return json_patch(current, body)
            if content_type == MERGE:
                return merge_patch(current, body)
            return strategic_merge_patch(current, body, schema)
        except PatchError as exc:
            _raise(exc)
            raise  # unreachable: _raise always raises

    return apply
