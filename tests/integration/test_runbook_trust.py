"""Runbook links are untrusted (issue 19): no local file outside the runbook folders, no
cloud metadata endpoint, whatever the annotation says, and the view says where a runbook
came from.

The secrets are real files next to the runbook folder, and a real "metadata server" on
127.0.0.1 that the forbidden addresses are routed to by the test's network map
(`tests/support/runbook_net.py`): if a rule failed, the secret would be read or the fake metadata
server would answer, and the test would see it. Nothing leaves the loopback interface.
The app tests post hostile alerts to the real Alertmanager of the session's stack, open
them with `r` and read the screen as the compositor draws it.
"""

from __future__ import annotations

import os
import shutil
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import msgspec
import pytest
from textual.widgets import Markdown, Static

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.fetch import RunbookFetcher
from oncall_tui.api.http import ClientOptions
from oncall_tui.api.netguard import GuardedTransport
from oncall_tui.cli.demo import demo_context
from oncall_tui.config import RunbooksConfig
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.runbook_policy import NetworkPolicy, parse_address
from oncall_tui.domain.runbooks import candidates
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.runbook import RunbookScreen
from oncall_tui.wire.alertmanager import PostableAlert
from oncall_tui.wire.documents import FetchError, RefusedLink
from tests.helpers import context_app, cursor_on, markdown_text, plain, texts, until
from tests.support.runbook_net import LoopbackNet
from tests.support.runbook_server import Route, RunbookServer
from tests.support.secure_server import make_certificates

SECRET = "SECRET-19-private-key-do-not-show-4b1d"
META = "META-19-AKIA-instance-credentials-do-not-show"
META_PATH = "/latest/meta-data/iam/security-credentials/"

# -- every open() this process makes, while a test is recording ---------------------------------

_opened: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _opened is not None and args and isinstance(args[0], (str, bytes)):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def opened() -> Iterator[list[str]]:
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


# -- the places -----------------------------------------------------------------------------------


@dataclass
class Disk:
    root: Path  # the runbook folder
    secret: Path  # outside it


@pytest.fixture
def disk(tmp_path: Path) -> Disk:
    root = tmp_path / "runbooks"
    root.mkdir()
    secret = tmp_path / "secret.md"
    secret.write_text(f"# {SECRET}\n")
    (tmp_path / "runbooks-evil").mkdir()
    (tmp_path / "runbooks-evil" / "x.md").write_text(f"# {SECRET}\n")
    (root / "Fine.md").write_text("# Fine runbook\n")
    (root / "alias.md").symlink_to(root / "Fine.md")  # a symlink that stays inside: fine
    (root / "link.md").symlink_to(secret)
    (root / "RB19_folder_symlink.md").symlink_to(secret)
    (root / "up").symlink_to(tmp_path)
    os.mkfifo(root / "RB19_fifo.md")
    return Disk(root, secret)


def hostile_files(disk: Disk) -> dict[str, str]:
    """A file link per way of reaching the secret; each must be refused."""
    root, tmp = disk.root, disk.root.parent
    return {
        "absolute": f"file://{disk.secret}",
        "localhost": f"file://localhost{disk.secret}",
        "dotdot": f"file://{root}/../secret.md",
        "percent": f"file://{root}/%2e%2e/secret.md",
        "percent_upper": f"file://{root}/%2E%2E%2Fsecret.md",
        "double_percent": f"file://{root}/%252e%252e/secret.md",
        "symlink": f"file://{root}/link.md",
        "symlinked_dir": f"file://{root}/up/secret.md",
        "prefix": f"file://{tmp}/runbooks-evil/x.md",
        "nul": f"file://{root}/Fine.md%00/../../secret.md",
        "relative": "file:secret.md",
        "other_host": f"file://attacker.example{disk.secret}",
    }


# -- files, without the app ---------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(hostile_files(Disk(Path("/r"), Path("/s")))))
async def test_file_links_outside_the_folders_are_refused_before_anything_is_opened(
    disk: Disk, opened: list[str], case: str
) -> None:
    link = hostile_files(disk)[case]
    (found,) = candidates("X", {}, {"runbook_url": link}, folders=[])
    client = RunbookFetcher(max_bytes=100_000, timeout=5.0, roots=[disk.root])
    try:
        if found.refusal is not None:
            message = found.refusal.message
        else:
            with pytest.raises(RefusedLink) as refused:
                await client.read_file(found.location)
            message = refused.value.message
    finally:
        await client.aclose()
    assert "refused by the runbook folders rule" in message
    assert "runbooks.file_roots" in message or "runbook folder" in message
    secret_names = {str(disk.secret), str(disk.root.parent / "runbooks-evil" / "x.md")}
    assert not [p for p in opened if os.path.realpath(p) in secret_names], "nothing was opened"


