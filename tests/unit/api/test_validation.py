"""Validation: Kubernetes' field paths and messages, exactly.

Expected texts are Kubernetes' (apimachinery's field errors and util/validation, and the
pkg/apis/*/validation rules); each object is defaulted first, as Kubernetes validates defaulted
objects.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from kube_lite.api import errors as api_errors
from kube_lite.api.apps import DaemonSet, Deployment, DeploymentStatus, ReplicaSet, StatefulSet
from kube_lite.api.batch import CronJob, Job
from kube_lite.api.coordination import Lease
from kube_lite.api.core import (
    ConfigMap,
    ContainerState,
    ContainerStateRunning,
    Namespace,
    Node,
    Pod,
    PodSpec,
    PodStatus,
    ReplicationController,
    Secret,
    Service,
)
from kube_lite.api.defaults import default_object, generate_job_selector
from kube_lite.api.meta import ObjectMeta
from kube_lite.api.rbac import ClusterRole, RoleBinding
from kube_lite.api.validation import (
    OMIT,
    ErrorType,
    FieldError,
    cron_schedule_error,
    duplicate,
    forbidden,
    invalid,
    invalid_message,
    is_config_map_key,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_label_value,
    is_qualified_name,
    is_valid_port_name,
    name_is_dns_subdomain,
    not_found,
    not_supported,
    required,
    too_long,
    validate_ip,
    validate_object,
    validate_object_meta,
)

DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def build(cls: type, doc: dict[str, Any], *, uid: str | None = None) -> Any:
    """Decode, (generate a Job's selector,) and default, as the API server does before validating."""
    obj = msgspec.convert(copy.deepcopy(doc), cls)
    if uid is not None:
        obj.metadata.uid = uid
    if cls is Job:
        generate_job_selector(obj)
    default_object(obj)
    return obj


def messages(obj: Any, old: Any = None) -> list[str]:
    return [str(e) for e in validate_object(obj, old)]


def updated(obj: Any, change: Any) -> Any:
    """A copy of a stored object as an update would carry it (resourceVersion set)."""
    new = copy.deepcopy(obj)
    change(new)
    return new


def stored(obj: Any) -> Any:
    obj.metadata.resourceVersion = "1"
    obj.metadata.uid = obj.metadata.uid or "uid-1"
    return obj


POD = {
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"containers": [{"name": "app", "image": "nginx"}]},
}

DEPLOYMENT = {
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}},
    },
}


# --- Field errors ---------------------------------------------------------------------------


def test_field_error_rendering() -> None:
    assert str(required("spec.containers[0].name")) == "spec.containers[0].name: Required value"
    assert str(required("metadata.name", "name or generateName is required")) == (
        "metadata.name: Required value: name or generateName is required"
    )
    assert str(invalid("spec.replicas", -1, "must be greater than or equal to 0")) == (
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    )
    assert str(invalid("x", True, "d")) == "x: Invalid value: true: d"
    assert str(invalid("x", None, "d")) == "x: Invalid value: null: d"
    assert str(invalid("x", {"b": "2", "a": "<1>"}, "d")) == 'x: Invalid value: {"a":"\\u003c1\\u003e","b":"2"}: d'
    assert str(invalid("x", 'a"b\n', "d")) == 'x: Invalid value: "a\\"b\\n": d'
    assert str(invalid("x", OMIT, "cannot set X")) == "x: Invalid value: cannot set X"
    assert str(not_supported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"])) == (
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'
    )
    assert str(duplicate("spec.containers[1].name", "a")) == 'spec.containers[1].name: Duplicate value: "a"'
    assert str(not_found("spec.containers[0].volumeMounts[0].name", "data")) == (
        'spec.containers[0].volumeMounts[0].name: Not found: "data"'
    )
    assert str(forbidden("metadata.namespace", "not allowed on this type")) == (
        "metadata.namespace: Forbidden: not allowed on this type"
    )
    assert str(too_long("metadata.annotations", 262144)) == "metadata.annotations: Too long: may not be more than 262144 bytes"
    assert str(too_long("x", 1)) == "x: Too long: may not be more than 1 byte"


def test_field_error_cause() -> None:
    err = required("spec.containers[0].image")
    assert err.reason_code == "FieldValueRequired"
    assert err.body() == "Required value"
    assert err.cause() == {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}
    assert ErrorType.NOT_SUPPORTED.value == "FieldValueNotSupported"


