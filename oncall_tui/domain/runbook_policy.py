"""What a runbook link may reach, decided without touching disk or network.

A runbook link comes from an alert's annotation, and anyone who can reach an Alertmanager
can post an alert. So a link is untrusted: a local file is read only inside the folders the
config names, and a fetch never goes to a link-local address or a cloud metadata service,
where an instance's credentials live. These are the pure decisions; `api/fetch.py` and
`api/netguard.py` enforce them (after resolving symlinks, and at connect time, for every
address a name resolves to, on every redirect hop).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from oncall_tui.wire.documents import Refusal

FILE_RULE = "runbook folders"
NETWORK_RULE = "no metadata endpoints"
ALLOW_FILES = "To allow it, add its folder to runbooks.file_roots in the config."
ALLOW_HOSTS = "To allow this host, add it to runbooks.allow_hosts in the config."

_LINK_LOCAL_V4 = ipaddress.ip_network("169.254.0.0/16")
_LINK_LOCAL_V6 = ipaddress.ip_network("fe80::/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Metadata services outside the link-local ranges (the rest live at 169.254.169.254 or
# another link-local address: AWS, Azure, GCP, Oracle, OpenStack, DigitalOcean, Hetzner,
# Tencent 169.254.0.23, AWS ECS task credentials 169.254.170.2).
METADATA_ADDRESSES: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str] = {
    ipaddress.ip_address("fd00:ec2::254"): "the AWS instance metadata service (IPv6)",
    ipaddress.ip_address("fd00:ec2::23"): "the AWS EKS Pod Identity Agent (IPv6)",
    ipaddress.ip_address("fd20:ce::254"): "the GCP metadata server (IPv6)",
    ipaddress.ip_address("100.100.100.200"): "the Alibaba Cloud metadata service",
    ipaddress.ip_address("192.0.0.192"): "the Oracle Cloud metadata service",
    ipaddress.ip_address("168.63.129.16"): "the Azure WireServer",
}
# Names that reach a metadata service from inside a cloud (checked before any lookup, which
# matters when a proxy resolves names for us; the address check catches the rest).
METADATA_NAMES = frozenset(
    {
        "metadata",  # GCP's search domain makes the bare name work
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",  # AWS
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "api.metadata.cloud.ibm.com",
    }
)
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


# -- local files ---------------------------------------------------------------------------------


def _roots_text(roots: Sequence[Path]) -> str:
    return ", ".join(str(r) for r in roots) if roots else "none configured"


def lexical_file_refusal(path: str, roots: Sequence[Path]) -> Refusal | None:
    """Refuse a decoded file path that is relative, climbs with `..`, is still
    percent-encoded, or lies outside every root, judged by its text alone."""
    if "\x00" in path:
        return Refusal(FILE_RULE, "the path holds a NUL byte", ALLOW_FILES)
    if _PERCENT_ESCAPE.search(path):
        return Refusal(
            FILE_RULE,
            f"{path} is still percent-encoded after decoding (double encoding)",
            "Write the link with its plain path; to allow its target, add the target's folder "
            "to runbooks.file_roots in the config.",
        )
    pure = PurePosixPath(path)
    if not pure.is_absolute():
        return Refusal(FILE_RULE, f"{path} is not an absolute path", ALLOW_FILES)
    if ".." in pure.parts:
        return Refusal(
            FILE_RULE,
            f"{path} climbs out of its folder with '..'",
            "Write the link without '..'; to allow its target, add the target's folder to "
            "runbooks.file_roots in the config.",
        )
    if not any(_inside(Path(path), Path(os.path.abspath(root))) for root in roots):
        return Refusal(
            FILE_RULE,
            f"{path} is outside the runbook folders ({_roots_text(roots)})",
            ALLOW_FILES,
        )
    return None


def resolved_file_refusal(
    path: str, resolved: Path, roots: Sequence[Path], resolved_roots: Sequence[Path]
) -> Refusal | None:
    """Refuse a path whose symlinks, once resolved, lead outside every (resolved) root."""
    if any(_inside(resolved, root) for root in resolved_roots):
        return None
    return Refusal(
        FILE_RULE,
        f"{path} leads through a symlink to {resolved}, outside the runbook folders "
        f"({_roots_text(roots)})",
        ALLOW_FILES,
    )


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


# -- hosts and addresses ---------------------------------------------------------------------------


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def parse_address(text: str) -> Address | None:
    """An IP address in any form a resolver accepts (`2852039166`, `0xa9.0376.43518`), or None."""
    text = _host_key(text).split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not text or not all(c in "0123456789abcdefx." for c in text):
        return None
    try:  # inet_aton is what getaddrinfo uses for the old numeric forms; pure, no lookup
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def _embedded(address: Address) -> list[Address]:
    """The address and any IPv4 address an IPv6 one carries (mapped, 6to4, NAT64, compat)."""
    found: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address in _NAT64 or (address.packed[:12] == bytes(12) and int(address) > 1):
            found.append(ipaddress.IPv4Address(address.packed[12:]))
    return found


def address_class(address: Address) -> str | None:
    """What forbidden kind of address this is, in words, or None if it is ordinary."""
    for candidate in _embedded(address):
        carried = f" carrying {candidate}" if candidate != address else ""
        named = METADATA_ADDRESSES.get(candidate)
        if named:
            return f"{named}{carried}"
        if candidate in _LINK_LOCAL_V4:
            return f"a link-local address{carried} (169.254.0.0/16, where cloud metadata answers)"
        if candidate in _LINK_LOCAL_V6:
            return f"a link-local address{carried} (fe80::/10)"
    return None


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """Which hosts a runbook fetch may connect to: all but the forbidden, plus `allow`."""

    allow: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, hosts: Iterable[str]) -> NetworkPolicy:
        keys: set[str] = set()
        for host in hosts:
            address = parse_address(host)
            keys.add(str(address) if address is not None else _host_key(host))
        return cls(frozenset(keys))

    def _allowed(self, host: str, address: Address | None = None) -> bool:
        if not self.allow:
            return False
        named = parse_address(host)
        keys = {_host_key(host), str(named) if named else ""}
        if address is not None:
            keys.add(str(address))
        return bool(keys & self.allow)

    def host_refusal(self, host: str) -> Refusal | None:
        """Refuse a metadata name, or a host written as a forbidden address, before lookup."""
        if self._allowed(host):
            return None
        key = _host_key(host)
        if key in METADATA_NAMES or any(key.endswith("." + n) for n in METADATA_NAMES if "." in n):
            return Refusal(NETWORK_RULE, f"{key} is a cloud metadata service", ALLOW_HOSTS)
        address = parse_address(host)
        kind = address_class(address) if address is not None else None
        if kind:
            plain = key == str(address) or ":" in key  # IPv6: restating it helps no one
            spelled = f"{key} is {kind}" if plain else f"{key} is {address}, {kind}"
            return Refusal(NETWORK_RULE, spelled, ALLOW_HOSTS)
        return None

    def address_refusal(self, host: str, address_text: str) -> Refusal | None:
        """Refuse connecting to `address_text` (what `host` resolved to) if it is forbidden."""
        address = parse_address(address_text)
        if address is None:
            return Refusal(
                NETWORK_RULE,
                f"{_host_key(host)} resolved to {address_text!r}, not an address",
                ALLOW_HOSTS,
            )
        if self._allowed(host, address):
            return None
        kind = address_class(address)
        if kind is None:
            return None
        key = _host_key(host)
        if parse_address(key) == address:
            return Refusal(NETWORK_RULE, f"{key} is {kind}", ALLOW_HOSTS)
        return Refusal(NETWORK_RULE, f"{key} resolves to {address}, {kind}", ALLOW_HOSTS)
