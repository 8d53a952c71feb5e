"""The polling helper stops when asked, whatever else is happening at that moment."""

from __future__ import annotations

import asyncio

from oncall_tui.state.polling import Backoff, PollLoop


async def test_stop_is_never_lost_to_a_wake_at_the_same_moment() -> None:
    """On Python 3.11, `asyncio.wait_for` returns the inner result instead of raising when
    the cancellation arrives just as the awaited event is set, and the loop went on polling
    for ever: `stop()` never returned. Seen as app exits hanging in CI under load, where a
    store's last poll woke the ack keeper's loop as the context closed it."""
    polls = 0

    async def poll() -> bool:
        nonlocal polls
        polls += 1
        return False

    for settle in range(4):  # the wake lands at a different step of the loop each time
        for _ in range(50):
            loop = PollLoop(poll, 3600.0, name="test")
            loop.start()
            for _ in range(3):
                await asyncio.sleep(0)  # the first poll ran; it waits for a wake
            loop.wake()
            for _ in range(settle):
                await asyncio.sleep(0)
            stopping = asyncio.create_task(loop.stop())
            done, _ = await asyncio.wait({stopping}, timeout=2)
            assert done, "stop() did not return: the loop swallowed its cancel"
            assert not loop.running
    assert polls >= 200


def test_the_wait_after_a_poll_is_never_shorter_than_the_poll() -> None:
    backoff = Backoff(interval=2.0)
    assert backoff.next_delay(False, took=0.4) == 2.0
    assert backoff.pace is None
    assert backoff.next_delay(False, took=5.2) == 5.2  # the servers rest as long
    assert backoff.pace == 10.0  # 5.2 s a poll, 5.2 s a rest: in whole seconds
    # A failure backs off by its own rule, however long it took (a timeout): a hang that
    # clears is read again as soon as that rule says.
    assert backoff.next_delay(True, took=0.1) == 2.0
    assert backoff.next_delay(True, took=0.1) == 4.0
    assert backoff.next_delay(True, took=15.0) == 8.0
    assert backoff.pace is None  # failing, not slow: the status says that instead
    assert backoff.next_delay(False, took=1.0) == 2.0
    assert backoff.pace is None
