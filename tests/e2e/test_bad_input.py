"""Bad input over real HTTPS: a `kube-lite server` process, httpx with the admin client
certificate from its data dir, and raw TLS sockets for what httpx will not send.

The same properties as tests/unit/server/test_bad_input_inprocess.py (which holds the full
catalogue of cases and the exact Kubernetes answers), checked through uvicorn and TLS: no 5xx,
every error a JSON `Status` whose `code` is the HTTP status, no traceback text, the server keeps
serving and keeps every object created before, and it logs no unexpected exception.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.cluster import ServerProcess

JSON = "application/json"
YAML = "application/yaml"
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
SMP = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
MAX_BODY = 3 * 1024 * 1024

NS = "/api/v1/namespaces/e2e"
CM = f"{NS}/configmaps"
CM1 = f"{CM}/cm1"
PODS = f"{NS}/pods"
P1 = f"{PODS}/p1"
DEPLOYS = "/apis/apps/v1/namespaces/e2e/deployments"
D1 = f"{DEPLOYS}/d1"
POD_SPEC = {"containers": [{"name": "c", "image": "nginx"}]}
SEEDS: dict[str, tuple[str, dict[str, Any]]] = {
    NS: ("/api/v1/namespaces", {"metadata": {"name": "e2e"}}),
    CM1: (CM, {"metadata": {"name": "cm1"}, "data": {"a": "b"}}),
    P1: (PODS, {"metadata": {"name": "p1"}, "spec": POD_SPEC}),
    D1: (DEPLOYS, {"metadata": {"name": "d1"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "d1"}},
        "template": {"metadata": {"labels": {"app": "d1"}}, "spec": POD_SPEC}}}),
}
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "RecursionError", "AttributeError", "TypeError:", "KeyError")


class Cluster:
    """The server process, an admin client and the seed objects' uids."""

    def __init__(self, proc: ServerProcess) -> None:
        self.proc = proc
        pki = proc.data_dir / "pki"
        self.ca = str(pki / "ca.crt")
        # httpx 0.28 ignores `cert=` next to a `verify=` path: give it one SSLContext with both.
        self.context = ssl.create_default_context(cafile=self.ca)
        self.context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        self.http = httpx.Client(base_url=proc.url, verify=self.context, timeout=30)
        self.uids: dict[str, str] = {}
        self.followups = 0
        self.log_start = len(proc.log())

    def call(self, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None,
             content_type: str = JSON, accept: str = JSON, check: bool = True) -> httpx.Response:
        content = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        reply = self.http.request(method, path, params=query, content=content,
                                  headers={"content-type": content_type, "accept": accept})
        if check:
            check_reply(reply)
        return reply

    def seed(self) -> None:
        for path, (collection, obj) in SEEDS.items():
            reply = self.call("POST", collection, body=obj)
            assert reply.status_code == 201, reply.text
            self.uids[path] = reply.json()["metadata"]["uid"]

    def assert_intact(self) -> None:
        """The process is alive, every seed is there with its uid, a create and a get succeed, and
        the server logged no failed request (an unexpected exception) since it started."""
        assert self.proc.proc is not None and self.proc.proc.poll() is None, self.proc.log()[-3000:]
        for path, uid in self.uids.items():
            reply = self.call("GET", path)
            assert reply.status_code == 200 and reply.json()["metadata"]["uid"] == uid, (path, reply.text)
        self.followups += 1
        name = f"follow-up-{self.followups}"
        assert self.call("POST", CM, body={"metadata": {"name": name}}).status_code == 201
        assert self.call("GET", f"{CM}/{name}").status_code == 200
        log = self.proc.log()[self.log_start:]
        assert "request failed" not in log and "Traceback" not in log, log[-5000:]


def check_reply(reply: httpx.Response) -> None:
    for marker in TRACEBACK_MARKERS:
        assert marker not in reply.text, f"traceback text in the answer: {reply.status_code} {reply.text[:600]}"
    assert reply.status_code < 500, f"5xx answer: {reply.status_code} {reply.text[:600]}"
    if reply.status_code < 400:
        return
    assert reply.headers.get("content-type", "").startswith(JSON), f"{reply.status_code} {reply.headers} {reply.text[:300]}"
    status = reply.json()
    assert status["kind"] == "Status" and status["apiVersion"] == "v1" and status["status"] == "Failure", status
    assert isinstance(status.get("message"), str) and status["message"], status
    assert isinstance(status.get("reason"), str) and status["reason"], status
    assert status["code"] == reply.status_code, status


