"""Where an alert's runbook lives, and what kind of document came back: pure logic.

Candidates, in the order they are tried: a local runbook folder holding `ALERTNAME.md`
(fast, works offline, what the demo uses), the alert's runbook annotations (configurable
names), then a URL template filled with the alert's labels. GitHub and GitLab "blob" pages
are turned into their raw files, so the Markdown arrives instead of a web page around it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from oncall_tui.domain.promql import MissingLabel, fill_labels
from oncall_tui.domain.runbook_policy import FILE_RULE
from oncall_tui.wire.documents import Refusal

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
# Shell-like fences are shown and copied, never run; PromQL fences can be run.
PROMQL_LANGUAGES = frozenset({"promql", "prometheus", "prom", "query"})
_SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9_.:-]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place the runbook may be: an http(s) URL or a local file, and why we think so."""

    kind: str  # "url" | "file"
    location: str  # URL, or the decoded path (not yet checked against the runbook folders)
    origin: str  # "folder PATH", "annotation runbook_url", "url_template"
    shown: str = ""  # the link as the user knows it (the blob URL before raw rewriting)
    refusal: Refusal | None = None  # refused before anything is tried (a file on another host)

    @property
    def link(self) -> str:
        return self.shown or self.location

    @property
    def source(self) -> str:
        """ "folder", "annotation" or "template": who chose this place."""
        if self.origin.startswith("folder"):
            return "folder"
        return "annotation" if self.origin.startswith("annotation") else "template"

    @property
    def provenance(self) -> str:
        """Where the link came from, in words for the runbook view."""
        if self.source == "folder":
            return f"from the configured runbook folder {self.origin.removeprefix('folder ')}"
        if self.source == "annotation":
            name = self.origin.removeprefix("annotation ")
            return f"from the alert: its {name} annotation, chosen by whoever posted the alert"
        return "from the config's runbooks.url_template, filled with the alert's labels"


def raw_url(url: str) -> str:
    """GitHub/GitLab "blob" page URL -> the raw file's URL; any other URL unchanged."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = parts.path.split("/")
    if host in ("github.com", "www.github.com") and len(segments) > 4 and segments[3] == "blob":
        # /owner/repo/blob/ref/path -> raw.githubusercontent.com/owner/repo/ref/path
        path = "/".join([*segments[:3], *segments[4:]])
        return urlunsplit(("https", "raw.githubusercontent.com", path, "", ""))
    if "/-/blob/" in parts.path:  # GitLab (gitlab.com and self-hosted)
        return urlunsplit(parts._replace(path=parts.path.replace("/-/blob/", "/-/raw/", 1)))
    if len(segments) > 4 and segments[3] == "blob" and host.startswith(("github.", "git.")):
        # GitHub Enterprise serves /owner/repo/raw/ref/path
        segments[3] = "raw"
        return urlunsplit(parts._replace(path="/".join(segments), fragment=""))
    return url


def file_path(url: str) -> str | None:
    """`file:///x/y.md` -> "/x/y.md", percent-decoded once; None for anything else (or a
    file URL on another host). The result is untrusted text: see `runbook_policy`."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc.lower() not in ("", "localhost"):
        return None
    return unquote(parts.path, errors="replace")


def _from_link(link: str, origin: str) -> Candidate | None:
    link = link.strip()
    path = file_path(link)
    if path is not None:
        return Candidate("file", path, origin, link)
    parts = urlsplit(link)
    if parts.scheme.lower() == "file":
        why = f"{link} names a file on another host ({parts.netloc}); only local files are read"
        refusal = Refusal(FILE_RULE, why, "Copy the runbook into a runbook folder.")
        return Candidate("file", link, origin, link, refusal)
    scheme = urlsplit(link).scheme.lower()
    if scheme in ("http", "https") and urlsplit(link).hostname:
        return Candidate("url", raw_url(link), origin, link)
    return None


def candidates(
    alertname: str,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    *,
    annotation_names: Sequence[str] = ("runbook_url", "runbook"),
    folders: Sequence[Path] = (),
    url_template: str | None = None,
) -> list[Candidate]:
    """Every place this alert's runbook may be, best first, without touching disk or network."""
    found: list[Candidate] = []
    if alertname and _SAFE_FILE_NAME.fullmatch(alertname) and alertname not in (".", ".."):
        for folder in folders:
            for suffix in MARKDOWN_SUFFIXES[:2]:
                path = folder / f"{alertname}{suffix}"
                found.append(Candidate("file", str(path), f"folder {folder}"))
    for name in annotation_names:
        value = annotations.get(name, "")
        candidate = _from_link(value, f"annotation {name}") if value else None
        if candidate is not None:
            found.append(candidate)
    if url_template:
        try:
            filled = fill_labels(url_template, labels, lambda v: quote(v, safe=""))
        except MissingLabel:
            filled = ""
        candidate = _from_link(filled, "url_template") if filled else None
        if candidate is not None:
            found.append(candidate)
    unique: dict[str, Candidate] = {}
    for candidate in found:
        unique.setdefault(candidate.location, candidate)
    return list(unique.values())


def document_kind(content_type: str, location: str) -> str:
    """ "markdown", "html", "text" or "other", from the media type and then the name."""
    media = content_type.split(";", 1)[0].strip().lower()
    suffix = Path(urlsplit(location).path).suffix.lower()
    if media in ("text/markdown", "text/x-markdown") or suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if media in ("text/html", "application/xhtml+xml") or suffix in (".html", ".htm"):
        return "html"
    untyped = media in ("", "application/octet-stream") and suffix in (".txt", "")
    if media.startswith("text/") or untyped:
        # A raw file host answers text/plain for Markdown; Markdown renders plain text fine.
        return "markdown"
    return "other"


def is_promql(language: str) -> bool:
    return language.strip().lower().split(" ", 1)[0] in PROMQL_LANGUAGES
