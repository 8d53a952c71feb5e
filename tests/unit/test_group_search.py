"""domain/group_search.py: words found in many texts at once are those found text by text."""

from __future__ import annotations

import random

from oncall_tui.domain.board import BoardAlert, BoardGroup
from oncall_tui.domain.group_search import GroupSearch, holding, joined_texts


def test_holding_finds_what_a_search_of_each_text_finds() -> None:
    rng = random.Random(7)
    alphabet = "ab-0\0"
    for _ in range(500):
        texts = [
            "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
            for _ in range(rng.randrange(0, 8))
        ]
        words = tuple(
            "".join(rng.choice("ab-0") for _ in range(rng.randrange(1, 3)))
            for _ in range(rng.randrange(1, 3))
        )
        expected = [i for i, t in enumerate(texts) if all(w in t for w in words)]
        assert holding(words, texts) == expected, (words, texts)


def test_a_word_is_not_found_across_two_texts() -> None:
    assert holding(("ab",), ["xa", "bx", "ab"]) == [2]
    assert holding(("a", "b"), ["a", "b", "ba"]) == [2]
    assert holding(("x",), []) == []


def test_texts_made_ahead_are_those_made_on_demand() -> None:
    """The filter's texts, made off the event loop when the filter opens, are taken as the
    ones it would make itself, and only for the groups still the same."""
    alerts = [
        BoardAlert(
            key=f"c/{n}", cluster="c", fingerprint=str(n), name="A", severity="info",
            state="active", labels={"alertname": "A", "pod": f"Pod-{n}"},
            annotations={"summary": f"Down {n}"}, started=None,
        )
        for n in range(4)
    ]  # fmt: skip
    groups = [BoardGroup(f"g{n}", "c", "r", (), (alerts[n], alerts[n + 1])) for n in (0, 2)]
    ahead, on_demand = GroupSearch(), GroupSearch()
    assert ahead.missing(groups) == groups
    ahead.adopt(groups, joined_texts(groups))
    assert ahead.missing(groups) == []
    assert [ahead.joined(g) for g in groups] == [on_demand.joined(g) for g in groups]
    assert ahead.decide(("pod-3",), groups) == {id(groups[0]): False, id(groups[1]): None}
    assert ahead.decide(("a",), groups) == {id(g): True for g in groups}
    changed = BoardGroup("g0", "c", "r", (), (alerts[0],))
    assert ahead.missing([changed, groups[1]]) == [changed]
