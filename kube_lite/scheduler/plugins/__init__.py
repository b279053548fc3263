"""The default plugins, in the order of Kubernetes' default profile (filters run in this
order and a node's first failing filter is the one its FailedScheduling reason comes from)."""

from __future__ import annotations

from kube_lite.scheduler.plugin import Plugin
from kube_lite.scheduler.plugins.imagelocality import ImageLocality
from kube_lite.scheduler.plugins.interpodaffinity import InterPodAffinity
from kube_lite.scheduler.plugins.nodeaffinity import NodeAffinity
from kube_lite.scheduler.plugins.nodename import NodeName
from kube_lite.scheduler.plugins.nodeports import NodePorts
from kube_lite.scheduler.plugins.noderesources import NodeResourcesBalancedAllocation, NodeResourcesFit
from kube_lite.scheduler.plugins.nodeunschedulable import NodeUnschedulable
from kube_lite.scheduler.plugins.podtopologyspread import PodTopologySpread
from kube_lite.scheduler.plugins.tainttoleration import TaintToleration

__all__ = [
    "ImageLocality",
    "InterPodAffinity",
    "NodeAffinity",
    "NodeName",
    "NodePorts",
    "NodeResourcesBalancedAllocation",
    "NodeResourcesFit",
    "NodeUnschedulable",
    "PodTopologySpread",
    "TaintToleration",
    "default_plugins",
]


def default_plugins() -> list[Plugin]:
    """Fresh instances of the default plugins with Kubernetes' default score weights:
    TaintToleration 3, NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2,
    NodeResourcesFit 1, NodeResourcesBalancedAllocation 1, ImageLocality 1."""
    return [
        NodeUnschedulable(),
        NodeName(),
        TaintToleration(),
        NodeAffinity(),
        NodePorts(),
        NodeResourcesFit(),
        PodTopologySpread(),
        InterPodAffinity(),
        NodeResourcesBalancedAllocation(),
        ImageLocality(),
    ]