def test_invalid_message() -> None:
    one = [required("spec.containers[0].image")]
    assert invalid_message("Pod", "x", one) == 'Pod "x" is invalid: spec.containers[0].image: Required value'
    assert invalid_message(Pod, "x", one) == 'Pod "x" is invalid: spec.containers[0].image: Required value'
    two = [required("spec.selector"), required("spec.template"), required("spec.selector")]
    assert invalid_message(Deployment, "d", two) == 'Deployment.apps "d" is invalid: [spec.selector: Required value, spec.template: Required value]'
    assert invalid_message("Deployment", "d", two, group="apps").startswith('Deployment.apps "d" is invalid: [')
    assert invalid_message("Deployment.apps", "d", []) == 'Deployment.apps "d" is invalid'
    # the same error twice is one error, without brackets
    assert invalid_message("Pod", "x", [one[0], one[0]]) == 'Pod "x" is invalid: spec.containers[0].image: Required value'


def test_api_error_from_field_errors() -> None:
    err = api_errors.invalid("Pod", "", "x", [required("spec.containers[0].image")])
    assert err.code == 422
    assert err.message == 'Pod "x" is invalid: spec.containers[0].image: Required value'
    assert err.details["causes"] == [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}]


# --- Primitives -----------------------------------------------------------------------------