def expect(reply: httpx.Response, code: int, reason: str, message: str | None = None) -> dict[str, Any]:
    assert reply.status_code == code, f"expected {code} {reason}, got {reply.status_code} {reply.text[:600]}"
    status = reply.json()
    assert status["reason"] == reason, status
    if message is not None:
        assert message in status["message"], status
    return status


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    proc = ServerProcess(tmp_path_factory.mktemp("bad-input") / "data", ["server"]).start()
    try:
        harness = Cluster(proc)
        harness.seed()
        yield harness
        harness.http.close()
    finally:
        proc.stop()


def raw_tls_exchange(cluster: Cluster, data: bytes, *, half_close: bool = False) -> bytes:
    """Send `data` on a fresh TLS connection (with the admin certificate) and read the answer."""
    with socket.create_connection(("127.0.0.1", cluster.proc.port), timeout=2) as sock:
        with cluster.context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            tls.sendall(data)
            if half_close:
                tls.unwrap()  # TLS close_notify: the request ends here
                return b""
            chunks = []
            try:
                while chunk := tls.recv(65536):
                    chunks.append(chunk)
            except (TimeoutError, ssl.SSLError, ConnectionError):
                pass
            return b"".join(chunks)


# ---------------------------------------------------------------------- authentication


def test_requests_without_valid_credentials_are_401_status(cluster: Cluster) -> None:
    anonymous = httpx.Client(base_url=cluster.proc.url, verify=ssl.create_default_context(cafile=cluster.ca), timeout=30)
    with anonymous:
        reply = anonymous.get(CM)
        check_reply(reply)
        expect(reply, 401, "Unauthorized")
        reply = anonymous.post(CM, content=b"{bad", headers={"content-type": JSON})
        expect(reply, 401, "Unauthorized")
        reply = anonymous.get(CM, headers={"authorization": "Bearer not-a-token"})
        expect(reply, 401, "Unauthorized")
        for public in ("/healthz", "/livez", "/readyz", "/version"):
            assert anonymous.get(public).status_code == 200, public
    cluster.assert_intact()


# ---------------------------------------------------------------------- every endpoint class, over the wire

