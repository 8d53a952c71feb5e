"""Runbooks for one context: the reader the runbook view asks, with the session's cache.

The view never builds a fetcher: this store holds the context's runbook settings (folders,
roots, allowed hosts, limits, host credentials), the network hooks (tests map names to
loopback there) and the documents fetched this session, shared by every runbook view.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from oncall_tui.config import Context
from oncall_tui.config.runbook_credentials import auth_lookup
from oncall_tui.domain.runbook_policy import NetworkPolicy
from oncall_tui.wire.documents import Fetched

if TYPE_CHECKING:  # the fetcher loads httpx: imported when a runbook is first opened
    from oncall_tui.api.fetch import RunbookFetcher
    from oncall_tui.api.netguard import NetworkHooks


class RunbookStore:
    def __init__(self, context: Context, *, allow_insecure_keyring: bool = False) -> None:
        self.context = context
        self.allow_insecure_keyring = allow_insecure_keyring
        self.network: NetworkHooks | None = None  # None: the system's resolver and sockets
        self.cache: dict[str, Fetched] = {}

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[RunbookFetcher]:
        """A fetcher for one runbook view's load: `read_file` and `fetch`, closed after."""
        from oncall_tui.api.fetch import RunbookFetcher

        config = self.context.runbooks
        fetcher = RunbookFetcher(
            max_bytes=config.max_bytes,
            timeout=config.timeout,
            cache=self.cache,
            auth_for=auth_lookup(config, allow_insecure=self.allow_insecure_keyring),
            proxy=self.context.proxy,
            roots=[*config.folders, *config.file_roots],
            policy=NetworkPolicy.from_config(config.allow_hosts),
            hooks=self.network,
        )
        try:
            yield fetcher
        finally:
            await fetcher.aclose()
