"""certificates.k8s.io/v1: CertificateSigningRequest.

Conventions are kube_lite.api.base's. `spec.request` (a PEM CSR) and `status.certificate` (PEM
certificates) are `bytes`: base64 on the wire, as Kubernetes' []byte; msgspec decodes it and
rejects malformed base64. Approval is a condition (Approved or Denied) written through the
approval subresource; the signer writes `status.certificate` through the status subresource.
"""

from __future__ import annotations

from typing import ClassVar

from kube_lite.api.base import Resource, Struct, Time
from kube_lite.api.meta import ObjectMeta


class CertificateSigningRequestSpec(Struct):
    request: bytes | None = None
    signerName: str | None = None
    expirationSeconds: int | None = None
    usages: list[str] | None = None
    # The requester's identity, set by the server from the creating request, never by clients.
    username: str | None = None
    uid: str | None = None
    groups: list[str] | None = None
    extra: dict[str, list[str]] | None = None


class CertificateSigningRequestCondition(Struct):
    type: str | None = None
    status: str | None = None
    reason: str | None = None
    message: str | None = None
    lastUpdateTime: Time | None = None
    lastTransitionTime: Time | None = None


class CertificateSigningRequestStatus(Struct):
    conditions: list[CertificateSigningRequestCondition] | None = None
    certificate: bytes | None = None


class CertificateSigningRequest(Resource):
    """A request for a certificate from a named signer; status and approval subresources."""

    group: ClassVar[str] = "certificates.k8s.io"
    version: ClassVar[str] = "v1"
    plural: ClassVar[str] = "certificatesigningrequests"
    namespaced: ClassVar[bool] = False

    metadata: ObjectMeta | None = None
    spec: CertificateSigningRequestSpec | None = None
    status: CertificateSigningRequestStatus | None = None
