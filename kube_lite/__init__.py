"""kube-lite: Kubernetes' control plane as an embeddable asyncio Python runtime.

The embedding API::

    import kube_lite

    async with kube_lite.Cluster(nodes=3, runtime="fake", backend="memory:") as cluster:
        await cluster.wait_ready()
        await cluster.client.create("pods", {...})
        await cluster.settle()

`Cluster` (a whole cluster), `APIServer` (the API server alone), `Client` (the API client),
`VirtualClock`/`RealClock`, and the kinds' Structs under `kube_lite.api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from kube_lite.client.client import Client
    from kube_lite.clock import RealClock, VirtualClock
    from kube_lite.cluster import Cluster
    from kube_lite.server.apiserver import APIServer

_EXPORTS = {
    "Cluster": "kube_lite.cluster",
    "APIServer": "kube_lite.server.apiserver",
    "Client": "kube_lite.client.client",
    "RealClock": "kube_lite.clock",
    "VirtualClock": "kube_lite.clock",
}

__all__ = ["APIServer", "Client", "Cluster", "RealClock", "VirtualClock", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import kube_lite` (and the CLI's start) stays cheap.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kube_lite' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