CASES = [
    # discovery, version, health, OpenAPI
    pytest.param("GET", "/apis/nope.example.com", None, None, JSON, 404, "NotFound", id="discovery-unknown-group"),
    pytest.param("GET", "/apis/apps/v9", None, None, JSON, 404, "NotFound", id="discovery-unknown-version"),
    pytest.param("GET", "/openapi/v3/apis/nope.example.com/v1", None, None, JSON, 404, "NotFound", id="openapi-v3-unknown"),
    pytest.param("GET", "/nope", None, None, JSON, 404, "NotFound", id="unknown-path"),
    pytest.param("GET", "/api/v1/widgets", None, None, JSON, 404, "NotFound", id="unknown-kind"),
    # collections
    pytest.param("PUT", CM, None, {}, JSON, 405, "MethodNotAllowed", id="collection-put"),
    pytest.param("GET", CM, {"limit": "abc"}, None, JSON, 400, "BadRequest", id="list-limit"),
    pytest.param("GET", CM, {"continue": "garbage"}, None, JSON, 400, "BadRequest", id="list-continue"),
    pytest.param("GET", CM, {"labelSelector": "a=(b"}, None, JSON, 400, "BadRequest", id="list-label-selector"),
    pytest.param("GET", CM, {"fieldSelector": "spec.x=1"}, None, JSON, 400, "BadRequest", id="list-field-selector"),
    pytest.param("POST", CM, None, b'{"metadata":', JSON, 400, "BadRequest", id="create-malformed-json"),
    pytest.param("POST", CM, None, b"a: [b", YAML, 400, "BadRequest", id="create-malformed-yaml"),
    pytest.param("POST", CM, None, b"[1,2]", JSON, 400, "BadRequest", id="create-array"),
    pytest.param("POST", CM, None, b"null", JSON, 400, "BadRequest", id="create-null"),
    pytest.param("POST", CM, None, b"\xff\xfe\x00", JSON, 400, "BadRequest", id="create-non-utf8"),
    pytest.param("POST", CM, None, {"metadata": []}, JSON, 400, "BadRequest", id="create-metadata-array"),
    pytest.param("POST", CM, None, {"metadata": {"name": "x", "labels": {"a": 1}}}, JSON, 400, "BadRequest", id="create-label-number"),
    pytest.param("POST", CM, {"fieldValidation": "Strict"}, {"metadata": {"name": "x"}, "bogus": 1}, JSON, 400, "BadRequest",
                 id="create-strict-unknown"),
    pytest.param("POST", CM, None, {"metadata": {"name": "UPPER"}}, JSON, 422, "Invalid", id="create-invalid-name"),
    pytest.param("POST", CM, None, {"metadata": {"name": "x", "labels": {"bad key!": "v"}}}, JSON, 422, "Invalid",
                 id="create-invalid-label"),
    pytest.param("POST", CM, None, {"metadata": {"name": "x", "namespace": "other"}}, JSON, 400, "BadRequest",
                 id="create-namespace-mismatch"),
    pytest.param("POST", CM, None, {"kind": "ConfigMap", "apiVersion": "apps/v1", "metadata": {"name": "x"}}, JSON, 400,
                 "BadRequest", id="create-api-version-mismatch"),
    pytest.param("POST", CM, None, {"metadata": {"name": "cm1"}}, JSON, 409, "AlreadyExists", id="create-existing"),
    pytest.param("POST", "/api/v1/namespaces/missing/configmaps", None, {"metadata": {"name": "x"}}, JSON, 404, "NotFound",
                 id="create-missing-namespace"),
    pytest.param("DELETE", CM, {"propagationPolicy": "bad"}, None, JSON, 422, "Invalid", id="deletecollection-policy"),
    # objects
    pytest.param("POST", CM1, None, {}, JSON, 405, "MethodNotAllowed", id="object-post"),
    pytest.param("GET", f"{CM}/nope", None, None, JSON, 404, "NotFound", id="get-missing"),
    pytest.param("PUT", CM1, None, {"metadata": {"name": "other"}}, JSON, 400, "BadRequest", id="update-name-mismatch"),
    pytest.param("PUT", CM1, None, {"metadata": {"name": "cm1", "resourceVersion": "1"}}, JSON, 409, "Conflict", id="update-stale"),
    pytest.param("PATCH", CM1, None, b"data: {x: y}\n", APPLY, 415, "UnsupportedMediaType", id="patch-apply"),
    pytest.param("PATCH", CM1, None, b'{"data":', MERGE, 400, "BadRequest", id="patch-malformed"),
    pytest.param("PATCH", CM1, None, b"{}", JSONPATCH, 400, "BadRequest", id="patch-json-patch-object"),
    pytest.param("PATCH", CM1, None, [{"op": "bogus", "path": "/data"}], JSONPATCH, 422, "Invalid", id="patch-json-patch-op"),
    pytest.param("PATCH", CM1, None, b'"x"', SMP, 400, "BadRequest", id="patch-smp-string"),
    pytest.param("DELETE", CM1, {"propagationPolicy": "bad"}, None, JSON, 422, "Invalid", id="delete-policy"),
    pytest.param("DELETE", CM1, {"gracePeriodSeconds": "abc"}, None, JSON, 400, "BadRequest", id="delete-grace"),
    pytest.param("DELETE", CM1, None, b"[]", JSON, 400, "BadRequest", id="delete-body-array"),
    pytest.param("DELETE", CM1, None, {"preconditions": {"uid": "nope"}}, JSON, 409, "Conflict", id="delete-precondition"),
    # subresources
    pytest.param("PUT", f"{P1}/status", None, b"[]", JSON, 400, "BadRequest", id="status-array"),
    pytest.param("POST", f"{P1}/status", None, {}, JSON, 405, "MethodNotAllowed", id="status-post"),
    pytest.param("PUT", f"{D1}/scale", None, {"spec": {"replicas": -1}}, JSON, 422, "Invalid", id="scale-negative"),
    pytest.param("PATCH", f"{D1}/scale", None, b"spec: {replicas: 2}\n", APPLY, 415, "UnsupportedMediaType", id="scale-apply"),
    pytest.param("POST", f"{P1}/binding", None, {}, JSON, 422, "Invalid", id="binding-no-target"),
    pytest.param("POST", f"{P1}/eviction", None, b"[]", JSON, 400, "BadRequest", id="eviction-array"),
    # watch
    pytest.param("GET", CM, {"watch": "true", "resourceVersion": "abc"}, None, JSON, 400, "BadRequest", id="watch-rv"),
    pytest.param("GET", CM, {"watch": "true", "timeoutSeconds": "abc"}, None, JSON, 400, "BadRequest", id="watch-timeout"),
    pytest.param("GET", CM, {"watch": "true", "labelSelector": "!!"}, None, JSON, 400, "BadRequest", id="watch-selector"),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "ctype", "code", "reason"), CASES)
