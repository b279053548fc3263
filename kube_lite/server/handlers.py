"""Resource handlers: Kubernetes' REST verbs on collections, objects and subresources."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
import structlog

from kube_lite.api import errors
from kube_lite.api import validation as field_errors
from kube_lite.api.registry import KindInfo
from kube_lite.api.selectors import FieldSelector, LabelSelector
from kube_lite.server import fields as field_checks
from kube_lite.server import selection
from kube_lite.store.cache import CachedObject

if TYPE_CHECKING:
    from kube_lite.server.app import APIServerApp, Request

log = structlog.get_logger(__name__)

_encode = msgspec.json.encode
_decode = msgspec.json.decode

# Create-only kinds answered by the server and never stored.
_REVIEWS = {
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "localsubjectaccessreviews"),
}

# Subresources that PUT and PATCH write through the registry (scale has its own handler), and
# DELETE, which only applies to the object itself.
_WRITABLE_SUBRESOURCES = {
    "PUT": ("", "status", "finalize", "approval", "ephemeralcontainers", "resize"),
    "PATCH": ("", "status", "approval", "ephemeralcontainers", "resize"),
    "DELETE": ("",),
}

BOOKMARK_INTERVAL = 60.0
DEFAULT_WATCH_TIMEOUT = 1800.0


def _wants_table(req: Request) -> bool:
    return "as=Table" in req.accept


# ---------------------------------------------------------------------- query options
#
# Kubernetes decodes a request's query into an options object (CreateOptions, UpdateOptions,
# PatchOptions, DeleteOptions, ListOptions, PodLogOptions) with its parameter codec: a value that
# does not convert (an integer that is not one) is 400 BadRequest. It then validates the options
# (k8s.io/apimachinery pkg/apis/meta/v1/validation, pkg/apis/meta/internalversion/validation,
# the pod log REST): a bad value is 422 Invalid, `<Kind>.meta.k8s.io "" is invalid: <causes>`.

META_GROUP = "meta.k8s.io"
FIELD_MANAGER_MAX_LENGTH = 128
_DRY_RUN_VALUES = ("All",)
_FIELD_VALIDATION_VALUES = ("", "Ignore", "Strict", "Warn")  # sets.NewString(...).List(): sorted
_PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
_LOG_STREAMS = ("All", "Stderr", "Stdout")
_UINT64_MAX = 2**64 - 1
_DIGITS = re.compile(r"[0-9]+")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """What a create, update or patch request asks besides its body."""

    dry_run: bool
    field_validation: str  # "Strict", "Warn" or "Ignore" (unset reads as Warn, as in Kubernetes)


def _field_manager_errors(manager: str) -> list[field_errors.FieldError]:
    errs: list[field_errors.FieldError] = []
    if len(manager.encode("utf-8", "surrogateescape")) > FIELD_MANAGER_MAX_LENGTH:
        errs.append(field_errors.too_long("fieldManager", FIELD_MANAGER_MAX_LENGTH))
    position = 0
    for ch in manager:
        if not ch.isprintable():
            errs.append(field_errors.invalid("fieldManager", manager, f"invalid character U+{ord(ch):04X} (at position {position})"))
        position += len(ch.encode("utf-8", "surrogateescape"))
    return errs


def _dry_run_errors(values: list[Any]) -> list[field_errors.FieldError]:
    if all(v in _DRY_RUN_VALUES for v in values):
        return []
    return [field_errors.not_supported("dryRun", values, _DRY_RUN_VALUES)]


def write_options(req: Request, options_kind: str, *, patch: bool = False) -> WriteOptions:
    """CreateOptions, UpdateOptions or PatchOptions (`options_kind`) from the query, validated as
    Kubernetes validates them: 422 Invalid for a bad dryRun, fieldValidation or fieldManager (and
    `force`, which only apply patches take)."""
    errs: list[field_errors.FieldError] = []
    if patch and "force" in req.query:
        errs.append(field_errors.forbidden("force", "may not be specified for non-apply patch"))
    errs += _field_manager_errors(req.query.get("fieldManager") or "")
    dry_run = req.values("dryRun")
    errs += _dry_run_errors(dry_run)
    mode = req.query.get("fieldValidation") or ""
    if mode not in _FIELD_VALIDATION_VALUES:
        errs.append(field_errors.not_supported("fieldValidation", mode, _FIELD_VALIDATION_VALUES))
    if errs:
        raise errors.invalid(options_kind, META_GROUP, "", errs)
    return WriteOptions(bool(dry_run), mode or "Warn")


def validate_delete_options(options: dict[str, Any]) -> None:
    """Kubernetes' ValidateDeleteOptions on decoded DeleteOptions: 422 Invalid."""
    errs: list[field_errors.FieldError] = []
    policy = options.get("propagationPolicy")
    if options.get("orphanDependents") is not None and policy is not None:
        errs.append(field_errors.invalid("propagationPolicy", policy, "orphanDependents and deletionPropagation cannot be both set"))
    if policy is not None and policy not in _PROPAGATION_POLICIES:
        errs.append(field_errors.not_supported("propagationPolicy", policy, (*_PROPAGATION_POLICIES, "nil")))
    errs += _dry_run_errors(options.get("dryRun") or [])
    if errs:
        raise errors.invalid("DeleteOptions", META_GROUP, "", errs)


