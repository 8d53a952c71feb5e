"""A synthetic churn-api exporter whose counters grow at exactly known rates.

Every counter is ``rate * (history_seconds + elapsed)``, where ``elapsed`` is measured
from the exporter's start to the timestamp written next to each sample. Because the
samples carry that explicit timestamp, Prometheus's ``rate()`` returns the configured
rate to floating-point precision, so tests can assert SLO figures exactly. The
``history_seconds`` head start makes the counters look like a service that has been up
for a while; the stack writes that past into Prometheus (``write_backfill``) so every
window is full from the first rule evaluation.

Run: ``python -m oncall_tui.demo.exporter --host 127.0.0.1 --port 9100``.
Standard library only, so it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAMESPACE = "churn-mlops"
ENDPOINT = "/predict"

# (upper bound, fraction of observations in this bucket alone); fractions sum to 1.
LATENCY_BUCKETS: tuple[tuple[float, float], ...] = (
    (0.05, 0.25),
    (0.1, 0.20),
    (0.25, 0.20),
    (0.5, 0.15),
    (1.0, 0.12),
    (2.5, 0.06),
    (5.0, 0.02),
)
PREDICTION_LATENCY_BUCKETS: tuple[tuple[float, float], ...] = (
    (0.01, 0.30),
    (0.025, 0.30),
    (0.05, 0.20),
    (0.1, 0.10),
    (0.25, 0.08),
    (0.5, 0.02),
)


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class ExporterRates:
    """Every rate, ratio and gauge the exporter serves: the single source of truth.

    Tests compute their expected answers from the same instance the stack passes to
    the exporter (see ``to_args``), so changing a default cannot desynchronise them.
    """

    rps: float = 20.0
    """Requests per second over all status codes (``churn_api_requests_total``)."""
    error_ratio: float = 0.08
    """Share of requests answered 5xx; above the 5 % HighErrorRate threshold."""
    error_split: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"500": 0.75, "503": 0.25})
    )
    """How the 5xx requests divide between status codes (sums to 1)."""
    latency_mean_seconds: float = 0.42
    """Mean request latency: ``_sum`` grows at ``rps * latency_mean_seconds``."""
    low_confidence_ratio: float = 0.15
    """Share of predictions with confidence < 0.7 (threshold 10 %)."""
    prediction_latency_mean_seconds: float = 0.045
    missing_features_per_second: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"tenure": 1.5, "monthly_charges": 0.2})
    )
    """One feature above the 1/s HighMissingFeatureRate threshold, one below."""
    drift_score: float = 0.42
    model_age_days: float = 8.0
    model_confidence: float = 0.78
    pod_cpu_cores: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {"churn-api-7d9f8b6c5-x2k4p": 0.92, "churn-api-7d9f8b6c5-m8q7z": 0.35}
        )
    )
    """CPU seconds per second per pod; one above the 0.8 HighCPU threshold."""
    pod_restarts_per_second: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {"churn-api-7d9f8b6c5-x2k4p": 0.0, "churn-api-7d9f8b6c5-m8q7z": 0.005}
        )
    )
    pod_memory_ratio: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {"churn-api-7d9f8b6c5-x2k4p": 0.93, "churn-api-7d9f8b6c5-m8q7z": 0.55}
        )
    )
    """Memory usage over limit per pod; one above the 0.9 HighMemory threshold."""
    pod_memory_limit_bytes: float = 1024.0**3
    pvc_used_ratio: float = 0.6
    """Below the 0.85 PVCAlmostFull threshold: that rule stays inactive."""
    pvc_capacity_bytes: float = 10 * 1024.0**3
    history_seconds: float = 3600.0
    """Counters start this long before the exporter; the stack backfills that past."""

    @property
    def success_rps(self) -> float:
        return self.rps * (1.0 - self.error_ratio)

    @property
    def status_rps(self) -> dict[str, float]:
        """Requests per second by status code."""
        errors = self.rps * self.error_ratio
        out = {"200": self.success_rps}
        out.update({code: errors * share for code, share in self.error_split.items()})
        return out

    @property
    def predictions_rps(self) -> float:
        """Every successful request is one prediction."""
        return self.success_rps

    def to_args(self) -> list[str]:
        """Command-line flags that reproduce the overridable fields in a child process."""
        return [arg for f in _FLAGS for arg in (f"--{f.replace('_', '-')}", repr(getattr(self, f)))]

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> ExporterRates:
        return replace(cls(), **{f: getattr(ns, f) for f in _FLAGS})


# The scalar fields settable from the command line.
_FLAGS = tuple(f.name for f in fields(ExporterRates) if f.type == "float")


def format_value(value: float) -> str:
    """Format a sample value as the text format expects, keeping full precision."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _bound(le: float) -> str:
    return "+Inf" if math.isinf(le) else f"{le:g}"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    esc = (v.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"") for v in labels.values())
    return "{" + ",".join(f'{k}="{v}"' for k, v in zip(labels, esc, strict=True)) + "}"