def test_bad_input_over_https(
    cluster: Cluster, method: str, path: str, query: dict[str, str] | None, body: Any, ctype: str, code: int, reason: str
) -> None:
    expect(cluster.call(method, path, query=query, body=body, content_type=ctype), code, reason)
    cluster.assert_intact()


def test_watch_from_a_compacted_revision_is_an_error_event_over_https(cluster: Cluster) -> None:
    with cluster.http.stream("GET", CM, params={"watch": "true", "resourceVersion": "1", "timeoutSeconds": "5"}) as reply:
        assert reply.status_code == 200
        line = next(reply.iter_lines())
    event = json.loads(line)
    assert event["type"] == "ERROR" and (event["object"]["code"], event["object"]["reason"]) == (410, "Expired"), event
    cluster.assert_intact()


def test_bodies_over_3_mib_are_413_over_https(cluster: Cluster) -> None:
    big = b'{"metadata":{"name":"big"},"data":{"a":"' + b"x" * MAX_BODY + b'"}}'
    expect(cluster.call("POST", CM, body=big), 413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")

    def chunked() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        yield b'{"metadata":{"name":"big"},"data":{"a":"'
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"x" * 65536
        yield b'"}}'

    reply = cluster.http.post(CM, content=chunked(), headers={"content-type": JSON})
    check_reply(reply)
    expect(reply, 413, "RequestEntityTooLarge")
    assert cluster.call("GET", f"{CM}/big").status_code == 404
    cluster.assert_intact()


def test_unknown_fields_warn_with_parseable_warning_headers(cluster: Cluster) -> None:
    reply = cluster.call("POST", CM, body={"metadata": {"name": "warned", "bogus": 1}, "zz": 2})
    assert reply.status_code == 201, reply.text
    warnings = sorted(reply.headers.get_list("warning"))
    assert warnings == ['299 - "unknown field \\"metadata.bogus\\""', '299 - "unknown field \\"zz\\""'], warnings
    cluster.assert_intact()


@pytest.mark.parametrize("key", ["bad\u001fkey", "a\r\nX-Injected: 1"])
def test_unknown_field_with_a_control_character_is_answered(cluster: Cluster, key: str) -> None:
    try:
        reply = cluster.call("POST", CM, body={"metadata": {"name": "ctl"}, key: 1})
        assert reply.status_code == 201 and "x-injected" not in reply.headers, reply.headers
    finally:
        cluster.call("DELETE", f"{CM}/ctl", check=False)
        cluster.log_start = len(cluster.proc.log())  # this bug logs a failed request; later tests start clean
        cluster.assert_intact()


def test_odd_paths_are_404_status(cluster: Cluster) -> None:
    for path in (f"{CM}/%ff%fe", f"{CM}/%zz", "/" + "a" * 10000, "/api/v1/namespaces/e2e/configmaps/cm1/a/b", "/apis/%00"):
        reply = cluster.call("GET", path)
        assert reply.status_code == 404, (path, reply.text)
    cluster.assert_intact()


def test_unknown_http_method_is_405_status(cluster: Cluster) -> None:
    # httptools refuses a method outside its known set as a parse error; kube-lite's protocol
    # answers it as Kubernetes (Go net/http + go-restful) does: 405 MethodNotAllowed, a Status.
    reply = cluster.call("FOO", CM, check=False)
    check_reply(reply)
    expect(reply, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    # The request line arriving in pieces is answered the same way; a malformed one stays 400.
    with socket.create_connection(("127.0.0.1", cluster.proc.port), timeout=2) as sock:
        with cluster.context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"FOO /api/v1/namesp")
            tls.sendall(b"aces HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            with contextlib.suppress(TimeoutError, ssl.SSLError, ConnectionError):
                while chunk := tls.recv(65536):
                    answer += chunk
    assert answer.startswith(b"HTTP/1.1 405 "), answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["reason"] == "MethodNotAllowed"
    assert raw_tls_exchange(cluster, b"FOO\r\n\r\n").startswith(b"HTTP/1.1 400"), "a malformed request line is 400"
    cluster.assert_intact()


def test_malformed_http_does_not_hurt_the_server(cluster: Cluster) -> None:
    for garbage in (
        b"GARBAGE\r\n\r\n",
        b"\x00\x01\x02\x03" * 100,
        b"GET /api HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        b"GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: abc\r\n\r\n",
        b"POST /api/v1/namespaces/e2e/configmaps HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: -5\r\n\r\n{}",
        b"POST /api/v1/namespaces/e2e/configmaps HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ):
        answer = raw_tls_exchange(cluster, garbage)
        # uvicorn answers what it cannot parse with its own 400 (plain text, as Go's net/http does).
        assert answer == b"" or answer[:9] == b"HTTP/1.1 " and answer[9:10] in (b"2", b"4"), answer[:300]
        if garbage.startswith((b"GARBAGE", b"\x00")):
            assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:300]
    # A body shorter than its Content-Length, then the client goes away.
    raw_tls_exchange(
        cluster,
        b"POST /api/v1/namespaces/e2e/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{\"metadata\":",
        half_close=True,
    )
    assert cluster.call("GET", f"{CM}/x").status_code == 404
    cluster.assert_intact()


# ---------------------------------------------------------------------- hypothesis over HTTPS

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)
# No control characters in object keys: an unknown field name with one drops the connection (a
# known bug, test_unknown_field_with_a_control_character_is_answered).
KEYS = st.sampled_from(["metadata", "name", "labels", "spec", "data", "replicas", "containers", "image", "kind", "apiVersion"]) | st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=20
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)
BODIES = JSON_VALUES | st.fixed_dictionaries(
    {"metadata": st.fixed_dictionaries({"name": st.sampled_from(["cm1", "fresh", "UPPER", ""]) | TEXT})},
    optional={"data": JSON_VALUES, "spec": JSON_VALUES},
)
OVER_HTTPS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@OVER_HTTPS
@given(path=st.sampled_from([CM, DEPLOYS]), body=BODIES)
def test_fuzz_create_over_https(cluster: Cluster, path: str, body: Any) -> None:
    reply = cluster.call("POST", path, body=json.dumps(body).encode())
    assert reply.status_code in (201, 400, 409, 422), reply.text


