"""ImageLocality: prefer nodes that already have the pod's images, weighted by image size and
by how many nodes have them (an image everywhere is no reason to pick one node)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kube_lite.scheduler.nodeinfo import NodeInfo
from kube_lite.scheduler.plugin import MAX_NODE_SCORE, Plugin, Snapshot
from kube_lite.scheduler.podinfo import PodInfo
from kube_lite.scheduler.status import SKIP

NAME = "ImageLocality"
MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def image_score(sum_scores: int, num_containers: int) -> int:
    """Kubernetes' calculatePriority: the summed image score mapped between the thresholds."""
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    if sum_scores < MIN_THRESHOLD:
        sum_scores = MIN_THRESHOLD
    elif sum_scores > max_threshold:
        sum_scores = max_threshold
    return MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


class ImageLocality(Plugin):
    name = NAME
    is_score = True
    node_local = True

    def pre_score(self, pod: PodInfo, snapshot: Snapshot, nodes: Sequence[NodeInfo]) -> Any:
        present = snapshot.image_nodes
        if not any(image in present for image in pod.images):
            return SKIP  # no node has any of them: every node scores 0
        total = snapshot.num_nodes
        # The spread of each image: the share of all nodes that have it.
        return tuple(sorted({image: present[image] / total for image in pod.images if image in present}.items()))

    def score_many(self, state: Any, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        spread = dict(state)
        out = []
        for n in nodes:
            total = 0
            for image in pod.images:
                size = n.images.get(image)
                if size is not None:
                    total += int(size * spread[image])
            out.append(image_score(total, pod.num_containers))
        return out
