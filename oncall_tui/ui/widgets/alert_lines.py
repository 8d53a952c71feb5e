"""One alert as one line of plain text (previews and lists): untrusted text made safe."""

from __future__ import annotations

from collections.abc import Collection

from rich.text import Text

from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.sanitize import one_line

_SKIP = frozenset({"alertname", "severity"})


def alert_line(alert: BoardAlert, hide: Collection[str] = ()) -> Text:
    """`critical  HighErrorRate  silenced  demo  instance=a pod=b`: labels other than `hide`."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{one_line(alert.severity or '-', 10):<10}", style="bold")
    text.append(f"{one_line(alert.name, 28):<28} ", style="bold")
    text.append(f"{one_line(alert.state, 10):<10}")
    text.append(f"{one_line(alert.cluster, 16)}  ", style="dim")
    labels = " ".join(
        f"{k}={v}" for k, v in sorted(alert.labels.items()) if k not in _SKIP and k not in hide
    )
    text.append(one_line(labels, 200), style="dim")
    return text
