"""The command line as a user runs it: check-config against the real stack, demo --check."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oncall_tui.demo.stack import Stack
from tests.support.pty_capture import PtyProgram, visible_text

TOKEN = "tok-3f9a-very-secret-value"


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_TUI")}
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**base, **(env or {})},
    )


def free_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.mark.stack
def test_check_config_prints_both_peers_and_prometheus(stack: Stack, tmp_path: Path) -> None:
    peers = stack.alertmanager_urls
    config = tmp_path / "config.yaml"
    config.write_text(
        "current_context: demo\ncontexts:\n  demo:\n"
        f"    alertmanagers: [{peers[0]}, {peers[1]}]\n"
        f"    prometheus: {{url: {stack.prometheus_url}}}\n"
        "    auth: {type: bearer, source: env, env: DEMO_TOKEN}\n"
    )
    done = run("--config", str(config), "check-config", env={"DEMO_TOKEN": TOKEN})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for url in peers:
        line = next(line for line in lines if url in line)
        assert line.split()[:4] == ["demo", "ok", "alertmanager", "demo"]
        assert "version 0.25" in line and "cluster ready, 2 peers" in line and "auth ok" in line
    prom = next(line for line in lines if stack.prometheus_url in line)  # type: ignore[operator]
    assert prom.split()[:2] == ["demo", "ok"] and "version 2." in prom
    assert lines[-1] == "all servers answered"
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.stack
def test_check_config_fails_for_a_dead_peer(stack: Stack) -> None:
    dead = free_url()
    done = run("--alertmanager", stack.alertmanager_urls[0], "--alertmanager", dead, "check-config")
    assert done.returncode == 1
    dead_line = next(line for line in done.stdout.splitlines() if dead in line)
    assert "FAILED" in dead_line and "Connection refused" in dead_line
    assert done.stdout.splitlines()[-1] == "some servers FAILED (in cli)"


@pytest.mark.stack
def test_check_config_probes_every_context_and_names_each(stack: Stack, tmp_path: Path) -> None:
    """Every context is probed (not just the current one); --context limits it to one."""
    dead = free_url()
    config = tmp_path / "config.yaml"
    config.write_text(
        "current_context: prod\ncontexts:\n"
        f"  prod:\n    alertmanagers: [{stack.alertmanager_urls[0]}]\n"
        f"  staging:\n    alertmanagers: [{dead}]\n"
        f"  lab:\n    prometheus: {{url: {stack.prometheus_url}}}\n"
        "    tls: {ca_file: /nonexistent/ca.pem}\n"
    )
    done = run("--config", str(config), "check-config")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    by_context = {name: [line for line in lines if line.split()[0] == name]
                  for name in ("prod", "staging", "lab")}  # fmt: skip
    assert [line.split()[1:3] for line in by_context["prod"]] == [["ok", "alertmanager"]]
    assert "FAILED" in by_context["staging"][0] and dead in by_context["staging"][0]
    assert "FAILED config" in by_context["lab"][0] and "ca.pem" in by_context["lab"][0]
    assert lines[-1] == "some servers FAILED (in lab, staging)"

    only = run("--config", str(config), "--context", "prod", "check-config")
    assert only.returncode == 0, only.stdout + only.stderr
    assert {line.split()[0] for line in only.stdout.splitlines()[:-1]} == {"prod"}
    assert only.stdout.splitlines()[-1] == "all servers answered"


def test_check_config_names_a_missing_credential(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"contexts:\n  prod:\n    alertmanagers: [{free_url()}]\n"
        "    auth: {type: bearer, source: env, env: PROD_TOKEN_UNSET}\n"
    )
    done = run("--config", str(config), "check-config")
    assert done.returncode == 1
    assert "auth NOT sent" in done.stdout and "PROD_TOKEN_UNSET" in done.stdout
    assert "Traceback" not in done.stderr


def test_demo_without_binaries_says_how_to_install(tmp_path: Path) -> None:
    done = run("demo", "--check", env={"PATH": str(tmp_path)})
    assert done.returncode == 1
    assert "apt-get install prometheus prometheus-alertmanager" in done.stderr
    assert "brew install prometheus alertmanager" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_check_starts_probes_and_stops_the_stack() -> None:
    done = run("demo", "--check", timeout=90)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok     alertmanager") == 2
    assert "ok     prometheus" in done.stdout
    assert "First alert active after" in done.stderr
    workdir = next(
        line.split()[-1] for line in done.stderr.splitlines() if line.startswith("Work dir:")
    )
    assert not Path(workdir).exists(), "the demo removes its work dir when it stops"


def test_demo_check_with_two_clusters_probes_each_backend() -> None:
    done = run("demo", "--check", "--clusters", "2", timeout=90)
    assert done.returncode == 0, done.stderr
    for cluster in ("a", "b"):
        assert f"ok     prometheus   cluster={cluster}" in done.stdout, done.stdout
        assert f"Cluster {cluster}:" in done.stderr
    assert done.stdout.count("pending alerts: works") == 2, done.stdout
    workdir = next(
        line.split()[-1] for line in done.stderr.splitlines() if line.startswith("Work dir:")
    )
    assert not Path(workdir).exists(), "the demo removes its work dir when it stops"


def test_ctrl_c_in_the_demo_quits_and_stops_every_server(tmp_path: Path) -> None:
    """The README's promise, in a real terminal: Ctrl+C leaves the app (no "Press ctrl+q"
    toast), the demo stops its servers, their ports are free and the work dir is gone."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    argv = [sys.executable, "-m", "oncall_tui", "demo", "--refresh", "1"]
    with PtyProgram(argv, env=env, columns=80, rows=24, cwd=str(tmp_path)) as program:
        program.read_until(
            lambda out: "HighErrorRate" in visible_text(out, "replace"), 90, "the board"
        )
        started = visible_text(bytes(program.output), "replace")
        program.write(b"\x03")
        code = program.wait_exit(timeout=30)
    shown = visible_text(bytes(program.output), "replace")
    assert code == 0, shown[-2000:]
    assert "ctrl+q" not in shown and "Do you want to quit" not in shown
    workdir = re.search(r"Work dir:\s+(\S+)", started)
    urls = re.findall(r"(?:Alertmanager \d|Prometheus):\s+http://127\.0\.0\.1:(\d+)", started)
    assert workdir and len(urls) == 3, started[:2000]
    assert not Path(workdir.group(1)).exists(), "the demo removes its work dir when it stops"
    for port in map(int, urls):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"


