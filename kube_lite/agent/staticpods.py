"""Static pods: pods from manifest files on the node, and their mirror pods in the API.

The manifest directory is polled on the clock (every second by default): each regular file
not starting with "." holds one Pod, in YAML or JSON. A manifest becomes a pod as the kubelet's
file source makes it:

* defaults applied (as the API server would: restartPolicy, grace period, pull policy, ...),
  namespace "default" when unset, spec.nodeName the node, a toleration of every NoExecute taint;
* the name gets the suffix "-NODENAME" (lower-cased);
* the uid is a hash of the defaulted pod, the node name and the file path, so an edited
  manifest is a new pod (the old one is stopped, the new one started) and an unchanged one
  keeps its uid across polls and agent restarts;
* annotations kubernetes.io/config.hash (the uid), kubernetes.io/config.source ("file") and
  kubernetes.io/config.seen (when first read).

A file that does not parse or does not validate is logged and skipped (as if absent).

The mirror pod is the static pod's face in the API: same name, namespace, labels and spec,
annotation kubernetes.io/config.mirror = the config hash, owned by the Node. `MirrorPods`
creates it, replaces it when it is out of date or being deleted (a mirror pod deleted through
the API comes back, while the static pod keeps running), and deletes it when the static pod is
gone. The agent never runs a mirror pod itself.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
import structlog
import yaml

from kube_lite.api.core import Pod
from kube_lite.api.defaults import default_object
from kube_lite.api.errors import APIError
from kube_lite.api.validation import validate_object
from kube_lite.client.client import Client
from kube_lite.clock import Clock

if TYPE_CHECKING:
    from kube_lite.agent.podworker import PodWorker

log = structlog.get_logger(__name__)

CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_MIRROR = "kubernetes.io/config.mirror"
CONFIG_SOURCE = "kubernetes.io/config.source"
CONFIG_SEEN = "kubernetes.io/config.seen"
FILE_SOURCE = "file"


class ManifestError(ValueError):
    """A manifest that cannot be turned into a pod."""


def is_mirror_pod(pod: dict[str, Any]) -> bool:
    return CONFIG_MIRROR in ((pod.get("metadata") or {}).get("annotations") or {})


def static_pod_name(name: str, node_name: str) -> str:
    return f"{name}-{node_name.lower()}"


def pod_from_manifest(data: Any, path: str, node_name: str, seen: str) -> dict[str, Any]:
    """The static pod for manifest content `data` (already parsed) read from `path`.
    Raises ManifestError when it is not a valid Pod."""
    if not isinstance(data, dict):
        raise ManifestError("manifest is not an object")
    if data.get("kind", "Pod") != "Pod" or data.get("apiVersion", "v1") != "v1":
        raise ManifestError(f"manifest is a {data.get('apiVersion')}/{data.get('kind')}, not a v1 Pod")
    data = dict(data)
    meta = dict(data.get("metadata") or {})
    if not meta.get("name"):
        raise ManifestError("manifest has no metadata.name")
    meta["name"] = static_pod_name(meta["name"], node_name)
    meta.setdefault("namespace", "default")
    for field in ("uid", "resourceVersion", "creationTimestamp", "generation", "selfLink"):
        meta.pop(field, None)
    data["metadata"] = meta
    data["apiVersion"], data["kind"] = "v1", "Pod"
    data.pop("status", None)
    spec = dict(data.get("spec") or {})
    spec["nodeName"] = node_name
    tolerations = list(spec.get("tolerations") or [])
    if not any(t.get("operator") == "Exists" and not t.get("key") and t.get("effect") in ("NoExecute", None, "")
               for t in tolerations if isinstance(t, dict)):
        tolerations.append({"operator": "Exists", "effect": "NoExecute"})
    spec["tolerations"] = tolerations
    data["spec"] = spec
    try:
        typed = msgspec.convert(data, Pod, str_keys=True)
    except msgspec.ValidationError as exc:
        raise ManifestError(f"invalid pod: {exc}") from None
    default_object(typed)
    problems = validate_object(typed)
    if problems:
        raise ManifestError("invalid pod: " + "; ".join(str(p) for p in problems))
    pod = msgspec.to_builtins(typed)
    hasher = hashlib.md5(usedforsecurity=False)
    hasher.update(msgspec.json.encode(pod, order="sorted"))
    hasher.update(f"host:{node_name}".encode())
    hasher.update(f"file:{path}".encode())
    uid = hasher.hexdigest()
    annotations = dict(pod["metadata"].get("annotations") or {})
    annotations.update({CONFIG_HASH: uid, CONFIG_SOURCE: FILE_SOURCE, CONFIG_SEEN: seen})
    pod["metadata"]["annotations"] = annotations
    pod["metadata"]["uid"] = uid
    pod["status"] = {"phase": "Pending"}
    return pod


@dataclass
class _FileState:
    stamp: tuple[int, int, int]  # (mtime_ns, size, inode)
    pod: dict[str, Any] | None


class StaticPodSource:
    """Polls `directory`; calls `on_update(pods)` with every static pod (by uid) whenever the
    set changes (and once after the first read, even when empty)."""

    def __init__(self, directory: str | os.PathLike[str], node_name: str, clock: Clock, *,
                 poll_seconds: float = 1.0) -> None:
        self.directory = Path(directory)
        self.node_name = node_name
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.pods: dict[str, dict[str, Any]] = {}
        self.loaded = False
        self._files: dict[str, _FileState] = {}
        self._seen: dict[str, str] = {}  # uid -> config.seen

    def read(self) -> dict[str, dict[str, Any]]:
        """Read the directory now (files unchanged since the last read are not parsed again);
        the static pods by uid. Synchronous: a directory of small files."""
        found: dict[str, _FileState] = {}
        try:
            entries = sorted(os.scandir(self.directory), key=lambda e: e.name)
        except FileNotFoundError:
            entries = []
        except OSError as exc:
            log.warning("cannot read the manifest directory", dir=str(self.directory), error=str(exc))
            return dict(self.pods)
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_file():
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            previous = self._files.get(entry.name)
            if previous is not None and previous.stamp == stamp:
                found[entry.name] = previous
                continue
            found[entry.name] = _FileState(stamp, self._load(entry.path))
        self._files = found
        pods: dict[str, dict[str, Any]] = {}
        for name, state in found.items():
            if state.pod is None:
                continue
            uid = state.pod["metadata"]["uid"]
            if uid in pods:
                log.warning("two manifests make the same pod; ignoring one", file=name)
                continue
            pods[uid] = state.pod
        self._seen = {uid: seen for uid, seen in self._seen.items() if uid in pods}
        return pods

    def _load(self, path: str) -> dict[str, Any] | None:
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            log.warning("cannot read static pod manifest", file=path, error=str(exc))
            return None
        seen = _dt.datetime.fromtimestamp(self.clock.time(), _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        try:
            pod = pod_from_manifest(data, path, self.node_name, seen)
        except ManifestError as exc:
            log.warning("invalid static pod manifest", file=path, error=str(exc))
            return None
        uid = pod["metadata"]["uid"]
        # A file rewritten with the same content is the same pod, first seen back then.
        pod["metadata"]["annotations"][CONFIG_SEEN] = self._seen.setdefault(uid, seen)
        return pod

    async def run(self, on_update: Callable[[dict[str, dict[str, Any]]], None], *,
                  task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Poll forever; `task_status.started()` after the first read has been reported."""
        while True:
            pods = self.read()
            if not self.loaded or pods.keys() != self.pods.keys():
                self.pods = pods
                on_update(pods)
                if not self.loaded:
                    self.loaded = True
                    task_status.started()
            await self.clock.sleep(self.poll_seconds)


