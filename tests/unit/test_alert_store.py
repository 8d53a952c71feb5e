"""AlertStore.apply keeps the board of a quiet poll, and only when nothing could move on.

No server: the snapshots are made here as a poll makes them (the decoders and mergers hand
back the very same group objects for unchanged JSON; tests/ui/test_quiet_poll.py proves that
against a real Alertmanager).
"""

from __future__ import annotations

import dataclasses

from oncall_tui.config import Settings, resolve_context
from oncall_tui.domain.merge import MergedAlert, MergedGroup
from oncall_tui.state.alert_store import AlertStore
from oncall_tui.state.alerts import ClusterHealth, Snapshot
from oncall_tui.state.wiring import build_clients
from oncall_tui.wire.alertmanager import Alert, AlertStatus

PEERS = ("http://127.0.0.1:9", "http://127.0.0.1:10")


def store() -> AlertStore:
    context = resolve_context(Settings(), alertmanagers=list(PEERS), refresh=60)
    return AlertStore(build_clients(context))


def group(cluster: str, *fingerprints: str) -> MergedGroup:
    alerts = tuple(
        MergedAlert(
            Alert(
                fingerprint=fp,
                labels={"alertname": f"Alert{fp}", "severity": "warning"},
                status=AlertStatus(state="active"),
            ),
            cluster,
            PEERS,
        )
        for fp in fingerprints
    )
    return MergedGroup(cluster, "team", (("alertname", "x"),), alerts)


def snapshot(groups: list[MergedGroup], cluster: str, peers_up: int = 2) -> Snapshot:
    health = ClusterHealth(
        cluster, PEERS[:peers_up], tuple((url, "refused") for url in PEERS[peers_up:])
    )
    return Snapshot(
        taken_at=1.0,
        groups={cluster: groups},
        health=(health,),
        pending=(),
        silences={cluster: ()},
    )


def test_the_same_groups_keep_the_board_and_anything_else_rebuilds_it() -> None:
    alerts = store()
    cluster = alerts.clients.clusters[0].name
    groups = [group(cluster, "1", "2")]
    alerts.apply(snapshot(groups, cluster))
    board = alerts.board_groups
    assert alerts.rebuilds == 1

    alerts.apply(snapshot(list(groups), cluster))  # a new list of the very same groups
    assert alerts.rebuilds == 1 and alerts.board_groups is board

    again = snapshot(list(groups), cluster)
    alerts.apply(dataclasses.replace(again, prometheus_error="down"))
    assert alerts.rebuilds == 2

    alerts.apply(snapshot([group(cluster, "1", "2")], cluster))  # equal, but decoded anew
    assert alerts.rebuilds == 3
    assert [a.name for g in alerts.board_groups for a in g.alerts] == ["Alert1", "Alert2"]


def test_a_board_holding_a_lost_alert_is_rebuilt_by_every_poll() -> None:
    """Held alerts settle with polls and time: a poll that brings the same groups must still
    let the ledger see it."""
    alerts = store()
    cluster = alerts.clients.clusters[0].name
    alerts.apply(snapshot([group(cluster, "1", "2")], cluster))
    # One peer down and an alert gone: it may only be lost, so it is held, marked ?.
    fewer = [group(cluster, "1")]
    alerts.apply(snapshot(fewer, cluster, peers_up=1))
    assert alerts.ledger.held
    before = alerts.rebuilds
    alerts.apply(snapshot(list(fewer), cluster, peers_up=1))
    assert alerts.rebuilds == before + 1
