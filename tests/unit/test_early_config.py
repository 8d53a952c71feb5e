"""cli/early.py: the first requests, read from the raw config before its models are imported.

The oracle is the validated path: whatever the raw reading sends must be exactly a request
the validated context would send itself (state/early.py's `early_requests`), or the first
poll would take over an answer to a different question. Anything it does not plainly
understand sends nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncall_tui.api.early import EarlyRequest
from oncall_tui.cli.early import peek
from oncall_tui.cli.main import build_parser, choose_context, load_config
from oncall_tui.state.early import can_ask_early, early_requests

PLAIN: dict[str, dict[str, Any]] = {
    "bare list of peers": {"alertmanagers": ["http://127.0.0.1:9093", "http://127.0.0.1:9094/"]},
    "clusters with prefixes": {
        "alertmanagers": [
            {"name": "eu", "peers": ["http://127.0.0.1:9093"], "path_prefix": "/am/"},
            {"name": "us", "peers": ["https://am.example:443"], "path_prefix": "alertmanager"},
        ],
        "prometheus": {"url": "http://127.0.0.1:9090"},
        "refresh": 10,
        "read_only": True,
    },
    "the same peer twice": {
        "alertmanagers": [
            {"name": "a", "peers": ["http://127.0.0.1:9093"]},
            {"name": "b", "peers": ["http://127.0.0.1:9093/"]},
        ]
    },
}

NOT_PLAIN: dict[str, dict[str, Any]] = {
    "credential": {"auth": {"type": "bearer", "source": "env", "env": "TOKEN"}},
    "proxy": {"proxy": "http://127.0.0.1:3128"},
    "context headers": {"headers": {"X-Scope-OrgID": "tenant"}},
    "cluster headers": {
        "alertmanagers": [{"peers": ["http://127.0.0.1:9093"], "headers": {"X-Org": "a"}}]
    },
    "ca file": {"tls": {"ca_file": "/etc/ssl/certs/ca-certificates.crt"}},
    "timeouts": {"timeouts": {"connect": 1}},
}


def plain_requests(args: Any) -> list[EarlyRequest]:
    """What the raw reading would send early ([] for nothing)."""
    found = peek(args)
    return list(found.requests) if found is not None else []


def args_for(tmp_path: Path, contexts: dict[str, Any], *argv: str, **top: Any) -> Any:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"contexts": contexts, **top}), encoding="utf-8")
    return build_parser().parse_args(["--config", str(path), *argv])


def validated(args: Any) -> list[Any]:
    """What the validated context sends early: the oracle."""
    context = choose_context(args, load_config(args))
    return early_requests(context) if can_ask_early(context) else []


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_a_plain_context_sends_exactly_what_the_validated_one_would(
    tmp_path: Path, name: str
) -> None:
    args = args_for(tmp_path, {"prod": PLAIN[name]})
    sent = plain_requests(args)
    assert sent and sent == validated(args)


@pytest.mark.parametrize("name", sorted(NOT_PLAIN))
def test_a_context_with_its_own_request_settings_sends_nothing_early(
    tmp_path: Path, name: str
) -> None:
    context = {"alertmanagers": ["http://127.0.0.1:9093"], **NOT_PLAIN[name]}
    args = args_for(tmp_path, {"prod": context})
    assert plain_requests(args) == []


def test_the_context_is_chosen_as_the_loader_chooses_it(tmp_path: Path) -> None:
    contexts = {
        "prod": {"alertmanagers": ["http://127.0.0.1:9093"]},
        "stage": {"alertmanagers": ["http://127.0.0.1:9193"]},
    }
    current = args_for(tmp_path, contexts, current_context="stage")
    assert plain_requests(current) == validated(current)
    assert plain_requests(current)[0].base_url == "http://127.0.0.1:9193"
    named = args_for(tmp_path, contexts, "--context", "prod", current_context="stage")
    assert plain_requests(named) == validated(named)
    assert plain_requests(named)[0].base_url == "http://127.0.0.1:9093"
    # Two contexts and none chosen: the loader refuses; nothing is sent.
    assert peek(args_for(tmp_path, contexts)) is None


def test_command_line_servers_replace_the_contexts_and_need_no_config(tmp_path: Path) -> None:
    args = args_for(
        tmp_path,
        {"prod": {"alertmanagers": ["http://127.0.0.1:9093"]}},
        "--alertmanager",
        "http://127.0.0.1:7777",
    )
    # Its groups, and its silences (the first peer of a cluster is asked for them).
    asked = [(r.base_url, r.path) for r in plain_requests(args)]
    assert asked == [
        ("http://127.0.0.1:7777", "/alerts/groups"),
        ("http://127.0.0.1:7777", "/silences"),
    ]
    assert plain_requests(args) == validated(args)
    missing = tmp_path / "none.yaml"
    no_file = build_parser().parse_args(["--alertmanager", "http://127.0.0.1:7777"])
    assert {r.base_url for r in plain_requests(no_file)} == {"http://127.0.0.1:7777"}
    assert not missing.exists()


@pytest.mark.parametrize(
    "argv",
    [["demo"], ["check-config"], ["alerts"], ["auth", "status"]],
    ids=lambda argv: argv[0],
)
def test_only_the_app_sends_early(tmp_path: Path, argv: list[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"contexts": {"p": PLAIN["bare list of peers"]}}))
    assert peek(build_parser().parse_args(["--config", str(path), *argv])) is None


@pytest.mark.parametrize(
    "text",
    [
        "contexts: [1, 2]",
        "contexts: {p: {alertmanagers: [{peers: 'http://x'}]}}",
        "contexts: {p: {alertmanagers: ['ftp://x']}}",
        "contexts: {p: {alertmanagers: ['http://x:99999']}}",
        "contexts: {p: {alertmanagers: ['http://user:pw@x']}}",
        ": not yaml [",
        "",
    ],
)
def test_a_config_it_does_not_understand_sends_nothing_and_raises_nothing(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    assert peek(build_parser().parse_args(["--config", str(path)])) is None


def test_the_request_leaves_before_the_config_models_are_imported(tmp_path: Path) -> None:
    """What it is for: the first connect happens with neither the config's models nor httpx
    loaded, nor the credentials module (the CLI's parser names the keyring's service without
    it: 12 ms of standard library the request waited for)."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"contexts": {"p": PLAIN["bare list of peers"]}}))
    script = f"""
import sys
seen = []
def hook(event, args):
    if event == "socket.connect":
        loaded = ("oncall_tui.config.schema", "oncall_tui.config.credentials", "httpx", "textual")
        seen.append(sorted(m for m in loaded if m in sys.modules))
        parsers.append("http.client" in sys.modules)
parsers = []
sys.addaudithook(hook)
from oncall_tui.cli.main import build_parser
from oncall_tui.cli.early import peek, start
sent = start(peek(build_parser().parse_args(["--config", {str(path)!r}])))
for future in sent.values():
    future.result(timeout=20)
print(parsers[0], len(sent), seen)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split(maxsplit=1)
    # The first peer's groups and the cluster's silences (the first board is read from one
    # peer of each cluster); http.client (30 ms with the email package) is imported to read
    # the answers, after the first request is on its way.
    assert out == ["False", "2 [[], []]\n"]


def test_a_frame_is_drawn_unless_a_credential_may_ask_on_the_terminal(tmp_path: Path) -> None:
    """A keyring or an auth command (`pass`, a pinentry) may prompt on the terminal before the
    app starts: no frame then, and no early request; headers alone still get a frame."""
    plain = peek(args_for(tmp_path, {"prod": PLAIN["bare list of peers"]}))
    assert plain is not None and plain.may_draw and plain.context == "prod"
    assert plain.servers == ("http://127.0.0.1:9093", "http://127.0.0.1:9094/")
    context = {"alertmanagers": ["http://127.0.0.1:9093"], **NOT_PLAIN["credential"]}
    secret = peek(args_for(tmp_path, {"prod": context}))
    assert secret is not None and not secret.may_draw and secret.requests == ()
    headers = {"alertmanagers": ["http://127.0.0.1:9093"], **NOT_PLAIN["context headers"]}
    found = peek(args_for(tmp_path, {"prod": headers}))
    assert found is not None and found.may_draw and found.requests == ()
    assert peek(build_parser().parse_args(["--config", str(tmp_path / "none.yaml")])) is None
