"""Alertmanager API v2: one client per peer, and a cluster that reads all peers at once.

Alerts are not shared between HA peers (each gets its own copy from Prometheus) while silences
are gossiped, so a cluster reads alerts from every peer (merged by `domain.merge`), silences
from any healthy peer, and writes a silence once, to one peer, reading it back before it
reports success.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec

from oncall_tui.api import ioloop
from oncall_tui.api.decoding import GroupDecoder, decode
from oncall_tui.api.early import API, FIRST_QUERY, EarlyAnswer
from oncall_tui.api.http import ClientOptions, Endpoint
from oncall_tui.domain.am_versions import Capabilities, capabilities
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import (
    Alert,
    AlertGroup,
    AlertmanagerStatus,
    PostableAlert,
    PostableSilence,
    ReceiverEntry,
    Silence,
    SilenceCreated,
)

T = TypeVar("T")
SILENCE_STATES = ("active", "pending", "expired")
UNEXPIRED = frozenset({"active", "pending"})

_ENCODER = msgspec.json.Encoder()
# Peers whose /alerts/groups bodies are read and decoded at once, on the I/O loop. Each body
# is held in its pieces until it is split (8.3 MB and as much again joined, at 10,000 alerts a
# peer): with ten peers read at once that was 80-110 MB over the steady RSS at 50,000 alerts.
# The servers serialise their answers on the same cores, so more at once is no faster: a
# poll of the ten took 4.7-5.8 s either way on 2 cores. A peer that hangs keeps its lane
# until the read timeout; the others go on in the rest.
BODIES_AT_ONCE = 3


def _alert_params(
    filters: Sequence[str],
    active: bool,
    silenced: bool,
    inhibited: bool,
    unprocessed: bool,
    receiver: str | None,
    muted: bool | None = None,
    receiver_matchers: Sequence[str] = (),
) -> list[tuple[str, str]]:
    params = [("filter", f) for f in filters]
    params += [("receiver_matchers", m) for m in receiver_matchers]
    params += [
        ("active", str(active).lower()),
        ("silenced", str(silenced).lower()),
        ("inhibited", str(inhibited).lower()),
        ("unprocessed", str(unprocessed).lower()),
    ]
    if muted is not None:
        params.append(("muted", str(muted).lower()))
    if receiver:
        params.append(("receiver", receiver))
    return params


class AlertmanagerPeer:
    """One Alertmanager server (one peer of a cluster)."""

    def __init__(self, url: str, options: ClientOptions, path_prefix: str = "") -> None:
        self.url = url.rstrip("/")
        self.endpoint = Endpoint(self.url + path_prefix + API, options)
        self.groups_decoder = GroupDecoder()
        # What the peer's version means; learnt from /status (status() or capabilities()).
        self.caps: Capabilities | None = None
        # The start-up's early requests for the first poll's groups and silences
        # (api/early.py), if sent.
        self.early: Future[EarlyAnswer] | None = None
        self.early_silences: Future[EarlyAnswer] | None = None

    def __repr__(self) -> str:
        return f"AlertmanagerPeer({self.url!r})"

    async def _early_groups(self, params: list[tuple[str, str]]) -> list[AlertGroup] | None:
        """The early request's groups, if it was made for this very query and answered;
        None to ask the usual way (its failures are worded there)."""
        early, self.early = self.early, None
        body = await self._early_body(early if params == list(FIRST_QUERY) else None)
        return None if body is None else await self.groups_decoder.decode(self.url, body)

    async def _early_body(self, early: Future[EarlyAnswer] | None) -> bytes | None:
        """An early request's body once it answered 2xx; None to ask the usual way. A
        timeout is raised as the usual path's (a silent server is not waited for twice)."""
        if early is None:
            return None
        answer = await asyncio.wrap_future(early)
        if answer.timed_out:
            raise self.endpoint.timed_out(answer.timed_out)
        if answer.body is None:
            return None
        self.endpoint.note_date(answer.date, answer.sent, answer.received)
        return answer.body

    def _receiver_matchers(self, matchers: Sequence[str]) -> Sequence[str]:
        """`receiver_matchers` go only to 0.33+: an older peer ignores the parameter and would
        answer every alert as if they matched."""
        if matchers and not (self.caps and self.caps.receiver_matchers):
            version = self.caps.version if self.caps else "not known yet"
            raise errors.Unsupported(
                self.url, f"receiver matchers need Alertmanager 0.33+ (this peer: {version})"
            )
        return matchers

    async def _get(self, path: str, kind: type[T], params: Any = None) -> T:
        # Read and decoded on the I/O loop: the silence form's preview asks every peer for
        # /alerts, 5,000 alerts each at 50,000, and decoding them held the app's loop (so
        # the next key) 300-900 ms.
        return await ioloop.run(self._read(path, kind, params))

    async def _read(self, path: str, kind: type[T], params: Any) -> T:
        response = await self.endpoint.request("GET", path, params=params)
        return decode(self.url, response.content, kind)

    async def alert_groups(
        self,
        filters: Sequence[str] = (),
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        unprocessed: bool = True,
        receiver: str | None = None,
        muted: bool = True,
        receiver_matchers: Sequence[str] = (),
    ) -> list[AlertGroup]:
        """Groups as the routing tree makes them; `filters` are matchers like `severity="critical"`.

        `muted=False` is sent only to 0.28+, which knows the parameter; `receiver_matchers`
        (matchers on the receivers' labels) only to 0.33+, else Unsupported is raised.
        """
        send_muted = None if muted or self.caps is None or not self.caps.muting else False
        params = _alert_params(
            filters,
            active,
            silenced,
            inhibited,
            unprocessed,
            receiver,
            send_muted,
            self._receiver_matchers(receiver_matchers),
        )
        early = await self._early_groups(params)
        if early is not None:
            return early
        # Read and decoded on the I/O loop: megabytes that would hold up the app's loop.
        return await ioloop.run(self._read_groups(params))

    async def _read_groups(self, params: list[tuple[str, str]]) -> list[AlertGroup]:
        async with ioloop.lanes("groups", BODIES_AT_ONCE):
            chunks = await self.endpoint.get_chunks("/alerts/groups", params=params)
            return await self.groups_decoder.decode(self.url, chunks)

    async def alerts(
        self,
        filters: Sequence[str] = (),
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        unprocessed: bool = True,
        receiver: str | None = None,
        receiver_matchers: Sequence[str] = (),
    ) -> list[Alert]:
        params = _alert_params(
            filters,
            active,
            silenced,
            inhibited,
            unprocessed,
            receiver,
            receiver_matchers=self._receiver_matchers(receiver_matchers),
        )
        return await self._get("/alerts", list[Alert], params)

    async def post_alerts(self, alerts: Sequence[PostableAlert]) -> None:
        await self.endpoint.request("POST", "/alerts", json_body=_to_builtins(list(alerts)))

    async def silences(
        self, filters: Sequence[str] = (), *, states: Collection[str] | None = None
    ) -> list[Silence]:
        """Silences matching `filters`; with `states`, only those in these states (of
        active, pending, expired). 0.34+ is asked for them (its `active`/`pending`/`expired`
        parameters), so expired silences, kept for days, are not sent for nothing; an older
        peer sends them all and they are dropped here.
        """
        params = [("filter", f) for f in filters]
        if states is not None:
            if not states:
                return []
            if self.caps is not None and self.caps.silence_state_filters:
                params += [(s, str(s in states).lower()) for s in SILENCE_STATES]
        early, self.early_silences = self.early_silences, None
        body = await self._early_body(early if not params else None)
        if body is not None:
            got = decode(self.url, body, list[Silence])
        else:
            got = await self._get("/silences", list[Silence], params)
        return got if states is None else [s for s in got if s.state in states]

    async def silence(self, silence_id: str) -> Silence:
        return await self._get(f"/silence/{silence_id}", Silence)

    async def post_silence(self, silence: PostableSilence) -> str:
        """Create or update; returns the ID Alertmanager kept or gave (it may be a new one)."""
        if not silence.created_by.strip():
            # Alertmanager accepts an empty createdBy; an unattributed silence helps no one.
            raise ValueError("createdBy must not be empty")
        if silence.annotations is not None and self.caps is None:
            with contextlib.suppress(errors.ApiError):  # unknown stays unknown: not sent
                await self.capabilities()
        if silence.annotations is not None and not (self.caps and self.caps.silence_annotations):
            silence = msgspec.structs.replace(silence, annotations=None)  # before 0.32: unknown
        response = await self.endpoint.request("POST", "/silences", json_body=_to_builtins(silence))
        return decode(self.url, response.content, SilenceCreated).silence_id

    async def expire_silence(self, silence_id: str) -> None:
        try:
            await self.endpoint.request("DELETE", f"/silence/{silence_id}")
        except errors.ServerError as exc:
            # Alertmanager 0.25 answers an unknown ID with 500 "silence not found".
            if "not found" in exc.detail.lower() and not isinstance(exc, errors.NotFound):
                raise errors.NotFound(self.url, exc.status, exc.detail) from None
            raise

    async def status(self) -> AlertmanagerStatus:
        status = await self._get("/status", AlertmanagerStatus)
        self.caps = capabilities(status.version_info.version)
        return status

    async def capabilities(self) -> Capabilities:
        """What this peer's version means, asking /status once."""
        if self.caps is None:
            await self.status()
        assert self.caps is not None
        return self.caps

    async def receivers(self, receiver_matchers: Sequence[str] = ()) -> list[ReceiverEntry]:
        """Every receiver; from 0.33 with its labels, and `receiver_matchers` select on them."""
        params = [("receiver_matchers", m) for m in self._receiver_matchers(receiver_matchers)]
        return await self._get("/receivers", list[ReceiverEntry], params)

    async def aclose(self) -> None:
        await self.endpoint.aclose()