def test_dns_names() -> None:
    assert is_dns1123_subdomain("example.com") == []
    assert is_dns1123_subdomain("Foo") == [DNS1123_SUBDOMAIN_MSG]
    assert is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]
    assert is_dns1123_label("my-name") == []
    assert is_dns1123_label("a.b") == ["must not contain dots"]
    assert is_dns1123_label("My_name") == [DNS1123_LABEL_MSG]
    assert is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]
    assert is_dns1123_label("abc\n") == [DNS1123_LABEL_MSG]  # no trailing-newline loophole
    assert is_dns1035_label("1abc") == [
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


def test_generate_name_prefix_may_end_in_dash() -> None:
    assert name_is_dns_subdomain("web-", True) == []
    assert name_is_dns_subdomain("web-", False) == [DNS1123_SUBDOMAIN_MSG]


def test_qualified_names_and_label_values() -> None:
    assert is_qualified_name("example.com/MyName") == []
    assert is_qualified_name("app") == []
    assert is_qualified_name("/a") == ["prefix part must be non-empty"]
    assert is_qualified_name("a" * 64) == ["name part must be no more than 63 bytes"]
    assert is_qualified_name("Example.com/a") == ["prefix part " + DNS1123_SUBDOMAIN_MSG]
    assert is_qualified_name("a/b/c") == [
        "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
        "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
        "and '/' (e.g. 'example.com/MyName')"
    ]
    assert is_qualified_name("-a") == [
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    ]
    assert is_label_value("") == []
    assert is_label_value("a" * 64) == ["must be no more than 63 bytes"]


def test_config_keys_env_names_port_names() -> None:
    assert is_config_map_key("key.name") == []
    assert is_config_map_key("a b") == [
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
        "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    ]
    assert is_config_map_key("..") == ["must not be '..'"]
    assert is_config_map_key("..a") == ["must not start with '..'"]
    assert is_env_var_name("MY_VAR") == []
    assert is_env_var_name("1VAR") == [
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
        "and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex "
        "used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
    ]
    assert is_valid_port_name("http") == []
    assert is_valid_port_name("8080") == ["must contain at least one letter (a-z)"]
    assert is_valid_port_name("-a--b") == ["must not contain consecutive hyphens", "must not begin or end with a hyphen"]
    assert is_valid_port_name("a-very-long-port-name") == ["must be no more than 15 characters"]


def test_ip_addresses() -> None:
    assert validate_ip("10.0.0.1", "p") == []
    assert validate_ip("2001:db8::1", "p") == []
    assert [str(e) for e in validate_ip("1.2.3", "p")] == [
        'p: Invalid value: "1.2.3": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'
    ]
    assert [str(e) for e in validate_ip("010.0.0.1", "p")] == ['p: Invalid value: "010.0.0.1": must not have leading 0s']
    assert [str(e) for e in validate_ip("2001:DB8::1", "p")] == [
        'p: Invalid value: "2001:DB8::1": must be in canonical form ("2001:db8::1")'
    ]
    assert [str(e) for e in validate_ip("::ffff:1.2.3.4", "p")] == [
        'p: Invalid value: "::ffff:1.2.3.4": must not be an IPv4-mapped IPv6 address'
    ]


# --- ObjectMeta -----------------------------------------------------------------------------


def test_object_meta_on_create() -> None:
    assert [str(e) for e in validate_object_meta(ObjectMeta(namespace="ns"), True)] == [
        "metadata.name: Required value: name or generateName is required"
    ]
    assert [str(e) for e in validate_object_meta(ObjectMeta(name="Foo", namespace="ns"), True)] == [
        f'metadata.name: Invalid value: "Foo": {DNS1123_SUBDOMAIN_MSG}'
    ]
    assert [str(e) for e in validate_object_meta(ObjectMeta(name="a"), True)] == ["metadata.namespace: Required value"]
    assert [str(e) for e in validate_object_meta(ObjectMeta(name="a", namespace="x"), False)] == [
        "metadata.namespace: Forbidden: not allowed on this type"
    ]
    meta = ObjectMeta(generateName="Web-", name="Web-abcde", namespace="ns")
    assert [e.field for e in validate_object_meta(meta, True)] == ["metadata.generateName", "metadata.name"]


def test_labels_annotations_finalizers_owners() -> None:
    meta = ObjectMeta(
        name="a",
        namespace="ns",
        labels={"bad key": "v", "ok": "-bad"},
        annotations={"x": "y" * (256 * 1024)},
        finalizers=["foo", "kubernetes", "example.com/f"],
        ownerReferences=[
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r", "uid": "1", "controller": True},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "s", "controller": True},
        ],
    )
    meta = msgspec.convert(msgspec.to_builtins(meta), ObjectMeta)
    got = [str(e) for e in validate_object_meta(meta, True)]
    assert got[0].startswith('metadata.labels: Invalid value: "bad key": name part must consist of')
    assert got[1].startswith('metadata.labels: Invalid value: "-bad": a valid label must be an empty string')
    assert "metadata.annotations: Too long: may not be more than 262144 bytes" in got
    assert "metadata.ownerReferences[1].uid: Required value: must not be empty" in got
    assert any(
        m.startswith("metadata.ownerReferences: Invalid value: [")
        and m.endswith('Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/r and ReplicaSet/s')
        for m in got
    )
    assert 'metadata.finalizers[0]: Invalid value: "foo": name is neither a standard finalizer name nor is it fully qualified' in got
    assert len([m for m in got if "finalizers" in m]) == 1


def test_object_meta_on_update() -> None:
    old = stored(build(ConfigMap, {"metadata": {"name": "a", "namespace": "ns", "uid": "u1", "generation": 2}}))
    new = updated(old, lambda o: setattr(o.metadata, "uid", "u2"))
    assert messages(new, old) == ['uid: Invalid value: "u2": field is immutable'.replace("uid", "metadata.uid", 1)]
    new = updated(old, lambda o: setattr(o.metadata, "resourceVersion", None))
    assert messages(new, old) == ['metadata.resourceVersion: Invalid value: "": must be specified for an update']
    new = updated(old, lambda o: setattr(o.metadata, "generation", 1))
    assert messages(new, old) == ["metadata.generation: Invalid value: 1: must not be decremented"]
    old.metadata.deletionTimestamp = "2024-01-01T00:00:00Z"
    new = updated(old, lambda o: setattr(o.metadata, "finalizers", ["example.com/a", "example.com/b"]))
    assert messages(new, old) == [
        'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, '
        'found new finalizers []string{"example.com/a", "example.com/b"}'
    ]


# --- Pod ------------------------------------------------------------------------------------


def test_minimal_pod_is_valid() -> None:
    assert messages(build(Pod, POD)) == []


def test_undefaulted_pod_reports_what_defaulting_fills() -> None:
    pod = msgspec.convert(POD, Pod)
    assert messages(pod) == [
        "spec.terminationGracePeriodSeconds: Required value",
        "spec.containers[0].terminationMessagePolicy: Required value",
        "spec.containers[0].imagePullPolicy: Required value",
        "spec.restartPolicy: Required value",
        "spec.dnsPolicy: Required value",
    ]


def test_pod_containers() -> None:
    pod = build(Pod, {"metadata": POD["metadata"], "spec": {"containers": []}})
    assert messages(pod) == ["spec.containers: Required value"]
    pod = build(Pod, {"metadata": POD["metadata"], "spec": {"containers": [{"name": "a"}, {"name": "a", "image": "x"}, {"name": "B_", "image": "x"}]}})
    assert messages(pod) == [
        "spec.containers[0].image: Required value",
        'spec.containers[1].name: Duplicate value: "a"',
        f'spec.containers[2].name: Invalid value: "B_": {DNS1123_LABEL_MSG}',
    ]
    pod = build(Pod, {"metadata": POD["metadata"], "spec": {"initContainers": [{"name": "app", "image": "x"}], "containers": [{"name": "app", "image": "x"}]}})
    assert messages(pod) == ['spec.initContainers[0].name: Duplicate value: "app"']


def test_pod_enums() -> None:
    pod = build(Pod, {**POD, "spec": {**POD["spec"], "restartPolicy": "Sometimes", "dnsPolicy": "Fancy"}})
    assert messages(pod) == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.dnsPolicy: Unsupported value: "Fancy": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]
    pod = build(Pod, {**POD, "spec": {"containers": [{"name": "a", "image": "x", "imagePullPolicy": "Sometimes"}]}})
    assert messages(pod) == [
        'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'
    ]


def test_pod_ports_and_env() -> None:
    container = {
        "name": "a",
        "image": "x",
        "ports": [
            {"containerPort": 0},
            {"containerPort": 70000, "name": "web"},
            {"containerPort": 80, "name": "web", "protocol": "HTTP"},
            {"containerPort": 81, "name": "8080"},
        ],
        "env": [{"name": "1X"}, {"name": ""}, {"name": "OK", "value": "v", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
    }
    pod = build(Pod, {"metadata": POD["metadata"], "spec": {"containers": [container]}})
    got = messages(pod)
    assert got[:5] == [
        "spec.containers[0].ports[0].containerPort: Required value",
        "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.containers[0].ports[2].name: Duplicate value: "web"',
        'spec.containers[0].ports[2].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'spec.containers[0].ports[3].name: Invalid value: "8080": must contain at least one letter (a-z)',
    ]
    assert got[5].startswith('spec.containers[0].env[0].name: Invalid value: "1X": a valid environment variable name')
    assert got[6:] == [
        "spec.containers[0].env[1].name: Required value",
        'spec.containers[0].env[2].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
    ]


def test_pod_resources() -> None:
    def pod_with(resources: dict[str, Any]) -> Pod:
        return build(Pod, {"metadata": POD["metadata"], "spec": {"containers": [{"name": "a", "image": "x", "resources": resources}]}})

    assert messages(pod_with({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}})) == []
    assert messages(pod_with({"limits": {"cpu": "1"}, "requests": {"cpu": "2"}})) == [
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'
    ]
    assert messages(pod_with({"requests": {"memory": "-1"}})) == [
        'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0'
    ]
    assert messages(pod_with({"requests": {"cpu": "abc"}})) == [
        "spec.containers[0].resources.requests[cpu]: Invalid value: \"abc\": quantities must match the regular "
        "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    ]
    assert messages(pod_with({"requests": {"gpu": "1"}})) == [
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified',
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    ]
    assert messages(pod_with({"requests": {"example.com/gpu": "1"}})) == [
        "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"
    ]
    assert messages(pod_with({"limits": {"example.com/gpu": "1.5"}})) == [
        'spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "1500m": must be an integer',
        'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "1500m": must be an integer',
    ]


def test_pod_volumes() -> None:
    spec = {
        "volumes": [
            {"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}},
            {"name": "cfg", "configMap": {"name": "c", "items": [{"key": "k", "path": "../x"}]}},
            {"name": "cfg", "secret": {"secretName": "s", "defaultMode": 1000}},
        ],
        "containers": [{"name": "a", "image": "x", "volumeMounts": [{"name": "data", "mountPath": "/d"}, {"name": "cfg", "mountPath": "/d"}]}],
    }
    pod = build(Pod, {"metadata": POD["metadata"], "spec": spec})
    assert messages(pod) == [
        "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
        "spec.volumes[1].configMap.items[0].path: Invalid value: \"../x\": must not contain '..'",
        "spec.volumes[2].secret.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
        # volumes with errors are not mountable (and, as in Kubernetes, not counted for duplicates)
        'spec.containers[0].volumeMounts[0].name: Not found: "data"',
        'spec.containers[0].volumeMounts[1].name: Not found: "cfg"',
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique',
    ]
    twice = build(Pod, {"metadata": POD["metadata"], "spec": {"volumes": [{"name": "v"}, {"name": "v"}], "containers": POD["spec"]["containers"]}})
    assert messages(twice) == ['spec.volumes[1].name: Duplicate value: "v"']


def test_pod_probes_and_tolerations() -> None:
    container = {"name": "a", "image": "x", "livenessProbe": {"successThreshold": 2, "exec": {"command": ["true"]}}, "readinessProbe": {}}
    spec = {"containers": [container], "tolerations": [{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Exists", "value": "v"}]}
    pod = build(Pod, {"metadata": POD["metadata"], "spec": spec})
    assert messages(pod) == [
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        "spec.containers[0].readinessProbe: Required value: must specify a handler type",
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
        "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
    ]


def test_pod_update_allows_image_and_forbids_the_rest() -> None:
    old = stored(build(Pod, POD))
    assert messages(updated(old, lambda p: setattr(p.spec.containers[0], "image", "nginx:2")), old) == []
    assert messages(updated(old, lambda p: setattr(p.spec, "activeDeadlineSeconds", 30)), old) == []
    add_toleration = updated(old, lambda p: setattr(p.spec, "tolerations", [{"key": "k", "operator": "Exists"}]))
    add_toleration = msgspec.convert(msgspec.to_builtins(add_toleration), Pod)
    assert messages(add_toleration, old) == []

    got = messages(updated(old, lambda p: setattr(p.spec, "restartPolicy", "Never")), old)
    assert len(got) == 1
    assert got[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
        "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
        "previously negative)\n"
    )
    assert "restartPolicy" in got[0]

    more = updated(old, lambda p: p.spec.containers.append(copy.deepcopy(p.spec.containers[0])))
    more.spec.containers[1].name = "b"
    assert messages(more, old) == ["spec.containers: Forbidden: pod updates may not add or remove containers"]

    longer = updated(old, lambda p: setattr(p.spec, "activeDeadlineSeconds", 10))
    old_with_deadline = updated(old, lambda p: setattr(p.spec, "activeDeadlineSeconds", 5))
    assert messages(longer, old_with_deadline) == [
        "spec.activeDeadlineSeconds: Invalid value: 10: must be less than or equal to previous value"
    ]
    renamed = updated(old, lambda p: setattr(p.metadata, "name", "other"))
    assert messages(renamed, old)[0] == 'metadata.name: Invalid value: "other": field is immutable'


# --- Workloads ------------------------------------------------------------------------------


def test_minimal_workloads_are_valid() -> None:
    template = DEPLOYMENT["spec"]
    assert messages(build(Deployment, DEPLOYMENT)) == []
    assert messages(build(ReplicaSet, DEPLOYMENT)) == []
    assert messages(build(DaemonSet, DEPLOYMENT)) == []
    assert messages(build(StatefulSet, {**DEPLOYMENT, "spec": {**template, "serviceName": "web"}})) == []
    rc = {"metadata": DEPLOYMENT["metadata"], "spec": {"template": template["template"]}}
    assert messages(build(ReplicationController, rc)) == []


def test_deployment_selector_and_template() -> None:
    no_selector = build(Deployment, {**DEPLOYMENT, "spec": {"template": DEPLOYMENT["spec"]["template"]}})
    errs = validate_object(no_selector)
    assert [str(e) for e in errs] == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    ]
    assert invalid_message(Deployment, "web", errs) == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.metadata.labels: '
        'Invalid value: {"app":"web"}: `selector` does not match template `labels`]'
    )
    mismatch = build(Deployment, {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "selector": {"matchLabels": {"app": "api"}}}})
    assert messages(mismatch) == ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']
    empty = build(Deployment, {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "selector": {}}})
    assert messages(empty) == ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]


def test_deployment_fields() -> None:
    spec = copy.deepcopy(DEPLOYMENT["spec"])
    spec.update(replicas=-1, strategy={"type": "Blue"}, minReadySeconds=700)
    spec["template"]["spec"]["restartPolicy"] = "Never"
    got = messages(build(Deployment, {**DEPLOYMENT, "spec": spec}))
    assert got == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        'spec.strategy: Unsupported value: {"Type":"Blue","RollingUpdate":null}: supported values: "Recreate", "RollingUpdate"',
        "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
    ]
    zero = copy.deepcopy(DEPLOYMENT["spec"])
    zero["strategy"] = {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}}
    assert messages(build(Deployment, {**DEPLOYMENT, "spec": zero})) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
    ]
    bad = copy.deepcopy(DEPLOYMENT["spec"])
    bad["strategy"] = {"rollingUpdate": {"maxUnavailable": "150%", "maxSurge": "x"}}
    assert messages(build(Deployment, {**DEPLOYMENT, "spec": bad})) == [
        "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"x\": a valid percent string must be a numeric string "
        "followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ]


def test_workload_selector_is_immutable() -> None:
    for cls in (Deployment, ReplicaSet, DaemonSet):
        old = stored(build(cls, DEPLOYMENT))

        def change(obj: Any) -> None:
            obj.spec.selector.matchLabels = {"app": "web", "tier": "fe"}
            obj.spec.template.metadata.labels = {"app": "web", "tier": "fe"}

        assert messages(updated(old, change), old) == [
            'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"fe"}}: field is immutable'
        ], cls
        assert messages(updated(old, lambda o: setattr(o.spec, "replicas", 5) if hasattr(o.spec, "replicas") else None), old) == []


def test_daemon_set_and_stateful_set() -> None:
    spec = copy.deepcopy(DEPLOYMENT["spec"])
    spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}
    assert messages(build(DaemonSet, {**DEPLOYMENT, "spec": spec})) == [
        "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero"
    ]
    sts = build(StatefulSet, {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "serviceName": "web", "podManagementPolicy": "Random"}})
    assert messages(sts) == ["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"]
    old = stored(build(StatefulSet, {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "serviceName": "web"}}))
    assert messages(updated(old, lambda o: setattr(o.spec, "replicas", 3)), old) == []
    assert messages(updated(old, lambda o: setattr(o.spec, "serviceName", "other")), old) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    ]


