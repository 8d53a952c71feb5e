"""Start and stop the demo stack: churn-api exporter, Prometheus, Alertmanager HA cluster.

Used by ``oncall-tui demo`` and by the test suite, so both see the same servers, rules and
alerts. Every process listens on 127.0.0.1 only, keeps its data, config and log in one
temporary directory, and is stopped by PID: never by name.

Children die with their parent even when it is killed with SIGKILL: on Linux each child
asks the kernel for a signal when its parent goes (``PR_SET_PDEATHSIG``; SIGTERM, SIGKILL
for Alertmanagers). The kernel sends it when the *thread* that forked the child exits, so
call ``Stack.start()`` and ``start_peer()`` from the main thread or from a thread that
lives as long as the stack. Children run in their own session there, so Ctrl+Z or a
terminal's SIGINT reaches only the parent, which stops them. An atexit hook stops the
stack on a normal exit; ``exit_on_termination_signals()`` extends that to SIGTERM and
SIGHUP. After a SIGKILL the kernel stops the children and a later ``start()`` removes the
orphaned temporary directory. Elsewhere (macOS) only the atexit hook applies.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from string import Template
from typing import IO, Any
from urllib.parse import urlencode

from oncall_tui.demo.exporter import ExporterRates, now_ms, write_backfill
from oncall_tui.demo.procs import (
    _NO_PROXY,
    WORKDIR_PREFIX,
    http_get,
    pdeathsig_preexec,
    reserve_port,
    signal_child,
    stop_child,
    sweep_orphaned_workdirs,
)

INSTALL_HINT = (
    "Install Prometheus and Alertmanager:\n"
    "  Debian/Ubuntu: sudo apt-get install prometheus prometheus-alertmanager\n"
    "  macOS:         brew install prometheus alertmanager\n"
    "or point ONCALL_TUI_PROMETHEUS_BIN, ONCALL_TUI_PROMTOOL_BIN and\n"
    "ONCALL_TUI_ALERTMANAGER_BIN at the binaries."
)
_FILES = resources.files("oncall_tui.demo") / "files"
# Prometheus applies scrape targets every 5 s, so its first scrape comes 5-6.5 s after
# it starts. The backfill reaches past that and the exporter serves nothing before it:
# the series continue without a gap and rate() over any window stays exact.
BACKFILL_LEAD_MS = 8000


class MissingBinaries(Exception):
    """Prometheus or Alertmanager is not installed; the message says how to install them."""


class StackError(RuntimeError):
    """A server failed to start or did not become ready; the message has its log tail."""


@dataclass(frozen=True, slots=True)
class Binaries:
    prometheus: str
    promtool: str
    alertmanager: str


def find_binaries() -> Binaries:
    """Locate the servers: env overrides first, then PATH (Debian names the AM differently).

    promtool ships with Prometheus everywhere; it backfills the exporter's past so that
    rates over 5m-1h windows are right from the first rule evaluation.
    """
    env = os.environ.get
    prom = env("ONCALL_TUI_PROMETHEUS_BIN") or shutil.which("prometheus")
    sibling = str(Path(prom).with_name("promtool")) if prom else None
    tool = (
        env("ONCALL_TUI_PROMTOOL_BIN")
        or (sibling if sibling and os.access(sibling, os.X_OK) else None)
        or shutil.which("promtool")
    )
    am = (
        env("ONCALL_TUI_ALERTMANAGER_BIN")
        or shutil.which("prometheus-alertmanager")
        or shutil.which("alertmanager")
    )
    found = {"prometheus": prom, "promtool": tool, "alertmanager": am}
    missing = [n for n, p in found.items() if not p]
    missing += [
        f"{p} (not found or not executable)"
        for p in found.values()
        if p and not os.access(p, os.X_OK)
    ]
    if missing or not (prom and tool and am):
        raise MissingBinaries(f"Missing: {', '.join(missing)}.\n{INSTALL_HINT}")
    return Binaries(prometheus=prom, promtool=tool, alertmanager=am)


@dataclass(frozen=True, slots=True)
class StackOptions:
    """What to start. ``workdir`` given by the caller is kept; a temporary one is removed."""

    alertmanager_peers: int = 2
    with_prometheus: bool = True
    rates: ExporterRates = field(default_factory=ExporterRates)
    workdir: Path | None = None
    # More rule files for Prometheus (file name -> YAML), e.g. Sloth-generated SLO rules.
    extra_rules: Mapping[str, str] = field(default_factory=dict)
    # Clusters, each its own exporter and Prometheus (labelled cluster=a, b...), all
    # notifying the one Alertmanager pair; one cluster is labelled `demo`.
    clusters: int = 1
    # The root route's (group_wait, group_interval). None: the demo's 1 s, so notifications
    # show at once. Benchmarks use Alertmanager's defaults ("30s", "5m"): at 1 s a peer with
    # 10,000 alerts spends a quarter of a core re-checking its 500 groups every second.
    group_timings: tuple[str, str] | None = None


# The second cluster is the healthier one: its error ratio stays under HighErrorRate's 5 %,
# so the two clusters fire different alerts and their figures differ.
SECOND_CLUSTER_ERROR_RATIO = 0.02


def cluster_names(clusters: int) -> list[str]:
    """The `cluster` label of each cluster: `demo` alone, else a, b, c..."""
    return ["demo"] if clusters == 1 else [chr(ord("a") + i) for i in range(clusters)]


def _suffix(index: int) -> str:
    """What tells a cluster's processes and files apart: "" for the first, -b, -c..."""
    return "" if index == 0 else f"-{chr(ord('a') + index)}"


