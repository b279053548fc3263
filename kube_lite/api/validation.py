"""Object validation with Kubernetes' rules, field paths and messages.

`validate_object(obj, old=None)` validates a kind on create (``old`` is None) or update and
returns a list of `FieldError`; an empty list means valid. As in Kubernetes, validation expects
an object that has already been defaulted (`kube_lite.api.defaults.default_object`): a field
that defaulting always fills (a pod's restartPolicy, a port's protocol, ...) is reported as
``Required value`` when it is missing, which is what Kubernetes' validation would say too.

A `FieldError` renders exactly as apimachinery's ``field.Error``::

    spec.containers[0].name: Required value
    metadata.name: Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of ...
    spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"

and `invalid_message(kind, name, errors)` gives the text of the 422 Invalid status
(``Pod "x" is invalid: spec.containers[0].image: Required value``; several errors as
``[e1, e2]``, deduplicated; the kind qualified by its group as ``Deployment.apps``).

The primitives (`is_dns1123_label`, `is_qualified_name`, `is_config_map_key`, ...) return
Kubernetes' list of reasons, the way ``k8s.io/apimachinery/pkg/util/validation`` does, so callers
wrap them into field errors with their own path.

Per kind, validation follows Kubernetes' ``pkg/apis/*/validation`` (and the strategies' update
checks, such as apps/v1's immutable selectors) for the fields kube-lite models: metadata
everywhere; Pod (containers, ports, env, resources, probes, lifecycle, volumes and mounts,
affinity, tolerations, DNS, enums, update immutability, status updates); the workload
controllers (selector and template labels, replicas, strategies, immutable selectors); Job and
CronJob (restart policy, counts, schedule, time zone, immutable template); Service (ports,
types, cluster IPs, traffic policies, immutable cluster IPs); ConfigMap and Secret keys and
types; Namespace; Node; PersistentVolumeClaim (create); PodDisruptionBudget; PriorityClass;
Lease; RBAC roles and bindings. Other kinds get metadata validation.

Known differences from Kubernetes: a bad value that is a structure is shown as its wire JSON
(Kubernetes prints Go's JSON of its internal type, except for the strategy types rendered here
as Go does); the pod-update message ends with a kube-lite diff rather than go-cmp's; security
context, seccomp/AppArmor, ephemeral-container, resize-policy, pod-level-resource, CSI and
most legacy volume-plugin details, and PVC update rules are not checked.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from kube_lite.api.quantity import Quantity, QuantityError, parse_quantity

__all__ = [
    "FIELD_IMMUTABLE",
    "MAX_SECRET_SIZE",
    "TOTAL_ANNOTATION_SIZE_LIMIT",
    "NameFunc",
    "cron_schedule_error",
    "inclusive_range_error",
    "validate_cidr",
    "validate_immutable",
    "validate_pod_spec",
    "validate_pod_template_spec",
    "validate_resource_requirements",
    "ErrorType",
    "FieldError",
    "OMIT",
    "aggregate",
    "duplicate",
    "forbidden",
    "go_quote",
    "internal_error",
    "invalid",
    "invalid_message",
    "is_c_identifier",
    "is_config_map_key",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_env_var_name",
    "is_http_header_name",
    "is_label_value",
    "is_path_segment_name",
    "is_qualified_name",
    "is_valid_percent",
    "is_valid_port_name",
    "is_valid_port_num",
    "mask_trailing_dash",
    "name_is_dns1035_label",
    "name_is_dns_label",
    "name_is_dns_subdomain",
    "not_found",
    "not_supported",
    "qualified_kind",
    "render_value",
    "required",
    "too_long",
    "too_many",
    "validate_annotations",
    "validate_finalizers",
    "validate_ip",
    "validate_labels",
    "validate_object",
    "validate_object_meta",
    "validate_object_meta_update",
    "validate_owner_references",
    "validate_quantity",
]


# ---------------------------------------------------------------------------------------------
# Field errors
# ---------------------------------------------------------------------------------------------


class ErrorType(StrEnum):
    """The machine-readable error types; each value is the Status cause `reason`."""

    NOT_FOUND = "FieldValueNotFound"
    REQUIRED = "FieldValueRequired"
    DUPLICATE = "FieldValueDuplicate"
    INVALID = "FieldValueInvalid"
    NOT_SUPPORTED = "FieldValueNotSupported"
    FORBIDDEN = "FieldValueForbidden"
    TOO_LONG = "FieldValueTooLong"
    TOO_MANY = "FieldValueTooMany"
    TOO_FEW = "FieldValueTooFew"
    INTERNAL = "InternalError"
    TYPE_INVALID = "FieldValueTypeInvalid"
    TOO_SHORT = "FieldValueTooShort"


_TYPE_TEXT = {
    ErrorType.NOT_FOUND: "Not found",
    ErrorType.REQUIRED: "Required value",
    ErrorType.DUPLICATE: "Duplicate value",
    ErrorType.INVALID: "Invalid value",
    ErrorType.NOT_SUPPORTED: "Unsupported value",
    ErrorType.FORBIDDEN: "Forbidden",
    ErrorType.TOO_LONG: "Too long",
    ErrorType.TOO_MANY: "Too many",
    ErrorType.TOO_FEW: "Too few",
    ErrorType.INTERNAL: "Internal error",
    ErrorType.TYPE_INVALID: "Invalid value",
    ErrorType.TOO_SHORT: "Too short",
}

# Types whose message never shows the bad value.
_VALUELESS = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.TOO_SHORT, ErrorType.INTERNAL}


class _Omit:
    """The bad value of an error that shows none (apimachinery's omitValue)."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()
"""Pass as a bad value to leave it out of the message (``Invalid value: <detail>``)."""

FIELD_IMMUTABLE = "field is immutable"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field-level validation error, rendered as apimachinery's ``field.Error``.

    `type` is the error type, `field` the path (``spec.containers[0].image``), `bad_value` the
    offending value (shown for Invalid, NotSupported, Duplicate, NotFound, TooMany), `detail`
    the explanation. ``str(err)`` is ``"<field>: <body>"``; `body()` is what a Status cause
    carries as its message and `reason_code` its reason.
    """

    type: ErrorType
    field: str
    bad_value: Any = ""
    detail: str = ""

    @property
    def reason_code(self) -> str:
        """The Status cause reason, e.g. ``FieldValueRequired``."""
        return self.type.value

    def body(self) -> str:
        """The message without the field path: ``Invalid value: "x": must be ...``."""
        text = _TYPE_TEXT[self.type]
        if self.type not in _VALUELESS and self.bad_value is not OMIT:
            text = f"{text}: {render_value(self.bad_value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict[str, str]:
        """The ``details.causes[]`` entry of an Invalid status for this error."""
        return {"reason": self.reason_code, "message": self.body(), "field": self.field}


def required(path: str, detail: str = "") -> FieldError:
    """``<path>: Required value[: detail]``."""
    return FieldError(ErrorType.REQUIRED, path, "", detail)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    """``<path>: Invalid value: <value>: detail``."""
    return FieldError(ErrorType.INVALID, path, value, detail)


def not_supported(path: str, value: Any, valid: Iterable[str]) -> FieldError:
    """``<path>: Unsupported value: <value>: supported values: "a", "b"`` (in the given order)."""
    values = list(valid)
    detail = "supported values: " + ", ".join(go_quote(str(v)) for v in values) if values else ""
    return FieldError(ErrorType.NOT_SUPPORTED, path, value, detail)


def duplicate(path: str, value: Any) -> FieldError:
    """``<path>: Duplicate value: <value>``."""
    return FieldError(ErrorType.DUPLICATE, path, value)


def not_found(path: str, value: Any) -> FieldError:
    """``<path>: Not found: <value>``."""
    return FieldError(ErrorType.NOT_FOUND, path, value)


def forbidden(path: str, detail: str) -> FieldError:
    """``<path>: Forbidden: detail``."""
    return FieldError(ErrorType.FORBIDDEN, path, "", detail)


def too_long(path: str, max_length: int) -> FieldError:
    """``<path>: Too long: may not be more than N bytes``."""
    if max_length >= 0:
        detail = f"may not be more than {max_length} {'byte' if max_length == 1 else 'bytes'}"
    else:
        detail = "value is too long"
    return FieldError(ErrorType.TOO_LONG, path, "<value omitted>", detail)


def too_many(path: str, actual: int, maximum: int) -> FieldError:
    """``<path>: Too many: <actual>: must have at most N items``."""
    detail = f"must have at most {maximum} {'item' if maximum == 1 else 'items'}" if maximum >= 0 else "has too many items"
    return FieldError(ErrorType.TOO_MANY, path, actual if actual >= 0 else OMIT, detail)


def internal_error(path: str, detail: str) -> FieldError:
    """``<path>: Internal error: detail``."""
    return FieldError(ErrorType.INTERNAL, path, "", detail)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """Go's ``%q`` (strconv.Quote) of a string."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def render_value(value: Any) -> str:
    """How a field error shows its bad value: strings quoted (``%q``), numbers and booleans
    bare, anything else as compact JSON with Go's escaping of ``<``, ``>`` and ``&``."""
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Quantity):
        return go_quote(str(value))
    text = json.dumps(_to_builtins(value), separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _GoStruct(dict):  # type: ignore[type-arg]
    """A bad value shown as Go's JSON of an internal struct: fields in declaration order."""


def _to_builtins(value: Any) -> Any:
    if isinstance(value, _GoStruct):
        return {k: _to_builtins(v) for k, v in value.items()}
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    if isinstance(value, Mapping):
        # Go's encoder writes map keys sorted.
        return {str(k): _to_builtins(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_to_builtins(v) for v in value]
    if isinstance(value, Quantity):
        return str(value)
    return value


def aggregate(errors: Sequence[Any]) -> str:
    """apimachinery's aggregate text: one distinct error alone, several as ``[e1, e2]``."""
    messages: list[str] = []
    for err in errors:
        text = str(err)
        if text not in messages:
            messages.append(text)
    if len(messages) == 1:
        return messages[0]
    return "[" + ", ".join(messages) + "]"


def qualified_kind(kind: str, group: str) -> str:
    """``Pod`` for the core group, ``Deployment.apps`` otherwise (schema.GroupKind.String)."""
    return f"{kind}.{group}" if group else kind


def invalid_message(kind: str | type | Any, name: str, errors: Sequence[Any], group: str | None = None) -> str:
    """The message of the 422 Invalid status for `errors` on object `name`.

    `kind` is a kind name (with `group`, or already qualified as ``Deployment.apps``), a
    Resource class, or an object. ``Pod "x" is invalid: spec.containers[0].image: Required
    value``; ``Deployment.apps "d" is invalid: [e1, e2]``; with no errors ``... is invalid``.
    """
    if not isinstance(kind, str):
        cls = kind if isinstance(kind, type) else type(kind)
        group = getattr(cls, "group", "") if group is None else group
        kind = cls.__name__
    what = f"{qualified_kind(kind, group or '')} {go_quote(name)} is invalid"
    if not errors:
        return what
    return f"{what}: {aggregate(errors)}"


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------


def _child(path: str, name: str, *more: str) -> str:
    path = f"{path}.{name}" if path else name
    for extra in more:
        path = f"{path}.{extra}"
    return path


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _key(path: str, key: str) -> str:
    return f"{path}[{key}]"


# ---------------------------------------------------------------------------------------------
# Primitives (k8s.io/apimachinery/pkg/util/validation and api/validate/content)
# ---------------------------------------------------------------------------------------------


def _blen(value: str) -> int:
    # Go measures strings in bytes.
    return len(value.encode("utf-8"))


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len_chars(n: int) -> str:
    return f"must be no more than {n} characters"


def _max_len_bytes(n: int) -> str:
    return f"must be no more than {n} bytes"


def inclusive_range_error(lo: int, hi: int) -> str:
    """``must be between lo and hi, inclusive``."""
    return f"must be between {lo} and {hi}, inclusive"


_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_LABEL_VALUE_FMT = f"({_LABEL_KEY_FMT})?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_ENV_VAR_NAME_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
    "or '.', and must not start with a digit"
)
_C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
_C_IDENTIFIER_MSG = (
    "a valid C identifier must start with alphabetic character or '_', followed by a string of "
    "alphanumeric characters or '_'"
)
_PERCENT_FMT = "[0-9]+%"
_PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"
_HTTP_HEADER_FMT = "[-A-Za-z0-9]+"
_HTTP_HEADER_MSG = "a valid HTTP header must consist of alphanumeric characters or '-'"

# Go's regexps here are anchored with ^...$, which (unlike Python's $) never accept a trailing
# newline; fullmatch gives the same semantics. All patterns are ASCII-only.
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL_FMT)
_LABEL_KEY_RE = re.compile(_LABEL_KEY_FMT)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_CONFIG_MAP_KEY_RE = re.compile(_CONFIG_MAP_KEY_FMT)
_ENV_VAR_NAME_RE = re.compile(_ENV_VAR_NAME_FMT)
_C_IDENTIFIER_RE = re.compile(_C_IDENTIFIER_FMT)
_PERCENT_RE = re.compile(_PERCENT_FMT)
_HTTP_HEADER_RE = re.compile(_HTTP_HEADER_FMT)
_PORT_NAME_CHARSET_RE = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER_RE = re.compile("[a-z]")


def is_dns1123_label(value: str) -> list[str]:
    """Reasons `value` is not a DNS-1123 label (at most 63 characters); [] when valid."""
    errs: list[str] = []
    if _blen(value) > 63:
        errs.append(_max_len_chars(63))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """Reasons `value` is not a DNS-1123 subdomain (at most 253 characters); [] when valid."""
    errs: list[str] = []
    if _blen(value) > 253:
        errs.append(_max_len_chars(253))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def _content_dns1123_subdomain(value: str) -> list[str]:
    # The content package's copy, used for label-key prefixes, counts bytes.
    errs: list[str] = []
    if _blen(value) > 253:
        errs.append(_max_len_bytes(253))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


_DNS1123_LABEL_UNDERSCORE_FMT = "_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_UNDERSCORE_FMT = _DNS1123_LABEL_UNDERSCORE_FMT + "(\\." + _DNS1123_LABEL_UNDERSCORE_FMT + ")*"
_DNS1123_SUBDOMAIN_UNDERSCORE_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_UNDERSCORE_RE = re.compile(_DNS1123_SUBDOMAIN_UNDERSCORE_FMT)


def _dns1123_subdomain_underscore(value: str) -> list[str]:
    errs: list[str] = []
    if _blen(value) > 253:
        errs.append(_max_len_chars(253))
    if not _DNS1123_SUBDOMAIN_UNDERSCORE_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_UNDERSCORE_MSG, _DNS1123_SUBDOMAIN_UNDERSCORE_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    """Reasons `value` is not a DNS-1035 label (Service names); [] when valid."""
    errs: list[str] = []
    if _blen(value) > 63:
        errs.append(_max_len_chars(63))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """Reasons `value` is not a qualified name (label or annotation key: ``[prefix/]name``)."""
    return list(_qualified_name_errors(value))


@functools.lru_cache(maxsize=4096)
def _qualified_name_errors(value: str) -> tuple[str, ...]:
    # The same few label and annotation keys are checked on every write: remember the answers.
    return tuple(_qualified_name_reasons(value))


