"""Filter plugins as pure functions of (pod, node, snapshot): tables of cases."""

from __future__ import annotations

from typing import Any

import pytest

from kube_lite.scheduler.cache import SchedulerCache
from kube_lite.scheduler.plugin import Plugin
from kube_lite.scheduler.plugins import (
    InterPodAffinity,
    NodeAffinity,
    NodeName,
    NodePorts,
    NodeResourcesFit,
    NodeUnschedulable,
    PodTopologySpread,
    TaintToleration,
)
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import SKIP, Code, Status

from .helpers import info, node, pod

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def run(plugin: Plugin, p: PodInfo, target: dict[str, Any], others: list[dict[str, Any]] = (),
        pods: list[Any] = (), namespaces: dict[str, dict[str, str]] | None = None) -> Status | None:
    """Pre-filter and filter `p` against node `target` in a snapshot of target + others + pods;
    also checks that filter_many agrees with filter."""
    snapshot = SchedulerCache.from_objects([target, *others], pods, namespaces)
    state = plugin.pre_filter(p, snapshot)
    if state is SKIP:
        return None
    n = snapshot.get(target["metadata"]["name"])
    status = plugin.filter(state, p, n)
    passed, failed = plugin.filter_many(state, p, [n])
    assert (passed == [n]) == (status is None)
    if status is not None:
        assert failed[0][1].reasons == status.reasons and failed[0][1].code == status.code
    return status


def reasons(status: Status | None) -> tuple[str, ...]:
    return () if status is None else status.reasons


# ---------------------------------------------------------------------------------- NodeName


@pytest.mark.parametrize(("wanted", "ok"), [(None, True), ("n1", True), ("n2", False)])
def test_node_name(wanted: str | None, ok: bool) -> None:
    p = info("p", spec={"nodeName": wanted} if wanted else {})
    status = run(NodeName(), p, node("n1"))
    assert (status is None) == ok
    if not ok:
        assert status.reasons == ("node(s) didn't match the requested node name",)
        assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE


# ---------------------------------------------------------------------------------- NodeUnschedulable


@pytest.mark.parametrize(
    ("cordoned", "tolerations", "ok"),
    [
        (False, [], True),
        (True, [], False),
        (True, [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}], True),
        (True, [{"operator": "Exists"}], True),
        (True, [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoExecute"}], False),
    ],
)
def test_node_unschedulable(cordoned: bool, tolerations: list, ok: bool) -> None:
    status = run(NodeUnschedulable(), info("p", tolerations=tolerations), node("n1", unschedulable=cordoned))
    assert reasons(status) == (() if ok else ("node(s) were unschedulable",))


# ---------------------------------------------------------------------------------- TaintToleration


@pytest.mark.parametrize(
    ("taints", "tolerations", "reason"),
    [
        ([], [], None),
        ([CONTROL_PLANE], [], "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"),
        ([CONTROL_PLANE], [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}], None),
        ([CONTROL_PLANE], [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}], None),
        ([CONTROL_PLANE], [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoExecute"}],
         "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"),
        # Empty key with Exists tolerates everything.
        ([CONTROL_PLANE, {"key": "x", "value": "y", "effect": "NoExecute"}], [{"operator": "Exists"}], None),
        # Equal compares values (unset operator is Equal).
        ([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}], [{"key": "dedicated", "value": "gpu"}], None),
        ([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
         [{"key": "dedicated", "operator": "Equal", "value": "cpu"}], "node(s) had untolerated taint {dedicated: gpu}"),
        # NoExecute repels too; PreferNoSchedule does not filter.
        ([{"key": "k", "value": "v", "effect": "NoExecute"}], [], "node(s) had untolerated taint {k: v}"),
        ([{"key": "k", "value": "v", "effect": "PreferNoSchedule"}], [], None),
        # The first untolerated taint, in the node's order, is reported.
        ([{"key": "a", "effect": "NoSchedule"}, {"key": "b", "effect": "NoSchedule"}], [{"key": "a", "operator": "Exists"}],
         "node(s) had untolerated taint {b: }"),
    ],
)
def test_taint_toleration_filter(taints: list, tolerations: list, reason: str | None) -> None:
    status = run(TaintToleration(), info("p", tolerations=tolerations), node("n1", taints=taints),
                 others=[node("tainted", taints=[CONTROL_PLANE])])
    assert reasons(status) == (() if reason is None else (reason,))
    if status is not None:
        assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE


# ---------------------------------------------------------------------------------- NodeAffinity


def _required(*terms: dict) -> dict:
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}}


def _expr(key: str, op: str, *values: str) -> dict:
    e: dict = {"key": key, "operator": op}
    if values:
        e["values"] = list(values)
    return e


@pytest.mark.parametrize(
    ("spec", "labels", "ok"),
    [
        ({}, {}, True),
        ({"nodeSelector": {"apptype": "echoserver"}}, {}, False),
        ({"nodeSelector": {"apptype": "echoserver"}}, {"apptype": "echoserver"}, True),
        ({"nodeSelector": {"apptype": "echoserver"}}, {"apptype": "other"}, False),
        (_required({"matchExpressions": [_expr("apptype", "In", "echoserver")]}), {"apptype": "echoserver"}, True),
        (_required({"matchExpressions": [_expr("apptype", "In", "echoserver")]}), {}, False),
        (_required({"matchExpressions": [_expr("apptype", "NotIn", "otherserver")]}), {}, True),
        (_required({"matchExpressions": [_expr("apptype", "NotIn", "otherserver")]}), {"apptype": "otherserver"}, False),
        (_required({"matchExpressions": [_expr("gpu", "Exists")]}), {"gpu": ""}, True),
        (_required({"matchExpressions": [_expr("gpu", "DoesNotExist")]}), {"gpu": ""}, False),
        (_required({"matchExpressions": [_expr("cores", "Gt", "8")]}), {"cores": "16"}, True),
        (_required({"matchExpressions": [_expr("cores", "Gt", "8")]}), {"cores": "8"}, False),
        (_required({"matchExpressions": [_expr("cores", "Lt", "8")]}), {"cores": "4"}, True),
        (_required({"matchExpressions": [_expr("cores", "Lt", "8")]}), {"cores": "many"}, False),
        # Terms are ORed, expressions within a term ANDed.
        (_required({"matchExpressions": [_expr("a", "Exists"), _expr("b", "Exists")]}), {"a": "1"}, False),
        (_required({"matchExpressions": [_expr("a", "Exists")]}, {"matchExpressions": [_expr("b", "Exists")]}), {"b": "1"}, True),
        # matchFields on metadata.name.
        (_required({"matchFields": [_expr("metadata.name", "In", "n1")]}), {}, True),
        (_required({"matchFields": [_expr("metadata.name", "In", "n2")]}), {}, False),
        (_required({"matchFields": [_expr("metadata.name", "NotIn", "n1")]}), {}, False),
        # An empty term matches nothing; nodeSelector and affinity must both hold.
        (_required({}), {}, False),
        ({"nodeSelector": {"a": "1"}, **_required({"matchExpressions": [_expr("b", "Exists")]})}, {"a": "1"}, False),
    ],
)
def test_node_affinity_filter(spec: dict, labels: dict, ok: bool) -> None:
    status = run(NodeAffinity(), info("p", spec=spec), node("n1", labels=labels))
    assert reasons(status) == (() if ok else ("node(s) didn't match Pod's node affinity/selector",))


# ---------------------------------------------------------------------------------- NodePorts


@pytest.mark.parametrize(
    ("existing", "wanted", "ok"),
    [
        ([], ("0.0.0.0", "TCP", 80), True),
        ([("0.0.0.0", "TCP", 80)], ("0.0.0.0", "TCP", 80), False),
        ([("0.0.0.0", "TCP", 80)], ("0.0.0.0", "UDP", 80), True),
        ([("10.0.0.1", "TCP", 80)], ("10.0.0.2", "TCP", 80), True),
        ([("10.0.0.1", "TCP", 80)], ("10.0.0.1", "TCP", 80), False),
        ([("10.0.0.1", "TCP", 80)], ("0.0.0.0", "TCP", 80), False),
        ([("0.0.0.0", "TCP", 80)], ("10.0.0.1", "TCP", 80), False),
        ([("0.0.0.0", "TCP", 80)], ("0.0.0.0", "TCP", 81), True),
    ],
)
def test_node_ports(existing: list, wanted: tuple, ok: bool) -> None:
    def with_port(name: str, ip: str, proto: str, port: int, on: str | None = None) -> dict:
        return pod(name, node_name=on, spec={"containers": [{"name": "c", "ports": [
            {"containerPort": port, "hostPort": port, "protocol": proto, "hostIP": ip}]}]})

    bound = [with_port(f"e{i}", *e, on="n1") for i, e in enumerate(existing)]
    status = run(NodePorts(), PodInfo.of(with_port("p", *wanted)), node("n1"), pods=bound)
    assert reasons(status) == (() if ok else ("node(s) didn't have free ports for the requested pod ports",))


