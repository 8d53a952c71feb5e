"""domain/blast_index.py: the silence preview's lookup by label value hits exactly what
matching every alert hits (LabelMatcher.matches, itself held to Alertmanager's matching by
the oracle tests), for equality, negative and regex matchers, missing and empty labels."""

from __future__ import annotations

import random

import pytest

from oncall_tui.domain.blast_index import BlastIndex
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.matchers import LabelMatcher

NAMES = ["A", "B", "C", ""]
TEAMS = ["ops", "ml", ""]


def alerts(rng: random.Random) -> list[BoardAlert]:
    out = []
    for i in range(300):
        labels = {"instance": f"i{i % 7}"}
        if name := rng.choice(NAMES):
            labels["alertname"] = name
        if team := rng.choice(TEAMS):
            labels["team"] = team
        out.append(
            BoardAlert(
                key=f"c/{i}",
                cluster="c",
                fingerprint=str(i),
                name=labels.get("alertname", ""),
                severity="warning",
                state="active",
                labels=labels,
                annotations={},
                started=None,
            )
        )
    return out


MATCHERS = [
    LabelMatcher("alertname", "=", "A"),
    LabelMatcher("alertname", "=", ""),
    LabelMatcher("alertname", "!=", "B"),
    LabelMatcher("alertname", "=~", "A|C"),
    LabelMatcher("team", "=", "ops"),
    LabelMatcher("team", "=", ""),
    LabelMatcher("team", "!~", "m.*"),
    LabelMatcher("instance", "=", "i3"),
    LabelMatcher("nothere", "=", ""),
    LabelMatcher("nothere", "=", "x"),
]


@pytest.mark.parametrize("seed", range(5))
def test_the_index_hits_what_matching_each_alert_hits(seed: int) -> None:
    rng = random.Random(seed)
    board = alerts(rng)
    index = BlastIndex(board)
    for _ in range(200):
        matchers = rng.sample(MATCHERS, rng.randrange(0, 4))
        expected = [a.key for a in board if matchers and all(m.matches(a.labels) for m in matchers)]
        assert [a.key for a in index.hits(matchers)] == expected, matchers
