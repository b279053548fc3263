"""The base of every kube-lite API type.

Every field of every kind is optional at the type level and defaults to None, and None is
omitted on encode (`omit_defaults`). That gives Kubernetes' JSON semantics: a field the user did
not set stays unset and is not written back, and an explicit `null` (which kubectl sends, e.g.
`"creationTimestamp": null`) means unset, as it does for Kubernetes' pointer fields. Required
fields are enforced by validation (with Kubernetes' "Required value" message and field path),
not by decoding. Defaulting is an explicit step that writes default values into the object.

Field names are the JSON names exactly as Kubernetes spells them (hostIP, podIPs, clusterIP):
there is no automatic renaming. The few JSON names that are not Python identifiers ($ref, not,
continue, ...) use `msgspec.field(name=...)`.

Times are RFC 3339 strings as on the wire; Quantities are strings (a bare JSON number is
accepted, as Kubernetes accepts it); IntOrString fields are `int | str`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec


class Struct(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Base of nested API types."""


class Resource(Struct):
    """Base of top-level kinds: apiVersion, kind and the registry facts about the kind."""

    apiVersion: str | None = None
    kind: str | None = None

    # Registry facts, set per kind (see kube_lite.api.registry).
    group: ClassVar[str] = ""
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = ""
    namespaced: ClassVar[bool] = True


IntOrString = int | str
Quantity = str | int | float
Time = str
RawExtension = Any
