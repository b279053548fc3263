"""certs.py: the PKI on disk (creation, reuse, renewal), client certificates, kubeconfig files and
the token file."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kube_lite.clock import RealClock, VirtualClock
from kube_lite.server import certs

FILES = ("ca.crt", "ca.key", "server.crt", "server.key", "admin.crt", "admin.key")


def clock_at(offset: dt.timedelta = dt.timedelta()) -> VirtualClock:
    """A clock standing at the real time plus `offset` (certificates must be valid for real TLS)."""
    return VirtualClock(start=RealClock().time() + offset.total_seconds())


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(ext.get_values_for_type(x509.DNSName)), {
        str(i) for i in ext.get_values_for_type(x509.IPAddress)
    }


def snapshot(pki_dir: Path) -> dict[str, bytes]:
    return {name: (pki_dir / name).read_bytes() for name in FILES}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creates_ca_server_and_admin(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, ["10.0.0.7", "api.example.test"], clock_at())
    assert pki.dir == tmp_path / "pki"
    for name in FILES:
        assert (pki.dir / name).is_file()
        if name.endswith(".key"):
            assert mode(pki.dir / name) == 0o600

    ca = load(pki.ca_cert_path)
    assert ca.subject == ca.issuer
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kube-lite-ca"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(ca.public_key().curve, ec.SECP256R1)
    life = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert dt.timedelta(days=3649) < life < dt.timedelta(days=3651)
    ca.verify_directly_issued_by(ca)

    server = load(pki.server_cert_path)
    server.verify_directly_issued_by(ca)
    dns, ips = sans(server)
    assert {"localhost", "api.example.test", "kubernetes.default.svc"} <= dns
    assert {"127.0.0.1", "::1", "10.0.0.7"} <= ips
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

    admin = load(pki.admin_cert_path)
    admin.verify_directly_issued_by(ca)
    assert admin.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kube-lite-admin"
    assert [a.value for a in admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "system:masters"
    ]
    eku = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert pki.admin.cert_pem == pki.admin_cert_path.read_bytes()
    assert "key_pem" not in repr(pki.admin) and "BEGIN" not in repr(pki)


def test_host_name_is_a_san(tmp_path: Path) -> None:
    import socket

    pki = certs.ensure_pki(tmp_path, [], clock_at())
    dns, _ = sans(load(pki.server_cert_path))
    assert socket.gethostname().lower() in dns


def test_reused_when_valid(tmp_path: Path) -> None:
    first = certs.ensure_pki(tmp_path, ["10.0.0.7"], clock_at())
    before = snapshot(first.dir)
    second = certs.ensure_pki(tmp_path, ["10.0.0.7"], clock_at(dt.timedelta(days=100)))
    assert snapshot(second.dir) == before
    assert second.ca_pem == first.ca_pem


def test_fewer_hosts_keep_the_serving_cert(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, ["10.0.0.7", "10.0.0.8"], clock_at())
    before = snapshot(pki.dir)
    certs.ensure_pki(tmp_path, ["10.0.0.8"], clock_at())
    assert snapshot(pki.dir) == before


def test_new_host_reissues_only_the_serving_cert(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, ["10.0.0.7"], clock_at())
    before = snapshot(pki.dir)
    certs.ensure_pki(tmp_path, ["10.0.0.7", "127.0.1.5", "[fd00::5]", "0.0.0.0", "::"], clock_at())
    after = snapshot(pki.dir)
    changed = {name for name in FILES if before[name] != after[name]}
    assert changed == {"server.crt", "server.key"}
    _, ips = sans(load(pki.server_cert_path))
    assert {"10.0.0.7", "127.0.1.5", "fd00::5"} <= ips
    assert "0.0.0.0" not in ips and "::" not in ips


def test_expiring_leaves_are_renewed_and_ca_kept(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    before = snapshot(pki.dir)
    later = certs.ensure_pki(tmp_path, [], clock_at(dt.timedelta(days=340)))
    after = snapshot(later.dir)
    assert after["ca.crt"] == before["ca.crt"] and after["ca.key"] == before["ca.key"]
    assert after["server.crt"] != before["server.crt"]
    assert after["admin.crt"] != before["admin.crt"]
    old_admin = x509.load_pem_x509_certificate(before["admin.crt"])
    assert load(later.admin_cert_path).not_valid_after_utc > old_admin.not_valid_after_utc + dt.timedelta(
        days=300
    )


def test_leaf_never_outlives_the_ca(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at(dt.timedelta(days=3600)))
    ca = load(pki.ca_cert_path)
    assert load(pki.server_cert_path).not_valid_after_utc <= ca.not_valid_after_utc


def test_bad_ca_regenerates_everything(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    before = snapshot(pki.dir)
    pki.ca_key_path.write_bytes(b"garbage")
    again = certs.ensure_pki(tmp_path, [], clock_at())
    after = snapshot(again.dir)
    assert all(before[name] != after[name] for name in FILES)
    load(again.server_cert_path).verify_directly_issued_by(again.ca_cert)
    load(again.admin_cert_path).verify_directly_issued_by(again.ca_cert)


def test_key_not_matching_cert_reissues_that_pair(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    before = snapshot(pki.dir)
    # As if a crash happened between writing a new key and its certificate.
    pki.server_key_path.write_bytes(pki.admin_key_path.read_bytes())
    certs.ensure_pki(tmp_path, [], clock_at())
    after = snapshot(pki.dir)
    assert {name for name in FILES if before[name] != after[name]} == {"server.crt", "server.key"}
    assert load(pki.server_cert_path).public_key() != load(pki.admin_cert_path).public_key()


def test_leaf_from_another_ca_is_reissued(tmp_path: Path) -> None:
    other = certs.ensure_pki(tmp_path / "other", [], clock_at())
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    pki.admin_cert_path.write_bytes(other.admin_cert_path.read_bytes())
    pki.admin_key_path.write_bytes(other.admin_key_path.read_bytes())
    again = certs.ensure_pki(tmp_path, [], clock_at())
    load(again.admin_cert_path).verify_directly_issued_by(again.ca_cert)


def test_loose_key_mode_is_tightened(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    pki.ca_key_path.chmod(0o644)
    certs.ensure_pki(tmp_path, [], clock_at())
    assert mode(pki.ca_key_path) == 0o600


def test_issue_client_cert(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    creds = certs.issue_node_client_cert(pki, "node-1")
    cert = x509.load_pem_x509_certificate(creds.cert_pem)
    cert.verify_directly_issued_by(pki.ca_cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:node-1"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "system:nodes"
    ]
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    multi = x509.load_pem_x509_certificate(certs.issue_client_cert(pki, "alice", ["dev", "ops"]).cert_pem)
    assert [a.value for a in multi.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "dev",
        "ops",
    ]
    with pytest.raises(ValueError):
        certs.issue_client_cert(pki, "", [])
    creds.write(tmp_path / "n.crt", tmp_path / "n.key")
    assert mode(tmp_path / "n.key") == 0o600
    assert (tmp_path / "n.crt").read_bytes() == creds.cert_pem


def test_issue_serving_cert(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    creds = certs.issue_serving_cert(pki, "node-1", ["127.0.1.2", "node-1"])
    cert = x509.load_pem_x509_certificate(creds.cert_pem)
    dns, ips = sans(cert)
    assert dns == {"node-1"} and ips == {"127.0.1.2"}
    with pytest.raises(ValueError):
        certs.issue_serving_cert(pki, "x", ["0.0.0.0"])


def test_write_kubeconfig_with_client_cert(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    path = certs.write_kubeconfig(tmp_path / "kube" / "config", "https://127.0.0.1:6443", pki)
    assert mode(path) == 0o600
    cfg = yaml.safe_load(path.read_text())
    assert cfg["apiVersion"] == "v1" and cfg["kind"] == "Config"
    assert cfg["current-context"] == "kube-lite"
    assert cfg["contexts"] == [{"name": "kube-lite", "context": {"cluster": "kube-lite", "user": "admin"}}]
    cluster = cfg["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == pki.ca_cert_path.read_bytes()
    user = cfg["users"][0]
    assert user["name"] == "admin"
    assert base64.b64decode(user["user"]["client-certificate-data"]) == pki.admin_cert_path.read_bytes()
    assert base64.b64decode(user["user"]["client-key-data"]) == pki.admin_key_path.read_bytes()


def test_write_kubeconfig_with_token_and_other_creds(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, [], clock_at())
    cfg = yaml.safe_load(
        certs.write_kubeconfig(
            tmp_path / "t", "https://h:1", pki, user="bob", context="c", token="tok", namespace="ns"
        ).read_text()
    )
    assert cfg["users"] == [{"name": "bob", "user": {"token": "tok"}}]
    assert cfg["contexts"][0] == {
        "name": "c",
        "context": {"cluster": "kube-lite", "user": "bob", "namespace": "ns"},
    }
    node = certs.issue_node_client_cert(pki, "n1")
    cfg = yaml.safe_load(
        certs.write_kubeconfig(tmp_path / "n", "https://h:1", pki, user="n1", credentials=node).read_text()
    )
    assert base64.b64decode(cfg["users"][0]["user"]["client-certificate-data"]) == node.cert_pem


def test_server_cert_ip_sans_are_ip_addresses(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, ["127.0.1.9"], clock_at())
    ext = load(pki.server_cert_path).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.1.9") in ext.get_values_for_type(x509.IPAddress)
    assert "127.0.1.9" not in ext.get_values_for_type(x509.DNSName)


# ------------------------------------------------------------------------------------------
# Token file


def test_ensure_token(tmp_path: Path) -> None:
    admin = certs.ensure_token(tmp_path, "admin", groups=["system:masters"])
    assert len(admin) >= 40
    assert certs.ensure_token(tmp_path, "admin") == admin
    bob = certs.ensure_token(tmp_path, "bob", uid="u-bob", groups=["dev", "ops"])
    assert bob != admin
    path = certs.tokens_path(tmp_path)
    assert path == tmp_path / "tokens.csv"
    assert mode(path) == 0o600
    records = certs.read_token_file(path)
    assert [(r.user, r.groups) for r in records] == [("admin", ("system:masters",)), ("bob", ("dev", "ops"))]
    assert records[1].uid == "u-bob" and records[1].token == bob
    assert records[0].uid  # a generated uid
    assert f'{bob},bob,u-bob,"dev,ops"' in path.read_text()
    assert admin not in repr(records[0])


def test_read_token_file_format(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text('t1,alice,1\n\nt2,bob,2,"a, b,"\n,nobody,3\nt3,carol,3,solo\n')
    records = certs.read_token_file(path)
    assert [(r.token, r.user, r.uid, r.groups) for r in records] == [
        ("t1", "alice", "1", ()),
        ("t2", "bob", "2", ("a", "b")),
        ("t3", "carol", "3", ("solo",)),
    ]
    assert certs.read_token_file(tmp_path / "missing.csv") == []


def test_malformed_token_file_does_not_leak_the_token(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text("secret-token-value,alice\n")
    with pytest.raises(ValueError) as info:
        certs.read_token_file(path)
    assert "secret-token-value" not in str(info.value)
    assert "line 1" in str(info.value)