async def test_files_inside_the_folders_still_read_and_a_fifo_does_not_hang(disk: Disk) -> None:
    client = RunbookFetcher(max_bytes=100_000, timeout=5.0, roots=[disk.root])
    try:
        assert (await client.read_file(str(disk.root / "Fine.md"))).text == "# Fine runbook\n"
        assert (await client.read_file(str(disk.root / "alias.md"))).text == "# Fine runbook\n"
        with pytest.raises(FetchError) as fifo:
            await client.read_file(str(disk.root / "RB19_fifo.md"))
        with pytest.raises(RefusedLink):  # no folder configured: no file at all
            await RunbookFetcher(max_bytes=1000, timeout=1.0).read_file(str(disk.root / "Fine.md"))
    finally:
        await client.aclose()
    assert "not a regular file" in fifo.value.message


# -- addresses and names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "169.254.170.2",
        "169.254.0.23",
        "169.254.0.1",
        "2852039166",
        "0xa9fea9fe",
        "0251.0376.0251.0376",
        "169.254.43518",
        "fe80::1",
        "[fe80::1%25eth0]",
        "FE80::a:b",
        "fd00:ec2::254",
        "[fd00:ec2::254]",
        "fd00:ec2::23",
        "fd20:ce::254",
        "[FD20:CE::254]",
        "::ffff:169.254.169.254",
        "::ffff:a9fe:a9fe",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "::169.254.169.254",
        "100.100.100.200",
        "192.0.0.192",
        "168.63.129.16",
        "metadata.google.internal",
        "METADATA.GOOGLE.INTERNAL.",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "x.metadata.google.internal",
    ],
)
def test_metadata_hosts_are_refused_in_every_spelling(host: str) -> None:
    refusal = NetworkPolicy().host_refusal(host)
    assert refusal is not None and refusal.rule == "no metadata endpoints"
    assert "runbooks.allow_hosts" in refusal.message
    address = parse_address(host)
    if address is not None:  # and as the address a name resolved to
        assert NetworkPolicy().address_refusal("runbooks.example.com", str(address)) is not None


def test_ordinary_hosts_pass_and_the_allow_list_opens_exactly_one() -> None:
    policy = NetworkPolicy()
    for host in (
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "::1",
        "github.com",
        "metadata.example.com",
    ):
        assert policy.host_refusal(host) is None, host
    allow = NetworkPolicy.from_config(["169.254.10.5", "Metadata.Google.Internal."])
    assert allow.host_refusal("169.254.10.5") is None
    assert allow.address_refusal("169.254.10.5", "169.254.10.5") is None
    assert allow.host_refusal("metadata.google.internal") is None
    assert allow.host_refusal("169.254.169.254") is not None
    assert allow.address_refusal("wiki.example.com", "169.254.169.254") is not None


# -- fetches, without the app: a real metadata stand-in on loopback --------------------------------


@pytest.fixture
def net(other_server: RunbookServer) -> LoopbackNet:
    """Forbidden addresses routed to `other_server`, which plays the metadata service."""
    other_server.routes[META_PATH] = Route(META.encode(), content_type="text/plain")
    port = int(other_server.url.rsplit(":", 1)[1])
    network = LoopbackNet()
    for address in ("169.254.169.254", "fd00:ec2::254", "fd20:ce::254", "169.254.170.2"):
        network.routes[(address, 80)] = port
    network.answer("metadata.google.internal", ["169.254.169.254"])
    network.answer("sneaky.test", ["169.254.169.254"])
    network.answer("sneaky6.test", ["fd20:ce::254"])
    network.answer("mixed.test", ["127.0.0.1", "169.254.169.254"])
    return network


