"""The start-up's early request for alert groups (state/early.py), against the real
Alertmanager of the session stack, through the fault proxy for what a real one cannot do.

The early request must be invisible but for its speed: the first poll shows what a poll
without it shows (the same groups, the same error words), asks the groups once when it can,
and a context it cannot ask faithfully (credentials, proxy, headers, client certificate) is
not asked early at all.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.cli.early import peek, start
from oncall_tui.cli.main import build_parser, choose_context, load_config
from oncall_tui.config import Context, Settings, resolve_context
from oncall_tui.demo.stack import Stack
from oncall_tui.state.alerts import Snapshot, prefetch
from oncall_tui.state.context import ContextState
from oncall_tui.state.early import can_ask_early, start_early
from oncall_tui.state.wiring import build_clients
from tests.helpers import eventually
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack


def context_for(url: str, **extra: Any) -> Context:
    settings = Settings.from_data(
        {
            "contexts": {
                "early": {
                    "alertmanagers": [{"peers": [url]}],
                    "timeouts": {"connect": 2, "read": 1},
                    **extra,
                }
            }
        }
    )
    return resolve_context(settings, "early")


def first_poll(context: Context, *, early: bool) -> Snapshot:
    """The start-up's first poll (the prefetch thread), with or without the early request."""
    sent = start_early(context) if early else None
    clients = build_clients(context)
    snapshot = prefetch(clients, sent).result(timeout=30).take()
    assert snapshot is not None
    return snapshot


def alert_names(snapshot: Snapshot) -> set[str]:
    """The alert names of the board: the demo's rules, stable from one poll to the next."""
    return {
        merged.alert.labels["alertname"]
        for groups in snapshot.groups.values()
        for group in groups or ()
        for merged in group.alerts
    }


def words(errors: tuple[str, ...]) -> list[str]:
    return [re.sub(r"\d+", "N", error) for error in errors]


def groups_asked(proxy: fp.FaultProxy) -> list[str]:
    return [target for target in proxy.requests if "/alerts/groups" in target]


def test_the_early_answer_is_the_first_poll_and_the_groups_are_asked_once(stack: Stack) -> None:
    """The groups and the silences are each asked once, no HTTP client is made for the first
    poll (httpx is loaded after the first board is painted), and it shows what a poll
    without the early requests shows: the alerts of a poll just before and just after (a
    stack just started may still be firing its demo alerts one after another)."""
    before = first_poll(context_for(stack.alertmanager_urls[0]), early=False)
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        context = context_for(proxy.url)
        assert can_ask_early(context)
        prefetched = prefetch(build_clients(context), start_early(context)).result(timeout=30)
        early = prefetched.take()
        assert early is not None
        asked_early = list(proxy.requests)
        assert sorted(asked_early) == sorted([*groups_asked(proxy), "/api/v2/silences"])
        assert len(groups_asked(proxy)) == 1, asked_early
        (peer,) = prefetched.poller.clients.clusters[0].peers
        assert peer.endpoint._client is None
        after = first_poll(context, early=False)
        # The very requests the clients send.
        assert sorted(proxy.requests[len(asked_early) :]) == sorted(asked_early)
    assert early.ok and after.ok
    assert alert_names(before) <= alert_names(early) <= alert_names(after)
    assert alert_names(early)
    assert silence_ids(before) <= silence_ids(early) <= silence_ids(after)
    assert early.silences["early"] is not None


def silence_ids(snapshot: Snapshot) -> set[str]:
    return {s.id for found in snapshot.silences.values() for s in found or ()}


@pytest.mark.parametrize(
    "fault", [fp.REFUSE, fp.status(503), fp.GARBAGE_FAULT, fp.NOT_JSON_FAULT, fp.CUT], ids=str
)
def test_a_failed_early_request_leaves_the_usual_error(stack: Stack, fault: fp.Fault) -> None:
    """The early path says nothing itself: the first poll asks again and words the failure
    exactly as it does without it."""
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        context = context_for(proxy.url)
        proxy.set(fault)
        early = first_poll(context, early=True)
        usual = first_poll(context, early=False)
    # The same words; a cut body's byte counts differ with what the demo holds by then.
    assert early.errors and words(early.errors) == words(usual.errors)
    assert early.groups == usual.groups
    assert list(early.groups.values()) == [None]


def test_a_server_that_does_not_answer_is_waited_for_once(stack: Stack) -> None:
    """A read timeout of the early request is the first poll's, in the usual words, rather
    than a second wait of `timeouts.read`."""
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        context = context_for(proxy.url)
        proxy.set(fp.HANG)
        try:
            early = first_poll(context, early=True)
            assert len(groups_asked(proxy)) == 1
            usual = first_poll(context, early=False)
        finally:
            proxy.set(fp.PASS)
    assert early.errors == usual.errors
    assert "read timeout after 1s" in early.errors[0]


