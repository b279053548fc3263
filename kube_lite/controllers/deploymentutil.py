"""The arithmetic of Deployments, on plain decoded objects: no I/O, no clock of its own.

The Deployment controller (kube_lite.controllers.deployment) is built on these helpers, and
so is anything that must read a rollout the way Kubernetes does: which ReplicaSet is the new
one, what revision comes next, how far a rolling update may surge or fall short, how a scaled
Deployment's replicas are shared out among its ReplicaSets, what the status and conditions say.

Objects are dicts as the API serves them and are never modified unless a function says so
(the `set_*` ones change the dict they are given and say whether they changed anything).
Times are RFC 3339 strings with second precision, as Kubernetes writes them.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

Object = dict[str, Any]

# ------------------------------------------------------------------ names Kubernetes uses

POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"

# Annotations of a Deployment that are its own and never copied to its ReplicaSets.
SKIP_COPY_ANNOTATIONS = frozenset({
    LAST_APPLIED_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    ROLLBACK_TO_ANNOTATION,
})

# The revision-history annotation is kept under this many characters.
MAX_REV_HISTORY_LENGTH = 2000

ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"

# Condition types and reasons.
AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"

MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"

MIN_AVAILABLE_MESSAGE = "Deployment has minimum availability."
MIN_UNAVAILABLE_MESSAGE = "Deployment does not have minimum availability."

# A Deployment field set to this (math.MaxInt32) counts as unset: no deadline, no limit.
MAX_INT32 = 2**31 - 1

# ------------------------------------------------------------------ small accessors


def meta(obj: Object | None) -> Object:
    return (obj or {}).get("metadata") or {}


def spec(obj: Object | None) -> Object:
    return (obj or {}).get("spec") or {}


def status(obj: Object | None) -> Object:
    return (obj or {}).get("status") or {}


def annotations(obj: Object | None) -> dict[str, str]:
    return meta(obj).get("annotations") or {}


def uid(obj: Object | None) -> str:
    return meta(obj).get("uid") or ""


def replicas(obj: Object | None) -> int:
    """spec.replicas of a Deployment or ReplicaSet (the API server defaults it to 1)."""
    if obj is None:
        return 0
    value = spec(obj).get("replicas")
    return 1 if value is None else int(value)


def status_int(obj: Object | None, field: str) -> int:
    return int(status(obj).get(field) or 0)


def controller_ref(obj: Object | None) -> Object | None:
    """The ownerReference with controller: true, if any."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_rolling_update(deployment: Object) -> bool:
    return strategy_type(deployment) == ROLLING_UPDATE


def strategy_type(deployment: Object) -> str:
    return (spec(deployment).get("strategy") or {}).get("type") or ROLLING_UPDATE


def has_progress_deadline(deployment: Object) -> bool:
    value = spec(deployment).get("progressDeadlineSeconds")
    return value is not None and value != MAX_INT32


def has_revision_history_limit(deployment: Object) -> bool:
    value = spec(deployment).get("revisionHistoryLimit")
    return value is not None and value != MAX_INT32


# ------------------------------------------------------------------ the pod-template hash

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(text: str) -> str:
    """Map each character to the alphabet Kubernetes uses for generated names (no vowels,
    no 0/1/3, so that no word is spelt by accident)."""
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def fnv32a(data: bytes, value: int = 0x811C9DC5) -> int:
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def compute_hash(template: Object, collision_count: int | None = None) -> str:
    """The pod-template-hash of a pod template: FNV-1a (32 bits) of its canonical JSON, then of
    the collision count (little-endian, 8 bytes) when there is one, rendered in decimal and
    safe-encoded, as Kubernetes renders its own hash. Equal templates hash alike; a changed
    collision count gives a new name to a template whose name was taken."""
    digest = fnv32a(json.dumps(_normalized(template), sort_keys=True, separators=(",", ":")).encode())
    if collision_count is not None:
        digest = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(8, "little"), digest)
    return safe_encode(str(digest))


