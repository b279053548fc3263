"""The cluster's PKI, its static bearer tokens and kubeconfig files.

`ensure_pki` keeps, under DATA_DIR/pki/, what kubeadm keeps under /etc/kubernetes/pki, reduced to
what a one-process control plane needs:

    ca.crt / ca.key          the cluster CA (ECDSA P-256, self-signed, 10 years, CN kube-lite-ca)
    server.crt / server.key  the API server's serving certificate (SANs: localhost, 127.0.0.1, ::1,
                             the host name, the in-cluster `kubernetes.default...` names and every
                             extra host or IP asked for)
    admin.crt / admin.key    the cluster admin's client certificate (CN kube-lite-admin,
                             O system:masters), the identity `kube-lite up` writes into kubeconfig

Files are reused across restarts while they are valid, so a kubeconfig written once keeps working:
the CA is regenerated only when it is missing, unreadable or about to expire (which re-issues
everything it signed); the serving certificate also when the requested hosts are not all in it.
Private keys are written with mode 0600, every file atomically (write a temporary file, rename), so
a crash never leaves half a key behind.

The token file has kube-apiserver's --token-auth-file format: one `token,user,uid,"g1,g2"` line
per token. Tokens are random (the secrets module) and never logged.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as _dt
import io
import ipaddress
import os
import secrets
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog
import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kube_lite.clock import Clock

log = structlog.get_logger(__name__)

CA_COMMON_NAME = "kube-lite-ca"
SERVER_COMMON_NAME = "kube-lite-apiserver"
ADMIN_USER = "kube-lite-admin"
ADMIN_GROUPS: tuple[str, ...] = ("system:masters",)
NODE_GROUP = "system:nodes"

CA_LIFETIME = _dt.timedelta(days=3650)
LEAF_LIFETIME = _dt.timedelta(days=365)
# A certificate closer than this to its expiry is renewed at start; also how far back NotBefore is
# set, so that a peer whose clock is a little behind does not see a not-yet-valid certificate.
RENEW_BEFORE = _dt.timedelta(days=30)
BACKDATE = _dt.timedelta(minutes=5)

# Names pods use to reach the API server through the `kubernetes` Service (kubeadm adds these too).
IN_CLUSTER_NAMES: tuple[str, ...] = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
DEFAULT_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")

_KEY_MODE = 0o600
_CERT_MODE = 0o644
_DIR_MODE = 0o700


# --------------------------------------------------------------------------------------------
# Value types


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """A client certificate and its private key, both PEM. The key never shows in a repr."""

    cert_pem: bytes
    key_pem: bytes = field(repr=False)

    def write(self, cert_path: str | os.PathLike[str], key_path: str | os.PathLike[str]) -> None:
        """Write the certificate (mode 0644) and the key (mode 0600), each atomically."""
        _write_file(Path(key_path), self.key_pem, _KEY_MODE)
        _write_file(Path(cert_path), self.cert_pem, _CERT_MODE)


@dataclass(frozen=True, slots=True)
class Pki:
    """The loaded PKI of one data directory. `clock` is the clock certificates are issued on."""

    dir: Path
    clock: Clock = field(repr=False)
    ca_cert: x509.Certificate = field(repr=False)
    ca_key: ec.EllipticCurvePrivateKey = field(repr=False)
    ca_pem: bytes = field(repr=False)
    admin: ClientCredentials = field(repr=False)

    @property
    def ca_cert_path(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key_path(self) -> Path:
        return self.dir / "ca.key"

    @property
    def server_cert_path(self) -> Path:
        return self.dir / "server.crt"

    @property
    def server_key_path(self) -> Path:
        return self.dir / "server.key"

    @property
    def admin_cert_path(self) -> Path:
        return self.dir / "admin.crt"

    @property
    def admin_key_path(self) -> Path:
        return self.dir / "admin.key"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One line of the token file. The token never shows in a repr."""

    token: str = field(repr=False)
    user: str
    uid: str
    groups: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# PKI


