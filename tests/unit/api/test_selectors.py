"""Label and field selectors: syntax, semantics and Kubernetes' exact error text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kube_lite.api.meta import LabelSelector as LabelSelectorStruct
from kube_lite.api.meta import LabelSelectorRequirement
from kube_lite.api.selectors import (
    EVERYTHING,
    FIELD_EVERYTHING,
    NOTHING,
    FieldError,
    Requirement,
    SelectorError,
    convert_field_selector,
    custom_resource_field_policy,
    escape_field_value,
    field_label_policy,
    format_label_selector,
    format_labels,
    from_label_selector,
    is_label_key,
    is_label_value,
    object_fields,
    parse_field_selector,
    parse_label_selector,
    selector_from_set,
    supports_field_label,
    unescape_field_value,
    validate_label_selector,
)

KEY_REGEX_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_REGEX_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


# --- label selector strings ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5", "x==a"],
)
def test_good_strings_render_back_without_spaces(text: str) -> None:
    assert str(parse_label_selector(text)) == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("x=a,a=x", "a=x,x=a"),
        ("  app = web ,  tier  in ( be , fe , fe )  ", "app=web,tier in (be,fe)"),
        ("z notin (b,a),y,!w", "!w,y,z notin (a,b)"),
        ("x in (abc,def),y notin (jkl),z", "x in (abc,def),y notin (jkl),z"),
        ("z notin ()", "z notin ()"),
        ("x in (,a)", "x in (,a)"),
        ("x in (a,,b)", "x in (,a,b)"),
        ("x in (a,)", "x in (,a)"),
        ("example.com/app-name=web", "example.com/app-name=web"),
        ("x > 10", "x>10"),
    ],
)
def test_canonical_form_sorts_keys_and_values(text: str, rendered: str) -> None:
    assert str(parse_label_selector(text)) == rendered


def test_in_and_notin_are_identifiers_outside_operator_position() -> None:
    sel = parse_label_selector("in in (in,notin),notin=in")
    assert str(sel) == "in in (in,notin),notin=in"
    assert sel.matches({"in": "notin", "notin": "in"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("x=a)", "found ')', expected: ',' or 'end of string'"),
        ("x=a b", "found 'b', expected: ',' or 'end of string'"),
        ("x,", "found '', expected: identifier after ','"),
        ("x,,y", "found ',', expected: identifier after ','"),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
        (",x", "found ',', expected: !, identifier, or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("x in a", "unable to parse requirement: found 'a' expected: '('"),
        ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        ("x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("x=(", "unable to parse requirement: found '(', expected: identifier"),
        (
            "x<a",
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        ("app:monolith", f'unable to parse requirement: <nil>: Invalid value: "app:monolith": name part {KEY_REGEX_MSG}'),
        ("x=-a", f'unable to parse requirement: values[0][x]: Invalid value: "-a": {VALUE_REGEX_MSG}'),
        ("x=a||y=b", f'unable to parse requirement: values[0][x]: Invalid value: "a||y": {VALUE_REGEX_MSG}'),
        (
            "app.kubernetes_io/name=x",
            'unable to parse requirement: <nil>: Invalid value: "app.kubernetes_io/name": prefix part a lowercase '
            "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and "
            "end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
        (
            "a/b/c",
            'unable to parse requirement: <nil>: Invalid value: "a/b/c": a valid label key '
            + KEY_REGEX_MSG
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ),
    ],
)
def test_bad_strings_give_kubernetes_messages(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_label_selector(text)
    assert str(err.value) == message


def test_long_value_reports_both_problems_joined_by_semicolon() -> None:
    with pytest.raises(SelectorError) as err:
        parse_label_selector("x=" + "a" * 63 + "-")
    assert str(err.value) == (
        'unable to parse requirement: values[0][x]: Invalid value: "' + "a" * 63 + '-": '
        "must be no more than 63 bytes; " + VALUE_REGEX_MSG
    )


def test_key_validation_messages() -> None:
    assert is_label_key("app") == []
    assert is_label_key("example.com/app") == []
    assert is_label_key("/app") == ["prefix part must be non-empty"]
    assert is_label_key("a/") == ["name part must be non-empty", "name part " + KEY_REGEX_MSG]
    assert is_label_key("a" * 64) == ["name part must be no more than 63 bytes"]
    assert is_label_value("") == []
    assert is_label_value("a\n") == [VALUE_REGEX_MSG]


# --- matching ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("", {}, True),
        ("x=a", {"x": "a"}, True),
        ("x=a", {"x": "b"}, False),
        ("x=a", {}, False),
        ("x==a", {"x": "a"}, True),
        ("x!=a", {"x": "b"}, True),
        ("x!=a", {}, True),
        ("x!=a", {"x": "a"}, False),
        ("x in (a,b)", {"x": "b"}, True),
        ("x in (a,b)", {"x": "c"}, False),
        ("x in (a,b)", {}, False),
        ("x notin (a,b)", {}, True),
        ("x notin (a,b)", {"x": "a"}, False),
        ("x in ()", {"x": ""}, True),
        ("x=", {"x": ""}, True),
        ("x=", {}, False),
        ("x", {"x": ""}, True),
        ("x", {}, False),
        ("!x", {}, True),
        ("!x", {"x": "a"}, False),
        ("x>1", {"x": "2"}, True),
        ("x>1", {"x": "1"}, False),
        ("x>1", {"x": "+2"}, True),
        ("x<1", {"x": "-3"}, True),
        ("x>1", {"x": "two"}, False),
        ("x>1", {"x": "2.5"}, False),
        ("x>1", {}, False),
        ("x>1", {"x": str(2**63)}, False),
        ("x=a,y=b", {"x": "a", "y": "b", "z": "c"}, True),
        ("x=a,y=b", {"x": "a"}, False),
    ],
)
def test_matching(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


def test_everything_nothing_and_empty() -> None:
    assert EVERYTHING.matches(None) and EVERYTHING.empty and str(EVERYTHING) == ""
    assert not NOTHING.matches({}) and not NOTHING.empty and str(NOTHING) == ""
    assert parse_label_selector("") == EVERYTHING
    assert NOTHING.add(Requirement("a", "exists")) is NOTHING


def test_matches_object_reads_metadata_labels() -> None:
    sel = parse_label_selector("app=web")
    assert sel.matches_object({"metadata": {"labels": {"app": "web"}}})
    assert not sel.matches_object({"metadata": {}})


def test_introspection_for_watch_cache_indexes() -> None:
    sel = parse_label_selector("app=web,tier in (fe),env in (a,b),!canary,x!=y")
    assert sel.label_keys == {"app", "tier", "env", "canary", "x"}
    assert sel.requires_exact_match("app") == "web"
    assert sel.requires_exact_match("tier") == "fe"
    assert sel.requires_exact_match("env") is None
    assert sel.requires_exact_match("x") is None
    assert sel.requires_exact_match("missing") is None


def test_selectors_are_hashable_values() -> None:
    assert parse_label_selector("b=1,a=2") == parse_label_selector("a=2, b=1")
    assert len({parse_label_selector("a=1"), parse_label_selector("a==1"), parse_label_selector("a = 1")}) == 2


def test_requirement_new_validates() -> None:
    with pytest.raises(SelectorError) as err:
        Requirement.new("a", "bogus", ["x"])
    assert str(err.value) == (
        'operator: Unsupported value: "bogus": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"'
    )
    with pytest.raises(SelectorError) as err:
        Requirement.new("a", "=", ["x", "y"])
    assert str(err.value) == "values: Invalid value: [\"x\",\"y\"]: exact-match compatibility requires one single value"
    assert str(Requirement.new("a", "gt", ["5"])) == "a>5"


# --- structured selectors ----------------------------------------------------------------


def test_nil_structured_selector_selects_nothing_and_empty_everything() -> None:
    assert from_label_selector(None) is NOTHING
    assert from_label_selector({}) is EVERYTHING
    assert from_label_selector({"matchLabels": {}, "matchExpressions": []}) is EVERYTHING


def test_structured_selector_matches_and_renders() -> None:
    sel = from_label_selector(
        {
            "matchLabels": {"app": "web", "a": "1"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["x"]},
                {"key": "env", "operator": "Exists"},
            ],
        }
    )
    assert str(sel) == "a=1,app=web,!canary,env,tier in (be,fe),zone notin (x)"
    assert sel.matches({"a": "1", "app": "web", "tier": "be", "env": "p"})
    assert not sel.matches({"a": "1", "app": "web", "tier": "be", "env": "p", "canary": "y"})


def test_structured_selector_accepts_msgspec_structs() -> None:
    struct = LabelSelectorStruct(
        matchLabels={"app": "web"},
        matchExpressions=[LabelSelectorRequirement(key="tier", operator="In", values=["fe"])],
    )
    assert str(from_label_selector(struct)) == "app=web,tier in (fe)"


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "Foo"}]}, '"Foo" is not a valid label selector operator'),
        (
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
        ),
        ({"matchLabels": {"a b": "c"}}, f'key: Invalid value: "a b": name part {KEY_REGEX_MSG}'),
        ({"matchLabels": {"a": "c d"}}, f'values[0][a]: Invalid value: "c d": {VALUE_REGEX_MSG}'),
    ],
)
def test_structured_selector_conversion_errors(selector: dict, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        from_label_selector(selector)
    assert str(err.value) == message


def test_validate_label_selector_field_errors() -> None:
    errors = validate_label_selector(
        {
            "matchLabels": {"ok": "bad value"},
            "matchExpressions": [
                {"key": "a", "operator": "In"},
                {"key": "b", "operator": "Exists", "values": ["x"]},
                {"key": "c", "operator": "Foo"},
                {"key": "Bad Key", "operator": "NotIn", "values": ["-x"]},
            ],
        },
        "spec.selector",
    )
    assert [str(e) for e in errors] == [
        f'spec.selector.matchLabels: Invalid value: "bad value": {VALUE_REGEX_MSG}',
        "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'spec.selector.matchExpressions[2].operator: Invalid value: "Foo": not a valid selector operator',
        f'spec.selector.matchExpressions[3].key: Invalid value: "Bad Key": name part {KEY_REGEX_MSG}',
        f'spec.selector.matchExpressions[3].values[0]: Invalid value: "-x": {VALUE_REGEX_MSG}',
    ]
    assert errors[1].cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "field": "spec.selector.matchExpressions[0].values",
    }
    assert validate_label_selector(None) == []
    assert validate_label_selector({"matchExpressions": [{"key": "a", "operator": "In", "values": ["-"]}]},
                                   allow_invalid_label_value=True) == []


def test_field_error_renders_values_like_go() -> None:
    assert str(FieldError("FieldValueInvalid", "f", 'a"b\n')) == 'f: Invalid value: "a\\"b\\n"'
    assert str(FieldError("FieldValueInvalid", "f", 3, "too big")) == "f: Invalid value: 3: too big"
    assert str(FieldError("FieldValueInvalid", "f", ["<a>"])) == 'f: Invalid value: ["\\u003ca\\u003e"]'


# --- formatting helpers used by the printers -------------------------------------------------


def test_format_labels_sorts_whole_pairs() -> None:
    assert format_labels(None) == "<none>"
    assert format_labels({}) == "<none>"
    # Kubernetes sorts the "k=v" strings, so "a.b=2" ('.' < '=') comes before "a=1".
    assert format_labels({"a": "1", "a.b": "2", "b": "0"}) == "a.b=2,a=1,b=0"


def test_format_label_selector() -> None:
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchLabels": {"app": "web"}}) == "app=web"
    assert format_label_selector({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}) == "<error>"


def test_selector_from_set() -> None:
    assert selector_from_set(None) is EVERYTHING
    sel = selector_from_set({"b": "2", "a": "1"})
    assert str(sel) == "a=1,b=2"
    assert sel.matches({"a": "1", "b": "2", "c": "3"})


# --- field selectors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("", ""),
        ("a=b", "a=b"),
        ("a==b", "a=b"),
        ("b=1,a!=2", "a!=2,b=1"),
        ("a=", "a="),
        ("a=b,,c=d", "a=b,c=d"),
        ("=", ""),
        ("a=x\\,y", "a=x\\,y"),
        ("a=x\\=y\\\\z", "a=x\\=y\\\\z"),
        ("spec.nodeName!=", "spec.nodeName!="),
    ],
)
def test_field_selector_parse_and_render(text: str, rendered: str) -> None:
    assert str(parse_field_selector(text)) == rendered


def test_field_selector_unescapes_values() -> None:
    sel = parse_field_selector("a=x\\,y\\=z\\\\")
    assert sel.terms[0].value == "x,y=z\\"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a", "invalid selector: 'a'; can't understand 'a'"),
        ("b=1,a", "invalid selector: 'b=1,a'; can't understand 'a'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a!=b,c", "invalid selector: 'a!=b,c'; can't understand 'c'"),
        ("a=b\\x", "invalid field selector: invalid escape sequence: \\x"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_field_selector_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_field_selector(text)
    assert str(err.value) == message


def test_unescape_rejects_bare_comma() -> None:
    with pytest.raises(SelectorError) as err:
        unescape_field_value("a,b")
    assert str(err.value) == "invalid field selector: unescaped character in value: 44"


@given(st.text(min_size=1))
def test_escaped_values_round_trip(value: str) -> None:
    assert unescape_field_value(escape_field_value(value)) == value
    sel = parse_field_selector("f=" + escape_field_value(value))
    assert sel.terms[0].value == value
    assert parse_field_selector(str(sel)) == sel


def test_field_selector_matching_and_introspection() -> None:
    sel = parse_field_selector("status.phase=Running,spec.nodeName!=")
    assert sel.matches({"status.phase": "Running", "spec.nodeName": "n1"})
    assert not sel.matches({"status.phase": "Running"})  # missing compares as ""
    assert not sel.matches({"status.phase": "Pending", "spec.nodeName": "n1"})
    assert sel.field_names == {"status.phase", "spec.nodeName"}
    assert sel.requires_exact_match("status.phase") == "Running"
    assert sel.requires_exact_match("spec.nodeName") is None
    assert FIELD_EVERYTHING.matches({}) and FIELD_EVERYTHING.empty


@pytest.mark.parametrize(
    ("group", "resource", "label", "message"),
    [
        ("", "pods", "spec.foo", "field label not supported: spec.foo"),
        ("", "nodes", "metadata.namespace", "field label not supported: metadata.namespace"),
        ("", "namespaces", "name", "field label not supported: name"),
        ("", "events", "regarding.name", "field label not supported: regarding.name"),
        ("events.k8s.io", "events", "involvedObject.name", "field label not supported: involvedObject.name"),
        ("batch", "jobs", "status.succeeded", 'field label "status.succeeded" not supported for batchv1.Job'),
        (
            "apps",
            "replicasets",
            "status.replicas",
            '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
        (
            "",
            "configmaps",
            "data.x",
            '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
        (
            "resource.k8s.io",
            "resourceslices",
            "spec.pool",
            "field label not supported for resource.k8s.io/v1, Kind=ResourceSlice: spec.pool",
        ),
    ],
)
def test_unsupported_field_labels(group: str, resource: str, label: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        convert_field_selector(f"{label}=x", group, resource)
    assert str(err.value) == message
    assert not supports_field_label(group, resource, label)


@pytest.mark.parametrize(
    ("group", "resource", "label"),
    [
        ("", "pods", "spec.nodeName"),
        ("", "pods", "status.podIPs"),
        ("", "pods", "spec.hostNetwork"),
        ("", "nodes", "spec.unschedulable"),
        ("", "replicationcontrollers", "status.replicas"),
        ("", "events", "involvedObject.uid"),
        ("", "events", "source"),
        ("events.k8s.io", "events", "regarding.kind"),
        ("events.k8s.io", "events", "reportingController"),
        ("events.k8s.io", "events", "source"),
        ("", "namespaces", "status.phase"),
        ("", "secrets", "type"),
        ("", "services", "spec.clusterIP"),
        ("batch", "jobs", "status.successful"),
        ("certificates.k8s.io", "certificatesigningrequests", "spec.signerName"),
        ("apps", "deployments", "metadata.namespace"),
        ("resource.k8s.io", "resourceslices", "spec.driver"),
    ],
)
def test_supported_field_labels(group: str, resource: str, label: str) -> None:
    assert supports_field_label(group, resource, label)


def test_conversion_renames_labels() -> None:
    assert str(convert_field_selector("spec.host=n1", "", "pods")) == "spec.nodeName=n1"
    converted = convert_field_selector("regarding.name=web,reportingController=kubelet", "events.k8s.io", "events")
    assert str(converted) == "involvedObject.name=web,reportingComponent=kubelet"


def test_pod_field_set() -> None:
    pod = {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"nodeName": "n1", "restartPolicy": "Always", "schedulerName": "default-scheduler", "hostNetwork": True},
        "status": {"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]},
    }
    fields = object_fields("", "pods", pod)
    assert fields == {
        "metadata.name": "web",
        "metadata.namespace": "default",
        "spec.nodeName": "n1",
        "spec.restartPolicy": "Always",
        "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "",
        "spec.hostNetwork": "true",
        "status.phase": "Running",
        "status.podIP": "10.0.0.1",
        "status.nominatedNodeName": "",
    }
    assert object_fields("", "pods", {"status": {"podIP": "10.0.0.9"}})["status.podIP"] == "10.0.0.9"
    assert object_fields("", "pods", {})["spec.hostNetwork"] == "false"
    policy = field_label_policy("", "pods")
    assert policy.matches(convert_field_selector("spec.nodeName=n1,status.phase!=Pending", "", "pods"), pod)
    # status.podIPs is accepted but not in the field set, so it only matches "".
    assert policy.matches(convert_field_selector("status.podIPs=", "", "pods"), pod)
    assert not policy.matches(convert_field_selector("status.podIPs=10.0.0.1", "", "pods"), pod)


def test_event_field_set_reads_both_shapes() -> None:
    core = {
        "metadata": {"name": "e1", "namespace": "ns"},
        "involvedObject": {"kind": "Pod", "name": "web", "uid": "u1"},
        "reason": "Pulled",
        "type": "Normal",
        "source": {"component": "kubelet"},
        "reportingComponent": "rc",
    }
    fields = object_fields("", "events", core)
    assert fields["involvedObject.kind"] == "Pod"
    assert fields["involvedObject.uid"] == "u1"
    assert fields["involvedObject.fieldPath"] == ""
    assert fields["source"] == "kubelet"
    assert fields["reportingComponent"] == "rc"
    new = {
        "metadata": {"name": "e1", "namespace": "ns"},
        "regarding": {"kind": "Pod", "name": "web"},
        "reportingController": "kubelet",
        "reason": "Pulled",
        "type": "Normal",
    }
    fields = object_fields("events.k8s.io", "events", new)
    assert fields["involvedObject.name"] == "web"
    assert fields["reportingComponent"] == "kubelet"
    assert fields["source"] == "kubelet"  # falls back to the reporting controller


def test_other_field_sets() -> None:
    assert object_fields("", "nodes", {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}}) == {
        "metadata.name": "n1",
        "spec.unschedulable": "true",
    }
    assert object_fields("batch", "jobs", {"status": {"succeeded": 3}})["status.successful"] == "3"
    assert object_fields("batch", "jobs", {})["status.successful"] == "0"
    assert object_fields("", "replicationcontrollers", {"status": {"replicas": 2}})["status.replicas"] == "2"
    assert object_fields("", "secrets", {"type": "Opaque"})["type"] == "Opaque"
    assert object_fields("apps", "deployments", {"metadata": {"name": "d"}}) == {
        "metadata.name": "d",
        "metadata.namespace": "",
    }


def test_custom_resource_policy() -> None:
    policy = custom_resource_field_policy([".spec.color", ".spec.size", ".spec.enabled"], namespaced=False)
    with pytest.raises(SelectorError) as err:
        convert_field_selector("metadata.namespace=x", "example.com", "widgets", policy=policy)
    assert str(err.value) == "field label not supported: metadata.namespace"
    assert policy.supports("spec.color") and not policy.supports("spec.other")
    obj = {"metadata": {"name": "w"}, "spec": {"color": "red", "size": 3, "enabled": False}}
    assert policy.field_set(obj) == {"metadata.name": "w", "spec.color": "red", "spec.size": "3", "spec.enabled": "false"}
    sel = convert_field_selector("spec.color=red,spec.size=3,spec.enabled=false", "example.com", "widgets", policy=policy)
    assert policy.matches(sel, obj)
    assert custom_resource_field_policy().supports("metadata.namespace")
