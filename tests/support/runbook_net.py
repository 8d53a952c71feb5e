"""A name and address map for runbook fetches that only ever reaches 127.0.0.1.

`LoopbackNet.resolver` answers names from a table the test writes (never real DNS); a name
may answer differently on each lookup (DNS rebinding). `LoopbackNet.backend` is the network
backend under the app's guard: it records every address the guard asked it to connect to,
connects loopback addresses directly, and reaches a "forbidden" address (169.254.169.254:80,
say) only through `routes`, which lead to a recording server on 127.0.0.1. So if the guard
ever let a metadata address through, the fake metadata server would answer and record it;
any other address is refused here, so no test sends a packet off the machine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore

from oncall_tui.api.netguard import NetworkHooks


@dataclass
class LoopbackNet:
    names: dict[str, list[list[str]]] = field(default_factory=dict)  # name -> answers in turn
    routes: dict[tuple[str, int], int] = field(
        default_factory=dict
    )  # (address, port) -> loopback port
    lookups: list[str] = field(default_factory=list)
    connects: list[tuple[str, int]] = field(default_factory=list)  # what the guard let through

    def answer(self, name: str, *answers: list[str]) -> None:
        self.names[name.lower()] = list(answers)

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answers = self.names.get(host.lower().rstrip("."))
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the test's name table")
        return answers.pop(0) if len(answers) > 1 else answers[0]

    @property
    def hooks(self) -> NetworkHooks:
        return NetworkHooks(resolver=self.resolve, backend=_Backend(self))

    def off_loopback(self) -> list[tuple[str, int]]:
        return [(a, p) for a, p in self.connects if not ipaddress.ip_address(a).is_loopback]


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self, net: LoopbackNet) -> None:
        self.net = net
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.net.connects.append((host, port))
        if ipaddress.ip_address(host).is_loopback:
            return await self.inner.connect_tcp(host, port, timeout)
        routed = self.net.routes.get((host, port))
        if routed is None:
            raise httpcore.ConnectError(
                f"test network: {host}:{port} is not routed (no traffic sent)"
            )
        return await self.inner.connect_tcp("127.0.0.1", routed, timeout)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no unix sockets in the test network")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
