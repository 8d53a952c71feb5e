"""What is read from each group of the board, read again only for the groups a poll changed.

A poll hands back the very same BoardGroup object for every group it left as it was (the
decoders, the merger and the builder reuse them). At 50,000 alerts with 1% changed, some
450 of 2,500 groups are new objects; a scan of every alert for each reader (the incidents'
firing alerts, the new-alert watch, the health store's names) was 10-20 ms each on the
event loop. Each reader keeps what it read per group instead, and only the changed groups
are read. A group's alert keys are made with the group (BoardGroup), off the event loop.

Alert keys are kept as tuples (a group's) and as dicts of strings to counts (a board's, a
cluster's: KeyCensus) or to None (key_index), not as frozensets. Python's cyclic collector
walks every set, while it stops tracking a tuple of strings and never tracks a dict of
strings to numbers or None: at 50,000 alerts the sets of keys were 170,000 of the 340,000
references a full pass visited (20-60 ms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from oncall_tui.domain.board import BoardGroup  # board.py uses this module

T = TypeVar("T")


class PerGroup(Generic[T]):
    """`read(group)` for each group, kept while the group is the same object. Keyed by the
    object's id while the object is held here, so a new object at a reused id is read."""

    def __init__(self, read: Callable[[BoardGroup], T]) -> None:
        self._read = read
        self._last: dict[int, tuple[BoardGroup, T]] = {}

    def __call__(self, groups: Iterable[BoardGroup]) -> list[T]:
        """What each group gives, in order; only the groups of this call are kept."""
        fresh: dict[int, tuple[BoardGroup, T]] = {}
        out: list[T] = []
        last, read = self._last, self._read
        for group in groups:
            found = last.get(id(group))
            if found is None or found[0] is not group:
                found = (group, read(group))
            fresh[id(group)] = found
            out.append(found[1])
        self._last = fresh
        return out


def union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    return frozenset().union(*sets)


KeyIndex = dict[str, None]  # alert keys, as a set the cyclic collector does not track


def key_index(parts: Iterable[tuple[str, ...]]) -> KeyIndex:
    """Every key of every part, once each, in order."""
    return dict.fromkeys(chain.from_iterable(parts))


class KeyCensus:
    """The alert keys of a list of groups, each with how many groups hold it, brought up to
    date from the last list by the groups that are new objects: at 50,000 alerts with 1%
    changed, some 9,000 keys in and as many out, where indexing all 50,000 anew and taking
    the difference with the last index took 25-30 ms a poll on the event loop."""

    def __init__(self, read: Callable[[BoardGroup], tuple[str, ...]]) -> None:
        self._read = read
        self._last: dict[int, tuple[BoardGroup, tuple[str, ...]]] = {}
        self.counts: dict[str, int] = {}  # key -> groups holding it
        self.held = 0  # keys summed over groups: as many as `counts` when no key is in two
        self.updates = 0

    def __len__(self) -> int:
        return len(self.counts)

    def __contains__(self, key: object) -> bool:
        return key in self.counts

    @property
    def unique(self) -> bool:
        """No key in two groups."""
        return self.held == len(self.counts)

    def update(self, groups: Iterable[BoardGroup]) -> tuple[list[str], list[str]]:
        """Take `groups` as the list now: (the keys that came, the keys that went).

        A new group that holds the same keys as the group of the same key it replaces
        (an annotation changed: the usual change) moves no count: at 50,000 alerts with 1%
        changed, counting its keys out and in again was most of this (9,000 keys each way)."""
        last, counts, read = self._last, self.counts, self._read
        fresh: dict[int, tuple[BoardGroup, tuple[str, ...]]] = {}
        new: list[BoardGroup] = []
        for group in groups:
            ident = id(group)
            if ident in fresh:
                continue  # the very same group listed twice holds its keys once
            found = last.get(ident)  # held there, so no other object has that id
            if found is None:
                new.append(group)
                found = (group, ())
            fresh[ident] = found
        left = [ident for ident in last if ident not in fresh]
        # The groups that left, by group key (of two with one key, either pairs correctly:
        # a pair only ever skips counting the very same keys out and in).
        by_key = {last[ident][0].key: ident for ident in left}
        came: list[str] = []
        kept: set[int] = set()  # groups that left, replaced by one with the same keys
        for group in new:
            keys = read(group)
            fresh[id(group)] = (group, keys)
            before = by_key.pop(group.key, None)
            if before is not None and last[before][1] == keys:
                kept.add(before)
                continue
            for key in keys:  # counted in before the old groups are counted out
                held = counts.get(key, 0)
                if not held:
                    came.append(key)
                counts[key] = held + 1
            self.held += len(keys)
        went: list[str] = []
        for ident in left:
            if ident in kept:
                continue
            keys = last[ident][1]
            for key in keys:
                held = counts[key] - 1
                if held:
                    counts[key] = held
                else:
                    del counts[key]
                    went.append(key)
            self.held -= len(keys)
        self._last = fresh
        self.updates += 1
        return came, went


def merged(dicts: Iterable[dict[str, T]]) -> dict[str, T]:
    """The dicts as one; a key in several keeps the last one's value."""
    out: dict[str, T] = {}
    for part in dicts:
        out.update(part)
    return out
