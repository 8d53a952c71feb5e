"""A filter's words looked for in every group of the board at once.

A filter of words only (no matcher) takes a group whole when every word is in a label all
its alerts share, and leaves it out when a word is in none of its alerts' texts; only the
groups in between are checked alert by alert. Asked group by group, that was a dozen calls
a group, 2,500 groups at 50,000 alerts: 40-70 ms of every key typed in the filter. Here
each kind of text of all the groups is one string, NUL between groups, and a word is found
with `str.find`, once per group that holds it (a word holds no NUL: Filter.words_only).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.matchers import search_text

if TYPE_CHECKING:
    from oncall_tui.domain.board import BoardAlert, BoardGroup  # board.py uses this module

Decisions = dict[int, bool | None]  # id(group) -> whole (True), none (False), check each


def shared_labels(alerts: Sequence[BoardAlert]) -> dict[str, str]:
    """The labels every alert has, with the same value."""
    if not alerts:
        return {}
    shared: Any = alerts[0].labels.items()
    for alert in alerts[1:]:
        shared = alert.labels.items() & shared  # in C: a dict comprehension took 7 µs
    return dict(shared)


def shared_text(alerts: Sequence[BoardAlert]) -> str:
    """The search text (matchers.search_text) of the labels every alert has, same value."""
    return search_text(shared_labels(alerts))


def joined_text(alerts: Sequence[BoardAlert]) -> str:
    """Every alert's search text joined by NUL, made in one join and one casefold (the
    same text as joining each alert's `search_text`, for a word without NUL)."""
    fields: list[str] = []
    for alert in alerts:
        fields += alert.labels
        fields += alert.labels.values()
        fields += alert.annotations.values()
    return "\0".join(fields).casefold()


def joined_texts(groups: Sequence[BoardGroup]) -> list[str]:
    """Each group's `joined_text`: pure work, for a thread other than the event loop's."""
    return [joined_text(g.alerts) for g in groups]


def holding(words: Sequence[str], texts: Sequence[str]) -> list[int]:
    """Indexes of the texts that hold every word (words without NUL)."""
    text = "\0".join(texts)
    starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
    found: set[int] | None = None
    for word in words:
        hits: set[int] = set()
        pos = text.find(word)
        while pos >= 0:
            index = bisect_right(starts, pos) - 1
            hits.add(index)
            pos = text.find(word, starts[index + 1])
        found = hits if found is None else found & hits
        if not found:
            return []
    return sorted(found or ())


class GroupSearch:
    """Each group's joined text, kept while the group is the same object, and the last
    filter's decisions for the last list of groups."""

    def __init__(self) -> None:
        self._joined: dict[str, tuple[BoardGroup, str]] = {}
        self._last: tuple[tuple[str, ...], list[BoardGroup], Decisions] | None = None

    def _kept(self, group: BoardGroup) -> str | None:
        """The group's joined text if made for this very group object."""
        kept = self._joined.get(group.key)
        return kept[1] if kept is not None and kept[0] is group else None

    def joined(self, group: BoardGroup) -> str:
        text = self._kept(group)
        if text is None:
            text = joined_text(group.alerts)
            self._joined[group.key] = (group, text)
        return text

    def missing(self, groups: Sequence[BoardGroup]) -> list[BoardGroup]:
        """The groups whose joined text is not made yet."""
        return [group for group in groups if self._kept(group) is None]

    def adopt(self, groups: Sequence[BoardGroup], texts: Sequence[str]) -> None:
        """Joined texts made ahead, off the event loop (`joined_texts`), for `groups`."""
        for group, text in zip(groups, texts, strict=True):
            if self._kept(group) is None:
                self._joined[group.key] = (group, text)

    def decide(self, words: tuple[str, ...], groups: list[BoardGroup]) -> Decisions:
        """For each group of `groups` (the very list, which must not change while it is
        the board's): whether `words` take it whole, leave it out, or must be checked."""
        last = self._last
        if last is not None and last[0] == words and last[1] is groups:
            return last[2]
        whole = set(holding(words, [g.shared_text for g in groups]))
        rest = [i for i in range(len(groups)) if i not in whole]
        maybe = {rest[i] for i in holding(words, [self.joined(groups[i]) for i in rest])}
        decided: Decisions = {id(g): True for i, g in enumerate(groups) if i in whole}
        for i in rest:
            decided[id(groups[i])] = None if i in maybe else False
        self._last = (words, groups, decided)
        return decided

    def forget_all_but(self, keys: set[str]) -> None:
        for stale in [k for k in self._joined if k not in keys]:
            del self._joined[stale]