@dataclass(frozen=True, slots=True)
class _Line:
    """A metadata line (``per_second`` None), or a series whose value is linear in t."""

    text: str
    per_second: float | None = None
    constant: float = 0.0
    gauge: bool = False


class _Layout:
    """The lines of a page, built once: between pages only t and the timestamp change.

    ``target`` labels (job, instance) select OpenMetrics style for the backfill file (no
    metadata, timestamps in seconds), which must name the same series as the scrape.
    """

    def __init__(self, target: Mapping[str, str] | None = None) -> None:
        self.target = dict(target or {})
        self.lines: list[_Line] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        if not self.target:
            self.lines += [_Line(f"# HELP {name} {help_text}"), _Line(f"# TYPE {name} {kind}")]

    def sample(
        self, name: str, labels: Mapping[str, str], per_second: float, constant: float = 0.0
    ) -> None:
        text = name + _labels({**labels, **self.target})
        gauge = per_second == 0.0 and constant != 0.0
        self.lines.append(_Line(text, per_second, constant, gauge))

    def histogram(
        self,
        name: str,
        labels: Mapping[str, str],
        buckets: tuple[tuple[float, float], ...],
        count_per_s: float,
        sum_per_s: float,
    ) -> None:
        cumulative = 0.0
        for le, share in buckets:
            cumulative += share
            self.sample(f"{name}_bucket", {**labels, "le": _bound(le)}, count_per_s * cumulative)
        self.sample(f"{name}_bucket", {**labels, "le": "+Inf"}, count_per_s)
        self.sample(f"{name}_sum", labels, sum_per_s)
        self.sample(f"{name}_count", labels, count_per_s)

    def page(self, t: float, ts_ms: int) -> str:
        """Every line with values at t (seconds since the counters' zero), stamped ts_ms."""
        stamp = f"{ts_ms / 1000:.3f}" if self.target else str(ts_ms)
        return "".join(
            f"{x.text}\n"
            if x.per_second is None
            else f"{x.text} {format_value(x.per_second * t + x.constant)} {stamp}\n"
            for x in self.lines
        )


def layout(rates: ExporterRates, start_ms: int, target: Mapping[str, str] | None = None) -> _Layout:
    """Every series the exporter serves, as rates per second of t or constants."""
    w = _Layout(target)
    ep = {"endpoint": ENDPOINT}

    w.family("churn_api_requests_total", "counter", "Prediction API requests by status.")
    for status, rps in rates.status_rps.items():
        w.sample("churn_api_requests_total", {"status": status, **ep}, rps)
    w.family("churn_api_request_latency_seconds", "histogram", "Request latency.")
    w.histogram(
        "churn_api_request_latency_seconds",
        ep,
        LATENCY_BUCKETS,
        rates.rps,
        rates.rps * rates.latency_mean_seconds,
    )

    predictions = rates.predictions_rps
    w.family("churn_api_predictions_total", "counter", "Predictions served.")
    w.sample("churn_api_predictions_total", {}, predictions)
    w.family(
        "churn_api_low_confidence_predictions_total",
        "counter",
        "Predictions with confidence below 0.7.",
    )
    w.sample(
        "churn_api_low_confidence_predictions_total", {}, predictions * rates.low_confidence_ratio
    )
    w.family("churn_api_prediction_latency_seconds", "histogram", "Model inference latency.")
    w.histogram(
        "churn_api_prediction_latency_seconds",
        {},
        PREDICTION_LATENCY_BUCKETS,
        predictions,
        predictions * rates.prediction_latency_mean_seconds,
    )
    w.family("churn_api_model_confidence", "gauge", "Mean confidence of recent predictions.")
    w.sample("churn_api_model_confidence", {}, 0.0, rates.model_confidence)

    w.family("churn_missing_features_total", "counter", "Requests missing a feature.")
    for feature, per_s in rates.missing_features_per_second.items():
        w.sample("churn_missing_features_total", {"feature": feature}, per_s)
    w.family("churn_data_drift_score", "gauge", "Population stability drift score.")
    w.sample("churn_data_drift_score", {}, 0.0, rates.drift_score)
    w.family("churn_model_last_updated_timestamp", "gauge", "Unix time of the last model update.")
    updated = start_ms / 1000.0 - rates.model_age_days * 86400.0
    w.sample("churn_model_last_updated_timestamp", {}, 0.0, updated)

    _infra(w, rates)
    return w


