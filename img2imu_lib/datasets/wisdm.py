"""WISDM v1.1 (Kwapisz et al. 2011), raw file ``WISDM_ar_v1.1_raw.txt``.

Records ``user,activity,timestamp,x,y,z;`` from a phone in the front trouser pocket, 20 Hz,
acceleration in m/s^2 (converted here to g), 36 users, 6 activities. The raw file has known
defects; each is handled by one rule and counted:

* records are split on ``;`` and on line ends, so several records on one line, or one record
  without its ``;``, are read the same as well-formed ones;
* trailing commas and spaces are dropped (``...,0.5,;``);
* a record without exactly six fields is skipped (``malformed``);
* a record with a field that is not a number is skipped (``not a number``);
* a record with timestamp 0 is skipped (``zero timestamp``);
* an activity name outside the six is an error naming the line: it is not this file.

A user's records become one recording per unbroken stretch: a new one starts when the
activity changes, or the timestamp goes back or jumps by more than ``max_gap_s``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .paths import check_file
from .recording import Recording

WISDM_FS = 20.0  # Hz
WISDM_CLASSES: tuple[str, ...] = ("walking", "jogging", "upstairs", "downstairs", "sitting", "standing")
_ACTIVITIES = {"Walking": 0, "Jogging": 1, "Upstairs": 2, "Downstairs": 3, "Sitting": 4, "Standing": 5}
STANDARD_GRAVITY = 9.80665  # m/s^2 per g


def parse_wisdm(path: str | Path) -> tuple[list[tuple[int, int, int, float, float, float]], Counter]:
    """Read the raw file into (user, activity, timestamp, x, y, z) records and counts of skips."""
    path = check_file(Path(path), "the WISDM raw file WISDM_ar_v1.1_raw.txt")
    records = []
    skipped: Counter = Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            for chunk in line.split(";"):
                chunk = chunk.strip().rstrip(",").strip()
                if not chunk:
                    continue
                fields = [v.strip() for v in chunk.split(",")]
                if len(fields) != 6:
                    skipped["malformed"] += 1
                    continue
                if fields[1] not in _ACTIVITIES:
                    raise ValueError(f"{path}:{number}: activity {fields[1]!r}; expected one of {sorted(_ACTIVITIES)}")
                try:
                    user, stamp = int(fields[0]), int(fields[2])
                    x, y, z = (float(v) for v in fields[3:])
                except ValueError:
                    skipped["not a number"] += 1
                    continue
                if not all(np.isfinite((x, y, z))):
                    skipped["not a number"] += 1
                    continue
                if stamp == 0:
                    skipped["zero timestamp"] += 1
                    continue
                records.append((user, _ACTIVITIES[fields[1]], stamp, x, y, z))
    if not records:
        raise ValueError(f"{path}: no valid WISDM records (skipped: {dict(skipped) or 'none'})")
    return records, skipped


def load_wisdm(path: str | Path, *, max_gap_s: float = 1.0) -> tuple[list[Recording], Counter]:
    """Recordings (acceleration in g at a nominal 20 Hz) and the counts of skipped records."""
    records, skipped = parse_wisdm(path)
    table = np.array(records, dtype=np.float64)  # (R, 6)
    user, activity, stamp = table[:, 0].astype(int), table[:, 1].astype(int), table[:, 2]
    # timestamps are in ns; a break is a new user or activity, a step back, or a long gap
    step = np.diff(stamp) / 1e9
    breaks = (np.diff(user) != 0) | (np.diff(activity) != 0) | (step < 0) | (step > max_gap_s)
    starts = np.concatenate([[0], np.flatnonzero(breaks) + 1])
    stops = np.concatenate([starts[1:], [len(table)]])
    recordings, sessions = [], Counter()
    for start, stop in zip(starts, stops):
        subject = int(user[start])
        recordings.append(Recording(
            dataset="wisdm", subject=subject, session=sessions[subject],
            signal=(table[start:stop, 3:6] / STANDARD_GRAVITY).astype(np.float32),
            labels=np.full(stop - start, activity[start], dtype=np.int64),
            fs=WISDM_FS, classes=WISDM_CLASSES, meta={"position": "front trouser pocket"},
        ))
        sessions[subject] += 1
    return recordings, skipped
