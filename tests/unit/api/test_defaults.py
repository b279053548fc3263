"""Defaulting: what `kubectl get -o yaml` shows for minimal objects on a real cluster
(REFERENCE.md Part B §3), idempotence, and respect for values the user set."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from kube_lite.api.apps import DaemonSet, Deployment, ReplicaSet, StatefulSet
from kube_lite.api.batch import CronJob, Job
from kube_lite.api.coordination import Lease
from kube_lite.api.core import (
    ConfigMap,
    LimitRange,
    Namespace,
    Node,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    ReplicationController,
    Secret,
    Service,
)
from kube_lite.api.defaults import default_object, generate_job_selector, image_pull_policy
from kube_lite.api.rbac import RoleBinding

META = {"name": "web", "namespace": "default"}
CONTAINER = {"name": "app", "image": "nginx"}
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [CONTAINER]}}

DEFAULTED_CONTAINER = {
    "image": "nginx",
    "imagePullPolicy": "Always",
    "name": "app",
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
DEFAULTED_TEMPLATE_SPEC = {
    "containers": [DEFAULTED_CONTAINER],
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}


def defaulted(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    """Decode, default, and check that defaulting again changes nothing."""
    obj = msgspec.convert(copy.deepcopy(doc), cls)
    default_object(obj)
    once = msgspec.to_builtins(obj)
    default_object(obj)
    assert msgspec.to_builtins(obj) == once, "defaulting is not idempotent"
    # what the API server would store and serve
    return msgspec.json.decode(msgspec.json.encode(obj))


def test_pod() -> None:
    pod = defaulted(Pod, {"metadata": META, "spec": {"containers": [CONTAINER]}})
    assert pod == {"metadata": META, "spec": {**DEFAULTED_TEMPLATE_SPEC, "enableServiceLinks": True}}


def test_pod_container_details() -> None:
    container = {
        "name": "app",
        "image": "nginx:1.25",
        "ports": [{"containerPort": 80}],
        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}, "requests": {"cpu": "100u"}},
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
        "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/stop"}}},
    }
    pod = defaulted(Pod, {"metadata": META, "spec": {"containers": [container]}})
    got = pod["spec"]["containers"][0]
    assert got["imagePullPolicy"] == "IfNotPresent"
    assert got["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert got["env"][0]["valueFrom"] == {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}
    # limits fill missing requests (Pod only); every quantity rounds up to milli and is canonical
    assert got["resources"] == {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "1m", "memory": "1Gi"}}
    assert got["livenessProbe"] == {
        "failureThreshold": 3,
        "httpGet": {"path": "/", "port": 80, "scheme": "HTTP"},
        "periodSeconds": 10,
        "successThreshold": 1,
        "timeoutSeconds": 1,
    }
    assert got["readinessProbe"] == {
        "failureThreshold": 3,
        "grpc": {"port": 9000, "service": ""},
        "periodSeconds": 5,
        "successThreshold": 1,
        "timeoutSeconds": 1,
    }
    assert got["lifecycle"] == {"preStop": {"httpGet": {"path": "/stop", "port": 80, "scheme": "HTTP"}}}


def test_pod_volumes() -> None:
    volumes = [
        {"name": "scratch"},
        {"name": "cfg", "configMap": {"name": "c"}},
        {"name": "sec", "secret": {"secretName": "s", "defaultMode": 0o400}},
        {"name": "host", "hostPath": {"path": "/var/log"}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "1024Mi"}},
    ]
    pod = defaulted(Pod, {"metadata": META, "spec": {"containers": [CONTAINER], "volumes": volumes}})
    assert pod["spec"]["volumes"] == [
        {"emptyDir": {}, "name": "scratch"},
        {"configMap": {"defaultMode": 420, "name": "c"}, "name": "cfg"},
        {"name": "sec", "secret": {"defaultMode": 256, "secretName": "s"}},
        {"hostPath": {"path": "/var/log", "type": ""}, "name": "host"},
        {
            "downwardAPI": {"defaultMode": 420, "items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}, "path": "labels"}]},
            "name": "info",
        },
        {"name": "token", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3600, "path": "token"}}]}},
        {"emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}, "name": "mem"},
    ]


def test_pod_host_network_ports() -> None:
    spec = {"hostNetwork": True, "containers": [{**CONTAINER, "ports": [{"containerPort": 8080}, {"containerPort": 9090, "hostPort": 9091}]}]}
    pod = defaulted(Pod, {"metadata": META, "spec": spec})
    assert pod["spec"]["containers"][0]["ports"] == [
        {"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"},
        {"containerPort": 9090, "hostPort": 9091, "protocol": "TCP"},
    ]


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("docker.io/library/nginx", "Always"),
        ("localhost:5000/app", "Always"),
        ("registry.example.com:5000/team/app:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:1.25@sha256:" + "a" * 64, "IfNotPresent"),
        ("registry.example.com:5000/team/app:v2", "IfNotPresent"),
        ("NGINX", "IfNotPresent"),  # not a valid reference
        ("", "IfNotPresent"),
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_user_values_are_kept() -> None:
    spec = {
        "restartPolicy": "Never",
        "dnsPolicy": "Default",
        "schedulerName": "mine",
        "terminationGracePeriodSeconds": 0,
        "securityContext": {"runAsUser": 1000},
        "enableServiceLinks": False,
        "containers": [
            {
                "name": "app",
                "image": "nginx",
                "imagePullPolicy": "Never",
                "terminationMessagePath": "/tmp/x",
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "ports": [{"containerPort": 53, "protocol": "UDP"}],
                "livenessProbe": {"exec": {"command": ["true"]}, "timeoutSeconds": 5, "periodSeconds": 7, "failureThreshold": 9},
            }
        ],
    }
    pod = defaulted(Pod, {"metadata": META, "spec": spec})
    assert pod["spec"] == {
        **spec,
        "containers": [{**spec["containers"][0], "livenessProbe": {**spec["containers"][0]["livenessProbe"], "successThreshold": 1}}],
    }


def test_deployment() -> None:
    deployment = defaulted(Deployment, {"metadata": META, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}})
    assert deployment["spec"] == {
        "progressDeadlineSeconds": 600,
        "replicas": 1,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": DEFAULTED_TEMPLATE_SPEC},
    }
    recreate = defaulted(Deployment, {"metadata": META, "spec": {"strategy": {"type": "Recreate"}, "replicas": 0, "template": TEMPLATE}})
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}
    assert recreate["spec"]["replicas"] == 0


def test_templates_do_not_get_pod_only_defaults() -> None:
    template = {"spec": {"containers": [{**CONTAINER, "resources": {"limits": {"cpu": "1"}}}]}}
    deployment = defaulted(Deployment, {"metadata": META, "spec": {"template": template}})
    spec = deployment["spec"]["template"]["spec"]
    assert "enableServiceLinks" not in spec
    assert spec["containers"][0]["resources"] == {"limits": {"cpu": "1"}}


def test_replica_set_daemon_set_stateful_set() -> None:
    rs = defaulted(ReplicaSet, {"metadata": META, "spec": {"template": TEMPLATE}})
    assert rs["spec"]["replicas"] == 1
    ds = defaulted(DaemonSet, {"metadata": META, "spec": {"template": TEMPLATE}})
    assert ds["spec"]["updateStrategy"] == {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"}
    assert ds["spec"]["revisionHistoryLimit"] == 10
    on_delete = defaulted(DaemonSet, {"metadata": META, "spec": {"updateStrategy": {"type": "OnDelete"}, "template": TEMPLATE}})
    assert on_delete["spec"]["updateStrategy"] == {"type": "OnDelete"}
    sts = defaulted(
        StatefulSet,
        {
            "metadata": META,
            "spec": {
                "serviceName": "web",
                "template": TEMPLATE,
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}}],
            },
        },
    )
    spec = sts["spec"]
    assert {k: v for k, v in spec.items() if k not in ("template", "volumeClaimTemplates")} == {
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "podManagementPolicy": "OrderedReady",
        "replicas": 1,
        "revisionHistoryLimit": 10,
        "serviceName": "web",
        "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
    }
    assert spec["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        }
    ]
    # a typed RollingUpdate strategy without rollingUpdate stays without it
    typed = defaulted(StatefulSet, {"metadata": META, "spec": {"updateStrategy": {"type": "RollingUpdate"}, "template": TEMPLATE}})
    assert typed["spec"]["updateStrategy"] == {"type": "RollingUpdate"}


def test_replication_controller_copies_template_labels() -> None:
    rc = defaulted(ReplicationController, {"metadata": META, "spec": {"template": TEMPLATE}})
    assert rc["metadata"]["labels"] == {"app": "web"}
    assert rc["spec"]["selector"] == {"app": "web"}
    assert rc["spec"]["replicas"] == 1


def test_job_and_cron_job() -> None:
    job_template = {"spec": {"restartPolicy": "Never", "containers": [CONTAINER]}}
    job = defaulted(Job, {"metadata": META, "spec": {"template": job_template}})
    assert {k: v for k, v in job["spec"].items() if k != "template"} == {
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "completions": 1,
        "manualSelector": False,
        "parallelism": 1,
        "podReplacementPolicy": "TerminatingOrFailed",
        "suspend": False,
    }
    assert job["spec"]["template"]["spec"] == {**DEFAULTED_TEMPLATE_SPEC, "restartPolicy": "Never"}
    parallel = defaulted(Job, {"metadata": META, "spec": {"completions": 5, "template": job_template}})
    assert (parallel["spec"]["completions"], parallel["spec"]["parallelism"]) == (5, 1)
    work_queue = defaulted(Job, {"metadata": META, "spec": {"parallelism": 3, "template": job_template}})
    assert "completions" not in work_queue["spec"]
    per_index = defaulted(Job, {"metadata": META, "spec": {"completionMode": "Indexed", "completions": 3, "backoffLimitPerIndex": 1, "template": job_template}})
    assert per_index["spec"]["backoffLimit"] == 2147483647
    with_policy = defaulted(
        Job,
        {"metadata": META, "spec": {"podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}, "template": job_template}},
    )
    assert with_policy["spec"]["podReplacementPolicy"] == "Failed"
    assert with_policy["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"] == [{"status": "True", "type": "DisruptionTarget"}]

    cron = defaulted(CronJob, {"metadata": META, "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": job_template}}}})
    assert {k: v for k, v in cron["spec"].items() if k != "jobTemplate"} == {
        "concurrencyPolicy": "Allow",
        "failedJobsHistoryLimit": 1,
        "schedule": "* * * * *",
        "successfulJobsHistoryLimit": 3,
        "suspend": False,
    }
    # the job template gets pod defaults only, not the Job's own
    assert cron["spec"]["jobTemplate"] == {"spec": {"template": {"spec": {**DEFAULTED_TEMPLATE_SPEC, "restartPolicy": "Never"}}}}


def test_job_labels_and_generated_selector() -> None:
    job = msgspec.convert(
        {"metadata": {**META, "uid": "u-1"}, "spec": {"template": {"metadata": {"labels": {"app": "pi"}}, "spec": {"restartPolicy": "Never", "containers": [CONTAINER]}}}},
        Job,
    )
    generate_job_selector(job)
    default_object(job)
    assert job.spec.selector.matchLabels == {"batch.kubernetes.io/controller-uid": "u-1"}
    assert job.spec.template.metadata.labels == {
        "app": "pi",
        "batch.kubernetes.io/controller-uid": "u-1",
        "batch.kubernetes.io/job-name": "web",
        "controller-uid": "u-1",
        "job-name": "web",
    }
    assert job.metadata.labels == job.spec.template.metadata.labels
    as_dict: dict[str, Any] = {"metadata": {"name": "j", "uid": "u-2"}, "spec": {}}
    generate_job_selector(as_dict)
    assert as_dict["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-2"}}
    manual: dict[str, Any] = {"metadata": {"name": "j"}, "spec": {"manualSelector": True}}
    generate_job_selector(manual)
    assert manual == {"metadata": {"name": "j"}, "spec": {"manualSelector": True}}


def test_services() -> None:
    svc = defaulted(Service, {"metadata": META, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    assert svc["spec"] == {
        "internalTrafficPolicy": "Cluster",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "selector": {"app": "web"},
        "sessionAffinity": "None",
        "type": "ClusterIP",
    }
    named = defaulted(Service, {"metadata": META, "spec": {"ports": [{"port": 80, "targetPort": "http"}]}})
    assert named["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": "http"}]
    lb = defaulted(Service, {"metadata": META, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}, "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}})
    assert lb["spec"]["allocateLoadBalancerNodePorts"] is True
    assert lb["spec"]["externalTrafficPolicy"] == "Cluster"
    assert lb["status"]["loadBalancer"]["ingress"] == [{"ip": "1.2.3.4", "ipMode": "VIP"}]
    sticky = defaulted(Service, {"metadata": META, "spec": {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]}})
    assert sticky["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    headless = defaulted(Service, {"metadata": META, "spec": {"clusterIP": "None"}})
    assert (headless["spec"]["clusterIPs"], headless["spec"]["ipFamilyPolicy"]) == (["None"], "RequireDualStack")
    v6 = defaulted(Service, {"metadata": META, "spec": {"clusterIP": "fd00::10", "ports": [{"port": 80}]}})
    assert v6["spec"]["ipFamilies"] == ["IPv6"]
    external = defaulted(Service, {"metadata": META, "spec": {"type": "ExternalName", "externalName": "example.com"}})
    assert external["spec"] == {"externalName": "example.com", "sessionAffinity": "None", "type": "ExternalName"}


def test_small_core_kinds() -> None:
    assert defaulted(Secret, {"metadata": META})["type"] == "Opaque"
    assert defaulted(Secret, {"metadata": META, "type": "kubernetes.io/tls"})["type"] == "kubernetes.io/tls"
    assert defaulted(ConfigMap, {"metadata": META}) == {"metadata": META}
    ns = defaulted(Namespace, {"metadata": {"name": "team-a"}})
    assert ns == {"metadata": {"labels": {"kubernetes.io/metadata.name": "team-a"}, "name": "team-a"}, "status": {"phase": "Active"}}
    pvc = defaulted(PersistentVolumeClaim, {"metadata": META, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    assert pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["status"] == {"phase": "Pending"}
    pv = defaulted(PersistentVolume, {"metadata": {"name": "pv"}, "spec": {"capacity": {"storage": "1024Mi"}, "hostPath": {"path": "/data"}}})
    assert pv["spec"] == {
        "capacity": {"storage": "1Gi"},
        "hostPath": {"path": "/data", "type": ""},
        "persistentVolumeReclaimPolicy": "Retain",
        "volumeMode": "Filesystem",
    }
    assert pv["status"] == {"phase": "Pending"}
    node = defaulted(Node, {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "2", "memory": "4096Mi"}}})
    assert node["status"] == {"allocatable": {"cpu": "2", "memory": "4Gi"}, "capacity": {"cpu": "2", "memory": "4Gi"}}
    lr = defaulted(LimitRange, {"metadata": META, "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]}})
    assert lr["spec"]["limits"][0] == {
        "default": {"cpu": "2"},
        "defaultRequest": {"cpu": "2", "memory": "64Mi"},
        "max": {"cpu": "2"},
        "min": {"memory": "64Mi"},
        "type": "Container",
    }


def test_rbac_binding() -> None:
    binding = defaulted(
        RoleBinding,
        {"metadata": META, "roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "sa", "namespace": "default"}]},
    )
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "u"},
        {"kind": "ServiceAccount", "name": "sa", "namespace": "default"},
    ]


def test_kinds_without_defaults_are_untouched() -> None:
    lease = {"metadata": META, "spec": {"holderIdentity": "a"}}
    assert defaulted(Lease, lease) == lease


def test_malformed_quantities_are_left_for_validation() -> None:
    pod = defaulted(Pod, {"metadata": META, "spec": {"containers": [{**CONTAINER, "resources": {"requests": {"cpu": "lots"}}}]}})
    assert pod["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "lots"}}


def test_empty_objects_do_not_crash() -> None:
    for cls in (Pod, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, Service, Namespace, Node, ReplicationController):
        obj = cls()
        default_object(obj)
        default_object(obj)


def test_storage_class() -> None:
    from kube_lite.api.storage import StorageClass

    sc = defaulted(StorageClass, {"metadata": {"name": "fast"}, "provisioner": "example.com/disk"})
    assert sc == {"metadata": {"name": "fast"}, "provisioner": "example.com/disk", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}


@pytest.mark.parametrize("cls", [Pod, Deployment, Service])
def test_defaulting_is_idempotent_on_mutated_objects(cls: type) -> None:
    from hypothesis import given, settings

    from tests.unit.api.test_validation import _RICH_POD, DEPLOYMENT, SERVICE, _mutations

    base = {Pod: _RICH_POD, Deployment: DEPLOYMENT, Service: SERVICE}[cls]
    full = msgspec.convert(copy.deepcopy(base), cls)
    default_object(full)

    @settings(max_examples=50, deadline=None)
    @given(_mutations(msgspec.to_builtins(full)))
    def check(doc: dict[str, Any]) -> None:
        obj = msgspec.convert(doc, cls)
        default_object(obj)
        once = msgspec.to_builtins(obj)
        default_object(obj)
        assert msgspec.to_builtins(obj) == once

    check()
