"""Glue between requests and the selector and table modules: build a matcher from
?labelSelector= and ?fieldSelector=, and Table responses from objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kube_lite.api import errors, selectors
from kube_lite.api.registry import KindInfo
from kube_lite.store import fieldsets
from kube_lite.store.cache import CachedObject

if TYPE_CHECKING:
    from kube_lite.server.app import APIServerApp, Request


def parse_selectors(
    label_selector: str | None, field_selector: str | None
) -> tuple[selectors.LabelSelector | None, selectors.FieldSelector | None]:
    """?labelSelector= and ?fieldSelector= parsed, as Kubernetes' parameter codec parses them
    (field labels are not checked yet: that is per kind, in `matcher`). 400 on bad syntax."""
    try:
        label = selectors.parse_label_selector(label_selector) if label_selector else None
        field = selectors.parse_field_selector(field_selector) if field_selector else None
    except selectors.SelectorError as exc:
        raise errors.bad_request(str(exc)) from None
    return label, field


def matcher(
    kind: KindInfo,
    label_selector: str | selectors.LabelSelector | None,
    field_selector: str | selectors.FieldSelector | None,
) -> Callable[[CachedObject], bool] | None:
    """A predicate over cached objects, or None when nothing is selected out. The selectors are
    strings or parsed (`parse_selectors`); 400 on bad syntax or a field label the kind does not
    support."""
    label = None
    field = None
    try:
        if isinstance(label_selector, str):
            label_selector = selectors.parse_label_selector(label_selector) if label_selector else None
        if label_selector is not None and not label_selector.empty:
            label = label_selector
        if field_selector:
            parsed = selectors.convert_field_selector(field_selector, kind.group, kind.plural, policy=_policy(kind))
            if not parsed.empty:
                field = parsed
    except selectors.SelectorError as exc:
        raise errors.bad_request(str(exc)) from None
    if label is None and field is None:
        return None
    if field is None:
        assert label is not None
        label_matches = label.matches
        return lambda o: label_matches(o.labels)
    field_matches = field_matcher(kind, field)
    if label is None:
        return field_matches
    label_matches = label.matches
    return lambda o: label_matches(o.labels) and field_matches(o)


def field_matcher(kind: KindInfo, selector: selectors.FieldSelector) -> Callable[[CachedObject], bool]:
    """A predicate over cached objects for a converted field selector: what
    `FieldLabelPolicy.matches` answers for the decoded object, without decoding it. Each term
    compares one value of the object's field set (a field the set lacks compares as "");
    metadata.name and metadata.namespace of kinds that select nothing else come from the key,
    the other kinds' values from `fieldsets`."""
    if selector.matches_nothing:
        return lambda o: False
    policy = _policy(kind)
    sets = fieldsets.for_kind(kind.group, kind.plural, policy) if strategy_resource(kind) == kind.plural else None
    if sets is None:
        meta_terms = tuple((t.field, t.operator == "=", t.value) for t in selector.terms)

        def match_meta(o: CachedObject) -> bool:
            for name, equal, value in meta_terms:
                if name == "metadata.name":
                    key = o.key
                    got = key[key.rfind("/") + 1 :]
                elif name == "metadata.namespace":
                    got = o.namespace
                else:
                    got = ""
                if (got == value) is not equal:
                    return False
            return True

        return match_meta
    index = sets.index
    terms = tuple((index.get(t.field, -1), t.operator == "=", t.value) for t in selector.terms)
    values_of = sets.values

    def match(o: CachedObject) -> bool:
        values = values_of(o)
        for at, equal, value in terms:
            if ((values[at] if at >= 0 else "") == value) is not equal:
                return False
        return True

    return match


def strategy_resource(kind: KindInfo) -> str:
    """Where the kind is stored (its plural for built-in kinds, plural.group for custom ones)."""
    from kube_lite.store.strategy import strategy_for

    return strategy_for(kind).resource


def exact_node(kind: KindInfo, field_selector: str | None) -> str | None:
    """The node a pod watch's field selector pins (`spec.nodeName=X`), so the watch cache can
    index the watcher by node instead of testing it on every pod event."""
    if not field_selector or kind.group or kind.plural != "pods":
        return None
    try:
        converted = selectors.convert_field_selector(field_selector, "", "pods")
    except selectors.SelectorError:
        return None
    return converted.requires_exact_match("spec.nodeName")


def _policy(kind: KindInfo) -> selectors.FieldLabelPolicy:
    if strategy_resource(kind) != kind.plural:  # a custom resource
        return selectors.custom_resource_field_policy((), namespaced=kind.namespaced)
    return selectors.field_label_policy(kind.group, kind.plural, kind.version)


def selector_string(selector: dict[str, Any]) -> str:
    return selectors.format_label_selector(selector)


def table(app: APIServerApp, kind: KindInfo, objects: list[dict[str, Any]], req: Request, revision: int,
          headers: bool = True, single: bool = False) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table of `objects` with the columns Kubernetes' printers give."""
    from kube_lite.server import tables

    spec = tables.table_for(kind.group, kind.kind)
    try:
        return tables.build_table(
            objects, spec, app.clock.now(), include_object=req.query.get("includeObject") or "Metadata",
            list_resource_version=str(revision), single_object=single, include_column_definitions=headers,
            version="v1beta1" if "v=v1beta1" in req.accept else "v1",
        )
    except tables.TableOptionsError as exc:
        raise errors.bad_request(str(exc)) from None
