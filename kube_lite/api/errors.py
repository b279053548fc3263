"""API errors: one exception type carrying a Kubernetes `Status`, with Kubernetes' messages.

Every error the registry or the server raises on purpose is an `APIError`; the HTTP layer
writes its `status` as the body with its `code`, and the client raises it back from a body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def qualified_resource(resource: str, group: str) -> str:
    """`pods` or `deployments.apps`, as Kubernetes writes a resource in messages."""
    return f"{resource}.{group}" if group else resource


def qualified_kind(kind: str, group: str) -> str:
    """`Pod` or `Deployment.apps`, as Kubernetes writes a kind in Invalid messages."""
    return f"{kind}.{group}" if group else kind


class APIError(Exception):
    """An error with a Kubernetes Status body (`status`) and HTTP status `code`."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    @property
    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body

    @classmethod
    def from_status(cls, status: dict[str, Any], code: int | None = None) -> APIError:
        """Rebuild an error from a Status body (the HTTP client does this)."""
        return cls(
            int(status.get("code") or code or 500),
            str(status.get("reason") or ""),
            str(status.get("message") or ""),
            details=status.get("details"),
        )

    def __repr__(self) -> str:
        return f"APIError({self.code}, {self.reason!r}, {self.message!r})"


def _details(name: str | None, group: str, kind: str, **more: Any) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    details.update({k: v for k, v in more.items() if v is not None})
    return details


def not_found(resource: str, group: str, name: str) -> APIError:
    return APIError(
        404,
        "NotFound",
        f'{qualified_resource(resource, group)} "{name}" not found',
        details=_details(name, group, resource),
    )


def already_exists(resource: str, group: str, name: str, *, terminating: bool = False) -> APIError:
    prefix = "object is being deleted: " if terminating else ""
    return APIError(
        409,
        "AlreadyExists",
        f'{prefix}{qualified_resource(resource, group)} "{name}" already exists',
        details=_details(name, group, resource),
    )


def conflict(resource: str, group: str, name: str, reason: str | None = None) -> APIError:
    why = reason or "the object has been modified; please apply your changes to the latest version and try again"
    return APIError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified_resource(resource, group)} "{name}": {why}',
        details=_details(name, group, resource),
    )


def invalid(kind: str, group: str, name: str, errors: Sequence[Any]) -> APIError:
    """A 422 from field errors; each error has `field`, `reason_code`, `body()` and `__str__`
    (see kube_lite.api.validation.FieldError) or is a (field, reason, message) triple."""
    causes: list[dict[str, str]] = []
    rendered: list[str] = []
    for err in errors:
        if isinstance(err, tuple):
            field, reason, message = err
            text = f"{field}: {message}" if field else message
        else:
            field, reason, message, text = err.field, err.reason_code, err.body(), str(err)
        cause = {"reason": reason, "message": message}
        if field:
            cause["field"] = field
        causes.append(cause)
        if text not in rendered:
            rendered.append(text)
    what = f'{qualified_kind(kind, group)} "{name}" is invalid'
    if len(rendered) == 1:
        message = f"{what}: {rendered[0]}"
    else:
        message = f"{what}: [{', '.join(rendered)}]"
    return APIError(422, "Invalid", message, details=_details(name, group, kind, causes=causes))


def bad_request(message: str) -> APIError:
    return APIError(400, "BadRequest", message)


def forbidden(resource: str, group: str, name: str | None, message: str, causes: list[dict[str, str]] | None = None) -> APIError:
    what = qualified_resource(resource, group)
    subject = f'{what} "{name}"' if name else what
    return APIError(
        403,
        "Forbidden",
        f"{subject} is forbidden: {message}",
        details=_details(name, group, resource, causes=causes),
    )


def unauthorized(message: str = "Unauthorized") -> APIError:
    return APIError(401, "Unauthorized", message)


def method_not_allowed(verb: str, resource: str) -> APIError:
    return APIError(405, "MethodNotAllowed", f'{verb} is not supported on resources of kind "{resource}"')


def unsupported_media_type(message: str) -> APIError:
    return APIError(415, "UnsupportedMediaType", message)


def not_acceptable(message: str) -> APIError:
    return APIError(406, "NotAcceptable", message)


def too_large(message: str = "Request entity too large: limit is 3145728") -> APIError:
    return APIError(413, "RequestEntityTooLarge", message)


def expired(message: str) -> APIError:
    return APIError(410, "Expired", message)


def too_large_resource_version(requested: int, current: int) -> APIError:
    return APIError(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {requested}, current: {current}",
        details={"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1},
    )


def too_many_requests(message: str = "Too many requests, please try again later.", retry_after: int = 1) -> APIError:
    return APIError(429, "TooManyRequests", message, details={"retryAfterSeconds": retry_after})


def internal_error(message: str) -> APIError:
    return APIError(500, "InternalError", f"Internal error occurred: {message}", details={"causes": [{"message": message}]})


def service_unavailable(message: str) -> APIError:
    return APIError(503, "ServiceUnavailable", message)