async def fetch_with(
    net: LoopbackNet, url: str, allow: tuple[str, ...] = (), proxy: str | None = None
) -> str:
    client = RunbookFetcher(
        max_bytes=100_000,
        timeout=5.0,
        policy=NetworkPolicy.from_config(allow),
        hooks=net.hooks,
        proxy=proxy,
    )
    try:
        return (await client.fetch(url)).text
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254" + META_PATH,
        "http://[fd00:ec2::254]" + META_PATH,
        "http://[fd20:ce::254]" + META_PATH,  # GCP's IPv6 metadata server
        "http://sneaky6.test" + META_PATH,  # a name for it
        "http://metadata.google.internal" + META_PATH,
        "http://2852039166" + META_PATH,
        "http://sneaky.test" + META_PATH,  # an innocent name for the metadata address
        "http://mixed.test" + META_PATH,  # one of its addresses is enough
    ],
)
async def test_metadata_urls_are_refused_before_any_connection(
    net: LoopbackNet, other_server: RunbookServer, url: str
) -> None:
    with pytest.raises(RefusedLink) as refused:
        await fetch_with(net, url)
    assert "no metadata endpoints" in refused.value.message
    assert net.connects == [], "refused before connecting"
    assert other_server.seen == []


async def test_a_redirect_to_a_metadata_address_is_refused_at_that_hop(
    net: LoopbackNet, runbook_server: RunbookServer, other_server: RunbookServer
) -> None:
    runbook_server.routes["/direct"] = Route(
        status=302, location="http://169.254.169.254" + META_PATH
    )
    runbook_server.routes["/named"] = Route(status=301, location="http://sneaky.test" + META_PATH)
    for path in ("/direct", "/named"):
        with pytest.raises(RefusedLink):
            await fetch_with(net, runbook_server.url + path)
    assert [p for p, _ in runbook_server.seen] == ["/direct", "/named"]
    assert other_server.seen == [] and net.off_loopback() == []


async def test_dns_rebinding_between_hops_is_refused(
    net: LoopbackNet, runbook_server: RunbookServer, other_server: RunbookServer
) -> None:
    # rebind.test is 127.0.0.1 when first asked, then the metadata address: the second hop
    # (another port, so a new connection) is resolved again and refused.
    meta_port = int(other_server.url.rsplit(":", 1)[1])
    port = int(runbook_server.url.rsplit(":", 1)[1])
    net.answer("rebind.test", ["127.0.0.1"], ["169.254.169.254"])
    net.routes[("169.254.169.254", meta_port)] = meta_port
    runbook_server.routes["/start"] = Route(
        status=302, location=f"http://rebind.test:{meta_port}{META_PATH}"
    )
    with pytest.raises(RefusedLink) as refused:
        await fetch_with(net, f"http://rebind.test:{port}/start")
    assert "rebind.test resolves to 169.254.169.254, a link-local address" in refused.value.message
    assert net.lookups == ["rebind.test", "rebind.test"]
    assert net.connects == [("127.0.0.1", port)]
    assert other_server.seen == []


async def test_the_allow_list_opens_a_named_host_and_nothing_else(
    net: LoopbackNet, other_server: RunbookServer
) -> None:
    # The control for every refusal above: allowed, the same route reaches the stand-in.
    text = await fetch_with(net, "http://169.254.169.254" + META_PATH, allow=("169.254.169.254",))
    assert text == META and len(other_server.seen) == 1
    with pytest.raises(RefusedLink):
        await fetch_with(net, "http://169.254.170.2" + META_PATH, allow=("169.254.169.254",))
    assert len(other_server.seen) == 1


async def test_behind_a_proxy_the_target_is_checked_before_the_proxy_hears_of_it(
    net: LoopbackNet, runbook_server: RunbookServer
) -> None:
    # runbook_server plays an HTTP proxy: it records the absolute-form request line.
    net.answer("wiki.test", ["127.0.0.1"])
    runbook_server.routes["http://wiki.test/Fine.md"] = Route(b"# via proxy\n")
    for url in ("http://169.254.169.254" + META_PATH, "http://sneaky.test" + META_PATH):
        with pytest.raises(RefusedLink):
            await fetch_with(net, url, proxy=runbook_server.url)
    assert runbook_server.seen == []
    assert (
        await fetch_with(net, "http://wiki.test/Fine.md", proxy=runbook_server.url)
        == "# via proxy\n"
    )


# -- through the app and the real Alertmanager ----------------------------------------------------