def _normalized(value: Any) -> Any:
    """A value with empty maps, empty lists and nulls dropped from maps: what Go's semantic
    equality does not tell apart (nil and empty are equal) must not tell templates apart."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _normalized(item)
            if item is None or item == {} or item == []:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def template_without_hash(template: Object | None) -> Object:
    """A normalized copy of a pod template without the pod-template-hash label (a copy:
    `_normalized` builds new maps and lists all the way down)."""
    out = _normalized(template or {})
    labels = (out.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
        if not labels:
            del out["metadata"]["labels"]
            if not out["metadata"]:
                del out["metadata"]
    return out


# template_without_hash of the templates compared lately, by identity: a sync compares the
# Deployment's template with every ReplicaSet's, several times, and the cached objects (which
# are never changed in place) stay the same objects from one sync to the next. Each entry holds
# its template, so that an id is not reused while it is remembered.
_COMPARABLE_KEPT = 512
_comparable: dict[int, tuple[Object, Object]] = {}


def _comparable_template(template: Object | None) -> Object:
    if template is None:
        return {}
    entry = _comparable.get(id(template))
    if entry is not None and entry[0] is template:
        return entry[1]
    out = template_without_hash(template)
    if len(_comparable) >= _COMPARABLE_KEPT:
        del _comparable[next(iter(_comparable))]
    _comparable[id(template)] = (template, out)
    return out


def equal_ignore_hash(a: Object | None, b: Object | None) -> bool:
    """Whether two pod templates are the same but for the pod-template-hash label. The
    templates must not be changed in place afterwards (what cached objects promise)."""
    return _comparable_template(a) == _comparable_template(b)


# ------------------------------------------------------------------ ordering


def _created(obj: Object) -> str:
    return meta(obj).get("creationTimestamp") or ""


def by_creation(rss: Iterable[Object]) -> list[Object]:
    """Oldest first; same second: by name."""
    return sorted(rss, key=lambda rs: (_created(rs), meta(rs).get("name") or ""))


def by_size_newer(rss: Iterable[Object]) -> list[Object]:
    """Largest first; same size: newest first."""
    ordered = sorted(rss, key=lambda rs: (_created(rs), meta(rs).get("name") or ""), reverse=True)
    return sorted(ordered, key=lambda rs: -replicas(rs))


def by_size_older(rss: Iterable[Object]) -> list[Object]:
    """Largest first; same size: oldest first."""
    return sorted(by_creation(rss), key=lambda rs: -replicas(rs))


def by_revision(rss: Iterable[Object]) -> list[Object]:
    """Lowest revision first; same revision: oldest first."""
    return sorted(by_creation(rss), key=lambda rs: revision(rs) or 0)


# ------------------------------------------------------------------ finding ReplicaSets


def filter_active(rss: Iterable[Object | None]) -> list[Object]:
    """The ReplicaSets that want pods (spec.replicas > 0)."""
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]


def find_new_rs(deployment: Object, rss: Sequence[Object]) -> Object | None:
    """The oldest ReplicaSet whose template is the Deployment's (the hash label aside)."""
    template = spec(deployment).get("template")
    for rs in by_creation(rss):
        if equal_ignore_hash(spec(rs).get("template"), template):
            return rs
    return None


def find_old_rss(deployment: Object, rss: Sequence[Object]) -> list[Object]:
    """Every ReplicaSet but the new one."""
    new_rs = find_new_rs(deployment, rss)
    return [rs for rs in rss if new_rs is None or uid(rs) != uid(new_rs)]


