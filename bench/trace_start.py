"""Runs the app as `python -m oncall_tui ARGS` does, noting when each start-up phase ends.

`python bench/trace_start.py OUT ARGS...`: the real CLI and app, unchanged, with a few
functions wrapped as their modules are imported (an import hook, so nothing is imported
earlier than the app itself would). Each event is one JSON line in OUT, `[name, seconds]` on
the system-wide monotonic clock, so the parent can set them against its own timestamps:

- interpreter: the interpreter and `site` are done (this file's first line)
- early: the first /alerts/groups request is sent from its own thread (config read;
  api/early.py), when the context allows it
- prefetch: the first poll starts in its thread (clients built)
- response: a peer's /alerts/groups body is in hand; decoded: GroupDecoder.decode returned
- app: OncallApp is constructed (the UI's modules imported)
- merge0/merge1: the first poll's merge of a cluster's peers (GroupMerger.merge)
- prep0/prep1: the first snapshot's groups made board groups (GroupBuilder.prepare, on the
  I/O thread, before AlertStore.apply takes them)
- build0/build1: AlertStore.apply of the first snapshot (it takes the board groups made
  before it, makes any left, and the ledger)
- view0/view1: BoardView.reload (the board's lines); painted: the refresh after it

Run by bench/startup.py; it adds a few microseconds per import, nothing per frame.
"""

import time

T0 = time.monotonic()

import functools  # noqa: E402
import importlib.abc  # noqa: E402
import importlib.machinery  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

_out = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 (open for the process's life)
_seen: set[str] = set()


def note(name: str, once: bool = True) -> None:
    if once and name in _seen:
        return
    _seen.add(name)
    _out.write(json.dumps([name, time.monotonic()]) + "\n")


def _around(owner: Any, attr: str, before: str, after: str | None = None) -> None:
    original = getattr(owner, attr)
    if hasattr(original, "__wrapped__"):
        return

    if after is not None and _is_async(original):

        @functools.wraps(original)
        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            note(before)
            result = await original(*args, **kwargs)
            note(after)
            return result

        setattr(owner, attr, wrapped_async)
        return

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        note(before)
        result = original(*args, **kwargs)
        if after is not None:
            note(after)
        return result

    setattr(owner, attr, wrapped)


def _is_async(func: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func)


def _painted_after_reload(module: ModuleType) -> None:
    view = module.BoardView
    original = view.reload

    @functools.wraps(original)
    def reload(self: Any, *args: Any, **kwargs: Any) -> Any:
        first = "view0" not in _seen and bool(self.model.groups)
        if first:
            note("view0")
        result = original(self, *args, **kwargs)
        if first:
            note("view1")
            self.call_after_refresh(note, "painted")
        return result

    view.reload = reload


def _first_build(module: ModuleType) -> None:
    store = module.AlertStore
    original = store.apply

    @functools.wraps(original)
    def apply(self: Any, snapshot: Any) -> Any:
        first = "build0" not in _seen
        if first:
            note("build0")
        result = original(self, snapshot)
        if first:
            note("build1")
        return result

    store.apply = apply


PATCHES: dict[str, Callable[[ModuleType], None]] = {
    "oncall_tui.api.early": lambda m: _around(m.EarlyRequest, "start", "early"),
    "oncall_tui.state.alerts": lambda m: _around(m, "prefetch", "prefetch"),
    "oncall_tui.api.decoding": lambda m: _around(m.GroupDecoder, "decode", "response", "decoded"),
    "oncall_tui.ui.app": lambda m: _around(m.OncallApp, "__init__", "app"),
    "oncall_tui.state.alert_store": _first_build,
    "oncall_tui.domain.merge": lambda m: _around(m.GroupMerger, "merge", "merge0", "merge1"),
    "oncall_tui.domain.board": lambda m: _around(m.GroupBuilder, "prepare", "prep0", "prep1"),
    "oncall_tui.ui.widgets.board": _painted_after_reload,
}


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader, patch: Callable[[ModuleType], None]) -> None:
        self.inner, self.patch = inner, patch

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        self.patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        patch = PATCHES.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader, patch)
                return spec
        return None


def main(argv: list[str]) -> int:
    sys.meta_path.insert(0, _Finder())
    from oncall_tui.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    _out.write(json.dumps(["interpreter", T0]) + "\n")
    sys.exit(main(sys.argv[2:]))
