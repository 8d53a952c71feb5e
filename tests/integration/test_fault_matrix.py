"""The fault matrix: every fault of tests/support/fault_proxy.py against every path that talks to a
server, with the real app (Pilot) or the real API clients, and the real servers behind.

A path is one way the app talks to a server. Paths are a list of `Path` objects so more can
be added: `PATHS.append(Path("...", upstream, run))`. For each
(path, fault) cell the test asserts what issue 7 asks and records the outcome for the summary
printed at the end of the run (tests/support/fault_matrix.py):

- reads (the board polling Alertmanager, or Prometheus for pending alerts): the app still
  handles a key press, the status line says `STALE since HH:MM:SS (Ns ago)` and why, the last
  good data and the filter text the user was typing stay, and the first poll after the fault
  clears brings the board back to live (within the back-off delay then in force, which is
  one poll interval after a short fault);
- silence writes and expiries through `AlertmanagerCluster`: the call succeeds or raises a
  typed `ApiError` with a readable message, and after the user's retry the real Alertmanager
  holds exactly one silence (counted by its unique comment) in the state asked for;
- the silence form driven by keys: it keeps every typed field and shows the server's words,
  and one ctrl+s after the fault clears saves exactly one silence.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Static

from oncall_tui.api.alertmanager import AlertmanagerCluster as ApiCluster
from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.config import ClusterConfig, Context, PrometheusConfig, Settings, Timeouts
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.dialogs.silence_form import SilenceForm
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Matcher, PostableSilence
from tests.helpers import alert_row, status, until
from tests.support import fault_proxy as fp
from tests.support.fault_matrix import cell, lost_unless

pytestmark = pytest.mark.stack

REFRESH = 1.0  # the shortest poll interval a context allows
READ_TIMEOUT = 1.5
SLOW = READ_TIMEOUT + 1.5  # a delay the client gives up on

# The faults, in the order the matrix prints them.
FAULTS: list[fp.Fault] = [
    fp.REFUSE,
    fp.HANG,
    fp.delay(0.5),
    fp.delay(SLOW),
    fp.CUT,
    fp.status(500),
    fp.status(502),
    fp.status(503),
    fp.status(502, forward=True),
    fp.status(401),
    fp.status(403),
    fp.GARBAGE_FAULT,
    fp.NOT_JSON_FAULT,
    fp.huge(32 << 20),
    fp.TLS,
]
# What the status line (or the error) must say, in the user's words, for each kind of fault.
SAYS = {
    "refuse": r"Connection refused",
    "hang": r"read timeout after 1\.5s",
    "delay": r"read timeout after 1\.5s",
    "cut": r"peer closed connection without sending complete message body",
    "status": r"HTTP {status}: {status} from the fault proxy",
    "garbage": r"the answer is not HTTP: a wrong port, or a TLS server \(https://\)\?",
    "notjson": r"unexpected answer: JSON is malformed",
    "huge": r"unexpected answer: Expected `(array|object)`, got `str`",
    "tls": r"the answer is not HTTP: a wrong port, or a TLS server \(https://\)\?",
}


def says(fault: fp.Fault) -> str:
    return SAYS[fault.kind].format(status=fault.status)


def fails(fault: fp.Fault) -> bool:
    """Whether the fault makes a request fail (a short delay only slows it)."""
    return fault.kind != "delay" or fault.delay >= READ_TIMEOUT


@dataclass(frozen=True)
class Path:
    """One way the app talks to a server. `upstream` picks the real server the proxy fronts;
    `run(stack, proxy, fault, notes)` drives the app through the fault, asserts, and may put
    a measured figure in `notes["note"]`."""

    name: str
    upstream: Callable[[Stack], str]
    run: Callable[[Stack, fp.FaultProxy, fp.Fault, dict[str, str]], Awaitable[None]]
    faults: list[fp.Fault] = field(default_factory=lambda: list(FAULTS))


# -- reads: the board --------------------------------------------------------------------------


def board_context(stack: Stack, proxy: fp.FaultProxy, target: str) -> Context:
    """One Alertmanager peer and Prometheus; the `target` one behind the proxy."""
    am = proxy.url if target == "alertmanager" else stack.alertmanager_urls[0]
    prometheus = proxy.url if target == "prometheus" else stack.prometheus_url
    assert prometheus is not None
    return Context(
        name="matrix",
        alertmanagers=[ClusterConfig(name="am", peers=[am])],
        prometheus=PrometheusConfig(url=prometheus),
        refresh=REFRESH,
        timeouts=Timeouts(connect=1.0, read=READ_TIMEOUT),
    )


STALE = re.compile(
    r"STALE since \d\d:\d\d:\d\d \((\d+)s ago\):\s+(am|prometheus): (.+)"
)  # the reason may get a line of its own


def board_read(target: str) -> Callable[..., Awaitable[None]]:
    # The data this server contributes to the board: it must stay while the server fails.
    kept = ("ModelNotUpdated", "pending") if target == "prometheus" else ("HighErrorRate",)
    where = "prometheus" if target == "prometheus" else "am"
    # Filter text the user is typing, and one more key: both keep that data in view.
    typed, key = ("Model", "N") if target == "prometheus" else ("High", "E")

    async def run(
        stack: Stack, proxy: fp.FaultProxy, fault: fp.Fault, notes: dict[str, str]
    ) -> None:
        app = OncallApp(Settings(), build_clients(board_context(stack, proxy, target)))
        async with app.run_test(size=(160, 30)) as pilot:
            await until(
                pilot,
                lambda: (
                    alert_row(app, *kept)
                    and alert_row(app, "ModelNotUpdated", "pending")
                    and "live" in status(app)
                ),
            )
            screen = app.screen
            assert isinstance(screen, AlertsScreen)
            # The user starts typing a filter and has not pressed enter.
            await pilot.press("slash", *typed)
            field_ = screen.query_one("#filter", Input)
            polls = screen.polls
            proxy.set(fault)
            if fails(fault):
                await until(pilot, lambda: "STALE since" in status(app), timeout=15)
                line = status(app)
                match = STALE.search(line)
                assert match, f"the status line does not say what is stale: {line!r}"
                assert match.group(2) == where, line
                assert re.search(says(fault), match.group(3)), f"{fault}: {line!r}"
            else:
                # Slow but within the timeout: polls go on, nothing is stale.
                await until(pilot, lambda: screen.polls >= polls + 2, timeout=15)
                assert "STALE" not in status(app) and "live" in status(app), status(app)
            lost_unless(alert_row(app, *kept), f"{' '.join(kept)} left the board")
            lost_unless(field_.value == typed and field_.has_focus, "the typed filter is gone")
            started = time.monotonic()
            await pilot.press(key)
            answered = time.monotonic() - started
            lost_unless(field_.value == typed + key, f"the key press was lost: {field_.value!r}")

            # The back-off wait in force: the current one, or, if a poll is still waiting on
            # the fault (a hang) and fails when it clears, the next one, which is twice as long.
            backoff = screen.backoff
            wait = min(backoff.ceiling, backoff.interval * 2 ** max(0, backoff.failures))
            polls = screen.polls
            cleared = time.monotonic()
            proxy.set(fp.PASS)
            await until(
                pilot,
                lambda: "live" in status(app) and "STALE" not in status(app),
                timeout=wait + READ_TIMEOUT + 10,
            )
            recovered = time.monotonic() - cleared
            assert recovered <= wait + READ_TIMEOUT + 1.0, (
                f"back after {recovered:.1f} s, the back-off wait was at most {wait:g} s"
            )
            assert screen.polls - polls <= 2, "recovered only after several polls"
            lost_unless(field_.value == typed + key, "the typed filter is gone after recovery")
            lost_unless(alert_row(app, *kept), f"{' '.join(kept)} missing after recovery")
            assert app.is_running
            notes["note"] = f"{answered * 1000:.0f}/{recovered:.1f}"

    return run


# -- writes: silences through the API ----------------------------------------------------------


def count(stack: Stack, comment: str) -> dict[str, list[str]]:
    """The states of the silences with `comment`, as each REAL peer holds them."""
    held = {}
    for url in stack.alertmanager_urls:
        silences = httpx.get(url + "/api/v2/silences", timeout=5).json()
        held[url] = sorted(s["status"]["state"] for s in silences if s["comment"] == comment)
    return held


def settled(stack: Stack, comment: str, timeout: float = 10.0) -> list[str]:
    """The states once both peers agree (silences are gossiped in ~200 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        held = count(stack, comment)
        states = list(held.values())
        if all(s == states[0] for s in states) or time.monotonic() > deadline:
            return states[0] if all(s == states[0] for s in states) else max(states, key=len)
        time.sleep(0.05)  # bounded by the deadline: waiting for gossip between the peers


def readable(exc: errors.ApiError, fault: fp.Fault) -> None:
    text = str(exc)
    assert text and "\x1b" not in exc.message, repr(text)
    assert re.search(says(fault), text), f"{fault}: {text!r}"


def write_cluster(stack: Stack, proxy: fp.FaultProxy, ha: bool) -> ApiCluster:
    """The first peer (the one tried first) behind the proxy; with `ha`, the second peer of
    the pair too, direct, for the client to fall over to."""
    options = ClientOptions(connect_timeout=1.0, read_timeout=READ_TIMEOUT)
    peers = [AlertmanagerPeer(proxy.url, options)]
    if ha:
        peers.append(AlertmanagerPeer(stack.alertmanager_urls[1], options))
    return ApiCluster("am", peers)


def new_silence(comment: str) -> PostableSilence:
    now = datetime.now(UTC)
    return PostableSilence(
        # Matches no alert of the demo stack: the shared stack's alerts stay unsilenced.
        matchers=[Matcher("alertname", "FaultMatrixDrill"), Matcher("cell", comment)],
        starts_at=now,
        ends_at=now + timedelta(minutes=30),
        created_by="fault-matrix",
        comment=comment,
    )


async def silence_write(
    stack: Stack, proxy: fp.FaultProxy, fault: fp.Fault, notes: dict[str, str], ha: bool
) -> None:
    comment = f"matrix write {fault} {uuid.uuid4().hex[:8]}"
    silence = new_silence(comment)
    cluster = write_cluster(stack, proxy, ha)
    try:
        proxy.set(fault)
        try:
            stored = await cluster.write_silence(silence)
            outcome = "succeeded"
        except errors.ApiError as exc:
            readable(exc, fault)
            outcome = f"{type(exc).__name__}, one copy after the retry"
            held = settled(stack, comment)
            lost_unless(len(held) <= 1, f"{len(held)} copies after one call")
            # The user sees the error and tries again once the server is back.
            proxy.set(fp.PASS)
            stored = await cluster.write_silence(silence)
        proxy.set(fp.PASS)
        held = settled(stack, comment)
        lost_unless(held == ["active"], f"the server holds {held} after the retry")
        assert stored.comment == comment and stored.state == "active"
        notes["note"] = outcome
    finally:
        proxy.set(fp.PASS)
        await cluster.aclose()


async def silence_expire(
    stack: Stack, proxy: fp.FaultProxy, fault: fp.Fault, notes: dict[str, str], ha: bool
) -> None:
    comment = f"matrix expire {fault} {uuid.uuid4().hex[:8]}"
    cluster = write_cluster(stack, proxy, ha)
    try:
        stored = await cluster.write_silence(new_silence(comment))
        proxy.set(fault)
        try:
            expired = await cluster.expire_silence(stored.id)
            outcome = "succeeded"
        except errors.ApiError as exc:
            readable(exc, fault)
            outcome = f"{type(exc).__name__}, expired by the retry"
            proxy.set(fp.PASS)
            expired = await cluster.expire_silence(stored.id)
        proxy.set(fp.PASS)
        assert expired.state == "expired"
        held = settled(stack, comment)
        lost_unless(held == ["expired"], f"the server holds {held}")
        notes["note"] = outcome
    finally:
        proxy.set(fp.PASS)
        await cluster.aclose()


def first_peer(stack: Stack) -> str:
    return stack.alertmanager_urls[0]


# -- writes: the silence form, as the user drives it ---------------------------------------------


async def form_write(
    stack: Stack, proxy: fp.FaultProxy, fault: fp.Fault, notes: dict[str, str]
) -> None:
    """`s` on an alert, fields typed, the fault, ctrl+s: the form stays open with every field
    and the server's words, or closes having saved; after the fault clears, one ctrl+s saves,
    and the real Alertmanager holds exactly one copy."""
    comment = f"matrix form {fault} {uuid.uuid4().hex[:8]}"
    context = Context(
        name="matrix",
        alertmanagers=[ClusterConfig(name="am", peers=[proxy.url])],
        refresh=REFRESH,
        timeouts=Timeouts(connect=1.0, read=READ_TIMEOUT),
    )
    app = OncallApp(Settings(), build_clients(context))
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighErrorRate"))
        await pilot.press("slash", *"HighErrorRate", "enter", "s")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        form = app.screen
        assert isinstance(form, SilenceForm)
        # A matcher no alert has: the drill silences nothing on the shared stack. The long
        # texts are pasted, as users do: typed, they were a third of the matrix's time.
        await pilot.press(*"45m", "tab")
        await paste(pilot, form.query_one("#sf-comment", Input), comment)
        adding = form.query_one("#sf-add", Input)
        adding.focus()
        await paste(pilot, adding, f'drill="{comment}"')
        await pilot.press("enter")
        typed = form.form_input()
        proxy.set(fault)
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: app.screen is not form or "not saved" in str(form.query_one("#sf-status", Static).render()),
            timeout=20,
        )  # fmt: skip
        still_open = app.screen is form  # (`is` would narrow `form` to a plain Screen)
        if still_open:
            words = str(form.query_one("#sf-status", Static).render())
            assert re.search(says(fault), words), f"{fault}: {words!r}"
            lost_unless(form.form_input() == typed, "the form lost what the user typed")
            held = settled(stack, comment)
            lost_unless(len(held) <= 1, f"{len(held)} copies after one save")
            proxy.set(fp.PASS)
            await pilot.press("ctrl+s")  # the user's retry
            await until(pilot, lambda: app.screen is not form, timeout=20)
            notes["note"] = "kept the form, saved once on retry"
        else:
            notes["note"] = "saved"
        proxy.set(fp.PASS)
        held = settled(stack, comment)
        lost_unless(held == ["active"], f"the server holds {held}")
        assert app.is_running


