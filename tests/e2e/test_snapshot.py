"""`kube-lite snapshot save` of a running server and `snapshot restore` into a new data dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.cluster import KUBE_LITE, Kubectl, ServerProcess


def test_snapshot_save_then_restore_into_a_new_data_dir(tmp_path: Path) -> None:
    source = ServerProcess(tmp_path / "source", ["server"]).start()
    try:
        k = Kubectl(source.kubeconfig)
        k("create", "namespace", "snap")
        k("create", "configmap", "settings", "-n", "snap", "--from-literal=mode=blue")
        uid = k("get", "configmap", "settings", "-n", "snap", "-o", "jsonpath={.metadata.uid}")
        snapshot = tmp_path / "backup.snap"
        saved = subprocess.run(
            [str(KUBE_LITE), "snapshot", "save", str(snapshot), "--data-dir", str(source.data_dir)],
            capture_output=True, text=True, timeout=60,
        )
        assert saved.returncode == 0, saved.stderr
        assert "Snapshot saved at" in saved.stdout and snapshot.stat().st_size > 0
        k("delete", "configmap", "settings", "-n", "snap")  # after the snapshot: must come back
    finally:
        source.stop()

    restored_dir = tmp_path / "restored"
    restore = subprocess.run(
        [str(KUBE_LITE), "snapshot", "restore", str(snapshot), "--data-dir", str(restored_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert restore.returncode == 0, restore.stderr
    assert "Restored" in restore.stdout
    again = subprocess.run(
        [str(KUBE_LITE), "snapshot", "restore", str(snapshot), "--data-dir", str(restored_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert again.returncode == 1 and "restore into a new data dir" in again.stderr
    garbage = tmp_path / "garbage.snap"
    garbage.write_bytes(b"not a snapshot")
    bad = subprocess.run(
        [str(KUBE_LITE), "snapshot", "restore", str(garbage), "--data-dir", str(tmp_path / "other")],
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 1 and "not a kube-lite snapshot" in bad.stderr and "Traceback" not in bad.stderr

    server = ServerProcess(restored_dir, ["server"]).start()
    try:
        k = Kubectl(server.kubeconfig)
        assert k("get", "configmap", "settings", "-n", "snap", "-o", "jsonpath={.data.mode}") == "blue"
        assert k("get", "configmap", "settings", "-n", "snap", "-o", "jsonpath={.metadata.uid}") == uid
    finally:
        server.stop()
