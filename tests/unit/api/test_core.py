"""core/v1 object model: checked field by field against the `kubernetes` client's models, and
round-tripped through JSON (from the oracle's full samples and from the client's own objects)."""

from __future__ import annotations

import inspect
import json
from typing import Any

import kubernetes.client as k8s
import msgspec
import pytest
import yaml

from kube_lite.api import core
from kube_lite.api.base import Resource
from tests.unit.api.oracle import missing_fields, sample

# (kube-lite kind, client model, plural, namespaced)
KINDS: list[tuple[type[Resource], str, str, bool]] = [
    (core.Pod, "V1Pod", "pods", True),
    (core.PodTemplate, "V1PodTemplate", "podtemplates", True),
    (core.Namespace, "V1Namespace", "namespaces", False),
    (core.Node, "V1Node", "nodes", False),
    (core.Service, "V1Service", "services", True),
    (core.Endpoints, "V1Endpoints", "endpoints", True),
    (core.ConfigMap, "V1ConfigMap", "configmaps", True),
    (core.Secret, "V1Secret", "secrets", True),
    (core.ServiceAccount, "V1ServiceAccount", "serviceaccounts", True),
    (core.PersistentVolume, "V1PersistentVolume", "persistentvolumes", False),
    (core.PersistentVolumeClaim, "V1PersistentVolumeClaim", "persistentvolumeclaims", True),
    (core.ReplicationController, "V1ReplicationController", "replicationcontrollers", True),
    (core.ResourceQuota, "V1ResourceQuota", "resourcequotas", True),
    (core.LimitRange, "V1LimitRange", "limitranges", True),
    (core.Event, "CoreV1Event", "events", True),
    (core.Binding, "V1Binding", "bindings", True),
]

# Client fields kube-lite does not model yet, each with the reason. Empty: every field of every
# core/v1 kind the client knows is modelled.
NOT_SUPPORTED_YET: dict[str, str] = {}

# Fields the client types as `object`, and base64 `bytes` fields, which the oracle cannot fill.
_BASE_OVERRIDES: dict[str, object] = {
    "V1ManagedFieldsEntry.fieldsV1": {"f:metadata": {"f:labels": {".": {}}}},
    "V1Secret.data": {"k": "eA=="},
    "V1ConfigMap.binaryData": {"k": "AAEC/w=="},
}
INT_PORTS = _BASE_OVERRIDES | {
    "V1HTTPGetAction.port": 8080,
    "V1TCPSocketAction.port": 8081,
    "V1ServicePort.targetPort": 9376,
}
NAMED_PORTS = _BASE_OVERRIDES | {
    "V1HTTPGetAction.port": "http",
    "V1TCPSocketAction.port": "probe",
    "V1ServicePort.targetPort": "web",
}


def _round_trip(kind: type[Resource], document: Any) -> Any:
    """JSON text -> Struct -> JSON, returned parsed."""
    obj = msgspec.json.decode(json.dumps(document).encode(), type=kind)
    return json.loads(msgspec.json.encode(obj))


@pytest.mark.parametrize(("kind", "model"), [(k, m) for k, m, _, _ in KINDS], ids=lambda v: str(v))
def test_kind_has_every_client_field(kind: type[Resource], model: str) -> None:
    missing = set(missing_fields(kind, model))
    assert missing <= set(NOT_SUPPORTED_YET), sorted(missing - set(NOT_SUPPORTED_YET))


@pytest.mark.parametrize(("kind", "model", "plural", "namespaced"), KINDS, ids=lambda v: str(v))
def test_registry_facts(kind: type[Resource], model: str, plural: str, namespaced: bool) -> None:
    assert (kind.group, kind.version, kind.plural, kind.namespaced) == ("", "v1", plural, namespaced)
    assert model.removeprefix("Core").removeprefix("V1") == kind.__name__


def test_every_struct_in_the_module_resolves() -> None:
    # A type reachable from no kind would escape the round trips; building a decoder resolves
    # every (string) annotation and fails on a name that does not exist.
    structs = [
        obj
        for obj in vars(core).values()
        if inspect.isclass(obj) and issubclass(obj, msgspec.Struct) and obj.__module__ == core.__name__
    ]
    assert len(structs) > 200
    for struct in structs:
        msgspec.json.Decoder(struct)


@pytest.mark.parametrize("overrides", [INT_PORTS, NAMED_PORTS], ids=["int-ports", "named-ports"])
@pytest.mark.parametrize(("kind", "model"), [(k, m) for k, m, _, _ in KINDS], ids=lambda v: str(v))
def test_full_sample_round_trips(kind: type[Resource], model: str, overrides: dict[str, object]) -> None:
    document = sample(model, overrides=overrides)
    assert _round_trip(kind, document) == document


