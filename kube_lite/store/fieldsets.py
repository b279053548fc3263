"""Selectable fields of cached objects, read without decoding whole objects.

A field selector (`?fieldSelector=status.phase=Running`) compares an object's field set: the
values its kind's field-label policy reads (kube_lite.api.selectors, Kubernetes' per-kind
`GetAttrs`/`SelectableFields`). Decoding a whole object for that costs as much as the decoding the
watch cache avoids; here each kind that selects more than metadata gets a small msgspec Struct
of just the JSON paths its field set reads, so a decode skips everything else, and the values
are kept on the `CachedObject` (`fields`, a tuple in the order of `FieldSets.labels`) once read.
Pods' fields are read in the same pass that reads their labels and node when the watch cache
takes them in (`EAGER`): the scheduler's watch selects on status.phase, so every pod event is
matched anyway. Other kinds read theirs on the first field selector that needs them.

The field set itself is still computed by the kind's own field-set function, from the slim
decode, so the semantics cannot drift from the policy; `PATHS` only has to name every path that
function reads (tests/unit/store/test_fieldsets.py checks each policy against full objects).
Kinds whose field set is metadata.name and metadata.namespace alone (and custom resources) need
no decode at all: both come from the object's key.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from kube_lite.api import selectors

if TYPE_CHECKING:
    from kube_lite.store.cache import CachedObject

_decode = msgspec.json.decode
_intern = sys.intern

_META = ("metadata.name", "metadata.namespace")
_INVOLVED = ("involvedObject", "regarding")  # read whole: each of their keys is a field

# (group, plural) -> the JSON paths (dotted) its policy's field-set function reads. Policies not
# listed read only metadata.name and metadata.namespace.
PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "pods"): _META + (
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
        "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName",
    ),
    ("", "nodes"): ("metadata.name", "spec.unschedulable"),
    ("", "replicationcontrollers"): _META + ("status.replicas",),
    ("", "events"): _META + _INVOLVED + (
        "reason", "reportingComponent", "reportingController", "source", "deprecatedSource", "type",
    ),
    ("", "namespaces"): ("metadata.name", "status.phase"),
    ("", "secrets"): _META + ("type",),
    ("", "services"): _META + ("spec.clusterIP", "spec.type"),
    ("batch", "jobs"): _META + ("status.succeeded",),
    ("certificates.k8s.io", "certificatesigningrequests"): _META + ("spec.signerName",),
    ("certificates.k8s.io", "clustertrustbundles"): _META + ("spec.signerName",),
    ("certificates.k8s.io", "podcertificaterequests"): _META + ("spec.signerName", "spec.podName", "spec.nodeName"),
    ("resource.k8s.io", "resourceslices"): _META + ("spec.nodeName", "spec.driver"),
}
PATHS["events.k8s.io", "events"] = PATHS["", "events"]  # stored as core Events, one field set


def _tree(paths: tuple[str, ...]) -> dict[str, Any]:
    """Dotted paths as a tree: {"spec": {"nodeName": None}, ...}; None marks a leaf."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if node is None:  # a leaf already reads the whole value
                break
        else:
            node[parts[-1]] = None
    return tree


def struct_of(name: str, tree: dict[str, Any], leaves: Mapping[str, tuple[Any, Any]] | None = None, prefix: str = "") -> type:
    """A msgspec Struct type reading `tree`'s paths: leaves as any JSON value, inner objects as
    Structs (or null); every field UNSET when absent, so `msgspec.to_builtins` gives the JSON's
    own sub-tree. `leaves` overrides the (type, default) of some dotted paths."""
    fields: list[tuple[str, Any, Any]] = []
    for key, sub in tree.items():
        path = f"{prefix}{key}"
        if leaves is not None and path in leaves:
            kind, default = leaves[path]
            fields.append((key, kind, default))
        elif sub is None:
            fields.append((key, Any, msgspec.UNSET))
        else:
            inner = struct_of(f"{name}_{key}", sub, leaves, f"{path}.")
            fields.append((key, inner | None, msgspec.UNSET))  # type: ignore[operator]
    return msgspec.defstruct(name, fields, gc=False)


class FieldSets:
    """The selectable fields of one stored resource: `labels` (the field set's keys, in a fixed
    order), `index` (label -> position) and how to read an object's values."""

    __slots__ = ("labels", "index", "paths", "_field_set", "_decode", "_empty")

    def __init__(self, name: str, paths: tuple[str, ...], field_set: selectors.FieldSetFn) -> None:
        self.paths = paths
        self._field_set = field_set
        self.labels: tuple[str, ...] = tuple(field_set({}))
        self.index = {label: i for i, label in enumerate(self.labels)}
        self._empty = ("",) * len(self.labels)
        self._decode: Callable[[bytes], Any] = msgspec.json.Decoder(struct_of(f"_Fields_{name}", _tree(paths))).decode

    def values_from_dict(self, obj: Mapping[str, Any]) -> tuple[str, ...]:
        """The values of a decoded object (or of the slim sub-tree of one)."""
        # Values repeat across objects (phases, scheduler and service account names, node names):
        # interned, they are held once.
        return tuple(map(_intern, map(self._field_set(obj).get, self.labels, self._empty)))

    def values_from_json(self, data: bytes) -> tuple[str, ...]:
        """The values of a stored object's JSON, decoding only the paths read. Raises
        msgspec.DecodeError when `data` is not JSON."""
        try:
            slim = msgspec.to_builtins(self._decode(data))
        except msgspec.ValidationError:  # an odd shape (a spec that is not an object): whole
            return self.values_from_dict(_decode(data))
        return self.values_from_dict(slim)

    def values(self, cached: CachedObject) -> tuple[str, ...]:
        """`cached`'s values, read once and kept on it."""
        values = cached.fields
        if values is None:
            held = cached.held()
            values = self.values_from_dict(held) if held is not None else self.values_from_json(cached.stored)
            cached.fields = values
        return values


_SETS: dict[tuple[str, str], FieldSets | None] = {}


def for_kind(group: str, plural: str, policy: selectors.FieldLabelPolicy) -> FieldSets | None:
    """The field sets of a built-in kind whose policy reads more than metadata (None otherwise:
    metadata.name and metadata.namespace come from the key)."""
    key = (group, plural)
    try:
        return _SETS[key]
    except KeyError:
        pass
    paths = PATHS.get(key)
    sets = FieldSets(f"{group.replace('.', '_')}_{plural}", paths, policy.field_set) if paths is not None else None
    _SETS[key] = sets
    return sets


# The kinds whose values the watch cache reads as it takes objects in, by storage resource.
EAGER: dict[str, FieldSets] = {}
_pods = for_kind("", "pods", selectors.field_label_policy("", "pods"))
assert _pods is not None
EAGER["pods"] = _pods
