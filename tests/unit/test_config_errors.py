"""The config's models (msgspec structs): what a user may write for short, and where each
problem is said to be (msgspec's own path leaves a mapping's key out)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from oncall_tui.config import (
    ConfigError,
    Context,
    Settings,
    load_settings,
    parse_settings,
    resolve_context,
)

ROOT = Path(__file__).resolve().parents[2]
OK = {"alertmanagers": ["http://127.0.0.1:9093"]}


def with_prod(**prod: Any) -> dict[str, Any]:
    """A config of two contexts, the second one `prod` with these keys: a problem in it must
    be said to be in `prod`, not in the first context."""
    return {"contexts": {"ok": OK, "prod": {"prometheus": {"url": "http://p:9090"}, **prod}}}


@pytest.mark.parametrize(
    ("prod", "said"),
    [
        (
            {"alertmanagers": [{"peers": ["http://a"]}, {"peers": ["ftp://b"]}]},
            "contexts.prod.alertmanagers.1.peers: 'ftp://b' is not an http(s) URL",
        ),
        ({"refresh": "fast"}, "contexts.prod.refresh: expected a number, got a string"),
        ({"refresh": 0.5}, "contexts.prod.refresh: must be at least 1"),
        (
            {"headers": {"X-Org": 5}},
            "contexts.prod.headers.X-Org: expected a string, got a whole number",
        ),
        (
            {"headers": {5: "x"}},
            "contexts.prod.headers: key 5: expected a string, got a whole number",
        ),
        (
            {"runbooks": {"auth": {"a.test": {"type": "bearer"}, "b.test": {"type": "basic"}}}},
            "contexts.prod.runbooks.auth.b.test: basic auth needs a username",
        ),
        (
            {"auth": {"type": "token"}},
            "contexts.prod.auth.type: must be 'bearer' or 'basic', not 'token'",
        ),
        ({"prometheus": {}}, "contexts.prod.prometheus.url: missing (required)"),
        (
            {"prometheus": ["http://p"]},
            "contexts.prod.prometheus: expected a mapping or null, got a list",
        ),
        ({"tls": {"ca_file": 5}}, "contexts.prod.tls.ca_file: expected a path (a string)"),
        (
            {"prometheus": {"url": "http://p", "query_params": {"step": "1m"}}},
            "contexts.prod.prometheus.query_params: step: set by the app for each query",
        ),
        (
            {"auth": {"type": "bearer", "source": "command", "command": "pass 'x"}},
            "contexts.prod.auth.command: No closing quotation",
        ),
    ],
)
def test_a_problem_names_its_key_through_lists_and_context_names(
    prod: dict[str, Any], said: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_prod(**prod))
    assert str(caught.value) == said


def test_an_unknown_key_in_a_named_context_suggests_the_known_one(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("contexts:\n  ok: {alertmanagers: [http://a]}\n  prod:\n    refesh: 5\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert (
        str(caught.value)
        == f"{path}: unknown key 'refesh' in contexts.prod (did you mean 'refresh'?)"
    )
    assert caught.value.key == ""


def test_a_check_s_own_words_reach_the_user_with_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"contexts": {"ok": OK, "prod": {}}})
    assert caught.value.key == "contexts.prod"
    assert caught.value.message == (
        "a context needs at least one of 'alertmanagers', 'prometheus' or 'backends'"
    )
    with pytest.raises(ConfigError, match=r"^refresh: must be at least 1$"):
        Context.from_data({**OK, "refresh": 0})


def test_what_users_write_for_short_still_reads() -> None:
    context = parse_settings(
        with_prod(
            alertmanagers=["http://a:9093/", "http://b:9093"],
            refresh=10,
            timeouts={"read": "20"},
            tls={"ca_file": "~/ca.pem"},
            runbooks={"folders": ["~/runbooks"]},
            auth={"type": "bearer", "source": "command", "command": "pass show 'oncall token'"},
        )
    ).context("prod")
    # A bare list of URLs is one cluster, its URLs without a trailing slash.
    assert [c.peers for c in context.alertmanagers] == [["http://a:9093", "http://b:9093"]]
    assert context.refresh == 10.0 and isinstance(context.refresh, float)
    assert context.timeouts.read == 20.0
    assert context.tls.ca_file == Path.home() / "ca.pem"
    assert context.runbooks.folders == [Path.home() / "runbooks"]
    assert context.auth is not None and context.auth.command == ["pass", "show", "oncall token"]


def test_a_backend_s_owner_is_written_under_the_owner_label() -> None:
    backends = [{"cluster": "eu", "url": "http://eu:9090"}, {"cluster": "us", "url": "ftp://us"}]
    raw = {"contexts": {"r": {**OK, "owner_label": "cluster", "backends": backends}}}
    with pytest.raises(ConfigError, match=r"^contexts\.r\.backends\.1\.url: 'ftp://us' is not"):
        parse_settings(raw)
    backends[1]["url"] = "http://us:9090"
    assert [(b.owner, b.url) for b in parse_settings(raw).context("r").backends] == [
        ("eu", "http://eu:9090"),
        ("us", "http://us:9090"),
    ]


def test_times_and_dates_read_as_they_did() -> None:
    layer = {
        "rotation_virtual_start": "2024-01-01",
        "start": "2024-01-01T08:00",
        "end": "2024-02-01T00:00:00+01:00",
        "rotation_turn_length_seconds": 604800,
        "users": [{"user": "a"}],
        "restrictions": [
            {"type": "daily_restriction", "start_time_of_day": time, "duration_seconds": 60}
            for time in ("08:00:00", "22:00")
        ],
    }
    oncall = {"schedules": [{"name": "s", "layers": [layer]}]}
    read = parse_settings(with_prod(oncall=oncall)).context("prod").oncall.schedules[0].layers[0]
    assert str(read.rotation_virtual_start) == "2024-01-01 00:00:00"
    assert (str(read.start), str(read.end)) == ("2024-01-01 08:00:00", "2024-02-01 00:00:00+01:00")
    assert [str(r.start_time_of_day) for r in read.restrictions] == ["08:00:00", "22:00:00"]


def test_a_dump_reads_back_as_the_same_settings() -> None:
    settings = load_settings(ROOT / "config.example.yaml")
    assert Settings.from_data(msgspec.to_builtins(settings, enc_hook=str)) == settings


def test_command_line_servers_on_a_context_with_an_oncall_file(tmp_path: Path) -> None:
    """The context is checked again with the servers given, and its rota is not read again
    (checking a dump of the context did, and refused the rota as given twice)."""
    (tmp_path / "rota.yaml").write_text("teams: {}\n")
    path = tmp_path / "config.yaml"
    path.write_text(
        "contexts:\n  a:\n    alertmanagers: [http://a]\n    oncall: {file: rota.yaml}\n"
    )
    context = resolve_context(load_settings(path), "a", prometheus="http://p:9090/", refresh=5)
    assert context.oncall.file == tmp_path / "rota.yaml"
    assert context.prometheus is not None and context.prometheus.url == "http://p:9090"
    assert context.refresh == 5
    with pytest.raises(ConfigError, match="--refresh"):
        resolve_context(load_settings(path), "a", refresh=86401)


def test_reading_the_config_imports_no_pydantic_and_no_zoneinfo_without_schedules() -> None:
    code = (
        "import sys\n"
        "from oncall_tui.config.loading import parse_settings\n"
        "parse_settings({'contexts': {'a': {'alertmanagers': ['http://a']}}})\n"
        "print(sorted(m for m in ('pydantic', 'pydantic_core', 'zoneinfo') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
