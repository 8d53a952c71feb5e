"""The clock-offset math from a server's `Date` header (domain/clock_skew.py), and that the
HTTP layer keeps it per server (a stub transport stands in for a server whose clock is 2
minutes ahead: no real server's clock can be shifted here)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from oncall_tui.api.http import ClientOptions, Endpoint
from oncall_tui.domain.clock_skew import describe, offset_from_date, server_now, skew_note

T = datetime(2026, 12, 1, 18, 0, 0, tzinfo=UTC)


def header(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def test_offset_is_measured_against_the_middle_of_the_request() -> None:
    sent = T.timestamp()
    assert offset_from_date(header(T + timedelta(minutes=2)), sent, sent + 2.0) == 119.0
    assert offset_from_date(header(T), sent, sent) == 0.0
    assert offset_from_date(header(T - timedelta(seconds=45)), sent, sent) == -45.0


@pytest.mark.parametrize("bad", ["", "yesterday", "Mon, 99 Foo 2026 25:61:00 GMT"])
def test_a_missing_or_broken_date_is_no_measurement(bad: str) -> None:
    assert offset_from_date(bad, 0.0, 1.0) is None


def test_server_now_and_words() -> None:
    assert server_now(T, 120.0) == T + timedelta(minutes=2)
    assert server_now(T, None) == T
    assert describe(120.4) == "2m ahead of this host"
    assert describe(119.6) == "2m ahead of this host"  # no flicker around a minute mark
    assert describe(-31) == "31s behind this host"


def test_only_servers_beyond_30_s_are_named() -> None:
    note = skew_note({"http://b": 120.0, "http://a": 29.9, "http://c": None, "http://d": -40.0})
    assert note == "clock: http://b 2m ahead of this host; http://d 40s behind this host"
    assert skew_note({"http://a": 30.0}) == ""


def test_endpoint_keeps_the_offset_of_its_last_answer() -> None:
    ahead = datetime.now(UTC) + timedelta(minutes=2)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Date": header(ahead)}, json=[])

    endpoint = Endpoint("http://server.test", ClientOptions())
    endpoint._io_client = httpx.AsyncClient(  # requests are sent on the I/O loop
        base_url="http://server.test", transport=httpx.MockTransport(answer)
    )

    async def go() -> None:
        try:
            assert endpoint.clock_offset is None
            await endpoint.request("GET", "/x")
        finally:
            await endpoint.aclose()

    asyncio.run(go())
    assert endpoint.clock_offset is not None
    assert 118.0 <= endpoint.clock_offset <= 121.0


def test_a_context_names_its_skewed_servers_and_silences_take_the_alertmanagers_now() -> None:
    from oncall_tui.config import ClusterConfig, Context, PrometheusConfig
    from oncall_tui.state import clock
    from oncall_tui.state.wiring import build_clients

    context = Context(
        name="c",
        alertmanagers=[
            ClusterConfig(name="ha", peers=["http://a.test:1", "http://b.test:2"]),
            ClusterConfig(name="solo", peers=["http://c.test:3"]),
        ],
        prometheus=PrometheusConfig(url="http://p.test:4"),
    )
    clients = build_clients(context)
    assert clock.note(clients) == ""  # nothing measured yet: nothing said
    before = datetime.now(UTC)
    assert before <= clock.server_now(clients) <= datetime.now(UTC)  # ours until measured
    a, b = clients.clusters[0].peers
    a.endpoint.clock_offset, b.endpoint.clock_offset = 100.0, 140.0
    clients.clusters[1].peers[0].endpoint.clock_offset = 2.0
    assert clients.prometheus is not None
    clients.prometheus.endpoint.clock_offset = -45.0
    assert clock.note(clients) == (
        "clock: ha (a.test:1) 2m ahead of this host; ha (b.test:2) 2m ahead of this host; "
        "prometheus 45s behind this host"
    )
    assert clock.alertmanager_offset(clients, ["ha"]) == 120.0
    assert clock.alertmanager_offset(clients, ["solo"]) == 2.0
    now = clock.server_now(clients, ["ha"])
    assert abs(now - (datetime.now(UTC) + timedelta(seconds=120))) < timedelta(seconds=1)
