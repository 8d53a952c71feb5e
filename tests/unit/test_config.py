"""Config: the example loads, every mistake gives one clear message naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncall_tui.config import (
    ConfigError,
    Settings,
    TriageRule,
    config_path,
    load_settings,
    parse_settings,
    resolve_context,
)
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.yaml"


def test_example_config_loads_every_documented_key() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.current_context == "demo"
    assert settings.user == "alice@example.com"
    assert settings.theme == "oncall-dark" and settings.bell_on_critical is False
    assert settings.keys["alerts.refresh"] == "ctrl+r,f5"
    assert settings.notifications.protocol == "auto" and settings.notifications.title
    assert (settings.handoff.since_s, settings.handoff.next_shift_s) == (43200.0, 43200.0)
    assert set(settings.contexts) == {"demo", "production", "staging", "mimir", "regions"}
    regions = settings.context("regions")
    assert [b.owner for b in regions.backends] == ["eu", "us"]
    assert regions.owner_label == "cluster" and regions.slos[1].backend == "us"
    demo = settings.context()
    assert demo.name == "demo"
    assert demo.alertmanagers[0].peers == ["http://127.0.0.1:9093", "http://127.0.0.1:9095"]
    prod = settings.context("production")
    assert [c.name for c in prod.alertmanagers] == ["eu-west", "us-east"]
    assert prod.headers == {"X-Scope-OrgID": "platform"}
    assert prod.tls.cert_file == Path("~/.config/oncall-tui/client.crt").expanduser()
    assert prod.timeouts.read == 15
    assert prod.auth is not None and prod.auth.keyring_key == "production"
    assert settings.context("staging").auth.source == "env"  # type: ignore[union-attr]
    mimir = settings.context("mimir")
    assert mimir.alertmanagers[0].path_prefix == "/alertmanager"
    assert mimir.prometheus is not None and mimir.prometheus.path_prefix == "/prometheus"
    assert mimir.auth is not None and mimir.auth.command == ["pass", "show", "oncall/mimir-token"]
    assert demo.runbooks.folders == [Path("~/runbooks").expanduser()]
    assert [q.name for q in demo.triage[0].queries] == [
        "requests per second by status",
        "p95 latency (seconds)",
    ]
    assert prod.runbooks.annotations == ["runbook_url", "runbook"]
    assert prod.runbooks.url_template and "{{ $labels.alertname }}" in prod.runbooks.url_template
    assert prod.runbooks.auth["raw.githubusercontent.com"].type == "bearer"
    assert prod.runbooks.max_bytes == 1_000_000 and prod.triage[0].matchers == 'team="ops"'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (
            "contexts:\n  a:\n    alertmanagers: [ftp://x]\n",
            "contexts.a.alertmanagers",
            "not an http(s) URL",
        ),
        (
            "contexts:\n  a:\n    prometheus: {url: http://p}\n    refresh: 0.1\n",
            "contexts.a.refresh",
            "must be at least 1",
        ),
        (
            "contexts:\n  a:\n    prometheus: {url: http://p}\n    colour: red\n",
            "",
            "unknown key 'colour' in contexts.a (known keys: alertmanagers, auth,",
        ),
        ("contexts:\n  a: {}\n", "contexts.a", "at least one of"),
        (
            "contexts:\n  a:\n    prometheus: {url: http://p}\n    triage: [{matchers: 'a=~\"(\"', queries: [{name: n, query: up}]}]\n",
            "contexts.a.triage.0.matchers",
            "column 5: invalid regular expression",
        ),
        (
            "current_context: b\ncontexts:\n  a:\n    prometheus: {url: http://p}\n",
            "",
            "'b' is not a context",
        ),
        (
            "contexts:\n  a:\n    prometheus: {url: http://p}\n    auth: {type: basic}\n",
            "contexts.a.auth",
            "needs a username",
        ),
        (
            "contexts:\n  a:\n    prometheus: {url: http://p}\n    tls: {cert_file: /x}\n",
            "contexts.a.tls",
            "go together",
        ),
        (
            "contexts:\n  a:\n    prometheus: {url: http://p}\n    timeouts: {read: .inf}\n",
            "contexts.a.timeouts.read",
            "must be at most 3600",
        ),
        ("silences: {ack_duration: -5m}\n", "silences.ack_duration", "not a duration"),
        ("silences: {preview_limit: 0}\n", "silences.preview_limit", "must be at least 1"),
    ],
)
def test_invalid_config_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert key in message
    assert words in message


def test_secret_in_config_is_rejected_with_how_to_store_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "contexts:\n  prod:\n    prometheus: {url: http://p}\n"
        "    auth: {type: bearer, token: hunter2-secret}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "contexts.prod.auth.token" in message
    assert "oncall-tui auth set prod" in message
    assert "hunter2-secret" not in message


def test_password_in_url_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts:\n  a:\n    alertmanagers: ['http://u:s3cr3t@am:9093']\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "s3cr3t" not in str(caught.value)
    assert "auth set" in str(caught.value)


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts:\n  a: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+"):
        load_settings(path)


def test_lookup_order() -> None:
    env = {"ONCALL_TUI_CONFIG": "/e/c.yaml", "XDG_CONFIG_HOME": "/x"}
    assert config_path("/explicit.yaml", env) == Path("/explicit.yaml")
    assert config_path(None, env) == Path("/e/c.yaml")
    assert config_path(None, {"XDG_CONFIG_HOME": "/x"}) == Path("/x/oncall-tui/config.yaml")


def test_command_line_servers_need_no_config() -> None:
    context = resolve_context(
        Settings(),
        alertmanagers=["http://a:9093/", "http://b:9093"],
        prometheus="http://p:9090",
        read_only=True,
        refresh=5,
    )
    assert context.name == "cli"
    assert context.alertmanagers[0].peers == ["http://a:9093", "http://b:9093"]
    assert context.prometheus is not None and context.prometheus.url == "http://p:9090"
    assert context.read_only and context.refresh == 5


def test_command_line_overrides_a_configured_context() -> None:
    settings = load_settings(EXAMPLE)
    context = resolve_context(settings, "production", prometheus="http://other:9090")
    assert context.name == "production"
    assert context.prometheus is not None and context.prometheus.url == "http://other:9090"
    assert [c.name for c in context.alertmanagers] == ["eu-west", "us-east"]
    with pytest.raises(ConfigError, match="unknown context 'nope'"):
        resolve_context(settings, "nope")


def test_parse_rejects_non_mapping() -> None:
    with pytest.raises(ConfigError, match="must be a mapping"):
        parse_settings(["a"])


def test_cli_invalid_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts:\n  a:\n    alertmanagers: [http://a]\n    refresh: fast\n")
    done = run_cli("--config", str(path), "check-config")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and "contexts.a.refresh" in lines[0]


def test_cli_missing_explicit_config(tmp_path: Path) -> None:
    done = run_cli("--config", str(tmp_path / "nope.yaml"), "check-config")
    assert done.returncode == 2
    assert "file not found" in done.stderr and "Traceback" not in done.stderr


def test_nesting_past_the_recursion_limit_is_a_config_error(tmp_path: Path) -> None:
    """Found by tests/unit/test_fuzz.py: yaml.safe_load and the secret scan hit RecursionError."""
    path = write(tmp_path, "contexts: " + "[" * 3000 + "]" * 3000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_settings(path)
    node: list[object] = []
    for _ in range(3000):
        node = [node]
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_settings({"contexts": {"x": {"headers": node}}})


@pytest.mark.parametrize(("port", "words"), [("99999", "out of range"), ("x", "could not be cast")])
def test_a_url_with_a_bad_port_is_a_config_error(port: str, words: str) -> None:
    """Found by tests/unit/test_fuzz.py: it was accepted, then failed in the HTTP client."""
    raw = {"contexts": {"x": {"alertmanagers": [f"http://am:{port}"]}}}
    with pytest.raises(ConfigError, match=words) as raised:
        parse_settings(raw)
    assert raised.value.key == "contexts.x.alertmanagers.0.peers"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "contexts:\n  prod:\n    prometheus: {url: http://p}\n    refesh: 5\n",
            "unknown key 'refesh' in contexts.prod (did you mean 'refresh'?)",
        ),
        ("theem: oncall-light\n", "unknown key 'theem' at the top level (did you mean 'theme'?)"),
        (
            "contexts:\n  prod:\n    prometheus: {url: http://p, pth_prefix: /x}\n",
            "unknown key 'pth_prefix' in contexts.prod.prometheus (did you mean 'path_prefix'?)",
        ),
        (
            "contexts:\n  prod:\n    alertmanagers: [{peers: [http://a], nmae: eu}]\n",
            "unknown key 'nmae' in contexts.prod.alertmanagers.0 (did you mean 'name'?)",
        ),
        (
            "contexts:\n  p:\n    prometheus: {url: http://p}\n"
            "    runbooks: {auth: {git.example.com: {type: bearer, sorce: env}}}\n",
            "unknown key 'sorce' in contexts.p.runbooks.auth.git.example.com (did you mean 'source'?)",
        ),
        (
            "silences: {defualt_duration: 1h}\n",
            "unknown key 'defualt_duration' in silences (did you mean 'default_duration'?)",
        ),
    ],
)
def test_an_unknown_key_says_where_and_what_was_meant(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}: {message}"


def test_triage_matchers_are_refused_only_when_no_alertmanager_version_reads_them() -> None:
    """0.27+'s grammar reads a quoted UTF-8 name (0.25's does not); the triage view then reads
    the rule as the context's Alertmanagers do, so the config does not refuse it."""
    query = {"name": "n", "query": "up"}
    rule = TriageRule.from_data({"matchers": '"service.name"="checkout"', "queries": [query]})
    assert rule.matchers == '"service.name"="checkout"'
    with pytest.raises(ConfigError, match="matchers: column 1"):
        TriageRule.from_data({"matchers": '"service.name="x', "queries": [query]})
