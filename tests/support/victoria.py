"""VictoriaMetrics and vmalert for real (Debian's `victoria-metrics` package, 1.79).

`VictoriaStack` starts, on 127.0.0.1 and in a temp dir:
- VictoriaMetrics single-node scraping the demo exporter (and the port where nothing
  listens, so ChurnAPIDown fires), with `-search.latencyOffset=1s` (FACTS.md);
- vmalert evaluating the demo's rules (oncall_tui/demo/files/rules) against it, notifying
  the given Alertmanagers with `cluster=<label>`; with `remote_write`, it writes ALERTS,
  ALERTS_FOR_STATE and the recording rules back to VictoriaMetrics, without it none of
  those exist there (what history must then say) and the recording rules are left out
  (vmalert 1.79 refuses to start with them and no -remoteWrite.url).
Processes are stopped by PID. Missing binaries FAIL the test with the install command.
`running(...)` is the fixtures' one way to have it: started, yielded, stopped.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pytest

from oncall_tui.demo.procs import http_get, pdeathsig_preexec, reserve_port, stop_child
from oncall_tui.demo.stack import Stack

INSTALL = "apt-get install -y victoria-metrics (ships victoria-metrics and vmalert)"
RULES = resources.files("oncall_tui.demo") / "files" / "rules"


def binaries() -> tuple[str, str]:
    vm, vmalert = shutil.which("victoria-metrics"), shutil.which("vmalert")
    if not (vm and vmalert):
        raise RuntimeError(f"VictoriaMetrics is not installed: {INSTALL}")
    return vm, vmalert


class VictoriaStack:
    def __init__(self, stack: Stack, *, label: str = "vm", remote_write: bool = True) -> None:
        self.stack = stack
        self.label = label
        self.remote_write = remote_write
        self.workdir = Path(tempfile.mkdtemp(prefix="oncall-tui-vm-"))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        held = [reserve_port() for _ in range(2)]
        self.vm_port, self.vmalert_port = (s.getsockname()[1] for s in held)
        for s in held:
            s.close()

    @property
    def vm_url(self) -> str:
        return f"http://127.0.0.1:{self.vm_port}"

    @property
    def vmalert_url(self) -> str:
        return f"http://127.0.0.1:{self.vmalert_port}"

    def start(self, timeout: float = 30.0) -> VictoriaStack:
        vm, vmalert = binaries()
        wd = self.workdir
        assert self.stack.exporter_url and self.stack.down_instance
        exporter = self.stack.exporter_url.removeprefix("http://")
        (wd / "scrape.yml").write_text(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: churn-api\n"
            f"    static_configs:\n      - targets: ['{exporter}', '{self.stack.down_instance}']\n"
        )
        (wd / "rules").mkdir()
        for f in RULES.iterdir():
            # vmalert refuses to start with recording rules and no -remoteWrite.url:
            # without it, only the alerting rules (slo.yml holds the recording ones).
            if f.name.endswith(".yml") and (self.remote_write or f.name != "slo.yml"):
                (wd / "rules" / f.name).write_text(f.read_text())
        self._spawn(
            "victoria-metrics",
            [
                vm,
                f"-httpListenAddr=127.0.0.1:{self.vm_port}",
                f"-storageDataPath={wd / 'vm-data'}",
                f"-promscrape.config={wd / 'scrape.yml'}",
                "-search.latencyOffset=1s",
            ],
        )
        argv = [
            vmalert,
            f"-httpListenAddr=127.0.0.1:{self.vmalert_port}",
            f"-rule={wd / 'rules'}/*.yml",
            f"-datasource.url={self.vm_url}",
            "-evaluationInterval=1s",
            f"-external.label=cluster={self.label}",
            *(f"-notifier.url={u}" for u in self.stack.alertmanager_urls),
        ]
        if self.remote_write:
            argv += [f"-remoteWrite.url={self.vm_url}", "-remoteWrite.flushInterval=1s"]
        deadline = time.monotonic() + timeout
        self._wait(self.vm_url + "/health", "victoria-metrics", deadline)
        self._spawn("vmalert", argv)
        self._wait(self.vmalert_url + "/health", "vmalert", deadline)
        return self

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - the child holds it
        self.procs[name] = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            preexec_fn=pdeathsig_preexec(),
            start_new_session=True,
        )
        log.close()

    def _wait(self, url: str, name: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                break
            try:
                if http_get(url, timeout=0.5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        tail = (self.workdir / f"{name}.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"{name} was not ready at {url}:\n{tail}")

    def stop(self) -> None:
        for popen in reversed(list(self.procs.values())):
            stop_child(popen, 5.0)
        self.procs.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def running(stack: Stack, *, label: str, remote_write: bool = True) -> Iterator[VictoriaStack]:
    """VictoriaMetrics and vmalert for a test module's fixture, stopped afterwards; a
    missing package or a start that fails FAILS the test (never a skip) with the reason."""
    try:
        started = VictoriaStack(stack, label=label, remote_write=remote_write).start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield started
    finally:
        started.stop()
