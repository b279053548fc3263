import msgspec

from kube_lite.api.meta import DeleteOptions, ListMeta, ObjectMeta, Status
from tests.unit.api.oracle import missing_fields


def test_meta_types_have_every_client_field() -> None:
    assert missing_fields(ObjectMeta, "V1ObjectMeta") == []
    assert missing_fields(ListMeta, "V1ListMeta") == []
    assert missing_fields(Status, "V1Status") == []
    assert missing_fields(DeleteOptions, "V1DeleteOptions") == []


def test_null_means_unset_and_is_not_written_back() -> None:
    meta = msgspec.json.decode(b'{"name":"a","creationTimestamp":null}', type=ObjectMeta)
    assert meta.creationTimestamp is None
    assert msgspec.json.encode(meta) == b'{"name":"a"}'


def test_continue_keeps_its_json_name() -> None:
    assert msgspec.json.encode(ListMeta(continue_="tok")) == b'{"continue":"tok"}'
