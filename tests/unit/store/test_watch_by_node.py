"""Pod watches pinned to a node (spec.nodeName=X, as node agents and schedulers watch) are
indexed by node in the watch cache; they must still see exactly what the selector says."""

import anyio

from kube_lite.server.apiserver import APIServer

POD = {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}


async def _collect(client, selector: str, out: list[tuple[str, str]], ready: anyio.Event, want: int,  # noqa: ANN001
                   done: anyio.Event) -> None:
    async with client.watch("pods", namespace=None, field_selector=selector, resource_version="0") as events:
        ready.set()
        async for event in events:
            out.append((event.type, event.object["metadata"]["name"]))
            if len(out) == want:
                done.set()


async def test_node_watches_see_their_node_and_unscheduled_watch_sees_the_rest() -> None:
    async with APIServer("memory:") as server:
        client = server.client()
        on_n1: list[tuple[str, str]] = []
        unscheduled: list[tuple[str, str]] = []
        async with anyio.create_task_group() as tg:
            done = [anyio.Event(), anyio.Event()]
            for (selector, out, want), finished in zip(
                (("spec.nodeName=n1", on_n1, 3), ("spec.nodeName=", unscheduled, 4)), done, strict=True
            ):
                ready = anyio.Event()
                tg.start_soon(_collect, client, selector, out, ready, want, finished)
                await ready.wait()
            for name in ("a", "b"):
                await client.create("pods", {"metadata": {"name": name}, **POD})
            await client.bind("a", "n1")
            await client.bind("b", "n2")
            await client.patch("pods", "a", {"metadata": {"labels": {"x": "y"}}})
            await client.delete("pods", "a", grace_period_seconds=0)
            await client.delete("pods", "b", grace_period_seconds=0)
            with anyio.fail_after(5):
                for finished in done:
                    await finished.wait()
            tg.cancel_scope.cancel()
        assert on_n1 == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
        assert unscheduled == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a"), ("DELETED", "b")]
