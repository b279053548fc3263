"""Authentication and authorization of API requests.

Authentication follows kube-apiserver's union of authenticators, in its order:

1. the client certificate of the TLS connection (verified against the cluster CA by the TLS
   layer, see tlsserver.py): user = CN, groups = O values;
2. `Authorization: Bearer TOKEN`: the static token file first, then any pluggable token
   authenticators (service-account tokens, later), in order.

The first that recognises the request wins. A request that presents a bearer token nobody
recognises is refused with 401 on every path, as kube-apiserver does (invalid credentials are
never downgraded to anonymous). A request with no credentials is anonymous: it may reach only
the public paths (`is_public_path`); elsewhere it gets 401. Every authenticated user gets the
group system:authenticated.

Authorization is a protocol (`Authorizer`) with one implementation for now, `AllowAll`; RBAC will
be another. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from kube_lite.api import errors
from kube_lite.server.certs import TokenRecord, read_token_file, tokens_path
from kube_lite.server.tlsserver import peer_identity
from kube_lite.store.admission import UserInfo

log = structlog.get_logger(__name__)

AUTHENTICATED_GROUP = "system:authenticated"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
ANONYMOUS_USER_NAME = "system:anonymous"
ANONYMOUS = UserInfo(ANONYMOUS_USER_NAME, (UNAUTHENTICATED_GROUP,))

# What kube-apiserver's system:public-info-viewer role opens to everyone.
PUBLIC_PATH_ROOTS = frozenset({"healthz", "livez", "readyz", "version"})


def is_public_path(path: str) -> bool:
    """True for /healthz, /livez, /readyz, /version and their subpaths (/readyz/ping,
    /livez/etcd); false for anything else, including look-alikes such as /healthzx."""
    if not path.startswith("/"):
        return False
    return path[1:].split("/", 1)[0] in PUBLIC_PATH_ROOTS


def with_authenticated_group(user: UserInfo) -> UserInfo:
    """`user` with system:authenticated among its groups (added once, at the end)."""
    if AUTHENTICATED_GROUP in user.groups:
        return user
    return UserInfo(user.name, (*user.groups, AUTHENTICATED_GROUP), user.uid, user.extra)


def bearer_token(scope: dict[str, Any]) -> str | None:
    """The bearer token of the request's (first) Authorization header, as kube-apiserver parses
    it: `Bearer` (any case), one space, the token. Any other scheme, or an empty token: None."""
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            parts = value.decode("latin-1").strip().split(" ", 2)
            if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
                return None
            return parts[1]
    return None


class TokenAuthenticator(Protocol):
    """Turns a bearer token into a user. Pluggable: service-account tokens come later."""

    def authenticate_token(self, token: str) -> UserInfo | None:
        """The token's user, or None when the token is not one of this authenticator's. Raise
        errors.APIError (401) for a token that is recognisably this authenticator's but invalid
        (expired, revoked). Never logs the token."""
        ...


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class StaticTokens:
    """The token file (--token-auth-file). Lookup is by the token's SHA-256 so the dictionary
    never branches on the secret's bytes; the final check is hmac.compare_digest."""

    def __init__(self, records: Iterable[TokenRecord] = ()) -> None:
        self._by_digest: dict[bytes, TokenRecord] = {}
        for record in records:
            # Like kube-apiserver: a duplicate token keeps the last line.
            self._by_digest[_digest(record.token)] = record

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> StaticTokens:
        """Load a token file (missing file: no tokens). Raises ValueError on a malformed file."""
        return cls(read_token_file(path))

    def __len__(self) -> int:
        return len(self._by_digest)

    def authenticate_token(self, token: str) -> UserInfo | None:
        record = self._by_digest.get(_digest(token))
        if record is None or not hmac.compare_digest(record.token.encode("utf-8"), token.encode("utf-8")):
            return None
        return UserInfo(record.user, record.groups, record.uid)


class Authenticator:
    """The request authenticator the API server calls once per request.

    `authenticate(scope)` (also `__call__`) returns the user, or None for a request without
    credentials (anonymous), or raises errors.unauthorized() for a request whose bearer token no
    authenticator accepts. `authenticate_request(scope)` applies the public-path rule on top and
    never returns None. Neither does I/O: both run inside the request handler.
    """

    def __init__(
        self,
        tokens: StaticTokens | None = None,
        token_authenticators: Sequence[TokenAuthenticator] = (),
        *,
        client_certificates: bool = True,
    ) -> None:
        self.client_certificates = client_certificates
        self.token_authenticators: list[TokenAuthenticator] = []
        if tokens is not None:
            self.token_authenticators.append(tokens)
        self.token_authenticators.extend(token_authenticators)

    @classmethod
    def from_data_dir(
        cls, data_dir: str | os.PathLike[str], token_authenticators: Sequence[TokenAuthenticator] = ()
    ) -> Authenticator:
        """Client certificates plus the data directory's token file (tokens.csv; none when
        missing) and then `token_authenticators`. Raises ValueError on a malformed token file."""
        return cls(StaticTokens.from_file(tokens_path(data_dir)), token_authenticators)

    def add_token_authenticator(self, authenticator: TokenAuthenticator) -> None:
        """Append a token authenticator (tried after those already present)."""
        self.token_authenticators.append(authenticator)

    def authenticate(self, scope: dict[str, Any]) -> UserInfo | None:
        if self.client_certificates:
            identity = peer_identity(scope)
            if identity is not None:
                name, groups = identity
                return with_authenticated_group(UserInfo(name, tuple(groups)))
        token = bearer_token(scope)
        if token is None:
            return None
        for authenticator in self.token_authenticators:
            user = authenticator.authenticate_token(token)
            if user is not None:
                return with_authenticated_group(user)
        log.debug("authentication failed: unknown bearer token", path=scope.get("path"))
        raise errors.unauthorized()

    __call__ = authenticate

    def authenticate_request(self, scope: dict[str, Any]) -> UserInfo:
        """The request's user; ANONYMOUS on a public path without credentials. Raises
        errors.unauthorized() for invalid credentials, and for no credentials elsewhere."""
        user = self.authenticate(scope)
        if user is not None:
            return user
        if is_public_path(scope.get("path") or ""):
            return ANONYMOUS
        raise errors.unauthorized()


# --------------------------------------------------------------------------------------------
# Authorization


class Decision(enum.Enum):
    """An authorizer's answer (Kubernetes' DecisionAllow / DecisionDeny / DecisionNoOpinion)."""

    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no-opinion"


@dataclass(frozen=True, slots=True)
class Attributes:
    """What is asked (Kubernetes' authorizer.Attributes). A resource request names a verb (get,
    list, watch, create, update, patch, delete, deletecollection, ...) on api_group/resource
    [/subresource] [name] in namespace; a non-resource request a verb on a path."""

    user: UserInfo
    verb: str
    path: str = ""
    resource_request: bool = False
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


class Authorizer(Protocol):
    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        """The decision and its reason (shown in a Forbidden error). Pure: no I/O, no waiting;
        an authorizer reads its rules from caches."""
        ...


class AllowAll:
    """Allows every authenticated user everything; anonymous users only the public paths
    (which is all the authenticator lets them reach anyway)."""

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if AUTHENTICATED_GROUP in attrs.user.groups:
            return Decision.ALLOW, ""
        if not attrs.resource_request and is_public_path(attrs.path):
            return Decision.ALLOW, ""
        return Decision.DENY, "anonymous requests are not allowed"
