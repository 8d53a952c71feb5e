"""The fault matrix's bookkeeping: each (path, fault) cell's outcome, printed after the run.

A test wraps its checks in `with cell(path, fault):`. Leaving the block normally records
`survived`; `LostData` (an AssertionError for what the user would lose: typed input, shown
data, or a silence written twice) records `lost data`; any other assertion records `failed`
(the app lived but did not say what failed, or did not recover in time); anything else
(an exception escaping the app, the app gone) records `crashed`.

Loaded by conftest.py's `pytest_plugins`, so the summary appears at the end of every run
that ran a cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.support.worker_summary import summary

SURVIVED, LOST, FAILED, CRASHED = "survived", "lost data", "failed", "crashed"
_cells: dict[tuple[str, str], tuple[str, str]] = {}
_paths: list[str] = []
_faults: list[str] = []


class LostData(AssertionError):
    """The user lost something: what they typed, what was on screen, or a write doubled."""


def lost_unless(condition: object, what: str) -> None:
    if not condition:
        raise LostData(what)


def record(path: str, fault: str, outcome: str, note: str = "") -> None:
    if path not in _paths:
        _paths.append(path)
    if fault not in _faults:
        _faults.append(fault)
    _cells[(path, fault)] = (outcome, note)


@contextmanager
def cell(path: str, fault: str) -> Iterator[dict[str, str]]:
    """Record the outcome of one cell. The yielded dict takes a `note`: "MS/SECONDS" (key
    press handled, back to live after the fault) for a read path, else the call's outcome."""
    notes: dict[str, str] = {}
    try:
        yield notes
    except LostData as exc:
        record(path, fault, LOST, str(exc).splitlines()[0][:60])
        raise
    except AssertionError as exc:
        record(path, fault, FAILED, str(exc).splitlines()[0][:60] if str(exc) else "")
        raise
    except BaseException as exc:
        record(path, fault, CRASHED, type(exc).__name__)
        raise
    record(path, fault, SURVIVED, notes.get("note", ""))


def _figures(path: str) -> list[str]:
    """One line per path: the worst measured figures, or which faults gave which outcome."""
    notes = {f: n for (p, f), (o, n) in _cells.items() if p == path and o == SURVIVED and n}
    numbers = [n.split("/") for n in notes.values() if n.count("/") == 1]
    if numbers and len(numbers) == len(notes):
        key = max(float(a) for a, _ in numbers)
        back = max(float(b) for _, b in numbers)
        return [
            f"key press handled in <= {key:.0f} ms; live <= {back:.1f} s after the fault cleared"
        ]
    grouped: dict[str, list[str]] = {}
    for fault, note in notes.items():
        grouped.setdefault(note, []).append(fault)
    return [f"{note}: {', '.join(faults)}" for note, faults in grouped.items()]


@summary
def _summary(write: Callable[[str], None]) -> None:
    if not _cells:
        return
    width = max(len(f) for f in _faults) + 2
    column = max(14, *(len(p) + 2 for p in _paths))
    write("")
    write("fault matrix (fault x path: survived / lost data / failed / crashed)")
    write(" " * width + "".join(p.ljust(column) for p in _paths))
    for fault in _faults:
        row = fault.ljust(width)
        for path in _paths:
            row += _cells.get((path, fault), ("-", ""))[0].ljust(column)
        write(row.rstrip())
    for path in _paths:
        for line in _figures(path):
            write(f"  {path}: {line}")
    for (path, fault), (outcome, note) in _cells.items():
        if outcome != SURVIVED:
            write(f"  {outcome}: {path} / {fault}: {note}")
    counts = {
        o: sum(1 for v, _ in _cells.values() if v == o) for o in (SURVIVED, LOST, FAILED, CRASHED)
    }
    write("cells: " + ", ".join(f"{n} {o}" for o, n in counts.items()))
