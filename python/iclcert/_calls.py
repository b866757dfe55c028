"""How a long library call reports its progress in Python.

The C++ module runs the work on a worker thread (python/_call.hpp) and, from the
calling thread, hands the latest progress event to a receiver made here: a
tqdm bar (a plain text bar without tqdm) on standard error when it is a terminal or
in a notebook, nothing otherwise. Ctrl-C is handled there too: the work is
cancelled and joined, then KeyboardInterrupt is raised, so the next call starts at
once.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except Exception:  # an IPython without a running shell
        return False


def _wanted(progress: bool | None) -> bool:
    if progress is None:
        try:
            return sys.stderr.isatty() or _in_notebook()
        except (AttributeError, ValueError):  # no stderr, or a closed one
            return False
    if not isinstance(progress, bool):
        raise TypeError(f"progress: expected True, False or None (automatic), got {type(progress).__name__}")
    return progress


class _TextBar:
    """A minimal bar on standard error, for a Python without tqdm."""

    def __init__(self, desc: str, total: int, unit: str) -> None:
        self.desc, self.total, self.unit, self.n, self.postfix = desc, total, unit, 0, ""

    def update_to(self, n: int, detail: str) -> None:
        self.n, self.postfix = n, detail
        width = 30
        filled = width * n // self.total if self.total > 0 else width
        line = f"\r{self.desc} [{'#' * filled}{'.' * (width - filled)}] {n}/{self.total} {self.unit}"
        sys.stderr.write(line + (f", {detail}" if detail else "") + "\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


class _TqdmBar:
    def __init__(self, desc: str, total: int, unit: str) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(desc=desc, total=total, unit=f" {unit}", leave=True)

    def update_to(self, n: int, detail: str) -> None:
        self.bar.update(n - self.bar.n)
        if detail:
            self.bar.set_postfix_str(detail, refresh=False)

    def close(self) -> None:
        self.bar.close()


def _new_bar(desc: str, total: int, unit: str):
    try:
        return _TqdmBar(desc, total, unit)
    except ImportError:
        return _TextBar(desc, total, unit)


class Bar:
    """The progress receiver a call gets: a bar per stage, drawn as events come
    (what, unit, detail, done, total, finished)."""

    def __init__(self) -> None:
        self.bar, self.what = None, None

    def __call__(self, what: str, unit: str, detail: str, done: int, total: int, finished: bool) -> None:
        if self.bar is not None and what != self.what:
            self.close()
        if self.bar is None:
            self.bar, self.what = _new_bar(what, total, unit), what
        self.bar.update_to(done, detail)
        if finished:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def call(fn: Callable[..., T], *args: Any, progress: bool | None = None) -> T:
    """fn(*args, receiver): a module call with the progress receiver that `progress`
    asks for (None: a bar on a terminal or in a notebook)."""
    if not _wanted(progress):
        return fn(*args, None)
    bar = Bar()
    try:
        return fn(*args, bar)
    finally:
        bar.close()

