"""The alert board's model: groups as Alertmanager groups them, filtered, sorted, flattened.

Pure logic, so it is tested without a terminal and costs the UI nothing but a list of lines.
Groups are rebuilt only when their merged input changed (identity), so a quiet refresh of
10,000 alerts is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, Protocol

import msgspec
from msgspec.structs import force_setattr

from oncall_tui.domain.acks import Ack
from oncall_tui.domain.group_search import Decisions, GroupSearch, shared_labels, shared_text
from oncall_tui.domain.matchers import Filter, search_text
from oncall_tui.domain.merge import MergedAlert, MergedGroup
from oncall_tui.domain.per_group import KeyCensus, key_index
from oncall_tui.domain.severity import rank
from oncall_tui.wire.prometheus import RuleAlert

PENDING_CLUSTER = "prometheus"
PENDING_RECEIVER = "(pending)"
# "unconfirmed": left Alertmanager while a source was failing (domain/completeness.py);
# "resolved": listed in the board's recently resolved section.
STATES = (
    "active",
    "pending",
    "silenced",
    "inhibited",
    "muted",  # Alertmanager 0.28+: a time interval mutes it for this group's receiver
    "unprocessed",
    "unconfirmed",
    "resolved",
)
SORTS = ("severity", "age", "alertname")
INF = float("inf")


# msgspec Structs with gc=False rather than dataclasses: a 10k-alert board holds tens of
# thousands of these, they never form cycles, and the collector need not walk them.
class BoardAlert(msgspec.Struct, frozen=True, gc=False):
    key: str
    cluster: str
    fingerprint: str
    name: str
    severity: str
    state: str  # active | silenced | inhibited | muted | unprocessed | pending
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    started: datetime | None
    ends: datetime | None = None
    # Not which peers hold it: that is the merge's (AlertStore.peers_of). Every alert's peers
    # changed when the first board, read from one peer per cluster, met the second peers: all
    # 2,500 groups of 50,000 alerts were then built, kept and drawn anew for nothing shown.
    receivers: tuple[str, ...] = ()
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    muted_by: tuple[str, ...] = ()  # names of the time intervals (0.28+)
    generator_url: str = ""
    # Why the alert is shown though Alertmanager no longer lists it ("" when it does).
    unconfirmed: str = ""
    left_at: float | None = None  # when it left Alertmanager (time.time())
    # Derived from the above when the alert is made (__post_init__), for the sorts: the board
    # sorts every changed group's alerts on the event loop, and a key function in Python
    # (rank, timestamp, name) was 3 calls an alert, 9,000 alerts a poll at 50,000.
    severity_rank: int = 4
    started_ts: float = INF

    def __post_init__(self) -> None:
        force_setattr(self, "severity_rank", rank(self.severity))
        force_setattr(self, "started_ts", self.started.timestamp() if self.started else INF)

    @property
    def shown_state(self) -> str:
        return "unconfirmed" if self.unconfirmed else self.state

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("description", "")


_BY_SEVERITY = attrgetter("severity_rank", "started_ts", "name")  # the default sort's key


class BoardGroup(msgspec.Struct, frozen=True, gc=False):
    key: str
    cluster: str
    receiver: str
    labels: tuple[tuple[str, str], ...]
    alerts: tuple[BoardAlert, ...]
    # Label names whose values differ between the group's alerts: what tells them apart.
    varying: tuple[str, ...] = ()
    # Derived from the alerts when the group is made (__post_init__): the state layer makes
    # a poll's changed groups on the I/O thread, so the event loop only reads these. At
    # 50,000 alerts with 1% changed, reading keys and sorting there took 20-30 ms a poll.
    keys: tuple[str, ...] = ()  # every alert's key
    live: tuple[str, ...] = ()  # the keys of those not resolved
    by_severity: tuple[BoardAlert, ...] = ()  # the alerts in the board's default sort
    shared_text: str = ""  # the search text of the labels all its alerts share (a filter's)

    def __post_init__(self) -> None:
        alerts = self.alerts
        force_setattr(self, "keys", tuple(a.key for a in alerts))
        force_setattr(self, "live", tuple(a.key for a in alerts if a.state != "resolved"))
        force_setattr(self, "by_severity", tuple(sorted(alerts, key=_BY_SEVERITY)))
        if not self.shared_text:  # make_group gives it, from the labels it found shared
            force_setattr(self, "shared_text", shared_text(alerts))


class AlertFilter(Protocol):
    @property
    def is_empty(self) -> bool: ...

    def matches(
        self,
        labels: Mapping[str, str],
        annotations: Mapping[str, str] = ...,
        *,
        text: str | None = None,
    ) -> bool: ...


def board_alert(merged: MergedAlert) -> BoardAlert:
    alert = merged.alert
    labels, status, cluster = alert.labels, alert.status, merged.cluster
    # In the order of BoardAlert's fields, not by name: every alert of every group that
    # changed is made here (all 10,000 at start-up, before the first board), and msgspec
    # matching fifteen names took 11 of the 45 ms. The status's tuples are kept as they are.
    return BoardAlert(
        f"{cluster}/{alert.fingerprint}",  # key
        cluster,
        alert.fingerprint,
        labels.get("alertname", ""),  # name
        labels.get("severity", ""),  # severity
        alert.state,
        labels,
        alert.annotations,
        alert.starts_at,  # started
        alert.ends_at,  # ends
        tuple([r.name for r in alert.receivers]),  # receivers
        status.silenced_by,
        status.inhibited_by,
        status.muted_by,
        alert.generator_url,
    )


def pending_alert(held: RuleAlert) -> BoardAlert:
    labels = held.labels
    return BoardAlert(
        key="pending/" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        cluster=PENDING_CLUSTER,
        fingerprint="",
        name=labels.get("alertname", ""),
        severity=labels.get("severity", ""),
        state="pending",
        labels=labels,
        annotations=held.annotations,
        started=held.active_at,
    )


def _varying(
    alerts: Sequence[BoardAlert], grouped: Iterable[str], shared: Mapping[str, str]
) -> tuple[str, ...]:
    """The label names whose values differ between the alerts (missing counts as a value):
    every name some alert has, but those all of them have with one value (`shared`)."""
    if len(alerts) < 2:
        return ()
    skip = {*grouped, "alertname", "severity", *shared}
    names: set[str] = set()
    for alert in alerts:
        names.update(alert.labels)
    return tuple(sorted(names - skip))


def group_key(cluster: str, receiver: str, labels: tuple[tuple[str, str], ...]) -> str:
    return f"{cluster}|{receiver}|" + ",".join(f"{k}={v}" for k, v in labels)


def make_group(
    cluster: str, receiver: str, labels: tuple[tuple[str, str], ...], alerts: Sequence[BoardAlert]
) -> BoardGroup:
    key = group_key(cluster, receiver, labels)
    # The labels all its alerts share tell both what varies and what a filter finds in the
    # whole group: found once (a comparison per label per alert took 17 ms at 10,000).
    shared = shared_labels(alerts)
    varying = _varying(alerts, (k for k, _ in labels), shared)
    return BoardGroup(
        key, cluster, receiver, labels, tuple(alerts), varying, shared_text=search_text(shared)
    )


def _board_group(group: MergedGroup) -> BoardGroup:
    alerts = [board_alert(a) for a in group.alerts]
    return make_group(group.cluster, group.receiver, group.labels, alerts)


class GroupBuilder:
    """MergedGroups (and pending alerts) to BoardGroups, reusing those whose input is unchanged,
    and those built anew that come out equal to the last board's group of the same key.

    The second matters as much as the first: a merged group changes with what the board does
    not show (which peers hold an alert, a copy fresher by its updatedAt), and everything
    after the builder (the ledger, the board's lines, the incident book) tells a changed
    group by identity. An equal group handed back as the very object costs them nothing.
    """

    def __init__(self) -> None:
        self._last: dict[int, tuple[MergedGroup, BoardGroup]] = {}
        self._ready: dict[int, tuple[MergedGroup, BoardGroup]] = {}  # built by `prepare`
        self._shown: dict[str, BoardGroup] = {}  # the last board's groups, by key

    def _fresh(self, group: MergedGroup) -> BoardGroup:
        board = _board_group(group)
        before = self._shown.get(board.key)
        return before if before is not None and before == board else board

    def _cached(self, group: MergedGroup) -> BoardGroup | None:
        for cache in (self._last, self._ready):
            found = cache.get(id(group))
            if found is not None and found[0] is group:
                return found[1]
        return None

    def prepare(self, merged: Iterable[MergedGroup]) -> int:
        """Build ahead the groups `build` would build anew; how many. The state layer calls
        it in a worker thread, so a refresh that changed many groups does not hold the event
        loop while they are built; `build` then takes them."""
        built = 0
        for group in merged:
            if self._cached(group) is None:
                self._ready[id(group)] = (group, self._fresh(group))
                built += 1
        return built

    def build(
        self, merged: Iterable[MergedGroup], pending: Iterable[RuleAlert] = ()
    ) -> list[BoardGroup]:
        fresh: dict[int, tuple[MergedGroup, BoardGroup]] = {}
        out = []
        for group in merged:
            board = self._cached(group)
            if board is None:
                board = self._fresh(group)
            fresh[id(group)] = (group, board)
            out.append(board)
        self._last = fresh
        self._ready = {}
        self._shown = {board.key: board for board in out}
        by_name: dict[str, list[BoardAlert]] = {}
        for held in pending:
            alert = pending_alert(held)
            by_name.setdefault(alert.name, []).append(alert)
        for name, alerts in by_name.items():
            out.append(
                make_group(PENDING_CLUSTER, PENDING_RECEIVER, (("alertname", name),), alerts)
            )
        return out


SortKey = Callable[[BoardAlert], tuple[Any, ...]]


def alert_sort_key(mode: str) -> SortKey:
    """The key function for a sort mode: severity, age, alertname, or label:NAME."""
    if mode == "age":
        return lambda a: (-a.started_ts, a.severity_rank, a.name)
    if mode == "alertname":
        return attrgetter("name", "severity_rank", "started_ts")
    if mode.startswith("label:"):
        name = mode.removeprefix("label:")
        return lambda a: (a.labels.get(name) is None, a.labels.get(name, ""), a.severity_rank)
    return _BY_SEVERITY


class Line(msgspec.Struct, frozen=True, gc=False):
    """One line of the board: a group header (alert is None) or one of its alerts."""

    group: BoardGroup
    alert: BoardAlert | None
    # The group's alerts that pass the filter: set on headers, and on the single line that
    # stands for a group of one alert.
    shown: tuple[BoardAlert, ...] = ()

    @property
    def is_single(self) -> bool:
        return self.alert is not None and bool(self.shown)

    @property
    def key(self) -> str:
        return self.alert.key if self.alert is not None else self.group.key


# A group's place on the board (resolved section last, sort key, group key), its lines and
# its live alerts' keys.
Block = tuple[tuple[bool, tuple[Any, ...], str], list["Line"], tuple[str, ...]]


@dataclass
class BoardModel:
    """What the board shows: data, filter, toggles, sort, which groups are open."""

    groups: list[BoardGroup] = field(default_factory=list)
    filter: AlertFilter | None = None
    sort: str = "severity"
    hide_silenced: bool = False
    hide_inhibited: bool = False
    hide_muted: bool = False
    # A label every row shows: the owner label of a context with several query backends
    # (`cluster`), so that two clusters' copies of one alert are told apart at a glance.
    owner_label: str = ""
    expanded: dict[str, bool] = field(default_factory=dict)
    expand_by_default: bool = True
    compact_single: bool = True
    new_keys: frozenset[str] = frozenset()
    acks: Mapping[str, Ack] = field(default_factory=dict)  # silence ID -> the ack
    # Acks as (ack, matchers): a pending alert is in no Alertmanager yet, so its ack is found
    # by matching the ack silence's matchers against its labels.
    ack_rules: tuple[tuple[Ack, tuple[Callable[[Mapping[str, str]], bool], ...]], ...] = ()
    # The live alerts' keys of all groups (a key in two groups counts once for `total`).
    _census: KeyCensus = field(
        default_factory=lambda: KeyCensus(attrgetter("live")), compare=False, repr=False
    )
    _lines: tuple[Line, ...] | None = None
    _shown_cache: dict[str, tuple[BoardGroup, tuple[object, ...], tuple[BoardAlert, ...]]] = field(
        default_factory=dict
    )
    _lines_cache: dict[str, tuple[BoardGroup, tuple[BoardAlert, ...], bool, list[Line]]] = field(
        default_factory=dict
    )
    # Each group's alerts in the sort's order: a filter keeps that order, so a key typed in
    # the filter sorts nothing (at 50,000 alerts the sorting alone took about 80 ms a key).
    _sorted_cache: dict[str, tuple[BoardGroup, str, tuple[BoardAlert, ...]]] = field(
        default_factory=dict
    )
    # Each alert's free-text search text (matchers.search_text), built at its first filter
    # with words and kept while the alert object is the same: about 40% of a filter's cost.
    _texts: dict[str, tuple[BoardAlert, str]] = field(default_factory=dict)
    # A filter of words takes or leaves most groups whole by their texts, looked for in all
    # groups at once: at 50,000 alerts, a key in the filter checked each alert (about 100
    # ms) before, then each group (40-70 ms).
    _search: GroupSearch = field(default_factory=GroupSearch, compare=False, repr=False)
    # Per group: its sorted alerts' search texts, in that order (a filter of words).
    _ordered_texts: dict[str, tuple[tuple[BoardAlert, ...], tuple[str, ...]]] = field(
        default_factory=dict
    )
    # Per group: its shown alerts' keys but the resolved ones, for `matched`.
    _live: dict[str, tuple[tuple[BoardAlert, ...], tuple[str, ...]]] = field(default_factory=dict)
    # Per group: (group, view, open, its block) as `lines` last placed it.
    _blocks: dict[str, tuple[BoardGroup, tuple[object, ...], bool, Block | None]] = field(
        default_factory=dict
    )
    _unique: bool = True
    _hidden: frozenset[str] = frozenset()
    _last_view: tuple[object, ...] = ()
    matched: int = 0
    total: int = 0

    def ack_of(self, alert: BoardAlert) -> Ack | None:
        """The alert's ack (`a`: a short silence marked as an ack), if anyone took it."""
        if alert.state == "pending":
            for ack, tests in self.ack_rules:
                if tests and all(test(alert.labels) for test in tests):
                    return ack
            return None
        if not self.acks:
            return None
        for silence_id in alert.silenced_by:
            if (found := self.acks.get(silence_id)) is not None:
                return found
        return None

    def acked_by(self, alert: BoardAlert) -> str | None:
        ack = self.ack_of(alert)
        return ack.who if ack is not None else None

    def set_groups(self, groups: list[BoardGroup]) -> None:
        """New data; alerts not seen in the previous data are remembered as new."""
        census = self._census
        first = not census.updates
        came, _ = census.update(groups)
        self._unique = census.unique  # no alert in two groups: counts add up
        self.new_keys = frozenset() if first else frozenset(came)
        self.groups = groups
        self.total = len(census)
        self.invalidate()

    def invalidate(self) -> None:
        self._lines = None

    def _hidden_states(self) -> frozenset[str]:
        return frozenset(
            state
            for state, hide in (
                ("silenced", self.hide_silenced),
                ("inhibited", self.hide_inhibited),
                ("muted", self.hide_muted),
            )
            if hide
        )

    def _text(self, alert: BoardAlert) -> str:
        kept = self._texts.get(alert.key)
        if kept is not None and kept[0] is alert:
            return kept[1]
        text = search_text(alert.labels, alert.annotations)
        self._texts[alert.key] = (alert, text)
        return text

    def unsearched(self) -> list[BoardGroup]:
        """The groups a filter of words would make texts for (group_search.joined_texts
        makes them ahead, off the event loop, for `searched`)."""
        return self._search.missing(self.groups)

    def searched(self, groups: Sequence[BoardGroup], texts: Sequence[str]) -> None:
        self._search.adopt(groups, texts)

    def is_open(self, group: BoardGroup) -> bool:
        return self.expanded.get(group.key, self.expand_by_default)

    def toggle(self, group_key: str) -> None:
        group = next((g for g in self.groups if g.key == group_key), None)
        if group is not None:
            self.expanded[group_key] = not self.is_open(group)
            self.invalidate()

    def expand_all(self, value: bool) -> None:
        self.expanded.clear()
        self.expand_by_default = value
        self.invalidate()

    def _view(self) -> tuple[object, ...]:
        """What decides which alerts show: the very same tuple while it holds, so the
        caches compare it by identity (a filter's __eq__ per group was 5 ms a key)."""
        view = (self.sort, self.filter, self.hide_silenced, self.hide_inhibited, self.hide_muted)
        if view == self._last_view:
            return self._last_view
        self._last_view = view
        return view

    def _shown(
        self, group: BoardGroup, view: tuple[object, ...], decided: Decisions | None
    ) -> tuple[BoardAlert, ...]:
        """The group's alerts that pass, sorted; reused while the group and the view hold.
        `decided`: a filter of words only's verdicts on whole groups (GroupSearch)."""
        cached = self._shown_cache.get(group.key)
        if cached is not None and cached[0] is group and cached[1] is view:
            return cached[2]
        ordered = self._sorted(group)
        hidden = self._hidden
        flt = None if self.filter is None or self.filter.is_empty else self.filter
        whole = None if decided is None else decided.get(id(group))
        if flt is None or whole is True:
            shown = tuple(a for a in ordered if a.state not in hidden) if hidden else ordered
        elif whole is False:
            shown = ()
        elif isinstance(flt, Filter) and flt.words_only:  # words only: each alert's text
            # One pass per word over the group's texts, with no call per alert: at 50,000
            # alerts a key typed in the filter took 90-150 ms through `matches`.
            texts = self._texts_of(group.key, ordered)
            keep: Iterable[int] = range(len(ordered))
            for word in flt.folded_words:
                keep = [i for i in keep if word in texts[i]]
            shown = tuple(a for i in keep if (a := ordered[i]).state not in hidden)
        else:  # every alert checked: this runs at every key typed in the filter
            match, text = flt.matches, self._text
            shown = tuple(
                a
                for a in ordered
                if a.state not in hidden and match(a.labels, a.annotations, text=text(a))
            )
        self._shown_cache[group.key] = (group, view, shown)
        return shown

    def _texts_of(self, group_key: str, ordered: tuple[BoardAlert, ...]) -> tuple[str, ...]:
        """The search texts of a group's sorted alerts, kept while that tuple is the same."""
        cached = self._ordered_texts.get(group_key)
        if cached is not None and cached[0] is ordered:
            return cached[1]
        texts = tuple(map(self._text, ordered))
        self._ordered_texts[group_key] = (ordered, texts)
        return texts

    def _live_keys(self, group: BoardGroup, shown: tuple[BoardAlert, ...]) -> tuple[str, ...]:
        if shown is group.by_severity:
            return group.live
        cached = self._live.get(group.key)
        if cached is not None and cached[0] is shown:
            return cached[1]
        keys = tuple(a.key for a in shown if a.state != "resolved")
        self._live[group.key] = (shown, keys)
        return keys

    def _sorted(self, group: BoardGroup) -> tuple[BoardAlert, ...]:
        if self.sort == "severity":
            return group.by_severity
        cached = self._sorted_cache.get(group.key)
        if cached is not None and cached[0] is group and cached[1] == self.sort:
            return cached[2]
        ordered = tuple(sorted(group.alerts, key=alert_sort_key(self.sort)))
        self._sorted_cache[group.key] = (group, self.sort, ordered)
        return ordered

    def _group_lines(self, group: BoardGroup, shown: tuple[BoardAlert, ...]) -> list[Line]:
        is_open = self.is_open(group)
        cached = self._lines_cache.get(group.key)
        if (
            cached is not None
            and cached[0] is group
            and cached[1] is shown
            and cached[2] == is_open
        ):
            return cached[3]
        # (The recently resolved section keeps its header: it says what the row is.)
        if (
            self.compact_single
            and len(shown) == 1
            and len(group.alerts) == 1
            and shown[0].state != "resolved"
        ):
            # A group of one says nothing its alert does not: one line, not two.
            lines = [Line(group, shown[0], shown)]
        else:
            lines = [Line(group, None, shown)]
            if is_open:
                lines.extend(Line(group, alert) for alert in shown)
        self._lines_cache[group.key] = (group, shown, is_open, lines)
        return lines

    def lines(self) -> tuple[Line, ...]:
        """The board, flattened; a quiet refresh reuses every group's sorted lines."""
        if self._lines is not None:
            return self._lines
        key = alert_sort_key(self.sort)
        view = self._view()
        self._hidden = self._hidden_states()
        flt = self.filter
        words = flt.folded_words if isinstance(flt, Filter) and flt.words_only else ()
        decided = None  # made at the first group to filter (none, on a quiet refresh)
        blocks: list[Block] = []
        cache = self._blocks
        # A group the poll left as it was, under the same view, keeps its whole block (its
        # place in the sort, its lines, its live keys): at 50,000 alerts in 2,500 groups
        # the walk took 40-50 ms a poll, now spent on the changed groups only.
        for group in self.groups:
            group_key = group.key
            is_open = self.is_open(group)
            cached = cache.get(group_key)
            if (
                cached is not None
                and cached[0] is group
                and cached[2] == is_open
                and cached[1] is view
            ):
                if cached[3] is not None:
                    blocks.append(cached[3])
                continue
            block = None
            if words and decided is None:
                decided = self._search.decide(words, self.groups)
            shown = self._shown(group, view, decided)
            if shown:
                # The recently resolved section stays at the bottom, whatever the sort.
                place = (shown[0].state == "resolved", key(shown[0]), group_key)
                block = (place, self._group_lines(group, shown), self._live_keys(group, shown))
                blocks.append(block)
            cache[group_key] = (group, view, is_open, block)
        blocks.sort(key=itemgetter(0))
        # A tuple: the collector stops tracking it (a list of 50,000 lines it walks each pass).
        self._lines = tuple(chain.from_iterable(b[1] for b in blocks))
        live = [b[2] for b in blocks]
        self.matched = sum(map(len, live)) if self._unique else len(key_index(live))
        if len(cache) > len(self.groups):  # groups gone: forget what was kept for them
            self._forget_gone()
        if len(self._texts) > 2 * self.total + 64:  # alerts gone: forget their texts
            alive = {a.key for g in self.groups for a in g.alerts}
            self._texts = {k: v for k, v in self._texts.items() if k in alive}
        return self._lines

    def _forget_gone(self) -> None:
        keys = {g.key for g in self.groups}
        caches = (
            self._blocks,
            self._shown_cache,
            self._lines_cache,
            self._sorted_cache,
            self._ordered_texts,
            self._live,
        )
        for cache in caches:
            for stale in [k for k in cache if k not in keys]:
                del cache[stale]
        self._search.forget_all_but(keys)


def state_counts(alerts: Iterable[BoardAlert]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for alert in alerts:
        state = alert.shown_state
        counts[state] = counts.get(state, 0) + 1
    return counts


def top_severity(alerts: Iterable[BoardAlert]) -> str:
    best = min(alerts, key=attrgetter("severity_rank"), default=None)
    return best.severity if best is not None else ""