def _qualified_name_reasons(value: str) -> list[str]:
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _content_dns1123_subdomain(prefix))
    else:
        return [
            "a valid label key "
            + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif _blen(name) > 63:
        errs.append("name part " + _max_len_bytes(63))
    if not _LABEL_KEY_RE.fullmatch(name):
        errs.append("name part " + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_label_value(value: str) -> list[str]:
    """Reasons `value` is not a label value (empty, or at most 63 label characters)."""
    return list(_label_value_errors(value))


@functools.lru_cache(maxsize=4096)
def _label_value_errors(value: str) -> tuple[str, ...]:
    # As for keys: the same few label values are checked on every write.
    return tuple(_label_value_reasons(value))


def _label_value_reasons(value: str) -> list[str]:
    errs: list[str] = []
    if _blen(value) > 63:
        errs.append(_max_len_bytes(63))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def _chdir_prefix(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


def is_config_map_key(value: str) -> list[str]:
    """Reasons `value` is not a ConfigMap/Secret key."""
    errs: list[str] = []
    if _blen(value) > 253:
        errs.append(_max_len_chars(253))
    if not _CONFIG_MAP_KEY_RE.fullmatch(value):
        errs.append(_regex_error(_CONFIG_MAP_KEY_MSG, _CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    errs.extend(_chdir_prefix(value))
    return errs


def is_env_var_name(value: str) -> list[str]:
    """Reasons `value` is not an environment variable name (the strict rule)."""
    errs: list[str] = []
    if not _ENV_VAR_NAME_RE.fullmatch(value):
        errs.append(_regex_error(_ENV_VAR_NAME_MSG, _ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"))
    errs.extend(_chdir_prefix(value))
    return errs


def is_c_identifier(value: str) -> list[str]:
    """Reasons `value` is not a C identifier."""
    if _C_IDENTIFIER_RE.fullmatch(value):
        return []
    return [_regex_error(_C_IDENTIFIER_MSG, _C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")]


def is_valid_port_num(port: int) -> list[str]:
    """Reasons `port` is not a port number (1-65535)."""
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


def is_valid_port_name(port: str) -> list[str]:
    """Reasons `port` is not an IANA service name (named ports): at most 15 characters of
    [-a-z0-9] with a letter, no leading, trailing or double hyphen."""
    errs: list[str] = []
    if _blen(port) > 15:
        errs.append(_max_len_chars(15))
    if not _PORT_NAME_CHARSET_RE.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER_RE.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_valid_percent(value: str) -> list[str]:
    """Reasons `value` is not a percentage string such as ``25%``."""
    return [] if _PERCENT_RE.fullmatch(value) else [_regex_error(_PERCENT_MSG, _PERCENT_FMT, "1%", "93%")]


def is_http_header_name(value: str) -> list[str]:
    """Reasons `value` is not an HTTP header name."""
    if _HTTP_HEADER_RE.fullmatch(value):
        return []
    return [_regex_error(_HTTP_HEADER_MSG, _HTTP_HEADER_FMT, "X-Header-Name")]


def is_path_segment_name(name: str, prefix: bool = False) -> list[str]:
    """Reasons `name` cannot be a URL path segment (the rule for RBAC and custom resources)."""
    if not prefix:
        for bad in (".", ".."):
            if name == bad:
                return [f"may not be '{bad}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in name]


def mask_trailing_dash(name: str) -> str:
    """A generateName prefix may end in '-'; validate it as if it ended in a letter."""
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


NameFunc = Callable[[str, bool], list[str]]
"""A name rule: (name, is_generate_name_prefix) -> reasons it is invalid."""


def name_is_dns_subdomain(name: str, prefix: bool = False) -> list[str]:
    """The name rule of most kinds (Pod, ConfigMap, Deployment, ...)."""
    return is_dns1123_subdomain(mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool = False) -> list[str]:
    """The name rule of Namespaces and StatefulSets."""
    return is_dns1123_label(mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool = False) -> list[str]:
    """The name rule of Services."""
    return is_dns1035_label(mask_trailing_dash(name) if prefix else name)


def _name_is_path_segment(name: str, prefix: bool = False) -> list[str]:
    return is_path_segment_name(name, prefix)


def _validate_dns1123_label(value: str, path: str) -> list[FieldError]:
    return [invalid(path, value, m) for m in is_dns1123_label(value)]


def _validate_dns1123_subdomain(value: str, path: str) -> list[FieldError]:
    return [invalid(path, value, m) for m in is_dns1123_subdomain(value)]


def _validate_qualified_name(value: str, path: str) -> list[FieldError]:
    return [invalid(path, value, m) for m in is_qualified_name(value)]


def _nonnegative(value: int | None, path: str) -> list[FieldError]:
    if value is not None and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def validate_ip(value: str, path: str) -> list[FieldError]:
    """An IP address in canonical form (Kubernetes' strict IsValidIP)."""
    try:
        if "%" in value:
            raise ValueError(value)
        addr = ipaddress.ip_address(value)
    except ValueError:
        # Go's sloppy parser accepts IPv4 octets with leading zeros; the strict one does not.
        parts = value.split(".")
        if len(parts) == 4 and all(p.isdigit() and p.isascii() and int(p) <= 255 for p in parts):
            return [invalid(path, value, "must not have leading 0s")]
        return [invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return [invalid(path, value, "must not be an IPv4-mapped IPv6 address")]
    if str(addr) != value:
        return [invalid(path, value, f"must be in canonical form ({go_quote(str(addr))})")]
    return []


def validate_cidr(value: str, path: str) -> list[FieldError]:
    """A CIDR in canonical subnet form (Kubernetes' strict IsValidCIDR)."""
    try:
        network = ipaddress.ip_network(value, strict=False)
        if "/" not in value:
            raise ValueError(value)
    except ValueError:
        return [invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
    if ipaddress.ip_interface(value).ip != network.network_address:
        return [invalid(path, value, "must not have bits set beyond the prefix length")]
    if str(network) != value:
        return [invalid(path, value, f"must be in canonical form ({go_quote(str(network))})")]
    return []


@functools.lru_cache(maxsize=2048)
def _parse_quantity_str(raw: str) -> Quantity:
    return parse_quantity(raw)


def parse_quantity_cached(raw: Any) -> Quantity:
    """`parse_quantity`, remembered for strings (a Quantity is immutable): the same few request
    and limit strings are parsed on every pod write. Raises QuantityError as parse_quantity
    does (errors are not remembered)."""
    if type(raw) is str:
        return _parse_quantity_str(raw)
    return parse_quantity(raw)


def validate_quantity(raw: Any, path: str) -> tuple[Quantity | None, list[FieldError]]:
    """Parse a quantity field; an unparsable one is an Invalid error with Kubernetes' parse
    message (Kubernetes rejects it while decoding, with the same text)."""
    try:
        return parse_quantity_cached(raw), []
    except QuantityError as err:
        return None, [invalid(path, raw if isinstance(raw, str) else str(raw), str(err))]


# ---------------------------------------------------------------------------------------------
# Struct access helpers
# ---------------------------------------------------------------------------------------------


def _get(obj: Any, *names: str) -> Any:
    """obj.a.b... with None for anything missing (kinds are Structs; tolerate dicts too)."""
    for name in names:
        if obj is None:
            return None
        # Structs and dicts first: isinstance against the Mapping ABC is slow and this runs
        # per field (a Struct is never a Mapping, so the order changes no answer).
        if type(obj) is dict:
            obj = obj.get(name)
        elif isinstance(obj, msgspec.Struct) or not isinstance(obj, Mapping):
            obj = getattr(obj, name, None)
        else:
            obj = obj.get(name)
    return obj


def _s(value: Any) -> str:
    """A string field as Go sees it: unset is ""."""
    return "" if value is None else value


def _i(value: Any) -> int:
    """An integer field as Go sees it: unset is 0."""
    return 0 if value is None or isinstance(value, bool) else int(value)


def _plain(value: Any) -> Any:
    """Builtins with unset, empty lists and empty maps dropped: the basis of Kubernetes'
    semantic equality, where nil and empty collections are equal."""
    if isinstance(value, msgspec.Struct):
        value = msgspec.to_builtins(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            pv = _plain(v)
            if pv is None or pv == [] or pv == {}:
                continue
            out[k] = pv
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _semantic_equal(a: Any, b: Any) -> bool:
    pa, pb = _plain(a), _plain(b)
    return (pa if pa not in ({}, []) else None) == (pb if pb not in ({}, []) else None)


def validate_immutable(new: Any, old: Any, path: str) -> list[FieldError]:
    """``<path>: Invalid value: <new>: field is immutable`` when new and old differ semantically."""
    if _semantic_equal(new, old):
        return []
    return [invalid(path, _render_plain(new), FIELD_IMMUTABLE)]


def _render_plain(value: Any) -> Any:
    # A bad value shown as Go would show it: nil is null, strings and numbers bare.
    if value is None:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return _to_builtins(value)


# ---------------------------------------------------------------------------------------------
# ObjectMeta (k8s.io/apimachinery/pkg/api/validation/objectmeta.go)
# ---------------------------------------------------------------------------------------------

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
_STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}
_BANNED_OWNERS = {("", "v1", "Event")}


def validate_labels(labels: Mapping[str, str] | None, path: str) -> list[FieldError]:
    """Label keys and values; every error is reported at `path` itself (not keyed), as in
    Kubernetes."""
    errs: list[FieldError] = []
    # Go walks the map in random order; sorted keys make the order of errors deterministic.
    for key in sorted(labels or {}):
        value = labels[key]  # type: ignore[index]
        errs.extend(invalid(path, key, m) for m in is_qualified_name(key))
        errs.extend(invalid(path, value, m) for m in is_label_value(value))
    return errs


def validate_annotations(annotations: Mapping[str, str] | None, path: str) -> list[FieldError]:
    """Annotation keys (qualified names, case-insensitive) and their total size (256 KiB)."""
    errs: list[FieldError] = []
    total = 0
    for key in sorted(annotations or {}):
        errs.extend(invalid(path, key, m) for m in is_qualified_name(key.lower()))
        total += _blen(key) + _blen(annotations[key])  # type: ignore[index]
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def _parse_group_version(api_version: str) -> tuple[str, str] | None:
    if api_version == "v1":
        return "", "v1"
    parts = api_version.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    return None


def validate_owner_references(refs: Sequence[Any] | None, path: str) -> list[FieldError]:
    """Each owner reference needs apiVersion, kind, name and uid; at most one controller."""
    errs: list[FieldError] = []
    first_controller = ""
    for i, ref in enumerate(refs or ()):
        ref_path = _index(path, i)
        api_version = _s(_get(ref, "apiVersion"))
        kind = _s(_get(ref, "kind"))
        gv = _parse_group_version(api_version)
        if not api_version:
            errs.append(required(_child(ref_path, "apiVersion"), "must not be empty"))
        elif gv is None or not gv[1]:
            errs.append(invalid(_child(ref_path, "apiVersion"), api_version, "must be <group>/<version> or <version>"))
        if not kind:
            errs.append(required(_child(ref_path, "kind"), "must not be empty"))
        if not _get(ref, "name"):
            errs.append(required(_child(ref_path, "name"), "must not be empty"))
        if not _get(ref, "uid"):
            errs.append(required(_child(ref_path, "uid"), "must not be empty"))
        if gv is not None and (gv[0], gv[1], kind) in _BANNED_OWNERS:
            errs.append(invalid(ref_path, _to_builtins(ref), f"/{gv[1]}, Kind={kind} is disallowed from being an owner"))
        if _get(ref, "controller"):
            current = f"{kind}/{_s(_get(ref, 'name'))}"
            if first_controller:
                errs.append(
                    invalid(
                        path,
                        _to_builtins(list(refs or ())),
                        "Only one reference can have Controller set to true. "
                        f'Found "true" in references for {first_controller} and {current}',
                    )
                )
            else:
                first_controller = current
    return errs


def validate_finalizers(finalizers: Sequence[str] | None, path: str, *, kube_names: bool = True) -> list[FieldError]:
    """Finalizer names: qualified names; with `kube_names` (the core, apps and batch kinds) an
    unprefixed one must be a standard finalizer; orphan and foregroundDeletion exclude each other."""
    errs: list[FieldError] = []
    names = list(finalizers or ())
    for name in names:
        errs.extend(invalid(path, name, m) for m in is_qualified_name(name))
    if "orphan" in names and "foregroundDeletion" in names:
        errs.append(invalid(path, names, "finalizer orphan and foregroundDeletion cannot be both set"))
    if kube_names:
        for i, name in enumerate(names):
            if "/" not in name and name not in _STANDARD_FINALIZERS:
                errs.append(invalid(_index(path, i), name, "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


def _validate_managed_fields(entries: Sequence[Any] | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, entry in enumerate(entries or ()):
        entry_path = _index(path, i)
        operation = _s(_get(entry, "operation"))
        if operation not in ("Apply", "Update"):
            errs.append(invalid(_child(entry_path, "operation"), operation, "must be `Apply` or `Update`"))
        fields_type = _s(_get(entry, "fieldsType"))
        if fields_type != "FieldsV1":
            errs.append(invalid(_child(entry_path, "fieldsType"), fields_type, "must be `FieldsV1`"))
    return errs


def _validate_meta_common(meta: Any, namespaced: bool, path: str, kube_finalizers: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    namespace = _s(_get(meta, "namespace"))
    if namespaced:
        if not namespace:
            errs.append(required(_child(path, "namespace")))
        else:
            errs.extend(invalid(_child(path, "namespace"), namespace, m) for m in name_is_dns_label(namespace))
    elif namespace:
        errs.append(forbidden(_child(path, "namespace"), "not allowed on this type"))
    errs.extend(_nonnegative(_get(meta, "generation"), _child(path, "generation")))
    errs.extend(validate_labels(_get(meta, "labels"), _child(path, "labels")))
    errs.extend(validate_annotations(_get(meta, "annotations"), _child(path, "annotations")))
    errs.extend(validate_owner_references(_get(meta, "ownerReferences"), _child(path, "ownerReferences")))
    errs.extend(validate_finalizers(_get(meta, "finalizers"), _child(path, "finalizers"), kube_names=False))
    errs.extend(_validate_managed_fields(_get(meta, "managedFields"), _child(path, "managedFields")))
    if kube_finalizers:
        errs.extend(_kube_finalizer_names(_get(meta, "finalizers"), _child(path, "finalizers")))
    return errs


def _kube_finalizer_names(finalizers: Sequence[str] | None, path: str) -> list[FieldError]:
    return [
        invalid(_index(path, i), name, "name is neither a standard finalizer name nor is it fully qualified")
        for i, name in enumerate(finalizers or ())
        if "/" not in name and name not in _STANDARD_FINALIZERS
    ]


def validate_object_meta(
    meta: Any,
    namespaced: bool,
    name_fn: NameFunc = name_is_dns_subdomain,
    path: str = "metadata",
    *,
    kube_finalizers: bool = True,
) -> list[FieldError]:
    """Metadata on create: generateName and name by `name_fn` (name required unless
    generateName is set, though by validation time the registry has generated it), namespace
    required for namespaced kinds and forbidden otherwise, generation, labels, annotations,
    ownerReferences, finalizers. `kube_finalizers` adds the core rule on unprefixed finalizers."""
    errs: list[FieldError] = []
    generate_name = _s(_get(meta, "generateName"))
    if generate_name:
        errs.extend(invalid(_child(path, "generateName"), generate_name, m) for m in name_fn(generate_name, True))
    name = _s(_get(meta, "name"))
    if not name:
        errs.append(required(_child(path, "name"), "name or generateName is required"))
    else:
        errs.extend(invalid(_child(path, "name"), name, m) for m in name_fn(name, False))
    errs.extend(_validate_meta_common(meta, namespaced, path, kube_finalizers))
    return errs


def validate_object_meta_update(new: Any, old: Any, path: str = "metadata", *, kube_finalizers: bool = True) -> list[FieldError]:
    """Metadata on update: no new finalizers while deleting, resourceVersion present, generation
    not decremented, name/namespace/uid/creationTimestamp/deletion fields immutable, and labels,
    annotations, ownerReferences valid."""
    errs: list[FieldError] = []
    if _get(old, "deletionTimestamp") is not None:
        extra = sorted(set(_get(new, "finalizers") or ()) - set(_get(old, "finalizers") or ()))
        if extra:
            shown = "[]string{" + ", ".join(go_quote(f) for f in extra) + "}"
            errs.append(
                forbidden(
                    _child(path, "finalizers"),
                    f"no new finalizers can be added if the object is being deleted, found new finalizers {shown}",
                )
            )
    if not _get(new, "resourceVersion"):
        errs.append(invalid(_child(path, "resourceVersion"), _s(_get(new, "resourceVersion")), "must be specified for an update"))
    new_generation = _i(_get(new, "generation"))
    errs.extend(_nonnegative(new_generation, _child(path, "generation")))
    if new_generation < _i(_get(old, "generation")):
        errs.append(invalid(_child(path, "generation"), new_generation, "must not be decremented"))
    for name in ("name", "namespace", "uid"):
        errs.extend(validate_immutable(_s(_get(new, name)), _s(_get(old, name)), _child(path, name)))
    for name in ("creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        errs.extend(validate_immutable(_get(new, name), _get(old, name), _child(path, name)))
    errs.extend(validate_labels(_get(new, "labels"), _child(path, "labels")))
    errs.extend(validate_annotations(_get(new, "annotations"), _child(path, "annotations")))
    errs.extend(validate_owner_references(_get(new, "ownerReferences"), _child(path, "ownerReferences")))
    errs.extend(_validate_managed_fields(_get(new, "managedFields"), _child(path, "managedFields")))
    if kube_finalizers:
        errs.extend(_kube_finalizer_names(_get(new, "finalizers"), _child(path, "finalizers")))
    return errs


def _meta(obj: Any, old: Any, namespaced: bool, name_fn: NameFunc, *, kube_finalizers: bool = True) -> list[FieldError]:
    if old is None:
        return validate_object_meta(_get(obj, "metadata"), namespaced, name_fn, kube_finalizers=kube_finalizers)
    return validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata"), kube_finalizers=kube_finalizers)


# ---------------------------------------------------------------------------------------------
# Resources (quantities, resource names, requirements)
# ---------------------------------------------------------------------------------------------

_STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_STANDARD_RESOURCES = {
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services",
    "replicationcontrollers", "secrets", "configmaps", "persistentvolumeclaims", "storage",
    "requests.storage", "services.nodeports", "services.loadbalancers",
}
_INTEGER_RESOURCES = {
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
}


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended_resource(name: str) -> bool:
    if _is_native_resource(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _is_overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not _is_hugepages(name)


def _is_integer_resource(name: str) -> bool:
    return name in _INTEGER_RESOURCES or _is_extended_resource(name)


def _validate_resource_name(name: str, path: str) -> list[FieldError]:
    errs = [invalid(path, name, m) for m in is_qualified_name(name)]
    if errs:
        return errs
    if "/" not in name and not (name in _STANDARD_RESOURCES or _is_hugepages(name) or name.startswith("requests.hugepages-")):
        return [invalid(path, name, "must be a standard resource type or fully qualified")]
    return []


def _validate_container_resource_name(name: str, path: str) -> list[FieldError]:
    errs = _validate_resource_name(name, path)
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not _is_hugepages(name):
            errs.append(invalid(path, name, "must be a standard resource for containers"))
    elif not _is_native_resource(name) and not _is_extended_resource(name):
        errs.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def _validate_resource_quantity_value(name: str, q: Quantity, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if q.value < 0:
        errs.append(invalid(path, str(q), "must be greater than or equal to 0"))
    if _is_integer_resource(name) and q.milli_value() % 1000 != 0:
        errs.append(invalid(path, str(q), "must be an integer"))
    return errs


def _parse_resource_list(resources: Mapping[str, Any] | None, path: str) -> tuple[dict[str, Quantity], list[FieldError]]:
    parsed: dict[str, Quantity] = {}
    errs: list[FieldError] = []
    for name in sorted(resources or {}):
        q, q_errs = validate_quantity(resources[name], _key(path, name))  # type: ignore[index]
        errs.extend(q_errs)
        if q is not None:
            parsed[name] = q
    return parsed, errs


def validate_resource_requirements(requirements: Any, path: str, pod_claim_names: set[str] | None = None) -> list[FieldError]:
    """Container resources: valid names and quantities, requests <= limits (equal for
    resources that cannot be overcommitted), hugepages only with cpu or memory."""
    errs: list[FieldError] = []
    lim_path = _child(path, "limits")
    req_path = _child(path, "requests")
    limits, q_errs = _parse_resource_list(_get(requirements, "limits"), lim_path)
    errs.extend(q_errs)
    requests, q_errs = _parse_resource_list(_get(requirements, "requests"), req_path)
    errs.extend(q_errs)
    lim_compute = req_compute = lim_huge = req_huge = False
    for name, q in limits.items():
        name_path = _key(lim_path, name)
        errs.extend(_validate_container_resource_name(name, name_path))
        errs.extend(_validate_resource_quantity_value(name, q, name_path))
        lim_huge = lim_huge or _is_hugepages(name)
        lim_compute = lim_compute or name in ("cpu", "memory")
    for name, q in requests.items():
        name_path = _key(req_path, name)
        errs.extend(_validate_container_resource_name(name, name_path))
        errs.extend(_validate_resource_quantity_value(name, q, name_path))
        limit = limits.get(name)
        if limit is not None:
            if q != limit and not _is_overcommit_allowed(name):
                errs.append(invalid(req_path, str(q), f"must be equal to {name} limit of {limit}"))
            elif q > limit:
                errs.append(invalid(req_path, str(q), f"must be less than or equal to {name} limit of {limit}"))
        elif not _is_overcommit_allowed(name):
            errs.append(required(lim_path, "Limit must be set for non overcommitable resources"))
        req_huge = req_huge or _is_hugepages(name)
        req_compute = req_compute or name in ("cpu", "memory")
    if not lim_compute and not req_compute and (req_huge or lim_huge):
        errs.append(forbidden(path, "HugePages require cpu or memory"))
    claim_keys: set[str] = set()
    for i, claim in enumerate(_get(requirements, "claims") or ()):
        claim_path = _index(_child(path, "claims"), i)
        name = _s(_get(claim, "name"))
        request = _s(_get(claim, "request"))
        if not name:
            errs.append(required(claim_path))
            continue
        if name in claim_keys:
            errs.append(duplicate(claim_path, name))
        else:
            key = name
            if request:
                errs.extend(_validate_dns1123_label(request, _child(claim_path, "request")))
                key = f"{name}/{request}"
            if key in claim_keys:
                errs.append(duplicate(claim_path, key))
            elif not request:
                errs.extend(duplicate(claim_path, name) for k in sorted(claim_keys) if k.split("/", 1)[0] == name and "/" in k)
            claim_keys.add(key)
        if pod_claim_names is not None and name not in pod_claim_names:
            detail = "must be one of the names in pod.spec.resourceClaims"
            detail += ": " + ", ".join(sorted(pod_claim_names)) if pod_claim_names else " which is empty"
            errs.append(FieldError(ErrorType.NOT_FOUND, claim_path, name, detail))
    return errs


# ---------------------------------------------------------------------------------------------
# Volumes
# ---------------------------------------------------------------------------------------------

_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_HOST_PATH_TYPES = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"]

# Volume source fields in the order Kubernetes checks them, with the path it reports when a
# second source is present (Kubernetes' spelling, typos included).
_VOLUME_SOURCES: list[tuple[str, str]] = [
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
]


def _is_abs(path: str) -> bool:
    return path.startswith("/")


def _path_no_backsteps(target: str, path: str) -> list[FieldError]:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def _local_descending_path(target: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if _is_abs(target):
        errs.append(invalid(path, target, "must be a relative path"))
    errs.extend(_path_no_backsteps(target, path))
    return errs


def _local_non_reserved_path(target: str, path: str) -> list[FieldError]:
    errs = _local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errs.append(invalid(path, target, "must not start with '..'"))
    return errs


def _file_mode(mode: int | None, path: str) -> list[FieldError]:
    if mode is not None and (mode > 0o777 or mode < 0):
        return [invalid(path, mode, _FILE_MODE_ERROR)]
    return []


def _key_to_path(item: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not _get(item, "key"):
        errs.append(required(_child(path, "key")))
    target = _s(_get(item, "path"))
    if not target:
        errs.append(required(_child(path, "path")))
    errs.extend(_local_non_reserved_path(target, _child(path, "path")))
    errs.extend(_file_mode(_get(item, "mode"), _child(path, "mode")))
    return errs


_ENV_FIELD_PATHS = [
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
    "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
]
_VOLUME_FIELD_PATHS = ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"]
_RESOURCE_FIELD_PATHS = [
    "limits.cpu", "limits.ephemeral-storage", "limits.memory",
    "requests.cpu", "requests.ephemeral-storage", "requests.memory",
]
_SUBSCRIPTED_PATH = re.compile(r"(metadata\.(?:annotations|labels))\['(.*)'\]")


def _object_field_selector(selector: Any, expressions: list[str], path: str) -> list[FieldError]:
    if not _get(selector, "apiVersion"):
        return [required(_child(path, "apiVersion"))]
    field_path = _s(_get(selector, "fieldPath"))
    if not field_path:
        return [required(_child(path, "fieldPath"))]
    match = _SUBSCRIPTED_PATH.fullmatch(field_path)
    if match:
        where, subscript = match.groups()
        key = subscript.lower() if where == "metadata.annotations" else subscript
        return _validate_qualified_name(key, path)
    if field_path not in expressions:
        return [not_supported(_child(path, "fieldPath"), field_path, sorted(expressions))]
    return []


def _resource_field_selector(selector: Any, path: str, volume: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    resource = _s(_get(selector, "resource"))
    if volume and not _get(selector, "containerName"):
        errs.append(required(_child(path, "containerName")))
    elif not resource:
        errs.append(required(_child(path, "resource")))
    elif resource not in _RESOURCE_FIELD_PATHS and not resource.startswith(("requests.hugepages-", "limits.hugepages-")):
        errs.append(not_supported(_child(path, "resource"), resource, _RESOURCE_FIELD_PATHS))
    divisor = _get(selector, "divisor")
    if divisor is not None:
        q, q_errs = validate_quantity(divisor, _child(path, "divisor"))
        errs.extend(q_errs)
        if q is not None and q and resource in ("limits.cpu", "requests.cpu") and str(q) not in ("1m", "1"):
            errs.append(invalid(_child(path, "divisor"), resource, "only divisor's values 1m and 1 are supported with the cpu resource"))
    return errs


def _downward_api_file(item: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    target = _s(_get(item, "path"))
    if not target:
        errs.append(required(_child(path, "path")))
    errs.extend(_local_non_reserved_path(target, _child(path, "path")))
    field_ref = _get(item, "fieldRef")
    resource_ref = _get(item, "resourceFieldRef")
    if field_ref is not None:
        errs.extend(_object_field_selector(field_ref, _VOLUME_FIELD_PATHS, _child(path, "fieldRef")))
        if resource_ref is not None:
            errs.append(invalid(path, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
    elif resource_ref is not None:
        errs.extend(_resource_field_selector(resource_ref, _child(path, "resourceFieldRef"), True))
    else:
        errs.append(required(path, "one of fieldRef and resourceFieldRef is required"))
    errs.extend(_file_mode(_get(item, "mode"), _child(path, "mode")))
    return errs


def _projected_sources(projected: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen_paths: set[str] = set()

    def claim_path(target: str, shown: Any) -> None:
        if target in seen_paths:
            errs.append(invalid(path, shown, "conflicting duplicate paths"))
        seen_paths.add(target)

    for i, source in enumerate(_get(projected, "sources") or ()):
        src_path = _index(_child(path, "sources"), i)
        count = 0
        for kind in ("secret", "configMap"):
            sub = _get(source, kind)
            if sub is None:
                continue
            count += 1
            sub_path = _child(src_path, kind)
            if not _get(sub, "name"):
                errs.append(required(_child(sub_path, "name")))
            for j, item in enumerate(_get(sub, "items") or ()):
                errs.extend(_key_to_path(item, _index(_child(sub_path, "items"), j)))
                if _get(item, "path"):
                    claim_path(_get(item, "path"), _s(_get(sub, "name")))
        downward = _get(source, "downwardAPI")
        if downward is not None:
            count += 1
            for item in _get(downward, "items") or ():
                errs.extend(_downward_api_file(item, _child(src_path, "downwardAPI")))
                if _get(item, "path"):
                    claim_path(_get(item, "path"), _get(item, "path"))
        token = _get(source, "serviceAccountToken")
        if token is not None:
            count += 1
            seconds = _i(_get(token, "expirationSeconds"))
            token_path = _child(src_path, "serviceAccountToken")
            if seconds < 600:
                errs.append(invalid(_child(token_path, "expirationSeconds"), seconds, "may not specify a duration less than 10 minutes"))
            if seconds > 1 << 32:
                errs.append(invalid(_child(token_path, "expirationSeconds"), seconds, "may not specify a duration larger than 2^32 seconds"))
            if not _get(token, "path"):
                errs.append(required(_child(path, "path")))
            else:
                errs.extend(_local_non_reserved_path(_get(token, "path"), _child(path, "path")))
        for other in ("clusterTrustBundle", "podCertificate"):
            if _get(source, other) is not None:
                count += 1
        if count > 1:
            errs.append(forbidden(src_path, "may not specify more than 1 volume type per source"))
    return errs


def _volume_source(volume: Any, path: str, vol_name: str, pod_name: str) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for field_name, second_path in _VOLUME_SOURCES:
        source = _get(volume, field_name)
        if source is None:
            continue
        if count > 0:
            errs.append(forbidden(_child(path, second_path), "may not specify more than 1 volume type"))
            continue
        count += 1
        src_path = _child(path, field_name)
        if field_name == "emptyDir":
            limit = _get(source, "sizeLimit")
            if limit is not None:
                q, q_errs = validate_quantity(limit, _child(src_path, "sizeLimit"))
                errs.extend(q_errs)
                if q is not None and q.value < 0:
                    errs.append(forbidden(_child(src_path, "sizeLimit"), "SizeLimit field must be a valid resource quantity"))
        elif field_name == "hostPath":
            host_path = _s(_get(source, "path"))
            if not host_path:
                errs.append(required(_child(src_path, "path")))
            else:
                errs.extend(_path_no_backsteps(host_path, _child(src_path, "path")))
                host_type = _get(source, "type")
                if host_type is not None and host_type not in _HOST_PATH_TYPES:
                    errs.append(not_supported(_child(src_path, "type"), host_type, _HOST_PATH_TYPES))
        elif field_name == "secret":
            if not _get(source, "secretName"):
                errs.append(required(_child(src_path, "secretName")))
            errs.extend(_file_mode(_get(source, "defaultMode"), _child(src_path, "defaultMode")))
            for i, item in enumerate(_get(source, "items") or ()):
                errs.extend(_key_to_path(item, _index(_child(src_path, "items"), i)))
        elif field_name == "configMap":
            if not _get(source, "name"):
                errs.append(required(_child(src_path, "name")))
            errs.extend(_file_mode(_get(source, "defaultMode"), _child(src_path, "defaultMode")))
            for i, item in enumerate(_get(source, "items") or ()):
                errs.extend(_key_to_path(item, _index(_child(src_path, "items"), i)))
        elif field_name == "persistentVolumeClaim":
            if not _get(source, "claimName"):
                errs.append(required(_child(src_path, "claimName")))
        elif field_name == "nfs":
            nfs_path = _s(_get(source, "path"))
            if not _get(source, "server"):
                errs.append(required(_child(src_path, "server")))
            if not nfs_path:
                errs.append(required(_child(src_path, "path")))
            if not _is_abs(nfs_path):
                errs.append(invalid(_child(src_path, "path"), nfs_path, "must be an absolute path"))
        elif field_name == "downwardAPI":
            errs.extend(_file_mode(_get(source, "defaultMode"), _child(src_path, "defaultMode")))
            for item in _get(source, "items") or ():
                errs.extend(_downward_api_file(item, src_path))
        elif field_name == "projected":
            errs.extend(_file_mode(_get(source, "defaultMode"), _child(src_path, "defaultMode")))
            errs.extend(_projected_sources(source, src_path))
        elif field_name == "gitRepo":
            if not _get(source, "repository"):
                errs.append(required(_child(src_path, "repository")))
            errs.extend(_local_descending_path(_s(_get(source, "directory")), _child(src_path, "directory")))
        elif field_name == "ephemeral":
            if _get(source, "volumeClaimTemplate") is None:
                errs.append(required(_child(src_path, "volumeClaimTemplate")))
            if pod_name and vol_name:
                pvc_name = f"{pod_name}-{vol_name}"
                errs.extend(
                    invalid(_child(path, "name"), vol_name, f"PVC name {go_quote(pvc_name)}: {m}")
                    for m in name_is_dns_subdomain(pvc_name)
                )
        elif field_name == "csi":
            if not _get(source, "driver"):
                errs.append(required(_child(src_path, "driver")))
        elif field_name == "image":
            if not _get(source, "reference"):
                errs.append(required(_child(src_path, "reference")))
    if count == 0:
        errs.append(required(path, "must specify a volume type"))
    return errs


def _validate_volumes(volumes: Sequence[Any] | None, path: str, pod_name: str) -> tuple[dict[str, Any], list[FieldError]]:
    errs: list[FieldError] = []
    names: dict[str, Any] = {}
    created_pvcs = {f"{pod_name}-{_s(_get(v, 'name'))}" for v in volumes or () if _get(v, "ephemeral") is not None} if pod_name else set()
    for i, volume in enumerate(volumes or ()):
        vol_path = _index(path, i)
        name_path = _child(vol_path, "name")
        name = _s(_get(volume, "name"))
        errors = _volume_source(volume, vol_path, name, pod_name)
        if not name:
            errors.append(required(name_path))
        else:
            errors.extend(_validate_dns1123_label(name, name_path))
        if name in names:
            errors.append(duplicate(name_path, name))
        if errors:
            errs.extend(errors)
        else:
            names[name] = volume
        claim = _get(volume, "persistentVolumeClaim", "claimName")
        if claim and claim in created_pvcs:
            errs.append(
                invalid(
                    _child(vol_path, "persistentVolumeClaim", "claimName"),
                    claim,
                    "must not reference a PVC that gets created for an ephemeral volume",
                )
            )
    return names, errs


def _is_pvc_volume(volume: Any) -> bool:
    return _get(volume, "persistentVolumeClaim") is not None or _get(volume, "ephemeral") is not None


def _validate_volume_mounts(container: Any, volumes: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    devices = {_s(_get(d, "name")): _s(_get(d, "devicePath")) for d in _get(container, "volumeDevices") or ()}
    mount_points: set[str] = set()
    for i, mount in enumerate(_get(container, "volumeMounts") or ()):
        mount_path = _index(path, i)
        name = _s(_get(mount, "name"))
        target = _s(_get(mount, "mountPath"))
        if not name:
            errs.append(required(_child(mount_path, "name")))
        if name not in volumes:
            errs.append(not_found(_child(mount_path, "name"), name))
        if not target:
            errs.append(required(_child(mount_path, "mountPath")))
        if target in mount_points:
            errs.append(invalid(_child(mount_path, "mountPath"), target, "must be unique"))
        mount_points.add(target)
        if name in devices:
            errs.append(invalid(_child(mount_path, "name"), name, "must not already exist in volumeDevices"))
        if target in devices.values():
            errs.append(invalid(_child(mount_path, "mountPath"), target, "must not already exist as a path in volumeDevices"))
        volume = volumes.get(name)
        sub_path = _s(_get(mount, "subPath"))
        sub_path_expr = _s(_get(mount, "subPathExpr"))
        if volume is not None and _get(volume, "image") is not None:
            if sub_path:
                errs.append(invalid(_child(mount_path, "subPath"), sub_path, "not allowed in image volume sources"))
            if sub_path_expr:
                errs.append(invalid(_child(mount_path, "subPathExpr"), sub_path_expr, "not allowed in image volume sources"))
        # Kubernetes reports these two under the list's path, not the element's.
        if sub_path:
            errs.extend(_local_descending_path(sub_path, _child(path, "subPath")))
        if sub_path_expr:
            if sub_path:
                errs.append(invalid(_child(mount_path, "subPathExpr"), sub_path_expr, "subPathExpr and subPath are mutually exclusive"))
            errs.extend(_local_descending_path(sub_path_expr, _child(path, "subPathExpr")))
        propagation = _get(mount, "mountPropagation")
        if propagation is not None:
            supported = ["Bidirectional", "HostToContainer", "None"]
            if propagation not in supported:
                errs.append(not_supported(_child(path, "mountPropagation"), propagation, supported))
            elif propagation == "Bidirectional" and not _get(container, "securityContext", "privileged"):
                errs.append(forbidden(_child(path, "mountPropagation"), "Bidirectional mount propagation is available only to privileged containers"))
    mounts = {_s(_get(m, "name")): _s(_get(m, "mountPath")) for m in _get(container, "volumeMounts") or ()}
    device_paths: set[str] = set()
    device_names: set[str] = set()
    dev_list_path = _child(path.rsplit(".", 1)[0], "volumeDevices")
    for i, device in enumerate(_get(container, "volumeDevices") or ()):
        dev_path = _index(dev_list_path, i)
        name = _s(_get(device, "name"))
        target = _s(_get(device, "devicePath"))
        volume = volumes.get(name)
        if not name:
            errs.append(required(_child(dev_path, "name")))
        if name in device_names:
            errs.append(invalid(_child(dev_path, "name"), name, "must be unique"))
        if volume is not None and not _is_pvc_volume(volume):
            errs.append(invalid(_child(dev_path, "name"), name, "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"))
        if volume is None:
            errs.append(not_found(_child(dev_path, "name"), name))
        if not target:
            errs.append(required(_child(dev_path, "devicePath")))
        if target in device_paths:
            errs.append(invalid(_child(dev_path, "devicePath"), target, "must be unique"))
        if target and _path_no_backsteps(target, ""):
            errs.append(invalid(_child(dev_path, "devicePath"), target, "can not contain backsteps ('..')"))
        else:
            device_paths.add(target)
        if name in mounts:
            errs.append(invalid(_child(dev_path, "name"), name, "must not already exist in volumeMounts"))
        if target in mounts.values():
            errs.append(invalid(_child(dev_path, "devicePath"), target, "must not already exist as a path in volumeMounts"))
        if name:
            device_names.add(name)
    return errs


# ---------------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------------

_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]


def _validate_container_ports(ports: Sequence[Any] | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports or ()):
        port_path = _index(path, i)
        name = _s(_get(port, "name"))
        if name:
            msgs = is_valid_port_name(name)
            if msgs:
                errs.extend(invalid(_child(port_path, "name"), name, m) for m in msgs)
            elif name in names:
                errs.append(duplicate(_child(port_path, "name"), name))
            else:
                names.add(name)
        container_port = _i(_get(port, "containerPort"))
        if container_port == 0:
            errs.append(required(_child(port_path, "containerPort")))
        else:
            errs.extend(invalid(_child(port_path, "containerPort"), container_port, m) for m in is_valid_port_num(container_port))
        host_port = _i(_get(port, "hostPort"))
        if host_port != 0:
            errs.extend(invalid(_child(port_path, "hostPort"), host_port, m) for m in is_valid_port_num(host_port))
        protocol = _s(_get(port, "protocol"))
        if not protocol:
            errs.append(required(_child(port_path, "protocol")))
        elif protocol not in _PROTOCOLS:
            errs.append(not_supported(_child(port_path, "protocol"), protocol, _PROTOCOLS))
    return errs


def _validate_env(env: Sequence[Any] | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(env or ()):
        var_path = _index(path, i)
        name = _s(_get(var, "name"))
        if not name:
            errs.append(required(_child(var_path, "name")))
        else:
            errs.extend(invalid(_child(var_path, "name"), name, m) for m in is_env_var_name(name))
        errs.extend(_validate_env_value_from(var, _child(var_path, "valueFrom")))
    return errs


def _validate_env_value_from(var: Any, path: str) -> list[FieldError]:
    source = _get(var, "valueFrom")
    if source is None:
        return []
    errs: list[FieldError] = []
    count = 0
    if _get(source, "fieldRef") is not None:
        count += 1
        errs.extend(_object_field_selector(_get(source, "fieldRef"), _ENV_FIELD_PATHS, _child(path, "fieldRef")))
    if _get(source, "resourceFieldRef") is not None:
        count += 1
        errs.extend(_resource_field_selector(_get(source, "resourceFieldRef"), _child(path, "resourceFieldRef"), False))
    for kind in ("configMapKeyRef", "secretKeyRef"):
        ref = _get(source, kind)
        if ref is None:
            continue
        count += 1
        ref_path = _child(path, kind)
        name = _s(_get(ref, "name"))
        errs.extend(invalid(_child(ref_path, "name"), name, m) for m in name_is_dns_subdomain(name))
        key = _s(_get(ref, "key"))
        if not key:
            errs.append(required(_child(ref_path, "key")))
        else:
            errs.extend(invalid(_child(ref_path, "key"), key, m) for m in is_config_map_key(key))
    for kind in ("fileKeyRef",):
        if _get(source, kind) is not None:
            count += 1
    if count == 0:
        errs.append(invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
    elif _get(var, "value"):
        errs.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif count > 1:
        errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


def _validate_env_from(sources: Sequence[Any] | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, source in enumerate(sources or ()):
        src_path = _index(path, i)
        prefix = _s(_get(source, "prefix"))
        if prefix:
            errs.extend(invalid(_child(src_path, "prefix"), prefix, m) for m in is_env_var_name(prefix))
        count = 0
        for kind in ("configMapRef", "secretRef"):
            ref = _get(source, kind)
            if ref is None:
                continue
            count += 1
            name = _s(_get(ref, "name"))
            ref_path = _child(src_path, kind, "name")
            if not name:
                errs.append(required(ref_path))
            else:
                errs.extend(invalid(ref_path, name, m) for m in name_is_dns_subdomain(name, True))
        if count == 0:
            errs.append(invalid(src_path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(src_path, "", "may not have more than one field specified at a time"))
    return errs


def _validate_port_num_or_name(port: Any, path: str) -> list[FieldError]:
    if isinstance(port, str):
        return [invalid(path, port, m) for m in is_valid_port_name(port)]
    number = _i(port)
    return [invalid(path, number, m) for m in is_valid_port_num(number)]


def _validate_handler(handler: Any, grace: int | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for kind in ("exec", "httpGet", "tcpSocket", "grpc", "sleep"):
        action = _get(handler, kind)
        if action is None:
            continue
        action_path = _child(path, kind)
        if count > 0:
            errs.append(forbidden(action_path, "may not specify more than 1 handler type"))
            continue
        count += 1
        if kind == "exec":
            if not _get(action, "command"):
                errs.append(required(_child(action_path, "command")))
        elif kind == "httpGet":
            if not _get(action, "path"):
                errs.append(required(_child(action_path, "path")))
            errs.extend(_validate_port_num_or_name(_get(action, "port"), _child(action_path, "port")))
            scheme = _s(_get(action, "scheme"))
            if scheme not in ("HTTP", "HTTPS"):
                errs.append(not_supported(_child(action_path, "scheme"), scheme, ["HTTP", "HTTPS"]))
            for header in _get(action, "httpHeaders") or ():
                header_name = _s(_get(header, "name"))
                errs.extend(invalid(_child(action_path, "httpHeaders"), header_name, m) for m in is_http_header_name(header_name))
        elif kind == "tcpSocket":
            errs.extend(_validate_port_num_or_name(_get(action, "port"), _child(action_path, "port")))
        elif kind == "grpc":
            errs.extend(_validate_port_num_or_name(_i(_get(action, "port")), _child(action_path, "port")))
        elif kind == "sleep":
            seconds = _i(_get(action, "seconds"))
            if grace is not None and (seconds < 0 or seconds > grace):
                errs.append(
                    invalid(action_path, seconds, f"must be non-negative and less than terminationGracePeriodSeconds ({grace})")
                )
    if count == 0:
        errs.append(required(path, "must specify a handler type"))
    return errs


def _validate_probe(probe: Any, grace: int | None, path: str, kind: str) -> list[FieldError]:
    if probe is None:
        return []
    errs = _validate_handler(probe, grace, path)
    for name in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        errs.extend(_nonnegative(_i(_get(probe, name)), _child(path, name)))
    probe_grace = _get(probe, "terminationGracePeriodSeconds")
    if probe_grace is not None and probe_grace <= 0:
        errs.append(invalid(_child(path, "terminationGracePeriodSeconds"), probe_grace, "must be greater than 0"))
    if kind in ("liveness", "startup") and _i(_get(probe, "successThreshold")) != 1:
        errs.append(invalid(_child(path, "successThreshold"), _i(_get(probe, "successThreshold")), "must be 1"))
    if kind == "readiness" and probe_grace is not None:
        errs.append(invalid(_child(path, "terminationGracePeriodSeconds"), probe_grace, "must not be set for readinessProbes"))
    return errs


def _validate_lifecycle(lifecycle: Any, grace: int | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for hook in ("postStart", "preStop"):
        handler = _get(lifecycle, hook)
        if handler is not None:
            errs.extend(_validate_handler(handler, grace, _child(path, hook)))
    stop_signal = _get(lifecycle, "stopSignal")
    if stop_signal is not None and not re.fullmatch(r"SIG[A-Z0-9+\-]+", stop_signal):
        errs.append(invalid(_child(path, "stopSignal"), stop_signal, "must be a valid signal name"))
    return errs


def _validate_security_context(context: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if context is None:
        return errs
    for name in ("runAsUser", "runAsGroup"):
        value = _get(context, name)
        if value is not None and not 0 <= value <= 2147483647:
            errs.append(invalid(_child(path, name), value, inclusive_range_error(0, 2147483647)))
    if _get(context, "privileged") and _get(context, "allowPrivilegeEscalation") is False:
        errs.append(invalid(path, _to_builtins(context), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
    return errs


def _validate_container_common(container: Any, volumes: Mapping[str, Any], path: str, pod_claims: set[str]) -> list[FieldError]:
    errs: list[FieldError] = []
    name = _s(_get(container, "name"))
    if not name:
        errs.append(required(_child(path, "name")))
    else:
        errs.extend(_validate_dns1123_label(name, _child(path, "name")))
    if not _get(container, "image"):
        errs.append(required(_child(path, "image")))
    policy = _s(_get(container, "terminationMessagePolicy"))
    if not policy:
        errs.append(required(_child(path, "terminationMessagePolicy")))
    elif policy not in ("File", "FallbackToLogsOnError"):
        errs.append(not_supported(_child(path, "terminationMessagePolicy"), policy, ["File", "FallbackToLogsOnError"]))
    errs.extend(_validate_container_ports(_get(container, "ports"), _child(path, "ports")))
    errs.extend(_validate_env(_get(container, "env"), _child(path, "env")))
    errs.extend(_validate_env_from(_get(container, "envFrom"), _child(path, "envFrom")))
    errs.extend(_validate_volume_mounts(container, volumes, _child(path, "volumeMounts")))
    pull = _s(_get(container, "imagePullPolicy"))
    if not pull:
        errs.append(required(_child(path, "imagePullPolicy")))
    elif pull not in _PULL_POLICIES:
        errs.append(not_supported(_child(path, "imagePullPolicy"), pull, _PULL_POLICIES))
    errs.extend(validate_resource_requirements(_get(container, "resources"), _child(path, "resources"), pod_claims))
    errs.extend(_validate_security_context(_get(container, "securityContext"), _child(path, "securityContext")))
    return errs


def _host_port_conflicts(containers: Sequence[Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for ci, container in enumerate(containers):
        for pi, port in enumerate(_get(container, "ports") or ()):
            host_port = _i(_get(port, "hostPort"))
            if host_port == 0:
                continue
            key = f"{_s(_get(port, 'protocol'))}/{_s(_get(port, 'hostIP'))}/{host_port}"
            if key in seen:
                errs.append(duplicate(_child(_index(_child(_index(path, ci), "ports"), pi), "hostPort"), key))
            seen.add(key)
    return errs


def _validate_containers(containers: Sequence[Any] | None, volumes: Mapping[str, Any], grace: int | None, path: str, pod_claims: set[str]) -> list[FieldError]:
    if not containers:
        return [required(path)]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, container in enumerate(containers):
        c_path = _index(path, i)
        errs.extend(_validate_container_common(container, volumes, c_path, pod_claims))
        name = _s(_get(container, "name"))
        if name in names:
            errs.append(duplicate(_child(c_path, "name"), name))
        else:
            names.add(name)
        lifecycle = _get(container, "lifecycle")
        if lifecycle is not None:
            errs.extend(_validate_lifecycle(lifecycle, grace, _child(c_path, "lifecycle")))
        errs.extend(_validate_probe(_get(container, "livenessProbe"), grace, _child(c_path, "livenessProbe"), "liveness"))
        errs.extend(_validate_probe(_get(container, "readinessProbe"), grace, _child(c_path, "readinessProbe"), "readiness"))
        errs.extend(_validate_probe(_get(container, "startupProbe"), grace, _child(c_path, "startupProbe"), "startup"))
        if _get(container, "restartPolicy") is not None:
            errs.append(forbidden(_child(c_path, "restartPolicy"), "may not be set for non-init containers"))
    errs.extend(_host_port_conflicts(containers, path))
    return errs


def _validate_init_containers(
    containers: Sequence[Any] | None, regular: Sequence[Any] | None, volumes: Mapping[str, Any], grace: int | None, path: str, pod_claims: set[str]
) -> list[FieldError]:
    errs: list[FieldError] = []
    names = {_s(_get(c, "name")) for c in regular or ()}
    for i, container in enumerate(containers or ()):
        c_path = _index(path, i)
        errs.extend(_validate_container_common(container, volumes, c_path, pod_claims))
        restart = _get(container, "restartPolicy")
        if restart is not None and restart != "Always":
            errs.append(not_supported(_child(c_path, "restartPolicy"), restart, ["Always"]))
        name = _s(_get(container, "name"))
        if name in names:
            errs.append(duplicate(_child(c_path, "name"), name))
        elif name:
            names.add(name)
        errs.extend(_host_port_conflicts([container], path))
        if restart == "Always":
            lifecycle = _get(container, "lifecycle")
            if lifecycle is not None:
                errs.extend(_validate_lifecycle(lifecycle, grace, _child(c_path, "lifecycle")))
            errs.extend(_validate_probe(_get(container, "livenessProbe"), grace, _child(c_path, "livenessProbe"), "liveness"))
            errs.extend(_validate_probe(_get(container, "readinessProbe"), grace, _child(c_path, "readinessProbe"), "readiness"))
            errs.extend(_validate_probe(_get(container, "startupProbe"), grace, _child(c_path, "startupProbe"), "startup"))
        else:
            for field_name in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if _get(container, field_name) is not None:
                    errs.append(forbidden(_child(c_path, field_name), "may not be set for init containers without restartPolicy=Always"))
    return errs


# ---------------------------------------------------------------------------------------------
# PodSpec
# ---------------------------------------------------------------------------------------------

_RESTART_POLICIES = ["Always", "OnFailure", "Never"]
_DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
_MAX_INT32 = 2147483647


def _validate_tolerations(tolerations: Sequence[Any] | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, toleration in enumerate(tolerations or ()):
        t_path = _index(path, i)
        key = _s(_get(toleration, "key"))
        operator = _s(_get(toleration, "operator"))
        effect = _s(_get(toleration, "effect"))
        value = _s(_get(toleration, "value"))
        if key:
            errs.extend(_validate_qualified_name(key, _child(t_path, "key")))
        if not key and operator != "Exists":
            errs.append(
                invalid(_child(t_path, "operator"), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"')
            )
        if _get(toleration, "tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(invalid(_child(t_path, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator in ("Equal", ""):
            msgs = is_label_value(value)
            if msgs:
                errs.append(invalid(_child(t_path, "operator"), value, ";".join(msgs)))
        elif operator == "Exists":
            if value:
                errs.append(invalid(_child(t_path, "operator"), value, "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(not_supported(_child(t_path, "operator"), operator, ["Equal", "Exists"]))
        if effect and effect not in _TAINT_EFFECTS:
            errs.append(not_supported(_child(t_path, "effect"), effect, _TAINT_EFFECTS))
    return errs


def _validate_dns_config(config: Any, policy: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if policy == "None":
        if config is None:
            return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not _get(config, "nameservers"):
            return [required(_child(path, "nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")]
    if config is None:
        return errs
    nameservers = list(_get(config, "nameservers") or ())
    if len(nameservers) > 3:
        errs.append(invalid(_child(path, "nameservers"), nameservers, "must not have more than 3 nameservers"))
    for i, server in enumerate(nameservers):
        errs.extend(validate_ip(server, _index(_child(path, "nameservers"), i)))
    searches = list(_get(config, "searches") or ())
    if len(searches) > 32:
        errs.append(invalid(_child(path, "searches"), searches, "must not have more than 32 search paths"))
    if len(" ".join(searches)) > 2048:
        errs.append(invalid(_child(path, "searches"), searches, "must not have more than 2048 characters (including spaces) in the search list"))
    for i, search in enumerate(searches):
        # Kubernetes' relaxed DNS search validation (on by default): underscores allowed, "." kept.
        if search != ".":
            stripped = search[:-1] if search.endswith(".") else search
            errs.extend(invalid(_index(_child(path, "searches"), i), stripped, m) for m in _dns1123_subdomain_underscore(stripped))
    for i, option in enumerate(_get(config, "options") or ()):
        if not _get(option, "name"):
            errs.append(required(_index(_child(path, "options"), i), "must not be empty"))
    return errs


def _validate_affinity(affinity: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if affinity is None:
        return errs
    node = _get(affinity, "nodeAffinity")
    if node is not None:
        req = _get(node, "requiredDuringSchedulingIgnoredDuringExecution")
        node_path = _child(path, "nodeAffinity")
        if req is not None:
            terms = _get(req, "nodeSelectorTerms") or ()
            req_path = _child(node_path, "requiredDuringSchedulingIgnoredDuringExecution")
            if not terms:
                errs.append(required(_child(req_path, "nodeSelectorTerms"), "must have at least one node selector term"))
            for i, term in enumerate(terms):
                errs.extend(_validate_node_selector_term(term, _index(_child(req_path, "nodeSelectorTerms"), i)))
        for i, pref in enumerate(_get(node, "preferredDuringSchedulingIgnoredDuringExecution") or ()):
            pref_path = _index(_child(node_path, "preferredDuringSchedulingIgnoredDuringExecution"), i)
            weight = _i(_get(pref, "weight"))
            if weight <= 0 or weight > 100:
                errs.append(invalid(_child(pref_path, "weight"), weight, "must be in the range 1-100"))
            errs.extend(_validate_node_selector_term(_get(pref, "preference"), _child(pref_path, "preference")))
    for kind in ("podAffinity", "podAntiAffinity"):
        pod = _get(affinity, kind)
        if pod is None:
            continue
        kind_path = _child(path, kind)
        for i, term in enumerate(_get(pod, "requiredDuringSchedulingIgnoredDuringExecution") or ()):
            errs.extend(_validate_pod_affinity_term(term, _index(_child(kind_path, "requiredDuringSchedulingIgnoredDuringExecution"), i)))
        for i, weighted in enumerate(_get(pod, "preferredDuringSchedulingIgnoredDuringExecution") or ()):
            w_path = _index(_child(kind_path, "preferredDuringSchedulingIgnoredDuringExecution"), i)
            weight = _i(_get(weighted, "weight"))
            if weight <= 0 or weight > 100:
                errs.append(invalid(_child(w_path, "weight"), weight, "must be in the range 1-100"))
            errs.extend(_validate_pod_affinity_term(_get(weighted, "podAffinityTerm"), _child(w_path, "podAffinityTerm")))
    return errs


def _validate_node_selector_term(term: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, req in enumerate(_get(term, "matchExpressions") or ()):
        r_path = _index(_child(path, "matchExpressions"), i)
        operator = _s(_get(req, "operator"))
        values = list(_get(req, "values") or ())
        if operator in ("In", "NotIn"):
            if not values:
                errs.append(required(_child(r_path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(forbidden(_child(r_path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        elif operator in ("Gt", "Lt"):
            if len(values) != 1:
                errs.append(required(_child(r_path, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
        else:
            errs.append(invalid(_child(r_path, "operator"), operator, "not a valid selector operator"))
        errs.extend(_validate_qualified_name(_s(_get(req, "key")), _child(r_path, "key")))
    for i, req in enumerate(_get(term, "matchFields") or ()):
        r_path = _index(_child(path, "matchFields"), i)
        if _get(req, "key") != "metadata.name":
            errs.append(invalid(_child(r_path, "key"), _s(_get(req, "key")), "not a valid field selector key"))
        operator = _s(_get(req, "operator"))
        if operator not in ("In", "NotIn"):
            errs.append(invalid(_child(r_path, "operator"), operator, "not a valid selector operator"))
        elif len(_get(req, "values") or ()) != 1:
            errs.append(required(_child(r_path, "values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
    return errs


def _validate_pod_affinity_term(term: Any, path: str) -> list[FieldError]:
    errs = _label_selector_errors(_get(term, "labelSelector"), _child(path, "labelSelector"))
    errs.extend(_label_selector_errors(_get(term, "namespaceSelector"), _child(path, "namespaceSelector")))
    for i, ns in enumerate(_get(term, "namespaces") or ()):
        errs.extend(invalid(_index(_child(path, "namespaces"), i), ns, m) for m in name_is_dns_label(ns))
    key = _s(_get(term, "topologyKey"))
    if not key:
        errs.append(required(_child(path, "topologyKey"), "can not be empty"))
    else:
        errs.extend(_validate_qualified_name(key, _child(path, "topologyKey")))
    return errs


def _validate_topology_spread(constraints: Sequence[Any] | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, constraint in enumerate(constraints or ()):
        c_path = _index(path, i)
        skew = _i(_get(constraint, "maxSkew"))
        if skew <= 0:
            errs.append(invalid(_child(c_path, "maxSkew"), skew, "must be greater than zero"))
        key = _s(_get(constraint, "topologyKey"))
        if not key:
            errs.append(required(_child(c_path, "topologyKey"), "can not be empty"))
        else:
            errs.extend(_validate_qualified_name(key, _child(c_path, "topologyKey")))
        action = _s(_get(constraint, "whenUnsatisfiable"))
        if action not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.append(not_supported(_child(c_path, "whenUnsatisfiable"), action, ["DoNotSchedule", "ScheduleAnyway"]))
        if (key, action) in seen:
            errs.append(duplicate(c_path, f"{{{key}, {action}}}"))
        seen.add((key, action))
    return errs


def _pod_claim_names(spec: Any) -> set[str]:
    return {_s(_get(c, "name")) for c in _get(spec, "resourceClaims") or ()}


# PodSpecs found valid, by their JSON (and what else the answer depends on). Pods written by
# controllers repeat their template's spec, so most pod writes validate a spec seen before;
# the answer is a pure function of the key. Only valid specs are remembered (errors are rare
# and carry the values they report), at most _VALID_POD_SPECS_MAX, the oldest forgotten first.
_VALID_POD_SPECS: dict[tuple[bytes, str, str, bool], None] = {}
_VALID_POD_SPECS_MAX = 512
_encode_json = msgspec.json.encode


def validate_pod_spec(spec: Any, path: str = "spec", *, pod_name: str = "", is_pod: bool = True) -> list[FieldError]:
    """A PodSpec, in a pod (`is_pod`) or a template: containers, init containers, volumes and
    mounts, enums, DNS, affinity, tolerations and the scalar fields."""
    key = None
    if isinstance(spec, msgspec.Struct):
        try:
            # The pod name matters only to volumes (the PVCs of ephemeral volumes are named after it).
            key = (_encode_json(spec), path, pod_name if _get(spec, "volumes") else "", is_pod)
        except (TypeError, ValueError, msgspec.EncodeError):
            key = None
        if key is not None and key in _VALID_POD_SPECS:
            return []
    errs = _validate_pod_spec(spec, path, pod_name, is_pod)
    if key is not None and not errs:
        if len(_VALID_POD_SPECS) >= _VALID_POD_SPECS_MAX:
            del _VALID_POD_SPECS[next(iter(_VALID_POD_SPECS))]
        _VALID_POD_SPECS[key] = None
    return errs


def _validate_pod_spec(spec: Any, path: str, pod_name: str, is_pod: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    grace = _get(spec, "terminationGracePeriodSeconds")
    if grace is None:
        errs.append(required(_child(path, "terminationGracePeriodSeconds")))
    volumes, vol_errs = _validate_volumes(_get(spec, "volumes"), _child(path, "volumes"), pod_name)
    errs.extend(vol_errs)
    claims = _pod_claim_names(spec)
    for i, claim in enumerate(_get(spec, "resourceClaims") or ()):
        claim_path = _index(_child(path, "resourceClaims"), i)
        name = _s(_get(claim, "name"))
        errs.extend(_validate_dns1123_label(name, _child(claim_path, "name")) if name else [required(_child(claim_path, "name"))])
    containers = _get(spec, "containers")
    errs.extend(_validate_containers(containers, volumes, grace, _child(path, "containers"), claims))
    errs.extend(_validate_init_containers(_get(spec, "initContainers"), containers, volumes, grace, _child(path, "initContainers"), claims))
    if _get(spec, "hostNetwork"):
        for ci, container in enumerate(containers or ()):
            for pi, port in enumerate(_get(container, "ports") or ()):
                host_port, container_port = _i(_get(port, "hostPort")), _i(_get(port, "containerPort"))
                if (is_pod or host_port != 0) and host_port != container_port:
                    errs.append(
                        invalid(
                            _child(_index(_child(_index(_child(path, "containers"), ci), "ports"), pi), "hostPort"),
                            host_port,
                            "must match `containerPort` when `hostNetwork` is true",
                        )
                    )
    restart = _s(_get(spec, "restartPolicy"))
    if not restart:
        errs.append(required(_child(path, "restartPolicy")))
    elif restart not in _RESTART_POLICIES:
        errs.append(not_supported(_child(path, "restartPolicy"), restart, _RESTART_POLICIES))
    dns_policy = _s(_get(spec, "dnsPolicy"))
    if not dns_policy:
        errs.append(required(_child(path, "dnsPolicy")))
    elif dns_policy not in _DNS_POLICIES:
        errs.append(not_supported(_child(path, "dnsPolicy"), dns_policy, _DNS_POLICIES))
    errs.extend(validate_labels(_get(spec, "nodeSelector"), _child(path, "nodeSelector")))
    errs.extend(_validate_pod_security_context(_get(spec, "securityContext"), _child(path, "securityContext")))
    for i, secret in enumerate(_get(spec, "imagePullSecrets") or ()):
        if not _get(secret, "name") and _plain(secret):
            errs.append(invalid(_index(_child(path, "imagePullSecrets"), i), _to_builtins(secret), "only name may be set"))
    errs.extend(_validate_affinity(_get(spec, "affinity"), _child(path, "affinity")))
    errs.extend(_validate_dns_config(_get(spec, "dnsConfig"), dns_policy, _child(path, "dnsConfig")))
    for i, gate in enumerate(_get(spec, "readinessGates") or ()):
        errs.extend(_validate_qualified_name(_s(_get(gate, "conditionType")), _child(_index(_child(path, "readinessGates"), i), "conditionType")))
    seen_gates: set[str] = set()
    for i, gate in enumerate(_get(spec, "schedulingGates") or ()):
        gate_name = _s(_get(gate, "name"))
        gate_path = _index(_child(path, "schedulingGates"), i)
        errs.extend(_validate_qualified_name(gate_name, gate_path))
        if gate_name in seen_gates:
            errs.append(duplicate(gate_path, gate_name))
        seen_gates.add(gate_name)
    errs.extend(_validate_topology_spread(_get(spec, "topologySpreadConstraints"), _child(path, "topologySpreadConstraints")))
    for field_name in ("serviceAccountName", "nodeName"):
        value = _s(_get(spec, field_name))
        if value:
            errs.extend(invalid(_child(path, field_name), value, m) for m in name_is_dns_subdomain(value))
    deadline = _get(spec, "activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= _MAX_INT32:
        errs.append(invalid(_child(path, "activeDeadlineSeconds"), deadline, inclusive_range_error(1, _MAX_INT32)))
    for field_name in ("hostname", "subdomain"):
        value = _s(_get(spec, field_name))
        if value:
            errs.extend(_validate_dns1123_label(value, _child(path, field_name)))
    errs.extend(_validate_tolerations(_get(spec, "tolerations"), _child(path, "tolerations")))
    for i, alias in enumerate(_get(spec, "hostAliases") or ()):
        a_path = _index(_child(path, "hostAliases"), i)
        errs.extend(validate_ip(_s(_get(alias, "ip")), _child(a_path, "ip")))
        for j, hostname in enumerate(_get(alias, "hostnames") or ()):
            errs.extend(_validate_dns1123_subdomain(hostname, _index(_child(a_path, "hostnames"), j)))
    priority_class = _s(_get(spec, "priorityClassName"))
    if priority_class:
        errs.extend(invalid(_child(path, "priorityClassName"), priority_class, m) for m in name_is_dns_subdomain(priority_class))
    runtime_class = _get(spec, "runtimeClassName")
    if runtime_class is not None:
        errs.extend(invalid(_child(path, "runtimeClassName"), runtime_class, m) for m in name_is_dns_subdomain(runtime_class))
    preemption = _get(spec, "preemptionPolicy")
    if preemption is not None:
        if not preemption:
            errs.append(required(_child(path, "preemptionPolicy")))
        elif preemption not in ("PreemptLowerPriority", "Never"):
            errs.append(not_supported(_child(path, "preemptionPolicy"), preemption, ["PreemptLowerPriority", "Never"]))
    overhead = _get(spec, "overhead")
    if overhead is not None:
        errs.extend(validate_resource_requirements({"limits": overhead}, _child(path, "overhead")))
    os_name = _get(spec, "os", "name")
    if _get(spec, "os") is not None and os_name not in ("linux", "windows"):
        errs.append(not_supported(_child(path, "os", "name"), _s(os_name), ["linux", "windows"]))
    return errs


def _validate_pod_security_context(context: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if context is None:
        return errs
    for name in ("runAsUser", "runAsGroup", "fsGroup"):
        value = _get(context, name)
        if value is not None and not 0 <= value <= _MAX_INT32:
            errs.append(invalid(_child(path, name), value, inclusive_range_error(0, _MAX_INT32)))
    for i, group in enumerate(_get(context, "supplementalGroups") or ()):
        if not 0 <= group <= _MAX_INT32:
            errs.append(invalid(_index(_child(path, "supplementalGroups"), i), group, inclusive_range_error(0, _MAX_INT32)))
    policy = _get(context, "fsGroupChangePolicy")
    if policy is not None and policy not in ("OnRootMismatch", "Always"):
        errs.append(not_supported(_child(path, "fsGroupChangePolicy"), policy, ["Always", "OnRootMismatch"]))
    return errs


def _label_selector_errors(selector: Any, path: str) -> list[FieldError]:
    """Kubernetes' ValidateLabelSelector (None is valid; callers require it)."""
    errs: list[FieldError] = []
    if selector is None:
        return errs
    errs.extend(validate_labels(_get(selector, "matchLabels"), _child(path, "matchLabels")))
    for i, expr in enumerate(_get(selector, "matchExpressions") or ()):
        e_path = _index(_child(path, "matchExpressions"), i)
        operator = _s(_get(expr, "operator"))
        values = list(_get(expr, "values") or ())
        if operator in ("In", "NotIn"):
            if not values:
                errs.append(required(_child(e_path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(forbidden(_child(e_path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(invalid(_child(e_path, "operator"), operator, "not a valid selector operator"))
        key = _s(_get(expr, "key"))
        errs.extend(invalid(_child(e_path, "key"), key, m) for m in is_qualified_name(key))
        for j, value in enumerate(values):
            errs.extend(invalid(_index(_child(e_path, "values"), j), value, m) for m in is_label_value(value))
    return errs


def _selector_matches(selector: Any, labels: Mapping[str, str] | None, *, skip_empty: bool = True) -> bool | None:
    """Whether a structured selector matches `labels`, as Kubernetes' LabelSelectorAsSelector
    and Matches decide: a nil selector matches nothing; an empty one everything (None when
    `skip_empty`, for callers that skip the check then); an unusable one gives None."""
    if selector is None:
        return False
    if not _selector_is_valid(selector):
        return None
    labels = labels or {}
    match_labels = _get(selector, "matchLabels") or {}
    expressions = _get(selector, "matchExpressions") or ()
    if not match_labels and not expressions:
        return None if skip_empty else True
    for key, value in match_labels.items():
        if labels.get(key) != value:
            return False
    for expr in expressions:
        key = _s(_get(expr, "key"))
        operator = _s(_get(expr, "operator"))
        values = set(_get(expr, "values") or ())
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _selector_is_valid(selector: Any) -> bool:
    if selector is None:
        return True
    for expr in _get(selector, "matchExpressions") or ():
        operator = _s(_get(expr, "operator"))
        values = _get(expr, "values") or ()
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
        if operator in ("In", "NotIn") and not values:
            return False
        if operator in ("Exists", "DoesNotExist") and values:
            return False
        if is_qualified_name(_s(_get(expr, "key"))):
            return False
    for key, value in (_get(selector, "matchLabels") or {}).items():
        if is_qualified_name(key) or is_label_value(value):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Pod
# ---------------------------------------------------------------------------------------------

_POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_MIRROR_POD = "kubernetes.io/config.mirror"

_UPDATABLE_POD_SPEC_FIELDS = ",".join(
    [
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    ]
)


def _pod_specific_annotations(annotations: Mapping[str, str] | None, spec: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    annotations = annotations or {}
    if _MIRROR_POD in annotations and not _get(spec, "nodeName"):
        errs.append(invalid(_key(path, _MIRROR_POD), annotations[_MIRROR_POD], "must set spec.nodeName if mirror pod annotation is set"))
    if _POD_DELETION_COST in annotations:
        cost = annotations[_POD_DELETION_COST]
        if not re.fullmatch(r"[+-]?[0-9]+", cost) or not -(1 << 31) <= int(cost) < (1 << 31):
            errs.append(invalid(_key(path, _POD_DELETION_COST), cost, "must be a 32bit integer"))
    return errs


def _validate_pod_metadata_and_spec(pod: Any) -> list[FieldError]:
    meta = _get(pod, "metadata")
    spec = _get(pod, "spec")
    errs = validate_object_meta(meta, True, name_is_dns_subdomain)
    errs.extend(_pod_specific_annotations(_get(meta, "annotations"), spec, "metadata.annotations"))
    errs.extend(validate_pod_spec(spec, "spec", pod_name=_s(_get(meta, "name")), is_pod=True))
    if not _get(spec, "serviceAccountName"):
        for vi, volume in enumerate(_get(spec, "volumes") or ()):
            for si, source in enumerate(_get(volume, "projected", "sources") or ()):
                if _get(source, "serviceAccountToken") is not None:
                    errs.append(
                        forbidden(
                            f"spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken",
                            "must not be specified when serviceAccountName is not set",
                        )
                    )
    for list_name in ("containers", "initContainers"):
        for i, container in enumerate(_get(spec, list_name) or ()):
            image = _s(_get(container, "image"))
            if image != image.strip():
                errs.append(invalid(f"spec.{list_name}[{i}].image", image, "must not have leading or trailing whitespace"))
    return errs


def _validate_pod_create(pod: Any) -> list[FieldError]:
    errs = _validate_pod_metadata_and_spec(pod)
    spec = _get(pod, "spec")
    if _get(spec, "ephemeralContainers"):
        errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if _get(spec, "nodeName") and _get(spec, "schedulingGates"):
        errs.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
    return errs


def _container_updates(new: Sequence[Any], old: Sequence[Any], path: str) -> tuple[list[FieldError], bool]:
    if len(new) != len(old):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    errs: list[FieldError] = []
    for i, container in enumerate(new):
        image = _s(_get(container, "image"))
        if not image:
            errs.append(required(_child(_index(path, i), "image")))
        if image.strip() != image:
            errs.append(invalid(_child(_index(path, i), "image"), image, "must not have leading or trailing whitespace"))
    return errs, False


def _toleration_key(t: Any) -> Any:
    plain = _plain(t)
    plain.pop("tolerationSeconds", None)
    return plain


def _spec_diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Changed leaf paths between two builtins trees, as '-'/'+' lines."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(old) | set(new)):
            lines.extend(_spec_diff(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else key))
        return lines
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        lines = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            lines.extend(_spec_diff(a, b, f"{prefix}[{i}]"))
        return lines
    if old == new:
        return []
    out = []
    if old is not None:
        out.append(f"-\t{prefix}: {json.dumps(old, separators=(',', ':'))}")
    if new is not None:
        out.append(f"+\t{prefix}: {json.dumps(new, separators=(',', ':'))}")
    return out


def _validate_pod_update(new: Any, old: Any) -> list[FieldError]:
    errs = validate_object_meta_update(_get(new, "metadata"), _get(old, "metadata"))
    errs.extend(_validate_pod_metadata_and_spec(new))
    new_annotations = _get(new, "metadata", "annotations") or {}
    old_annotations = _get(old, "metadata", "annotations") or {}
    if new_annotations.get(_MIRROR_POD) != old_annotations.get(_MIRROR_POD):
        verb = "add" if _MIRROR_POD not in old_annotations else "remove or update"
        errs.append(forbidden(_key("metadata.annotations", _MIRROR_POD), f"may not {verb} mirror pod annotation"))
    new_spec, old_spec = _get(new, "spec"), _get(old, "spec")
    for list_name in ("containers", "initContainers"):
        c_errs, stop = _container_updates(_get(new_spec, list_name) or [], _get(old_spec, list_name) or [], f"spec.{list_name}")
        errs.extend(c_errs)
        if stop:
            return errs
    new_deadline = _get(new_spec, "activeDeadlineSeconds")
    old_deadline = _get(old_spec, "activeDeadlineSeconds")
    if new_deadline is not None:
        if not 0 <= new_deadline <= _MAX_INT32:
            errs.append(invalid("spec.activeDeadlineSeconds", new_deadline, inclusive_range_error(0, _MAX_INT32)))
            return errs
        if old_deadline is not None and old_deadline < new_deadline:
            errs.append(invalid("spec.activeDeadlineSeconds", new_deadline, "must be less than or equal to previous value"))
            return errs
    elif old_deadline is not None:
        errs.append(invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"))
    new_tolerations = list(_get(new_spec, "tolerations") or ())
    new_keys = [_toleration_key(t) for t in new_tolerations]
    for old_t in _get(old_spec, "tolerations") or ():
        if _toleration_key(old_t) not in new_keys:
            errs.append(forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"))
            break
    else:
        errs.extend(_validate_tolerations(new_tolerations, "spec.tolerations"))
    old_gates = {_s(_get(g, "name")) for g in _get(old_spec, "schedulingGates") or ()}
    for i, gate in enumerate(_get(new_spec, "schedulingGates") or ()):
        gate_name = _s(_get(gate, "name"))
        if gate_name not in old_gates:
            errs.append(forbidden(f"spec.schedulingGates[{i}].name", f"only deletion is allowed, but found new scheduling gate '{gate_name}'"))

    old_plain = _plain(old_spec) or {}
    munged = _plain(new_spec) or {}
    if munged == old_plain:
        return errs
    # Put back what may change, then anything still different is forbidden.
    for list_name in ("containers", "initContainers"):
        for i, container in enumerate(munged.get(list_name, [])):
            old_image = (old_plain.get(list_name) or [])[i].get("image")
            if old_image is None:
                container.pop("image", None)
            else:
                container["image"] = old_image
    for name in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        if name in old_plain:
            munged[name] = old_plain[name]
        else:
            munged.pop(name, None)
    old_grace = old_plain.get("terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if old_plain.get("schedulingGates"):
        # Gated pods may gain node selector entries (never lose or change them).
        new_selector = munged.get("nodeSelector") or {}
        old_selector = old_plain.get("nodeSelector") or {}
        if new_selector != old_selector:
            for key, value in old_selector.items():
                if new_selector.get(key) != value:
                    errs.append(invalid("spec.nodeSelector", _to_builtins(new_selector), "only additions to spec.nodeSelector are allowed (no mutations or deletions)"))
                    break
            if old_selector:
                munged["nodeSelector"] = old_selector
            else:
                munged.pop("nodeSelector", None)
    if munged != old_plain:
        diff = "\n".join(["  core.PodSpec{", *_spec_diff(old_plain, munged), "  }"])
        errs.append(forbidden("spec", f"pod updates may not change fields other than {_UPDATABLE_POD_SPEC_FIELDS}\n{diff}\n"))
    return errs


def validate_pod_template_spec(template: Any, path: str) -> list[FieldError]:
    """A pod template inside a workload (labels are reported at ``<path>.labels``, as
    Kubernetes does)."""
    errs = validate_labels(_get(template, "metadata", "labels"), _child(path, "labels"))
    annotations = _get(template, "metadata", "annotations")
    errs.extend(validate_annotations(annotations, _child(path, "annotations")))
    spec = _get(template, "spec")
    errs.extend(_pod_specific_annotations(annotations, spec, _child(path, "annotations")))
    errs.extend(validate_pod_spec(spec, _child(path, "spec"), is_pod=False))
    if _get(spec, "ephemeralContainers"):
        errs.append(forbidden(_child(path, "spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
    return errs


# ---------------------------------------------------------------------------------------------
# Workloads: ReplicationController, ReplicaSet, Deployment, DaemonSet, StatefulSet
# ---------------------------------------------------------------------------------------------


def _template_labels(template: Any) -> dict[str, str]:
    return dict(_get(template, "metadata", "labels") or {})


def _shown_labels(template: Any) -> dict[str, str] | None:
    # Go shows a nil label map as null.
    labels = _get(template, "metadata", "labels")
    return None if labels is None else dict(labels)


def _template_for_controller(template: Any, selector_match: bool | None, path: str, kind: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if selector_match is False:
        errs.append(invalid(_child(path, "metadata", "labels"), _template_labels(template), "`selector` does not match template `labels`"))
    errs.extend(validate_pod_template_spec(template, path))
    restart = _s(_get(template, "spec", "restartPolicy"))
    if restart != "Always":
        errs.append(not_supported(_child(path, "spec", "restartPolicy"), restart, ["Always"]))
    if _get(template, "spec", "activeDeadlineSeconds") is not None:
        errs.append(forbidden(_child(path, "spec", "activeDeadlineSeconds"), f"activeDeadlineSeconds in {kind} is not Supported"))
    return errs


def _validate_selector_required(selector: Any, path: str, kind_word: str) -> list[FieldError]:
    if selector is None:
        return [required(path)]
    errs = _label_selector_errors(selector, path)
    if not (_get(selector, "matchLabels") or _get(selector, "matchExpressions")):
        errs.append(invalid(path, _to_builtins(selector), f"empty selector is invalid for {kind_word}"))
    return errs


def _selector_check(selector: Any, template: Any) -> bool | None:
    match = _selector_matches(selector, _template_labels(template))
    if match is None and selector is not None and not _selector_is_valid(selector):
        return None
    return match


def _invalid_selector_error(selector: Any, path: str, detail: str) -> list[FieldError]:
    if selector is not None and not _selector_is_valid(selector):
        return [invalid(path, _to_builtins(selector), detail)]
    return []


def _validate_replica_set_like(spec: Any, kind: str) -> list[FieldError]:
    errs = _nonnegative(_i(_get(spec, "replicas")), "spec.replicas")
    errs.extend(_nonnegative(_i(_get(spec, "minReadySeconds")), "spec.minReadySeconds"))
    selector = _get(spec, "selector")
    errs.extend(_validate_selector_required(selector, "spec.selector", "deployment"))
    errs.extend(_invalid_selector_error(selector, "spec.selector", "invalid label selector"))
    if selector is None or _selector_is_valid(selector):
        errs.extend(_template_for_controller(_get(spec, "template"), _selector_check(selector, _get(spec, "template")), "spec.template", kind))
    return errs


def _go_intstr(value: Any) -> Any:
    return value if value is not None else 0


def _validate_int_or_percent(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, str):
        return [invalid(path, value, m) for m in is_valid_percent(value)]
    return _nonnegative(_i(value), path)


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        return int(value[:-1]) if not is_valid_percent(value) else 0
    return _i(value)


def _not_more_than_100_percent(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, str) and not is_valid_percent(value) and int(value[:-1]) > 100:
        return [invalid(path, value, "must not be greater than 100%")]
    return []


def _go_strategy(strategy: Any, rolling_fields: Sequence[str]) -> _GoStruct:
    # Kubernetes shows a bad strategy as Go's JSON of its internal type: Go field names, nulls kept.
    rolling = _get(strategy, "rollingUpdate")
    shown_rolling = None
    if rolling is not None:
        shown_rolling = _GoStruct((name[0].upper() + name[1:], _go_intstr(_get(rolling, name))) for name in rolling_fields)
    return _GoStruct(Type=_s(_get(strategy, "type")), RollingUpdate=shown_rolling)


def _validate_deployment(obj: Any, old: Any) -> list[FieldError]:
    spec = _get(obj, "spec")
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    errs.extend(_validate_replica_set_like(spec, "ReplicaSet"))
    strategy = _get(spec, "strategy")
    strategy_type = _s(_get(strategy, "type"))
    rolling = _get(strategy, "rollingUpdate")
    if strategy_type == "Recreate":
        if rolling is not None:
            errs.append(forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
    elif strategy_type == "RollingUpdate":
        if rolling is None:
            errs.append(required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"))
        else:
            max_unavailable = _get(rolling, "maxUnavailable")
            max_surge = _get(rolling, "maxSurge")
            errs.extend(_validate_int_or_percent(max_unavailable, "spec.strategy.rollingUpdate.maxUnavailable"))
            errs.extend(_validate_int_or_percent(max_surge, "spec.strategy.rollingUpdate.maxSurge"))
            if _int_or_percent_value(max_unavailable) == 0 and _int_or_percent_value(max_surge) == 0:
                errs.append(invalid("spec.strategy.rollingUpdate.maxUnavailable", _go_intstr(max_unavailable), "may not be 0 when `maxSurge` is 0"))
            errs.extend(_not_more_than_100_percent(max_unavailable, "spec.strategy.rollingUpdate.maxUnavailable"))
    else:
        errs.append(not_supported("spec.strategy", _go_strategy(strategy, ("maxUnavailable", "maxSurge")), ["Recreate", "RollingUpdate"]))
    min_ready = _i(_get(spec, "minReadySeconds"))
    errs.extend(_nonnegative(min_ready, "spec.minReadySeconds"))
    history = _get(spec, "revisionHistoryLimit")
    if history is not None:
        errs.extend(_nonnegative(history, "spec.revisionHistoryLimit"))
    deadline = _get(spec, "progressDeadlineSeconds")
    if deadline is not None:
        errs.extend(_nonnegative(deadline, "spec.progressDeadlineSeconds"))
        if deadline <= min_ready:
            errs.append(invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
    if old is not None:
        errs.extend(validate_immutable(_get(spec, "selector"), _get(old, "spec", "selector"), "spec.selector"))
    return errs


def _validate_replica_set(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    errs.extend(_validate_replica_set_like(_get(obj, "spec"), "ReplicaSet"))
    if old is not None:
        errs.extend(validate_immutable(_get(obj, "spec", "selector"), _get(old, "spec", "selector"), "spec.selector"))
    return errs


def _validate_replication_controller(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    spec = _get(obj, "spec")
    errs.extend(_nonnegative(_i(_get(spec, "minReadySeconds")), "spec.minReadySeconds"))
    selector = dict(_get(spec, "selector") or {})
    if not selector:
        errs.append(required("spec.selector"))
    errs.extend(_nonnegative(_i(_get(spec, "replicas")), "spec.replicas"))
    template = _get(spec, "template")
    if template is None:
        errs.append(required("spec.template"))
    else:
        match = None
        if selector:
            labels = _template_labels(template)
            match = all(labels.get(k) == v for k, v in selector.items())
        errs.extend(_template_for_controller(template, match, "spec.template", "ReplicationController"))
    return errs


def _validate_daemon_set(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    spec = _get(obj, "spec")
    selector = _get(spec, "selector")
    template = _get(spec, "template")
    errs.extend(_label_selector_errors(selector, "spec.selector"))
    if _selector_is_valid(selector) and not _selector_matches(selector, _template_labels(template), skip_empty=False):
        errs.append(invalid("spec.template.metadata.labels", _shown_labels(template), "`selector` does not match template `labels`"))
    if selector is not None and not (_get(selector, "matchLabels") or _get(selector, "matchExpressions")):
        errs.append(invalid("spec.selector", _to_builtins(selector), "empty selector is invalid for daemonset"))
    errs.extend(validate_pod_template_spec(template, "spec.template"))
    restart = _s(_get(template, "spec", "restartPolicy"))
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
    if _get(template, "spec", "activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in DaemonSet is not Supported"))
    errs.extend(_nonnegative(_i(_get(spec, "minReadySeconds")), "spec.minReadySeconds"))
    strategy = _get(spec, "updateStrategy")
    strategy_type = _s(_get(strategy, "type"))
    if strategy_type == "RollingUpdate":
        rolling = _get(strategy, "rollingUpdate")
        if rolling is None:
            errs.append(required("spec.updateStrategy.rollingUpdate"))
        else:
            base = "spec.updateStrategy.rollingUpdate"
            max_unavailable = _get(rolling, "maxUnavailable")
            max_surge = _get(rolling, "maxSurge")
            errs.extend(_validate_int_or_percent(max_unavailable, f"{base}.maxUnavailable"))
            errs.extend(_validate_int_or_percent(max_surge, f"{base}.maxSurge"))
            errs.extend(_not_more_than_100_percent(max_unavailable, f"{base}.maxUnavailable"))
            errs.extend(_not_more_than_100_percent(max_surge, f"{base}.maxSurge"))
            has_unavailable = _int_or_percent_value(max_unavailable) != 0
            has_surge = _int_or_percent_value(max_surge) != 0
            if has_unavailable and has_surge:
                errs.append(invalid(f"{base}.maxSurge", _go_intstr(max_surge), "may not be set when maxUnavailable is non-zero"))
            elif not has_unavailable and not has_surge:
                errs.append(required(f"{base}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    elif strategy_type != "OnDelete":
        errs.append(not_supported("spec.updateStrategy", _go_strategy(strategy, ("maxUnavailable", "maxSurge")), ["RollingUpdate", "OnDelete"]))
    history = _get(spec, "revisionHistoryLimit")
    if history is not None:
        errs.extend(_nonnegative(history, "spec.revisionHistoryLimit"))
    if old is not None:
        errs.extend(validate_immutable(selector, _get(old, "spec", "selector"), "spec.selector"))
    return errs


def _validate_stateful_set_spec(spec: Any) -> list[FieldError]:
    errs: list[FieldError] = []
    policy = _s(_get(spec, "podManagementPolicy"))
    if not policy:
        errs.append(required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
    strategy = _get(spec, "updateStrategy")
    strategy_type = _s(_get(strategy, "type"))
    rolling = _get(strategy, "rollingUpdate")
    if not strategy_type:
        errs.append(required("spec.updateStrategy"))
    elif strategy_type == "OnDelete":
        if rolling is not None:
            errs.append(invalid("spec.updateStrategy.rollingUpdate", _go_strategy(strategy, ("partition", "maxUnavailable"))["RollingUpdate"], "only allowed for updateStrategy 'RollingUpdate'"))
    elif strategy_type == "RollingUpdate":
        if rolling is not None:
            errs.extend(_nonnegative(_i(_get(rolling, "partition")), "spec.updateStrategy.rollingUpdate.partition"))
            max_unavailable = _get(rolling, "maxUnavailable")
            if max_unavailable is not None:
                path = "spec.updateStrategy.rollingUpdate.maxUnavailable"
                errs.extend(_validate_int_or_percent(max_unavailable, path))
                if _int_or_percent_value(max_unavailable) == 0:
                    errs.append(invalid(path, max_unavailable, "cannot be 0"))
                errs.extend(_not_more_than_100_percent(max_unavailable, path))
    else:
        errs.append(invalid("spec.updateStrategy", _go_strategy(strategy, ("partition", "maxUnavailable")), "must be 'RollingUpdate' or 'OnDelete'"))
    retention = _get(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        for name in ("whenDeleted", "whenScaled"):
            value = _s(_get(retention, name))
            if value not in ("Retain", "Delete"):
                errs.append(not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{name}", value, ["Retain", "Delete"]))
    errs.extend(_nonnegative(_i(_get(spec, "replicas")), "spec.replicas"))
    errs.extend(_nonnegative(_i(_get(spec, "minReadySeconds")), "spec.minReadySeconds"))
    if _get(spec, "ordinals") is not None:
        errs.extend(_nonnegative(_i(_get(spec, "ordinals", "start")), "spec.ordinals.start"))
    selector = _get(spec, "selector")
    template = _get(spec, "template")
    errs.extend(_validate_selector_required(selector, "spec.selector", "statefulset"))
    if selector is not None and not _selector_is_valid(selector):
        errs.append(invalid("spec.selector", _to_builtins(selector), ""))
    else:
        if _selector_check(selector, template) is False:
            errs.append(invalid("spec.template.metadata.labels", _shown_labels(template), "`selector` does not match template `labels`"))
        errs.extend(validate_labels(_get(template, "metadata", "labels"), "spec.template.labels"))
        annotations = _get(template, "metadata", "annotations")
        errs.extend(validate_annotations(annotations, "spec.template.annotations"))
        errs.extend(_pod_specific_annotations(annotations, _get(template, "spec"), "spec.template.annotations"))
    restart = _s(_get(template, "spec", "restartPolicy"))
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
    if _get(template, "spec", "activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in StatefulSet is not Supported"))
    return errs


def _validate_stateful_set(obj: Any, old: Any) -> list[FieldError]:
    spec = _get(obj, "spec")
    if old is None:
        errs = validate_object_meta(_get(obj, "metadata"), True, name_is_dns_label)
        # Like Kubernetes, only the template's labels and annotations are checked here: its
        # volume mounts may name volumeClaimTemplates, which are not pod volumes.
        errs.extend(_validate_stateful_set_spec(spec))
        return errs
    errs = validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata"))
    errs.extend(_validate_stateful_set_spec(spec))
    new_plain = _plain(spec) or {}
    old_plain = _plain(_get(old, "spec")) or {}
    for name in ("replicas", "template", "updateStrategy", "minReadySeconds", "ordinals", "persistentVolumeClaimRetentionPolicy"):
        new_plain.pop(name, None)
        old_plain.pop(name, None)
    if new_plain != old_plain:
        errs.append(
            forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            )
        )
    return errs


def _validate_controller_revision(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    errs.extend(validate_object_meta(_get(obj, "metadata"), True, name_is_dns_subdomain) if old is not None else [])
    if _get(obj, "data") is None:
        errs.append(required("data", "data is mandatory"))
    errs.extend(_nonnegative(_i(_get(obj, "revision")), "revision"))
    if old is not None:
        errs.extend(validate_immutable(_get(obj, "data"), _get(old, "data"), "data"))
    return errs


# ---------------------------------------------------------------------------------------------
# Job and CronJob
# ---------------------------------------------------------------------------------------------

_JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")
_CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


def _has_label(meta: Any, path: str, key: str, expected: str) -> list[FieldError]:
    labels = dict(_get(meta, "labels") or {})
    if key not in labels:
        return [required(_key(_child(path, "labels"), key), f"must be '{expected}'")]
    if labels[key] != expected:
        return [invalid(_key(_child(path, "labels"), key), labels, f"must be '{expected}'")]
    return []


def _validate_generated_selector(job: Any) -> list[FieldError]:
    spec = _get(job, "spec")
    if _get(spec, "manualSelector") or _get(spec, "selector") is None:
        return []
    errs: list[FieldError] = []
    uid = _s(_get(job, "metadata", "uid"))
    name = _s(_get(job, "metadata", "name"))
    if not uid:
        errs.append(required("metadata.uid"))
    template_meta = _get(spec, "template", "metadata")
    errs.extend(_has_label(template_meta, "spec.template.metadata", _CONTROLLER_UID_LABELS[0], uid))
    errs.extend(_has_label(template_meta, "spec.template.metadata", _JOB_NAME_LABELS[0], name))
    errs.extend(_has_label(template_meta, "spec.template.metadata", _CONTROLLER_UID_LABELS[1], uid))
    errs.extend(_has_label(template_meta, "spec.template.metadata", _JOB_NAME_LABELS[1], name))
    expected = {_CONTROLLER_UID_LABELS[0]: uid, _JOB_NAME_LABELS[0]: name, _CONTROLLER_UID_LABELS[1]: uid, _JOB_NAME_LABELS[1]: name}
    if _selector_matches(_get(spec, "selector"), expected, skip_empty=False) is False:
        errs.append(invalid("spec.selector", _to_builtins(_get(spec, "selector")), "`selector` not auto-generated"))
    return errs


def _validate_job_spec_common(spec: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for name in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "backoffLimitPerIndex"):
        value = _get(spec, name)
        if value is not None:
            errs.extend(_nonnegative(value, _child(path, name)))
    max_failed = _get(spec, "maxFailedIndexes")
    per_index = _get(spec, "backoffLimitPerIndex")
    if max_failed is not None:
        errs.extend(_nonnegative(max_failed, _child(path, "maxFailedIndexes")))
        if per_index is None:
            errs.append(required(_child(path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
    managed_by = _get(spec, "managedBy")
    if managed_by is not None:
        errs.extend(_domain_prefixed_path(managed_by, _child(path, "managedBy")))
        if _blen(managed_by) > 63:
            errs.append(too_long(_child(path, "managedBy"), 63))
    mode = _get(spec, "completionMode")
    completions = _get(spec, "completions")
    parallelism = _get(spec, "parallelism")
    if mode is not None:
        if mode not in ("NonIndexed", "Indexed"):
            errs.append(not_supported(_child(path, "completionMode"), mode, ["NonIndexed", "Indexed"]))
        if mode == "Indexed":
            if completions is None:
                errs.append(required(_child(path, "completions"), "when completion mode is Indexed"))
            if parallelism is not None and parallelism > 100000:
                errs.append(invalid(_child(path, "parallelism"), parallelism, "must be less than or equal to 100000 when completion mode is Indexed"))
            if completions is not None and max_failed is not None and max_failed > completions:
                errs.append(invalid(_child(path, "maxFailedIndexes"), max_failed, "must be less than or equal to completions"))
    if mode in (None, "NonIndexed"):
        if per_index is not None:
            errs.append(invalid(_child(path, "backoffLimitPerIndex"), per_index, "requires indexed completion mode"))
        if max_failed is not None:
            errs.append(invalid(_child(path, "maxFailedIndexes"), max_failed, "requires indexed completion mode"))
    failure_policy = _get(spec, "podFailurePolicy")
    if failure_policy is not None:
        rules = list(_get(failure_policy, "rules") or ())
        if len(rules) > 20:
            errs.append(too_many(_child(path, "podFailurePolicy", "rules"), len(rules), 20))
        actions = ["Count", "FailIndex", "FailJob", "Ignore"]
        for i, rule in enumerate(rules):
            action = _s(_get(rule, "action"))
            if action not in actions:
                errs.append(not_supported(_child(_index(_child(path, "podFailurePolicy", "rules"), i), "action"), action, actions))
    if _get(spec, "successPolicy") is not None and mode != "Indexed":
        errs.append(invalid(_child(path, "successPolicy"), _to_builtins(_get(spec, "successPolicy")), "requires indexed completion mode"))
    replacement = _get(spec, "podReplacementPolicy")
    if replacement is not None:
        if failure_policy is not None:
            if replacement != "Failed":
                errs.append(not_supported(_child(path, "podReplacementPolicy"), replacement, ["Failed"]))
        elif replacement not in ("Failed", "TerminatingOrFailed"):
            errs.append(not_supported(_child(path, "podReplacementPolicy"), replacement, ["Failed", "TerminatingOrFailed"]))
    template = _get(spec, "template")
    errs.extend(validate_pod_template_spec(template, _child(path, "template")))
    restart = _s(_get(template, "spec", "restartPolicy"))
    restart_path = _child(path, "template", "spec", "restartPolicy")
    if restart in ("Always", ""):
        errs.append(required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errs.append(not_supported(restart_path, restart, ["OnFailure", "Never"]))
    elif failure_policy is not None and restart != "Never":
        errs.append(invalid(restart_path, restart, 'only "Never" is supported when podFailurePolicy is specified'))
    return errs


def _domain_prefixed_path(value: str, path: str) -> list[FieldError]:
    if not value:
        return [required(path)]
    segments = value.split("/", 1)
    if len(segments) != 2 or not segments[0] or not segments[1]:
        return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')]
    errs = [invalid(path, segments[0], m) for m in is_dns1123_subdomain(segments[0])]
    http_path = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+"
    if not re.fullmatch(http_path, segments[1]):
        errs.append(invalid(path, segments[1], _regex_error("Invalid path", http_path)))
    return errs


def _validate_job_spec(spec: Any) -> list[FieldError]:
    errs = _validate_job_spec_common(spec, "spec")
    selector = _get(spec, "selector")
    if selector is None:
        errs.append(required("spec.selector"))
    else:
        errs.extend(_label_selector_errors(selector, "spec.selector"))
    if _selector_is_valid(selector) and not _selector_matches(selector, _template_labels(_get(spec, "template")), skip_empty=False):
        errs.append(invalid("spec.template.metadata.labels", _shown_labels(_get(spec, "template")), "`selector` does not match template `labels`"))
    return errs


def _validate_job(obj: Any, old: Any) -> list[FieldError]:
    spec = _get(obj, "spec")
    if old is None:
        errs = validate_object_meta(_get(obj, "metadata"), True, name_is_dns_subdomain)
        errs.extend(_validate_generated_selector(obj))
        errs.extend(_validate_job_spec(spec))
        completions = _get(spec, "completions")
        if _get(spec, "completionMode") == "Indexed" and completions is not None and completions > 0:
            name = _s(_get(obj, "metadata", "name"))
            hostname = f"{name}-{completions - 1}"
            if is_dns1123_label(hostname):
                errs.append(invalid("metadata.name", name, f"will not able to create pod with invalid DNS label: {hostname}"))
        return errs
    old_spec = _get(old, "spec")
    errs = validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata"))
    errs.extend(_validate_job_spec(spec))
    if _get(spec, "completionMode") == "Indexed":
        completions = _get(spec, "completions")
        if completions is not None and completions != _get(old_spec, "completions") and completions != _get(spec, "parallelism"):
            errs.append(invalid("spec.completions", completions, "can only be modified in tandem with parallelism"))
    else:
        errs.extend(validate_immutable(_get(spec, "completions"), _get(old_spec, "completions"), "spec.completions"))
    errs.extend(validate_immutable(_get(spec, "selector"), _get(old_spec, "selector"), "spec.selector"))
    new_template = _plain(_get(spec, "template")) or {}
    old_template = _plain(_get(old_spec, "template")) or {}
    if _get(old_spec, "suspend") and _get(old, "status", "startTime") is None:
        # A suspended job that never started may change its scheduling directives.
        for holder, name in (("metadata", "labels"), ("metadata", "annotations"), ("spec", "nodeSelector"), ("spec", "tolerations"), ("spec", "schedulingGates")):
            value = new_template.get(holder, {}).get(name)
            target = old_template.setdefault(holder, {})
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
        new_affinity = new_template.get("spec", {}).get("affinity", {})
        old_spec_t = old_template.setdefault("spec", {})
        old_affinity = dict(old_spec_t.get("affinity", {}))
        old_affinity.pop("nodeAffinity", None)
        if "nodeAffinity" in new_affinity:
            old_affinity["nodeAffinity"] = new_affinity["nodeAffinity"]
        if old_affinity:
            old_spec_t["affinity"] = old_affinity
        else:
            old_spec_t.pop("affinity", None)
        old_template = _plain(old_template)
    if new_template != old_template:
        errs.append(invalid("spec.template", _to_builtins(_get(spec, "template")), FIELD_IMMUTABLE))
    for name in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
        errs.extend(validate_immutable(_get(spec, name), _get(old_spec, name), f"spec.{name}"))
    return errs


_CRON_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_CRON_FIELDS: list[tuple[int, int, dict[str, int]]] = [
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}),
    (0, 6, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}),
]
_GO_DURATION = re.compile(r"[+-]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+|[+-]?0")


def _go_atoi(expr: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", expr):
        raise ValueError(f'failed to parse int from {expr}: strconv.Atoi: parsing {go_quote(expr)}: invalid syntax')
    number = int(expr)
    if number < 0:
        raise ValueError(f"negative number ({number}) not allowed: {expr}")
    return number


def _cron_range(expr: str, low: int, high: int, names: Mapping[str, int]) -> None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = names[low_and_high[0].lower()] if low_and_high[0].lower() in names else _go_atoi(low_and_high[0])
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = names[low_and_high[1].lower()] if low_and_high[1].lower() in names else _go_atoi(low_and_high[1])
        else:
            raise ValueError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _go_atoi(range_and_step[1])
        if single:
            end = high
    elif len(range_and_step) > 2:
        raise ValueError(f"too many slashes: {expr}")
    if start < low:
        raise ValueError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ValueError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expr}")


def cron_schedule_error(schedule: str) -> str | None:
    """Why `schedule` is not a standard cron schedule, with the messages of the parser
    Kubernetes uses (robfig/cron ParseStandard); None when it parses. The schedule must
    also be one the CronJob controller's croniter accepts."""
    spec = schedule
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        i = spec.find(" ")
        zone = spec[spec.find("=") + 1 : i if i >= 0 else len(spec)]
        if _load_zone(zone) is None:
            return f"provided bad location {zone}: unknown time zone {zone}"
        spec = spec[i:].strip() if i >= 0 else ""
    if spec.startswith("@"):
        if spec in _CRON_DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            duration = spec[len("@every ") :]
            if not _GO_DURATION.fullmatch(duration):
                return f"failed to parse duration {spec}: time: invalid duration {go_quote(duration)}"
            return None
        return f"unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    try:
        for text, (low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
            for part in text.split(","):
                _cron_range(part, low, high, names)
    except ValueError as err:
        return str(err)
    try:
        from croniter import croniter

        croniter(spec)
    except Exception as err:  # croniter raises several types; any of them means unusable.
        return str(err)
    return None


def _load_zone(name: str) -> Any:
    try:
        from zoneinfo import ZoneInfo

        if name == "UTC" or name == "":
            return ZoneInfo("UTC")
        return ZoneInfo(name)
    except Exception:
        return None


_TIME_ZONE_PART = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")


def _validate_time_zone(zone: str | None, path: str) -> list[FieldError]:
    if zone is None:
        return []
    if not zone:
        return [invalid(path, zone, "timeZone must be nil or non-empty string")]
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TIME_ZONE_PART.fullmatch(part):
            return [invalid(path, zone, f"unknown time zone {zone}")]
    if zone.lower() == "local":
        return [invalid(path, zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")]
    if _load_zone(zone) is None:
        return [invalid(path, zone, f"unknown time zone {zone}")]
    return []


def _validate_cron_job(obj: Any, old: Any) -> list[FieldError]:
    spec = _get(obj, "spec")
    old_spec = _get(old, "spec")
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    schedule = _s(_get(spec, "schedule"))
    if not schedule:
        errs.append(required("spec.schedule"))
    else:
        problem = cron_schedule_error(schedule)
        if problem is not None:
            errs.append(invalid("spec.schedule", schedule, problem))
        allow_tz = old_spec is not None and "TZ" in _s(_get(old_spec, "schedule"))
        if allow_tz and "TZ" in schedule and _get(spec, "timeZone") is not None:
            errs.append(invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
        elif not allow_tz and "TZ" in schedule:
            errs.append(invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    deadline = _get(spec, "startingDeadlineSeconds")
    if deadline is not None:
        errs.extend(_nonnegative(deadline, "spec.startingDeadlineSeconds"))
    if old_spec is None or _get(old_spec, "timeZone") != _get(spec, "timeZone"):
        errs.extend(_validate_time_zone(_get(spec, "timeZone"), "spec.timeZone"))
    policy = _s(_get(spec, "concurrencyPolicy"))
    if not policy:
        errs.append(required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        errs.append(not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
    job_spec = _get(spec, "jobTemplate", "spec")
    errs.extend(_validate_job_spec_common(job_spec, "spec.jobTemplate.spec"))
    if _get(job_spec, "selector") is not None:
        errs.append(invalid("spec.jobTemplate.spec.selector", _to_builtins(_get(job_spec, "selector")), "`selector` will be auto-generated"))
    if _get(job_spec, "manualSelector"):
        errs.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ["nil", "false"]))
    for name in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = _get(spec, name)
        if value is not None:
            errs.extend(_nonnegative(value, f"spec.{name}"))
    if old is None:
        name = _s(_get(obj, "metadata", "name"))
        if _blen(name) > 52:
            errs.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    return errs


# ---------------------------------------------------------------------------------------------
# Service
# ---------------------------------------------------------------------------------------------

_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
_KUBELET_PORT = 10250


def _cluster_ips(spec: Any) -> list[str]:
    # The Service strategy keeps clusterIPs in step with clusterIP before validation; accept
    # an object whose registry has not done that yet.
    ips = list(_get(spec, "clusterIPs") or ())
    cluster_ip = _s(_get(spec, "clusterIP"))
    if not ips and cluster_ip:
        ips = [cluster_ip]
    return ips


def _is_headless(spec: Any) -> bool:
    ips = _cluster_ips(spec)
    return len(ips) == 1 and ips[0] == "None"


def _externally_accessible(spec: Any) -> bool:
    kind = _s(_get(spec, "type"))
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(_get(spec, "externalIPs")))


def _validate_service_cluster_ips(spec: Any) -> list[FieldError]:
    if _get(spec, "type") == "ExternalName":
        return []
    errs: list[FieldError] = []
    cluster_ip = _s(_get(spec, "clusterIP"))
    ips = _cluster_ips(spec)
    if cluster_ip:
        if ips[0] != cluster_ip:
            errs.append(invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
    elif ips:
        errs.append(invalid("spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified"))
    families = list(_get(spec, "ipFamilies") or ())
    seen: set[str] = set()
    for i, family in enumerate(families):
        if family not in ("IPv4", "IPv6"):
            errs.append(not_supported(_index("spec.ipFamilies", i), family, ["IPv4", "IPv6"]))
        if family in seen:
            errs.append(duplicate(_index("spec.ipFamilies", i), family))
        seen.add(family)
    policy = _get(spec, "ipFamilyPolicy")
    if policy is not None and policy not in ("PreferDualStack", "RequireDualStack", "SingleStack"):
        errs.append(not_supported("spec.ipFamilyPolicy", policy, ["PreferDualStack", "RequireDualStack", "SingleStack"]))
    bad_ips = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                bad_ips = True
                errs.append(invalid("spec.clusterIPs", ips, "'None' must be the first and only value"))
            continue
        ip_errs = validate_ip(ip, _index("spec.clusterIPs", i))
        bad_ips = bad_ips or bool(ip_errs)
        errs.extend(ip_errs)
    if len(ips) > 2:
        errs.append(invalid("spec.clusterIPs", ips, "may only hold up to 2 values"))
    if bad_ips:
        return errs
    if len(ips) > 1:
        versions = {ipaddress.ip_address(ip).version for ip in ips}
        if len(versions) != len(ips):
            errs.append(invalid("spec.clusterIPs", ips, "may specify no more than one IP for each IP family"))
    if not _is_headless(spec) and ips and families:
        for i, ip in enumerate(ips[: len(families)]):
            version = ipaddress.ip_address(ip).version
            if families[i] == "IPv4" and version == 6:
                errs.append(invalid(_index("spec.clusterIPs", i), ip, f"expected an IPv4 value as indicated by `ipFamilies[{i}]`"))
            if families[i] == "IPv6" and version != 6:
                errs.append(invalid(_index("spec.clusterIPs", i), ip, f"expected an IPv6 value as indicated by `ipFamilies[{i}]`"))
    return errs


def _validate_service(obj: Any) -> list[FieldError]:
    spec = _get(obj, "spec")
    errs = validate_object_meta(_get(obj, "metadata"), True, name_is_dns1035_label)
    service_type = _s(_get(spec, "type"))
    ports = list(_get(spec, "ports") or ())
    headless = _is_headless(spec)
    if not ports and not headless and service_type != "ExternalName":
        errs.append(required("spec.ports"))
    if service_type == "LoadBalancer":
        for i, port in enumerate(ports):
            if _i(_get(port, "port")) == _KUBELET_PORT:
                errs.append(invalid(_index("spec.ports", i), _KUBELET_PORT, f"may not expose port {_KUBELET_PORT} externally since it is used by kubelet"))
        if headless:
            errs.append(invalid("spec.clusterIPs[0]", "None", "may not be set to 'None' for LoadBalancer services"))
    elif service_type == "NodePort":
        if headless:
            errs.append(invalid("spec.clusterIPs[0]", "None", "may not be set to 'None' for NodePort services"))
    elif service_type == "ExternalName":
        if _get(spec, "clusterIPs") or _get(spec, "clusterIP"):
            errs.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        if _get(spec, "ipFamilies"):
            errs.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
        if _get(spec, "ipFamilyPolicy") is not None:
            errs.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
        cname = _s(_get(spec, "externalName"))
        cname = cname[:-1] if cname.endswith(".") else cname
        if cname:
            errs.extend(_validate_dns1123_subdomain(cname, "spec.externalName"))
        else:
            errs.append(required("spec.externalName"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        p_path = _index("spec.ports", i)
        name = _s(_get(port, "name"))
        if len(ports) > 1 and not name:
            errs.append(required(_child(p_path, "name")))
        elif name:
            errs.extend(_validate_dns1123_label(name, _child(p_path, "name")))
            if name in names:
                errs.append(duplicate(_child(p_path, "name"), name))
            else:
                names.add(name)
        number = _i(_get(port, "port"))
        errs.extend(invalid(_child(p_path, "port"), number, m) for m in is_valid_port_num(number))
        protocol = _s(_get(port, "protocol"))
        if not protocol:
            errs.append(required(_child(p_path, "protocol")))
        elif protocol not in _PROTOCOLS:
            errs.append(not_supported(_child(p_path, "protocol"), protocol, _PROTOCOLS))
        errs.extend(_validate_port_num_or_name(_get(port, "targetPort"), _child(p_path, "targetPort")))
        app_protocol = _get(port, "appProtocol")
        if app_protocol is not None:
            errs.extend(_validate_qualified_name(app_protocol, _child(p_path, "appProtocol")))
    selector = _get(spec, "selector")
    if selector is not None:
        errs.extend(validate_labels(selector, "spec.selector"))
    affinity = _s(_get(spec, "sessionAffinity"))
    if not affinity:
        errs.append(required("spec.sessionAffinity"))
    elif affinity not in ("ClientIP", "None"):
        errs.append(not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    affinity_config = _get(spec, "sessionAffinityConfig")
    if affinity == "ClientIP":
        when = "when session affinity type is ClientIP"
        if affinity_config is None:
            errs.append(required("spec.sessionAffinityConfig", when))
        elif _get(affinity_config, "clientIP") is None:
            errs.append(required("spec.sessionAffinityConfig.clientIP", when))
        elif _get(affinity_config, "clientIP", "timeoutSeconds") is None:
            errs.append(required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", when))
        else:
            timeout = _get(affinity_config, "clientIP", "timeoutSeconds")
            if timeout <= 0 or timeout > 86400:
                errs.append(invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout, "must be greater than 0 and less than 86400"))
    elif affinity == "None" and affinity_config is not None:
        errs.append(forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"))
    errs.extend(_validate_service_cluster_ips(spec))
    for i, ip in enumerate(_get(spec, "externalIPs") or ()):
        ip_errs = validate_ip(ip, _index("spec.externalIPs", i))
        if ip_errs:
            errs.extend(ip_errs)
        else:
            addr = ipaddress.ip_address(ip)
            if addr.is_unspecified or addr.is_loopback or addr.is_link_local or addr.is_multicast:
                errs.append(invalid(_index("spec.externalIPs", i), ip, _special_ip_reason(addr)))
    if not service_type:
        errs.append(required("spec.type"))
    elif service_type not in _SERVICE_TYPES:
        errs.append(not_supported("spec.type", service_type, _SERVICE_TYPES))
    if service_type == "ClusterIP":
        for i, port in enumerate(ports):
            if _i(_get(port, "nodePort")) != 0:
                errs.append(forbidden(_child(_index("spec.ports", i), "nodePort"), "may not be used when `type` is 'ClusterIP'"))
    node_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        node_port = _i(_get(port, "nodePort"))
        if node_port == 0:
            continue
        key = (_s(_get(port, "protocol")), node_port)
        if key in node_ports:
            errs.append(duplicate(_child(_index("spec.ports", i), "nodePort"), node_port))
        node_ports.add(key)
    port_keys: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        key = (_s(_get(port, "protocol")), _i(_get(port, "port")))
        if key in port_keys:
            shown = _GoStruct(Name="", Protocol=key[0], AppProtocol=None, Port=key[1], TargetPort=0, NodePort=0)
            errs.append(duplicate(_index("spec.ports", i), shown))
        port_keys.add(key)
    ranges = _get(spec, "loadBalancerSourceRanges") or ()
    if ranges:
        if service_type != "LoadBalancer":
            errs.append(forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"))
        for i, value in enumerate(ranges):
            errs.extend(validate_cidr(value.strip(), _index("spec.LoadBalancerSourceRanges", i)))
    if _get(spec, "allocateLoadBalancerNodePorts") is not None and service_type != "LoadBalancer":
        errs.append(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"))
    if service_type == "LoadBalancer" and _get(spec, "allocateLoadBalancerNodePorts") is None:
        errs.append(required("allocateLoadBalancerNodePorts"))
    lb_class = _get(spec, "loadBalancerClass")
    if lb_class is not None:
        if service_type != "LoadBalancer":
            errs.append(forbidden("spec.loadBalancerClass", "may only be used when service type is 'LoadBalancer'"))
        else:
            errs.extend(_validate_qualified_name(lb_class, "spec.loadBalancerClass"))
    external_policy = _s(_get(spec, "externalTrafficPolicy"))
    if not _externally_accessible(spec):
        if external_policy:
            errs.append(invalid("spec.externalTrafficPolicy", external_policy, "may only be set for externally-accessible services"))
    elif not external_policy:
        errs.append(required("spec.externalTrafficPolicy"))
    elif external_policy not in ("Cluster", "Local"):
        errs.append(not_supported("spec.externalTrafficPolicy", external_policy, ["Cluster", "Local"]))
    health_port = _i(_get(spec, "healthCheckNodePort"))
    needs_health_check = service_type == "LoadBalancer" and external_policy == "Local"
    if not needs_health_check and health_port != 0:
        errs.append(invalid("spec.healthCheckNodePort", health_port, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
    elif needs_health_check and health_port != 0:
        # The port is allocated by the Service registry; only a value given is checked here.
        errs.extend(invalid("spec.healthCheckNodePort", health_port, m) for m in is_valid_port_num(health_port))
    internal_policy = _get(spec, "internalTrafficPolicy")
    if internal_policy is None and service_type in ("NodePort", "LoadBalancer", "ClusterIP"):
        errs.append(required("spec.internalTrafficPolicy"))
    if internal_policy is not None and internal_policy not in ("Cluster", "Local"):
        errs.append(not_supported("spec.internalTrafficPolicy", internal_policy, ["Cluster", "Local"]))
    distribution = _get(spec, "trafficDistribution")
    if distribution is not None and distribution not in ("PreferClose", "PreferSameZone", "PreferSameNode"):
        errs.append(not_supported("spec.trafficDistribution", distribution, ["PreferClose", "PreferSameZone", "PreferSameNode"]))
    return errs


def _special_ip_reason(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if addr.is_unspecified:
        return "may not be unspecified (0.0.0.0)" if addr.version == 4 else "may not be unspecified (::)"
    if addr.is_loopback:
        return "may not be in the loopback range (127.0.0.0/8, ::1/128)"
    if addr.is_link_local:
        return "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
    return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"


def _validate_service_update(obj: Any, old: Any) -> list[FieldError]:
    errs = validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata"))
    spec, old_spec = _get(obj, "spec"), _get(old, "spec")
    if _get(spec, "type") != "ExternalName" and _get(old_spec, "type") != "ExternalName":
        new_ips = _cluster_ips(spec)
        old_ips = _cluster_ips(old_spec)
        if not new_ips:
            # Kubernetes' Service strategy carries allocated IPs over when an update omits them.
            new_ips = old_ips
        if not (_is_headless(old_spec) and (_is_headless(spec) or new_ips == ["None"])):
            if len(old_ips) == len(new_ips):
                for i, ip in enumerate(old_ips):
                    if ip != new_ips[i]:
                        errs.append(invalid(_index("spec.clusterIPs", i), new_ips, "may not change once set"))
            elif len(old_ips) > len(new_ips):
                if new_ips and new_ips[0] != old_ips[0]:
                    errs.append(invalid("spec.clusterIPs[0]", new_ips, "may not change once set"))
                if len(new_ips) == 1 and _get(spec, "ipFamilyPolicy") != "SingleStack":
                    errs.append(invalid("spec.ipFamilyPolicy", _get(spec, "ipFamilyPolicy"), "must be set to 'SingleStack' when releasing the secondary clusterIP"))
            elif old_ips and new_ips[0] != old_ips[0]:
                errs.append(invalid("spec.clusterIPs[0]", new_ips, "may not change once set"))
    old_class = _get(old_spec, "loadBalancerClass")
    if _get(old_spec, "type") == "LoadBalancer" and _get(spec, "type") == "LoadBalancer" and old_class != _get(spec, "loadBalancerClass"):
        errs.append(invalid("spec.loadBalancerClass", _get(spec, "loadBalancerClass"), "may not change once set"))
    errs.extend(_validate_service(obj))
    return errs


# ---------------------------------------------------------------------------------------------
# ConfigMap, Secret, ServiceAccount, Namespace, Node, PVC
# ---------------------------------------------------------------------------------------------

MAX_SECRET_SIZE = 1024 * 1024


def _value_len(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return _blen(str(value))


def _validate_config_map(obj: Any, old: Any) -> list[FieldError]:
    errs: list[FieldError] = []
    if old is not None:
        errs.extend(validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata")))
        if _get(old, "immutable"):
            if not _get(obj, "immutable"):
                errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
            if not _semantic_equal(_get(obj, "data"), _get(old, "data")):
                errs.append(forbidden("data", "field is immutable when `immutable` is set"))
            if not _semantic_equal(_get(obj, "binaryData"), _get(old, "binaryData")):
                errs.append(forbidden("binaryData", "field is immutable when `immutable` is set"))
    errs.extend(validate_object_meta(_get(obj, "metadata"), True, name_is_dns_subdomain))
    data = dict(_get(obj, "data") or {})
    binary = dict(_get(obj, "binaryData") or {})
    total = 0
    for key in sorted(data):
        errs.extend(invalid(_key("data", key), key, m) for m in is_config_map_key(key))
        if key in binary:
            errs.append(invalid(_key("data", key), key, "duplicate of key present in binaryData"))
        total += _value_len(data[key])
    for key in sorted(binary):
        errs.extend(invalid(_key("binaryData", key), key, m) for m in is_config_map_key(key))
        total += _value_len(binary[key])
    if total > MAX_SECRET_SIZE:
        errs.append(too_long("[]", MAX_SECRET_SIZE))
    return errs


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def _validate_secret(obj: Any, old: Any) -> list[FieldError]:
    errs: list[FieldError] = []
    if old is not None:
        errs.extend(validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata")))
        errs.extend(validate_immutable(_s(_get(obj, "type")), _s(_get(old, "type")), "type"))
        if _get(old, "immutable"):
            if not _get(obj, "immutable"):
                errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
            if not _semantic_equal(_get(obj, "data"), _get(old, "data")):
                errs.append(forbidden("data", "field is immutable when `immutable` is set"))
    errs.extend(validate_object_meta(_get(obj, "metadata"), True, name_is_dns_subdomain))
    # stringData is merged into data before Kubernetes validates, so its keys report as data.
    data: dict[str, Any] = dict(_get(obj, "data") or {})
    for key, value in (_get(obj, "stringData") or {}).items():
        data[key] = value.encode("utf-8") if isinstance(value, str) else value
    total = 0
    for key in sorted(data):
        errs.extend(invalid(_key("data", key), key, m) for m in is_config_map_key(key))
        total += _value_len(data[key])
    if total > MAX_SECRET_SIZE:
        errs.append(too_long("data", MAX_SECRET_SIZE))
    secret_type = _s(_get(obj, "type"))
    if secret_type == "kubernetes.io/service-account-token":
        name_key = "kubernetes.io/service-account.name"
        if not (_get(obj, "metadata", "annotations") or {}).get(name_key):
            errs.append(required(_key("metadata.annotations", name_key)))
    elif secret_type in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = _SECRET_REQUIRED_KEYS[secret_type][0]
        if key not in data:
            errs.append(required(_key("data", key)))
        else:
            try:
                raw = data[key]
                parsed = json.loads(raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw)
                if not isinstance(parsed, dict):
                    raise ValueError("json: cannot unmarshal into Go value of type map[string]interface {}")
            except ValueError as err:
                errs.append(invalid(_key("data", key), "<secret contents redacted>", str(err)))
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.append(required(_key("data", "username")))
            errs.append(required(_key("data", "password")))
    elif secret_type == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errs.append(required(_key("data", "ssh-privatekey")))
    elif secret_type == "kubernetes.io/tls":
        for key in _SECRET_REQUIRED_KEYS[secret_type]:
            if key not in data:
                errs.append(required(_key("data", key)))
    return errs


def _validate_namespace(obj: Any, old: Any) -> list[FieldError]:
    errs = validate_object_meta(_get(obj, "metadata"), False, name_is_dns_label)
    for name in _get(obj, "spec", "finalizers") or ():
        errs.extend(invalid("spec.finalizers", name, m) for m in is_qualified_name(name))
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            errs.append(invalid("spec.finalizers", name, "name is neither a standard finalizer name nor is it fully qualified"))
    if old is not None:
        errs.extend(validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata")))
    return errs


def _validate_node(obj: Any, old: Any) -> list[FieldError]:
    errs = validate_object_meta(_get(obj, "metadata"), False, name_is_dns_subdomain)
    taints = list(_get(obj, "spec", "taints") or ())
    # Kubernetes reports taint errors under metadata.taints (sic).
    unique: dict[str, set[str]] = {}
    for i, taint in enumerate(taints):
        t_path = _index("metadata.taints", i)
        key = _s(_get(taint, "key"))
        value = _s(_get(taint, "value"))
        effect = _s(_get(taint, "effect"))
        errs.extend(_validate_qualified_name(key, _child(t_path, "key")))
        msgs = is_label_value(value)
        if msgs:
            errs.append(invalid(_child(t_path, "value"), value, ";".join(msgs)))
        if not effect:
            errs.append(required(_child(t_path, "effect")))
        elif effect not in _TAINT_EFFECTS:
            errs.append(not_supported(_child(t_path, "effect"), effect, _TAINT_EFFECTS))
        if key in unique.get(effect, set()):
            shown = _GoStruct(Key=key, Value=value, Effect=effect, TimeAdded=_get(taint, "timeAdded"))
            errs.append(FieldError(ErrorType.DUPLICATE, t_path, shown, "taints must be unique by key and effect pair"))
            continue
        unique.setdefault(effect, set()).add(key)
    for holder in ("capacity", "allocatable"):
        quantities, q_errs = _parse_resource_list(_get(obj, "status", holder), f"status.{holder}")
        errs.extend(q_errs)
        for name, q in quantities.items():
            errs.extend(_validate_resource_quantity_value(name, q, f"status.{holder}.{name}"))
    cidrs = list(_get(obj, "spec", "podCIDRs") or ())
    for i, cidr in enumerate(cidrs):
        errs.extend(validate_cidr(cidr, _index("spec.podCIDRs", i)))
    if len(cidrs) > 1:
        seen: set[str] = set()
        for i, cidr in enumerate(cidrs):
            if cidr in seen:
                errs.append(duplicate(_index("spec.podCIDRs", i), cidr))
            seen.add(cidr)
    if old is None:
        return errs
    errs.extend(validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata")))
    seen_addresses: list[Any] = []
    for i, address in enumerate(_get(obj, "status", "addresses") or ()):
        plain = _GoStruct(Type=_s(_get(address, "type")), Address=_s(_get(address, "address")))
        if plain in seen_addresses:
            errs.append(duplicate(_index("status.addresses", i), plain))
        seen_addresses.append(plain)
    old_cidrs = list(_get(old, "spec", "podCIDRs") or ())
    if old_cidrs and old_cidrs != cidrs:
        errs.append(forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'))
    old_provider = _s(_get(old, "spec", "providerID"))
    if old_provider and old_provider != _s(_get(obj, "spec", "providerID")):
        errs.append(forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'))
    if _get(obj, "spec", "externalID") != _get(old, "spec", "externalID"):
        errs.append(forbidden("spec.externalID", "may not be updated"))
    return errs


def _validate_pvc(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    if old is not None:
        # Kubernetes' claim update rules (what may change once bound) are not modelled here.
        return errs
    spec = _get(obj, "spec")
    modes = list(_get(spec, "accessModes") or ())
    if not modes:
        errs.append(required("spec.accessModes", "at least 1 access mode is required"))
    supported = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
    for mode in modes:
        if mode not in supported:
            errs.append(not_supported("spec.accessModes", mode, supported))
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        errs.append(forbidden("spec.accessModes", "may not use ReadWriteOncePod with other access modes"))
    errs.extend(_label_selector_errors(_get(spec, "selector"), "spec.selector"))
    storage = (_get(spec, "resources", "requests") or {}).get("storage")
    storage_path = _key("spec.resources", "storage")
    if storage is None:
        errs.append(required(storage_path))
    else:
        q, q_errs = validate_quantity(storage, storage_path)
        errs.extend(q_errs)
        if q is not None:
            if q.value <= 0:
                errs.append(invalid(storage_path, str(q), "must be greater than zero"))
            else:
                errs.extend(_validate_resource_quantity_value("storage", q, storage_path))
    class_name = _get(spec, "storageClassName")
    if class_name:
        errs.extend(invalid("spec.storageClassName", class_name, m) for m in name_is_dns_subdomain(class_name))
    mode = _get(spec, "volumeMode")
    if mode is not None and mode not in ("Block", "Filesystem"):
        errs.append(not_supported("spec.volumeMode", mode, ["Block", "Filesystem"]))
    return errs


# ---------------------------------------------------------------------------------------------
# Other groups
# ---------------------------------------------------------------------------------------------

_SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
_HIGHEST_USER_PRIORITY = 1000000000


def _validate_priority_class(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, False, name_is_dns_subdomain)
    name = _s(_get(obj, "metadata", "name"))
    value = _i(_get(obj, "value"))
    if old is None:
        if name.startswith("system-"):
            reason = None
            if name not in _SYSTEM_PRIORITY_CLASSES:
                reason = f"{name} is not a known system priority class"
            elif value != _SYSTEM_PRIORITY_CLASSES[name]:
                reason = f"value of {name} PriorityClass must be {_SYSTEM_PRIORITY_CLASSES[name]}"
            elif _get(obj, "globalDefault"):
                reason = f"globalDefault of {name} PriorityClass must be false"
            if reason:
                errs.append(forbidden("metadata.name", f"priority class names with 'system-' prefix are reserved for system use only. error: {reason}"))
        elif value > _HIGHEST_USER_PRIORITY:
            errs.append(forbidden("value", f"maximum allowed value of a user defined priority is {_HIGHEST_USER_PRIORITY}"))
    else:
        if value != _i(_get(old, "value")):
            errs.append(forbidden("value", "may not be changed in an update."))
        errs.extend(validate_immutable(_get(obj, "preemptionPolicy"), _get(old, "preemptionPolicy"), "preemptionPolicy"))
    policy = _get(obj, "preemptionPolicy")
    if policy is not None and policy not in ("PreemptLowerPriority", "Never"):
        errs.append(not_supported("preemptionPolicy", policy, ["PreemptLowerPriority", "Never"]))
    return errs


def _validate_pdb(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    spec = _get(obj, "spec")
    min_available = _get(spec, "minAvailable")
    max_unavailable = _get(spec, "maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        errs.append(invalid("spec", _to_builtins(spec), "minAvailable and maxUnavailable cannot be both set"))
    for name, value in (("minAvailable", min_available), ("maxUnavailable", max_unavailable)):
        if value is not None:
            errs.extend(_validate_int_or_percent(value, f"spec.{name}"))
            errs.extend(_not_more_than_100_percent(value, f"spec.{name}"))
    errs.extend(_label_selector_errors(_get(spec, "selector"), "spec.selector"))
    policy = _get(spec, "unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        errs.append(not_supported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"]))
    return errs


def _validate_lease(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    duration = _get(obj, "spec", "leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = _get(obj, "spec", "leaseTransitions")
    if transitions is not None:
        errs.extend(_nonnegative(transitions, "spec.leaseTransitions"))
    return errs


_RBAC_GROUP = "rbac.authorization.k8s.io"


def _validate_policy_rules(rules: Sequence[Any] | None, namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(rules or ()):
        r_path = _index("rules", i)
        if not _get(rule, "verbs"):
            errs.append(required(_child(r_path, "verbs"), "verbs must contain at least one value"))
        urls = list(_get(rule, "nonResourceURLs") or ())
        if urls:
            if namespaced:
                errs.append(invalid(_child(r_path, "nonResourceURLs"), urls, "namespaced rules cannot apply to non-resource URLs"))
            if _get(rule, "apiGroups") or _get(rule, "resources") or _get(rule, "resourceNames"):
                errs.append(invalid(_child(r_path, "nonResourceURLs"), urls, "rules cannot apply to both regular resources and non-resource URLs"))
            continue
        if not _get(rule, "apiGroups"):
            errs.append(required(_child(r_path, "apiGroups"), "resource rules must supply at least one api group"))
        if not _get(rule, "resources"):
            errs.append(required(_child(r_path, "resources"), "resource rules must supply at least one resource"))
    return errs


def _validate_role(obj: Any, old: Any, namespaced: bool) -> list[FieldError]:
    errs = _meta(obj, old, namespaced, _name_is_path_segment, kube_finalizers=False)
    if old is not None:
        errs.extend(validate_object_meta(_get(obj, "metadata"), namespaced, _name_is_path_segment, kube_finalizers=False))
    errs.extend(_validate_policy_rules(_get(obj, "rules"), namespaced))
    return errs


def _validate_binding(obj: Any, old: Any, namespaced: bool) -> list[FieldError]:
    errs = _meta(obj, old, namespaced, _name_is_path_segment, kube_finalizers=False)
    if old is not None:
        errs.extend(validate_object_meta(_get(obj, "metadata"), namespaced, _name_is_path_segment, kube_finalizers=False))
        if not _semantic_equal(_get(obj, "roleRef"), _get(old, "roleRef")):
            errs.append(invalid("roleRef", _to_builtins(_get(obj, "roleRef")), "cannot change roleRef"))
    role_ref = _get(obj, "roleRef")
    if _s(_get(role_ref, "apiGroup")) != _RBAC_GROUP:
        errs.append(not_supported("roleRef.apiGroup", _s(_get(role_ref, "apiGroup")), [_RBAC_GROUP]))
    kind = _s(_get(role_ref, "kind"))
    allowed = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if kind not in allowed:
        errs.append(not_supported("roleRef.kind", kind, allowed))
    role_name = _s(_get(role_ref, "name"))
    if not role_name:
        errs.append(required("roleRef.name"))
    else:
        errs.extend(invalid("roleRef.name", role_name, m) for m in is_path_segment_name(role_name))
    for i, subject in enumerate(_get(obj, "subjects") or ()):
        s_path = _index("subjects", i)
        name = _s(_get(subject, "name"))
        group = _s(_get(subject, "apiGroup"))
        kind = _s(_get(subject, "kind"))
        if not name:
            errs.append(required(_child(s_path, "name")))
        if kind == "ServiceAccount":
            if name:
                errs.extend(invalid(_child(s_path, "name"), name, m) for m in name_is_dns_subdomain(name))
            if group:
                errs.append(not_supported(_child(s_path, "apiGroup"), group, [""]))
            if not namespaced and not _get(subject, "namespace"):
                errs.append(required(_child(s_path, "namespace")))
        elif kind in ("User", "Group"):
            if group != _RBAC_GROUP:
                errs.append(not_supported(_child(s_path, "apiGroup"), group, [_RBAC_GROUP]))
        else:
            errs.append(not_supported(_child(s_path, "kind"), kind, ["ServiceAccount", "User", "Group"]))
    return errs


def _validate_storage_class(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, False, name_is_dns_subdomain)
    if old is None:
        provisioner = _s(_get(obj, "provisioner"))
        if not provisioner:
            errs.append(required("provisioner"))
        else:
            errs.extend(_validate_qualified_name(provisioner.lower(), "provisioner"))
    else:
        errs.extend(validate_immutable(_get(obj, "parameters"), _get(old, "parameters"), "parameters"))
        errs.extend(validate_immutable(_s(_get(obj, "provisioner")), _s(_get(old, "provisioner")), "provisioner"))
        errs.extend(validate_immutable(_get(obj, "reclaimPolicy"), _get(old, "reclaimPolicy"), "reclaimPolicy"))
        errs.extend(validate_immutable(_get(obj, "volumeBindingMode"), _get(old, "volumeBindingMode"), "volumeBindingMode"))
    reclaim = _get(obj, "reclaimPolicy")
    if reclaim is not None and reclaim not in ("Delete", "Retain"):
        errs.append(not_supported("reclaimPolicy", reclaim, ["Delete", "Retain"]))
    binding = _get(obj, "volumeBindingMode")
    if binding is None:
        errs.append(required("volumeBindingMode"))
    elif binding not in ("Immediate", "WaitForFirstConsumer"):
        errs.append(not_supported("volumeBindingMode", binding, ["Immediate", "WaitForFirstConsumer"]))
    return errs


def _validate_crd(obj: Any, old: Any) -> list[FieldError]:
    plural = _s(_get(obj, "spec", "names", "plural"))
    group = _s(_get(obj, "spec", "group"))

    def name_fn(name: str, prefix: bool) -> list[str]:
        reasons = name_is_dns_subdomain(name, prefix)
        if name != f"{plural}.{group}":
            reasons.append('must be spec.names.plural+"."+spec.group')
        return reasons

    errs = _meta(obj, old, False, name_fn, kube_finalizers=False)
    scope = _s(_get(obj, "spec", "scope"))
    if scope not in ("Cluster", "Namespaced"):
        errs.append(not_supported("spec.scope", scope, ["Cluster", "Namespaced"]))
    if old is not None:
        errs.extend(validate_immutable(scope, _s(_get(old, "spec", "scope")), "spec.scope"))
    return errs


def _validate_binding_request(obj: Any, old: Any) -> list[FieldError]:
    # The body of pods/binding: only the target is checked (ValidatePodBinding).
    errs: list[FieldError] = []
    kind = _s(_get(obj, "target", "kind"))
    if kind and kind != "Node":
        errs.append(not_supported("target.kind", kind, ["Node", "<empty>"]))
    if not _get(obj, "target", "name"):
        errs.append(required("target.name"))
    return errs


def _no_validation(obj: Any, old: Any) -> list[FieldError]:
    # Request kinds (reviews, evictions) are never stored; their metadata is not validated.
    return []


def _validate_pod(obj: Any, old: Any) -> list[FieldError]:
    return _validate_pod_create(obj) if old is None else _validate_pod_update(obj, old)


def _validate_pod_template(obj: Any, old: Any) -> list[FieldError]:
    errs = _meta(obj, old, True, name_is_dns_subdomain)
    errs.extend(validate_pod_template_spec(_get(obj, "template"), "template"))
    return errs


def _validate_service_kind(obj: Any, old: Any) -> list[FieldError]:
    return _validate_service(obj) if old is None else _validate_service_update(obj, old)


def _metadata_only(name_fn: NameFunc, *, kube_finalizers: bool = True) -> Callable[[Any, Any], list[FieldError]]:
    def validate(obj: Any, old: Any) -> list[FieldError]:
        namespaced = bool(getattr(type(obj), "namespaced", True))
        errs = _meta(obj, old, namespaced, name_fn, kube_finalizers=kube_finalizers)
        if old is not None:
            errs.extend(validate_object_meta(_get(obj, "metadata"), namespaced, name_fn, kube_finalizers=kube_finalizers))
        return errs

    return validate


_VALIDATORS: dict[tuple[str, str], Callable[[Any, Any], list[FieldError]]] = {
    ("", "Pod"): _validate_pod,
    ("", "PodTemplate"): _validate_pod_template,
    ("", "ReplicationController"): _validate_replication_controller,
    ("", "Service"): _validate_service_kind,
    ("", "ConfigMap"): _validate_config_map,
    ("", "Secret"): _validate_secret,
    ("", "Namespace"): _validate_namespace,
    ("", "Node"): _validate_node,
    ("", "PersistentVolumeClaim"): _validate_pvc,
    ("", "ServiceAccount"): _metadata_only(name_is_dns_subdomain),
    ("", "Endpoints"): _metadata_only(name_is_dns_subdomain),
    ("", "LimitRange"): _metadata_only(name_is_dns_subdomain),
    ("", "ResourceQuota"): _metadata_only(name_is_dns_subdomain),
    ("", "PersistentVolume"): _metadata_only(name_is_dns_subdomain),
    ("", "Event"): _metadata_only(name_is_dns_subdomain),
    ("apps", "Deployment"): _validate_deployment,
    ("apps", "ReplicaSet"): _validate_replica_set,
    ("apps", "DaemonSet"): _validate_daemon_set,
    ("apps", "StatefulSet"): _validate_stateful_set,
    ("apps", "ControllerRevision"): _validate_controller_revision,
    ("batch", "Job"): _validate_job,
    ("batch", "CronJob"): _validate_cron_job,
    ("coordination.k8s.io", "Lease"): _validate_lease,
    ("scheduling.k8s.io", "PriorityClass"): _validate_priority_class,
    ("policy", "PodDisruptionBudget"): _validate_pdb,
    ("", "Binding"): _validate_binding_request,
    ("storage.k8s.io", "StorageClass"): _validate_storage_class,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _validate_crd,
    ("authentication.k8s.io", "TokenReview"): _no_validation,
    ("authentication.k8s.io", "SelfSubjectReview"): _no_validation,
    ("authorization.k8s.io", "SubjectAccessReview"): _no_validation,
    ("authorization.k8s.io", "LocalSubjectAccessReview"): _no_validation,
    ("authorization.k8s.io", "SelfSubjectAccessReview"): _no_validation,
    ("authorization.k8s.io", "SelfSubjectRulesReview"): _no_validation,
    ("policy", "Eviction"): _no_validation,
    ("", "Status"): _no_validation,
    ("", "DeleteOptions"): _no_validation,
    (_RBAC_GROUP, "Role"): lambda obj, old: _validate_role(obj, old, True),
    (_RBAC_GROUP, "ClusterRole"): lambda obj, old: _validate_role(obj, old, False),
    (_RBAC_GROUP, "RoleBinding"): lambda obj, old: _validate_binding(obj, old, True),
    (_RBAC_GROUP, "ClusterRoleBinding"): lambda obj, old: _validate_binding(obj, old, False),
}


_STATUS_COUNTS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]] = {
    # kind: (non-negative status counters, (counter, ceiling, message) pairs)
    "Deployment": (
        ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas", "collisionCount"),
        (
            ("updatedReplicas", "replicas", "cannot be greater than status.replicas"),
            ("readyReplicas", "replicas", "cannot be greater than status.replicas"),
            ("availableReplicas", "replicas", "cannot be greater than status.replicas"),
            ("availableReplicas", "readyReplicas", "cannot be greater than readyReplicas"),
        ),
    ),
    "ReplicaSet": (
        ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"),
        (
            ("fullyLabeledReplicas", "replicas", "cannot be greater than status.replicas"),
            ("readyReplicas", "replicas", "cannot be greater than status.replicas"),
            ("availableReplicas", "replicas", "cannot be greater than status.replicas"),
            ("availableReplicas", "readyReplicas", "cannot be greater than readyReplicas"),
        ),
    ),
    "ReplicationController": (
        ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"),
        (
            ("fullyLabeledReplicas", "replicas", "cannot be greater than status.replicas"),
            ("readyReplicas", "replicas", "cannot be greater than status.replicas"),
            ("availableReplicas", "replicas", "cannot be greater than status.replicas"),
            ("availableReplicas", "readyReplicas", "cannot be greater than readyReplicas"),
        ),
    ),
    "StatefulSet": (
        ("replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas", "observedGeneration", "collisionCount"),
        (
            ("readyReplicas", "replicas", "cannot be greater than status.replicas"),
            ("currentReplicas", "replicas", "cannot be greater than status.replicas"),
            ("updatedReplicas", "replicas", "cannot be greater than status.replicas"),
            ("availableReplicas", "replicas", "cannot be greater than status.replicas"),
            ("availableReplicas", "readyReplicas", "cannot be greater than status.readyReplicas"),
        ),
    ),
    "DaemonSet": (
        (
            "currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady", "observedGeneration",
            "updatedNumberScheduled", "numberAvailable", "numberUnavailable", "collisionCount",
        ),
        (),
    ),
    "Job": (("active", "succeeded", "failed"), ()),
}


def _validate_pod_status_update(new: Any, old: Any) -> list[FieldError]:
    errs: list[FieldError] = []
    if _s(_get(new, "spec", "nodeName")) != _s(_get(old, "spec", "nodeName")):
        errs.append(forbidden("status.nodeName", "may not be changed directly"))
    nominated = _s(_get(new, "status", "nominatedNodeName"))
    if nominated and nominated != _s(_get(old, "status", "nominatedNodeName")):
        errs.extend(invalid("status.nominatedNodeName", nominated, m) for m in name_is_dns_subdomain(nominated))
    errs.extend(validate_immutable(_s(_get(new, "status", "qosClass")), _s(_get(old, "status", "qosClass")), "status.qosClass"))
    restart = _s(_get(old, "spec", "restartPolicy"))
    for list_name in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        policy = "Never" if list_name == "ephemeralContainerStatuses" else restart
        if policy == "Always":
            continue
        new_statuses = {_s(_get(c, "name")): c for c in _get(new, "status", list_name) or ()}
        for i, old_status in enumerate(_get(old, "status", list_name) or ()):
            terminated = _get(old_status, "state", "terminated")
            if terminated is None or (_i(_get(terminated, "exitCode")) != 0 and policy == "OnFailure"):
                continue
            if list_name == "initContainerStatuses":
                spec_init = {_s(_get(c, "name")): c for c in _get(old, "spec", "initContainers") or ()}
                if _get(spec_init.get(_s(_get(old_status, "name"))), "restartPolicy") == "Always":
                    continue
            current = new_statuses.get(_s(_get(old_status, "name")))
            if current is not None and _get(current, "state", "terminated") is None:
                errs.append(forbidden(f"status.{list_name}[{i}].state", "may not be transitioned to non-terminated state"))
    ips = [_s(_get(ip, "ip")) for ip in _get(new, "status", "podIPs") or ()]
    for i, ip in enumerate(ips):
        errs.extend(validate_ip(ip, f"status.podIPs[{i}]"))
        if ip in ips[:i]:
            errs.append(duplicate(f"status.podIPs[{i}]", {"ip": ip}))
    return errs


def _validate_status_update(obj: Any, old: Any) -> list[FieldError]:
    kind = type(obj).__name__
    errs = validate_object_meta_update(_get(obj, "metadata"), _get(old, "metadata"))
    if kind == "Pod":
        errs.extend(_validate_pod_status_update(obj, old))
    counters, ceilings = _STATUS_COUNTS.get(kind, ((), ()))
    status = _get(obj, "status")
    for name in counters:
        value = _get(status, name)
        if value is not None:
            errs.extend(_nonnegative(value, f"status.{name}"))
    for name, ceiling, message in ceilings:
        if _i(_get(status, name)) > _i(_get(status, ceiling)):
            errs.append(invalid(f"status.{name}", _i(_get(status, name)), message))
    old_collisions = _get(old, "status", "collisionCount")
    new_collisions = _get(status, "collisionCount")
    if old_collisions is not None and (new_collisions is None or new_collisions < old_collisions):
        errs.append(invalid("status.collisionCount", _i(new_collisions), "cannot be decremented"))
    return errs


def validate_object(obj: Any, old: Any = None, *, subresource: str = "") -> list[FieldError]:
    """Validate a (defaulted) object on create, or on update when `old` is given.

    Dispatches on the object's kind (its Struct class name and `group`); kinds without rules of
    their own get metadata validation, with names checked as URL path segments (the rule
    Kubernetes applies to custom resources). An update through the ``status`` subresource gets
    Kubernetes' status-update rules (metadata, then status fields) instead of the spec rules;
    ``binding`` is not validated (Kubernetes assigns the node without the pod's update
    validation); other subresources (``scale``) validate the object as a whole. Returns the
    errors in Kubernetes' order; [] when the object is valid. Never raises on malformed content.
    """
    if subresource == "binding":
        return []
    if subresource == "status" and old is not None:
        return _validate_status_update(obj, old)
    cls = type(obj)
    key = (getattr(cls, "group", ""), cls.__name__)
    validator = _VALIDATORS.get(key) or _metadata_only(_name_is_path_segment, kube_finalizers=False)
    return validator(obj, old)