def test_replication_controller() -> None:
    rc = build(ReplicationController, {"metadata": DEPLOYMENT["metadata"], "spec": {"selector": {"app": "other"}, "template": DEPLOYMENT["spec"]["template"]}})
    assert messages(rc) == ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']


# --- Job and CronJob ------------------------------------------------------------------------

JOB = {
    "metadata": {"name": "pi", "namespace": "default"},
    "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}},
}


def test_job() -> None:
    assert messages(build(Job, JOB, uid="u1")) == []
    always = copy.deepcopy(JOB)
    always["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    always["spec"]["completions"] = -1
    assert messages(build(Job, always, uid="u1")) == [
        "spec.completions: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]
    ungenerated = msgspec.convert(JOB, Job)
    default_object(ungenerated)
    # without the Job strategy's generated selector: a nil selector also matches no labels
    assert messages(ungenerated) == [
        "spec.selector: Required value",
        "spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`",
    ]


def test_job_update_immutability() -> None:
    old = stored(build(Job, JOB, uid="u1"))
    assert messages(updated(old, lambda j: setattr(j.spec, "parallelism", 3)), old) == []
    got = messages(updated(old, lambda j: setattr(j.spec.template.spec.containers[0], "image", "perl:2")), old)
    assert len(got) == 1
    assert got[0].startswith("spec.template: Invalid value: {") and got[0].endswith("}: field is immutable")
    assert messages(updated(old, lambda j: setattr(j.spec, "completions", 2)), old) == [
        "spec.completions: Invalid value: 2: field is immutable"
    ]


def test_cron_job() -> None:
    cron = {
        "metadata": {"name": "tick", "namespace": "default"},
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": JOB["spec"]}},
    }
    assert messages(build(CronJob, cron)) == []
    bad = copy.deepcopy(cron)
    bad["spec"].update(schedule="every minute", concurrencyPolicy="Sometimes")
    assert messages(build(CronJob, bad)) == [
        'spec.schedule: Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]',
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    ]
    long_name = copy.deepcopy(cron)
    long_name["metadata"]["name"] = "a" * 53
    assert messages(build(CronJob, long_name)) == [f'metadata.name: Invalid value: "{"a" * 53}": must be no more than 52 characters']


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("*/5 * * * *", None),
        ("@hourly", None),
        ("0 0 * * sun", None),
        ("@every 1h30m", None),
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("@weekdays", "unrecognized descriptor: @weekdays"),
        ("", "empty spec string"),
    ],
)
def test_cron_schedules(schedule: str, problem: str | None) -> None:
    assert cron_schedule_error(schedule) == problem


