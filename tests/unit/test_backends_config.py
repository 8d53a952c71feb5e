"""The several-backends form of a context: validated with errors naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.config import ConfigError, Context, query_backends

AM = {"alertmanagers": ["http://127.0.0.1:9093"]}


def ctx(**extra: Any) -> Context:
    return Context.from_data({**AM, **extra})


def test_the_owner_value_is_written_under_the_labels_name() -> None:
    c = ctx(
        owner_label="cluster",
        backends=[
            {"cluster": "eu", "url": "http://127.0.0.1:1"},
            {"cluster": "us", "url": "http://127.0.0.1:2"},
        ],
    )
    assert [(o, p.url) for o, p in query_backends(c)] == [
        ("eu", "http://127.0.0.1:1"),
        ("us", "http://127.0.0.1:2"),
    ]


def test_the_single_prometheus_form_is_unchanged() -> None:
    c = ctx(prometheus={"url": "http://127.0.0.1:9090"})
    assert [(o, p.url) for o, p in query_backends(c)] == [("", "http://127.0.0.1:9090")]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"backends": [{"owner": "eu", "url": "http://127.0.0.1:1"}]}, "owner_label"),
        (
            {
                "owner_label": "cluster",
                "prometheus": {"url": "http://127.0.0.1:9090"},
                "backends": [{"cluster": "eu", "url": "http://127.0.0.1:1"}],
            },
            "not both",
        ),
        (
            {
                "owner_label": "cluster",
                "backends": [
                    {"cluster": "eu", "url": "http://127.0.0.1:1"},
                    {"cluster": "eu", "url": "http://127.0.0.1:2"},
                ],
            },
            "eu repeated",
        ),
        ({"owner_label": "cluster", "backends": [{"url": "http://127.0.0.1:1"}]}, "owner"),
        ({"owner_label": "cluster", "prometheus": {"url": "http://127.0.0.1:1"}}, "only with"),
        (
            {
                "owner_label": "cluster",
                "backends": [{"cluster": "eu", "url": "http://127.0.0.1:1"}],
                "slos": [{"name": "a", "objective": 99, "ratio": "x[{{window}}]", "backend": "ap"}],
            },
            "slos.0.backend",
        ),
    ],
)
def test_mistakes_name_the_key(extra: dict[str, Any], said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        ctx(**extra)