def screen_text(app: OncallApp) -> str:
    """Everything drawn on the screen, plus every widget's text (also what is scrolled away)."""
    drawn = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
    return "\n".join([drawn, texts(app), markdown_text(app)])


@dataclass
class HostileAlerts:
    """One alert per hostile link on the stack's first Alertmanager (resolved afterwards)."""

    peer: AlertmanagerPeer
    annotations: dict[str, dict[str, str]]
    started: datetime

    def _alerts(self, ends: datetime) -> list[PostableAlert]:
        return [
            PostableAlert(
                labels={"alertname": name, "severity": "warning", "service": "rb19"},
                annotations=notes,
                starts_at=self.started,
                ends_at=ends,
            )
            for name, notes in self.annotations.items()
        ]

    async def post(self) -> None:
        await self.peer.post_alerts(self._alerts(datetime.now(UTC) + timedelta(hours=1)))

    async def resolve(self) -> None:
        await self.peer.post_alerts(self._alerts(datetime.now(UTC) - timedelta(seconds=1)))


@pytest.fixture
async def hostile_alerts(
    stack: Stack, disk: Disk, runbook_server: RunbookServer
) -> AsyncIterator[HostileAlerts]:
    files = hostile_files(disk)
    meta = "http://169.254.169.254" + META_PATH
    runbook_server.routes["/moved"] = Route(status=302, location=meta)
    annotations: dict[str, dict[str, str]] = {
        "RB19_absolute": {"runbook_url": files["absolute"]},
        "RB19_dotdot": {"runbook_url": files["dotdot"]},
        "RB19_percent": {"runbook": files["percent"]},  # the other annotation
        "RB19_double_percent": {"runbook_url": files["double_percent"]},
        "RB19_symlink": {"runbook_url": files["symlink"]},
        "RB19_folder_symlink": {},  # found in the folder, but a symlink to the secret
        "RB19_metadata": {"runbook_url": meta},
        "RB19_gcp": {"runbook_url": "http://metadata.google.internal" + META_PATH},
        "RB19_ipv6": {"runbook_url": "http://[fd00:ec2::254]" + META_PATH},
        "RB19_redirect": {"runbook_url": runbook_server.url + "/moved"},  # allowed, then not
    }
    alerts = HostileAlerts(
        AlertmanagerPeer(stack.alertmanager_urls[0], ClientOptions()),
        annotations,
        datetime.now(UTC) - timedelta(minutes=1),
    )
    await alerts.post()
    try:
        yield alerts
    finally:
        await alerts.resolve()
        await alerts.peer.aclose()


@pytest.mark.stack
async def test_r_on_hostile_alerts_shows_a_refusal_and_no_byte_of_the_target(
    stack: Stack,
    disk: Disk,
    hostile_alerts: HostileAlerts,
    net: LoopbackNet,
    runbook_server: RunbookServer,
    other_server: RunbookServer,
    opened: list[str],
) -> None:
    names = list(hostile_alerts.annotations)
    context = msgspec.structs.replace(
        demo_context(stack, refresh=1), runbooks=RunbooksConfig(folders=[disk.root])
    )
    app = context_app(context)
    app.state.runbooks.network = net.hooks
    refusals: dict[str, str] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        for name in names:
            await cursor_on(app, pilot, name)
            await pilot.press("r")
            screen = app.screen
            assert isinstance(screen, RunbookScreen)
            await until(pilot, lambda: "No runbook shown" in texts(app), timeout=10)
            shown = screen_text(app)
            assert SECRET not in shown and META not in shown, name
            assert not app.screen.query(Markdown), "no document was mounted"
            # The refusal, its rule and the key that allows it are on screen, not scrolled away.
            drawn = "\n".join(s.text for s in app.screen._compositor.render_strips())
            assert "refused: nothing shown" in drawn and "Refused by the" in drawn, drawn
            assert "runbooks.file_roots" in drawn or "runbooks.allow_hosts" in drawn, drawn
            refusals[name] = texts(app)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
    assert net.off_loopback() == [] and other_server.seen == [], "no connection to metadata"
    assert [p for p, _ in runbook_server.seen] == ["/moved"], "only the allowed first hop"
    assert not [p for p in opened if os.path.realpath(p) == str(disk.secret)], "secret never opened"
    assert "from the alert: its runbook annotation" in refusals["RB19_percent"]
    assert "from the configured runbook folder" in refusals["RB19_folder_symlink"]
    assert "leads through a symlink" in refusals["RB19_symlink"]
    assert "climbs out of its folder with '..'" in refusals["RB19_dotdot"]
    assert "link-local address" in refusals["RB19_redirect"]
    assert "cloud metadata service" in refusals["RB19_gcp"]