# --- Service --------------------------------------------------------------------------------

SERVICE = {"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}


def test_service() -> None:
    assert messages(build(Service, SERVICE)) == []
    assert messages(build(Service, {"metadata": SERVICE["metadata"], "spec": {"selector": {"app": "web"}}})) == ["spec.ports: Required value"]
    headless = {"metadata": SERVICE["metadata"], "spec": {"clusterIP": "None"}}
    assert messages(build(Service, headless)) == []
    external = {"metadata": SERVICE["metadata"], "spec": {"type": "ExternalName", "externalName": "example.com"}}
    assert messages(build(Service, external)) == []
    bad = {
        "metadata": {"name": "1web", "namespace": "default"},
        "spec": {"type": "Fancy", "ports": [{"port": 0, "protocol": "HTTP"}, {"port": 81, "name": "b"}]},
    }
    got = messages(build(Service, bad))
    assert got[0].startswith('metadata.name: Invalid value: "1web": a DNS-1035 label must consist')
    assert got[1:] == [
        "spec.ports[0].name: Required value",
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.type: Unsupported value: "Fancy": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]
    twice = {"metadata": SERVICE["metadata"], "spec": {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}}
    assert messages(build(Service, twice)) == [
        'spec.ports[1]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}'
    ]
    node_port = copy.deepcopy(SERVICE)
    node_port["spec"]["ports"][0]["nodePort"] = 30000
    assert messages(build(Service, node_port)) == ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]