# ---------------------------------------------------------------------------------- NodeResourcesFit


@pytest.mark.parametrize(
    ("request_", "bound", "node_kwargs", "expected", "code"),
    [
        ({"cpu": "1", "memory": "1Gi"}, [], {}, (), None),
        ({"cpu": "3"}, [{"cpu": "2"}], {}, ("Insufficient cpu",), Code.UNSCHEDULABLE),
        ({"memory": "5Gi"}, [{"memory": "4Gi"}], {}, ("Insufficient memory",), Code.UNSCHEDULABLE),
        ({"cpu": "3", "memory": "5Gi"}, [{"cpu": "2", "memory": "4Gi"}], {}, ("Insufficient cpu", "Insufficient memory"), Code.UNSCHEDULABLE),
        # More than the node has at all: preemption cannot help.
        ({"cpu": "5"}, [], {}, ("Insufficient cpu",), Code.UNSCHEDULABLE_AND_UNRESOLVABLE),
        ({}, [{}], {"pods": "1"}, ("Too many pods",), Code.UNSCHEDULABLE),
        ({"cpu": "3"}, [{"cpu": "2"}], {"pods": "1"}, ("Too many pods", "Insufficient cpu"), Code.UNSCHEDULABLE),
        ({"example.com/gpu": "1"}, [], {}, ("Insufficient example.com/gpu",), Code.UNSCHEDULABLE_AND_UNRESOLVABLE),
        ({"example.com/gpu": "1"}, [{"example.com/gpu": "1"}], {"extra": {"example.com/gpu": "1"}}, ("Insufficient example.com/gpu",), Code.UNSCHEDULABLE),
        ({"example.com/gpu": "1"}, [], {"extra": {"example.com/gpu": "2"}}, (), None),
        ({"ephemeral-storage": "2Gi"}, [{"ephemeral-storage": "9Gi"}], {"ephemeral": "10Gi"}, ("Insufficient ephemeral-storage",), Code.UNSCHEDULABLE),
        # A pod requesting nothing only needs a pod slot.
        ({}, [{"cpu": "4", "memory": "8Gi"}], {}, (), None),
        # A resource not requested fits even on a node over-committed on it.
        ({"memory": "1Gi"}, [{"cpu": "5"}], {}, (), None),
        ({"cpu": "1"}, [{"memory": "9Gi"}], {}, (), None),
    ],
)
def test_node_resources_fit(request_: dict, bound: list, node_kwargs: dict, expected: tuple, code: Code | None) -> None:
    def with_requests(name: str, requests: dict, on: str | None = None) -> dict:
        return pod(name, node_name=on, spec={"containers": [{"name": "c", "resources": {"requests": requests}}]})

    existing = [with_requests(f"e{i}", r, "n1") for i, r in enumerate(bound)]
    status = run(NodeResourcesFit(), PodInfo.of(with_requests("p", request_)), node("n1", **node_kwargs), pods=existing)
    assert reasons(status) == expected
    if code is not None:
        assert status is not None and status.code == code


def test_node_resources_fit_counts_assumed_pods() -> None:
    snapshot = SchedulerCache.from_objects([node("n1", cpu="1")])
    snapshot.assume_pod(info("a", cpu="600m"), "n1")
    plugin = NodeResourcesFit()
    p = info("b", cpu="600m")
    assert plugin.filter(plugin.pre_filter(p, snapshot), p, snapshot.get("n1")).reasons == ("Insufficient cpu",)
    snapshot.forget_pod("default/a")
    assert plugin.filter(plugin.pre_filter(p, snapshot), p, snapshot.get("n1")) is None


