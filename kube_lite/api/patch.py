"""The three patch types of the Kubernetes API, as pure functions on decoded JSON values.

- `merge_patch`: JSON merge patch (RFC 7386), `application/merge-patch+json`.
- `json_patch`: JSON patch (RFC 6902), `application/json-patch+json`.
- `strategic_merge_patch`: Kubernetes' strategic merge patch,
  `application/strategic-merge-patch+json`, driven by a `PatchSchema` from `patchmeta`.

Each takes the original object and the decoded patch and returns a new value; the inputs are
never modified, and the result shares no mutable part with them. A patch that cannot be applied
raises `PatchError`, whose `code` and `reason` are what the Kubernetes API server answers.

Kubernetes is the reference, quirks included, because clients depend on them: the behaviour
here was learned from the documented semantics and by comparing with what kubectl 1.37.1 (the
same Go libraries the API server uses) computes, e.g. JSON patch accepts negative array indices,
`replace` of a missing object key adds it and `copy` from a missing key copies null; merge
patch drops nulls inside most values it inserts; strategic merge patch puts new list elements
ahead of the server's elements and deduplicates merged sets. Error messages are Kubernetes'
texts. Where kubectl itself is not deterministic (Go map order: two errors in one patch, or
`$deleteFromPrimitiveList` and an addition of the same value), this module picks one of its
outcomes (deletions apply before additions).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from kube_lite.api.patchmeta import FieldPatchMeta, PatchSchema

__all__ = ["PatchError", "json_patch", "merge_patch", "strategic_merge_patch"]

# The API server refuses JSON patches longer than this (413), to bound the work of one request.
MAX_JSON_PATCH_OPERATIONS = 10000

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ELEMENT_ORDER = "$setElementOrder/"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"


class PatchError(Exception):
    """A patch that cannot be applied to this object.

    `message` is Kubernetes' text. `code` and `reason` are what the API server answers:
    - 400 BadRequest: the patch document is malformed (cannot be decoded as this patch type,
      or a directive has a bad format);
    - 413 RequestEntityTooLarge: a JSON patch with too many operations;
    - 422 Invalid: a JSON patch operation does not apply to this object. Kubernetes answers
      with the generic message "the server rejected our request due to an error in our
      request" and puts `message` in `details.causes[0].message`;
    - 500 with no reason (an "unknown" error, which kubectl shows as "Error from server:
      <message>"): a strategic merge patch whose content does not fit the object, e.g. a list
      element without its merge key.
    """

    def __init__(self, message: str, code: int = 422, reason: str = "Invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason


def _bad_request(message: str) -> PatchError:
    return PatchError(message, 400, "BadRequest")


def _unknown(message: str) -> PatchError:
    return PatchError(message, 500, "")


# ---------------------------------------------------------------------------------------------
# JSON helpers


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value (faster than copy.deepcopy for plain dicts and lists)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: like ==, except that a boolean never equals a number (Python's True == 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_json_equal(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_json_equal, a, b))
    if isinstance(a, (int, float)):
        return isinstance(b, (int, float)) and a == b
    return type(a) is type(b) and a == b


def _go_number(x: int | float) -> str:
    """A number as Go's %v prints a float64 decoded from JSON: no exponent for 1e-4 <= |x| < 1e21."""
    if isinstance(x, int) or (x == int(x) and abs(x) < 1e21):
        return str(int(x))
    text = repr(float(x))
    if "e" in text:
        exponent = int(text.split("e")[1])
        if -4 <= exponent < 21:
            text = format(Decimal(text), "f")
        else:
            mantissa, exp = text.split("e")
            text = f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return text


def _go(value: Any) -> str:
    """A JSON value as Go's %v prints it (map keys sorted), as Kubernetes' error texts show it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(_go(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def _go_type(value: Any) -> str:
    """The Go type a JSON value decodes to, as Kubernetes' type errors name it."""
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) or (isinstance(value, float) and value == int(value)):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def _json_kind(value: Any) -> str:
    """The JSON type name Go's decoder uses in "cannot unmarshal X into ..." errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_quote(text: str) -> str:
    """A string as Go's %q quotes it (close enough: JSON escaping, non-ASCII kept)."""
    return json.dumps(text, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# JSON merge patch (RFC 7386)


def merge_patch(original: Any, patch: Any) -> Any:
    """Apply JSON merge patch `patch` to `original` and return the result.

    An object patch merges key by key: null deletes the key, an object merges into an object,
    anything else replaces the value. A value that replaces something other than an object
    (or fills an absent key) has its null-valued object keys dropped at every depth (null list
    elements stay); one that replaces an object is taken verbatim, as in Kubernetes. An array patch
    replaces the whole document. Raises PatchError (400 "Invalid JSON Patch") for a patch that
    is a string, number, boolean or null, as Kubernetes does.
    """
    if isinstance(patch, dict):
        target = _copy(original) if isinstance(original, dict) else {}
        return _merge_object(target, patch)
    if isinstance(patch, list):
        return _drop_nulls(patch)
    raise _bad_request("Invalid JSON Patch")


def _merge_object(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge `patch` into `target` (owned by the caller, modified) and return it."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(target.get(key), dict):
            if isinstance(value, dict):
                target[key] = _merge_object(target[key], value)
            else:
                # An object replaced by a non-object takes the patch value verbatim, nulls
                # included (Kubernetes' merge patch library does this).
                target[key] = _copy(value)
        else:
            target[key] = _drop_nulls(value)
    return target


def _drop_nulls(value: Any) -> Any:
    """A copy of `value` without null-valued object keys, at every depth."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# JSON patch (RFC 6902)

_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64_MAX = 2**63 - 1


class _PointerError(Exception):
    """An array index that does not resolve; the text is the inner part of Kubernetes' message."""


def _atoi(text: str) -> int:
    """Parse an array index as Go's strconv.Atoi does (sign allowed, decimal digits only)."""
    if not _GO_INT.fullmatch(text):
        raise _PointerError(f"strconv.Atoi: parsing {_go_quote(text)}: invalid syntax")
    number = int(text)
    if not -_INT64_MAX - 1 <= number <= _INT64_MAX:
        raise _PointerError(f"strconv.Atoi: parsing {_go_quote(text)}: value out of range")
    return number


def _invalid_index(index: int) -> _PointerError:
    return _PointerError(f"Unable to access invalid index: {index}: invalid index referenced")


def _list_index(items: list[Any], key: str) -> int:
    """The position `key` names in `items` for reading, replacing or removing an element.

    Negative indices count from the end, as in Kubernetes (an extension of RFC 6901).
    """
    index = _atoi(key)
    position = index + len(items) if index < 0 else index
    if not 0 <= position < len(items):
        raise _invalid_index(index)
    return position


def _unescape(token: str) -> str:
    # "~1" first, then "~0": this order decodes "~01" to "~1", as RFC 6901 requires.
    return token.replace("~1", "/").replace("~0", "~")


_Container = dict[str, Any] | list[Any]


def _find_container(doc: Any, path: str) -> tuple[_Container, str] | None:
    """The object or array that holds the last token of `path`, and that token (unescaped).

    None when the path does not lead to a container. As in Kubernetes, everything before the
    first "/" is ignored and the empty path (the whole document) has no container.
    """
    tokens = path.split("/")
    if len(tokens) < 2:
        return None
    current = doc
    for token in tokens[1:-1]:
        token = _unescape(token)
        if isinstance(current, dict):
            if token not in current:
                return None
            current = current[token]
        elif isinstance(current, list):
            try:
                current = current[_list_index(current, token)]
            except _PointerError:
                return None
        else:
            return None
    if not isinstance(current, (dict, list)):
        return None
    return current, _unescape(tokens[-1])


def _get(container: _Container, key: str) -> Any:
    """The value at `key`; a missing object key reads as null (Kubernetes' behaviour)."""
    if isinstance(container, dict):
        return container.get(key)
    return container[_list_index(container, key)]


def _insert(container: _Container, key: str, value: Any) -> None:
    """Add `value` at `key`: set an object key, or insert into an array ("-" appends)."""
    if isinstance(container, dict):
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    try:
        index = _atoi(key)
    except _PointerError as err:
        raise _PointerError(f"value was not a proper array index: '{key}': {err}") from None
    size = len(container) + 1  # the array as it will be, so "-1" appends
    if index >= size or index < -size:
        raise _invalid_index(index)
    container.insert(index + size if index < 0 else index, value)


def _remove(container: _Container, key: str) -> Any:
    """Remove and return the value at `key`."""
    if isinstance(container, dict):
        if key not in container:
            raise _PointerError(f"Unable to remove nonexistent key: {key}: missing value")
        return container.pop(key)
    return container.pop(_list_index(container, key))


def _op_string(op: dict[str, Any], field: str) -> str | None:
    value = op.get(field)
    return value if isinstance(value, str) else None


def _op_path(op: dict[str, Any], kind: str) -> str:
    path = _op_string(op, "path")
    if path is None:
        raise PatchError(f"{kind} operation failed to decode path: missing value")
    return path


def _op_from(op: dict[str, Any], kind: str) -> str:
    source = _op_string(op, "from")
    if source is None:
        raise PatchError(f"{kind} operation failed to decode from: operation, missing from field: missing value")
    return source


def json_patch(original: Any, operations: Any) -> Any:
    """Apply the JSON patch `operations` (a decoded JSON array) to `original`; return the result.

    Operations run in order on a copy and the patch applies atomically: the first failing
    operation raises PatchError and nothing is returned. Supports add, remove, replace, move,
    copy and test, JSON pointers with "~0"/"~1" escapes, "-" to append, and negative indices.
    A patch that is not an array of objects raises 400, one of more than 10000 operations 413,
    an operation that does not apply 422 (see PatchError).
    """
    if operations is None:
        return _copy(original)  # JSON null decodes to an empty patch in Kubernetes
    if not isinstance(operations, list):
        raise _bad_request(
            f"json: cannot unmarshal {_json_kind(operations)} into Go value of type jsonpatch.Patch"
        )
    for op in operations:
        if op is not None and not isinstance(op, dict):
            raise _bad_request(f"json: cannot unmarshal {_json_kind(op)} into Go value of type jsonpatch.Operation")
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {len(operations)}",
            413,
            "RequestEntityTooLarge",
        )
    doc = _copy(original)
    for op in operations:
        doc = _apply_operation(doc, op or {})
    return doc


def _apply_operation(doc: Any, op: dict[str, Any]) -> Any:
    """Apply one operation to `doc` (owned, modified in place) and return the document."""
    kind = op.get("op")
    if not isinstance(kind, str):
        kind = "unknown"
    if kind == "add":
        path = _op_path(op, kind)
        found = _find_container(doc, path)
        if found is None:
            raise PatchError(f"add operation does not apply: doc is missing path: {_go_quote(path)}: missing value")
        try:
            _insert(*found, _copy(op.get("value")))
        except _PointerError as err:
            raise PatchError(f"error in add for path: '{path}': {err}") from None
    elif kind == "remove":
        path = _op_path(op, kind)
        found = _find_container(doc, path)
        if found is None:
            raise PatchError(f"remove operation does not apply: doc is missing path: {_go_quote(path)}: missing value")
        try:
            _remove(*found)
        except _PointerError as err:
            raise PatchError(f"error in remove for path: '{path}': {err}") from None
    elif kind == "replace":
        path = _op_path(op, kind)
        if path == "":
            return _copy(op.get("value"))
        found = _find_container(doc, path)
        if found is None:
            raise PatchError(f"replace operation does not apply: doc is missing path: {path}: missing value")
        container, key = found
        if isinstance(container, dict):
            # A missing key is added rather than refused: Kubernetes' JSON patch does this.
            container[key] = _copy(op.get("value"))
        else:
            try:
                container[_list_index(container, key)] = _copy(op.get("value"))
            except _PointerError:
                raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value") from None
    elif kind == "move":
        _move(doc, op)
    elif kind == "copy":
        _copy_operation(doc, op)
    elif kind == "test":
        _test(doc, op)
    else:
        raise PatchError(f"Unexpected kind: {kind}")
    return doc


def _move(doc: Any, op: dict[str, Any]) -> None:
    source = _op_from(op, "move")
    found = _find_container(doc, source)
    if found is None:
        raise PatchError(f"move operation does not apply: doc is missing from path: {source}: missing value")
    container, key = found
    try:
        value = _remove(container, key)
    except _PointerError as err:
        raise PatchError(f"error in move for path: '{key}': {err}") from None
    path = _op_path(op, "move")
    found = _find_container(doc, path)
    if found is None:
        raise PatchError(f"move operation does not apply: doc is missing destination path: {path}: missing value")
    try:
        _insert(*found, value)
    except _PointerError as err:
        raise PatchError(f"error in move for path: '{path}': {err}") from None


def _copy_operation(doc: Any, op: dict[str, Any]) -> None:
    source = _op_from(op, "copy")
    found = _find_container(doc, source)
    if found is None:
        raise PatchError(f"copy operation does not apply: doc is missing from path: {source}: missing value")
    try:
        value = _copy(_get(*found))
    except _PointerError as err:
        raise PatchError(f"error in copy for from: '{source}': {err}") from None
    path = _op_path(op, "copy")
    found = _find_container(doc, path)
    if found is None:
        raise PatchError(f"copy operation does not apply: doc is missing destination path: {path}: missing value")
    try:
        _insert(*found, value)
    except _PointerError as err:
        raise PatchError(f"error while adding value during copy: {err}") from None


def _test(doc: Any, op: dict[str, Any]) -> None:
    path = _op_path(op, "test")
    expected = op.get("value")
    if path == "":
        actual = doc
    else:
        found = _find_container(doc, path)
        if found is None:
            raise PatchError(f"test operation does not apply: is missing path: {path}: missing value")
        try:
            actual = _get(*found)
        except _PointerError as err:
            raise PatchError(f"error in test for path: '{path}': {err}") from None
    # A missing key reads as null, so testing for null passes on an absent key.
    if not _json_equal(actual, expected):
        raise PatchError(f"testing value {path} failed: test failed")


# ---------------------------------------------------------------------------------------------
# Strategic merge patch

# A sentinel: what `_discard` returns for a map that carries a `$patch` directive (it is left
# out), and "absent" where None would be ambiguous with JSON null.
_DROP = object()


def strategic_merge_patch(original: Any, patch: Any, schema: PatchSchema | None) -> Any:
    """Apply strategic merge patch `patch` to the object `original`, as the kind whose patch
    metadata is `schema` (from `patchmeta.schema_for`; None treats every list as replaced).

    Maps merge key by key and null deletes a key. A list whose field merges by a key matches
    elements by that key and merges them; a merge list of primitives is a set union; any other
    list is replaced. Directives: `$patch: replace|delete` in a map or a list element,
    `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and `$retainKeys`.
    Raises PatchError: 400 for a patch that is not an object or a malformed `$retainKeys`,
    500 for content that does not fit (e.g. an element without its merge key, mixed element
    types, an order that contradicts `$setElementOrder`), as Kubernetes does.
    """
    if patch is None:
        return _copy(original)
    if not isinstance(patch, dict):
        raise _bad_request(
            f"json: cannot unmarshal {_json_kind(patch)} into Go value of type map[string]interface {{}}"
        )
    if not isinstance(original, dict):
        raise _bad_request("invalid JSON document")
    return _merge_map(_copy(original), patch, schema)


def _is_directive_key(key: str) -> bool:
    return (
        key == _PATCH
        or key == _RETAIN_KEYS
        or key.startswith(_SET_ELEMENT_ORDER)
        or key.startswith(_DELETE_FROM_PRIMITIVE_LIST)
    )


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: PatchSchema | None) -> dict[str, Any]:
    """Merge map `patch` into `original` (owned by the caller, modified) and return the result."""
    if _PATCH in patch:
        directive = patch[_PATCH]
        if directive == "replace":
            # The patch is taken literally, including nulls and nested directives.
            return {k: _copy(v) for k, v in patch.items() if k != _PATCH}
        if directive == "delete":
            return {}
        raise _unknown(f"unknown patch type: {_go(directive)} in map: {_go(patch)}")

    if _RETAIN_KEYS in patch:
        retained = _retain_keys(patch)
        for key in [k for k in original if k not in retained]:
            del original[key]

    orders = {k[len(_SET_ELEMENT_ORDER):]: v for k, v in patch.items() if k.startswith(_SET_ELEMENT_ORDER)}
    for name, order in orders.items():
        _check_order_target(original.get(name, _DROP), patch.get(name, _DROP), order)

    # Deletions from primitive lists come before the merge, so a patch can delete and re-add;
    # except that Kubernetes orders a list that has a `$setElementOrder` first and deletes
    # afterwards, which shows in where the remaining elements land.
    deferred: dict[str, list[Any]] = {}
    for key, values in patch.items():
        if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
            name = key[len(_DELETE_FROM_PRIMITIVE_LIST):]
            deleted = _delete_from_list(original, name, values, schema, apply=name not in orders)
            if deleted:
                deferred[name] = deleted

    for key, value in patch.items():
        if _is_directive_key(key):
            continue
        meta = schema.field(key) if schema is not None else None
        child = schema.child(key) if schema is not None else None
        order = orders.get(key)
        if value is None:
            original.pop(key, None)
            continue
        current = original.get(key)
        if isinstance(value, dict):
            if isinstance(current, dict):
                if meta is not None and meta.replaces:
                    original[key] = _copy(value)
                else:
                    original[key] = _merge_map(current, value, child)
            else:
                # Nothing to merge into (absent, null or another type): the value is taken as
                # it is, minus nulls and minus maps that carry a `$patch` directive.
                cleaned = _discard(value)
                if cleaned is _DROP:
                    original.pop(key, None)
                else:
                    original[key] = cleaned
        elif isinstance(value, list):
            if isinstance(current, list):
                original[key] = _merge_list(current, value, meta, child, order, deferred.get(key))
            else:
                if order is not None:
                    # With an order, Kubernetes builds the list by a merge into nothing,
                    # which drops directive maps but keeps nulls.
                    _check_list_order(value, order, meta)
                    original[key] = _discard(value, keep_nulls=True)
                else:
                    original[key] = _discard(value)
        else:
            original[key] = value

    # `$setElementOrder` for a list the patch does not otherwise touch: a pure reordering.
    for name, order in orders.items():
        if name in patch:
            continue
        current = original.get(name)
        if isinstance(current, list):
            meta = schema.field(name) if schema is not None else None
            child = schema.child(name) if schema is not None else None
            original[name] = _merge_list(current, [], meta, child, order, deferred.get(name), reorder_only=True)
    return original


