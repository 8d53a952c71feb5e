"""Runbook fetching against a real local HTTP server: caps, cache, redirects, credentials."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from oncall_tui.api.fetch import RunbookFetcher
from oncall_tui.config import AuthConfig, RunbooksConfig
from oncall_tui.config.runbook_credentials import auth_lookup
from oncall_tui.wire.documents import FetchError
from tests.support.runbook_server import Route, RunbookServer

TOKEN = "runbook-host-token-7f3a9c"


def fetcher(
    *,
    max_bytes: int = 100_000,
    timeout: float = 5.0,
    auth_for: Callable[[str], tuple[str, str] | None] | None = None,
    roots: Sequence[Path] = (),
) -> RunbookFetcher:
    return RunbookFetcher(max_bytes=max_bytes, timeout=timeout, auth_for=auth_for, roots=roots)


async def test_fetches_markdown_and_caches_it_for_the_session(
    runbook_server: RunbookServer,
) -> None:
    runbook_server.routes["/HighErrorRate.md"] = Route(b"# Runbook: HighErrorRate\n")
    client = fetcher()
    try:
        first = await client.fetch(runbook_server.url + "/HighErrorRate.md")
        again = await client.fetch(runbook_server.url + "/HighErrorRate.md")
    finally:
        await client.aclose()
    assert first.text == "# Runbook: HighErrorRate\n"
    assert first.content_type.startswith("text/markdown")
    assert again is first
    assert len(runbook_server.headers_for("/HighErrorRate.md")) == 1, (
        "the second came from the cache"
    )


async def test_a_body_over_the_cap_is_refused_with_a_clear_message(
    runbook_server: RunbookServer,
) -> None:
    runbook_server.routes["/declared"] = Route(b"x" * 300_000)
    runbook_server.routes["/undeclared"] = Route(b"y" * 300_000, declare_length=False)
    client = fetcher(max_bytes=100_000)
    try:
        for path in ("/declared", "/undeclared"):
            with pytest.raises(FetchError) as caught:
                await client.fetch(runbook_server.url + path)
            assert "too large" in caught.value.message
            assert "100 kB limit, runbooks.max_bytes" in caught.value.message
    finally:
        await client.aclose()


async def test_a_slow_body_is_cut_at_the_time_cap(runbook_server: RunbookServer) -> None:
    runbook_server.routes["/slow"] = Route(b"z" * 1000, drip_seconds=0.05)
    client = fetcher(timeout=1.0)
    began = time.monotonic()
    try:
        with pytest.raises(FetchError) as caught:
            await client.fetch(runbook_server.url + "/slow")
    finally:
        await client.aclose()
    assert "took longer than 1 s (runbooks.timeout)" in caught.value.message
    assert time.monotonic() - began < 4.0, "the cap is on the whole download, not per read"


async def test_missing_is_told_apart_from_broken(runbook_server: RunbookServer) -> None:
    runbook_server.routes["/broken"] = Route(b"oops", status=500)
    client = fetcher()
    try:
        with pytest.raises(FetchError) as missing:
            await client.fetch(runbook_server.url + "/nothing-here")
        with pytest.raises(FetchError) as broken:
            await client.fetch(runbook_server.url + "/broken")
    finally:
        await client.aclose()
    assert missing.value.missing and "HTTP 404" in missing.value.message
    assert not broken.value.missing and "HTTP 500" in broken.value.message


async def test_credential_goes_to_its_host_and_not_through_a_redirect(
    runbook_server: RunbookServer, other_server: RunbookServer
) -> None:
    runbook_server.routes["/moved"] = Route(
        status=302, location=other_server.url + "/HighErrorRate.md"
    )
    runbook_server.routes["/here"] = Route(b"# here\n")
    other_server.routes["/HighErrorRate.md"] = Route(b"# moved here\n")
    host = runbook_server.url.removeprefix("http://")
    asked: list[str] = []

    def lookup(origin: str) -> tuple[str, str] | None:
        asked.append(origin)
        return ("Authorization", f"Bearer {TOKEN}") if origin == host else None

    client = fetcher(auth_for=lookup)
    try:
        assert (await client.fetch(runbook_server.url + "/here")).text == "# here\n"
        moved = await client.fetch(runbook_server.url + "/moved")
    finally:
        await client.aclose()
    assert runbook_server.headers_for("/here")[0]["authorization"] == f"Bearer {TOKEN}"
    assert runbook_server.headers_for("/moved")[0]["authorization"] == f"Bearer {TOKEN}"
    assert moved.text == "# moved here\n" and moved.final == other_server.url + "/HighErrorRate.md"
    sent = other_server.headers_for("/HighErrorRate.md")[0]
    assert "authorization" not in sent and "cookie" not in sent
    assert all(TOKEN not in value for value in sent.values())


async def test_runbook_host_credential_comes_from_the_config_by_host(
    runbook_server: RunbookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOK_TOKEN", TOKEN)
    host = runbook_server.url.removeprefix("http://")
    config = RunbooksConfig(
        auth={host: AuthConfig(type="bearer", source="env", env="RUNBOOK_TOKEN")}
    )
    runbook_server.routes["/a.md"] = Route(b"# a\n")
    client = fetcher(auth_for=auth_lookup(config))
    try:
        await client.fetch(runbook_server.url + "/a.md")
    finally:
        await client.aclose()
    assert runbook_server.headers_for("/a.md")[0]["authorization"] == f"Bearer {TOKEN}"


async def test_local_files_are_capped_too(tmp_path: Path) -> None:
    small = tmp_path / "Small.md"
    small.write_text("# small\n")
    big = tmp_path / "Big.md"
    big.write_bytes(b"#" * 200_000)
    client = fetcher(max_bytes=100_000, roots=[tmp_path])
    try:
        assert (await client.read_file(str(small))).text == "# small\n"
        with pytest.raises(FetchError) as caught:
            await client.read_file(str(big))
        with pytest.raises(FetchError) as missing:
            await client.read_file(str(tmp_path / "Nope.md"))
    finally:
        await client.aclose()
    assert "too large (200 kB" in caught.value.message
    assert missing.value.missing
