"""Is paging working? Plain verdicts over what Alertmanager and Prometheus say of themselves.

Inputs are their `/metrics` pages (Prometheus text format), the rules API and the alerts the
board holds; each check gives a `Verdict` with a level and the words an engineer reads at
3 a.m. Counters are compared between polls: "failing now" means the failure counter grew in
the latest poll step in which anything was sent, so a mended receiver clears on the first poll
that sees a notification go through (and a quiet poll, with nothing due, changes nothing),
while the count over the last WINDOW says how bad it was.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from oncall_tui.wire.prometheus import RuleGroup

OK, WARN, BAD, UNKNOWN = "ok", "warn", "bad", "unknown"
WINDOW = 600.0  # "in the last 10m"

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Key = tuple[str, tuple[tuple[str, str], ...]]
Metrics = dict[Key, float]


@dataclass(frozen=True)
class Verdict:
    backend: str  # "alertmanager demo", "prometheus"
    check: str
    level: str  # ok | warn | bad | unknown
    words: str


# The series the checks read (state/health.py): the rest of a page is not parsed.
HEALTH_METRICS = (
    "alertmanager_config_last_reload_successful",
    "alertmanager_notification_requests_",
    "alertmanager_notifications_",
    "process_start_time_seconds",
    "prometheus_config_last_reload_successful",
    "prometheus_notifications_",
)


def parse_metrics(text: str, only: tuple[str, ...] = ()) -> Metrics:
    """Prometheus text exposition: (name, sorted labels) -> value; comments skipped.
    `only`: just the series whose names begin with one of these (a page of Alertmanager
    0.25 is about 500 lines, of which the health checks read some 40: parsed every poll
    for ten peers, the whole pages took 130 ms of the I/O thread a poll)."""
    out: Metrics = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or (only and not line.startswith(only)):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            continue
        labels = tuple(sorted(_LABEL.findall(m[3] or "")))
        try:
            out[(m[1], labels)] = float(m[4])
        except ValueError:
            continue
    return out


def series(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: v for (n, labels), v in metrics.items() if n == name}


def by_label(metrics: Metrics, name: str, label: str) -> dict[str, float]:
    """The sum of a metric's series per value of one label."""
    out: dict[str, float] = {}
    for labels, value in series(metrics, name).items():
        key = dict(labels).get(label, "")
        out[key] = out.get(key, 0.0) + value
    return out


def by_reason(metrics: Metrics) -> dict[str, float]:
    """`alertmanager_notifications_failed_total` per "integration/reason". Alertmanager 0.26+
    labels its failed notifications with a `reason` (clientError, serverError, contextCanceled,
    contextDeadlineExceeded, other); 0.25 has no such label, and this is empty."""
    out: dict[str, float] = {}
    for labels, v in series(metrics, "alertmanager_notifications_failed_total").items():
        found = dict(labels)
        if "reason" in found:
            key = f"{found.get('integration', '')}/{found['reason']}"
            out[key] = out.get(key, 0.0) + v
    return out


def value(metrics: Metrics, name: str) -> float | None:
    found = series(metrics, name)
    return sum(found.values()) if found else None


def increase(old: float | None, new: float) -> float:
    """A counter's increase; a reset (new < old) counts from zero."""
    if old is None:
        return 0.0
    return new if new < old else new - old


@dataclass
class CounterHistory:
    """Counter readings over WINDOW, per key, so "failed in the last 10m" can be said."""

    readings: list[tuple[float, dict[str, float]]]

    @classmethod
    def empty(cls) -> CounterHistory:
        return cls([])

    def add(self, at: float, values: Mapping[str, float]) -> None:
        self.readings.append((at, dict(values)))
        while len(self.readings) > 2 and at - self.readings[1][0] >= WINDOW:
            self.readings.pop(0)

    def last_step(self, key: str) -> float:
        if len(self.readings) < 2:
            return 0.0
        return increase(self.readings[-2][1].get(key), self.readings[-1][1].get(key, 0.0))

    def in_window(self, key: str) -> float:
        total = 0.0
        for (_, a), (_, b) in zip(self.readings, self.readings[1:], strict=False):
            total += increase(a.get(key), b.get(key, 0.0))
        return total


