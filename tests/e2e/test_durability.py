"""kill -9 of `kube-lite server` under load loses no acknowledged write."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import httpx

from tests.support.cluster import ServerProcess


def _tls(data_dir: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(data_dir / "pki" / "ca.crt"))
    context.load_cert_chain(str(data_dir / "pki" / "admin.crt"), str(data_dir / "pki" / "admin.key"))
    return context


async def _load(
    url: str, context: ssl.SSLContext, acked: list[tuple[str, str]], stop_after: float, enough: asyncio.Event
) -> None:
    """16 concurrent writers creating configmaps until the server dies; record each 201."""
    deadline = time.monotonic() + stop_after
    async with httpx.AsyncClient(base_url=url, verify=context, timeout=5) as client:

        async def writer(w: int) -> None:
            n = 0
            while time.monotonic() < deadline:
                name = f"cm-{w}-{n}"
                n += 1
                try:
                    r = await client.post(
                        "/api/v1/namespaces/default/configmaps",
                        json={"metadata": {"name": name}, "data": {"payload": "x" * 512}},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    acked.append((name, r.json()["metadata"]["resourceVersion"]))
                    if len(acked) >= 300:
                        enough.set()

        await asyncio.gather(*(writer(w) for w in range(16)))


def test_kill_9_loses_no_acknowledged_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir, ["server"]).start()
    acked: list[tuple[str, str]] = []
    context = _tls(data_dir)

    async def scenario() -> None:
        enough = asyncio.Event()
        load = asyncio.ensure_future(_load(server.url, context, acked, 20, enough))
        await asyncio.wait_for(enough.wait(), 20)
        server.kill9()
        await load

    asyncio.run(scenario())
    assert len(acked) >= 300

    restarted = ServerProcess(data_dir, ["server"]).start()
    try:
        with httpx.Client(base_url=restarted.url, verify=_tls(data_dir), timeout=10) as client:
            listed = client.get("/api/v1/namespaces/default/configmaps").json()
        stored = {item["metadata"]["name"]: item["metadata"]["resourceVersion"] for item in listed["items"]}
        missing = [name for name, _ in acked if name not in stored]
        assert missing == [], f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
        # Each object kept the revision its create was acknowledged with.
        assert all(stored[name] == rv for name, rv in acked)
        assert int(listed["metadata"]["resourceVersion"]) >= max(int(rv) for _, rv in acked)
    finally:
        restarted.stop()
