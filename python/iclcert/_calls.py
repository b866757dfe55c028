"""How a long library call runs: in a worker thread with the GIL released, so that
Ctrl-C in the calling thread raises KeyboardInterrupt at once.

The C++ library has no cancellation hook, so an interrupted call's work runs on to
its end in the background; a lock makes the next call wait for it (the library
keeps process-wide settings such as the working precision during a call).
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_busy = threading.Lock()


def call(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in a worker thread; its result, its exception, or KeyboardInterrupt."""
    done = threading.Event()
    box = {}

    def work():
        with _busy:
            try:
                box["value"] = fn(*args)
            except BaseException as e:  # handed to the caller
                box["error"] = e
            finally:
                done.set()

    threading.Thread(target=work, daemon=True, name="iclcert-call").start()
    while not done.wait(0.1):
        pass  # a signal handler (Ctrl-C) runs here, between waits
    if "error" in box:
        raise box["error"]
    return box["value"]


def captured(fn: Callable[..., T], *args: Any) -> tuple[T, str]:
    """(fn(*args), text) where text is what fn printed on file descriptors 1 and 2:
    the in-process commands (compare, extract, fuzz) print their account there."""
    from . import _core

    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as log:
        saved = os.dup(1), os.dup(2)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            value = call(fn, *args)
        finally:
            _core.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        log.seek(0)
        return value, log.read().decode("utf-8", "replace")
