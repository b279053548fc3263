"""apps/v1 and batch/v1 object model: complete against the kubernetes client, lossless on the
wire, and able to carry the seed documents' manifests."""

from __future__ import annotations

import json

import msgspec
import pytest
import yaml

from kube_lite.api.apps import (
    ControllerRevision,
    DaemonSet,
    Deployment,
    ReplicaSet,
    RollingUpdateDeployment,
    StatefulSet,
)
from kube_lite.api.base import Resource
from kube_lite.api.batch import CronJob, Job
from tests.unit.api.oracle import missing_fields, sample

KINDS: list[tuple[type[Resource], str]] = [
    (Deployment, "V1Deployment"),
    (ReplicaSet, "V1ReplicaSet"),
    (DaemonSet, "V1DaemonSet"),
    (StatefulSet, "V1StatefulSet"),
    (ControllerRevision, "V1ControllerRevision"),
    (Job, "V1Job"),
    (CronJob, "V1CronJob"),
]

# Client fields these kinds do not carry yet, as "<client model>.<json name>". Empty: every
# apps/v1 and batch/v1 field is modelled, the alpha JobSpec.scheduling included.
NOT_SUPPORTED_YET: set[str] = set()

# Fields the client types as `object` (IntOrString, RawExtension, empty marker objects), which
# `sample` leaves out unless given here; both int and string forms of IntOrString are used.
OVERRIDES: dict[str, object] = {
    "V1RollingUpdateDeployment.maxSurge": "25%",
    "V1RollingUpdateDeployment.maxUnavailable": 1,
    "V1RollingUpdateDaemonSet.maxSurge": 0,
    "V1RollingUpdateDaemonSet.maxUnavailable": "10%",
    "V1RollingUpdateStatefulSetStrategy.maxUnavailable": "50%",
    "V1ControllerRevision.data": {
        "spec": {"template": {"$patch": "replace", "spec": {"containers": [{"name": "a"}]}}}
    },
    "V1alpha3WorkloadPodGroupDisruptionMode.all": {},
    "V1alpha3WorkloadPodGroupSchedulingPolicy.basic": {},
    # core types reached through pod templates
    "V1HTTPGetAction.port": "http",
    "V1TCPSocketAction.port": 8080,
}


@pytest.mark.parametrize(("kind", "model"), KINDS, ids=[m for _, m in KINDS])
def test_kind_has_every_client_field(kind: type[Resource], model: str) -> None:
    assert set(missing_fields(kind, model)) <= NOT_SUPPORTED_YET


@pytest.mark.parametrize(("kind", "model"), KINDS, ids=[m for _, m in KINDS])
def test_sample_with_every_field_round_trips(kind: type[Resource], model: str) -> None:
    wire = sample(model, overrides=OVERRIDES)
    obj = msgspec.json.decode(json.dumps(wire).encode(), type=kind)
    assert json.loads(msgspec.json.encode(obj)) == wire


def test_registry_facts() -> None:
    facts = {(k.__name__, k.group, k.version, k.plural, k.namespaced) for k, _ in KINDS}
    assert facts == {
        ("Deployment", "apps", "v1", "deployments", True),
        ("ReplicaSet", "apps", "v1", "replicasets", True),
        ("DaemonSet", "apps", "v1", "daemonsets", True),
        ("StatefulSet", "apps", "v1", "statefulsets", True),
        ("ControllerRevision", "apps", "v1", "controllerrevisions", True),
        ("Job", "batch", "v1", "jobs", True),
        ("CronJob", "batch", "v1", "cronjobs", True),
    }


def test_int_or_string_keeps_its_wire_type() -> None:
    ru = msgspec.json.decode(b'{"maxSurge":"25%","maxUnavailable":0}', type=RollingUpdateDeployment)
    assert ru.maxSurge == "25%"
    assert ru.maxUnavailable == 0
    assert msgspec.json.encode(ru) == b'{"maxUnavailable":0,"maxSurge":"25%"}'


def test_null_and_unset_fields_are_not_written_back() -> None:
    raw = b'{"apiVersion":"batch/v1","kind":"Job","spec":{"suspend":null,"backoffLimit":0}}'
    job = msgspec.json.decode(raw, type=Job)
    assert job.spec is not None and job.spec.suspend is None and job.spec.backoffLimit == 0
    assert msgspec.json.encode(job) == b'{"apiVersion":"batch/v1","kind":"Job","spec":{"backoffLimit":0}}'


def test_controller_revision_data_is_opaque_json() -> None:
    raw = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "data": [1, "x", {"a": None}],
        "revision": 3,
    }
    rev = msgspec.convert(raw, type=ControllerRevision)
    assert rev.data == [1, "x", {"a": None}]
    assert msgspec.to_builtins(rev) == raw


