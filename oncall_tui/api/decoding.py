"""JSON bodies to typed models, without freezing the UI on a large Alertmanager.

`decode` turns garbage into BadResponse instead of a crash. `GroupDecoder` decodes the
alert groups of one peer group by group, yielding to the event loop between batches so
key presses are served during a 12 MB refresh, and reuses last poll's model for every group
whose JSON did not change (most of them, between two polls of a quiet Alertmanager), or
every group at once when the whole body did not change: then the body, as it arrived in
pieces, is only hashed, never joined, split or decoded.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec
from blake3 import blake3
from msgspec.structs import replace

from oncall_tui.api import ioloop
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Alert, AlertGroup

T = TypeVar("T")
# Work between two yields to the event loop, in bytes hashed: about 2 ms here. The decoding
# runs on the I/O loop (api/ioloop.py), and the yields let its other reads go on meanwhile.
# Decoding costs about 10x hashing per byte (the hashing is done in one go; the unit stays).
SLICE_BYTES = 1_000_000
DECODE_COST = 10
_GIL_PIECE = 2047  # hashlib keeps the GIL for pieces under 2048 bytes (HASHLIB_GIL_MINSIZE)

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decode(server: str, body: bytes | msgspec.Raw, kind: type[T]) -> T:
    """Decode a response body into `kind`; garbage becomes BadResponse, not a crash."""
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(body)  # type: ignore[no-any-return]
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise errors.BadResponse(server, f"unexpected answer: {str(exc)[:200]}") from None


Keyed = list[tuple[bytes, msgspec.Raw]]  # each group's SHA-256 digest and its JSON


def body_digest(parts: Sequence[bytes]) -> bytes:
    """The BLAKE3 digest of the body that `parts` make, however it was cut.

    Every poll of every peer hashes its whole body, changed or not: BLAKE3, whose SIMD
    hashes many 1 KiB chunks of a long input at once, takes 2.2 ms for 8.3 MB here, where
    SHA-256 took 7.8 (with the CPU's SHA instructions), a tenth of a quiet poll's CPU.
    Whole pieces, letting go of the GIL (as hashlib does, from 2 KiB): a quiet poll's body,
    some 40 pieces of up to 256 KiB, is hashed while the event loop runs on.
    """
    hasher = blake3()
    for part in parts:
        hasher.update(part)
    return hasher.digest()


def split_unless_same(
    server: str, parts: Sequence[bytes], last: bytes
) -> tuple[bytes, Keyed | None]:
    """The digest of the body that `parts` make (body_digest) and, unless that is `last` (the
    body did not change: nobody needs it in one piece), the body's groups, each as its JSON
    and a digest of it. Run on the I/O thread, which the interpreter switches with the loop
    every 5 ms."""
    whole = body_digest(parts)
    if whole == last:
        return whole, None
    body = parts[0] if len(parts) == 1 else b"".join(parts)
    raws = decode(server, body, list[msgspec.Raw])
    # A digest, not the bytes: keeping every group's JSON as a key cost 8 MB at 10k
    # alerts. A cryptographic digest, so that crafted alert text cannot collide with
    # another group; SHA-256, which CPUs compute in hardware (SHA-NI, ARMv8): 10 ms for the
    # 500 groups of 8.3 MB here, against BLAKE2b's 24, for every peer whose body changed.
    # Not BLAKE3: its speed needs 16 KiB at a time, and a piece of 2 KiB or more lets go of
    # the GIL (see _feed); in pieces of 2 KiB it took 17.6 ms.
    keyed = []
    for raw in raws:
        digest = hashlib.sha256()
        _feed(digest, raw)
        keyed.append((digest.digest(), raw))
    return whole, keyed


def _feed(hasher: Any, data: bytes | msgspec.Raw) -> None:
    """`hasher.update(data)`, in pieces small enough that hashlib keeps the GIL.

    hashlib lets go of the GIL for a piece of 2 KiB or more, and this thread then waits up
    to the interpreter's switch interval (5 ms) to get it back from a busy main thread, once
    for every group: 8.3 MB took 296 ms instead of 37 ms so while the main thread imported
    the UI at start-up. In pieces, it keeps the GIL and is switched out on the interval like
    any Python code: 74 ms, the main thread's share included.
    """
    view = memoryview(data)
    for start in range(0, len(view), _GIL_PIECE):
        hasher.update(view[start : start + _GIL_PIECE])


def _decode_whole(
    server: str, parts: Sequence[bytes], twins: Sequence[dict[str, Alert]]
) -> tuple[bytes, list[AlertGroup], bytes]:
    """The digest of the body that `parts` make (body_digest), its groups decoded in one go
    (sharing their text with `twins`), and it."""
    body = parts[0] if len(parts) == 1 else b"".join(parts)
    groups = decode(server, body, list[AlertGroup])
    if twins:
        groups = [shared(group, twins) for group in groups]
    return body_digest(parts), groups, body


def shared(group: AlertGroup, twins: Sequence[dict[str, Alert]]) -> AlertGroup:
    """`group`, its alerts holding the very label and annotation dicts of their twins (the
    same fingerprint, decoded from another peer of the cluster) where they are equal.

    HA peers each get every alert from Prometheus, so a cluster of two decodes each alert
    twice: 22 MB per 10,000 alerts per peer, two thirds of it labels and annotations. The
    twin's equal dicts are kept instead and this peer's are let go (21 ms per 10,000
    alerts, against 70 to decode them). Nothing read changes: the dicts are equal, and
    every other field (status, times) stays this peer's own.
    """
    alerts: list[Alert] | None = None
    for i, alert in enumerate(group.alerts):
        fingerprint = alert.fingerprint
        twin = None
        for index in twins:
            twin = index.get(fingerprint)
            if twin is not None:
                break
        if twin is None:
            continue
        labels, annotations = alert.labels, alert.annotations
        if labels is not twin.labels and labels == twin.labels:
            labels = twin.labels
        if annotations is not twin.annotations and annotations == twin.annotations:
            annotations = twin.annotations
        if labels is alert.labels and annotations is alert.annotations:
            continue
        if alerts is None:
            alerts = list(group.alerts)
        alerts[i] = replace(alert, labels=labels, annotations=annotations)
    return group if alerts is None else replace(group, alerts=tuple(alerts))


class GroupDecoder:
    """Decodes one peer's /alerts/groups bodies, remembering the groups of the last one."""

    def __init__(self) -> None:
        self._last: dict[bytes, AlertGroup] = {}
        self._body = b""  # the digest of the last body decoded
        self._groups: list[AlertGroup] = []  # and its groups
        self._undigested = b""  # the first body, until its groups are digested
        self.reused = 0
        self.decoded = 0
        # The other peers of its cluster (AlertmanagerCluster links them before each read):
        # their alerts share their text with this peer's (`shared`).
        self.twins: list[GroupDecoder] = []
        self._index: dict[str, Alert] | None = None  # by_fingerprint, while the body holds

    def by_fingerprint(self) -> dict[str, Alert]:
        """This peer's alerts as last decoded, by fingerprint."""
        if self._index is None:
            self._index = {a.fingerprint: a for g in self._groups for a in g.alerts}
        return self._index

    def _twins(self) -> list[dict[str, Alert]]:
        return [twin.by_fingerprint() for twin in self.twins if twin._groups]

    def _keep(self, whole: bytes, groups: list[AlertGroup]) -> None:
        self._body, self._groups, self._index = whole, groups, None

    async def decode(self, server: str, body: bytes | Sequence[bytes]) -> list[AlertGroup]:
        """The groups of a body, whole or in the pieces it arrived in (Endpoint.get_chunks)."""
        # A quiet Alertmanager sends the same bytes poll after poll: one digest of the whole
        # body (about 2 ms for 8 MB) then stands for joining, splitting and hashing every
        # group. On the I/O thread, with the split and the groups' digests when the body
        # changed (25 ms at 10,000 alerts, that were the main thread's): the main thread
        # never copies the 8 MB, and only decodes the groups that changed.
        parts = [body] if isinstance(body, bytes) else body
        if not self._body:
            # The first body: there is nothing to reuse, so it is decoded whole (40 ms at
            # 10,000 alerts, where splitting and hashing its groups first took 35 ms more, at
            # start-up, before the alerts could be shown). Its groups are digested at the
            # next poll, on the I/O thread, and the body let go then.
            whole, groups, self._undigested = await ioloop.call(
                _decode_whole, server, parts, self._twins()
            )
            self._keep(whole, groups)
            self.decoded, self.reused = len(groups), 0
            return list(groups)
        first, self._undigested = self._undigested, b""
        whole, keyed, last = await ioloop.call(self._split, server, parts, first, self._groups)
        if last is not None:
            self._last = last
        if keyed is None:
            self.decoded, self.reused = 0, len(self._groups)
            return list(self._groups)
        groups = await self._decode(server, keyed)
        self._keep(whole, groups)
        return list(groups)

    def _split(
        self, server: str, parts: Sequence[bytes], first: bytes, groups: list[AlertGroup]
    ) -> tuple[bytes, Keyed | None, dict[bytes, AlertGroup] | None]:
        """split_unless_same, and first the first body's groups by their digests."""
        last = None
        if first:
            _, keyed = split_unless_same(server, [first], b"")
            assert keyed is not None and len(keyed) == len(groups)
            last = {key: group for (key, _), group in zip(keyed, groups, strict=True)}
        return (*split_unless_same(server, parts, self._body), last)

    async def _decode(self, server: str, keyed: Keyed) -> list[AlertGroup]:
        groups: list[AlertGroup] = []
        seen: dict[bytes, AlertGroup] = {}
        self.reused = self.decoded = 0
        work = 0  # bytes decoded since the last yield to the event loop, times DECODE_COST
        twins = self._twins()
        for key, raw in keyed:
            group = self._last.get(key)
            if group is None:
                group = decode(server, raw, AlertGroup)
                if twins:
                    group = shared(group, twins)
                self.decoded += 1
                work += len(raw) * DECODE_COST
            else:
                self.reused += 1
            seen[key] = group
            groups.append(group)
            if work >= SLICE_BYTES:
                work = 0
                await asyncio.sleep(0)
        self._last = seen
        return groups