@settings(OVER_HTTPS, max_examples=15)
@given(
    params=st.dictionaries(
        st.sampled_from(["labelSelector", "fieldSelector", "limit", "continue", "resourceVersionMatch", "timeoutSeconds"]),
        TEXT | st.text(alphabet="abc=!,() in notexists/.-_", max_size=20),
        min_size=1,
        max_size=3,
    ),
    watch=st.booleans(),
)
def test_fuzz_query_parameters_over_https(cluster: Cluster, params: dict[str, str], watch: bool) -> None:
    query = {**params, "watch": "true", "timeoutSeconds": "1"} if watch else params
    if watch:
        with cluster.http.stream("GET", CM, params=query, timeout=5) as reply:
            if reply.status_code >= 400:
                reply.read()
                check_reply(reply)
        assert reply.status_code in (200, 400, 422), reply.status_code
    else:
        reply = cluster.call("GET", CM, query=query)
        assert reply.status_code in (200, 400, 422), reply.text


@settings(OVER_HTTPS, max_examples=15)
@given(
    target=st.sampled_from([("POST", CM), ("PUT", CM1), ("PATCH", CM1), ("POST", f"{P1}/binding")]),
    ctype=st.sampled_from([JSON, YAML, MERGE, JSONPATCH, "text/plain"]),
    body=st.binary(max_size=200) | st.text(alphabet=string.printable, max_size=200).map(str.encode),
)
def test_fuzz_bytes_over_https(cluster: Cluster, target: tuple[str, str], ctype: str, body: bytes) -> None:
    method, path = target
    reply = cluster.call(method, path, body=body, content_type=ctype)
    assert reply.status_code < 500, reply.text


def test_server_survived_everything(cluster: Cluster) -> None:
    cluster.assert_intact()
    assert Path(cluster.proc.kubeconfig).exists()
