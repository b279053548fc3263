"""kube-lite: Kubernetes' control plane as an embeddable asyncio Python runtime."""

__version__ = "0.1.0"
