"""The agent's HTTPS endpoint: /healthz and container logs, with client certificates."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from kube_lite.clock import RealClock
from kube_lite.server.certs import ensure_pki
from tests.unit.agent.agentenv import NODE, agent_env


async def test_healthz_and_container_logs_over_https(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "cluster", ["127.0.0.1"], RealClock())
    async with agent_env(tmp_path, serve_https=True, pki=pki, kubelet_port=0, root_dir=tmp_path / "agent") as env:
        assert env.agent.kubelet_endpoint is not None
        host, port = env.agent.kubelet_endpoint
        assert port != 0
        node = await env.client.get("nodes", NODE)
        assert node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] == port
        await env.client.create("pods", env.pod("web"))
        await env.wait_for_pod("web", lambda p: (p.get("status") or {}).get("phase") == "Running")

        anonymous = ssl.create_default_context(cafile=str(pki.ca_cert_path))
        admin = ssl.create_default_context(cafile=str(pki.ca_cert_path))
        admin.load_cert_chain(pki.admin_cert_path, pki.admin_key_path)
        base = f"https://{host}:{port}"
        async with httpx.AsyncClient(verify=anonymous) as http:
            response = await http.get(f"{base}/healthz")
            assert (response.status_code, response.text) == (200, "ok")
            response = await http.get(f"{base}/containerLogs/default/web/app")
            assert response.status_code == 401
        async with httpx.AsyncClient(verify=admin) as http:
            response = await http.get(f"{base}/containerLogs/default/web/app")
            assert response.status_code == 200
            lines = response.text.splitlines()
            assert lines[0].startswith("fake container app started from busybox")
            response = await http.get(f"{base}/containerLogs/default/web/app", params={"tailLines": "1"})
            assert response.text.splitlines() == lines[-1:]
            response = await http.get(f"{base}/containerLogs/default/web/nope")
            assert response.status_code == 404
            response = await http.get(f"{base}/containerLogs/default/web/app", params={"previous": "true"})
            assert response.status_code == 404  # no previous instance
            response = await http.get(f"{base}/metrics")
            assert response.status_code == 404
