"""Bad input everywhere: hypothesis throws text and documents at the parsers.

The contract under test: every input either parses or raises the documented error
(`FilterError` for the filter and matcher language, `ConfigError` for the config), whose
position or key points into the input; nothing else ever escapes (no RecursionError, no
ValueError from a URL, no msgspec error, no re.error). Whatever parses is usable: a filter
matches alerts without raising and prints back to a filter that parses to the same thing.

Example counts stay modest (CI budget); `derandomize` keeps each run the same, so a failure
is reproducible, and the seeds move only when the strategies change.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oncall_tui.config import ConfigError, Settings, load_settings, parse_settings
from oncall_tui.domain.matchers import (
    Filter,
    FilterError,
    LabelMatcher,
    parse_filter,
    parse_matcher,
)

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ALERT = {"alertname": "HighErrorRate", "severity": "critical", "a": "", "b": "x\ny"}
ANNOTATIONS = {"summary": "Disk FULL", "runbook_url": "https://runbooks/x"}

# -- the filter and matcher language ---------------------------------------------------------

# Pieces of the language, so most examples get past the first character.
TOKENS = st.sampled_from(
    [
        "alertname", "severity", "a", "b", "_x", "1bad", "{", "}", ",", " ", "  ", "\t",
        "=", "!=", "=~", "!~", "==", "~", "!", '"', '\\"', "\\", '"critical"', '"a\\nb"',
        "critical", "High.*", "(", ")", "[", "]", "(?i)x", "(?P<n>x)", "\\d", "a{2,}", "*",
        "+", "?", "|", "^", "$", "\\p{L}", "\\Q", "x{1001}", "é", "警", "\x00", "\u202e",
        "\\x", "\\8", "(?=x)", "[[:alpha:]]", "[^]", "\n",
    ]
)  # fmt: skip
LANGUAGE = st.lists(TOKENS, max_size=14).map("".join)
ANY_TEXT = st.text(max_size=60)


def check_filter(text: str) -> None:
    try:
        parsed = parse_filter(text)
    except FilterError as exc:
        assert isinstance(exc.message, str) and exc.message
        assert 0 <= exc.position <= len(text), (exc.position, len(text))
        return
    assert isinstance(parsed, Filter)
    assert isinstance(parsed.matches(ALERT, ANNOTATIONS), bool)
    again = parse_filter(str(parsed))
    assert again.matchers == parsed.matchers and again.words == parsed.words, str(parsed)


def check_matcher(text: str) -> None:
    try:
        parsed = parse_matcher(text)
    except FilterError as exc:
        assert exc.message and 0 <= exc.position <= len(text), (exc.position, len(text))
        return
    assert isinstance(parsed, LabelMatcher)
    assert parse_matcher(str(parsed)) == parsed, str(parsed)


@FUZZ
@given(st.one_of(LANGUAGE, ANY_TEXT))
@example('a=~"x{1001}"')
@example('{a="1",}')
@example('"\\')
def test_parse_filter_parses_or_says_where(text: str) -> None:
    check_filter(text)


@FUZZ
@given(st.one_of(LANGUAGE, ANY_TEXT))
@example("=")
@example('a!~"[[:alpha:]]"')
def test_parse_matcher_parses_or_says_where(text: str) -> None:
    check_matcher(text)


# -- the config ------------------------------------------------------------------------------

KEYS = [
    "current_context", "contexts", "user", "allow_insecure_keyring", "theme", "keys",
    "bell_on_critical", "alertmanagers", "prometheus", "headers", "tls", "proxy", "timeouts",
    "refresh", "read_only", "auth", "name", "peers", "url", "path_prefix", "ca_file",
    "cert_file", "key_file", "insecure_skip_verify", "connect", "read", "write", "pool",
    "type", "username", "source", "keyring_key", "env", "command", "password", "token",
    "demo", "prod", "slos", "runbooks", "triage", "objective", "window", "errors", "total",
    "ratio", "service", "labels", "annotations", "folders", "url_template", "max_bytes",
    "timeout", "matchers", "queries", "query",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from(
        [
            "http://127.0.0.1:9093", "https://am:9093/x", "http://a:99999", "http://[::1",
            "ftp://x", "http://u:p@h", "bearer", "basic", "keyring", "env", "command", "demo",
            "", "~/ca.pem", "1", "oncall-dark",
        ]
    ),
    st.text(max_size=12),
)  # fmt: skip
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=25,
)
CONTEXT_KEYS = (
    "alertmanagers", "prometheus", "tls", "timeouts", "auth", "refresh", "headers", "slos",
    "runbooks", "triage",
)  # fmt: skip
# A document shaped like a config, so validation goes deep instead of failing at the top.
CONTEXT = st.fixed_dictionaries(
    {},
    optional={key: DOCUMENTS for key in CONTEXT_KEYS},
)
CONFIGS = st.fixed_dictionaries(
    {"contexts": st.dictionaries(st.sampled_from(["demo", "prod"]), CONTEXT, max_size=2)},
    optional={"current_context": DOCUMENTS, "keys": DOCUMENTS, "user": DOCUMENTS},
)


def check_settings(raw: Any) -> None:
    try:
        parsed = parse_settings(raw)
    except ConfigError as exc:
        assert str(exc)
        return
    assert isinstance(parsed, Settings)
    for name in [None, *parsed.contexts]:
        with contextlib.suppress(ConfigError):
            parsed.context(name)


@FUZZ
@given(st.one_of(DOCUMENTS, CONFIGS))
@example({"contexts": {"x": {"alertmanagers": ["http://a:99999"]}}})
def test_parse_settings_validates_or_raises_config_error(raw: Any) -> None:
    check_settings(raw)


YAML_TEXT = st.one_of(
    st.text(max_size=80),
    DOCUMENTS.map(lambda d: yaml.safe_dump(d, default_flow_style=None)),
    st.lists(st.sampled_from(["[", "{", "]", "}", ":", "- ", "a", "&x ", "*x", "!!", "\n"]),
             max_size=30).map("".join),
)  # fmt: skip


@settings(FUZZ, max_examples=150)
@given(YAML_TEXT)
@example("[" * 3000 + "]" * 3000)
@example("a: " + "{b: " * 3000 + "1" + "}" * 3000)
def test_a_config_file_loads_or_raises_config_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            parsed = load_settings(path)
        except ConfigError as exc:
            assert str(path) in str(exc)
        else:
            assert isinstance(parsed, Settings)
