"""ui/idle_gc.py: full collections wait until nobody types, and happen as often as before."""

from __future__ import annotations

import gc

from oncall_tui.ui import idle_gc
from oncall_tui.ui.idle_gc import IdleCollector


def test_full_passes_wait_for_a_quiet_second_and_come_as_often_as_pythons() -> None:
    before = gc.get_threshold()
    collector = IdleCollector()
    collector.start()
    try:
        assert gc.get_threshold() == (max(before[0], idle_gc.YOUNG), before[1], idle_gc.NEVER)
        assert not collector.tick()  # nothing due yet
        for _ in range(before[2]):  # as many generation-1 passes as Python's own trigger
            gc.collect(1)
        collector.key()
        assert not collector.tick()  # due, but a key came less than a second ago
        collector.last_key -= idle_gc.QUIET
        assert collector.tick() and collector.full_passes == 1
        assert not collector.tick()  # the pass reset the count
    finally:
        collector.stop()
    assert gc.get_threshold() == before


def test_two_apps_in_one_process_give_the_thresholds_back_once_both_stop() -> None:
    before = gc.get_threshold()
    first, second = IdleCollector(), IdleCollector()
    first.start()
    second.start()
    first.stop()
    assert gc.get_threshold()[2] == idle_gc.NEVER  # the second still runs
    second.stop()
    assert gc.get_threshold() == before
    assert first._counted not in gc.callbacks and second._counted not in gc.callbacks


def test_settling_freezes_after_the_next_quiet_full_pass_and_unsettling_thaws() -> None:
    collector = IdleCollector()
    collector.start()
    try:
        collector.settle()
        collector.key()
        assert not collector.tick() and not collector.settled, "a key came: not yet"
        collector.last_key -= idle_gc.QUIET
        assert collector.tick() and collector.settled and gc.get_freeze_count() > 0
        collector.settle()
        assert not collector.settle_due, "once per session"
        collector.unsettle()
        assert not collector.settled and gc.get_freeze_count() == 0
    finally:
        collector.stop()
        gc.unfreeze()