@dataclass(slots=True)
class _Proc:
    name: str
    argv: list[str]
    url: str
    ready_path: str
    log_path: Path
    env: dict[str, str] | None = None
    deathsig: int = signal.SIGTERM
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None


class Stack:
    """The demo servers as a context manager: ``with Stack() as s: s.wait_for_firing()``."""

    def __init__(self, options: StackOptions | None = None, binaries: Binaries | None = None):
        self.options = options or StackOptions()
        if self.options.alertmanager_peers < 1:
            raise ValueError("alertmanager_peers must be at least 1")
        if not 1 <= self.options.clusters <= 4:
            raise ValueError("clusters must be from 1 to 4")
        self.binaries = binaries
        self.timings: dict[str, float] = {}
        self.started_pids: list[int] = []
        self._procs: dict[str, _Proc] = {}
        self._am_names: list[str] = []
        self._cluster_addrs: list[str] = []
        self._down_socket: socket.socket | None = None
        self._workdir: Path | None = None
        self._owns_workdir = False
        self._started_at: float | None = None
        self._start_ms = 0
        self._serve_after_ms = 0
        self._lock = threading.Lock()
        self._stopped = False

    # -- addresses -------------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the stack has not been started")
        return self._workdir

    @property
    def alertmanager_urls(self) -> list[str]:
        return [self._procs[n].url for n in self._am_names]

    @property
    def cluster_addresses(self) -> list[str]:
        """host:port of each peer's gossip listener (TCP and UDP)."""
        return list(self._cluster_addrs)

    @property
    def prometheus_url(self) -> str | None:
        p = self._procs.get("prometheus")
        return p.url if p else None

    @property
    def prometheus_urls(self) -> dict[str, str]:
        """Each cluster's Prometheus by its `cluster` label (`demo`, or a, b...)."""
        if not self.options.with_prometheus:
            return {}
        names = cluster_names(self.options.clusters)
        return {c: self._procs[f"prometheus{_suffix(i)}"].url for i, c in enumerate(names)}

    @property
    def exporter_url(self) -> str | None:
        p = self._procs.get("exporter")
        return p.url if p else None

    @property
    def down_instance(self) -> str | None:
        """The scrape target where nothing listens (``up == 0``, so ChurnAPIDown fires)."""
        if self._down_socket is None:
            return None
        return f"127.0.0.1:{self._down_socket.getsockname()[1]}"

    @property
    def pids(self) -> dict[str, int]:
        """PIDs of the processes running now, by name (exporter, prometheus, alertmanager-N)."""
        return {
            n: p.popen.pid for n, p in self._procs.items() if p.popen and p.popen.poll() is None
        }

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        if self._started_at is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> Stack:
        """Start every server and wait until each answers its readiness endpoint."""
        if self._started_at is not None:
            raise RuntimeError("a Stack can be started once; make a new one")
        self._started_at = time.monotonic()
        deadline = self._started_at + timeout
        self.binaries = self.binaries or find_binaries()
        sweep_orphaned_workdirs()
        atexit.register(self.stop)
        try:
            self._prepare()
            first = self._am_names[0]
            self._spawn("sink")  # before Alertmanager: its first notification goes there
            self._spawn(first)
            if self.options.with_prometheus:
                for i in range(self.options.clusters):
                    self._spawn(f"exporter{_suffix(i)}")
                    self._backfill(i, deadline)
                    # early: it finds Alertmanagers only every 5 s
                    self._spawn(f"prometheus{_suffix(i)}")
            self._wait_ready(first, deadline)  # the other peers join its cluster port
            for name in self._am_names[1:]:
                self._spawn(name)
            for name in self._procs:
                self._wait_ready(name, deadline)
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - self._started_at
        return self

    def _prepare(self) -> None:
        """Pick ports, make the work dir and render the configs."""
        opts = self.options
        if opts.workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
            self._owns_workdir = True
        else:
            self._workdir = Path(opts.workdir)
            self._workdir.mkdir(parents=True, exist_ok=True)
        wd = self._workdir
        (wd / "owner.pid").write_text(str(os.getpid()))
        (wd / "logs").mkdir(exist_ok=True)
        n = opts.alertmanager_peers
        if opts.with_prometheus:  # bound, never listening: connections to it are refused
            self._down_socket = reserve_port()
        more = 2 * (opts.clusters - 1)  # each further cluster's exporter and Prometheus
        held = [reserve_port() for _ in range(n + 3 + more)]
        held += [reserve_port(True) for _ in range(n)]
        ports = [s.getsockname()[1] for s in held]
        for s in held:
            s.close()
        am_web, (exp_port, prom_port, sink_port), extra, cluster = (
            ports[:n],
            ports[n : n + 3],
            ports[n + 3 : n + 3 + more],
            ports[n + 3 + more :],
        )
        self._cluster_addrs = [f"127.0.0.1:{p}" for p in cluster]
        sink = [sys.executable, "-m", "oncall_tui.demo.sink", "--port", str(sink_port)]
        self._add("sink", sink, sink_port, "/-/ready", _package_env())
        (wd / "alertmanager.yml").write_text(
            delivering(
                (_FILES / "alertmanager.yml").read_text(),
                f"http://127.0.0.1:{sink_port}",
                opts.group_timings,
            )
        )
        for i, port in enumerate(am_web):
            self._add_alertmanager(i, port)
        if opts.with_prometheus:
            self._start_ms = now_ms()
            self._serve_after_ms = self._start_ms + BACKFILL_LEAD_MS
            (wd / "rules").mkdir(exist_ok=True)
            for f in (_FILES / "rules").iterdir():
                if f.name.endswith(".yml"):
                    (wd / "rules" / f.name).write_text(f.read_text())
            for name, text in opts.extra_rules.items():
                (wd / "rules" / Path(name).with_suffix(".yml").name).write_text(text)
            pairs = [(prom_port, exp_port), *zip(extra[::2], extra[1::2], strict=True)]
            for i, (prom, exp) in enumerate(pairs):
                self._prepare_prometheus(i, prom, exp, am_web)

    def _rates(self, index: int) -> ExporterRates:
        rates = self.options.rates
        if index == 0:
            return rates
        return replace(rates, error_ratio=SECOND_CLUSTER_ERROR_RATIO)

    def _prepare_prometheus(
        self, index: int, prom_port: int, exp_port: int, am_ports: list[int]
    ) -> None:
        """Cluster `index`'s exporter and Prometheus; the rules are every cluster's."""
        wd, rates, suffix = self.workdir, self._rates(index), _suffix(index)
        config = Template((_FILES / "prometheus.yml").read_text()).substitute(
            alertmanager_targets=", ".join(f"'127.0.0.1:{p}'" for p in am_ports),
            exporter_target=f"127.0.0.1:{exp_port}",
            down_target=self.down_instance,
            cluster=cluster_names(self.options.clusters)[index],
        )
        (wd / f"prometheus{suffix}.yml").write_text(config)
        env = _package_env()
        exporter = [sys.executable, "-m", "oncall_tui.demo.exporter", "--host", "127.0.0.1"]
        exporter += ["--port", str(exp_port), "--start-ms", str(self._start_ms)]
        exporter += ["--serve-after-ms", str(self._serve_after_ms)]
        self._add(f"exporter{suffix}", [*exporter, *rates.to_args()], exp_port, "/-/healthy", env)
        assert self.binaries is not None
        prom = [
            self.binaries.prometheus,
            f"--config.file={wd / f'prometheus{suffix}.yml'}",
            f"--storage.tsdb.path={wd / f'prometheus-data{suffix}'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            f"--web.external-url=http://127.0.0.1:{prom_port}/",
            "--rules.alert.resend-delay=1s",
        ]
        self._add(f"prometheus{suffix}", prom, prom_port, "/-/ready")

    def _backfill(self, index: int, deadline: float) -> None:
        """Write cluster `index`'s exporter's past into its Prometheus's data dir, before
        that Prometheus starts."""
        assert self.binaries is not None
        wd, suffix = self.workdir, _suffix(index)
        exporter = self._procs[f"exporter{suffix}"].url
        target = {"job": "churn-api", "instance": exporter.removeprefix("http://")}
        write_backfill(
            str(wd / "backfill.om"),
            self._rates(index),
            self._start_ms,
            self._serve_after_ms,
            target,
        )
        argv = [self.binaries.promtool, "tsdb", "create-blocks-from", "openmetrics"]
        argv += [str(wd / "backfill.om"), str(wd / f"prometheus-data{suffix}")]
        with open(wd / "logs" / "promtool.log", "wb") as log:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=pdeathsig_preexec(),
                timeout=max(1.0, deadline - time.monotonic()),
                check=False,
            )
        if done.returncode != 0:
            tail = (wd / "logs" / "promtool.log").read_text(errors="replace")[-2000:]
            raise StackError(f"promtool could not backfill ({done.returncode}):\n{tail}")
        (wd / "backfill.om").unlink()

    def _add(
        self, name: str, argv: list[str], port: int, ready: str, env: dict[str, str] | None = None
    ) -> None:
        url = f"http://127.0.0.1:{port}"
        self._procs[name] = _Proc(
            name, argv, url, ready, self.workdir / "logs" / f"{name}.log", env
        )

    def _add_alertmanager(self, i: int, port: int) -> None:
        name = f"alertmanager-{i}"
        self._am_names.append(name)
        assert self.binaries is not None
        argv = [
            self.binaries.alertmanager,
            f"--config.file={self.workdir / 'alertmanager.yml'}",
            f"--storage.path={self.workdir / name}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url=http://127.0.0.1:{port}/",
            f"--cluster.listen-address={self._cluster_addrs[i]}",
            "--cluster.settle-timeout=5s",
            "--cluster.peer-timeout=2s",
            "--cluster.pushpull-interval=5s",
            "--cluster.reconnect-interval=2s",
        ]
        self._add(name, argv, port, "/-/ready")
        # Peers sent SIGTERM together each wait 10 s for a leave broadcast nobody takes.
        self._procs[name].deathsig = signal.SIGKILL

    def _am_argv(self, i: int) -> list[str]:
        """Peer i joins the peers started before it; on a restart, every running peer."""
        proc = self._procs[self._am_names[i]]
        if proc.popen is None:
            peers = self._cluster_addrs[:i]
        else:
            running = self.pids
            peers = [
                a
                for j, a in enumerate(self._cluster_addrs)
                if j != i and self._am_names[j] in running
            ]
        return proc.argv + [f"--cluster.peer={a}" for a in peers]

    def _spawn(self, name: str) -> None:
        proc = self._procs[name]
        argv = self._am_argv(self._am_names.index(name)) if name in self._am_names else proc.argv
        if proc.log is None:
            proc.log = open(proc.log_path, "ab")  # noqa: SIM115 - closed in stop()
        proc.log.write(f"--- {time.strftime('%H:%M:%S')} {json.dumps(argv)}\n".encode())
        proc.log.flush()
        proc.popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=proc.log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=proc.env,
            preexec_fn=pdeathsig_preexec(proc.deathsig),  # main thread: see module doc
            start_new_session=sys.platform.startswith("linux"),  # no terminal signals
        )
        self.started_pids.append(proc.popen.pid)

    def _wait_ready(self, name: str, deadline: float) -> None:
        proc = self._procs[name]
        assert proc.popen is not None
        while True:
            if proc.popen.poll() is not None:
                raise StackError(
                    f"{name} exited with code {proc.popen.returncode} before it was ready.\n"
                    f"Last lines of {proc.log_path}:\n{self.log_tail(name)}"
                )
            try:
                if http_get(proc.url + proc.ready_path, timeout=0.5)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise StackError(
                    f"{name} was not ready at {proc.url}{proc.ready_path} in time.\n"
                    f"Last lines of {proc.log_path}:\n{self.log_tail(name)}"
                )
            time.sleep(0.05)

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The last lines a server wrote, to show why it failed."""
        try:
            text = self._procs[name].log_path.read_text(errors="replace")
        except (KeyError, OSError) as err:
            return f"(no log: {err})"
        return "\n".join(text.splitlines()[-lines:])

    def wait_for_firing(self, timeout: float = 30.0, min_alerts: int = 1) -> float:
        """Wait until every Alertmanager peer holds ``min_alerts`` active alerts.

        Returns the seconds since ``start()`` began, recorded as ``timings["first_alert"]``.
        """
        if self._started_at is None:
            raise RuntimeError("the stack has not been started")
        deadline = time.monotonic() + timeout
        counts: dict[str, int | str] = {}
        while time.monotonic() < deadline:
            for url in self.alertmanager_urls:
                counts[url] = _active_alerts(url)
            if all(isinstance(c, int) and c >= min_alerts for c in counts.values()):
                self.timings["first_alert"] = time.monotonic() - self._started_at
                return self.timings["first_alert"]
            time.sleep(0.1)
        raise StackError(f"no active alert within {timeout} s; active alerts by peer: {counts}")

    @property
    def sink_url(self) -> str | None:
        p = self._procs.get("sink")
        return p.url if p else None

    def break_sink(self, broken: bool = True) -> dict[str, Any]:
        """Make the webhook sink answer 500 (or mend it): a pager that is down, for real."""
        if self.sink_url is None:
            raise RuntimeError("the stack runs no sink")
        path = "/break" if broken else "/mend"
        request = urllib.request.Request(self.sink_url + path, data=b"", method="POST")
        with _NO_PROXY.open(request, timeout=5) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def set_rates(self, **changes: float) -> dict[str, float]:
        """Change the exporter's rates while it runs (``error_ratio=0.3``); its counters carry
        on from where they are. Returns the rates it serves now."""
        if self.exporter_url is None:
            raise RuntimeError("the stack runs no exporter")
        body = urlencode({k: repr(float(v)) for k, v in changes.items()}).encode()
        request = urllib.request.Request(self.exporter_url + "/rates", data=body, method="POST")
        try:
            with _NO_PROXY.open(request, timeout=5) as response:
                rates: dict[str, float] = json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise ValueError(err.read().decode(errors="replace").strip()) from None
        return rates

    def kill_peer(self, i: int) -> int:
        """SIGKILL Alertmanager peer ``i`` (an HA failure); returns its PID."""
        popen = self._procs[self._am_names[i]].popen
        if popen is None or popen.poll() is not None:
            raise RuntimeError(f"alertmanager-{i} is not running")
        popen.kill()
        popen.wait()
        return popen.pid

    def start_peer(self, i: int, timeout: float = 15.0) -> int:
        """Restart Alertmanager peer ``i`` on its old ports and data; returns the new PID."""
        name = self._am_names[i]
        popen = self._procs[name].popen
        if popen is not None and popen.poll() is None:
            raise RuntimeError(f"{name} is already running")
        self._spawn(name)
        self._wait_ready(name, time.monotonic() + timeout)
        return self.pids[name]

    def restart(self, name: str, timeout: float = 15.0) -> int:
        """Start a server that died or was killed (``prometheus``, ``exporter``,
        ``alertmanager-N``) again on its old ports and data; returns the new PID."""
        proc = self._procs[name]
        if proc.popen is not None and proc.popen.poll() is None:
            raise RuntimeError(f"{name} is still running")
        self._spawn(name)
        self._wait_ready(name, time.monotonic() + timeout)
        return self.pids[name]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop exactly the processes this stack started: SIGTERM, wait, then SIGKILL.

        Alertmanager peers go one at a time, last first, so each can say goodbye to a
        peer that is still there (otherwise each waits 10 s for its leave broadcast).
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        others = [p.popen for n, p in self._procs.items() if n not in self._am_names]
        peers = [self._procs[n].popen for n in reversed(self._am_names)]
        for child in others:  # the exporter and Prometheus stop in parallel
            if child is not None:
                signal_child(child, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for popen in [*peers, *others]:
            if popen is None:
                continue
            stop_child(popen, max(0.1, deadline - time.monotonic()))
        for p in self._procs.values():
            if p.log:
                p.log.close()
        if self._down_socket:
            self._down_socket.close()
        if self._owns_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def describe(self) -> str:
        """Human-readable addresses, for ``oncall-tui demo``."""
        lines = [f"Alertmanager {i}: {u}" for i, u in enumerate(self.alertmanager_urls)]
        if self.options.clusters > 1:
            for i, (cluster, url) in enumerate(self.prometheus_urls.items()):
                exporter = self._procs[f"exporter{_suffix(i)}"].url
                lines.append(f"Cluster {cluster}:      Prometheus {url}, exporter {exporter}")
        elif self.prometheus_url:
            lines += [
                f"Prometheus:     {self.prometheus_url}",
                f"Exporter:       {self.exporter_url}",
            ]
        if self.sink_url:
            lines += [
                f"Webhook sink:   {self.sink_url}  (curl -XPOST {self.sink_url}/break to make"
                f" every receiver fail, /mend to heal it: :health then shows it)",
            ]
        return "\n".join([*lines, f"Work dir:       {self.workdir}"])


def _package_env() -> dict[str, str]:
    env = dict(os.environ)
    pkg_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_root, env.get("PYTHONPATH")]))
    return env


def delivering(
    config_text: str, sink_url: str, group_timings: tuple[str, str] | None = None
) -> str:
    """The course's Alertmanager configuration with every receiver sending to the demo's
    webhook sink (`/hook/<receiver>`): the tree is unchanged, delivery becomes real.
    `group_timings` replaces the root route's group_wait and group_interval."""
    import yaml

    config = yaml.safe_load(config_text)
    if group_timings is not None:
        config["route"]["group_wait"], config["route"]["group_interval"] = group_timings
    # A dead man's switch heartbeat, as real setups have: the Watchdog alert notifies every
    # couple of seconds, so a broken sink shows in the failure counters at once.
    config["route"].setdefault("routes", []).insert(
        0,
        {
            "receiver": "watchdog",
            "matchers": ['alertname="Watchdog"'],
            "group_interval": "1s",
            "repeat_interval": "2s",
        },
    )
    config["receivers"].append({"name": "watchdog"})
    for receiver in config.get("receivers") or ():
        name = receiver["name"]
        receiver["webhook_configs"] = [
            {"url": f"{sink_url}/hook/{name}", "send_resolved": True, "max_alerts": 20}
        ]
    header = "# Rendered by the demo stack: the course's tree, receivers sending to the sink.\n"
    return header + yaml.safe_dump(config, sort_keys=False)


def _active_alerts(am_url: str) -> int | str:
    """How many alerts a peer holds in state ``active``, or the error text."""
    try:
        status, body = http_get(am_url + "/api/v2/alerts", timeout=2.0)
        if status != 200:
            return f"HTTP {status}"
        alerts: list[dict[str, Any]] = json.loads(body)
    except (OSError, ValueError) as err:
        return str(err)
    return sum(1 for a in alerts if a.get("status", {}).get("state") == "active")
