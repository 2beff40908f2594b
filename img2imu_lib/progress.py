"""Progress bars that also report to a status file, for a process watching from outside.

``progress_bar`` takes ``tqdm``'s arguments and returns a ``tqdm.auto`` bar. Where ``$IMG2IMU_PROGRESS``
names a file (the book build sets it for each chapter's kernel), the bars also write their status there:
one line of JSON, when a bar opens or closes and at most about once a second in between (a change that
comes sooner is written when the second ends), atomically, so a reader never sees half of it. A disabled
bar still reports there, drawn nowhere, so a notebook shows what it showed before while the build can say
which run is training. The status is that of the innermost open bar, with the bars around it in ``outer``::

    {"desc": "pre-training img2imu", "n": 37, "total": 40, "elapsed": 81.2, "remaining": 6.4,
     "postfix": "loss=6.214, lr=1.00e-03", "closed": false, "outer": [{"desc": "...", "n": 2, "total": 5}]}

``remaining`` is in seconds, from tqdm's rate (``null`` until there is one or without a total).
Without ``$IMG2IMU_PROGRESS`` a bar is exactly ``tqdm.auto.tqdm(...)``.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tqdm.auto
import tqdm.std

from .store import atomic_path

PROGRESS_ENV = "IMG2IMU_PROGRESS"
INTERVAL = 1.0  # seconds between two writes of the status file, at least

_lock = threading.RLock()  # re-entrant: a bar garbage-collected during a write closes itself, which writes
_open: list[weakref.ref] = []  # the reporting bars not yet closed, outermost first
_last_write = -float("inf")
_pending: threading.Timer | None = None  # the write of a change that came too soon after the last write


def progress_bar(iterable: Iterable | None = None, **kwargs: Any) -> tqdm.std.tqdm:
    """``tqdm.auto.tqdm(iterable, **kwargs)``; with ``$IMG2IMU_PROGRESS`` set, one that also reports its status
    there, even when ``disable`` is true (then it is drawn nowhere)."""
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return tqdm.auto.tqdm(iterable, **kwargs)
    if kwargs.get("disable"):
        return _Hidden(iterable, status_file=Path(path), **{**kwargs, "disable": False, "file": _Nowhere(), "miniters": 1})
    return _Shown(iterable, status_file=Path(path), **kwargs)


def read_status(path: Path) -> dict | None:
    """The status last written at ``path``; None if there is none yet."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


class _Reporting:
    """Hooks on a tqdm class: its status is written when it opens, refreshes and closes."""

    def __init__(self, *args: Any, status_file: Path, **kwargs: Any) -> None:
        self.status_file = status_file
        super().__init__(*args, **kwargs)
        with _lock:
            _open.append(weakref.ref(self))
        _write(force=True)

    def refresh(self, *args: Any, **kwargs: Any) -> None:
        super().refresh(*args, **kwargs)
        _write()

    def close(self) -> None:
        if not getattr(self, "disable", True):  # open (tqdm sets disable when it closes)
            _write(force=True, closing=self)
        super().close()


class _Shown(_Reporting, tqdm.auto.tqdm):
    pass


class _Hidden(_Reporting, tqdm.std.tqdm):
    monitor_interval = 0  # no monitor thread for a bar nobody sees
    _instances = weakref.WeakSet()  # nor a line among the drawn bars' positions


class _Nowhere:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def _summary(bar: tqdm.std.tqdm) -> dict:
    return {"desc": bar.desc, "n": bar.n, "total": bar.total}


def _status(bar: tqdm.std.tqdm, *, closed: bool) -> dict:
    d = bar.format_dict
    n, total, elapsed, initial = d["n"], d["total"], d["elapsed"], d.get("initial") or 0
    rate = d["rate"] or ((n - initial) / elapsed if elapsed and n > initial else None)
    remaining = 0.0 if closed else ((total - n) / rate if rate and total is not None else None)
    return {**_summary(bar), "elapsed": round(elapsed, 1), "remaining": None if remaining is None else round(remaining, 1),
            "postfix": bar.postfix or "", "closed": closed}


def _write(*, force: bool = False, closing: _Reporting | None = None) -> None:
    """Write the innermost open bar's status (with ``closing`` gone; its own if no other is open). Unless
    ``force``, a change within ``INTERVAL`` of the last write is written when the interval ends."""
    global _last_write, _pending
    with _lock:
        now = time.monotonic()
        if not force and now - _last_write < INTERVAL:
            if _pending is None:
                _pending = threading.Timer(_last_write + INTERVAL - now, _write_pending)
                _pending.daemon = True
                _pending.start()
            return
        bars = [bar for bar in (ref() for ref in _open) if bar is not None and bar is not closing]
        _open[:] = [weakref.ref(bar) for bar in bars]
        if not bars and closing is None:
            return
        inner = bars[-1] if bars else closing
        status = {**_status(inner, closed=not bars), "outer": [_summary(b) for b in bars[:-1]]}
        _last_write = now
        try:
            with atomic_path(inner.status_file) as temporary:
                temporary.write_text(json.dumps(status, default=str) + "\n")
        except OSError:
            pass  # a reader that went away is no reason to stop the work being reported


def _write_pending() -> None:
    global _pending
    with _lock:
        _pending = None
    _write(force=True)