def test_service_cluster_ip_is_immutable() -> None:
    doc = copy.deepcopy(SERVICE)
    doc["spec"]["clusterIP"] = "10.96.0.10"
    old = stored(build(Service, doc))
    assert messages(updated(old, lambda s: setattr(s.spec, "selector", {"app": "api"})), old) == []

    def move(svc: Any) -> None:
        svc.spec.clusterIP = "10.96.0.11"
        svc.spec.clusterIPs = ["10.96.0.11"]

    assert messages(updated(old, move), old) == ['spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set']


# --- ConfigMap, Secret, Namespace, Node, others ---------------------------------------------


def test_config_map_and_secret_keys() -> None:
    key_msg = (
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
        "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    )
    cm = build(ConfigMap, {"metadata": {"name": "c", "namespace": "ns"}, "data": {"a b": "1", "ok": "2"}})
    assert messages(cm) == [f'data[a b]: Invalid value: "a b": {key_msg}']
    secret = build(Secret, {"metadata": {"name": "s", "namespace": "ns"}, "data": {"a/b": "eA=="}})
    assert messages(secret) == [f'data[a/b]: Invalid value: "a/b": {key_msg}']
    tls = build(Secret, {"metadata": {"name": "s", "namespace": "ns"}, "type": "kubernetes.io/tls", "data": {}})
    assert messages(tls) == ["data[tls.crt]: Required value", "data[tls.key]: Required value"]


def test_immutable_config_map_and_secret_type() -> None:
    old = stored(build(ConfigMap, {"metadata": {"name": "c", "namespace": "ns"}, "data": {"a": "1"}, "immutable": True}))
    assert messages(updated(old, lambda c: setattr(c, "data", {"a": "2"})), old) == [
        "data: Forbidden: field is immutable when `immutable` is set"
    ]
    old_secret = stored(build(Secret, {"metadata": {"name": "s", "namespace": "ns"}}))
    assert messages(updated(old_secret, lambda s: setattr(s, "type", "kubernetes.io/basic-auth")), old_secret) == [
        'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
        "data[username]: Required value",
        "data[password]: Required value",
    ]


def test_namespace_and_node() -> None:
    assert messages(build(Namespace, {"metadata": {"name": "team-a"}})) == []
    assert messages(build(Namespace, {"metadata": {"name": "a.b"}})) == ['metadata.name: Invalid value: "a.b": must not contain dots']
    assert messages(build(Node, {"metadata": {"name": "n1", "namespace": "x"}})) == ["metadata.namespace: Forbidden: not allowed on this type"]
    node = build(Node, {"metadata": {"name": "n1"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}, {"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoSchedule"}]}})
    assert messages(node) == [
        'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
        'metadata.taints[2]: Duplicate value: {"Key":"k","Value":"","Effect":"NoSchedule","TimeAdded":null}: taints must be unique by key and effect pair',
    ]