def ensure_pki(data_dir: str | os.PathLike[str], hosts: Iterable[str], clock: Clock) -> Pki:
    """Load DATA_DIR/pki/, creating or renewing what is missing, invalid or expiring.

    `hosts` are host names or IP addresses the serving certificate must also hold (a --listen
    address, node addresses); unspecified addresses (0.0.0.0, ::) are ignored, brackets around an
    IPv6 address are stripped. Renewal rules: a bad CA (missing, unreadable, key not matching,
    expiring) is regenerated together with both leaf certificates; the serving certificate is
    re-issued when it is bad, expiring, not signed by the CA or lacks one of the requested names
    (extra names in it are kept); the admin certificate likewise (without the host rule).
    Returns the loaded Pki; raises OSError when the directory cannot be written.
    """
    pki_dir = Path(data_dir) / "pki"
    pki_dir.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    now = clock.now()
    wanted = serving_names(hosts)

    ca = _load_pair(pki_dir / "ca.crt", pki_dir / "ca.key")
    if ca is None or not _is_valid_ca(ca[0], now):
        log.warning("pki: generating a new cluster CA", dir=str(pki_dir))
        ca = _new_ca(now)
        _write_pair(pki_dir / "ca.crt", pki_dir / "ca.key", *ca)
        fresh_ca = True
    else:
        fresh_ca = False
    ca_cert, ca_key = ca

    server = None if fresh_ca else _load_pair(pki_dir / "server.crt", pki_dir / "server.key")
    if server is None or not _is_valid_leaf(server[0], ca_cert, now) or not wanted <= _san_set(server[0]):
        log.info("pki: issuing the serving certificate", names=sorted(f"{k}:{v}" for k, v in wanted))
        cert, key = _issue_leaf(
            ca_cert, ca_key, now, _name(SERVER_COMMON_NAME), ExtendedKeyUsageOID.SERVER_AUTH, wanted
        )
        _write_pair(pki_dir / "server.crt", pki_dir / "server.key", cert, key)

    admin = None if fresh_ca else _load_pair(pki_dir / "admin.crt", pki_dir / "admin.key")
    if admin is None or not _is_valid_leaf(admin[0], ca_cert, now):
        log.info("pki: issuing the admin client certificate", user=ADMIN_USER)
        cert, key = _issue_leaf(
            ca_cert, ca_key, now, _name(ADMIN_USER, ADMIN_GROUPS), ExtendedKeyUsageOID.CLIENT_AUTH, None
        )
        _write_pair(pki_dir / "admin.crt", pki_dir / "admin.key", cert, key)

    for key_file in ("ca.key", "server.key", "admin.key"):
        # A key restored from a backup or copied by hand may have lost its mode.
        os.chmod(pki_dir / key_file, _KEY_MODE)
    admin_creds = ClientCredentials(
        (pki_dir / "admin.crt").read_bytes(), (pki_dir / "admin.key").read_bytes()
    )
    return Pki(
        dir=pki_dir,
        clock=clock,
        ca_cert=ca_cert,
        ca_key=ca_key,
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        admin=admin_creds,
    )