def test_a_server_that_is_down_falls_back_to_the_usual_poll(stack: Stack) -> None:
    """Nothing listens when the early request leaves; it is up by the first poll's own."""
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        proxy.set(fp.REFUSE)
        context = context_for(proxy.url)
        sent = start_early(context)
        answers = [future.result(timeout=10) for future in sent.values()]
        assert len(answers) == 2  # the groups and the silences
        assert all(answer.body is None and not answer.timed_out for answer in answers)
        proxy.set(fp.PASS)
        snapshot = prefetch(build_clients(context), sent).result(timeout=30).take()
    assert snapshot is not None and snapshot.ok
    assert alert_names(snapshot)


@pytest.mark.parametrize(
    "extra",
    [
        {"auth": {"type": "bearer", "source": "env", "env": "ONCALL_TUI_TEST_TOKEN"}},
        {"proxy": "http://127.0.0.1:9"},
        {"headers": {"X-Scope-OrgID": "tenant"}},
        {"alertmanagers": [{"peers": ["http://127.0.0.1:9"], "headers": {"X-Org": "a"}}]},
        {"tls": {"cert_file": "client.pem", "key_file": "client.key"}},
    ],
    ids=["credential", "proxy", "headers", "cluster headers", "client certificate"],
)
def test_what_the_early_path_cannot_do_faithfully_is_not_asked_early(
    extra: dict[str, Any],
) -> None:
    context = context_for("http://127.0.0.1:9", **extra)
    assert not can_ask_early(context)
    assert start_early(context) == {}


def test_a_request_sent_from_the_raw_config_is_taken_over_not_asked_again(
    stack: Stack, tmp_path: Path
) -> None:
    """cli/early.py sends before the config is validated; the validated path takes that very
    request over (the same future), and the first poll shows the server's groups."""
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        path = tmp_path / "config.yaml"
        path.write_text(f"contexts:\n  early:\n    alertmanagers: [{proxy.url!r}]\n")
        args = build_parser().parse_args(["--config", str(path)])
        found = peek(args)
        assert found is not None
        sent = start(found)
        context = choose_context(args, load_config(args))
        early = start_early(context, sent)
        assert list(early.values()) == list(sent.values())
        snapshot = prefetch(build_clients(context), early).result(timeout=30).take()
        assert len(groups_asked(proxy)) == 1
        usual = first_poll(context_for(proxy.url), early=False)
    assert snapshot is not None and snapshot.ok
    assert alert_names(snapshot) and alert_names(snapshot) <= alert_names(usual)  # still firing up


async def test_the_incident_book_takes_the_first_board_once_it_is_on_screen(stack: Stack) -> None:
    """At start-up every firing alert is news to the incident book (10,000 events at 10,000
    alerts): it reads the first board once the view says it is drawn, or, with no view to
    say so, at the second poll."""
    for shown in (True, False):
        state = ContextState(build_clients(context_for(stack.alertmanager_urls[0])))
        try:
            state.alerts.subscribe(lambda: None)  # the board's poll runs
            await state.alerts.refreshed()
            assert state.alerts.board_groups and state.incidents.seen == []
            if shown:
                state.alerts.shown()
            else:
                await state.alerts.refreshed()
            fired = await eventually(partial(_fired, state), timeout=10)  # read off the loop
            assert fired <= alert_names_of(state)
        finally:
            await state.aclose()


async def _fired(state: ContextState) -> set[str | None]:
    return {e.labels.get("alertname") for e in state.incidents.seen}


def alert_names_of(state: ContextState) -> set[str]:
    return {a.name for group in state.alerts.board_groups for a in group.alerts}


async def test_the_first_board_is_one_peers_and_every_peer_is_read_once_it_is_shown(
    stack: Stack,
) -> None:
    """At start-up each cluster is read from its first peer only (the stack's HA pair of
    Alertmanager 0.25.0 holds the same alerts on both); once the view says that board is
    on screen, the next poll reads and merges every peer, without waiting a refresh."""
    settings = Settings.from_data({"user": "tester"})
    context = resolve_context(settings, alertmanagers=stack.alertmanager_urls, refresh=60)
    early = start_early(context)
    assert [r.rsplit("/api/v2", 1)[0] for r in early if r.endswith("/alerts/groups")] == [
        stack.alertmanager_urls[0]
    ]
    state = ContextState(build_clients(context), first=prefetch(build_clients(context), early))
    try:
        state.alerts.subscribe(lambda: None)
        await state.alerts.refreshed()
        (health,) = state.alerts.health
        assert health.peers_up == (stack.alertmanager_urls[0],) and state.alerts.board_groups
        state.alerts.shown()

        async def both_peers_read() -> bool:  # no refresh of 60 s waited for
            return {u for h in state.alerts.health for u in h.peers_up} == set(
                stack.alertmanager_urls
            )

        await eventually(both_peers_read, timeout=20)
    finally:
        await state.aclose()