def test_other_kinds_get_metadata_validation() -> None:
    lease = build(Lease, {"metadata": {"name": "Leader", "namespace": "kube-system"}, "spec": {"leaseDurationSeconds": 0}})
    assert messages(lease) == [
        f'metadata.name: Invalid value: "Leader": {DNS1123_SUBDOMAIN_MSG}',
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
    ]
    # RBAC names only need to be path segments; cluster-scoped kinds take no namespace.
    assert messages(build(ClusterRole, {"metadata": {"name": "system:Admin"}})) == []
    binding = build(RoleBinding, {"metadata": {"name": "b", "namespace": "ns"}, "roleRef": {"kind": "Foo", "name": "r"}, "subjects": [{"kind": "User", "name": "u"}]})
    assert messages(binding) == ['roleRef.kind: Unsupported value: "Foo": supported values: "Role", "ClusterRole"']


def test_validation_never_raises_on_junk() -> None:
    junk = Pod(metadata=ObjectMeta(name="p", namespace="ns"), spec=msgspec.convert({"containers": [{}], "volumes": [{}]}, PodSpec))
    assert isinstance(validate_object(junk), list)
    assert isinstance(validate_object(Pod()), list)
    assert isinstance(validate_object(Deployment()), list)


def test_field_error_is_a_value() -> None:
    assert required("a") == FieldError(ErrorType.REQUIRED, "a", "", "")


# --- Robustness: mutated objects never make validation or defaulting raise -------------------