def _infra(w: _Layout, rates: ExporterRates) -> None:
    """cAdvisor, kube-state-metrics and kubelet look-alikes for the churn-api pods."""

    def pod(name: str) -> dict[str, str]:
        return {"namespace": NAMESPACE, "pod": name, "container": "api"}

    w.family("container_cpu_usage_seconds_total", "counter", "CPU time consumed.")
    for name, cores in rates.pod_cpu_cores.items():
        w.sample("container_cpu_usage_seconds_total", pod(name), cores)
    w.family("kube_pod_container_status_restarts_total", "counter", "Container restarts.")
    for name, per_s in rates.pod_restarts_per_second.items():
        w.sample("kube_pod_container_status_restarts_total", pod(name), per_s)
    limit = rates.pod_memory_limit_bytes
    w.family("container_memory_usage_bytes", "gauge", "Memory in use.")
    for name, ratio in rates.pod_memory_ratio.items():
        w.sample("container_memory_usage_bytes", pod(name), 0.0, ratio * limit)
    w.family("container_spec_memory_limit_bytes", "gauge", "Memory limit.")
    for name in rates.pod_memory_ratio:
        w.sample("container_spec_memory_limit_bytes", pod(name), 0.0, limit)
    pvc = {"namespace": NAMESPACE, "persistentvolumeclaim": "model-store"}
    capacity = rates.pvc_capacity_bytes
    w.family("kubelet_volume_stats_used_bytes", "gauge", "Bytes used on the volume.")
    w.sample("kubelet_volume_stats_used_bytes", pvc, 0.0, rates.pvc_used_ratio * capacity)
    w.family("kubelet_volume_stats_capacity_bytes", "gauge", "Volume capacity in bytes.")
    w.sample("kubelet_volume_stats_capacity_bytes", pvc, 0.0, capacity)


def continued(old: _Layout, new: _Layout, t: float) -> _Layout:
    """``new``'s rates from t on, every counter carrying on from its value at t: counters
    never go back, so ``rate()`` sees the change and nothing else. Gauges jump."""
    values = {x.text: x.per_second * t + x.constant for x in old.lines if x.per_second is not None}
    out = _Layout(new.target)
    for x in new.lines:
        if x.per_second is None or x.gauge or x.text not in values:
            out.lines.append(x)
        else:
            out.lines.append(replace(x, constant=values[x.text] - x.per_second * t))
    return out


def elapsed(rates: ExporterRates, start_ms: int, ts_ms: int) -> float:
    """t: seconds since the counters' zero, ``history_seconds`` before the start."""
    return rates.history_seconds + (ts_ms - start_ms) / 1000.0


def render(
    rates: ExporterRates, start_ms: int, now_ms: int, target: Mapping[str, str] | None = None
) -> str:
    """The whole /metrics page at ``now_ms`` for an exporter started at ``start_ms``."""
    return layout(rates, start_ms, target).page(elapsed(rates, start_ms, now_ms), now_ms)


def backfill_times(start_ms: int, until_ms: int, history_s: float) -> range:
    """Backfill sample times: every second from the counters' zero to ``until_ms``.

    One second apart like the live scrapes, so any window reaching into the past meets
    Prometheus's extrapolation rule (first sample within 1.1 average intervals of the
    window's start) and ``rate()`` is exact at any time.
    """
    return range(start_ms - round(history_s * 1000) + 1000, until_ms + 1, 1000)