def find_active_or_latest(new_rs: Object | None, old_rss: Sequence[Object]) -> Object | None:
    """The one ReplicaSet with replicas, or the newest if none has any; None when several do."""
    if new_rs is None and not old_rss:
        return None
    old_newest_first = list(reversed(by_creation(old_rss)))
    active = filter_active([*old_newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else old_newest_first[0]
    if len(active) == 1:
        return active[0]
    return None


def total_spec_replicas(rss: Iterable[Object | None]) -> int:
    return sum(replicas(rs) for rs in rss if rs is not None)


def total_status(rss: Iterable[Object | None], field: str) -> int:
    return sum(status_int(rs, field) for rs in rss if rs is not None)


# ------------------------------------------------------------------ revisions


def revision(obj: Object | None) -> int | None:
    """The revision annotation as a number: 0 when absent, None when it is not a number."""
    value = annotations(obj).get(REVISION_ANNOTATION)
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        return None


def max_revision(rss: Iterable[Object]) -> int:
    return max((r for r in (revision(rs) for rs in rss) if r is not None), default=0)


def set_deployment_revision(deployment: Object, value: str) -> bool:
    """Write the revision annotation on the Deployment; whether it changed."""
    notes = deployment.setdefault("metadata", {}).setdefault("annotations", {})
    if notes.get(REVISION_ANNOTATION) == value:
        return False
    notes[REVISION_ANNOTATION] = value
    return True


def copy_annotations(deployment: Object, rs: Object) -> bool:
    """Copy the Deployment's annotations (but its own) onto the ReplicaSet; whether any changed.
    Annotations the ReplicaSet has and the Deployment has not are left alone."""
    notes = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in annotations(deployment).items():
        if key in SKIP_COPY_ANNOTATIONS or notes.get(key) == value:
            continue
        notes[key] = value
        changed = True
    return changed


def set_replicas_annotations(rs: Object, desired: int, max_replicas: int) -> bool:
    """Write desired-replicas and max-replicas on the ReplicaSet; whether either changed."""
    notes = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS_ANNOTATION, str(desired)), (MAX_REPLICAS_ANNOTATION, str(max_replicas))):
        if notes.get(key) != value:
            notes[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Object, desired: int, max_replicas: int) -> bool:
    notes = annotations(rs)
    return notes.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or notes.get(MAX_REPLICAS_ANNOTATION) != str(max_replicas)


def set_new_rs_annotations(deployment: Object, rs: Object, new_revision: str, exists: bool,
                           history_limit: int = MAX_REV_HISTORY_LENGTH) -> bool:
    """Bring the new ReplicaSet's annotations up to date: the Deployment's own, the revision
    (only ever raised: a ReplicaSet that comes back into use keeps its earlier revisions in
    revision-history, oldest first, within `history_limit` characters) and, for a ReplicaSet
    about to be created, desired-replicas and max-replicas. Returns whether anything changed."""
    changed = copy_annotations(deployment, rs)
    notes = rs["metadata"]["annotations"]
    old_value = notes.get(REVISION_ANNOTATION)
    try:
        old_rev = int(old_value) if old_value is not None else 0
    except ValueError:
        return False
    if old_value == "":
        old_rev = 0
    try:
        new_rev = int(new_revision)
    except ValueError:
        return False
    if old_rev < new_rev:
        notes[REVISION_ANNOTATION] = new_revision
        changed = True
        if old_value is not None:
            history = notes.get(REVISION_HISTORY_ANNOTATION) or ""
            if not history:
                notes[REVISION_HISTORY_ANNOTATION] = old_value
            else:
                entries = history.split(",")
                total = len(history) + len(old_value) + 1
                start = 0
                while total > history_limit and start < len(entries):
                    total -= len(entries[start]) + 1
                    start += 1
                if total <= history_limit:
                    notes[REVISION_HISTORY_ANNOTATION] = ",".join([*entries[start:], old_value])
    if not exists:
        want = replicas(deployment)
        if set_replicas_annotations(rs, want, want + max_surge(deployment)):
            changed = True
    return changed


def desired_replicas_annotation(rs: Object) -> int | None:
    try:
        return int(annotations(rs)[DESIRED_REPLICAS_ANNOTATION])
    except (KeyError, ValueError):
        return None


def max_replicas_annotation(rs: Object) -> int | None:
    try:
        return int(annotations(rs)[MAX_REPLICAS_ANNOTATION])
    except (KeyError, ValueError):
        return None