def _check_order_target(current: Any, value: Any, order: Any) -> None:
    """Refuse a `$setElementOrder` that cannot apply, with Kubernetes' errors (_DROP: absent)."""
    if not isinstance(order, list):
        raise _unknown(f"expected a []interface {{}}, but received a {_go_type(order)}")
    # A null patch value is refused too; a null original value counts as absent.
    for item in (value, _DROP if current is None else current):
        if item is not _DROP and not isinstance(item, list):
            raise _unknown(f"expected a []interface {{}}, but received a {_go_type(item)}")
    if (current is _DROP or current == []) and (value is _DROP or value == []) and not (current is value is _DROP):
        raise _unknown("no elements in any of the given slices")


def _retain_keys(patch: dict[str, Any]) -> set[str]:
    """The keys a `$retainKeys` directive keeps; every other key of the patch must be among them."""
    retained = patch[_RETAIN_KEYS]
    if not isinstance(retained, list) or not all(isinstance(k, str) for k in retained):
        raise _bad_request("invalid patch format of retainKeys")
    keys = set(retained)
    if any(k not in keys for k in patch if not _is_directive_key(k)):
        raise _bad_request("invalid patch format of retainKeys")
    return keys


def _discard(value: Any, *, keep_nulls: bool = False) -> Any:
    """A copy of a patch value that has nothing to merge into: every map that carries `$patch`
    is dropped (returned as _DROP at the top) and, unless `keep_nulls`, so are null values in
    maps. Null list elements and the other directives stay, as in Kubernetes."""
    if isinstance(value, dict):
        if _PATCH in value:
            return _DROP
        out = {}
        for key, item in value.items():
            if item is None:
                if keep_nulls:
                    out[key] = None
                continue
            cleaned = _discard(item, keep_nulls=keep_nulls)
            if cleaned is not _DROP:
                out[key] = cleaned
        return out
    if isinstance(value, list):
        cleaned_items = (_discard(item, keep_nulls=keep_nulls) for item in value)
        return [c for c in cleaned_items if c is not _DROP]
    return value