def write_backfill(
    path: str, rates: ExporterRates, start_ms: int, until_ms: int, target: Mapping[str, str]
) -> int:
    """Write the series from their zero to ``until_ms`` as OpenMetrics for ``promtool tsdb
    create-blocks-from openmetrics``; returns the number of samples.

    Loaded before Prometheus starts, it makes every window up to ``history_seconds`` full
    at once, so absolute rates (HighCPU, HighMissingFeatureRate) are right at the first
    evaluation. ``until_ms`` lies a few seconds ahead: the exporter serves nothing up to it
    (``serve_after_ms``), so the live scrapes continue the backfill without a gap.
    """
    lay = layout(rates, start_ms, target)
    times = backfill_times(start_ms, until_ms, rates.history_seconds)
    with open(path, "w", encoding="utf-8") as out:
        for ts in times:
            out.write(lay.page(elapsed(rates, start_ms, ts), ts))
        out.write("# EOF\n")
    return len(times) * len(lay.lines)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class _Served:
    """What the exporter serves now; replaced as a whole when the rates change."""

    rates: ExporterRates
    layout: _Layout


def make_server(
    host: str,
    port: int,
    rates: ExporterRates,
    start_ms: int | None = None,
    serve_after_ms: int = 0,
) -> ThreadingHTTPServer:
    """An HTTP server for /metrics, /rates, /-/healthy and /-/ready (not yet serving).

    Up to ``serve_after_ms`` /metrics is empty: those times are in the backfill already.
    ``POST /rates`` with form fields (``error_ratio=0.3&rps=40``) changes rates while it
    runs, counters continuing from where they are; ``GET /rates`` shows the scalar rates.
    """
    start = now_ms() if start_ms is None else start_ms
    live = _Served(rates, layout(rates, start))
    lock = threading.Lock()

    def current() -> str:
        return json.dumps({f: getattr(live.rates, f) for f in _FLAGS}) + "\n"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                ts = now_ms()
                with lock:
                    lay = live.layout
                page = lay.page(elapsed(rates, start, ts), ts) if ts > serve_after_ms else ""
                self._send(200, CONTENT_TYPE, page)
            elif path == "/rates":
                self._send(200, "application/json", current())
            elif path in ("/-/healthy", "/-/ready"):
                self._send(200, "text/plain; charset=utf-8", "OK\n")
            else:
                self._send(404, "text/plain; charset=utf-8", "not found\n")

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != "/rates":
                self._send(404, "text/plain; charset=utf-8", "not found\n")
                return
            size = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(min(size, 65536)).decode(errors="replace"))
            try:
                changes: dict[str, Any] = {k: float(v[-1]) for k, v in form.items()}
                unknown = set(changes) - set(_FLAGS) | ({"history_seconds"} & set(changes))
                if unknown:
                    raise ValueError(f"cannot change: {', '.join(sorted(unknown))}")
                if not 0 <= changes.get("error_ratio", 0.0) <= 1:
                    raise ValueError("error_ratio must lie in [0, 1]")
            except ValueError as exc:
                self._send(400, "text/plain; charset=utf-8", f"{exc}\n")
                return
            with lock:
                new = replace(live.rates, **changes)
                # The backfill holds the old rates up to serve_after_ms: change after it.
                t = elapsed(rates, start, max(now_ms(), serve_after_ms))
                live.layout = continued(live.layout, layout(new, start), t)
                live.rates = new
            self._send(200, "application/json", current())

        def _send(self, code: int, ctype: str, text: str) -> None:
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per scrape every second would drown the log

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = ExporterRates()
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9100)
    p.add_argument(
        "--start-ms", type=int, default=None, help="epoch ms the counters count from (default now)"
    )
    p.add_argument(
        "--serve-after-ms",
        type=int,
        default=0,
        help="serve no samples up to this epoch ms (the backfill has them)",
    )
    for name in _FLAGS:
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)
    rates = ExporterRates.from_namespace(ns)
    server = make_server(ns.host, ns.port, rates, ns.start_ms, ns.serve_after_ms)
    print(f"churn-api exporter on http://{ns.host}:{server.server_port}/metrics", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