# ---------------------------------------------------------------------------------- InterPodAffinity

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def _pod_affinity(kind: str, selector: dict, key: str = HOST, **extra: Any) -> dict:
    return {"affinity": {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": selector, "topologyKey": key, **extra}]}}}


@pytest.mark.parametrize(
    ("spec", "target", "existing", "expected"),
    [
        # Co-location with cache=active on the same host.
        (_pod_affinity("podAffinity", {"matchLabels": {"cache": "active"}}), "n1",
         [("c", "n1", {"cache": "active"})], ()),
        (_pod_affinity("podAffinity", {"matchLabels": {"cache": "active"}}), "n2",
         [("c", "n1", {"cache": "active"})], ("node(s) didn't match pod affinity rules",)),
        # Nothing matches anywhere and the pod does not match its own term: pending.
        (_pod_affinity("podAffinity", {"matchLabels": {"cache": "active"}}), "n1",
         [("c", "n1", {"app": "web-cache"})], ("node(s) didn't match pod affinity rules",)),
        # Nothing matches anywhere but the pod matches its own term: it may start the group.
        ({**_pod_affinity("podAffinity", {"matchLabels": {"app": "web"}})}, "n2", [], ()),
        # Zone topology: any node of the zone will do.
        (_pod_affinity("podAffinity", {"matchLabels": {"cache": "active"}}, key=ZONE), "n2",
         [("c", "n1", {"cache": "active"})], ()),
        (_pod_affinity("podAffinity", {"matchLabels": {"cache": "active"}}, key=ZONE), "n3",
         [("c", "n1", {"cache": "active"})], ("node(s) didn't match pod affinity rules",)),
        # Anti-affinity.
        (_pod_affinity("podAntiAffinity", {"matchLabels": {"app": "web"}}), "n1",
         [("w", "n1", {"app": "web"})], ("node(s) didn't match pod anti-affinity rules",)),
        (_pod_affinity("podAntiAffinity", {"matchLabels": {"app": "web"}}), "n2",
         [("w", "n1", {"app": "web"})], ()),
        # Other namespaces only when named.
        (_pod_affinity("podAntiAffinity", {"matchLabels": {"app": "web"}}), "n1",
         [("w", "n1", {"app": "web"}, "other")], ()),
        (_pod_affinity("podAntiAffinity", {"matchLabels": {"app": "web"}}, namespaces=["other"]), "n1",
         [("w", "n1", {"app": "web"}, "other")], ("node(s) didn't match pod anti-affinity rules",)),
        (_pod_affinity("podAntiAffinity", {"matchLabels": {"app": "web"}}, namespaceSelector={"matchLabels": {"team": "a"}}),
         "n1", [("w", "n1", {"app": "web"}, "other")], ("node(s) didn't match pod anti-affinity rules",)),
        (_pod_affinity("podAntiAffinity", {"matchLabels": {"app": "web"}}, namespaceSelector={}), "n1",
         [("w", "n1", {"app": "web"}, "third")], ("node(s) didn't match pod anti-affinity rules",)),
    ],
)
def test_inter_pod_affinity_filter(spec: dict, target: str, existing: list, expected: tuple) -> None:
    nodes = {
        "n1": node("n1", labels={ZONE: "a"}), "n2": node("n2", labels={ZONE: "a"}), "n3": node("n3", labels={ZONE: "b"}),
    }
    bound = [pod(e[0], labels=e[2], node_name=e[1], namespace=e[3] if len(e) > 3 else "default") for e in existing]
    p = info("p", labels={"app": "web"}, spec=spec)
    status = run(InterPodAffinity(), p, nodes[target], [n for k, n in nodes.items() if k != target], bound,
                 namespaces={"default": {}, "other": {"team": "a"}, "third": {}})
    assert reasons(status) == expected


def test_existing_pods_anti_affinity_is_symmetric() -> None:
    guard = pod("guard", node_name="n1", labels={"app": "db"},
                spec=_pod_affinity("podAntiAffinity", {"matchLabels": {"app": "web"}}))
    p = info("p", labels={"app": "web"})
    assert reasons(run(InterPodAffinity(), p, node("n1"), [node("n2")], [guard])) == (
        "node(s) didn't satisfy existing pods anti-affinity rules",)
    assert run(InterPodAffinity(), p, node("n2"), [node("n1")], [guard]) is None
    assert run(InterPodAffinity(), info("q", labels={"app": "batch"}), node("n1"), [node("n2")], [guard]) is None


def test_inter_pod_affinity_skips_pods_without_terms() -> None:
    snapshot = SchedulerCache.from_objects([node("n1")], [pod("x", node_name="n1", labels={"app": "web"})])
    assert InterPodAffinity().pre_filter(info("p"), snapshot) is SKIP


def test_affinity_state_follows_removed_and_added_pods() -> None:
    plugin = InterPodAffinity()
    web = pod("w", node_name="n1", labels={"app": "web"})
    snapshot = SchedulerCache.from_objects([node("n1"), node("n2")], [web])
    p = info("p", labels={"app": "web"}, spec=_pod_affinity("podAntiAffinity", {"matchLabels": {"app": "web"}}))
    state = plugin.pre_filter(p, snapshot)
    n1 = snapshot.get("n1")
    assert plugin.filter(state, p, n1) is not None
    trial = plugin.clone_state(state)
    plugin.remove_pod(trial, p, snapshot.pod("default/w"), n1, snapshot)
    assert plugin.filter(trial, p, n1) is None
    assert plugin.filter(state, p, n1) is not None  # the original state is untouched
    plugin.add_pod(trial, p, snapshot.pod("default/w"), n1, snapshot)
    assert plugin.filter(trial, p, n1) is not None


# ---------------------------------------------------------------------------------- PodTopologySpread


def _spread(max_skew: int = 1, key: str = ZONE, when: str = "DoNotSchedule", **extra: Any) -> dict:
    return {"topologySpreadConstraints": [{"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when,
                                           "labelSelector": {"matchLabels": {"app": "web"}}, **extra}]}


@pytest.mark.parametrize(
    ("spread", "counts", "target", "expected"),
    [
        # zone a has 1, zone b has 0: adding to a makes skew 2.
        (_spread(), {"n1": 1}, "n1", ("node(s) didn't match pod topology spread constraints",)),
        (_spread(), {"n1": 1}, "n3", ()),
        (_spread(max_skew=2), {"n1": 1}, "n2", ()),
        # Balanced: either side.
        (_spread(), {"n1": 1, "n3": 1}, "n2", ()),
        # A node without the key cannot take part.
        (_spread(), {}, "bare", ("node(s) didn't match pod topology spread constraints (missing required label)",)),
        # minDomains: with fewer domains than asked, the minimum counts as 0.
        (_spread(minDomains=3), {"n1": 1, "n3": 1}, "n1", ("node(s) didn't match pod topology spread constraints",)),
        (_spread(minDomains=2), {"n1": 1, "n3": 1}, "n1", ()),
        # Hostname topology.
        (_spread(key=HOST), {"n1": 1}, "n1", ("node(s) didn't match pod topology spread constraints",)),
        # ScheduleAnyway never filters.
        (_spread(when="ScheduleAnyway"), {"n1": 5}, "n1", ()),
    ],
)
def test_pod_topology_spread_filter(spread: dict, counts: dict, target: str, expected: tuple) -> None:
    nodes = {
        "n1": node("n1", labels={ZONE: "a"}), "n2": node("n2", labels={ZONE: "a"}),
        "n3": node("n3", labels={ZONE: "b"}), "bare": node("bare"),
    }
    bound = [pod(f"{n}-{i}", node_name=n, labels={"app": "web"}) for n, c in counts.items() for i in range(c)]
    bound.append(pod("other-app", node_name="n3", labels={"app": "db"}))
    p = info("p", labels={"app": "web"}, spec=spread)
    status = run(PodTopologySpread(), p, nodes[target], [n for k, n in nodes.items() if k != target], bound)
    assert reasons(status) == expected


def test_pod_topology_spread_honors_node_affinity_when_counting() -> None:
    # Zone b is excluded by the pod's nodeSelector, so it is not a domain: zone a alone is the minimum.
    nodes = [node("n1", labels={ZONE: "a", "pool": "x"}), node("n3", labels={ZONE: "b"})]
    p = info("p", labels={"app": "web"}, spec={**_spread(), "nodeSelector": {"pool": "x"}})
    bound = [pod("w", node_name="n1", labels={"app": "web"})]
    assert run(PodTopologySpread(), p, nodes[0], nodes[1:], bound) is None
    ignore = info("p", labels={"app": "web"}, spec={**_spread(nodeAffinityPolicy="Ignore"), "nodeSelector": {"pool": "x"}})
    assert run(PodTopologySpread(), ignore, nodes[0], nodes[1:], bound) is not None
