"""The node agent (kubelet) and the two protocols it drives: CRI-like runtimes and CNI-like
network plugins. See kubelet.py for the agent, cri.py and cni.py for the protocols."""

from kube_lite.agent.kubelet import NodeAgent

__all__ = ["NodeAgent"]