def test_int_or_string_keeps_its_type() -> None:
    doc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": "https"}]}}
    svc = msgspec.json.decode(json.dumps(doc).encode(), type=core.Service)
    assert svc.spec is not None and svc.spec.ports is not None
    assert [p.targetPort for p in svc.spec.ports] == [8080, "https"]


def _client_json(obj: object) -> Any:
    return k8s.ApiClient().sanitize_for_serialization(obj)


def test_client_pod_round_trips() -> None:
    pod = k8s.V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=k8s.V1ObjectMeta(name="web", namespace="default", labels={"app": "web"}),
        spec=k8s.V1PodSpec(
            containers=[
                k8s.V1Container(
                    name="web",
                    image="nginx:1.27",
                    ports=[k8s.V1ContainerPort(container_port=80, name="http")],
                    env=[
                        k8s.V1EnvVar(name="MODE", value="prod"),
                        k8s.V1EnvVar(
                            name="NODE",
                            value_from=k8s.V1EnvVarSource(
                                field_ref=k8s.V1ObjectFieldSelector(field_path="spec.nodeName")
                            ),
                        ),
                    ],
                    resources=k8s.V1ResourceRequirements(
                        requests={"cpu": "100m", "memory": "64Mi"}, limits={"memory": "128Mi"}
                    ),
                    readiness_probe=k8s.V1Probe(http_get=k8s.V1HTTPGetAction(path="/", port="http")),
                    liveness_probe=k8s.V1Probe(tcp_socket=k8s.V1TCPSocketAction(port=80)),
                    volume_mounts=[k8s.V1VolumeMount(name="cfg", mount_path="/etc/web")],
                )
            ],
            volumes=[
                k8s.V1Volume(name="cfg", config_map=k8s.V1ConfigMapVolumeSource(name="web-cfg")),
                k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="1Gi")),
            ],
            tolerations=[k8s.V1Toleration(key="dedicated", operator="Exists", effect="NoSchedule")],
        ),
        status=k8s.V1PodStatus(
            phase="Running",
            pod_ips=[k8s.V1PodIP(ip="10.0.0.5")],
            container_statuses=[
                k8s.V1ContainerStatus(
                    name="web",
                    image="nginx:1.27",
                    image_id="sha256:abc",
                    ready=True,
                    restart_count=0,
                    state=k8s.V1ContainerState(
                        running=k8s.V1ContainerStateRunning(started_at="2026-01-01T00:00:00Z")
                    ),
                )
            ],
        ),
    )
    document = _client_json(pod)
    assert _round_trip(core.Pod, document) == document


def test_client_objects_of_other_kinds_round_trip() -> None:
    objects: list[tuple[type[Resource], object]] = [
        (
            core.Service,
            k8s.V1Service(
                metadata=k8s.V1ObjectMeta(name="web"),
                spec=k8s.V1ServiceSpec(
                    selector={"app": "web"},
                    cluster_ip="10.96.0.10",
                    cluster_ips=["10.96.0.10"],
                    ip_families=["IPv4"],
                    ports=[k8s.V1ServicePort(name="http", port=80, target_port="http", protocol="TCP")],
                ),
                status=k8s.V1ServiceStatus(
                    load_balancer=k8s.V1LoadBalancerStatus(ingress=[k8s.V1LoadBalancerIngress(ip="1.2.3.4")])
                ),
            ),
        ),
        (
            core.Node,
            k8s.V1Node(
                metadata=k8s.V1ObjectMeta(name="n1"),
                spec=k8s.V1NodeSpec(
                    pod_cidr="10.244.1.0/24",
                    taints=[k8s.V1Taint(key="k", value="v", effect="NoExecute")],
                ),
                status=k8s.V1NodeStatus(
                    capacity={"cpu": "2", "memory": "4Gi", "pods": "110"},
                    allocatable={"cpu": "1900m", "memory": "3900Mi", "pods": "110"},
                    addresses=[k8s.V1NodeAddress(type="InternalIP", address="192.168.1.10")],
                    conditions=[k8s.V1NodeCondition(type="Ready", status="True")],
                    daemon_endpoints=k8s.V1NodeDaemonEndpoints(
                        kubelet_endpoint=k8s.V1DaemonEndpoint(port=10250)
                    ),
                ),
            ),
        ),
        (core.Secret, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="s"), data={"k": "eA=="}, type="Opaque")),
        (
            core.Event,
            k8s.CoreV1Event(
                metadata=k8s.V1ObjectMeta(name="web.1"),
                involved_object=k8s.V1ObjectReference(kind="Pod", name="web", namespace="default"),
                reason="Scheduled",
                message="Successfully assigned default/web to n1",
                source=k8s.V1EventSource(component="default-scheduler"),
                count=1,
                type="Normal",
            ),
        ),
        (
            core.Binding,
            k8s.V1Binding(
                metadata=k8s.V1ObjectMeta(name="web"),
                target=k8s.V1ObjectReference(api_version="v1", kind="Node", name="n1"),
            ),
        ),
    ]
    for kind, obj in objects:
        document = _client_json(obj)
        assert _round_trip(kind, document) == document, kind.__name__