def failing_lately(failed: CounterHistory, sent: CounterHistory, key: str) -> float:
    """Failures in the latest poll step in which anything was sent or failed. A quiet step (no
    notification was due: a repeat interval is hours long) keeps the last word, so a receiver
    that is still broken does not look mended between two flushes; the first step with a
    success and no failure clears it."""
    sent_at = dict(sent.readings)
    steps = list(zip(failed.readings, failed.readings[1:], strict=False))
    for (t0, a), (t1, b) in reversed(steps):
        grew = increase(a.get(key), b.get(key, 0.0))
        if grew > 0:
            return grew
        before, after = sent_at.get(t0, {}), sent_at.get(t1, {})
        if increase(before.get(key), after.get(key, 0.0)) > 0:
            return 0.0
    return 0.0


def _reasons(reasons: CounterHistory | None, integration: str) -> str:
    """ "; reasons: serverError 4, clientError 1" over the last WINDOW ("" when not told)."""
    if reasons is None:
        return ""
    prefix = integration + "/"
    keys = {k for _, values in reasons.readings for k in values if k.startswith(prefix)}
    counts = sorted(((reasons.in_window(k), k.removeprefix(prefix)) for k in keys), reverse=True)
    said = [f"{reason} {n:g}" for n, reason in counts if n > 0]
    return f"; reasons: {', '.join(said)}" if said else ""


def notification_verdicts(
    backend: str,
    failed: CounterHistory,
    sent: CounterHistory,
    integrations: Iterable[str],
    reasons: CounterHistory | None = None,
) -> list[Verdict]:
    out = []
    for integration in sorted(set(integrations)):
        now = failing_lately(failed, sent, integration)
        recent = failed.in_window(integration)
        attempts = sent.in_window(integration)
        why = _reasons(reasons, integration)
        if now > 0:
            out.append(
                Verdict(
                    backend,
                    f"notifications: {integration}",
                    BAD,
                    f"paging may be failing: {recent:g} notifications to {integration} failed "
                    f"in the last 10m (of {attempts:g} sent){why}",
                )
            )
        elif recent > 0:
            out.append(
                Verdict(
                    backend,
                    f"notifications: {integration}",
                    WARN,
                    f"{recent:g} notifications to {integration} failed in the last 10m; "
                    f"none since the last check{why}",
                )
            )
        else:
            out.append(
                Verdict(
                    backend,
                    f"notifications: {integration}",
                    OK,
                    f"{attempts:g} sent in the last 10m, none failed",
                )
            )
    return out


def reload_verdict(backend: str, metrics: Metrics, name: str) -> Verdict:
    ok = value(metrics, name)
    if ok is None:
        return Verdict(backend, "config reload", UNKNOWN, f"{name} not exposed")
    if ok < 1:
        return Verdict(
            backend,
            "config reload",
            BAD,
            "the last configuration reload FAILED: it runs an older configuration",
        )
    return Verdict(backend, "config reload", OK, "last configuration reload succeeded")


def peers_verdict(backend: str, up: int, expected: int, members: int | None) -> Verdict:
    if up < expected:
        return Verdict(
            backend, "peers", BAD if up == 0 else WARN, f"{up} of {expected} peers answer"
        )
    if members is not None and members < expected:
        return Verdict(
            backend,
            "peers",
            WARN,
            f"the cluster sees {members} members, {expected} expected (gossip split?)",
        )
    return Verdict(backend, "peers", OK, f"{up} of {expected} peers answer")


# A Watchdog reaches a fresh Alertmanager only after Prometheus's first evaluations (an
# evaluation interval of 1m is common): until then its absence says nothing.
WATCHDOG_GRACE = 120.0


def watchdog_verdict(
    backend: str,
    name: str,
    alert_names: Collection[str],
    started: float | None = None,
    now: float | None = None,
) -> Verdict:
    """`started`: when the newest Alertmanager peer started (epoch seconds), if known."""
    if name in alert_names:
        return Verdict(backend, "watchdog", OK, f"{name} is firing, as it should")
    age = None if started is None or now is None else now - started
    if age is not None and age < WATCHDOG_GRACE:
        return Verdict(
            backend,
            "watchdog",
            UNKNOWN,
            f"no {name} alert yet: Alertmanager started {max(age, 0):.0f}s ago"
            f" (waiting up to {WATCHDOG_GRACE:.0f}s for Prometheus's first evaluations)",
        )
    return Verdict(
        backend,
        "watchdog",
        BAD,
        f"no {name} alert: alerts from Prometheus may not be reaching Alertmanager",
    )


