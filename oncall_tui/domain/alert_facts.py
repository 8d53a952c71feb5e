"""Facts about one alert for the detail view: pure logic, no Textual.

Times as an on-call engineer reads them, which links are safe to offer, the alert's labels
as matchers, the alerting rules that produce it, and the alerts it refers to by fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from oncall_tui.domain.board import BoardAlert, BoardModel
from oncall_tui.domain.matchers import quote
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.wire.prometheus import Rule, RuleGroup

Rules = list[tuple[RuleGroup, Rule]]


def local_time(moment: datetime) -> str:
    """The moment in the local zone, with the zone's name so nobody has to guess."""
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.strftime("%Z") or local.strftime("%z"))


def relative(moment: datetime, now: datetime) -> str:
    """ "12m ago" or "in 3m", as an on-call engineer says it."""
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 1:
        return "now"
    span = short_duration(abs(seconds))
    return f"in {span}" if seconds > 0 else f"{span} ago"


def safe_link(url: str) -> str | None:
    """`url` if a terminal may offer it as a link: http(s), a host, no spaces or controls."""
    if url != one_line(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link_items(alert: BoardAlert) -> list[tuple[str, str]]:
    """Runbook first, then annotations naming a dashboard or URL, then the generator URL."""
    items = []
    if alert.annotations.get("runbook_url"):
        items.append(("runbook_url", alert.annotations["runbook_url"]))
    for key, value in sorted(alert.annotations.items()):
        lowered = key.lower()
        if key != "runbook_url" and value and ("dashboard" in lowered or "url" in lowered):
            items.append((key, value))
    if alert.generator_url:
        items.append(("generator", alert.generator_url))
    return items


def label_matchers(labels: Mapping[str, str]) -> str:
    """The labels as Alertmanager matchers, alertname first: what `amtool` and silences read."""
    names = sorted(labels, key=lambda n: (n != "alertname", n))
    return "{" + ", ".join(f"{n}={quote(labels[n])}" for n in names) + "}"


def matching_rules(groups: Iterable[RuleGroup], alert: BoardAlert) -> Rules:
    """Alerting rules named like the alert whose labels the alert carries.

    A templated rule label (`{{ $labels.x }}`) is expanded in the alert, so it matches anything.
    """
    found = []
    for group in groups:
        for rule in group.rules:
            if rule.name != alert.name:
                continue
            if all(
                "{{" in value or alert.labels.get(name) == value
                for name, value in rule.labels.items()
            ):
                found.append((group, rule))
    return found


def find_alert(model: BoardModel, cluster: str, fingerprint: str) -> BoardAlert | None:
    for group in model.groups:
        if group.cluster != cluster:
            continue
        for alert in group.alerts:
            if alert.fingerprint == fingerprint:
                return alert
    return None
