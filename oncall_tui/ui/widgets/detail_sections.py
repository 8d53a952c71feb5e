"""The alert detail's sections built from what the board already holds: the title, labels,
annotations, timing, where, links and inhibiting alerts.

Plain functions from the data and a `Styler` (role name -> Style, from the screen's component
classes) to a `rich.text.Text`. Every untrusted string goes through `one_line`/`clean_lines`
into the Text, never markup, and only http(s) URLs become clickable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from rich.style import Style
from rich.text import Text

from oncall_tui.domain.alert_facts import (
    Rules,
    find_alert,
    link_items,
    local_time,
    relative,
    safe_link,
)
from oncall_tui.domain.board import PENDING_CLUSTER, BoardAlert, BoardModel
from oncall_tui.domain.sanitize import clean_lines, one_line
from oncall_tui.domain.severity import COLOURED
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.ui.widgets.slo_summary import Styler

KEY_WIDTH = 24
NOT_IN_AM = "none (pending alerts are not in Alertmanager)"

# The keys a reader looks for first; the rest follow in alphabetical order.
_FIRST = ("alertname", "severity", "summary", "description")


def _rank(key: str) -> int:
    return _FIRST.index(key) if key in _FIRST else len(_FIRST)


def is_pending(alert: BoardAlert) -> bool:
    """A pending alert comes from Prometheus alone; Alertmanager never sees it."""
    return alert.cluster == PENDING_CLUSTER


def field(text: Text, style: Styler, key: str, value: str | Text = "", width: int = 10) -> None:
    """One `key  value` line; the value is already safe (one_line'd or a Text)."""
    text.append(f"{key:<{width}} " if value else key, style=style("key"))
    text.append(value)
    text.append("\n")


def severity_style(style: Styler, severity: str) -> Style:
    name = severity.lower()
    return style(f"severity-{name}") if name in COLOURED else Style()


def title_text(alert: BoardAlert, style: Styler, *, gone: bool) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(
        f"{one_line(alert.severity or 'none', 12).upper()} ", severity_style(style, alert.severity)
    )
    text.append(one_line(alert.name, 80) or "(no alertname)", style("name"))
    # A held alert reads as the board shows it: unconfirmed, not the state it was last seen in.
    text.append(f"  {alert.shown_state}", style(f"state-{alert.shown_state}"))
    if alert.started is not None:
        age = short_duration((datetime.now(UTC) - alert.started).total_seconds())
        text.append(f"  {age}", style("muted"))
    text.append(f"  @{one_line(alert.cluster, 40)}", style("muted"))
    if alert.left_at is not None:
        left = datetime.fromtimestamp(alert.left_at).strftime("%H:%M:%S")
        text.append(f"  left Alertmanager {left}", style(f"state-{alert.shown_state}"))
    if gone:
        text.append("  (gone from the board)", style("error"))
    if alert.summary:
        text.append("\n" + one_line(alert.summary))
    if alert.unconfirmed:
        why = one_line(alert.unconfirmed, 200)
        text.append(f"\n? kept, unconfirmed: {why}", style("state-unconfirmed"))
    return text


def pairs_text(pairs: Mapping[str, str], style: Styler, *, multi_line: bool) -> Text:
    """Labels (one line each) or annotations (`multi_line`: a long value keeps its lines)."""
    if not pairs:
        return Text("none", style=style("muted"))
    width = min(KEY_WIDTH, max(len(k) for k in pairs))
    text = Text()
    for key, value in sorted(pairs.items(), key=lambda kv: (_rank(kv[0]), kv[0])):
        name = one_line(key, 80)
        if multi_line and "\n" in value.strip():
            field(text, style, name, width=width)
            for line in clean_lines(value):
                text.append(f"  {line}\n")
        else:
            field(text, style, name, one_line(value, 2000), width)
    text.rstrip()
    return text


def timing_text(alert: BoardAlert, rules: Rules | str | None, style: Styler) -> Text:
    """Started, and when it fires (pending, from the first matching rule's `for`) or ends."""
    pending = is_pending(alert)
    rule = rules[0][1] if isinstance(rules, list) and rules else None
    now = datetime.now(UTC)
    text = Text()
    if alert.started is not None:
        label = "pending" if pending else "started"
        when = f"{local_time(alert.started)}  ({relative(alert.started, now)})"
        field(text, style, label, when)
    else:
        field(text, style, "started", Text("unknown", style=style("muted")))
    if pending:
        if rule is not None and alert.started is not None:
            fires = alert.started + timedelta(seconds=rule.duration)
            when = f"{local_time(fires)}  ({relative(fires, now)}) if still true"
            field(text, style, "fires", when)
        else:
            field(text, style, "fires", Text("once its `for` has passed", style("muted")))
    elif alert.ends is not None and alert.ends > now + timedelta(minutes=30):
        field(text, style, "ends", f"{local_time(alert.ends)}  ({relative(alert.ends, now)})")
    elif alert.ends is not None:
        # Prometheus re-sends a firing alert with endsAt a few minutes ahead: not an end.
        field(text, style, "ends", Text("when it stops firing", style("muted")))
    text.rstrip()
    return text


def where_text(
    alert: BoardAlert, held: tuple[str, ...], cluster_peers: int | None, style: Styler
) -> Text:
    """Cluster, the peers that hold the alert (`held`) and receivers; `cluster_peers` is None
    when the cluster is not known."""
    text = Text()
    if is_pending(alert):
        field(text, style, "source", "Prometheus only: pending alerts are not sent to Alertmanager")
        text.rstrip()
        return text
    field(text, style, "cluster", one_line(alert.cluster, 80))
    holders = ", ".join(one_line(p, 200) for p in held) or "none"
    if cluster_peers is not None:
        holders += f"  ({len(held)} of {cluster_peers} peers)"
    field(text, style, "peers", holders)
    receivers = ", ".join(one_line(r, 80) for r in alert.receivers) or "none"
    field(text, style, "receivers", receivers)
    text.rstrip()
    return text


def links_text(alert: BoardAlert, style: Styler) -> Text:
    items = link_items(alert)
    if not items:
        return Text("none", style=style("muted"))
    width = min(KEY_WIDTH, max(len(k) for k, _ in items))
    text = Text()
    for key, url in items:
        shown = one_line(url, 2000)
        target = safe_link(url)
        value = Text(shown, style=Style(link=target, underline=True) if target else "")
        if target is None:
            value.append("  (not a web link)", style("muted"))
        field(text, style, one_line(key, 80), value, width)
    text.rstrip()
    return text


def inhibitors_text(alert: BoardAlert, model: BoardModel, style: Styler) -> Text:
    """The alerts inhibiting this one, looked up on the board by fingerprint."""
    muted = style("muted")
    if is_pending(alert):
        return Text(NOT_IN_AM, style=muted)
    if not alert.inhibited_by:
        if alert.state == "muted":
            # 0.28+: no alert inhibits it; a time interval mutes it for this receiver.
            text = Text("not inhibited; muted by time interval ", style=muted)
            names = ", ".join(one_line(n, 60) for n in alert.muted_by)
            text.append(names or "(named on /alerts/groups only)", style("state-muted"))
            return text
        return Text("not inhibited", style=muted)
    text = Text()
    for fingerprint in alert.inhibited_by:
        source = find_alert(model, alert.cluster, fingerprint)
        if source is None:
            text.append(one_line(fingerprint, 80))
            text.append("  not on the board\n", muted)
            continue
        text.append(one_line(source.name, 80) or "(no alertname)", style("name"))
        text.append(f"  {one_line(source.severity, 20)}", severity_style(style, source.severity))
        text.append(f"  {source.state}", style(f"state-{source.state}"))
        text.append(f"  {one_line(fingerprint, 40)}\n", muted)
        others = {k: v for k, v in source.labels.items() if k != "alertname"}
        labels = " ".join(
            f"{one_line(k, 80)}={one_line(v, 200)}" for k, v in sorted(others.items())
        )
        text.append(f"  {labels}\n")
    text.rstrip()
    return text
