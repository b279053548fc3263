"""The shared claiming machinery: the controller-uid index, the ControllerRefManager, the
selector fast path, and reading one's own writes (MutationCache)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kube_lite.api.errors import APIError
from kube_lite.api.selectors import from_label_selector, parse_label_selector
from kube_lite.client.informer import Informer, MutationCache, object_key
from kube_lite.clock import VirtualClock
from kube_lite.controllers.podcontrol import (
    CONTROLLER_UID_INDEX,
    ControllerRefManager,
    OwnerGone,
    controller_uid_index,
    label_matcher,
    orphan_index_key,
    owned_and_orphans,
)

Object = dict[str, Any]

OWNER: Object = {
    "apiVersion": "apps/v1", "kind": "ReplicaSet",
    "metadata": {"name": "web", "namespace": "default", "uid": "rs-1", "resourceVersion": "5"},
    "spec": {"selector": {"matchLabels": {"app": "web"}}},
}


def pod(name: str, *, labels: dict[str, str] | None = None, owner: str | None = None, deleting: bool = False,
        rv: str = "1") -> Object:
    meta: Object = {"name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": rv,
                    "labels": {"app": "web"} if labels is None else labels}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": owner, "controller": True}]
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta}


class FakeClient:
    def __init__(self, owner: Object | None = None, fail: dict[str, APIError] | None = None) -> None:
        self.owner = owner
        self.fail = fail or {}
        self.actions: list[tuple[str, str, str, Any]] = []

    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> Object:
        self.actions.append(("get", kind, name, None))
        if self.owner is None:
            raise APIError(404, "NotFound", f'{kind} "{name}" not found')
        return copy.deepcopy(self.owner)

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str | None = None, patch_type: str = "merge") -> Object:
        self.actions.append(("patch", kind, name, patch))
        if name in self.fail:
            raise self.fail[name]
        return {"metadata": {"name": name, "uid": patch["metadata"]["uid"], "ownerReferences": patch["metadata"]["ownerReferences"]}}


def manager(client: FakeClient, owner: Object = OWNER) -> ControllerRefManager:
    return ControllerRefManager(
        client, owner, from_label_selector(owner["spec"]["selector"]), api_version="apps/v1", kind="ReplicaSet",  # type: ignore[arg-type]
        owner_resource="replicasets",
    )


def test_the_index_puts_pods_under_their_controller_and_orphans_under_their_namespace() -> None:
    assert controller_uid_index(pod("a", owner="rs-1")) == ["rs-1"]
    assert controller_uid_index(pod("b")) == [orphan_index_key("default")]
    informer = Informer(None, "pods", clock=VirtualClock())  # type: ignore[arg-type]
    informer.add_indexer(CONTROLLER_UID_INDEX, controller_uid_index)
    for p in (pod("c", owner="rs-1"), pod("a", owner="rs-1"), pod("b"), pod("d", owner="rs-2")):
        informer._upsert(object_key(p), p)  # noqa: SLF001 - a pre-filled cache, as sample-controller's tests do
    assert [p["metadata"]["name"] for p in owned_and_orphans(informer, OWNER)] == ["a", "b", "c"]
    assert [p["metadata"]["name"] for p in owned_and_orphans(informer, OWNER, orphans=False)] == ["a", "c"]


@pytest.mark.parametrize("selector", ["app=web", "app=web,tier in (front)", "app", "app!=db", "app in (web,api)", ""])
def test_the_selector_fast_path_agrees_with_the_selector(selector: str) -> None:
    parsed = parse_label_selector(selector)
    match = label_matcher(parsed)
    for labels in ({}, None, {"app": "web"}, {"app": "web", "tier": "front"}, {"app": "db"}, {"tier": "front"}):
        assert match(labels) == parsed.matches(labels), (selector, labels)


async def test_claim_keeps_ours_adopts_matching_orphans_and_releases_the_rest() -> None:
    client = FakeClient(owner=OWNER)
    claimed = await manager(client).claim([
        pod("ours", owner="rs-1"),
        pod("relabelled", owner="rs-1", labels={"app": "other"}),
        pod("orphan"),
        pod("orphan-elsewhere", labels={"app": "other"}),
        pod("orphan-going", deleting=True),
        pod("theirs", owner="rs-2"),
    ])
    assert [p["metadata"]["name"] for p in claimed] == ["ours", "orphan"]
    assert claimed[1]["metadata"]["ownerReferences"][0]["uid"] == "rs-1"  # as the API answered
    assert [(verb, name) for verb, _, name, _ in client.actions] == [
        ("patch", "relabelled"), ("get", "web"), ("patch", "orphan"),
    ]
    release = client.actions[0][3]["metadata"]
    assert release == {"ownerReferences": [{"$patch": "delete", "uid": "rs-1"}], "uid": "uid-relabelled"}


async def test_an_owner_being_deleted_adopts_and_releases_nothing() -> None:
    deleting = copy.deepcopy(OWNER)
    deleting["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    client = FakeClient(owner=deleting)
    claimed = await manager(client, deleting).claim([pod("ours", owner="rs-1"), pod("relabelled", owner="rs-1", labels={}), pod("orphan")])
    assert [p["metadata"]["name"] for p in claimed] == ["ours"]
    assert client.actions == []


async def test_no_adoption_when_a_fresh_read_shows_the_owner_gone_and_the_first_failure_is_raised() -> None:
    replaced = copy.deepcopy(OWNER)
    replaced["metadata"]["uid"] = "rs-new"
    client = FakeClient(owner=replaced)
    with pytest.raises(OwnerGone, match="is gone"):
        await manager(client).claim([pod("orphan-1"), pod("ours", owner="rs-1"), pod("orphan-2")])
    assert [verb for verb, *_ in client.actions] == ["get"]  # read once, adopted nothing


async def test_gone_objects_are_no_failure_but_other_errors_are_after_trying_every_one() -> None:
    client = FakeClient(owner=OWNER, fail={
        "gone": APIError(404, "NotFound", "gone"),
        "replaced": APIError(422, "Invalid", "uid precondition"),
        "broken": APIError(500, "InternalError", "boom"),
    })
    with pytest.raises(APIError, match="boom"):
        await manager(client).claim([pod("gone"), pod("replaced", owner="rs-1", labels={}), pod("broken"), pod("fine")])
    assert [name for _, _, name, _ in client.actions] == ["web", "gone", "replaced", "broken", "fine"]


async def test_finalizers_come_with_an_adoption_and_go_with_a_release() -> None:
    client = FakeClient(owner=OWNER)
    refs = ControllerRefManager(
        client, OWNER, from_label_selector(OWNER["spec"]["selector"]), api_version="apps/v1", kind="ReplicaSet",  # type: ignore[arg-type]
        owner_resource="replicasets", finalizers=("batch.kubernetes.io/job-tracking",),
    )
    orphan = pod("orphan")
    before = copy.deepcopy(orphan)
    claimed = await refs.claim([orphan, pod("relabelled", owner="rs-1", labels={})])
    adopt, release = client.actions[1][3]["metadata"], client.actions[2][3]["metadata"]
    assert adopt["finalizers"] == ["batch.kubernetes.io/job-tracking"]
    assert release["$deleteFromPrimitiveList/finalizers"] == ["batch.kubernetes.io/job-tracking"]
    # The API's answer is used when it is the object; its uid is what this fake answers with.
    assert claimed[0]["metadata"]["ownerReferences"][0]["uid"] == "rs-1"
    assert orphan == before  # the cached object is left alone


async def test_an_adopted_object_the_answer_does_not_show_is_what_the_patch_makes_of_it() -> None:
    class TerseClient(FakeClient):
        async def patch(self, kind: str, name: str, patch: Object, *, namespace: str | None = None,
                        patch_type: str = "merge") -> Object:
            self.actions.append(("patch", kind, name, patch))
            return {}

    client = TerseClient(owner=OWNER)
    refs = ControllerRefManager(
        client, OWNER, from_label_selector(OWNER["spec"]["selector"]), api_version="apps/v1", kind="ReplicaSet",  # type: ignore[arg-type]
        owner_resource="replicasets", finalizers=("f",),
    )
    orphan = pod("orphan")
    (adopted,) = await refs.claim([orphan])
    assert adopted["metadata"]["ownerReferences"] == [refs.ref] and adopted["metadata"]["finalizers"] == ["f"]
    assert "ownerReferences" not in orphan["metadata"] and "finalizers" not in orphan["metadata"]


async def test_own_writes_are_read_until_the_informer_catches_up() -> None:
    clock = VirtualClock()
    informer = Informer(None, "replicasets", clock=clock)  # type: ignore[arg-type]
    cache = MutationCache(informer, ttl=60)
    informer._upsert("default/web", OWNER)  # noqa: SLF001
    written = copy.deepcopy(OWNER)
    written["metadata"]["resourceVersion"] = "7"
    cache.mutation(written)
    assert cache.get("default/web") is written
    assert cache.by_index("namespace", "default") == [written]
    # The watch delivers that version: the cache is the informer's again.
    delivered = copy.deepcopy(written)
    informer._upsert("default/web", delivered)  # noqa: SLF001
    assert cache.get("default/web") is delivered
    # A creation shows before the informer reports it, for a while.
    created = {**copy.deepcopy(OWNER), "metadata": {**OWNER["metadata"], "name": "new", "uid": "rs-9", "resourceVersion": "8"}}
    cache.mutation(created, created=True)
    assert [o["metadata"]["name"] for o in cache.by_index("namespace", "default")] == ["new", "web"]
    await clock.advance(61)
    assert cache.get("default/new") is None