def issue_client_cert(
    pki: Pki, cn: str, groups: Sequence[str] = (), *, lifetime: _dt.timedelta = LEAF_LIFETIME
) -> ClientCredentials:
    """A new client certificate signed by the cluster CA: CN `cn` (the user name), one O per
    group (e.g. CN system:node:NAME, O system:nodes for a node agent). Nothing is written; call
    `ClientCredentials.write` or embed it with `write_kubeconfig`."""
    if not cn:
        raise ValueError("a client certificate needs a common name (the user name)")
    cert, key = _issue_leaf(
        pki.ca_cert,
        pki.ca_key,
        pki.clock.now(),
        _name(cn, groups),
        ExtendedKeyUsageOID.CLIENT_AUTH,
        None,
        lifetime=lifetime,
    )
    return ClientCredentials(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def issue_node_client_cert(pki: Pki, node_name: str) -> ClientCredentials:
    """The client certificate a node agent authenticates with, as the kubelet's: CN
    system:node:NODE_NAME, O system:nodes."""
    return issue_client_cert(pki, f"system:node:{node_name}", (NODE_GROUP,))


def issue_serving_cert(
    pki: Pki, cn: str, hosts: Iterable[str], *, include_defaults: bool = False
) -> ClientCredentials:
    """A serving certificate signed by the cluster CA for `hosts` (e.g. a node agent's own HTTPS
    endpoint). With `include_defaults`, the API server's default names are added too."""
    names = serving_names(hosts) if include_defaults else _parse_hosts(hosts)
    if not names:
        raise ValueError("a serving certificate needs at least one host name or IP address")
    cert, key = _issue_leaf(
        pki.ca_cert, pki.ca_key, pki.clock.now(), _name(cn), ExtendedKeyUsageOID.SERVER_AUTH, names
    )
    return ClientCredentials(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def serving_names(hosts: Iterable[str]) -> frozenset[tuple[str, str]]:
    """The names the API server's certificate must hold, as ("DNS", name) / ("IP", address)
    pairs: the defaults (localhost, loopback addresses, the host name, the in-cluster names) and
    `hosts`."""
    defaults = [*DEFAULT_HOSTS, *IN_CLUSTER_NAMES]
    with contextlib.suppress(OSError):
        defaults.append(socket.gethostname())
    return _parse_hosts([*defaults, *hosts])


def _parse_hosts(hosts: Iterable[str]) -> frozenset[tuple[str, str]]:
    names: set[tuple[str, str]] = set()
    for raw in hosts:
        host = raw.strip()
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not host:
            continue
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            names.add(("DNS", host.lower().rstrip(".")))
            continue
        if not ip.is_unspecified:  # 0.0.0.0 is where one listens, never where one connects
            names.add(("IP", str(ip)))
    return frozenset(names)


def _san_set(cert: x509.Certificate) -> frozenset[tuple[str, str]]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset()
    dns = {("DNS", n.lower()) for n in san.get_values_for_type(x509.DNSName)}
    ips = {("IP", str(ip)) for ip in san.get_values_for_type(x509.IPAddress)}
    return frozenset(dns | ips)


def _name(cn: str, orgs: Sequence[str] = ()) -> x509.Name:
    # Kubernetes reads the user from CN and the groups from the O attributes, one group per O.
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _serial() -> int:
    return x509.random_serial_number()


def _new_ca(now: _dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _new_key()
    name = _name(CA_COMMON_NAME)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _issue_leaf(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: _dt.datetime,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    names: frozenset[tuple[str, str]] | None,
    *,
    lifetime: _dt.timedelta = LEAF_LIFETIME,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _new_key()
    # A leaf never outlives its CA: a verifier would reject the chain from that point anyway.
    not_after = min(now + lifetime, ca_cert.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        # The EKU is what stops a serving certificate being presented as a client identity
        # (OpenSSL checks the client purpose when verifying a client's chain), and back.
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if names:
        general: list[x509.GeneralName] = []
        for kind, value in sorted(names):
            if kind == "IP":
                general.append(x509.IPAddress(ipaddress.ip_address(value)))
            else:
                general.append(x509.DNSName(value))
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _load_pair(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    """The certificate and key at these paths, or None when either is missing, unreadable, not
    ECDSA, or the key does not belong to the certificate (a crash between the two writes)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    if cert.public_key() != key.public_key():
        return None
    return cert, key


def _time_ok(cert: x509.Certificate, now: _dt.datetime) -> bool:
    return cert.not_valid_before_utc <= now and now + RENEW_BEFORE < cert.not_valid_after_utc


def _is_valid_ca(cert: x509.Certificate, now: _dt.datetime) -> bool:
    if not _time_ok(cert, now):
        return False
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def _is_valid_leaf(cert: x509.Certificate, ca_cert: x509.Certificate, now: _dt.datetime) -> bool:
    if not _time_ok(cert, now):
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _write_pair(
    cert_path: Path, key_path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    # Key first: a crash in between leaves a key that does not match the old certificate, which
    # _load_pair detects, rather than a certificate without its key.
    _write_file(key_path, _key_pem(key), _KEY_MODE)
    _write_file(cert_path, cert.public_bytes(serialization.Encoding.PEM), _CERT_MODE)


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` atomically, creating it with `mode` (minus the umask) so a key is
    never readable by others, not even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.chmod(path, mode)


# --------------------------------------------------------------------------------------------
# kubeconfig


def write_kubeconfig(
    path: str | os.PathLike[str],
    server_url: str,
    pki: Pki,
    user: str = "admin",
    context: str = "kube-lite",
    *,
    cluster: str = "kube-lite",
    credentials: ClientCredentials | None = None,
    token: str | None = None,
    namespace: str | None = None,
) -> Path:
    """Write a kubeconfig for `server_url` (mode 0600, atomically, replacing any file there) and
    return its path.

    The cluster entry carries the CA inline (certificate-authority-data); the user entry carries
    `credentials` (the admin's by default) inline as client-certificate-data/client-key-data, or
    a bearer `token` instead when one is given. current-context is set to `context`.
    """
    user_entry: dict[str, str]
    if token is not None:
        user_entry = {"token": token}
    else:
        creds = credentials or pki.admin
        user_entry = {
            "client-certificate-data": _b64(creds.cert_pem),
            "client-key-data": _b64(creds.key_pem),
        }
    context_entry: dict[str, str] = {"cluster": cluster, "user": user}
    if namespace:
        context_entry["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {"server": server_url, "certificate-authority-data": _b64(pki.ca_pem)},
            }
        ],
        "users": [{"name": user, "user": user_entry}],
        "contexts": [{"name": context, "context": context_entry}],
        "current-context": context,
        "preferences": {},
    }
    out = Path(path)
    _write_file(out, yaml.safe_dump(config, sort_keys=False).encode(), _KEY_MODE)
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------------------------
# Static bearer tokens (--token-auth-file)


def tokens_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where the token file of a data directory lives."""
    return Path(data_dir) / "tokens.csv"


def new_token() -> str:
    """A fresh random bearer token (256 bits, URL- and CSV-safe)."""
    return secrets.token_urlsafe(32)


def read_token_file(path: str | os.PathLike[str]) -> list[TokenRecord]:
    """Parse a token file as kube-apiserver does: CSV rows `token,user,uid[,"g1,g2"]`.

    Blank lines and rows with an empty token are skipped; a row with fewer than three columns
    raises ValueError (without quoting the row: it holds a secret). A missing file is empty.
    """
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    records: list[TokenRecord] = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < 3:
            raise ValueError(
                f"token file {path} line {lineno}: want at least 3 columns (token, user name, uid), found {len(row)}"
            )
        token = row[0].strip()
        if not token:
            continue
        groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
        records.append(TokenRecord(token=token, user=row[1].strip(), uid=row[2].strip(), groups=groups))
    return records


def write_token_file(path: str | os.PathLike[str], records: Iterable[TokenRecord]) -> None:
    """Write `records` as a token file (mode 0600, atomically)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for r in records:
        row = [r.token, r.user, r.uid]
        if r.groups:
            row.append(",".join(r.groups))
        writer.writerow(row)
    _write_file(Path(path), buf.getvalue().encode(), _KEY_MODE)


def ensure_token(
    data_dir: str | os.PathLike[str], user: str, *, uid: str | None = None, groups: Sequence[str] = ()
) -> str:
    """The token of `user` in DATA_DIR/tokens.csv, adding a new random one (with `uid`, default a
    random UUID, and `groups`) when the user has none. An existing record is returned as it is,
    even if its groups differ."""
    path = tokens_path(data_dir)
    records = read_token_file(path)
    for r in records:
        if r.user == user:
            return r.token
    record = TokenRecord(token=new_token(), user=user, uid=uid or str(uuid.uuid4()), groups=tuple(groups))
    write_token_file(path, [*records, record])
    log.info("tokens: added a bearer token", user=user)
    return record.token
