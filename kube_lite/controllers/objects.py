"""Accessors the controllers share for objects held as dicts (as the client returns them).

Each answers an empty mapping, or "", for what is absent (None included), so that reading a
field of an object that may be partial never needs a guard.
"""

from __future__ import annotations

from typing import Any

Object = dict[str, Any]


def meta(obj: Object | None) -> Object:
    """metadata ({} when absent)."""
    return (obj or {}).get("metadata") or {}


def spec(obj: Object | None) -> Object:
    """spec ({} when absent)."""
    return (obj or {}).get("spec") or {}


def status(obj: Object | None) -> Object:
    """status ({} when absent)."""
    return (obj or {}).get("status") or {}


def uid(obj: Object | None) -> str:
    """metadata.uid ("" when absent)."""
    return str(meta(obj).get("uid") or "")


def labels(obj: Object | None) -> dict[str, str]:
    """metadata.labels ({} when absent)."""
    return meta(obj).get("labels") or {}