def _to_builtins(value: Any) -> Any:
    return msgspec.json.decode(_ENCODER.encode(value))


def _same_silence(stored: Silence, wanted: PostableSilence) -> bool:
    """The silence `wanted` would create: Alertmanager keeps the end to the millisecond."""
    return (
        stored.state != "expired"
        and stored.matchers == wanted.matchers
        and stored.created_by == wanted.created_by
        and stored.comment == wanted.comment
        and stored.annotations == (wanted.annotations or {})
        and abs(stored.ends_at.timestamp() - wanted.ends_at.timestamp()) < 0.001
    )


@dataclass(slots=True)
class PeerResults(Generic[T]):
    """What each peer answered, and why the others did not."""

    cluster: str
    results: dict[str, T] = field(default_factory=dict)
    errors: dict[str, errors.ApiError] = field(default_factory=dict)

    @property
    def peers_up(self) -> list[str]:
        return list(self.results)


class AlertmanagerCluster:
    """The peers of one HA cluster: usable while one peer answers."""

    def __init__(self, name: str, peers: Sequence[AlertmanagerPeer]) -> None:
        if not peers:
            raise ValueError("a cluster needs at least one peer")
        self.name = name
        self.peers = list(peers)
        self._preferred = 0

    def __repr__(self) -> str:
        return f"AlertmanagerCluster({self.name!r}, {[p.url for p in self.peers]})"

    async def _each(self, call: Callable[[AlertmanagerPeer], Awaitable[T]]) -> PeerResults[T]:
        answers = await asyncio.gather(*(call(p) for p in self.peers), return_exceptions=True)
        out: PeerResults[T] = PeerResults(self.name)
        for peer, answer in zip(self.peers, answers, strict=True):
            if isinstance(answer, errors.ApiError):
                out.errors[peer.url] = answer
            elif isinstance(answer, BaseException):
                raise answer
            else:
                out.results[peer.url] = answer
        if not out.results:
            raise errors.ClusterUnavailable(self.name, out.errors)
        return out

    async def _first(self, call: Callable[[AlertmanagerPeer], Awaitable[T]]) -> tuple[str, T]:
        """Ask one peer, falling over to the next on failure; the last good peer is tried first."""
        failures: dict[str, errors.ApiError] = {}
        order = self.peers[self._preferred :] + self.peers[: self._preferred]
        for peer in order:
            try:
                answer = await call(peer)
            except (errors.ConnectFailed, errors.Timeout, errors.BadResponse) as exc:
                failures[peer.url] = exc
                continue
            except errors.ServerError as exc:
                if exc.status < 500 or isinstance(exc, errors.NotFound):
                    raise  # the server understood and said no: another peer will say the same
                failures[peer.url] = exc
                continue
            self._preferred = self.peers.index(peer)
            return peer.url, answer
        raise errors.ClusterUnavailable(self.name, failures)

    async def alert_groups(
        self, filters: Sequence[str] = (), **flags: Any
    ) -> PeerResults[list[AlertGroup]]:
        self._link_twins()
        return await self._each(lambda p: p.alert_groups(filters, **flags))

    def _link_twins(self) -> None:
        """Each peer's decoder shares its alerts' text with the others' (decoding.shared).
        Linked at every read: a poller may have adopted another's decoders since."""
        decoders = [p.groups_decoder for p in self.peers]
        for decoder in decoders:
            decoder.twins = [d for d in decoders if d is not decoder]

    async def first_look(self) -> PeerResults[list[AlertGroup]]:
        """The groups of one peer, the first in order that answers: the start-up's first
        board. HA peers hold the same alerts, and ten peers of five clusters serialising
        8 MB each at once took 2-3 s on 2 cores before the first board could be drawn;
        the next poll reads every peer and merges them as always."""
        out: PeerResults[list[AlertGroup]] = PeerResults(self.name)
        for peer in self.peers:
            try:
                out.results[peer.url] = await peer.alert_groups()
            except errors.ApiError as exc:
                out.errors[peer.url] = exc
            else:
                return out
        raise errors.ClusterUnavailable(self.name, out.errors)

    async def alerts(self, filters: Sequence[str] = (), **flags: Any) -> PeerResults[list[Alert]]:
        return await self._each(lambda p: p.alerts(filters, **flags))

    async def statuses(self) -> PeerResults[AlertmanagerStatus]:
        return await self._each(lambda p: p.status())

    async def annotations_supported(self) -> bool:
        """True when every peer is known to keep silence annotations (0.32+): a peer of an
        older or unknown version would drop them, so they are not relied on then."""
        found = await asyncio.gather(
            *(p.capabilities() for p in self.peers), return_exceptions=True
        )
        return all(isinstance(c, Capabilities) and c.silence_annotations for c in found)

    async def silences(
        self, filters: Sequence[str] = (), *, states: Collection[str] | None = None
    ) -> list[Silence]:
        return (await self._first(lambda p: p.silences(filters, states=states)))[1]

    async def silence(self, silence_id: str) -> Silence:
        return (await self._first(lambda p: p.silence(silence_id)))[1]

    async def receivers(self, receiver_matchers: Sequence[str] = ()) -> list[ReceiverEntry]:
        return (await self._first(lambda p: p.receivers(receiver_matchers)))[1]

    async def write_silence(self, silence: PostableSilence, *, looked: bool = False) -> Silence:
        """Create or update a silence on one healthy peer and read it back from that peer.

        Only failures that prove the request was not delivered (connection refused) move on to
        another peer. When the request went out and its answer was lost (a timeout, a body cut
        short, a 5xx from a gateway), the silence may exist: a new silence is looked up and
        returned if it landed, and before a new silence is created an identical one (same
        matchers, author, comment and end, to the millisecond) is looked for, so the user's
        retry after such a failure does not write it twice (tests/integration/test_fault_matrix.py).
        `looked`: the caller has just searched for such a silence itself (silencing.write
        does, more broadly), so the search before creating is not repeated.
        """
        if silence.id is None and not looked:
            earlier = await self._find_copy(silence)
            if earlier is not None:
                return earlier
        failures: dict[str, errors.ApiError] = {}
        for peer in self.peers[self._preferred :] + self.peers[: self._preferred]:
            try:
                silence_id = await peer.post_silence(silence)
            except errors.ConnectFailed as exc:
                failures[peer.url] = exc
                continue
            except (errors.Timeout, errors.BadResponse, errors.ServerError) as exc:
                lost_answer = not isinstance(exc, errors.ServerError) or exc.status >= 500
                landed = await self._find_copy(silence) if lost_answer and not silence.id else None
                if landed is None:
                    raise
                return landed
            stored = await peer.silence(silence_id)
            if stored.matchers != silence.matchers:
                raise errors.BadResponse(peer.url, f"silence {silence_id} read back differs")
            self._preferred = self.peers.index(peer)
            return stored
        raise errors.ClusterUnavailable(self.name, failures)

    async def _find_copy(self, silence: PostableSilence) -> Silence | None:
        """An unexpired silence identical to `silence`, if any peer can say; else None."""
        try:
            held = await self.silences([str(m) for m in silence.matchers], states=UNEXPIRED)
        except errors.ApiError:
            return None
        return next((s for s in held if _same_silence(s, silence)), None)

    async def expire_silence(self, silence_id: str) -> Silence:
        """Expire a silence and read it back, so success means the server holds it expired.

        Expiring an expired silence is a success for Alertmanager, so a retry after a lost
        answer is harmless. A peer that does not know the ID may only lag behind in gossip
        (about 200 ms): "not found" is the answer only when every peer says it.
        """
        failures: dict[str, errors.ApiError] = {}
        for peer in self.peers[self._preferred :] + self.peers[: self._preferred]:
            try:
                await peer.expire_silence(silence_id)
                stored = await peer.silence(silence_id)
            except (errors.ConnectFailed, errors.Timeout, errors.BadResponse) as exc:
                failures[peer.url] = exc
                continue
            except errors.ServerError as exc:
                if exc.status < 500 and not isinstance(exc, errors.NotFound):
                    raise  # the server understood and said no: another peer will say the same
                failures[peer.url] = exc
                continue
            if stored.state != "expired":
                raise errors.BadResponse(self.name, f"silence {silence_id} is still {stored.state}")
            self._preferred = self.peers.index(peer)
            return stored
        if failures and all(isinstance(e, errors.NotFound) for e in failures.values()):
            raise next(iter(failures.values()))
        raise errors.ClusterUnavailable(self.name, failures)

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self.peers))
