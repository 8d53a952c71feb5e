"""`:query` history, kept across runs in `$XDG_DATA_HOME/oncall-tui/query_history`.

Queries may name tenants, services or customers: the file is the user's alone (0600, in a
0700 directory). One query per line, oldest first, the last `LIMIT` kept.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

LIMIT = 500


def history_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "oncall-tui" / "query_history"


class QueryHistory:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()
        self.entries: list[str] = self._load()
        self.problem = ""

    def _load(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip()][-LIMIT:]

    def add(self, query: str) -> None:
        """Remember `query` (once, as the newest) and write the file; failures are kept in
        `problem` for the screen to show, never raised: history is a convenience."""
        query = " ".join(query.split())
        if not query:
            return
        if query in self.entries:
            self.entries.remove(query)
        self.entries.append(query)
        del self.entries[:-LIMIT]
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("\n".join(self.entries) + "\n")
            os.chmod(self.path, 0o600)  # an older file made with a looser umask
            self.problem = ""
        except OSError as exc:
            self.problem = f"history not saved: {exc.strerror or exc}"