_RICH_POD = {
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}, "annotations": {"a": "b"}, "finalizers": ["example.com/f"]},
    "spec": {
        "containers": [
            {
                "name": "app",
                "image": "nginx",
                "ports": [{"containerPort": 80, "name": "http", "hostPort": 8080}],
                "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "500m"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": "x"}],
                "livenessProbe": {"httpGet": {"port": "http"}},
                "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
            }
        ],
        "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
        "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 5}],
        "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["example.com"]},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "In", "values": ["a"]}]}]}}},
    },
}


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _put(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = value


def _mutations(base: dict[str, Any]) -> Any:
    from hypothesis import strategies as st

    leaves = _leaves(base)
    scalar = {
        str: st.text(alphabet="aZ09-._/:%@ \n*é", max_size=12) | st.sampled_from(["", "None", "Always", "-1", "1e3", "..", "a" * 70]),
        int: st.integers(min_value=-(2**40), max_value=2**40),
        bool: st.booleans(),
    }

    @st.composite
    def mutate(draw: Any) -> dict[str, Any]:
        doc = copy.deepcopy(base)
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            path, value = draw(st.sampled_from(leaves))
            _put(doc, path, draw(scalar[type(value)]))
        return doc

    return mutate()


def _robust(cls: type, base: dict[str, Any]) -> None:
    from hypothesis import given, settings

    stored_obj = stored(build(cls, base, uid="u1"))

    @settings(max_examples=60, deadline=None)
    @given(_mutations(msgspec.to_builtins(stored_obj)))
    def check(doc: dict[str, Any]) -> None:
        obj = msgspec.convert(doc, cls)
        default_object(obj)
        for err in validate_object(obj) + validate_object(obj, stored_obj):
            assert isinstance(str(err), str)

    check()


@pytest.mark.parametrize(
    ("cls", "base"),
    [
        (Pod, _RICH_POD),
        (Deployment, DEPLOYMENT),
        (DaemonSet, DEPLOYMENT),
        (StatefulSet, {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "serviceName": "web"}}),
        (Job, JOB),
        (Service, {**SERVICE, "spec": {**SERVICE["spec"], "type": "LoadBalancer", "clusterIP": "10.0.0.1", "externalIPs": ["1.2.3.4"]}}),
    ],
)
def test_mutated_objects_never_crash(cls: type, base: dict[str, Any]) -> None:
    _robust(cls, base)


def test_status_subresource_rules() -> None:
    pod = stored(build(Pod, {**POD, "spec": {**POD["spec"], "nodeName": "n1", "restartPolicy": "Never"}}))
    pod.status = msgspec.convert({"containerStatuses": [{"name": "app", "state": {"terminated": {"exitCode": 0}}}]}, PodStatus)
    moved = updated(pod, lambda p: setattr(p.spec, "nodeName", "n2"))
    assert validate_object(moved, pod, subresource="status") == [forbidden("status.nodeName", "may not be changed directly")]
    restarted = updated(pod, lambda p: setattr(p.status.containerStatuses[0], "state", ContainerState(running=ContainerStateRunning())))
    assert messages_status(restarted, pod) == ["status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state"]
    # the spec rules are not applied to status updates, and binding is not validated at all
    assert validate_object(moved, pod, subresource="binding") == []

    deployment = stored(build(Deployment, DEPLOYMENT))
    counted = updated(deployment, lambda d: setattr(d, "status", DeploymentStatus(replicas=1, readyReplicas=2, availableReplicas=-1)))
    assert messages_status(counted, deployment) == [
        "status.availableReplicas: Invalid value: -1: must be greater than or equal to 0",
        "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
    ]


def messages_status(obj: Any, old: Any) -> list[str]:
    return [str(e) for e in validate_object(obj, old, subresource="status")]


def test_request_kinds_storage_classes_and_crds() -> None:
    from kube_lite.api.apiextensions import CustomResourceDefinition
    from kube_lite.api.authorization import SelfSubjectAccessReview
    from kube_lite.api.core import Binding
    from kube_lite.api.storage import StorageClass

    # never-stored request kinds carry no name, and need none
    assert messages(build(SelfSubjectAccessReview, {"spec": {"resourceAttributes": {"verb": "get"}}})) == []
    assert messages(build(Binding, {"metadata": {"name": "p"}, "target": {"kind": "Pod", "name": "n"}})) == [
        'target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"'
    ]
    assert messages(build(StorageClass, {"metadata": {"name": "fast"}, "provisioner": "example.com/disk"})) == []
    assert messages(build(StorageClass, {"metadata": {"name": "fast"}})) == ["provisioner: Required value"]
    crd = {"metadata": {"name": "tabs.example.com"}, "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "crontabs", "kind": "CronTab"}}}
    assert messages(build(CustomResourceDefinition, crd)) == [
        'metadata.name: Invalid value: "tabs.example.com": must be spec.names.plural+"."+spec.group'
    ]
