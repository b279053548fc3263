"""kube_lite.gctune: the embedding opt-in restores the collector as it was."""

from __future__ import annotations

import gc

from kube_lite.gctune import THRESHOLDS, gc_tuned


def test_gc_tuned_applies_and_restores() -> None:
    before = gc.get_threshold()
    with gc_tuned():
        assert gc.get_threshold() == THRESHOLDS
        with gc_tuned():  # nested: nothing more to do, and nothing undone early
            pass
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