# The seed documents' manifests (/work/shared/seeds). The scraped text lost its indentation, so
# each is re-indented here as the original file had it; otherwise verbatim, apiVersion included
# (the decoder does not interpret apiVersion), with the shell's $job_name substituted.
SEED_MANIFESTS: list[tuple[str, type[Resource], str]] = [
    (
        "000:215 daemonset-1.yaml",
        DaemonSet,
        """
apiVersion: extensions/v1beta1
kind: DaemonSet
metadata:
  name: echoserver
  labels:
    name: echoserver
spec:
  template:
    metadata:
      labels:
        name: echoserver
    spec:
      containers:
      - name: echoserver
        image: gcr.io/google_containers/echoserver:1.4
        ports:
        - containerPort: 8080
""",
    ),
    (
        "000:272 daemonset-2.yaml",
        DaemonSet,
        """
apiVersion: extensions/v1beta1
kind: DaemonSet
metadata:
  name: echoserver
  labels:
    name: echoserver
spec:
  template:
    metadata:
      labels:
        name: echoserver
    spec:
      tolerations: # Add these 3 lines to define a new toleration
      - key: node-role.kubernetes.io/master # The 'tolerations' key should be in the pod's spec
        operator: Exists # With the same indentation as, for example, the 'containers' key
      containers:
      - name: echoserver
        image: gcr.io/google_containers/echoserver:1.4
        ports:
        - containerPort: 8080
""",
    ),
    (
        "000:310 web-cache.yaml",
        Deployment,
        """
apiVersion: apps/v1beta1
kind: Deployment
metadata:
  name: web-cache
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app: web-cache
    spec:
      containers:
      - name: redis-server
        image: redis:3.2-alpine
""",
    ),
    (
        "000:332 web-server.yaml",
        Deployment,
        """
apiVersion: apps/v1beta1
kind: Deployment
metadata:
  name: web-server
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app: web-server
    spec:
      affinity:
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchExpressions:
              - key: cache
                operator: In
                values:
                - active
            topologyKey: "kubernetes.io/hostname"
      containers:
      - name: echoserver
        image: gcr.io/google_containers/echoserver:1.4
""",
    ),
    (
        "002:129 nginx-deploy.yaml",
        Deployment,
        """
apiVersion: apps/v1beta1
kind: Deployment
metadata:
  name: nginx
spec:
  replicas: 3
  template:
    metadata:
      labels:
        run: nginx
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
""",
    ),
    (
        "001:264 hello.yml",
        Job,
        """
apiVersion: batch/v1
kind: Job
metadata:
  name: hello
spec:
  template:
    spec:
      containers:
      - name: hello
        image: busybox
        command: ["echo", "Hello, World!"]
      restartPolicy: OnFailure
""",
    ),
    (
        "001:289 sleep-parallel.yml",
        Job,
        """
apiVersion: batch/v1
kind: Job
metadata:
  name: sleep-parallel
spec:
  completions: 6
  parallelism: 2
  template:
    spec:
      containers:
      - name: sleep
        image: busybox
        command: ["sleep", "60"]
      restartPolicy: Never
""",
    ),
    (
        "001:314 cronjob",
        CronJob,
        """
apiVersion: batch/v1
kind: CronJob
metadata:
  name: project-crontjob
spec:
  schedule: "*/1 * * * *" # Cron format for the schedule
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox
            command: ["echo", "Hello, World!"]
          restartPolicy: OnFailure
""",
    ),
    (
        "001:343 replicaset",
        ReplicaSet,
        """
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: my-replicaset
spec:
  replicas: 3
  selector:
    matchLabels:
      app: my-app
  template:
    metadata:
      labels:
        app: my-app
    spec:
      containers:
      - name: my-container
        image: my-image:latest
""",
    ),
]


@pytest.mark.parametrize(
    ("kind", "text"), [(k, t) for _, k, t in SEED_MANIFESTS], ids=[s for s, _, _ in SEED_MANIFESTS]
)
def test_seed_manifest_round_trips(kind: type[Resource], text: str) -> None:
    doc = yaml.safe_load(text)
    assert doc["kind"] == kind.__name__
    obj = msgspec.convert(doc, type=kind)
    assert msgspec.to_builtins(obj) == doc


# 004:258 as the seed indents it: the pod template's `spec` sits inside its `metadata`, where
# ObjectMeta has no such field. Like Kubernetes (field validation Ignore/Warn), decoding drops
# the unknown field rather than failing, so the object written back has no pod spec.
SEED_REPLICASET_MISINDENTED = """
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: myapp-replicaset
  labels:
    app: myapp
    type: front-end
spec:
  template:
    metadata:
      name: myapp-pod
      labels:
        app: myapp
        type: front-end
      spec:
        containers:
        -  name: nginx-container
           image: nginx
  replicas: 3
  selector:
    matchLabels:
      type: front-end
"""


def test_seed_replicaset_unknown_field_is_dropped() -> None:
    doc = yaml.safe_load(SEED_REPLICASET_MISINDENTED)
    rs = msgspec.convert(doc, type=ReplicaSet)
    assert rs.spec is not None and rs.spec.template is not None
    assert rs.spec.template.spec is None
    del doc["spec"]["template"]["metadata"]["spec"]
    assert msgspec.to_builtins(rs) == doc