def test_cli_overrides_are_validated() -> None:
    done = run("--alertmanager", "not-a-url", "check-config")
    assert done.returncode == 2
    assert "is not an http(s) URL" in done.stderr


def test_demo_serve_keeps_its_config_and_says_the_servers_stop_with_it(tmp_path: Path) -> None:
    """The config outlives the demo (it is not in the stack's temp dir); the servers do not."""
    state = tmp_path / "state"
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_TUI")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "oncall_tui", "demo", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**base, "XDG_STATE_HOME": str(state)},
        # Ctrl+C as at a terminal: a suite started in the background (`make test &`) has
        # SIGINT ignored, and a child inherits that, so the demo would never hear it.
        preexec_fn=_sigint_as_at_a_terminal,
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda s=s, into=into: into.extend(s), daemon=True)
        for s, into in ((proc.stdout, out), (proc.stderr, err))
    ]
    for reader in readers:
        reader.start()
    path = state / "oncall-tui" / "demo.yaml"
    try:
        deadline = time.monotonic() + 90
        while not any("Press Ctrl+C" in line for line in err):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(err)
            time.sleep(0.1)
        told = "".join(err)
        assert f"also written to {path}" in told
        assert (
            "stays after the demo stops" in told and "servers it names stop with the demo" in told
        )
        kept = path.read_text()
        # stdout was written before stderr's last line, but its reader thread may not have
        # read it yet when that line is seen (CI once compared the file with nothing).
        while "".join(out) != kept and time.monotonic() < deadline + 10:
            time.sleep(0.05)
        assert kept == "".join(out), "the same YAML on stdout and in the file"
        live = run("--config", str(path), "check-config")
        assert live.returncode == 0, live.stdout + live.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert path.exists(), "the config survives the demo"
    assert "Its servers stop with `oncall-tui demo --serve`" in path.read_text()
    after = run("--config", str(path), "check-config")
    assert after.returncode == 1 and "FAILED" in after.stdout


def _sigint_as_at_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