async def paste(pilot: Pilot[None], field: Input, text: str) -> None:
    """A bracketed paste into the focused field, as the terminal sends it."""
    await until(pilot, lambda: field.has_focus, f"{field.id} has the focus")
    field.app.post_message(events.Paste(text))
    await until(pilot, lambda: text in field.value, f"the paste reached {field.id}")


READS = [f for f in FAULTS if not f.forward]  # a GET written "after write" is just a 502
PATHS: list[Path] = [
    Path("board ← AM", lambda s: s.alertmanager_urls[0], board_read("alertmanager"), READS),
    Path("board ← Prom", lambda s: s.prometheus_url or "", board_read("prometheus"), READS),
    Path("write, 1 peer", first_peer, partial(silence_write, ha=False)),
    Path("write, HA", first_peer, partial(silence_write, ha=True)),
    Path("expire, 1 peer", first_peer, partial(silence_expire, ha=False)),
    Path("expire, HA", first_peer, partial(silence_expire, ha=True)),
    Path("silence form", first_peer, form_write),
]
CELLS = [(path, fault) for path in PATHS for fault in path.faults]


@pytest.fixture
def proxy_for(stack: Stack) -> Iterator[Callable[[str], fp.FaultProxy]]:
    started: list[fp.FaultProxy] = []

    def start(upstream: str) -> fp.FaultProxy:
        started.append(fp.FaultProxy(upstream).start())
        return started[-1]

    yield start
    for proxy in started:
        proxy.stop()


@pytest.mark.parametrize(("path", "fault"), CELLS, ids=[f"{p.name}|{f}" for p, f in CELLS])
async def test_fault_matrix(
    stack: Stack, proxy_for: Callable[[str], fp.FaultProxy], path: Path, fault: fp.Fault
) -> None:
    proxy = proxy_for(path.upstream(stack))
    with cell(path.name, fault.name) as notes:
        await path.run(stack, proxy, fault, notes)
