"""Per-kind storage behaviour: what create, update, delete do beyond the generic path.

A `Strategy` says how a kind is stored (its key segment), whether it has a status subresource
(then the main resource ignores status changes and the status subresource ignores everything
else), whether it tracks generation, and how it is deleted (grace periods for pods, the
Terminating phase of namespaces).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kube_lite.api.registry import KindInfo

# Groups whose resources are stored under their plural alone (as Kubernetes does); custom
# resources are stored under "<plural>.<group>" so that no two kinds share a key segment.
_BUILTIN_GROUPS = {
    "",
    "apps",
    "batch",
    "coordination.k8s.io",
    "scheduling.k8s.io",
    "policy",
    "discovery.k8s.io",
    "events.k8s.io",
    "storage.k8s.io",
    "rbac.authorization.k8s.io",
    "authorization.k8s.io",
    "authentication.k8s.io",
    "certificates.k8s.io",
    "apiextensions.k8s.io",
}


class Strategy:
    """The generic strategy: status subresource when the kind declares one."""

    def __init__(self, kind: KindInfo) -> None:
        self.kind = kind
        self.resource = kind.plural if kind.group in _BUILTIN_GROUPS else f"{kind.plural}.{kind.group}"
        self.api_version = f"{kind.group}/{kind.version}" if kind.group else kind.version
        self.has_status = "status" in (kind.subresources or ())
        self.has_generation = self.has_status
        self.allow_unconditional_update = True

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        """Reset what a client may not set on create (status, for kinds with a status
        subresource)."""
        if self.has_status:
            obj.pop("status", None)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        """The object to store: the main resource keeps the old status; the status subresource
        keeps everything but the status (and metadata labels/annotations) from the old."""
        if subresource == "status":
            merged = copy.deepcopy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            for field in ("labels", "annotations"):
                if field in new.get("metadata", {}):
                    merged["metadata"][field] = new["metadata"][field]
            return merged
        if self.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        return new

    def spec_changed(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        return new.get("spec") != old.get("spec")

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        """Seconds the object stays (Terminating) before it is removed; 0 removes it now."""
        return 0

    def pending_finalizers(self, obj: dict[str, Any]) -> bool:
        return bool(obj["metadata"].get("finalizers"))

    def prepare_for_delete(self, obj: dict[str, Any]) -> None:
        """Change a deleted object that stays for a while (finalizers, grace)."""

    def finalizers_delete(self, obj: dict[str, Any]) -> bool:
        """Whether an object being deleted whose last finalizer went is removed now."""
        return not self.pending_finalizers(obj)


class PodStrategy(Strategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        obj["status"] = {"phase": "Pending"}

    def spec_changed(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        return new.get("spec") != old.get("spec")

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        # A pod no kubelet runs, or one that has finished, goes at once (as Kubernetes does).
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(int(requested), 0)
        meta = obj["metadata"]
        if meta.get("deletionGracePeriodSeconds") is not None:
            return int(meta["deletionGracePeriodSeconds"])
        grace = spec.get("terminationGracePeriodSeconds")
        return 30 if grace is None else max(int(grace), 0)

    def finalizers_delete(self, obj: dict[str, Any]) -> bool:
        # A terminating pod whose finalizers are gone still waits for its kubelet (grace).
        return not obj["metadata"].get("finalizers") and int(obj["metadata"].get("deletionGracePeriodSeconds") or 0) == 0


class NamespaceStrategy(Strategy):
    def __init__(self, kind: KindInfo) -> None:
        super().__init__(kind)
        self.has_generation = False

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        obj["status"] = {"phase": "Active"}
        spec = obj.setdefault("spec", {})
        spec.setdefault("finalizers", ["kubernetes"])

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        if subresource == "finalize":
            merged = copy.deepcopy(old)
            merged["spec"] = {**old.get("spec", {}), "finalizers": (new.get("spec") or {}).get("finalizers") or []}
            if not merged["spec"]["finalizers"]:
                del merged["spec"]["finalizers"]
            return merged
        new = super().prepare_for_update(new, old, subresource)
        if subresource != "status":
            new["spec"] = copy.deepcopy(old.get("spec") or {})
            if not new["spec"]:
                del new["spec"]
        return new

    def pending_finalizers(self, obj: dict[str, Any]) -> bool:
        return bool(obj["metadata"].get("finalizers")) or bool((obj.get("spec") or {}).get("finalizers"))

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        return 0

    def prepare_for_delete(self, obj: dict[str, Any]) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"


class SecretStrategy(Strategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        _fold_string_data(obj)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        _fold_string_data(new)
        return super().prepare_for_update(new, old, subresource)


def _fold_string_data(obj: dict[str, Any]) -> None:
    """stringData is write-only: merged into data (base64) and never stored."""
    import base64

    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = obj.setdefault("data", {}) or {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


class JobStrategy(Strategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        from kube_lite.api.defaults import generate_job_selector

        super().prepare_for_create(obj)
        generate_job_selector(obj)


class ServiceStrategy(Strategy):
    # Allocated fields that an update may omit (kubectl replace of an edited manifest) and
    # that must then carry over, as Kubernetes' Service REST does.
    _KEPT = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort")

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any], subresource: str) -> dict[str, Any]:
        new = super().prepare_for_update(new, old, subresource)
        spec, old_spec = new.get("spec"), old.get("spec") or {}
        if isinstance(spec, dict):
            for field in self._KEPT:
                if field not in spec and field in old_spec:
                    spec[field] = copy.deepcopy(old_spec[field])
            old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or []}
            for port in spec.get("ports") or []:
                before = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                if isinstance(port, dict) and before and "nodePort" not in port and "nodePort" in before:
                    port["nodePort"] = before["nodePort"]
        return new


_STRATEGIES: dict[tuple[str, str], type[Strategy]] = {
    ("batch", "jobs"): JobStrategy,
    ("", "services"): ServiceStrategy,
    ("", "pods"): PodStrategy,
    ("", "namespaces"): NamespaceStrategy,
    ("", "secrets"): SecretStrategy,
}


@cache
def strategy_for(kind: KindInfo) -> Strategy:
    return _STRATEGIES.get((kind.group, kind.plural), Strategy)(kind)