def _element_kind(value: Any) -> str:
    """The Go kind of a decoded JSON value, for the "list element types" check."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _check_element_kinds(original: list[Any], patch: list[Any]) -> None:
    """Both lists must hold elements of one kind (all maps, all strings, ...)."""
    kinds = {_element_kind(v) for v in original} | {_element_kind(v) for v in patch}
    if len(kinds) > 1:
        raise _unknown(f"list element types are not identical: [{_go(original)} {_go(patch)}]")


def _delete_from_list(
    original: dict[str, Any], name: str, values: Any, schema: PatchSchema | None, *, apply: bool
) -> list[Any]:
    """Check `$deleteFromPrimitiveList/<name>: values` against `original` and, if `apply`,
    delete those values from the list (modifying `original`). Returns the values to delete
    when the caller must delete them later, else []."""
    if values is None:
        # Kubernetes drops the list itself for a null directive.
        original.pop(name, None)
        return []
    current = original.get(name)
    if not isinstance(values, list) or not isinstance(current, list):
        return []
    _check_element_kinds(current, values)
    meta = schema.field(name) if schema is not None else None
    if any(isinstance(v, dict) for v in current) and (meta is None or meta.merge_key is None):
        raise _unknown("cannot merge lists without merge key for struct")
    if not apply:
        return values
    original[name] = _without(current, values)
    return []


def _without(items: list[Any], values: list[Any]) -> list[Any]:
    return [v for v in items if not any(_json_equal(v, d) for d in values)]


def _primitive_key(value: Any) -> tuple[str, Any]:
    """A hashable identity for a primitive list element under JSON equality."""
    if isinstance(value, (dict, list)):
        raise _unknown(f"list of primitives holds a non-primitive element: {_go(value)}")
    return _element_kind(value), value


def _order_error(patch: list[Any], order: list[Any]) -> PatchError:
    return _unknown(f"The order in patch list:\n{_go(patch)}\n doesn't match $setElementOrder list:\n{_go(order)}\n")


def _check_order(patch_keys: list[Any], order_keys: list[Any], patch: list[Any], order: list[Any]) -> None:
    """The patch list must appear in `$setElementOrder`, in the same relative order: a walk
    over both lists in step, each order entry matching one patch element at most. Kubernetes
    does not check an empty order."""
    if not order_keys:
        return
    matched = 0
    for key in order_keys:
        if matched == len(patch_keys):
            break
        if key == patch_keys[matched]:
            matched += 1
    if matched < len(patch_keys):
        raise _order_error(patch, order)


def _interleave(
    first: list[tuple[int, Any]], second: list[tuple[int, Any]]
) -> list[Any]:
    """Merge two ordered lists of (index in the server's list, element) into one.

    `first` holds the elements the patch names (index -1 for a new one), `second` the
    server-only ones. A new element goes before the server element it meets; otherwise the
    element that came first in the server's list goes first.
    """
    out: list[Any] = []
    i = j = 0
    while i < len(first) and j < len(second):
        index, element = first[i]
        if index < 0 or index < second[j][0]:
            out.append(element)
            i += 1
        else:
            out.append(second[j][1])
            j += 1
    out.extend(element for _, element in first[i:])
    out.extend(element for _, element in second[j:])
    return out


def _merge_list(
    original: list[Any],
    patch: list[Any],
    meta: FieldPatchMeta | None,
    schema: PatchSchema | None,
    order: list[Any] | None,
    deleted: list[Any] | None = None,
    *,
    reorder_only: bool = False,
) -> list[Any]:
    """Merge list `patch` into `original` (owned) as field metadata `meta` says; `schema` is
    the element type's, `order` the `$setElementOrder` list if the patch has one, `deleted`
    the values of a `$deleteFromPrimitiveList` still to remove after ordering."""
    if deleted:
        return _without(_merge_list(original, patch, meta, schema, order, reorder_only=reorder_only), deleted)
    merges = meta is not None and meta.merges
    if not merges and not reorder_only:
        if order is not None:
            _check_list_order(patch, order, meta)
        return _copy(patch)
    if merges and meta is not None and meta.merge_key is not None:
        return _merge_keyed_list(original, patch, meta.merge_key, schema, order)
    if any(isinstance(v, dict) for v in original):
        raise _unknown("cannot merge lists without merge key for struct")
    if reorder_only:
        return _reorder_primitive_list(original, order or [])
    return _merge_primitive_list(original, patch, order)


def _reorder_primitive_list(original: list[Any], order: list[Any]) -> list[Any]:
    """Reorder a primitive list by `$setElementOrder` alone. Unlike a merge, this keeps
    duplicates: the copies of a value move together, as in Kubernetes, where an element's
    place in the server's list is where its value first occurs (so the server-only copies of
    a value are gathered at its first occurrence too)."""
    rank: dict[tuple[str, Any], int] = {}
    for value in order:
        key = _order_key(value)
        if key is not None:
            rank.setdefault(key, len(rank))
    keys = [_primitive_key(v) for v in original]
    first_at: dict[tuple[str, Any], int] = {}
    for i, k in enumerate(keys):
        first_at.setdefault(k, i)
    named = sorted((i for i, k in enumerate(keys) if k in rank), key=lambda i: rank[keys[i]])
    server_only = sorted((i for i, k in enumerate(keys) if k not in rank), key=lambda i: first_at[keys[i]])
    first = [(first_at[keys[i]], original[i]) for i in named]
    second = [(first_at[keys[i]], original[i]) for i in server_only]
    return _interleave(first, second)


def _check_list_order(patch: list[Any], order: list[Any], meta: FieldPatchMeta | None) -> None:
    """Check a patch list against its `$setElementOrder` (an empty order is not checked)."""
    if meta is not None and meta.merges and meta.merge_key is not None:
        _check_keyed_order(patch, order, meta.merge_key)
    else:
        _check_order([_primitive_key(v) for v in patch], [_order_key(v) for v in order], patch, order)


def _order_key(value: Any) -> tuple[str, Any] | None:
    """The identity of a `$setElementOrder` entry of a primitive list (None: matches nothing)."""
    if isinstance(value, (dict, list)):
        return None
    return _primitive_key(value)


def _merge_primitive_list(original: list[Any], patch: list[Any], order: list[Any] | None) -> list[Any]:
    """Set union of two primitive lists (each deduplicated), ordered as Kubernetes orders it."""
    _check_element_kinds(original, patch)
    # identity -> (index in the server's list or -1 if new, value): server elements first.
    working: dict[tuple[str, Any], tuple[int, Any]] = {}
    for value in original:
        working.setdefault(_primitive_key(value), (len(working), value))
    patched = [_primitive_key(v) for v in patch]
    for key, value in zip(patched, patch, strict=True):
        working.setdefault(key, (-1, value))
    if order is not None:
        order_keys = [_order_key(v) for v in order]
        _check_order(patched, order_keys, patch, order)
        named = [k for k in dict.fromkeys(order_keys) if k is not None and k in working]
    else:
        named = list(dict.fromkeys(patched))
    chosen = set(named)
    first = [working[k] for k in named]
    second = [item for k, item in working.items() if k not in chosen]
    return _interleave(first, second)


def _no_merge_key(element: dict[str, Any], key: str) -> PatchError:
    return _unknown(f"map: {_go(element)} does not contain declared merge key: {key}")


def _merge_keyed_list(
    original: list[Any],
    patch: list[Any],
    key: str,
    schema: PatchSchema | None,
    order: list[Any] | None,
) -> list[Any]:
    """Merge two lists of maps whose elements are matched by the value of field `key`."""
    if order is not None:
        _check_keyed_order(patch, order, key)
    _check_element_kinds(original, patch)
    replace = False
    deleted: list[Any] = []
    merges: list[dict[str, Any]] = []
    for element in patch:
        if _PATCH not in element:
            merges.append(element)
            continue
        directive = element[_PATCH]
        if directive == "replace":
            replace = True
        elif directive == "delete":
            if key not in element:
                raise _no_merge_key(element, key)
            deleted.append(element[key])
        elif directive == "merge":
            raise _unknown("merging lists cannot yet be specified in the patch")
        else:
            raise _unknown(f"unknown patch type: {_go(directive)} in map: {_go(element)}")


    if replace:
        return [_copy(e) for e in patch if _PATCH not in e]

    working: list[dict[str, Any]] = []
    for element in original:
        if key not in element:
            raise _no_merge_key(element, key)
        if not any(_json_equal(element[key], d) for d in deleted):
            working.append(element)
    # Index in the server's list of each working element; new elements get -1.
    server_index = list(range(len(working)))
    touched: list[int] = []  # positions in `working`, in the order the patch names them
    for element in merges:
        if key not in element:
            raise _no_merge_key(element, key)
        for position, candidate in enumerate(working):
            if key in candidate and _json_equal(candidate[key], element[key]):
                working[position] = _merge_map(candidate, element, schema)
                break
        else:
            position = len(working)
            working.append(_copy(element))
            server_index.append(-1)
        if position not in touched:
            touched.append(position)

    if order is not None:
        named: list[int] = []
        for entry in order:
            for position, candidate in enumerate(working):
                if key in candidate and _json_equal(candidate[key], entry[key]):
                    if position not in named:
                        named.append(position)
                    break
    else:
        named = touched
    if order is not None and len(working) - server_index.count(-1) < len(original):
        # Kubernetes quirk: when a `$setElementOrder` merge actually deleted elements, it
        # orders against the merged list instead of the server's, so new elements rank after
        # the server's elements rather than before them.
        server_index = list(range(len(working)))
    chosen = set(named)
    first = [(server_index[p], working[p]) for p in named]
    second = [(server_index[p], working[p]) for p in range(len(working)) if p not in chosen]
    return _interleave(first, second)


def _check_keyed_order(patch: list[Any], order: list[Any], key: str) -> None:
    """Like `_check_order`, for elements identified by their merge key. Deletions are not part
    of the order; other elements that carry a `$patch` directive are stepped over while order
    entries remain (Kubernetes' walk)."""
    for i, entry in enumerate(order):
        if not isinstance(entry, dict):
            raise _unknown(f"value for key {i} is not a map")
        if key not in entry:
            raise _no_merge_key(entry, key)
    if not order:
        return  # Kubernetes does not check an empty order
    for element in patch:
        if not isinstance(element, dict):
            raise _unknown(f"expected a map[string]interface {{}}, but received a {_go_type(element)}")
    listed = [e for e in patch if e.get(_PATCH) != "delete"]
    matched = 0
    for entry in order:
        while matched < len(listed) and _PATCH in listed[matched]:
            matched += 1
        if matched == len(listed):
            break
        element = listed[matched]
        if key not in element:
            raise _no_merge_key(element, key)
        if _json_equal(element[key], entry[key]):
            matched += 1
    if matched < len(listed):
        raise _order_error(patch, order)