# ------------------------------------------------------------------ surge and unavailability


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """An int-or-percent against `total`: an int as is, "25%" of total rounded up or down.
    Raises ValueError for a string that is not a percentage."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    try:
        percent = int(text[:-1])
    except ValueError:
        raise ValueError(f"invalid value {text!r}: must be an integer percentage") from None
    exact = percent * total
    return -(-exact // 100) if round_up else exact // 100


def resolve_fenceposts(max_surge_value: int | str | None, max_unavailable_value: int | str | None,
                       desired: int) -> tuple[int, int]:
    """(surge, unavailable) for `desired` replicas: surge rounds up, unavailable down; when
    both come to 0 unavailable is 1, so that a rollout can always move."""
    surge = scaled_value(max_surge_value if max_surge_value is not None else 0, desired, True)
    unavailable = scaled_value(max_unavailable_value if max_unavailable_value is not None else 0, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling(deployment: Object) -> Object:
    return (spec(deployment).get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(deployment: Object) -> int:
    """How many pods above spec.replicas a rolling update may run (0 for Recreate)."""
    if not is_rolling_update(deployment):
        return 0
    rolling = _rolling(deployment)
    surge, _ = resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), replicas(deployment))
    return surge


def max_unavailable(deployment: Object) -> int:
    """How many pods below spec.replicas a rolling update may be (0 for Recreate), never more
    than spec.replicas."""
    want = replicas(deployment)
    if not is_rolling_update(deployment) or want == 0:
        return 0
    rolling = _rolling(deployment)
    _, unavailable = resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), want)
    return min(unavailable, want)


def new_rs_new_replicas(deployment: Object, all_rss: Sequence[Object | None], new_rs: Object) -> int:
    """How many replicas the new ReplicaSet may have now: as many as the surge allows, up to
    spec.replicas (RollingUpdate); spec.replicas (Recreate). Raises ValueError for an unknown
    strategy."""
    kind = strategy_type(deployment)
    want = replicas(deployment)
    if kind == ROLLING_UPDATE:
        surge = scaled_value(_rolling(deployment).get("maxSurge"), want, True)
        current = total_spec_replicas(all_rss)
        ceiling = want + surge
        if current >= ceiling:
            return replicas(new_rs)
        return replicas(new_rs) + min(ceiling - current, want - replicas(new_rs))
    if kind == RECREATE:
        return want
    raise ValueError(f"deployment type {kind} isn't supported")


def is_saturated(deployment: Object, rs: Object | None) -> bool:
    """Whether `rs` has all the Deployment's replicas, all available, and knows it should."""
    if rs is None:
        return False
    desired = desired_replicas_annotation(rs)
    want = replicas(deployment)
    return desired is not None and replicas(rs) == want and desired == want and status_int(rs, "availableReplicas") == want


# ------------------------------------------------------------------ proportional scaling


def _round_half_away(value: float) -> int:
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


def rs_fraction(rs: Object, deployment: Object) -> int:
    """How many replicas `rs` should gain (or lose, negative) for its share of the new size:
    its size times new-max over the max it was sized for (max-replicas annotation)."""
    want = replicas(deployment)
    if want == 0:
        return -replicas(rs)
    deployment_max = want + max_surge(deployment)
    annotated = max_replicas_annotation(rs)
    if annotated is None:
        annotated = status_int(deployment, "replicas")
    if annotated == 0:
        return 0
    return _round_half_away(replicas(rs) * deployment_max / annotated) - replicas(rs)


def proportion(rs: Object | None, deployment: Object, to_add: int, added: int) -> int:
    """The part of `to_add` (replicas to add, or remove when negative) that `rs` takes, given
    `added` already handed out: its fraction, clamped to what is left."""
    if rs is None or replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = rs_fraction(rs, deployment)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


# ------------------------------------------------------------------ conditions


