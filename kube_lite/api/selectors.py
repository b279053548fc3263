"""Label and field selectors, with Kubernetes' syntax, semantics and error text.

Everything here works on plain decoded JSON (dicts), so it serves built-in kinds and custom
resources alike.

Label selectors
    `parse_label_selector("app=web,tier in (fe,be),!canary")` parses the string form that
    `?labelSelector=` carries; `from_label_selector({"matchLabels": ..., "matchExpressions": ...})`
    converts the structured meta/v1 form that specs carry (a `None` selector selects nothing, an
    empty one everything, as Kubernetes' `LabelSelectorAsSelector` does);
    `validate_label_selector` gives the field errors object validation reports for a structured
    selector ("spec.selector.matchExpressions[0].values: Required value: ..."). The result is an
    immutable `LabelSelector` with `matches(labels)`, `str()` (the canonical string form, sorted
    by key), `empty`, `label_keys` and `requires_exact_match(key)`.

Field selectors
    `parse_field_selector("status.phase=Running,spec.nodeName!=")` parses `?fieldSelector=`;
    `convert_field_selector(selector, group, resource)` checks and rewrites its labels the way
    the API server's per-kind conversion functions do, raising `SelectorError` with the exact
    message Kubernetes gives (`field label not supported: spec.foo`); `object_fields(group,
    resource, obj)` computes the field set a selector is matched against (missing keys compare
    as ""), and `FieldLabelPolicy` bundles both for one resource, including custom resources
    with `selectableFields`.

Error messages are Kubernetes' own, because kubectl shows the server's message verbatim and
users (and tests written against real clusters) match on them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kube_lite.api.validation import go_quote as _go_quote

__all__ = [
    "EVERYTHING",
    "FIELD_EVERYTHING",
    "NOTHING",
    "FieldError",
    "FieldLabelPolicy",
    "FieldSelector",
    "FieldTerm",
    "LabelSelector",
    "Requirement",
    "SelectorError",
    "convert_field_selector",
    "custom_resource_field_policy",
    "escape_field_value",
    "field_label_policy",
    "format_label_selector",
    "format_labels",
    "from_label_selector",
    "is_label_key",
    "is_label_value",
    "object_fields",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_set",
    "supports_field_label",
    "unescape_field_value",
    "validate_label_selector",
]


class SelectorError(ValueError):
    """A selector Kubernetes would reject. `str(err)` is Kubernetes' message, verbatim.

    The API server answers these with 400 BadRequest and this message.
    """


# --------------------------------------------------------------------------------------------
# Field errors (the `field.Error` of apimachinery), as far as selectors need them.
# --------------------------------------------------------------------------------------------

_ERROR_TYPE_TEXT = {
    "FieldValueRequired": "Required value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueNotSupported": "Unsupported value",
}

# Error types whose body shows the offending value.
_SHOWS_VALUE = {"FieldValueInvalid", "FieldValueNotSupported"}


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field-level validation error, rendered exactly as apimachinery renders it.

    `type` is the cause reason (`FieldValueInvalid`, `FieldValueRequired`, ...), `field` the path
    (`spec.selector.matchLabels`), `bad_value` the offending value (shown for Invalid and
    NotSupported), `detail` the explanation. `str()` is `"<field>: <body>"`; `body()` is what a
    Status cause carries as its message.
    """

    type: str
    field: str
    bad_value: Any = None
    detail: str = ""

    def body(self) -> str:
        """The message without the field path, e.g. `Invalid value: "x": must be ...`."""
        text = _ERROR_TYPE_TEXT.get(self.type, self.type)
        if self.type in _SHOWS_VALUE:
            text = f"{text}: {_go_value(self.bad_value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict[str, str]:
        """The `details.causes[]` entry of an Invalid Status for this error."""
        return {"reason": self.type, "message": self.body(), "field": self.field}


def _go_value(value: Any) -> str:
    """How a field error shows its bad value: strings %q, scalars bare, the rest as Go's JSON."""
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    # Go's encoder escapes HTML-significant characters; match it so messages compare equal.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _aggregate(errors: Sequence[FieldError]) -> str:
    """apimachinery's aggregate error text: one error alone, several as `[e1, e2]` deduplicated."""
    messages: list[str] = []
    for err in errors:
        text = str(err)
        if text not in messages:
            messages.append(text)
    if len(messages) == 1:
        return messages[0]
    return "[" + ", ".join(messages) + "]"


# --------------------------------------------------------------------------------------------
# Label key and value syntax (IsQualifiedName / IsValidLabelValue), with their messages.
# --------------------------------------------------------------------------------------------

