"""Writing silences on the real Alertmanagers: once per cluster, read back, never twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.api.alertmanager import AlertmanagerCluster
from oncall_tui.api.http import ClientOptions
from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Context
from oncall_tui.demo.stack import Stack, StackOptions, find_binaries
from oncall_tui.domain.matchers import LabelMatcher
from oncall_tui.domain.silence_plan import Draft, FormInput, check
from oncall_tui.state.silences import expire, extend, read_all, write
from oncall_tui.state.wiring import Clients, build_clients

pytestmark = pytest.mark.stack
OPTIONS = ClientOptions(connect_timeout=2, read_timeout=5)


@pytest.fixture(scope="module")
def lone() -> Iterator[Stack]:
    """A second, independent Alertmanager: a context with two clusters."""
    with Stack(StackOptions(alertmanager_peers=1, with_prometheus=False), find_binaries()) as s:
        yield s


@pytest.fixture
async def clients(stack: Stack, lone: Stack) -> AsyncIterator[Clients]:
    base = demo_context(stack, refresh=1)
    context = Context(
        name="two",
        alertmanagers=[
            *base.alertmanagers,
            ClusterConfig(name="lone", peers=lone.alertmanager_urls),
        ],
    )
    built = build_clients(context)
    yield built
    await built.aclose()


def draft(tag: str, end: str = "2h", **extra: str) -> Draft:
    rows = [(True, f'test_case="{tag}"')] + [(True, f'{k}="{v}"') for k, v in extra.items()]
    checked = check(
        FormInput(tuple(rows), end=end, comment=f"pytest {tag}", created_by="pytest"),
        datetime.now(UTC),
    )
    assert checked.ok, checked.problems
    return checked.drafts[0]


async def held(cluster: AlertmanagerCluster, tag: str) -> list[str]:
    """IDs of unexpired silences the server holds for the tag (the server's truth)."""
    return [s.id for s in await cluster.silences([f'test_case="{tag}"']) if s.state != "expired"]


async def test_one_silence_per_cluster_read_back_and_a_retry_creates_nothing(
    clients: Clients,
) -> None:
    tag = f"once-{uuid.uuid4().hex[:8]}"
    report = await write(clients, [draft(tag)])
    assert report.ok, report.summary()
    assert sorted(o.cluster for o in report.outcomes) == ["demo", "lone"]
    assert all(not o.reused and o.silence and o.silence.state == "active" for o in report.outcomes)
    for cluster in clients.clusters:
        assert len(await held(cluster, tag)) == 1

    again = await write(clients, [draft(tag)])
    assert again.ok and all(o.reused for o in again.outcomes)
    for cluster in clients.clusters:
        assert len(await held(cluster, tag)) == 1


async def test_a_refusal_carries_the_servers_words(clients: Clients) -> None:
    tag = f"refused-{uuid.uuid4().hex[:8]}"
    bad = draft(tag)
    bad = type(bad)(
        (*bad.matchers, LabelMatcher("sérvice", "=", "x")), bad.starts, bad.ends, bad.comment,
        bad.created_by,
    )  # fmt: skip
    report = await write(clients, [bad])
    assert not report.ok
    assert all("invalid label" in o.error for o in report.failed), report.summary()
    for cluster in clients.clusters:
        assert await held(cluster, tag) == []


async def test_expire_and_extend_as_the_server_holds_them(clients: Clients) -> None:
    tag = f"extend-{uuid.uuid4().hex[:8]}"
    created = await write(clients, [draft(tag, end="30m")], clusters=["demo"])
    first = created.outcomes[0].silence
    assert first is not None

    extended = await extend(clients, [("demo", first.id)], timedelta(hours=1))
    kept = extended.outcomes[0].silence
    assert kept is not None and kept.id == first.id  # active, matchers unchanged: same ID
    assert abs((kept.ends_at - first.ends_at) - timedelta(hours=1)) < timedelta(seconds=1)

    expired = await expire(clients, [("demo", first.id)])
    assert expired.ok and expired.outcomes[0].silence.state == "expired"  # type: ignore[union-attr]
    again = await expire(clients, [("demo", first.id)])
    assert again.ok and again.outcomes[0].reused

    revived = await extend(clients, [("demo", first.id)], timedelta(hours=1))
    new = revived.outcomes[0].silence
    assert new is not None and new.id != first.id and new.state == "active"
    expected = datetime.now(UTC) + timedelta(hours=1)
    assert abs(new.ends_at - expected) < timedelta(seconds=30)
    assert await held(clients.clusters[0], tag) == [new.id]


async def test_an_edit_that_changes_matchers_follows_the_new_id(clients: Clients) -> None:
    tag = f"edit-{uuid.uuid4().hex[:8]}"
    first = (await write(clients, [draft(tag)], clusters=["demo"])).outcomes[0].silence
    assert first is not None
    changed = draft(tag, team="ml")
    changed = type(changed)(
        changed.matchers, changed.starts, changed.ends, changed.comment, changed.created_by,
        replaces=first.id,
    )  # fmt: skip
    outcome = (await write(clients, [changed], clusters=["demo"])).outcomes[0]
    assert outcome.silence is not None and outcome.silence.id != first.id
    assert await held(clients.clusters[0], tag) == [outcome.silence.id]
    read = await read_all(clients)
    states = {s.id: s.state for _, s in read.silences}
    assert states[first.id] == "expired"