def prometheus_notify_verdicts(
    backend: str, errors: CounterHistory, dropped: CounterHistory, metrics: Metrics
) -> list[Verdict]:
    out = []
    err_now, err_recent = errors.last_step("all"), errors.in_window("all")
    drop_now, drop_recent = dropped.last_step("all"), dropped.in_window("all")
    queue = value(metrics, "prometheus_notifications_queue_length") or 0.0
    capacity = value(metrics, "prometheus_notifications_queue_capacity")
    if err_now > 0 or drop_now > 0:
        out.append(
            Verdict(
                backend,
                "alerts to Alertmanager",
                BAD,
                f"sending alerts to Alertmanager fails: {err_recent:g} errors, "
                f"{drop_recent:g} dropped in the last 10m",
            )
        )
    elif err_recent or drop_recent:
        out.append(
            Verdict(
                backend,
                "alerts to Alertmanager",
                WARN,
                f"{err_recent:g} errors, {drop_recent:g} dropped in the last 10m; none since",
            )
        )
    else:
        out.append(Verdict(backend, "alerts to Alertmanager", OK, "no errors, nothing dropped"))
    if capacity and queue >= 0.5 * capacity:
        out.append(Verdict(backend, "notification queue", WARN, f"queue {queue:g} of {capacity:g}"))
    return out


def rule_verdicts(backend: str, groups: Sequence[RuleGroup], now: datetime) -> list[Verdict]:
    """Rules failing to evaluate; groups slower than their interval, or not evaluated lately."""
    failing = [r.name for g in groups for r in g.rules if r.health == "err" or r.last_error]
    slow, stale = [], []
    for g in groups:
        if g.interval and g.evaluation_time > g.interval:
            slow.append(g.name)
        last = g.last_evaluation
        if last is not None and last.year > 1 and g.interval:
            behind = (now - last).total_seconds()
            if not math.isnan(behind) and behind > 3 * g.interval + 30:
                stale.append(g.name)
    out = []
    if failing:
        names = ", ".join(failing[:5]) + (
            f" and {len(failing) - 5} more" if len(failing) > 5 else ""
        )
        out.append(Verdict(backend, "rule evaluation", BAD, f"{len(failing)} rules fail: {names}"))
    else:
        out.append(Verdict(backend, "rule evaluation", OK, f"{len(groups)} groups evaluate"))
    if slow or stale:
        out.append(
            Verdict(
                backend,
                "rule groups",
                WARN,
                "; ".join(
                    filter(
                        None,
                        [
                            f"slower than their interval: {', '.join(slow[:5])}" if slow else "",
                            f"not evaluated lately: {', '.join(stale[:5])}" if stale else "",
                        ],
                    )
                ),
            )
        )
    return out


def targets_verdict(backend: str, down: Mapping[str, int], jobs: Iterable[str]) -> Verdict:
    """Scrape targets down, for the jobs the alerting rules use."""
    wanted = set(jobs)
    hit = {job: n for job, n in down.items() if not wanted or job in wanted}
    if not hit:
        return Verdict(backend, "scrape targets", OK, "every target of the rules' jobs is up")
    words = ", ".join(f"{job}: {n} down" for job, n in sorted(hit.items()))
    return Verdict(backend, "scrape targets", WARN, words)


def rule_jobs(groups: Sequence[RuleGroup]) -> set[str]:
    """The `job` values the alerting rules name in their expressions."""
    found: set[str] = set()
    for g in groups:
        for r in g.rules:
            found.update(re.findall(r'job\s*=~?\s*"([^"]*)"', r.query))
    return found


def failing(verdicts: Sequence[Verdict]) -> frozenset[tuple[str, str]]:
    """Which checks fail, without their counts: what changes when something new breaks, and
    stays the same while the same thing goes on failing."""
    return frozenset((v.backend, v.check) for v in verdicts if v.level == BAD)


def headline(verdicts: Sequence[Verdict]) -> str:
    """What the status line says when the pipeline fails, whatever view is open ("" if not)."""
    bad = [v for v in verdicts if v.level == BAD]
    if not bad:
        return ""
    first = bad[0]
    more = f" (+{len(bad) - 1} more, :health)" if len(bad) > 1 else " (:health)"
    return f"{first.backend}: {first.words}{more}"
