"""A contract server for Alertmanager releases that cannot be installed here (0.27 to 0.34).

It stands in front of the real 0.25 server and answers as release VERSION does, by the
differences that release documents (tests/data/alertmanager/README.md):
- 0.26+: deleting an unknown silence is 404 with an empty body (0.25: 500 "silence not found").
- 0.27+: every `/api/v1/*` answers 410.
- 0.28+: `status.mutedBy` on every alert (filled on /alerts/groups, `[]` on /alerts); an alert
  muted by a time interval is `suppressed` with no silence or inhibitor. `muted` parameter.
  Silence limits: POST /silences over `max_silences` (expired ones count) answers 400 with
  the bare string `exceeded maximum number of silences: N (limit: M)`, for a new silence and
  for one that replaces an expired one (silence.go's Set); an update in place is not counted.
- 0.32+: silences carry `annotations` (kept here by silence ID, since 0.25 drops them; a POST
  replaces them, as it replaces the silence).
- 0.33+: `/receivers` gives each receiver's labels (`name` plus `receiver_labels`, as the
  configuration's `labels:` would); `receiver_matchers` (plain `name="value"` or `!=` here)
  select receivers, and alerts and groups routed to one whose labels match.
- 0.34+: groups carry the required `routeLabels`; GET /silences takes `active`, `pending` and
  `expired` (each true by default) and answers only the states asked for.
Older releases ignore parameters they do not know, as go-swagger does.
Every 200 answer is validated against the release's `api/v2/openapi.yaml` before it is sent;
a violation is answered 500 and recorded in `violations`, which tests assert is empty.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import yaml

SPECS = Path(__file__).resolve().parent.parent / "data" / "alertmanager"
RELEASES = {
    "0.27.0": "v0.27.0",
    "0.28.0": "v0.28.0",
    "0.32.0": "v0.32.0",
    "0.33.0": "v0.33.0",
    "0.34.0": "v0.34.0",
}
SILENCE_STATES = ("active", "pending", "expired")
_PLAIN_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)(!?=)"([^"\\]*)"')


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("-")[0].split(".")[:3])


class Spec:
    """The response schemas of one release's swagger 2.0 spec, and a small validator for them."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.doc = yaml.safe_load((SPECS / tag / "openapi.yaml").read_text())

    def response_schema(self, method: str, path: str) -> dict[str, Any] | None:
        for template, ops in self.doc["paths"].items():
            parts, want = template.strip("/").split("/"), path.strip("/").split("/")
            if len(parts) == len(want) and all(
                p == w or p.startswith("{") for p, w in zip(parts, want, strict=True)
            ):
                op = ops.get(method.lower())
                if op is None:
                    return None
                schema: dict[str, Any] | None = op["responses"].get("200", {}).get("schema")
                return schema
        return None

    def errors(self, schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            return self.errors(self.doc["definitions"][name], value, where)
        if "allOf" in schema:
            return [e for part in schema["allOf"] for e in self.errors(part, value, where)]
        kind = schema.get("type")
        checks = {
            "object": dict,
            "array": list,
            "string": str,
            "boolean": bool,
            "integer": int,
        }
        if kind in checks and not isinstance(value, checks[kind]):
            return [f"{where}: {type(value).__name__} where the spec says {kind}"]
        out: list[str] = []
        if "enum" in schema and value not in schema["enum"]:
            out.append(f"{where}: {value!r} not one of {schema['enum']}")
        if isinstance(value, dict):
            props = schema.get("properties", {})
            out += [
                f"{where}: missing required {r}"
                for r in schema.get("required", ())
                if r not in value
            ]
            for key, item in value.items():
                if key in props:
                    out += self.errors(props[key], item, f"{where}.{key}")
                elif isinstance(schema.get("additionalProperties"), dict):
                    out += self.errors(schema["additionalProperties"], item, f"{where}.{key}")
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                out += self.errors(schema["items"], item, f"{where}[{i}]")
        return out


@dataclass
class ContractServer:
    version: str
    upstream: str
    # alertname -> time interval that mutes it (0.28+), for every receiver.
    muted: dict[str, str] = field(default_factory=dict)
    max_silences: int = 0
    violations: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    # receiver name -> its labels in the configuration (0.33+), besides `name`.
    receiver_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        self.spec = Spec(RELEASES[self.version])
        self.v = version_tuple(self.version)
        self.http = httpx.Client(base_url=self.upstream, timeout=10)

    # -- transformations ---------------------------------------------------------------------

    def _alert(self, alert: dict[str, Any], *, fill_muted: bool) -> dict[str, Any]:
        status = alert["status"]
        interval = self.muted.get(alert["labels"].get("alertname", ""))
        if self.v >= (0, 28):
            status["mutedBy"] = [interval] if interval and fill_muted else []
            if interval:
                status["state"] = "suppressed"
        return alert

    def _receiver_ok(self, name: str, matchers: list[tuple[str, str, str]]) -> bool:
        labels = {**self.receiver_labels.get(name, {}), "name": name}
        return all((labels.get(k, "") == v) == (op == "=") for k, op, v in matchers)

    def _by_receiver(self, path: str, body: Any, matchers: list[tuple[str, str, str]]) -> Any:
        if path == "/api/v2/receivers":
            return [r for r in body if self._receiver_ok(r["name"], matchers)]
        if path == "/api/v2/alerts/groups":
            return [g for g in body if self._receiver_ok(g["receiver"]["name"], matchers)]
        return [
            a for a in body if any(self._receiver_ok(r["name"], matchers) for r in a["receivers"])
        ]

    def _makes_new(self, sent: dict[str, Any]) -> bool:
        """0.28's Set: a POST makes a new silence, and meets the limit, unless it updates one
        in place; an expired silence is never updated in place (its extension replaces it)."""
        if not sent.get("id"):
            return True
        held = self.http.get(f"/api/v2/silence/{sent['id']}")
        return held.status_code == 200 and held.json()["status"]["state"] == "expired"

    def transform(self, method: str, path: str, body: Any) -> Any:
        if path == "/api/v2/status":
            body["versionInfo"]["version"] = self.version
        elif path == "/api/v2/alerts/groups":
            for group in body:
                group["alerts"] = [self._alert(a, fill_muted=True) for a in group["alerts"]]
                if self.v >= (0, 34):
                    group["routeLabels"] = {}
        elif path == "/api/v2/alerts" and method == "GET":
            body = [self._alert(a, fill_muted=False) for a in body]
        elif path == "/api/v2/receivers" and self.v >= (0, 33):
            for receiver in body:
                receiver["labels"] = {**self.receiver_labels.get(receiver["name"], {}),
                                      "name": receiver["name"]}  # fmt: skip
        elif path.startswith("/api/v2/silence") and method == "GET" and self.v >= (0, 32):
            for silence in body if isinstance(body, list) else [body]:
                silence["annotations"] = self.annotations.get(silence["id"], {})
        return body

    # -- the request path ----------------------------------------------------------------------

    def answer(self, method: str, target: str, payload: bytes) -> tuple[int, bytes]:
        split = urlsplit(target)
        path, query = split.path, parse_qsl(split.query, keep_blank_values=True)
        self.seen.append(f"{method} {target}")
        if path.startswith("/api/v1/") and self.v >= (0, 27):
            return 410, b""
        if self.v < (0, 28):
            query = [(k, v) for k, v in query if k != "muted"]
        elif ("muted", "false") in query:
            hide = set(self.muted)
            query = [(k, v) for k, v in query if k != "muted"]
            query += [("filter", f'alertname!~"{"|".join(hide)}"')] if hide else []
        by_receiver: list[tuple[str, str, str]] = []
        for text in (v for k, v in query if k == "receiver_matchers" and self.v >= (0, 33)):
            m = _PLAIN_MATCHER.fullmatch(text)
            if m is None:
                words = f"failed to parse receiver_matchers param: {text} (contract server)"
                return 400, json.dumps(words).encode()
            by_receiver.append((m[1], m[2], m[3]))
        query = [(k, v) for k, v in query if k != "receiver_matchers"]
        states: set[str] | None = None
        if path == "/api/v2/silences" and method == "GET":
            if self.v >= (0, 34):
                asked = dict(query)
                states = {s for s in SILENCE_STATES if asked.get(s, "true") == "true"}
            query = [(k, v) for k, v in query if k not in SILENCE_STATES]
        wanted_annotations: dict[str, str] | None = None
        if method == "POST" and path == "/api/v2/silences":
            sent = json.loads(payload)
            # A POST replaces the silence whole (an update too): no annotations sent, none kept.
            wanted_annotations = (
                (sent.pop("annotations", None) or {}) if self.v >= (0, 32) else None
            )
            payload = json.dumps(sent).encode()
            if self.v >= (0, 28) and self.max_silences and self._makes_new(sent):
                held = len(self.http.get("/api/v2/silences").json())
                if held + 1 > self.max_silences:
                    words = (
                        f"exceeded maximum number of silences: {held} (limit: {self.max_silences})"
                    )
                    return 400, json.dumps(words).encode()
        resp = self.http.request(
            method,
            path,
            params=tuple(query),
            content=payload or None,
            headers={"Content-Type": "application/json"} if payload else {},
        )
        if (
            method == "DELETE"
            and resp.status_code == 500
            and "not found" in resp.text
            and self.v >= (0, 26)
        ):
            return 404, b""
        if resp.status_code != 200 or not resp.content:
            return resp.status_code, resp.content
        body = resp.json()
        if wanted_annotations is not None:
            self.annotations[body["silenceID"]] = wanted_annotations
        body = self.transform(method, path, body)
        if by_receiver:
            body = self._by_receiver(path, body, by_receiver)
        if states is not None:
            body = [s for s in body if s["status"]["state"] in states]
        schema = self.spec.response_schema(method, path.removeprefix("/api/v2"))
        if schema is not None:
            problems = self.spec.errors(schema, body)
            if problems:
                self.violations.extend(f"{self.version} {method} {path}: {p}" for p in problems)
                return 500, json.dumps("contract violation: " + problems[0]).encode()
        return 200, json.dumps(body).encode()

    # -- serving -----------------------------------------------------------------------------

    def serve(self) -> Iterator[ContractServer]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, data = server.answer(self.command, self.path, self.rfile.read(length))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        try:
            yield self
        finally:
            httpd.shutdown()
            httpd.server_close()
            self.http.close()

    @contextlib.contextmanager
    def running(self) -> Iterator[ContractServer]:
        yield from self.serve()
