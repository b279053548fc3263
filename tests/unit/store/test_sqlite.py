"""The SQLite backend beyond the conformance suite: URLs, durability settings, group commit, a
write batch that fails on disk, history beyond the in-memory ring, compaction that bounds the
file, recovery after a restore or an interrupted compaction, and kill -9 under load."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio
import pytest
from kube_lite.backends.sqlite import SQLiteBackend

from kube_lite.clock import VirtualClock
from kube_lite.store import watchhub
from kube_lite.store.backend import (
    BackendUnavailableError,
    EventType,
    KeyExistsError,
    KeyValue,
    open_backend,
)

P = "/registry/pods/"


def open_sqlite(path: Path, **options: Any) -> SQLiteBackend:
    backend = open_backend(f"sqlite:{path}", **options)
    assert isinstance(backend, SQLiteBackend)
    return backend


def rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM kv").fetchone()[0])


def file_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


# --- URLs and settings


def test_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert open_sqlite(Path("state.db")).path == "state.db"
    assert SQLiteBackend.from_url("sqlite:/var/lib/x.db").path == "/var/lib/x.db"
    assert SQLiteBackend.from_url("sqlite:///var/lib/x.db").path == "/var/lib/x.db"
    for bad in ("sqlite:", "memory:"):
        with pytest.raises(ValueError):
            SQLiteBackend.from_url(bad)


async def test_durability_pragmas(tmp_path: Path) -> None:
    async with open_sqlite(tmp_path / "s.db") as b:
        conn = b._conn
        assert conn is not None
        assert (await conn.execute_fetchall("PRAGMA journal_mode"))[0][0] == "wal"  # type: ignore[index]
        assert (await conn.execute_fetchall("PRAGMA synchronous"))[0][0] == 2  # type: ignore[index]  # FULL


# --- group commit


async def test_concurrent_writes_share_commits(tmp_path: Path) -> None:
    async with open_sqlite(tmp_path / "s.db") as b:
        revisions: list[int] = []

        async def write(i: int) -> None:
            revisions.append(await b.create(f"{P}{i}", b"x"))

        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(write, i)
        assert sorted(revisions) == list(range(1, 201))
        assert b.batched_writes == 200
        assert b.batches <= 10, f"{b.batches} commits for 200 concurrent writes"


async def test_a_batch_sees_the_writes_before_it(tmp_path: Path) -> None:
    """Compare-and-swap inside one batch is checked against the writes queued before it."""
    async with open_sqlite(tmp_path / "s.db") as b:
        outcomes: dict[int, object] = {}

        async def create(i: int) -> None:
            try:
                outcomes[i] = await b.create(P + "same", str(i).encode())
            except KeyExistsError as exc:
                outcomes[i] = exc

        async with anyio.create_task_group() as tg:
            for i in range(10):
                tg.start_soon(create, i)
        winners = [i for i, o in outcomes.items() if isinstance(o, int)]
        assert len(winners) == 1
        assert (await b.get(P + "same")).value == str(winners[0]).encode()  # type: ignore[union-attr]


async def test_a_failed_batch_fails_every_write_in_it_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with open_sqlite(path) as b:
        acked = {await b.create(f"{P}ok{i}", b"small"): f"{P}ok{i}" for i in range(5)}
        conn = b._conn
        assert conn is not None
        pages = (await conn.execute_fetchall("PRAGMA page_count"))[0][0]  # type: ignore[index]
        # The disk is "full": a few more pages, far fewer than the batch needs.
        await conn.execute(f"PRAGMA max_page_count = {pages + 4}")
        results: dict[int, object] = {}

        async def create(i: int) -> None:
            try:
                results[i] = await b.create(f"{P}big{i}", bytes(20_000))
            except BackendUnavailableError as exc:
                results[i] = exc

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(create, i)
        assert all(isinstance(r, BackendUnavailableError) for r in results.values()), results
        message = str(results[0])
        assert "none of them was applied" in message and "full" in message
        assert await b.current_revision() == 5
        assert [kv.key for kv in (await b.range(P)).kvs] == sorted(acked.values())
        # Once there is room again, writing goes on at the next revision.
        await conn.execute("PRAGMA max_page_count = 1073741823")
        assert await b.create(P + "big0", bytes(20_000)) == 6
    async with open_sqlite(path) as b:
        assert await b.current_revision() == 6
        assert [kv.key for kv in (await b.range(P)).kvs] == sorted([*acked.values(), P + "big0"])


async def test_closing_commits_the_writes_already_queued(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    b = open_sqlite(path)
    acked: list[int] = []

    async def write(i: int) -> None:
        acked.append(await b.create(f"{P}{i}", b"x"))

    async with anyio.create_task_group() as tg:
        await b.__aenter__()
        for i in range(50):
            tg.start_soon(write, i)
        await anyio.wait_all_tasks_blocked()
        await b.__aexit__(None, None, None)
    assert sorted(acked) == list(range(1, 51))
    async with open_sqlite(path) as b:
        assert (await b.range(P)).count == 50


async def test_a_failed_restore_changes_nothing(tmp_path: Path) -> None:
    async with open_sqlite(tmp_path / "a.db") as b:
        for i in range(20):
            await b.create(f"{P}big{i}", bytes(20_000))
        snap = await b.snapshot()
    async with open_sqlite(tmp_path / "b.db") as b:
        await b.create(P + "mine", b"1")
        conn = b._conn
        assert conn is not None
        pages = (await conn.execute_fetchall("PRAGMA page_count"))[0][0]  # type: ignore[index]
        await conn.execute(f"PRAGMA max_page_count = {pages + 4}")
        with pytest.raises(BackendUnavailableError):
            await b.restore(snap)
        assert [kv.key for kv in (await b.range("")).kvs] == [P + "mine"]
        assert await b.current_revision() == 1
        await conn.execute("PRAGMA max_page_count = 1073741823")
        assert await b.create(P + "next", b"") == 2


# --- history beyond the in-memory ring


async def test_watch_catches_up_from_the_table_then_goes_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchhub, "HISTORY_PAGE", 7)  # several pages of catch-up
    async with open_sqlite(tmp_path / "s.db", watch_history=8) as b:
        for i in range(30):
            await b.create(f"{P}{i:02}", b"a")
            await b.create(f"/registry/other/{i:02}", b"a")
        for i in range(30):
            await b.update(f"{P}{i:02}", b"b", expected_revision=0)
        async with aclosing(b.watch(P, from_revision=1)) as w:
            live = [await b.delete(f"{P}{i:02}") for i in range(3)]
            events = [await anext(w) for _ in range(63)]
        assert [e.kv.key for e in events[:30]] == [f"{P}{i:02}" for i in range(30)]
        assert all(e.is_create for e in events[:30])
        assert [e.prev_kv.value for e in events[30:60]] == [b"a"] * 30  # type: ignore[union-attr]
        assert [e.revision for e in events[60:]] == [rev for rev, _ in live]
        assert all(e.type is EventType.DELETE for e in events[60:])
        revisions = [e.revision for e in events]
        assert revisions == sorted(set(revisions))


async def test_old_reads_beyond_the_ring_come_from_the_table(tmp_path: Path) -> None:
    async with open_sqlite(tmp_path / "s.db", watch_history=4) as b:
        r1 = await b.create(P + "a", b"1")
        await b.create(P + "b", b"1")
        r3 = await b.update(P + "a", b"2", expected_revision=r1)
        for i in range(20):
            await b.create(f"{P}c{i:02}", b"x")
        await b.delete(P + "b")
        assert (await b.get(P + "a", revision=r1)).value == b"1"  # type: ignore[union-attr]
        assert (await b.get(P + "b", revision=r3)).value == b"1"  # type: ignore[union-attr]
        assert await b.get(P + "c00", revision=r3) is None
        page = await b.range(P, limit=2, revision=r3)
        assert [(kv.key, kv.value) for kv in page.kvs] == [(P + "a", b"2"), (P + "b", b"1")]
        assert (page.count, page.more) == (2, False)
        later = await b.range(P, start=P + "b", limit=3, revision=r3 + 5)
        assert [kv.key for kv in later.kvs] == [P + "b", P + "c00", P + "c01"]
        assert (later.count, later.more) == (6, True)


# --- compaction keeps the file bounded


async def test_churn_with_periodic_compaction_keeps_the_file_bounded(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    clock = VirtualClock()
    sizes: list[int] = []
    ticks: list[int] = []
    async with open_sqlite(path, clock=clock, compact_interval=60, compact_batch=500) as b:
        for i in range(50):
            await b.create(f"{P}{i}", b"0" * 300)
        for round_ in range(6):
            async with anyio.create_task_group() as tg:
                for i in range(50):
                    tg.start_soon(_churn, b, f"{P}{i}", 40)
            ticks.append(await b.current_revision())
            await clock.advance(60)
            if round_:  # each tick compacts to the revision of the tick before
                await _until(lambda: b._physical, ticks[-2])
                assert await b.compact_revision() == ticks[-2]
                sizes.append(file_size(path))
        # Rows: the live keys plus at most two intervals of history, never the whole churn.
        assert rows(path) <= 50 + 2 * 50 * 40
        assert file_size(Path(f"{path}-wal")) < 8 << 20
    # Freed pages are reused: after the first compactions the file stops growing.
    assert max(sizes[2:]) <= sizes[1] * 1.1, sizes
    assert sizes[-1] < 6 * 50 * 40 * 300 / 2  # well below what the churn wrote


async def _churn(b: SQLiteBackend, key: str, n: int) -> None:
    for i in range(n):
        await b.update(key, str(i).encode() * 100, expected_revision=0)


async def _until(probe: Callable[[], Any], want: Any) -> None:
    for _ in range(1000):
        if probe() == want:
            return
        await anyio.sleep(0.01)
    assert probe() == want


# --- recovery


async def test_reopen_after_restore_keeps_the_snapshot_revision(tmp_path: Path) -> None:
    async with open_sqlite(tmp_path / "a.db") as b:
        await b.create(P + "a", b"1")
        await b.create(P + "b", b"2")
        await b.delete(P + "b")  # the snapshot's revision (3) is no key's mod_revision
        snap = await b.snapshot()
    path = tmp_path / "b.db"
    async with open_sqlite(path) as b:
        for i in range(10):
            await b.create(f"{P}old{i}", b"")
        await b.restore(snap)
        assert await b.current_revision() == 3
    async with open_sqlite(path) as b:
        assert await b.current_revision() == 3
        assert await b.compact_revision() == 3
        assert [(kv.key, kv.mod_revision) for kv in (await b.range("")).kvs] == [(P + "a", 1)]
        assert await b.create(P + "c", b"") == 4


async def test_an_interrupted_compaction_finishes_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with open_sqlite(path) as b:
        await b.create(P + "k", b"v")
        for _ in range(99):
            await b.update(P + "k", b"v", expected_revision=0)
        revision = await b.current_revision()
    # As if the process stopped right after recording the compact revision.
    with sqlite3.connect(path) as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('compact_revision', ?)", (revision,))
    assert rows(path) == 100
    async with open_sqlite(path) as b:
        assert await b.compact_revision() == revision
        await _until(lambda: b._physical, revision)
        assert await b.get(P + "k") == KeyValue(P + "k", b"v", 1, 100, 100)
    # The latest value, and the one it superseded at the compact revision (a watch may start
    # exactly there and needs that event's prev_kv).
    assert rows(path) == 2


# --- kill -9


_CHILD = textwrap.dedent(
    """
    import sys, anyio
    from kube_lite.store.backend import open_backend

    async def main(path, start):
        async with open_backend("sqlite:" + path) as b:
            async def writer(w):
                i = start
                while True:
                    key = f"/registry/pods/w{w}/{i}"
                    rev = await b.create(key, key.encode())
                    print("ACK", key, rev, flush=True)
                    i += 1
            async with anyio.create_task_group() as tg:
                for w in range(20):
                    tg.start_soon(writer, w)

    anyio.run(main, sys.argv[1], int(sys.argv[2]))
    """
)


async def test_kill_9_under_load_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    acked: dict[str, int] = {}
    for run in range(3):
        acked.update(_run_and_kill(path, start=run * 1_000_000, acks=3000))
        async with open_sqlite(path) as b:
            current = await b.current_revision()
            assert current >= max(acked.values())
            for key, rev in acked.items():
                kv = await b.get(key)
                assert kv is not None, f"acknowledged {key}@{rev} lost"
                assert (kv.mod_revision, kv.value) == (rev, key.encode())
            # Consistent: only creates were made, so every revision up to now is one key.
            everything = await b.range("")
            assert everything.count == current
            assert sorted(kv.mod_revision for kv in everything.kvs) == list(range(1, current + 1))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _run_and_kill(path: Path, *, start: int, acks: int) -> dict[str, int]:
    """Run the writer child until it has acknowledged `acks` writes, SIGKILL it mid-load, and
    return every (key, revision) it acknowledged."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), str(start)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        # Block-buffered stdout: print(..., flush=True) writes each line in one write().
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
    )
    assert child.stdout is not None
    acked: dict[str, int] = {}
    try:
        for line in child.stdout:
            if line.startswith(b"ACK "):  # other lines are the backend's logs
                _, key, rev = line.decode().split()
                acked[key] = int(rev)
                if len(acked) >= acks:
                    break
        child.send_signal(signal.SIGKILL)
        # Lines already written before the kill were acknowledged too.
        for line in child.stdout:
            if line.startswith(b"ACK ") and line.endswith(b"\n"):
                _, key, rev = line.decode().split()
                acked[key] = int(rev)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert len(acked) >= acks, "the writer child died before acknowledging enough writes"
    return acked
