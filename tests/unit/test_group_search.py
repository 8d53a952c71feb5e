"""domain/group_search.py: words found in many texts at once are those found text by text."""

from __future__ import annotations

import random

from oncall_tui.domain.group_search import holding


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