@pytest.mark.stack
async def test_the_runbook_view_names_its_source(
    stack: Stack, disk: Disk, runbook_server: RunbookServer
) -> None:
    runbook_server.routes["/old"] = Route(status=302, location="/Fine.md")
    runbook_server.routes["/Fine.md"] = Route(b"# Fine over http\n")
    runbook_server.routes["/tmpl/RB19_template.md"] = Route(b"# From the template\n")
    peer = AlertmanagerPeer(stack.alertmanager_urls[0], ClientOptions())
    now = datetime.now(UTC)
    specs = {
        "Fine": {},
        "RB19_annotated": {"runbook_url": runbook_server.url + "/old"},
        "RB19_template": {},
    }

    def alerts(ends: datetime) -> list[PostableAlert]:
        return [
            PostableAlert(
                labels={"alertname": n, "severity": "info", "service": "rb19"},
                annotations=a,
                starts_at=now - timedelta(minutes=1),
                ends_at=ends,
            )
            for n, a in specs.items()
        ]

    await peer.post_alerts(alerts(now + timedelta(hours=1)))
    try:
        context = msgspec.structs.replace(
            demo_context(stack, refresh=1),
            runbooks=RunbooksConfig(
                folders=[disk.root],
                url_template=runbook_server.url + "/tmpl/{{ $labels.alertname }}.md",
            ),
        )
        app = context_app(context)
        seen: dict[str, str] = {}
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
            for name, words in (
                ("Fine", "Fine runbook"),
                ("RB19_annotated", "Fine over http"),
                ("RB19_template", "From the template"),
            ):
                await cursor_on(app, pilot, name)
                await pilot.press("r")
                await until(pilot, lambda: words in markdown_text(app), timeout=10)  # noqa: B023 (awaited here)
                source = app.screen.query_one("#runbook-source", Static)
                seen[name] = plain(source)
                assert "from the" in screen_text(app).split("\n", 3)[1], "under the title"
                assert source.has_class("-from-alert") == (name == "RB19_annotated")
                await pilot.press("escape")
    finally:
        await peer.post_alerts(alerts(datetime.now(UTC) - timedelta(seconds=1)))
        await peer.aclose()
    assert seen["Fine"] == f"from the configured runbook folder {disk.root}"
    assert (
        "from the alert: its runbook_url annotation, chosen by whoever posted"
        in seen["RB19_annotated"]
    )
    assert "redirected to" in seen["RB19_annotated"]
    assert "from the config's runbooks.url_template" in seen["RB19_template"]


# -- TLS: connecting to the checked address still verifies the certificate for the name -----------


@pytest.fixture
def tls_runbooks(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A real HTTPS server on 127.0.0.1 whose certificate names localhost (test CA)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl not found: `apt-get install openssl`", pytrace=False)
    files = make_certificates(openssl, tmp_path)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = f"# TLS runbook for {self.headers.get('Host')}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/markdown")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files["server.crt"], files["server.key"])
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], files["ca.crt"]
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_tls_is_verified_for_the_name_while_the_checked_address_is_connected(
    tls_runbooks: tuple[int, Path],
) -> None:
    port, ca = tls_runbooks
    net = LoopbackNet()
    net.answer("localhost", ["127.0.0.1"])
    net.answer("impostor.test", ["127.0.0.1"])  # same address, a name the certificate lacks
    context = ssl.create_default_context(cafile=str(ca))
    transport = GuardedTransport(NetworkPolicy(), hooks=net.hooks, ssl_context=context)
    async with httpx.AsyncClient(transport=transport) as client:
        answer = await client.get(f"https://localhost:{port}/Fine.md")
        with pytest.raises(httpx.ConnectError) as wrong:
            await client.get(f"https://impostor.test:{port}/Fine.md")
    assert answer.text == f"# TLS runbook for localhost:{port}\n", "Host header kept"
    assert net.connects == [("127.0.0.1", port), ("127.0.0.1", port)]
    assert "certificate" in str(wrong.value).lower() or "hostname" in str(wrong.value).lower()
