"""An HTML page as readable plain text (stdlib html.parser): headings, paragraphs, lists,
preformatted blocks, and links written out as `text <url>` so nothing is hidden behind one.

Scripts, styles and comments are dropped; the result still goes through `sanitize.clean`.
"""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "table",
        "tr",
        "blockquote",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "form",
        "figure",
        "hr",
        "br",
    }
)
_SKIP = frozenset({"script", "style", "head", "template", "noscript", "svg", "iframe", "object"})


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.pre = 0
        self.href: str | None = None
        self.link_text: list[str] = []
        self.list_depth = 0

    def _newline(self, blank: bool = False) -> None:
        text = "".join(self.out)
        want = "\n\n" if blank else "\n"
        if text and not text.endswith(want):
            self.out.append("\n" if text.endswith("\n") and blank else want)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
            return
        if self.skipping:
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._newline(blank=True)
            self.out.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self._newline()
            self.out.append("  " * max(0, self.list_depth - 1) + "- ")
        elif tag in ("ul", "ol"):
            self.list_depth += 1
            self._newline()
        elif tag == "pre":
            self.pre += 1
            self._newline(blank=True)
        elif tag in ("td", "th"):
            self.out.append(" | ")
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = []
        elif tag == "img":
            alt = dict(attrs).get("alt") or "image"
            self.out.append(f"[{alt}]")
        elif tag in _BLOCKS:
            self._newline(blank=tag in ("p", "table", "blockquote", "hr"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping:
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._newline(blank=True)
        elif tag in ("ul", "ol"):
            self.list_depth = max(0, self.list_depth - 1)
            self._newline()
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._newline(blank=True)
        elif tag == "a":
            text = "".join(self.link_text).strip()
            if self.href and self.href != text and not self.href.startswith("#"):
                self.out.append(f" <{self.href}>")
            self.href = None
        elif tag in _BLOCKS:
            self._newline(blank=tag in ("p", "table", "blockquote"))

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if not self.pre:
            lead = " " if data[:1].isspace() else ""
            trail = " " if data[-1:].isspace() else ""
            words = " ".join(data.split())
            data = (lead + words + trail) if words else lead
            last = self.out[-1][-1:] if self.out and self.out[-1] else "\n"
            if last in (" ", "\n"):
                data = data.lstrip()
            if not data:
                return
        self.out.append(data)
        if self.href is not None:
            self.link_text.append(data)


def html_to_text(html: str) -> str:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    lines = [line.rstrip() for line in "".join(reader.out).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