class MirrorPods:
    """Keeps mirror pods in the API for the static pods of one node (see the module doc).
    `lookup(key)` reads the agent's cache of pods bound to the node; `node_uid()` the Node's
    uid (for the owner reference)."""

    def __init__(self, client: Client, node_name: str, lookup: Callable[[str], dict[str, Any] | None],
                 node_uid: Callable[[], str | None]) -> None:
        self.client = client
        self.node_name = node_name
        self.lookup = lookup
        self.node_uid = node_uid
        self.creates = 0

    def mirror_of(self, static_pod: dict[str, Any]) -> dict[str, Any]:
        """The mirror pod object for `static_pod`."""
        meta = static_pod["metadata"]
        annotations = dict(meta.get("annotations") or {})
        annotations[CONFIG_MIRROR] = annotations.get(CONFIG_HASH, meta["uid"])
        metadata: dict[str, Any] = {
            "name": meta["name"],
            "namespace": meta.get("namespace") or "default",
            "annotations": annotations,
        }
        if meta.get("labels"):
            metadata["labels"] = dict(meta["labels"])
        node_uid = self.node_uid()
        if node_uid:
            metadata["ownerReferences"] = [
                {"apiVersion": "v1", "kind": "Node", "name": self.node_name, "uid": node_uid, "controller": True}
            ]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": dict(static_pod["spec"])}

    async def ensure(self, worker: PodWorker) -> None:
        """Create the mirror pod of `worker`'s static pod, or replace it when it is stale or
        being deleted. API errors are logged; the next sync tries again."""
        key = f"{worker.namespace}/{worker.name}"
        current = self.lookup(key)
        try:
            if current is not None:
                cmeta = current.get("metadata") or {}
                annotations = cmeta.get("annotations") or {}
                if annotations.get(CONFIG_MIRROR) == worker.uid and not cmeta.get("deletionTimestamp"):
                    return
                if not is_mirror_pod(current):
                    log.warning("a pod that is not a mirror pod has the static pod's name", pod=key)
                    return
                await self._delete(worker.namespace, worker.name, cmeta.get("uid"))
            await self.client.create("pods", self.mirror_of(worker.pod), namespace=worker.namespace)
            self.creates += 1
            log.info("mirror pod created", pod=key)
        except APIError as exc:
            if exc.code != 409:  # 409: the cache is behind; the next sync sees the mirror
                log.warning("mirror pod not updated", pod=key, error=exc.message)

    async def delete(self, worker: PodWorker) -> None:
        """Delete the mirror pod of `worker`'s static pod (if it is that pod's)."""
        current = self.lookup(f"{worker.namespace}/{worker.name}")
        uid = ((current or {}).get("metadata") or {}).get("uid")
        if current is not None and not is_mirror_pod(current):
            return
        try:
            await self._delete(worker.namespace, worker.name, uid)
        except APIError as exc:
            log.warning("mirror pod not deleted", pod=f"{worker.namespace}/{worker.name}", error=exc.message)

    async def delete_orphan(self, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        try:
            await self._delete(meta.get("namespace") or "default", meta["name"], meta.get("uid"))
            log.info("orphaned mirror pod deleted", pod=f"{meta.get('namespace')}/{meta.get('name')}")
        except APIError as exc:
            log.warning("orphaned mirror pod not deleted", error=exc.message)

    async def _delete(self, namespace: str, name: str, uid: str | None) -> None:
        try:
            await self.client.delete("pods", name, namespace=namespace, grace_period_seconds=0,
                                     preconditions={"uid": uid} if uid else None)
        except APIError as exc:
            if exc.code not in (404, 409):
                raise