@dataclass(slots=True)
class ListOptions:
    """A list or watch request's options, decoded and validated."""

    label: LabelSelector | None
    field: FieldSelector | None
    limit: int
    timeout_seconds: int | None
    resource_version: str | None
    resource_version_match: str
    continue_token: str
    send_initial_events: bool | None
    allow_bookmarks: bool


def list_options(req: Request, *, watch: bool) -> ListOptions:
    """ListOptions from the query as Kubernetes' parameter codec decodes them (400 BadRequest:
    integers, selectors' syntax) and ValidateListOptions checks them (422 Invalid
    `ListOptions.meta.k8s.io "" is invalid`). Field labels are checked later, per kind."""
    limit = req.int_param("limit") or 0
    timeout = req.int_param("timeoutSeconds")
    send_initial: bool | None = None
    raw_send_initial = req.query.get("sendInitialEvents")
    if raw_send_initial not in (None, ""):
        if raw_send_initial not in ("true", "false"):
            raise errors.bad_request(f'invalid value for sendInitialEvents: "{raw_send_initial}"')
        send_initial = raw_send_initial == "true"
    label, field = selection.parse_selectors(req.query.get("labelSelector"), req.query.get("fieldSelector"))
    rv = req.query.get("resourceVersion")
    match = req.query.get("resourceVersionMatch") or ""
    continue_token = req.query.get("continue") or ""
    errs: list[field_errors.FieldError] = []
    if watch:
        if send_initial is not None and match != "NotOlderThan":
            errs.append(field_errors.forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
        if match:
            if send_initial is None:
                errs.append(field_errors.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
            if match != "NotOlderThan":
                errs.append(field_errors.not_supported("resourceVersionMatch", match, ("NotOlderThan",)))
            if continue_token:
                errs.append(field_errors.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"))
    else:
        if match:
            if not rv:
                errs.append(field_errors.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            if continue_token:
                errs.append(field_errors.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"))
            if match not in ("Exact", "NotOlderThan"):
                errs.append(field_errors.not_supported("resourceVersionMatch", match, ("Exact", "NotOlderThan", "")))
            if match == "Exact" and rv == "0":
                errs.append(field_errors.forbidden("resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
        if send_initial is not None:
            errs.append(field_errors.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
    if errs:
        raise errors.invalid("ListOptions", META_GROUP, "", errs)
    return ListOptions(label, field, limit, timeout, rv, match, continue_token, send_initial, req.flag("allowWatchBookmarks"))


def check_resource_version(resource_version: str | None) -> None:
    """400 `invalid resource version: ...` for a resourceVersion that is not an unsigned 64-bit
    integer, as the storage layer parses it (strconv.ParseUint; "" and "0" mean "any")."""
    if resource_version in (None, "", "0"):
        return
    assert resource_version is not None
    if not _DIGITS.fullmatch(resource_version):
        problem = "invalid syntax"
    elif int(resource_version) > _UINT64_MAX:
        problem = "value out of range"
    else:
        return
    quoted = field_errors.go_quote(resource_version)
    raise errors.bad_request(
        f"invalid resource version: resourceVersion: Invalid value: {quoted}: strconv.ParseUint: parsing {quoted}: {problem}"
    )


def pod_log_options(req: Request, name: str) -> dict[str, Any]:
    """PodLogOptions from the query: 400 BadRequest when a value does not decode (an integer or
    an RFC 3339 time that is not one), then Kubernetes' ValidatePodLogOptions: 422 Invalid
    `PodLogOptions "<pod>" is invalid`."""
    options: dict[str, Any] = {}
    for key in ("tailLines", "sinceSeconds", "limitBytes"):
        value = req.int_param(key)
        if value is not None:
            options[key] = value
    since_time = req.query.get("sinceTime")
    if since_time not in (None, "", "null"):
        assert since_time is not None
        if not _RFC3339.fullmatch(since_time):
            raise errors.bad_request(f'invalid value for sinceTime: "{since_time}": must be an RFC 3339 time')
        try:
            datetime.fromisoformat(since_time.replace("Z", "+00:00"))
        except ValueError:
            raise errors.bad_request(f'invalid value for sinceTime: "{since_time}": must be an RFC 3339 time') from None
        options["sinceTime"] = since_time
    stream = req.query.get("stream")
    errs: list[field_errors.FieldError] = []
    if options.get("tailLines") is not None and options["tailLines"] < 0:
        errs.append(field_errors.invalid("tailLines", options["tailLines"], "must be greater than or equal to 0"))
    if options.get("limitBytes") is not None and options["limitBytes"] < 1:
        errs.append(field_errors.invalid("limitBytes", options["limitBytes"], "must be greater than 0"))
    if options.get("sinceSeconds") is not None and options.get("sinceTime") is not None:
        errs.append(field_errors.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif options.get("sinceSeconds") is not None and options["sinceSeconds"] < 1:
        errs.append(field_errors.invalid("sinceSeconds", options["sinceSeconds"], "must be greater than 0"))
    if stream is not None:
        if stream not in _LOG_STREAMS:
            errs.append(field_errors.not_supported("stream", stream, _LOG_STREAMS))
        if stream != "All" and options.get("tailLines") is not None:
            errs.append(field_errors.forbidden("", "`tailLines` and specific `stream` are mutually exclusive for now"))
    if errs:
        raise errors.invalid("PodLogOptions", "", name, errs)
    return options


class ResourceHandlers:
    """Verbs on /api/v1/... and /apis/GROUP/VERSION/..."""

    def __init__(self, app: APIServerApp) -> None:
        self.app = app

    @property
    def registry(self) -> Any:
        return self.app.registry

    async def dispatch(self, req: Request, group: str, version: str, parts: list[str]) -> None:
        namespace = ""
        kinds = self.app.kinds
        if parts[0] == "namespaces" and len(parts) >= 3 and kinds.get(group, version, parts[2]) is not None and (
            len(parts) != 3 or parts[2] not in ("status", "finalize") or kinds.get(group, version, "namespaces") is None
        ):
            namespace = parts[1]
            parts = parts[2:]
        if not parts or len(parts) > 3:
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        kind = self.app.kind_for(group, version, parts[0])
        if namespace and not kind.namespaced:
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        name = parts[1] if len(parts) > 1 else ""
        sub = parts[2] if len(parts) > 2 else ""
        if sub and sub not in (kind.subresources or ()):
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        method = req.method
        if not name:
            if method == "GET":
                if req.flag("watch"):
                    self._check_verb(kind, "watch")
                    await self.watch(req, kind, namespace)
                else:
                    self._check_verb(kind, "list")
                    await self.list(req, kind, namespace)
            elif method == "POST":
                self._check_verb(kind, "create")
                await self.create(req, kind, namespace)
            elif method == "DELETE":
                self._check_verb(kind, "deletecollection")
                await self.delete_collection(req, kind, namespace)
            else:
                raise errors.method_not_allowed(method, kind.plural)
            return
        if kind.namespaced and not namespace and not (kind.plural == "namespaces"):
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        if sub == "scale":
            await self.scale(req, kind, namespace, name)
            return
        if method == "GET" and sub == "log" and kind.plural == "pods" and not kind.group:
            await self.pod_log(req, kind, namespace, name)
        elif method == "GET" and sub not in ("", "status", "approval", "ephemeralcontainers", "resize"):
            # exec, attach, portforward and proxy need a node agent to stream from
            raise errors.method_not_allowed(method, f"{kind.plural}/{sub}")
        elif method == "GET":
            if req.flag("watch"):
                req.query["fieldSelector"] = f"metadata.name={name}"
                await self.watch(req, kind, namespace)
                return
            self._check_verb(kind, "get")
            obj = await self.registry.get(kind, namespace, name)
            await self.send_object(req, kind, 200, obj)
        elif method in ("PUT", "PATCH", "DELETE") and sub not in _WRITABLE_SUBRESOURCES.get(method, ()):
            raise errors.method_not_allowed(method, f"{kind.plural}/{sub}")
        elif method == "PUT":
            self._check_verb(kind, "update")
            await self.update(req, kind, namespace, name, sub)
        elif method == "PATCH":
            self._check_verb(kind, "patch")
            await self.patch(req, kind, namespace, name, sub)
        elif method == "DELETE":
            self._check_verb(kind, "delete")
            await self.delete(req, kind, namespace, name)
        elif method == "POST" and sub in ("binding", "eviction"):
            await self.pod_subresource_create(req, kind, namespace, name, sub)
        else:
            raise errors.method_not_allowed(method, kind.plural)

    def _check_verb(self, kind: KindInfo, verb: str) -> None:
        if kind.verbs and verb not in kind.verbs:
            raise errors.method_not_allowed(verb, kind.plural)

    # ------------------------------------------------------------------ encoding

    async def send_object(self, req: Request, kind: KindInfo, code: int, obj: dict[str, Any] | CachedObject) -> None:
        """Answer with one object: a cached one as its JSON bytes, decoded only for the
        answers that are built from the object (a Table, YAML)."""
        if _wants_table(req):
            decoded = obj.obj if isinstance(obj, CachedObject) else obj
            table = selection.table(self.app, kind, [decoded], req, self.registry.cache.revision, single=True)
            await self.app.respond_json(req, code, table)
            return
        if "application/yaml" in req.accept:
            await self.app.respond_json(req, code, obj.obj if isinstance(obj, CachedObject) else obj)
            return
        await self.app.respond(req, code, obj.raw if isinstance(obj, CachedObject) else _encode(obj))

    def _decode_object(self, req: Request, kind: KindInfo, mode: str) -> dict[str, Any]:
        """The body as an object of `kind`: 400 when it does not decode (as Kubernetes' decoder:
        malformed, not an object, a wrong JSON type, a quantity that does not parse, and with
        fieldValidation=Strict an unknown field); Warn adds a warning per unknown field."""
        from kube_lite.server.app import decode_body

        data = decode_body(req)
        if not isinstance(data, dict):
            raise errors.bad_request(
                f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: the body must be a JSON object'
            )
        typecheck(kind, data)
        self._field_validation(req, kind, data, mode)
        return data

    def _field_validation(self, req: Request, kind: KindInfo, data: dict[str, Any], mode: str) -> None:
        if mode == "Ignore":
            return
        struct = kind.struct
        if struct is None:
            return
        unknown = field_checks.unknown_fields(data, struct)
        if not unknown:
            return
        if mode == "Strict":
            listed = ", ".join(f"unknown field {json_quote(u)}" for u in unknown)
            raise errors.bad_request(
                f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: strict decoding error: {listed}'
            )
        for u in unknown:
            req.warn(f"unknown field {json_quote(u)}")

    # ------------------------------------------------------------------ verbs

    async def list(self, req: Request, kind: KindInfo, namespace: str) -> None:
        opts = list_options(req, watch=False)
        matches = selection.matcher(kind, opts.label, opts.field)
        if not opts.continue_token:
            check_resource_version(opts.resource_version)
        result = await self.registry.list(
            kind,
            namespace,
            matches=matches,
            limit=max(opts.limit, 0),
            continue_token=opts.continue_token or None,
            resource_version=opts.resource_version,
            resource_version_match=opts.resource_version_match or None,
        )
        meta: dict[str, Any] = {"resourceVersion": str(result.resource_version)}
        if result.continue_token:
            meta["continue"] = result.continue_token
        if result.remaining is not None:
            meta["remainingItemCount"] = result.remaining
        if _wants_table(req):
            table = selection.table(self.app, kind, [o.read() for o in result.items], req, result.resource_version)
            table["metadata"] = meta
            await self.app.respond_json(req, 200, table)
            return
        head = {"kind": kind.list_kind or f"{kind.kind}List", "apiVersion": kind.api_version, "metadata": meta}
        if "application/yaml" in req.accept:
            await self.app.respond_json(req, 200, {**head, "items": [o.read() for o in result.items]})
            return
        body = b"".join((_encode(head)[:-1], b',"items":[', b",".join([o.raw for o in result.items]), b"]}"))
        await self.app.respond(req, 200, body)

    async def create(self, req: Request, kind: KindInfo, namespace: str) -> None:
        from kube_lite.server.app import check_body_media_type

        check_body_media_type(req)  # Kubernetes negotiates the body's serializer before the options
        opts = write_options(req, "CreateOptions")
        obj = self._decode_object(req, kind, opts.field_validation)
        if (kind.group, kind.plural) in _REVIEWS:
            await self.app.respond_json(req, 201, self.review(req, kind, namespace, obj))
            return
        created = await self.registry.create(kind, namespace, obj, user=req.user, dry_run=opts.dry_run)
        await self.send_object(req, kind, 201, created)

    def review(self, req: Request, kind: KindInfo, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        """The answer to a create-only review (never stored): who the requester is, or whether a
        user may do something, as the server's authorizer decides."""
        from kube_lite.server.auth import AllowAll, Attributes, Decision
        from kube_lite.store.admission import UserInfo

        if kind.struct is not None:  # type-check the body as Kubernetes' decoder does
            try:
                msgspec.convert(obj, kind.struct, str_keys=True)
            except msgspec.ValidationError as exc:
                raise errors.bad_request(f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: {exc}') from None
        answer = {k: v for k, v in obj.items() if k in ("apiVersion", "kind", "spec")}
        answer["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k in ("name", "namespace", "labels", "annotations")}
        user = req.user
        if kind.plural == "selfsubjectreviews":
            info: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
            if user.uid:
                info["uid"] = user.uid
            if user.extra:
                info["extra"] = user.extra
            answer["status"] = {"userInfo": info}
            return answer
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        if kind.plural == "selfsubjectrulesreviews":
            if not spec.get("namespace"):
                raise errors.invalid(kind.kind, kind.group, "", [("spec.namespace", "FieldValueRequired", "Required value")])
            # Rules come with RBAC; until then every authenticated user may do everything.
            answer["status"] = {
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": False,
            }
            return answer
        if kind.plural in ("subjectaccessreviews", "localsubjectaccessreviews"):
            user = UserInfo(str(spec.get("user") or ""), tuple(spec.get("groups") or ()), str(spec.get("uid") or ""), dict(spec.get("extra") or {}))
        resource = spec.get("resourceAttributes")
        non_resource = spec.get("nonResourceAttributes")
        if bool(resource) == bool(non_resource):
            raise errors.invalid(
                kind.kind, kind.group, "",
                [("spec.resourceAttributes", "FieldValueInvalid", "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified")],
            )
        if resource:
            if kind.plural == "localsubjectaccessreviews" and resource.get("namespace") != namespace:
                raise errors.invalid(
                    kind.kind, kind.group, "",
                    [("spec.resourceAttributes.namespace", "FieldValueInvalid", f"Invalid value: {json_quote(resource.get('namespace') or '')}: must match metadata.namespace")],
                )
            attrs = Attributes(
                user, str(resource.get("verb") or ""), resource_request=True, namespace=str(resource.get("namespace") or ""),
                api_group=str(resource.get("group") or ""), api_version=str(resource.get("version") or ""),
                resource=str(resource.get("resource") or ""), subresource=str(resource.get("subresource") or ""),
                name=str(resource.get("name") or ""),
            )
        else:
            attrs = Attributes(user, str(non_resource.get("verb") or ""), path=str(non_resource.get("path") or ""))
        authorizer = getattr(self.app, "authorizer", None) or AllowAll()
        decision, reason = authorizer.authorize(attrs)
        status: dict[str, Any] = {"allowed": decision is Decision.ALLOW}
        if decision is Decision.DENY:
            status["denied"] = True
        if reason:
            status["reason"] = reason
        answer["status"] = status
        return answer

    async def update(self, req: Request, kind: KindInfo, namespace: str, name: str, sub: str) -> None:
        opts = write_options(req, "UpdateOptions")
        obj = self._decode_object(req, kind, opts.field_validation)
        existed = True
        try:
            updated = await self.registry.update(kind, namespace, name, obj, subresource=sub, user=req.user, dry_run=opts.dry_run)
        except errors.APIError as exc:
            # PUT of an object that does not exist creates it (for kinds that allow it).
            if exc.reason != "NotFound" or sub or exc.details is None or exc.details.get("name") != name:
                raise
            existed = False
            updated = await self.registry.create(kind, namespace, obj, user=req.user, dry_run=opts.dry_run)
        await self.send_object(req, kind, 200 if existed else 201, updated)

    async def patch(self, req: Request, kind: KindInfo, namespace: str, name: str, sub: str) -> None:
        from kube_lite.server.patching import check_patch_type, patch_function

        check_patch_type(req)  # 415 comes before the options, as in Kubernetes
        opts = write_options(req, "PatchOptions", patch=True)
        apply = patch_function(req, kind, field_validation=opts.field_validation)
        updated = await self.registry.patch(kind, namespace, name, apply, subresource=sub, user=req.user, dry_run=opts.dry_run)
        await self.send_object(req, kind, 200, updated)

    def _delete_options(self, req: Request) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if req.body.strip():
            from kube_lite.server.app import decode_body

            data = decode_body(req)
            if not isinstance(data, dict):
                raise errors.bad_request("DeleteOptions: the body must be a JSON object")
            from kube_lite.api.meta import DeleteOptions

            try:
                msgspec.convert(data, DeleteOptions)
            except msgspec.ValidationError as exc:
                raise errors.bad_request(f"DeleteOptions in version \"v1\" cannot be handled as a DeleteOptions: {describe_type_error(exc)}") from None
            options.update(data)
        # The query's options (kube-lite reads them next to a body; Kubernetes reads the query
        # only when there is no body).
        value = req.int_param("gracePeriodSeconds")
        if value is not None:
            options["gracePeriodSeconds"] = value
        if "propagationPolicy" in req.query:
            options["propagationPolicy"] = req.query["propagationPolicy"]
        if "orphanDependents" in req.query:
            options["orphanDependents"] = req.flag("orphanDependents")
        if "dryRun" in req.query:
            options["dryRun"] = req.values("dryRun")
        validate_delete_options(options)
        return options

    async def delete(self, req: Request, kind: KindInfo, namespace: str, name: str) -> None:
        options = self._delete_options(req)
        dry = bool(options.get("dryRun"))
        obj, gone = await self.registry.delete(kind, namespace, name, options=options, user=req.user, dry_run=dry)
        if not gone or self.registry.returns_deleted_object(kind):
            await self.send_object(req, kind, 200, obj)
            return
        details: dict[str, Any] = {"name": name, "kind": kind.plural, "uid": obj["metadata"].get("uid")}
        if kind.group:
            details["group"] = kind.group
        await self.app.respond_json(
            req, 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
        )

    async def delete_collection(self, req: Request, kind: KindInfo, namespace: str) -> None:
        opts = list_options(req, watch=False)
        matches = selection.matcher(kind, opts.label, opts.field)
        options = self._delete_options(req)
        dry = bool(options.get("dryRun"))
        result = await self.registry.list(kind, namespace, matches=matches)
        deleted: list[bytes] = []
        for item in result.items:
            meta = item.obj["metadata"]
            try:
                obj, _ = await self.registry.delete(
                    kind, meta.get("namespace", ""), meta["name"], options=options, user=req.user, dry_run=dry
                )
            except errors.APIError as exc:
                if exc.code == 404:
                    continue
                raise
            deleted.append(_encode(obj))
        head = {"kind": kind.list_kind or f"{kind.kind}List", "apiVersion": kind.api_version, "metadata": {"resourceVersion": str(self.registry.cache.revision)}}
        await self.app.respond(req, 200, _encode(head)[:-1] + b',"items":[' + b",".join(deleted) + b"]}")

    async def scale(self, req: Request, kind: KindInfo, namespace: str, name: str) -> None:
        from kube_lite.server.patching import patch_function

        def to_scale(obj: dict[str, Any]) -> dict[str, Any]:
            spec = obj.get("spec") or {}
            status = obj.get("status") or {}
            meta = obj["metadata"]
            scale: dict[str, Any] = {
                "kind": "Scale",
                "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta},
                "spec": {"replicas": spec.get("replicas", 1)},
                "status": {"replicas": status.get("replicas", 0)},
            }
            selector = spec.get("selector")
            if isinstance(selector, dict):
                from kube_lite.server.selection import selector_string

                # ReplicationControllers select with a plain label map.
                if kind.kind == "ReplicationController":
                    selector = {"matchLabels": selector}
                scale["status"]["selector"] = selector_string(selector)
            return scale

        if req.method == "GET":
            current = await self.registry.get(kind, namespace, name)
            await self.app.respond_json(req, 200, to_scale(current.obj))
            return
        if req.method not in ("PUT", "PATCH"):
            raise errors.method_not_allowed(req.method, f"{kind.plural}/scale")
        if req.method == "PUT":
            from kube_lite.server.app import decode_body

            opts = write_options(req, "UpdateOptions")
            body = decode_body(req)
            if not isinstance(body, dict) or not isinstance(body.get("spec", {}), dict) or not isinstance(body.get("metadata", {}), dict):
                raise errors.bad_request('Scale in version "v1" cannot be handled as a Scale: the body, its spec and metadata must be JSON objects')
            wanted = (body.get("spec") or {}).get("replicas")
            if wanted is not None and (not isinstance(wanted, int) or isinstance(wanted, bool)):
                raise errors.bad_request(f'Scale in version "v1" cannot be handled as a Scale: spec.replicas: expected an integer, got {json_quote(str(wanted))}')
            rv = (body.get("metadata") or {}).get("resourceVersion")
        else:
            from kube_lite.server.patching import check_patch_type

            check_patch_type(req)
            opts = write_options(req, "PatchOptions", patch=True)
            apply_patch = patch_function(req, kind, scale=True)
            current = await self.registry.get(kind, namespace, name)
            patched = apply_patch(to_scale(current.obj))
            spec = patched.get("spec") if isinstance(patched, dict) else None
            if not isinstance(spec, dict):
                raise errors.invalid("Scale", "autoscaling", name, [("spec", "FieldValueInvalid", f"Invalid value: {json_quote(str(spec))}: must be an object")])
            wanted = spec.get("replicas")
            rv = None
        if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 0:
            raise errors.invalid("Scale", "autoscaling", name, [("spec.replicas", "FieldValueInvalid", f"Invalid value: {wanted!r}: must be greater than or equal to 0")])

        def set_replicas(obj: dict[str, Any]) -> dict[str, Any]:
            if rv and str(rv) != obj["metadata"].get("resourceVersion"):
                raise errors.conflict(kind.plural, kind.group, name)
            obj.setdefault("spec", {})["replicas"] = wanted
            return obj

        updated = await self.registry.patch(kind, namespace, name, set_replicas, user=req.user, dry_run=opts.dry_run)
        await self.app.respond_json(req, 200, to_scale(updated))

    async def pod_log(self, req: Request, kind: KindInfo, namespace: str, name: str) -> None:
        """GET pods/NAME/log: the container is checked as Kubernetes checks it; a pod no node
        runs has no log yet (an empty 200, as Kubernetes answers). Malformed options are 400 and
        invalid ones 422, before the pod is looked up (as in Kubernetes)."""
        pod_log_options(req, name)
        pod = (await self.registry.get(kind, namespace, name)).obj
        spec = pod.get("spec") or {}
        containers = [c.get("name", "") for c in spec.get("containers") or []]
        init = [c.get("name", "") for c in spec.get("initContainers") or []]
        ephemeral = [c.get("name", "") for c in spec.get("ephemeralContainers") or []]
        wanted = req.query.get("container") or ""
        if not wanted:
            if len(containers) == 1:
                wanted = containers[0]
            else:
                message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
                if init:
                    message += f" or one of the init containers: [{' '.join(init)}]"
                if ephemeral:
                    message += f" or one of the ephemeral containers: [{' '.join(ephemeral)}]"
                raise errors.bad_request(message)
        if wanted not in (*containers, *init, *ephemeral):
            raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
        node = spec.get("nodeName")
        if not node:
            await self.app.respond(req, 200, b"", b"text/plain")
            return
        raise errors.service_unavailable(f"no node agent serves the logs of node {node} yet")

    async def pod_subresource_create(self, req: Request, kind: KindInfo, namespace: str, name: str, sub: str) -> None:
        from kube_lite.server.app import check_body_media_type, decode_body

        check_body_media_type(req)
        opts = write_options(req, "CreateOptions")
        body = decode_body(req)
        if not isinstance(body, dict):
            raise errors.bad_request(f"{sub}: the body must be a JSON object")
        body_kind = self.app.kinds.by_kind("", "Binding") if sub == "binding" else self.app.kinds.by_kind("policy", "Eviction")
        if body_kind is not None:
            typecheck(body_kind, body)
        body_name = (body.get("metadata") or {}).get("name")
        if sub == "eviction" and body_name and body_name != name:
            raise errors.bad_request("name in URL does not match name in Eviction object")
        if sub == "binding":
            target = body.get("target") or {}
            node = target.get("name")
            if not node:
                raise errors.invalid("Binding", "", name, [("target.name", "FieldValueRequired", "Required value")])

            def bind(obj: dict[str, Any]) -> dict[str, Any]:
                spec = obj.setdefault("spec", {})
                if spec.get("nodeName"):
                    raise errors.conflict("pods/binding", "", name, f"pod {name} is already assigned to node \"{spec['nodeName']}\"")
                if obj["metadata"].get("deletionTimestamp"):
                    raise errors.conflict("pods/binding", "", name, f"pod {name} is being deleted, cannot be assigned to a host")
                spec["nodeName"] = node
                conditions = [c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") != "PodScheduled"]
                conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": _now(self.app)})
                obj.setdefault("status", {})["conditions"] = conditions
                return obj

            await self.registry.patch(kind, namespace, name, bind, subresource="binding", user=req.user, dry_run=opts.dry_run)
            await self.app.respond_json(req, 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
            return
        # eviction: disruption budgets come later; for now an eviction is a delete.
        options = body.get("deleteOptions") or {}
        await self.registry.delete(kind, namespace, name, options=options, user=req.user, dry_run=opts.dry_run)
        await self.app.respond_json(req, 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})

    # ------------------------------------------------------------------ watch

    async def watch(self, req: Request, kind: KindInfo, namespace: str) -> None:
        opts = list_options(req, watch=True)
        matches = selection.matcher(kind, opts.label, opts.field)
        check_resource_version(opts.resource_version)
        rv = req.query.get("resourceVersion")
        send_initial = req.query.get("sendInitialEvents")
        bookmarks = req.flag("allowWatchBookmarks")
        initial_events = False
        if send_initial not in (None, ""):
            if send_initial == "true":
                if req.query.get("resourceVersionMatch") != "NotOlderThan" or not bookmarks:
                    raise errors.invalid(
                        "ListOptions", "meta.k8s.io", "",
                        [("sendInitialEvents", "FieldValueForbidden", "Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan and allowWatchBookmarks is true")],
                    )
                initial_events = True
            elif send_initial != "false":
                raise errors.bad_request(f'invalid value for sendInitialEvents: "{send_initial}"')
        timeout = req.int_param("timeoutSeconds")
        table = _wants_table(req)
        if rv not in (None, "", "0") and not initial_events:
            await self.registry.fresh()
        else:
            await self.registry.fresh()
        try:
            stream = self.registry.watch(
                kind, namespace, matches=matches,
                resource_version=None if initial_events else rv,
                send_initial_events=initial_events or None,
                node=selection.exact_node(kind, req.query.get("fieldSelector")),
            )
        except errors.APIError as exc:
            if exc.code != 410:
                raise
            # Kubernetes answers a too-old watch with 200 and one ERROR event.
            await self._start_stream(req, table)
            await req.send({"type": "http.response.body", "body": _encode({"type": "ERROR", "object": exc.status}) + b"\n", "more_body": False})
            return
        await self._start_stream(req, table)
        done = anyio.Event()

        async def wait_disconnect() -> None:
            while True:
                message = await req.receive()
                if message["type"] == "http.disconnect":
                    done.set()
                    return

        first_table = [True]

        def line(kind_: str, obj: CachedObject | None) -> bytes:
            if kind_ == "BOOKMARK" or obj is None:
                return _encode({"type": "BOOKMARK", "object": {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": {"resourceVersion": str(self.registry.cache.revision)}}}) + b"\n"
            if table:
                tab = selection.table(self.app, kind, [obj.obj], req, obj.revision, headers=first_table[0], single=True)
                first_table[0] = False
                return _encode({"type": kind_, "object": tab}) + b"\n"
            return b'{"type":"%s","object":%s}\n' % (kind_.encode(), obj.raw)

        async def pump() -> None:
            # Everything already buffered goes out in one send: one TLS record and one syscall
            # for a burst, instead of one per event.
            initial_left = len(stream.initial) if initial_events else -1
            if initial_left == 0:
                await self._initial_end(req, kind)
            async for batch in stream.batches():
                body = b"".join(line(k, o) for k, o in batch)
                await req.send({"type": "http.response.body", "body": body, "more_body": True})
                if initial_left > 0:
                    initial_left -= len(batch)
                    if initial_left <= 0:
                        await self._initial_end(req, kind)
            done.set()

        async def bookmarker() -> None:
            while True:
                await self.app.clock.sleep(BOOKMARK_INTERVAL)
                stream.watcher.bookmark(self.registry.cache.revision)

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait_disconnect)
            tg.start_soon(pump)
            if bookmarks:
                tg.start_soon(bookmarker)
            with self.app.clock.move_on_after(float(timeout) if timeout else DEFAULT_WATCH_TIMEOUT):
                await done.wait()
            tg.cancel_scope.cancel()
        stream.close()
        with anyio.CancelScope(shield=True):
            try:
                await req.send({"type": "http.response.body", "body": b"", "more_body": False})
            except Exception:  # noqa: BLE001 - the client is gone
                pass

    async def _initial_end(self, req: Request, kind: KindInfo) -> None:
        line = _encode({
            "type": "BOOKMARK",
            "object": {
                "kind": kind.kind, "apiVersion": kind.api_version,
                "metadata": {"resourceVersion": str(self.registry.cache.revision), "annotations": {"k8s.io/initial-events-end": "true"}},
            },
        }) + b"\n"
        await req.send({"type": "http.response.body", "body": line, "more_body": True})

    async def _start_stream(self, req: Request, table: bool) -> None:
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-cache, private"), *req.response_headers]
        await req.send({"type": "http.response.start", "status": 200, "headers": headers})


def json_quote(text: str) -> str:
    return _encode(text).decode()


def _now(app: APIServerApp) -> str:
    return app.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------- discovery and OpenAPI


async def _aggregated(app: APIServerApp, req: Request, legacy: bool) -> bool:
    from kube_lite.server import discovery

    version = discovery.negotiate_aggregated(req.accept)
    if version is None:
        return False
    body = discovery.aggregated_core(app.kinds, version) if legacy else discovery.aggregated_apis(app.kinds, version)
    await app.respond(req, 200, body, discovery.aggregated_content_type(version).encode())
    return True


async def discovery_api(app: APIServerApp, req: Request) -> None:
    from kube_lite.server import discovery

    if not await _aggregated(app, req, legacy=True):
        await app.respond(req, 200, discovery.api_versions(app.kinds))


async def discovery_apis(app: APIServerApp, req: Request) -> None:
    from kube_lite.server import discovery

    if not await _aggregated(app, req, legacy=False):
        await app.respond(req, 200, discovery.api_group_list(app.kinds))


async def discovery_group(app: APIServerApp, req: Request, group: str) -> None:
    from kube_lite.server import discovery

    body = discovery.api_group(app.kinds, group)
    if body is None:
        raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
    await app.respond(req, 200, body)


async def discovery_group_version(app: APIServerApp, req: Request, group: str, version: str) -> None:
    from kube_lite.server import discovery

    body = discovery.api_resource_list(app.kinds, group, version)
    if body is None:
        raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
    await app.respond(req, 200, body)


async def openapi(app: APIServerApp, req: Request, parts: list[str]) -> None:
    from kube_lite.server import openapi as oa

    if parts == ["openapi", "v2"]:
        answer = oa.openapi_v2_response(app.kinds, req.accept)
        if answer is None:
            raise errors.not_acceptable("only application/json and application/com.github.proto-openapi.spec.v2@v1.0+protobuf are served")
        body, ctype = answer
        await app.respond(req, 200, body, ctype.encode())
        return
    if parts == ["openapi", "v3"]:
        await app.respond(req, 200, oa.openapi_v3_discovery(app.kinds))
        return
    if len(parts) >= 3 and parts[:2] == ["openapi", "v3"]:
        path = "/".join(parts[2:])
        body = oa.openapi_v3_document(app.kinds, path)
        current = oa.openapi_v3_hash(app.kinds, path)
        if body is None or current is None:
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        wanted = req.query.get("hash")
        if wanted and wanted != current:
            location = oa.v3_server_relative_url(oa.v3_path(*_group_version(path)), current)
            req.response_headers.append((b"location", location.encode()))
            await app.respond(req, 301, b"")
            return
        req.response_headers.append((b"etag", f'"{current}"'.encode()))
        if wanted:
            req.response_headers.append((b"cache-control", b"public, immutable"))
        await app.respond(req, 200, body)
        return
    raise errors.APIError(404, "NotFound", "the server could not find the requested resource")


def _group_version(path: str) -> tuple[str, str]:
    parts = path.strip("/").split("/")
    return ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])


def _as_bytes(body: Any) -> bytes:
    return body if isinstance(body, bytes) else _encode(body)


def deep_copy(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)


def describe_type_error(exc: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.spec.replicas`" in Kubernetes' words."""
    text = str(exc)
    if " - at `$." in text:
        what, _, where = text.partition(" - at `$.")
        return f"json: cannot unmarshal into field {where.rstrip('`')}: {what}"
    return text


def decode_error(kind: KindInfo, data: Any) -> str | None:
    """Why Kubernetes' decoder would refuse `data` as an object of a built-in kind, or None: a
    quantity that does not parse (its UnmarshalJSON fails the whole decode, whatever else is
    wrong), else a field of the wrong JSON type (a string for spec.replicas, a number for spec)."""
    struct = kind.struct
    if struct is None:
        return None
    bad_quantity = field_checks.quantity_error(data, struct)
    if bad_quantity is not None:
        return bad_quantity
    try:
        msgspec.convert(data, struct, str_keys=True)
    except msgspec.ValidationError as exc:
        return describe_type_error(exc)
    return None


def typecheck(kind: KindInfo, data: dict[str, Any]) -> None:
    """400 BadRequest `<Kind> in version "<v>" cannot be handled as a <Kind>: ...`, as Kubernetes'
    decoder answers, for a body `decode_error` refuses."""
    problem = decode_error(kind, data)
    if problem is not None:
        raise errors.bad_request(f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: {problem}')