def test_nulls_decode_as_unset_and_are_not_written() -> None:
    raw = (
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","creationTimestamp":null},'
        b'"spec":{"containers":[{"name":"c","image":"busybox","resources":{},"args":null}],'
        b'"nodeSelector":null},"status":null}'
    )
    pod = msgspec.json.decode(raw, type=core.Pod)
    assert pod.metadata is not None and pod.metadata.creationTimestamp is None
    assert pod.status is None
    assert json.loads(msgspec.json.encode(pod)) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "a"},
        "spec": {"containers": [{"name": "c", "image": "busybox", "resources": {}}]},
    }


def test_minimal_pod_encodes_exactly_what_was_given() -> None:
    raw = b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c"}]}}'
    assert msgspec.json.encode(msgspec.json.decode(raw, type=core.Pod)) == raw
    assert msgspec.json.encode(core.Pod()) == b"{}"


def test_base64_fields_are_bytes() -> None:
    secret = msgspec.json.decode(b'{"data":{"password":"czNjcjN0"},"type":"Opaque"}', type=core.Secret)
    assert secret.data == {"password": b"s3cr3t"}
    assert msgspec.json.encode(secret) == b'{"data":{"password":"czNjcjN0"},"type":"Opaque"}'
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"data":{"password":"not base64!"}}', type=core.Secret)


def test_quantities_accept_strings_and_numbers() -> None:
    raw = b'{"spec":{"hard":{"cpu":"2","memory":"1Gi","pods":10,"requests.cpu":0.5}}}'
    quota = msgspec.json.decode(raw, type=core.ResourceQuota)
    assert quota.spec is not None
    assert quota.spec.hard == {"cpu": "2", "memory": "1Gi", "pods": 10, "requests.cpu": 0.5}


# The pod manifests of seeds/000_f61dcf17fb62f950.txt (node selector, node affinity, pod affinity
# and a toleration), gathered into one pod.
SEED_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: echoserver
  labels:
    name: echoserver
spec:
  nodeSelector:           # Define a node selector for the pod
    apptype: echoserver   # that selects nodes with the specified label and value
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - key: apptype
            operator: In
            values:
            - echoserver
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector:
          matchExpressions:
          - key: cache
            operator: In
            values:
            - active
        topologyKey: "kubernetes.io/hostname"
  tolerations:
  - key: node-role.kubernetes.io/master
    operator: Exists
  containers:
  - name: echoserver
    image: gcr.io/google_containers/echoserver:1.4
    ports:
    - containerPort: 8080
"""


def test_seed_manifest_converts_from_yaml() -> None:
    manifest = yaml.safe_load(SEED_POD)
    pod = msgspec.convert(manifest, type=core.Pod)
    assert pod.spec is not None and pod.spec.affinity is not None
    assert pod.spec.nodeSelector == {"apptype": "echoserver"}
    node_affinity = pod.spec.affinity.nodeAffinity
    assert node_affinity is not None and node_affinity.requiredDuringSchedulingIgnoredDuringExecution
    term = node_affinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
    assert term is not None and term[0].matchExpressions is not None
    assert term[0].matchExpressions[0].values == ["echoserver"]
    pod_affinity = pod.spec.affinity.podAffinity
    assert pod_affinity is not None and pod_affinity.requiredDuringSchedulingIgnoredDuringExecution
    assert (
        pod_affinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey == "kubernetes.io/hostname"
    )
    assert pod.spec.tolerations == [core.Toleration(key="node-role.kubernetes.io/master", operator="Exists")]
    assert pod.spec.containers == [
        core.Container(
            name="echoserver",
            image="gcr.io/google_containers/echoserver:1.4",
            ports=[core.ContainerPort(containerPort=8080)],
        )
    ]
    assert msgspec.to_builtins(pod) == manifest
