"""The client and the app against each Alertmanager release users run: 0.25.0 for real, and
0.27.0, 0.28.0, 0.32.0 and 0.34.0 through the contract server (tests/support/am_contract.py),
whose every answer is checked against that release's own api/v2/openapi.yaml.

Every test names the version it proves in its parameters or its name.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from oncall_tui.api.alertmanager import AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.config import ClusterConfig, Context, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.board import board_alert
from oncall_tui.domain.merge import merge_groups, unique_alerts
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Matcher, PostableSilence
from tests.support.am_contract import ContractServer, Spec

pytestmark = pytest.mark.stack
OPTIONS = ClientOptions(connect_timeout=2, read_timeout=5)
VERSIONS = ["0.27.0", "0.28.0", "0.32.0", "0.34.0"]
INTERVAL = "weekends"


@pytest.fixture(scope="module")
def posted(stack: Stack) -> Iterator[str]:
    """Two alerts on the real 0.25 peer: VersionMuted (muted on 0.28+) and VersionActive."""
    url = stack.alertmanager_urls[0]
    run = uuid.uuid4().hex[:12]

    def post(ends: datetime) -> None:
        body = [
            {
                "labels": {"alertname": name, "version_run": run, "severity": "warning"},
                "annotations": {"summary": f"{name} for the version tests"},
                "startsAt": (ends - timedelta(hours=2)).isoformat(),
                "endsAt": ends.isoformat(),
            }
            for name in ("VersionMuted", "VersionActive")
        ]
        httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()

    post(datetime.now(UTC) + timedelta(hours=1))
    deadline = time.monotonic() + 20
    flt = [("filter", f'version_run="{run}"')]
    while len(httpx.get(f"{url}/api/v2/alerts", params=tuple(flt), timeout=5).json()) < 2:
        assert time.monotonic() < deadline, "posted alerts not listed within 20 s"
        time.sleep(0.2)
    try:
        yield run
    finally:
        post(datetime.now(UTC) - timedelta(seconds=1))


@pytest.fixture(params=VERSIONS)
def contract(request: pytest.FixtureRequest, stack: Stack, posted: str) -> Iterator[ContractServer]:
    server = ContractServer(
        request.param, stack.alertmanager_urls[0], muted={"VersionMuted": INTERVAL}
    )
    yield from server.serve()
    assert server.violations == [], "answers that break the release's spec"


@pytest.fixture
async def peer(contract: ContractServer) -> AsyncIterator[AlertmanagerPeer]:
    client = AlertmanagerPeer(contract.url, OPTIONS)
    yield client
    await client.aclose()


def silence(run: str, comment: str, **extra: object) -> PostableSilence:
    now = datetime.now(UTC)
    return PostableSilence(
        matchers=[Matcher("version_run", run), Matcher("alertname", "NoSuchAlert" + comment)],
        starts_at=now,
        ends_at=now + timedelta(minutes=5),
        created_by="version-tests",
        comment=comment,
        **extra,  # type: ignore[arg-type]
    )


async def test_real_0_25_answers_match_the_0_25_spec(stack: Stack, posted: str) -> None:
    """The base: the real 0.25.0's own answers satisfy v0.25.0's spec (the validator works)."""
    spec = Spec("v0.25.0")
    url = stack.alertmanager_urls[0]
    async with httpx.AsyncClient(base_url=url + "/api/v2", timeout=5) as http:
        status = (await http.get("/status")).json()
        assert status["versionInfo"]["version"] == "0.25.0"
        for path in ("/status", "/alerts/groups", "/alerts", "/silences", "/receivers"):
            schema = spec.response_schema("GET", path)
            assert schema is not None
            assert spec.errors(schema, (await http.get(path)).json()) == [], path
        # A 0.28 body fails the 0.25 spec? No: but a 0.28 spec needs mutedBy, which 0.25 lacks.
        groups = (await http.get("/alerts/groups")).json()
        v28 = Spec("v0.28.0")
        schema = v28.response_schema("GET", "/alerts/groups")
        assert schema is not None and any("mutedBy" in e for e in v28.errors(schema, groups))


async def test_version_is_read_and_means_what_the_release_changed(
    contract: ContractServer, peer: AlertmanagerPeer
) -> None:
    caps = await peer.capabilities()
    assert caps.version == contract.version
    assert caps.utf8_matchers  # every contract version is 0.27+
    assert caps.muting == (contract.v >= (0, 28))
    assert caps.silence_annotations == (contract.v >= (0, 32))
    assert ("muting shown as muted" in caps.meaning()) == (contract.v >= (0, 28))


async def test_muted_alert_is_named_muted_from_0_28(
    contract: ContractServer, peer: AlertmanagerPeer, posted: str
) -> None:
    await peer.capabilities()
    groups = await peer.alert_groups([f'version_run="{posted}"'])
    merged = unique_alerts(merge_groups("c", {peer.url: groups}))
    states = {m.alert.name: board_alert(m) for m in merged}
    assert states["VersionActive"].state == "active"
    if contract.v >= (0, 28):
        assert states["VersionMuted"].state == "muted"
        assert states["VersionMuted"].muted_by == (INTERVAL,)
        # /alerts says suppressed with mutedBy [] (only groups name the interval): still muted.
        flat = {a.name: a for a in await peer.alerts([f'version_run="{posted}"'])}
        assert flat["VersionMuted"].state == "muted" and flat["VersionMuted"].status.muted_by == ()
        # muted=false is sent to 0.28+ and leaves the muted alert out.
        quiet = await peer.alert_groups([f'version_run="{posted}"'], muted=False)
        assert {a.name for g in quiet for a in g.alerts} == {"VersionActive"}
        assert any("muted=false" in s for s in contract.seen)
    else:
        assert states["VersionMuted"].state == "active"  # 0.27 knows no time-interval muting
    if contract.v >= (0, 34):
        assert all(g.route_labels == {} for g in groups)


async def test_api_v1_is_gone_from_0_27(contract: ContractServer) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(contract.url + "/api/v1/status")).status_code == 410


async def test_expiring_an_unknown_silence_is_not_found_from_0_26(
    contract: ContractServer, peer: AlertmanagerPeer
) -> None:
    with pytest.raises(errors.NotFound):
        await peer.expire_silence(str(uuid.uuid4()))


async def test_silence_annotations_from_0_32(contract: ContractServer, posted: str) -> None:
    client = AlertmanagerPeer(contract.url, OPTIONS)
    cluster = AlertmanagerCluster("c", [client])
    try:
        await client.capabilities()
        written = await cluster.write_silence(
            silence(posted, "annotated", annotations={"ack": "alice"})
        )
        try:
            if contract.v >= (0, 32):
                assert written.annotations == {"ack": "alice"}
            else:
                assert written.annotations == {}
                assert not any("annotations" in s for s in contract.seen if s.startswith("POST"))
        finally:
            await cluster.expire_silence(written.id)
    finally:
        await cluster.aclose()


@pytest.mark.parametrize("version", ["0.28.0", "0.34.0"])
async def test_silence_limit_is_shown_verbatim_from_0_28(
    stack: Stack, posted: str, version: str
) -> None:
    upstream = stack.alertmanager_urls[0]
    held = len(httpx.get(upstream + "/api/v2/silences", timeout=5).json())
    server = ContractServer(version, upstream, max_silences=held + 1)
    with server.running() as contract:
        client = AlertmanagerPeer(contract.url, OPTIONS)
        cluster = AlertmanagerCluster("c", [client])
        try:
            first = await cluster.write_silence(silence(posted, "limit-1"))
            with pytest.raises(errors.ServerError) as refused:
                await cluster.write_silence(silence(posted, "limit-2"))
            assert refused.value.status == 400
            assert refused.value.detail == (
                f"exceeded maximum number of silences: {held + 1} (limit: {held + 1})"
            )
            await cluster.expire_silence(first.id)
        finally:
            await cluster.aclose()
        assert contract.violations == []


@pytest.mark.parametrize("version", ["0.28.0", "0.34.0"])
async def test_board_shows_muted_and_m_hides_it(stack: Stack, posted: str, version: str) -> None:
    """The real app on the 0.28/0.34 contract server: the muted alert reads muted, M hides it."""
    from tests.helpers import alert_row, until

    server = ContractServer(version, stack.alertmanager_urls[0], muted={"VersionMuted": INTERVAL})
    with server.running() as contract:
        context = Context(
            name="v", alertmanagers=[ClusterConfig(name="v", peers=[contract.url])], refresh=1
        )
        app = OncallApp(Settings(), build_clients(context))

        def muted_row() -> str | None:
            return alert_row(app, "VersionMuted", "muted")

        def gone() -> bool:
            return alert_row(app, "VersionMuted") is None

        async with app.run_test(size=(140, 40)) as pilot:
            await until(pilot, muted_row)
            assert alert_row(app, "VersionActive", "active")
            await pilot.press("M")
            await until(pilot, gone)
            assert alert_row(app, "VersionActive", "active")
        assert contract.violations == []
