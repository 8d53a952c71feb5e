"""The fault proxy itself, in front of the real Alertmanager: each fault is what it claims."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from oncall_tui.demo.stack import Stack
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack


@pytest.fixture
def proxy(stack: Stack) -> Iterator[fp.FaultProxy]:
    with fp.FaultProxy(stack.alertmanager_urls[0]) as running:
        yield running


def get(proxy: fp.FaultProxy, path: str = "/api/v2/status", timeout: float = 2.0) -> httpx.Response:
    with httpx.Client(timeout=timeout) as client:
        return client.get(proxy.url + path)


def test_pass_forwards_the_real_answer_and_keeps_the_connection(
    proxy: fp.FaultProxy, stack: Stack
) -> None:
    direct = httpx.get(stack.alertmanager_urls[0] + "/api/v2/status", timeout=5).json()
    with httpx.Client(timeout=5) as client:
        first = client.get(proxy.url + "/api/v2/status")
        second = client.get(proxy.url + "/api/v2/alerts/groups")  # same connection, kept alive
    assert first.status_code == 200 and first.json()["cluster"] == direct["cluster"]
    assert second.status_code == 200 and isinstance(second.json(), list)
    assert proxy.seen["pass"] == 2


def test_refused_then_back_on_the_same_port(proxy: fp.FaultProxy) -> None:
    port = proxy.port
    proxy.set(fp.REFUSE)
    with pytest.raises(httpx.ConnectError, match="refused"):
        get(proxy)
    proxy.set(fp.PASS)
    assert proxy.port == port and get(proxy).status_code == 200


def test_hang_until_the_client_gives_up(proxy: fp.FaultProxy) -> None:
    proxy.set(fp.HANG)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        get(proxy, timeout=0.5)
    assert time.monotonic() - started >= 0.5
    assert proxy.seen["hang"] == 1


def test_delay_answers_late_but_whole(proxy: fp.FaultProxy) -> None:
    proxy.set(fp.delay(0.4))
    started = time.monotonic()
    response = get(proxy)
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200 and "cluster" in response.json()


def test_cut_short_breaks_the_body(proxy: fp.FaultProxy) -> None:
    proxy.set(fp.CUT)
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|peer closed"):
        get(proxy)


@pytest.mark.parametrize("code", [500, 502, 503, 401, 403])
def test_error_statuses(proxy: fp.FaultProxy, code: int) -> None:
    proxy.set(fp.status(code))
    response = get(proxy)
    assert response.status_code == code
    assert response.text == f"{code} from the fault proxy\n"


def test_status_after_write_reaches_the_server(proxy: fp.FaultProxy, stack: Stack) -> None:
    """`forward=True`: the real server handled the request though the client sees a 502."""
    comment = f"proxy forwarded {time.monotonic_ns()}"
    silence = {
        "matchers": [{"name": "alertname", "value": "ProxyForwardedDrill", "isRegex": False}],
        "startsAt": "2020-01-01T00:00:00Z",
        "endsAt": "2099-01-01T00:00:00Z",
        "createdBy": "pytest",
        "comment": comment,
    }
    proxy.set(fp.status(502, forward=True))
    with httpx.Client(timeout=5) as client:
        response = client.post(proxy.url + "/api/v2/silences", json=silence)
    assert response.status_code == 502
    held = httpx.get(stack.alertmanager_urls[0] + "/api/v2/silences", timeout=5).json()
    assert [s["comment"] for s in held].count(comment) == 1


def test_garbage_not_json_huge_and_tls(proxy: fp.FaultProxy) -> None:
    proxy.set(fp.GARBAGE_FAULT)
    with pytest.raises(httpx.RemoteProtocolError):
        get(proxy)
    proxy.set(fp.NOT_JSON_FAULT)
    response = get(proxy)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()
    proxy.set(fp.huge(8 << 20))
    response = get(proxy)
    assert len(response.content) == 8 << 20 and isinstance(response.json(), str)
    proxy.set(fp.TLS)
    with pytest.raises(httpx.RemoteProtocolError):
        get(proxy)
    proxy.set(fp.PASS)
    assert get(proxy).status_code == 200