def format_time(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    try:
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def new_condition(type_: str, status_: str, reason: str, message: str, now: str) -> Object:
    return {"type": type_, "status": status_, "lastUpdateTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}


def get_condition(deployment_status: Object, type_: str) -> Object | None:
    for cond in deployment_status.get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def set_condition(deployment_status: Object, condition: Object) -> None:
    """Put `condition` in the status (last), unless one of its type with the same status and
    reason is there already; a condition whose status does not change keeps its
    lastTransitionTime."""
    current = get_condition(deployment_status, condition["type"])
    if current is not None and current.get("status") == condition["status"] and current.get("reason") == condition["reason"]:
        return
    condition = dict(condition)
    if current is not None and current.get("status") == condition["status"]:
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    others = [c for c in deployment_status.get("conditions") or [] if c.get("type") != condition["type"]]
    deployment_status["conditions"] = [*others, condition]


def remove_condition(deployment_status: Object, type_: str) -> None:
    conditions = [c for c in deployment_status.get("conditions") or [] if c.get("type") != type_]
    if conditions:
        deployment_status["conditions"] = conditions
    else:
        deployment_status.pop("conditions", None)


def rs_to_deployment_condition(cond: Object) -> Object:
    return {"type": cond.get("type"), "status": cond.get("status"),
            "lastUpdateTime": cond.get("lastTransitionTime"), "lastTransitionTime": cond.get("lastTransitionTime"),
            "reason": cond.get("reason"), "message": cond.get("message")}


# ------------------------------------------------------------------ status and progress


def calculate_status(all_rss: Sequence[Object | None], new_rs: Object | None, deployment: Object, now: str) -> Object:
    """The Deployment's status from its ReplicaSets: counts, observedGeneration, the
    collisionCount it had, its conditions with Available brought up to date. Zero counts are
    left out, as the API leaves them out; terminatingReplicas (a pointer in Kubernetes) is there,
    0 included, when every ReplicaSet reports its own."""
    rss = [rs for rs in all_rss if rs is not None]
    available = total_status(rss, "availableReplicas")
    unavailable = max(total_spec_replicas(rss) - available, 0)
    old = status(deployment)
    out: Object = {}
    fields = (
        ("observedGeneration", int(meta(deployment).get("generation") or 0)),
        ("replicas", total_status(rss, "replicas")),
        ("updatedReplicas", status_int(new_rs, "replicas") if new_rs is not None else 0),
        ("readyReplicas", total_status(rss, "readyReplicas")),
        ("availableReplicas", available),
        ("unavailableReplicas", unavailable),
    )
    for name, value in fields:
        if value:
            out[name] = value
    terminating = [status(rs).get("terminatingReplicas") for rs in rss]
    if rss and all(t is not None for t in terminating):
        # Counted only when every ReplicaSet counts its own (DeploymentReplicaSetTerminatingReplicas).
        out["terminatingReplicas"] = sum(int(t) for t in terminating)
    if old.get("collisionCount") is not None:
        out["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        out["conditions"] = [dict(c) for c in old["conditions"]]
    if available >= replicas(deployment) - max_unavailable(deployment):
        set_condition(out, new_condition(AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE, MIN_AVAILABLE_MESSAGE, now))
    else:
        set_condition(out, new_condition(AVAILABLE, "False", MINIMUM_REPLICAS_UNAVAILABLE, MIN_UNAVAILABLE_MESSAGE, now))
    return out


def deployment_complete(deployment: Object, new_status: Object) -> bool:
    """Every replica updated and available, none old, and the latest spec observed."""
    want = replicas(deployment)
    return (
        int(new_status.get("updatedReplicas") or 0) == want
        and int(new_status.get("replicas") or 0) == want
        and int(new_status.get("availableReplicas") or 0) == want
        and int(new_status.get("observedGeneration") or 0) >= int(meta(deployment).get("generation") or 0)
    )


def deployment_progressing(deployment: Object, new_status: Object) -> bool:
    """Whether the new status shows progress over the stored one: more updated, ready or
    available replicas, or fewer old ones."""
    old = status(deployment)

    def get(s: Object, f: str) -> int:
        return int(s.get(f) or 0)

    old_old = get(old, "replicas") - get(old, "updatedReplicas")
    new_old = get(new_status, "replicas") - get(new_status, "updatedReplicas")
    return (
        get(new_status, "updatedReplicas") > get(old, "updatedReplicas")
        or new_old < old_old
        or get(new_status, "readyReplicas") > get(old, "readyReplicas")
        or get(new_status, "availableReplicas") > get(old, "availableReplicas")
    )


def deployment_timed_out(deployment: Object, new_status: Object, now: _dt.datetime) -> bool:
    """Whether the Progressing condition was last updated more than progressDeadlineSeconds
    ago (never once the rollout completed; always once it timed out)."""
    if not has_progress_deadline(deployment):
        return False
    cond = get_condition(new_status, PROGRESSING)
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE_REASON:
        return False
    if cond.get("reason") == TIMED_OUT_REASON:
        return True
    updated = parse_time(cond.get("lastUpdateTime"))
    if updated is None:
        return False
    deadline = updated + _dt.timedelta(seconds=int(spec(deployment)["progressDeadlineSeconds"]))
    return deadline < now