_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = f"({_LABEL_KEY_FMT})?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
# Patterns are ASCII-only and matched with fullmatch, which (unlike `$`) refuses a trailing newline,
# as Go's anchored regexps do.
_LABEL_KEY_RE = re.compile(_LABEL_KEY_FMT)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """apimachinery's RegexError text, including its ",  or " double space between examples."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    listed = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {listed}regex used for validation is '{fmt}')"


def _byte_len(s: str) -> int:
    # Go measures strings in bytes, so limits count UTF-8 bytes, not characters.
    return len(s.encode("utf-8", "surrogatepass"))


def _dns1123_subdomain_errors(value: str) -> list[str]:
    errs = []
    if _byte_len(value) > 253:
        errs.append("must be no more than 253 bytes")
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_label_key(key: str) -> list[str]:
    """Why `key` is not a valid label key (a qualified name), as Kubernetes words it; [] if valid."""
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _dns1123_subdomain_errors(prefix))
    else:
        return [
            "a valid label key "
            + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif _byte_len(name) > 63:
        errs.append("name part must be no more than 63 bytes")
    if not _LABEL_KEY_RE.fullmatch(name):
        errs.append(
            "name part " + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_label_value(value: str) -> list[str]:
    """Why `value` is not a valid label value, as Kubernetes words it; [] if valid."""
    errs = []
    if _byte_len(value) > 63:
        errs.append("must be no more than 63 bytes")
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


# --------------------------------------------------------------------------------------------
# Label selectors
# --------------------------------------------------------------------------------------------

# Operator spellings are those of apimachinery's `selection` package; they show up in messages.
OP_IN = "in"
OP_NOT_IN = "notin"
OP_EQUALS = "="
OP_DOUBLE_EQUALS = "=="
OP_NOT_EQUALS = "!="
OP_EXISTS = "exists"
OP_DOES_NOT_EXIST = "!"
OP_GT = "gt"
OP_LT = "lt"

_BINARY_OPERATORS = (OP_IN, OP_NOT_IN, OP_EQUALS, OP_DOUBLE_EQUALS, OP_NOT_EQUALS, OP_GT, OP_LT)
_ALL_OPERATORS = _BINARY_OPERATORS + (OP_EXISTS, OP_DOES_NOT_EXIST)

# Go's strconv.ParseInt(s, 10, 64): optional sign, ASCII digits, within int64.
_INT_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _parse_int64(s: str) -> int | None:
    if not _INT_RE.fullmatch(s):
        return None
    n = int(s)
    return n if _INT64_MIN <= n <= _INT64_MAX else None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One term of a label selector: `key <operator> values`.

    `operator` is one of `in notin = == != exists ! gt lt`. `values` keeps the order it was
    built with (sorted and de-duplicated when parsed from a string); `str()` sorts them.
    Build it with `Requirement.new`, which validates; direct construction does not.
    """

    key: str
    operator: str
    values: tuple[str, ...] = ()

    @classmethod
    def new(cls, key: str, operator: str, values: Iterable[str] = (), *, path: str = "") -> Requirement:
        """A validated requirement, or SelectorError with Kubernetes' NewRequirement message.

        `path` prefixes the field paths in the message (`key`, `values[0][key]`), as the
        PathOption of `labels.NewRequirement` does.
        """
        vals = tuple(values)
        errors = _requirement_errors(key, operator, vals, path, values_were_nil=not vals)
        if errors:
            raise SelectorError(_aggregate(errors))
        return cls(key, operator, vals)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a set of labels satisfies this requirement (Kubernetes' Requirement.Matches)."""
        op = self.operator
        present = self.key in labels
        if op in (OP_IN, OP_EQUALS, OP_DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if op in (OP_NOT_IN, OP_NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if op == OP_EXISTS:
            return present
        if op == OP_DOES_NOT_EXIST:
            return not present
        if op in (OP_GT, OP_LT):
            if not present or len(self.values) != 1:
                return False
            have = _parse_int64(labels[self.key])
            want = _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == OP_GT else have < want
        return False

    def __str__(self) -> str:
        op = self.operator
        if op == OP_EXISTS:
            return self.key
        if op == OP_DOES_NOT_EXIST:
            return "!" + self.key
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in (OP_IN, OP_NOT_IN):
            return f"{self.key} {op} ({values})"
        symbol = {OP_GT: ">", OP_LT: "<"}.get(op, op)
        return f"{self.key}{symbol}{values}"


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _requirement_errors(
    key: str, op: str, values: tuple[str, ...], path: str, *, values_were_nil: bool
) -> list[FieldError]:
    """The checks of Kubernetes' NewRequirement, in its order."""
    errors: list[FieldError] = []
    key_errs = is_label_key(key)
    if key_errs:
        errors.append(FieldError("FieldValueInvalid", _child(path, "key"), key, "; ".join(key_errs)))
    values_path = _child(path, "values")
    # Go renders a nil []string as JSON null and an empty non-nil one as [].
    shown: Any = None if values_were_nil else list(values)
    if op in (OP_IN, OP_NOT_IN):
        if not values:
            errors.append(
                FieldError(
                    "FieldValueInvalid",
                    values_path,
                    shown,
                    "for 'in', 'notin' operators, values set can't be empty",
                )
            )
    elif op in (OP_EQUALS, OP_DOUBLE_EQUALS, OP_NOT_EQUALS):
        if len(values) != 1:
            errors.append(
                FieldError(
                    "FieldValueInvalid",
                    values_path,
                    shown,
                    "exact-match compatibility requires one single value",
                )
            )
    elif op in (OP_EXISTS, OP_DOES_NOT_EXIST):
        if values:
            errors.append(
                FieldError(
                    "FieldValueInvalid",
                    values_path,
                    shown,
                    "values set must be empty for exists and does not exist",
                )
            )
    elif op in (OP_GT, OP_LT):
        if len(values) != 1:
            errors.append(
                FieldError(
                    "FieldValueInvalid",
                    values_path,
                    shown,
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                )
            )
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errors.append(
                    FieldError(
                        "FieldValueInvalid",
                        f"{values_path}[{i}]",
                        v,
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    )
                )
    else:
        supported = ", ".join(json.dumps(o) for o in _ALL_OPERATORS)
        errors.append(
            FieldError(
                "FieldValueNotSupported", _child(path, "operator"), op, f"supported values: {supported}"
            )
        )
    for i, v in enumerate(values):
        value_errs = is_label_value(v)
        if value_errs:
            errors.append(
                FieldError("FieldValueInvalid", f"{values_path}[{i}][{key}]", v, "; ".join(value_errs))
            )
    return errors


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A parsed label selector: the AND of its requirements, sorted by key.

    `matches_nothing` marks the selector of a nil structured selector, which selects no object
    (and renders as ""). Immutable and hashable, so it can key a cache.
    """

    requirements: tuple[Requirement, ...] = ()
    matches_nothing: bool = False
    label_keys: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label_keys", frozenset(r.key for r in self.requirements))

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (Kubernetes' Selector.Empty)."""
        return not self.matches_nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with these labels (None: no labels) is selected."""
        if self.matches_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        """`matches` on a decoded object's `metadata.labels`."""
        return self.matches((obj.get("metadata") or {}).get("labels"))

    def requires_exact_match(self, key: str) -> str | None:
        """The one value `key` must have for a match, if the selector pins it (=, ==, single in).

        As in Kubernetes, only the first requirement on `key` is considered. A watch cache can
        use this to look an index up instead of scanning.
        """
        for r in self.requirements:
            if r.key == key:
                if r.operator in (OP_EQUALS, OP_DOUBLE_EQUALS, OP_IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def add(self, *requirements: Requirement) -> LabelSelector:
        """A new selector with more requirements (kept sorted by key)."""
        if self.matches_nothing:
            return self
        return LabelSelector(_sorted_by_key(self.requirements + requirements))

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _sorted_by_key(reqs: Iterable[Requirement]) -> tuple[Requirement, ...]:
    # Kubernetes sorts by key only; a stable sort keeps same-key terms in input order.
    return tuple(sorted(reqs, key=lambda r: r.key))


EVERYTHING = LabelSelector()
"""The selector that matches every object (an empty structured selector, or "")."""

NOTHING = LabelSelector(matches_nothing=True)
"""The selector that matches no object (a nil structured selector)."""


# Lexer ------------------------------------------------------------------------------------

(
    _T_ERROR,
    _T_EOS,
    _T_CLOSE,
    _T_COMMA,
    _T_NOT,
    _T_DEQ,
    _T_EQ,
    _T_GT,
    _T_ID,
    _T_IN,
    _T_LT,
    _T_NEQ,
    _T_NOTIN,
    _T_OPEN,
) = range(14)

_SYMBOLS = {
    ")": _T_CLOSE,
    ",": _T_COMMA,
    "!": _T_NOT,
    "==": _T_DEQ,
    "=": _T_EQ,
    ">": _T_GT,
    "<": _T_LT,
    "!=": _T_NEQ,
    "(": _T_OPEN,
}
_KEYWORDS = {"in": _T_IN, "notin": _T_NOTIN}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _tokenize(s: str) -> list[tuple[int, str]]:
    """Split a label selector string into (token, literal) pairs ending with end-of-string.

    Mirrors Kubernetes' lexer: whitespace separates; runs of `=!(),><` are read greedily into
    the longest operator; anything else up to whitespace or an operator character is an
    identifier, or the keyword `in`/`notin`. A NUL character reads as end of string where a
    token would start, and ends the token it interrupts (Go reads 0 as "no more input").
    """
    tokens: list[tuple[int, str]] = []
    pos, n = 0, len(s)
    while True:
        while pos < n and s[pos] in _WHITESPACE:
            pos += 1
        if pos >= n or s[pos] == "\0":
            tokens.append((_T_EOS, ""))
            return tokens
        if s[pos] in _SPECIAL:
            buf = ""
            best: tuple[int, str] | None = None
            while pos < n:
                ch = s[pos]
                if ch == "\0":
                    pos += 1
                    break
                if ch not in _SPECIAL:
                    break
                buf += ch
                pos += 1
                if buf in _SYMBOLS:
                    best = (_SYMBOLS[buf], buf)
                elif best is not None:
                    pos -= 1
                    break
            tokens.append(best if best is not None else (_T_ERROR, f"error expected: keyword found '{buf}'"))
            continue
        start = pos
        while pos < n and s[pos] not in _SPECIAL and s[pos] not in _WHITESPACE and s[pos] != "\0":
            pos += 1
        literal = s[start:pos]
        if pos < n and s[pos] == "\0":
            pos += 1
        tokens.append((_KEYWORDS.get(literal, _T_ID), literal))


class _LabelParser:
    """Recursive descent over the token list, with Kubernetes' error messages.

    `in`/`notin` are operators only where an operator is expected; elsewhere (as keys or values)
    they are identifiers, so `in in (in)` is a valid selector.
    """

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def _peek(self, as_value: bool = True) -> tuple[int, str]:
        tok, lit = self.tokens[self.pos]
        if as_value and tok in (_T_IN, _T_NOTIN):
            tok = _T_ID
        return tok, lit

    def _take(self, as_value: bool = True) -> tuple[int, str]:
        item = self._peek(as_value)
        self.pos += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self._peek()
            if tok == _T_EOS:
                return requirements
            if tok not in (_T_ID, _T_NOT):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self._requirement())
            except SelectorError as err:
                raise SelectorError(f"unable to parse requirement: {err}") from None
            tok, lit = self._take()
            if tok == _T_EOS:
                return requirements
            if tok != _T_COMMA:
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self._peek()
            if tok not in (_T_ID, _T_NOT):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        operator = ""
        tok, key = self._take()
        if tok == _T_NOT:
            operator = OP_DOES_NOT_EXIST
            tok, key = self._take()
        if tok != _T_ID:
            raise SelectorError(f"found '{key}', expected: identifier")
        key_errs = is_label_key(key)
        if key_errs:
            # The parser validates the key with no field path, which Go renders as "<nil>".
            raise SelectorError(str(FieldError("FieldValueInvalid", "<nil>", key, "; ".join(key_errs))))
        if self._peek()[0] in (_T_EOS, _T_COMMA) and operator != OP_DOES_NOT_EXIST:
            operator = OP_EXISTS
        if operator in (OP_EXISTS, OP_DOES_NOT_EXIST):
            return Requirement.new(key, operator, ())
        operator = self._operator()
        values = self._set_values() if operator in (OP_IN, OP_NOT_IN) else self._exact_value()
        return Requirement.new(key, operator, sorted(values))

    def _operator(self) -> str:
        tok, lit = self._take(as_value=False)
        op = {
            _T_IN: OP_IN,
            _T_EQ: OP_EQUALS,
            _T_DEQ: OP_DOUBLE_EQUALS,
            _T_GT: OP_GT,
            _T_LT: OP_LT,
            _T_NOTIN: OP_NOT_IN,
            _T_NEQ: OP_NOT_EQUALS,
        }.get(tok)
        if op is None:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return op

    def _set_values(self) -> set[str]:
        tok, lit = self._take()
        if tok != _T_OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._peek()
        if tok == _T_CLOSE:
            # "()" is the set holding only the empty value.
            self._take()
            return {""}
        if tok not in (_T_ID, _T_COMMA):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values = self._identifier_list()
        if self._take()[0] != _T_CLOSE:
            # Kubernetes reports the token that opened the list here, not the offending one.
            raise SelectorError(f"found '{lit}', expected: ')'")
        return values

    def _identifier_list(self) -> set[str]:
        """Comma-separated, possibly empty values: `(a,,b)` and `(,a)` include ""."""
        values: set[str] = set()
        while True:
            tok, lit = self._take()
            if tok == _T_ID:
                values.add(lit)
                nxt, nlit = self._peek()
                if nxt == _T_COMMA:
                    continue
                if nxt == _T_CLOSE:
                    return values
                raise SelectorError(f"found '{nlit}', expected: ',' or ')'")
            if tok == _T_COMMA:
                if not values:
                    values.add("")
                nxt, _ = self._peek()
                if nxt == _T_CLOSE:
                    values.add("")
                    return values
                if nxt == _T_COMMA:
                    self._take()
                    values.add("")
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        tok, _ = self._peek()
        if tok in (_T_EOS, _T_COMMA):
            return {""}
        tok, lit = self._take()
        if tok == _T_ID:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the string form of a label selector (`?labelSelector=`), exactly as Kubernetes does.

    Grammar: comma-separated requirements `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
    `k notin (a)`, `k>1`, `k<1`; whitespace is free between tokens; `""` selects everything.
    Requirements come out sorted by key; set values sorted and de-duplicated.

    Raises SelectorError with Kubernetes' message, e.g. `unable to parse requirement: <nil>:
    Invalid value: "a b": name part must consist of ...` or `found ')', expected: ...`.
    """
    return LabelSelector(_sorted_by_key(_LabelParser(text).parse()))


def selector_from_set(labels: Mapping[str, str] | None) -> LabelSelector:
    """The selector matching exactly these labels (`k=v` each); None or {} selects everything.

    Like Kubernetes' SelectorFromSet this does not validate (a Service or ReplicationController
    selector is validated with the object).
    """
    if not labels:
        return EVERYTHING
    return LabelSelector(_sorted_by_key(Requirement(k, OP_EQUALS, (v,)) for k, v in labels.items()))


_STRUCTURED_OPERATORS = {
    "In": OP_IN,
    "NotIn": OP_NOT_IN,
    "Exists": OP_EXISTS,
    "DoesNotExist": OP_DOES_NOT_EXIST,
}


def _as_mapping(selector: Any) -> Mapping[str, Any] | None:
    """Accept a decoded dict, or a msgspec Struct (such as api.meta.LabelSelector)."""
    if selector is None or isinstance(selector, Mapping):
        return selector
    if isinstance(selector, msgspec.Struct):
        return msgspec.to_builtins(selector)
    raise TypeError(f"a label selector must be a mapping, not {type(selector).__name__}")


def from_label_selector(selector: Mapping[str, Any] | Any | None) -> LabelSelector:
    """Convert a structured meta/v1 LabelSelector to a selector (Kubernetes' LabelSelectorAsSelector).

    `None` gives NOTHING (a nil selector selects nothing); a selector with neither matchLabels nor
    matchExpressions gives EVERYTHING. Raises SelectorError on an unknown operator
    (`"Foo" is not a valid label selector operator`) or an invalid requirement, with the
    messages of NewRequirement (`values: Invalid value: null: for 'in', 'notin' operators, values
    set can't be empty`). Object validation uses `validate_label_selector` instead, whose
    messages differ.
    """
    sel = _as_mapping(selector)
    if sel is None:
        return NOTHING
    match_labels = sel.get("matchLabels") or {}
    expressions = sel.get("matchExpressions") or []
    if not match_labels and not expressions:
        return EVERYTHING
    reqs: list[Requirement] = []
    # Go walks the map in random order; sorting makes the first reported error deterministic.
    for key in sorted(match_labels):
        reqs.append(Requirement.new(key, OP_EQUALS, (match_labels[key],)))
    for expr in expressions:
        op_name = expr.get("operator") or ""
        op = _STRUCTURED_OPERATORS.get(op_name)
        if op is None:
            raise SelectorError(f"{json.dumps(op_name)} is not a valid label selector operator")
        raw_values = expr.get("values")
        values = tuple(raw_values or ())
        errors = _requirement_errors(expr.get("key") or "", op, values, "", values_were_nil=not raw_values)
        if errors:
            raise SelectorError(_aggregate(errors))
        reqs.append(Requirement(expr.get("key") or "", op, values))
    return LabelSelector(_sorted_by_key(reqs))


def validate_label_selector(
    selector: Mapping[str, Any] | Any | None,
    path: str = "selector",
    *,
    allow_invalid_label_value: bool = False,
) -> list[FieldError]:
    """Validate a structured LabelSelector as object validation does (ValidateLabelSelector).

    Returns the field errors under `path` (e.g. "spec.selector"), in Kubernetes' order:
    `<path>.matchLabels` for bad keys or values, then per expression `operator` / `values`
    (`Required value: must be specified when `operator` is 'In' or 'NotIn'`, `Forbidden: may
    not be specified when `operator` is 'Exists' or 'DoesNotExist'`), `key`, and each value.
    None is valid (the caller decides whether the selector is required).
    """
    sel = _as_mapping(selector)
    errors: list[FieldError] = []
    if sel is None:
        return errors
    labels_path = f"{path}.matchLabels"
    for key, value in (sel.get("matchLabels") or {}).items():
        errors.extend(FieldError("FieldValueInvalid", labels_path, key, m) for m in is_label_key(key))
        errors.extend(FieldError("FieldValueInvalid", labels_path, value, m) for m in is_label_value(value))
    for i, expr in enumerate(sel.get("matchExpressions") or []):
        expr_path = f"{path}.matchExpressions[{i}]"
        op = expr.get("operator") or ""
        values = expr.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                errors.append(
                    FieldError(
                        "FieldValueRequired",
                        f"{expr_path}.values",
                        "",
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    )
                )
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errors.append(
                    FieldError(
                        "FieldValueForbidden",
                        f"{expr_path}.values",
                        "",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            errors.append(
                FieldError("FieldValueInvalid", f"{expr_path}.operator", op, "not a valid selector operator")
            )
        key = expr.get("key") or ""
        errors.extend(FieldError("FieldValueInvalid", f"{expr_path}.key", key, m) for m in is_label_key(key))
        if not allow_invalid_label_value:
            for j, value in enumerate(values):
                errors.extend(
                    FieldError("FieldValueInvalid", f"{expr_path}.values[{j}]", value, m)
                    for m in is_label_value(value)
                )
    return errors


def format_labels(labels: Mapping[str, str] | None) -> str:
    """Labels as kubectl columns show them: `k=v` sorted (as whole strings), joined ","; none: `<none>`."""
    if not labels:
        return "<none>"
    return ",".join(sorted(f"{k}={v}" for k, v in labels.items()))


def format_label_selector(selector: Mapping[str, Any] | Any | None) -> str:
    """A structured selector as Table cells show it (metav1.FormatLabelSelector).

    The canonical string; `<none>` when it renders empty (nil or empty selector); `<error>` when
    it is invalid.
    """
    try:
        text = str(from_label_selector(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


# --------------------------------------------------------------------------------------------
# Field selectors
# --------------------------------------------------------------------------------------------


def escape_field_value(value: str) -> str:
    """Escape `\\`, `,` and `=` with a backslash so a value can be written into a field selector."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(value: str) -> str:
    """Undo `escape_field_value`; raise SelectorError on a bad escape or a bare `,`/`=`.

    Messages are Kubernetes': `invalid field selector: invalid escape sequence: \\x` and
    `invalid field selector: unescaped character in value: 61` (Go prints the rune's number).
    """
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class FieldTerm:
    """One term of a field selector: `field=value` (operator "=") or `field!=value` ("!=")."""

    field: str
    operator: str
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Compare against a field set; a field missing from the set compares as ""."""
        equal = fields.get(self.field, "") == self.value
        return equal if self.operator == "=" else not equal

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_field_value(self.value)}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """A parsed field selector: the AND of its terms (in the sorted order Kubernetes parses them).

    `matches_nothing` is the Nothing selector. Immutable and hashable.
    """

    terms: tuple[FieldTerm, ...] = ()
    matches_nothing: bool = False

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything."""
        return not self.matches_nothing and not self.terms

    @property
    def field_names(self) -> frozenset[str]:
        """The field labels this selector reads."""
        return frozenset(t.field for t in self.terms)

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether a field set (see `object_fields`) satisfies every term."""
        if self.matches_nothing:
            return False
        return all(t.matches(fields) for t in self.terms)

    def requires_exact_match(self, field_name: str) -> str | None:
        """The value `field_name` must equal for a match, if some `=` term pins it."""
        for t in self.terms:
            if t.field == field_name and t.operator == "=":
                return t.value
        return None

    def transform(self, fn: Callable[[str, str], tuple[str, str]]) -> FieldSelector:
        """Rewrite every term's (field, value) with `fn`; a term mapped to ("", "") is dropped.

        Exceptions from `fn` propagate (conversion functions raise SelectorError).
        """
        if self.matches_nothing:
            return self
        terms = []
        for t in self.terms:
            f, v = fn(t.field, t.value)
            if f or v:
                terms.append(FieldTerm(f, t.operator, v))
        return FieldSelector(tuple(terms))

    def __str__(self) -> str:
        return ",".join(str(t) for t in self.terms)


FIELD_EVERYTHING = FieldSelector()
"""The field selector that matches everything ("")."""


def _split_terms(text: str) -> list[str]:
    """Split on commas not escaped by a backslash (the backslash stays in the term)."""
    terms: list[str] = []
    start = 0
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    # The field name cannot be escaped, so the first operator occurrence splits the term; "!="
    # and "==" are tried before "=" so no stray "=" stays on the value.
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def parse_field_selector(text: str) -> FieldSelector:
    """Parse `?fieldSelector=` exactly as Kubernetes does: `f=v`, `f==v`, `f!=v`, comma-separated.

    Values may escape `\\`, `,` and `=` with a backslash. Terms are sorted (Kubernetes sorts
    them before parsing); empty terms are skipped; "" selects everything. The field labels are
    not checked here: `convert_field_selector` does that per resource.

    Raises SelectorError, e.g. `invalid selector: 'a'; can't understand 'a'`.
    """
    terms: list[FieldTerm] = []
    for part in sorted(_split_terms(text)) if text else []:
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        lhs, op, rhs = split
        value = unescape_field_value(rhs)
        if not lhs and not value:
            # Kubernetes' identity transform drops a term that is empty on both sides ("=").
            continue
        terms.append(FieldTerm(lhs, "!=" if op == "!=" else "=", value))
    return FieldSelector(tuple(terms))


# Field label policies ------------------------------------------------------------------------

FieldSetFn = Callable[[Mapping[str, Any]], dict[str, str]]
ConvertFn = Callable[[str, str], tuple[str, str]]


@dataclass(frozen=True)
class FieldLabelPolicy:
    """Which field labels a resource accepts and how an object's field set is computed.

    `convert(label, value)` is the kind's field-label conversion function: it returns the
    (possibly renamed) label and value, or raises SelectorError with Kubernetes' message.
    `field_set(obj)` is the strategy's selectable field set of a decoded object.
    """

    convert: ConvertFn
    field_set: FieldSetFn
    accepted: frozenset[str]

    def supports(self, label: str) -> bool:
        """Whether the label is accepted in a field selector for this resource."""
        try:
            self.convert(label, "")
        except SelectorError:
            return False
        return True

    def matches(self, selector: FieldSelector, obj: Mapping[str, Any]) -> bool:
        """Whether a (converted) selector selects this object."""
        if selector.empty:
            return True
        return selector.matches(self.field_set(obj))


def _get(obj: Mapping[str, Any] | None, *path: str) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def _s(value: Any) -> str:
    """A scalar as it appears in a field set: strings as is, None as "", bools true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _meta_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata") or {}
    # Cluster-scoped objects have no namespace, which reads as "" just as a missing key would.
    return {"metadata.name": _s(meta.get("name")), "metadata.namespace": _s(meta.get("namespace"))}


def _pod_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    pod_ips = status.get("podIPs") or []
    pod_ip = (
        _s(pod_ips[0].get("ip")) if pod_ips and isinstance(pod_ips[0], Mapping) else _s(status.get("podIP"))
    )
    return _meta_fields(obj) | {
        "spec.nodeName": _s(spec.get("nodeName")),
        "spec.restartPolicy": _s(spec.get("restartPolicy")),
        "spec.schedulerName": _s(spec.get("schedulerName")),
        "spec.serviceAccountName": _s(spec.get("serviceAccountName")),
        "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
        "status.phase": _s(status.get("phase")),
        "status.podIP": pod_ip,
        "status.nominatedNodeName": _s(status.get("nominatedNodeName")),
    }


def _event_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    # Accepts both wire shapes: core/v1 (involvedObject, source, reportingComponent) and
    # events.k8s.io/v1 (regarding, deprecatedSource, reportingController).
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    reporting = _s(obj.get("reportingComponent") or obj.get("reportingController"))
    source = _s(_get(obj, "source", "component") or _get(obj, "deprecatedSource", "component")) or reporting
    fields = _meta_fields(obj)
    for key in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
        fields[f"involvedObject.{key}"] = _s(involved.get(key))
    fields |= {
        "reason": _s(obj.get("reason")),
        "reportingComponent": reporting,
        "source": source,
        "type": _s(obj.get("type")),
    }
    return fields


def _fields_from(paths: Mapping[str, tuple[str, ...]]) -> FieldSetFn:
    """A field set of metadata plus labels read from fixed paths (label -> path)."""

    def field_set(obj: Mapping[str, Any]) -> dict[str, str]:
        fields = _meta_fields(obj)
        for label, path in paths.items():
            fields[label] = _s(_get(obj, *path))
        return fields

    return field_set


def _accepting(
    labels: Iterable[str], message: Callable[[str], str], renames: Mapping[str, str] | None = None
) -> ConvertFn:
    accepted = frozenset(labels)
    renames = dict(renames or {})

    def convert(label: str, value: str) -> tuple[str, str]:
        if label in renames:
            return renames[label], value
        if label in accepted:
            return label, value
        raise SelectorError(message(label))

    return convert


def _not_supported(label: str) -> str:
    return f"field label not supported: {label}"


def _default_message(label: str) -> str:
    return f'{json.dumps(label)} is not a known field selector: only "metadata.name", "metadata.namespace"'


_META_LABELS = ("metadata.name", "metadata.namespace")

_DEFAULT_POLICY = FieldLabelPolicy(
    convert=_accepting(_META_LABELS, _default_message),
    field_set=_meta_fields,
    accepted=frozenset(_META_LABELS),
)

_POD_LABELS = _META_LABELS + (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
)
_EVENT_LABELS = (
    _META_LABELS
    + tuple(
        f"involvedObject.{k}"
        for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    )
    + ("reason", "reportingComponent", "source", "type")
)
_EVENTS_K8S_RENAMES = {
    **{
        f"regarding.{k}": f"involvedObject.{k}"
        for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    },
    "reportingController": "reportingComponent",
}
_EVENTS_K8S_LABELS = _META_LABELS + ("reason", "source", "type")


def _policy(
    labels: Sequence[str],
    field_set: FieldSetFn,
    message: Callable[[str], str] = _not_supported,
    renames: Mapping[str, str] | None = None,
) -> FieldLabelPolicy:
    return FieldLabelPolicy(
        convert=_accepting(labels, message, renames),
        field_set=field_set,
        accepted=frozenset(labels) | frozenset(renames or {}),
    )


def _resource_slice_message(version: str) -> Callable[[str], str]:
    return lambda label: (
        f"field label not supported for resource.k8s.io/{version}, Kind=ResourceSlice: {label}"
    )


_POLICIES: dict[tuple[str, str], FieldLabelPolicy] = {
    # spec.host is what very old clients send for spec.nodeName.
    ("", "pods"): _policy(_POD_LABELS, _pod_fields, renames={"spec.host": "spec.nodeName"}),
    ("", "nodes"): _policy(
        ("metadata.name", "spec.unschedulable"),
        lambda o: {
            "metadata.name": _s(_get(o, "metadata", "name")),
            "spec.unschedulable": "true" if _get(o, "spec", "unschedulable") else "false",
        },
    ),
    ("", "replicationcontrollers"): _policy(
        _META_LABELS + ("status.replicas",),
        lambda o: _meta_fields(o) | {"status.replicas": str(_get(o, "status", "replicas") or 0)},
    ),
    ("", "events"): _policy(_EVENT_LABELS, _event_fields),
    ("events.k8s.io", "events"): _policy(_EVENTS_K8S_LABELS, _event_fields, renames=_EVENTS_K8S_RENAMES),
    ("", "namespaces"): _policy(
        ("metadata.name", "status.phase"),
        lambda o: {
            "metadata.name": _s(_get(o, "metadata", "name")),
            "status.phase": _s(_get(o, "status", "phase")),
        },
    ),
    ("", "secrets"): _policy(_META_LABELS + ("type",), _fields_from({"type": ("type",)})),
    ("", "services"): _policy(
        _META_LABELS + ("spec.clusterIP", "spec.type"),
        _fields_from({"spec.clusterIP": ("spec", "clusterIP"), "spec.type": ("spec", "type")}),
    ),
    ("batch", "jobs"): _policy(
        _META_LABELS + ("status.successful",),
        lambda o: _meta_fields(o) | {"status.successful": str(_get(o, "status", "succeeded") or 0)},
        message=lambda label: f"field label {json.dumps(label)} not supported for batchv1.Job",
    ),
    ("certificates.k8s.io", "certificatesigningrequests"): _policy(
        ("metadata.name", "spec.signerName"), _fields_from({"spec.signerName": ("spec", "signerName")})
    ),
    ("certificates.k8s.io", "clustertrustbundles"): _policy(
        ("metadata.name", "spec.signerName"), _fields_from({"spec.signerName": ("spec", "signerName")})
    ),
    ("certificates.k8s.io", "podcertificaterequests"): _policy(
        ("metadata.name", "spec.signerName", "spec.podName", "spec.nodeName"),
        _fields_from(
            {
                "spec.signerName": ("spec", "signerName"),
                "spec.podName": ("spec", "podName"),
                "spec.nodeName": ("spec", "nodeName"),
            }
        ),
    ),
}


def field_label_policy(group: str, resource: str, version: str = "v1") -> FieldLabelPolicy:
    """The field-label policy of a built-in resource (group "" is core; resource is the plural).

    Resources without a conversion function of their own (deployments, configmaps, RBAC, ...)
    accept only metadata.name and metadata.namespace, with the default message. `version`
    matters only for resourceslices, whose message names it. For custom resources use
    `custom_resource_field_policy`.
    """
    if group == "resource.k8s.io" and resource == "resourceslices":
        return _policy(
            ("metadata.name", "spec.nodeName", "spec.driver"),
            _fields_from({"spec.nodeName": ("spec", "nodeName"), "spec.driver": ("spec", "driver")}),
            message=_resource_slice_message(version),
        )
    return _POLICIES.get((group, resource), _DEFAULT_POLICY)


def custom_resource_field_policy(
    selectable_fields: Iterable[str] = (), *, namespaced: bool = True
) -> FieldLabelPolicy:
    """The policy for a custom resource: metadata.name, metadata.namespace (namespaced only) and
    the CRD version's `selectableFields[].jsonPath` (given as `.spec.color`; the label is
    `spec.color`). Unsupported labels give `field label not supported: <label>`.

    A selectable field's value is rendered as Kubernetes does: strings as is, booleans
    true/false, integers in decimal; missing reads as "".
    """
    paths = {p.lstrip("."): tuple(p.lstrip(".").split(".")) for p in selectable_fields}
    labels = ("metadata.name",) + (("metadata.namespace",) if namespaced else ()) + tuple(paths)

    def field_set(obj: Mapping[str, Any]) -> dict[str, str]:
        fields = {"metadata.name": _s(_get(obj, "metadata", "name"))}
        if namespaced:
            fields["metadata.namespace"] = _s(_get(obj, "metadata", "namespace"))
        for label, path in paths.items():
            value = _get(obj, *path)
            if isinstance(value, str | bool | int):
                fields[label] = _s(value)
        return fields

    return _policy(labels, field_set)


def supports_field_label(group: str, resource: str, label: str) -> bool:
    """Whether `?fieldSelector=<label>=...` is accepted on a built-in (group, resource)."""
    return field_label_policy(group, resource).supports(label)


def convert_field_selector(
    selector: FieldSelector | str, group: str, resource: str, *, policy: FieldLabelPolicy | None = None
) -> FieldSelector:
    """Check and convert a field selector's labels for a resource, as list/watch/deletecollection do.

    Accepts a parsed selector or its string. `policy` overrides the built-in one (custom
    resources). Raises SelectorError with the message the API server returns with 400
    BadRequest, e.g. `field label not supported: spec.foo` or `"spec.replicas" is not a known
    field selector: only "metadata.name", "metadata.namespace"`.
    """
    if isinstance(selector, str):
        selector = parse_field_selector(selector)
    policy = policy or field_label_policy(group, resource)
    return selector.transform(policy.convert)


def object_fields(group: str, resource: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """The selectable field set of a decoded built-in object (what a field selector compares)."""
    return field_label_policy(group, resource).field_set(obj)
