"""Capture-24 (Chan et al. 2024): wrist accelerometer in the wild, for the sensor baselines' pre-training.

``capture24.zip`` holds ``P001.csv.gz`` ... ``P151.csv.gz`` with columns ``time,x,y,z,annotation``
at 100 Hz, acceleration in g (Axivity AX3 on the wrist). The corpus is 4,000 hours, so it is
streamed: one participant at a time, read in blocks, resampled to 50 Hz. Pre-training needs no
labels, so annotations are not parsed (every sample is unlabelled, -1). A row without numeric
x, y, z, a value that is not finite, a blank line between rows, or a truncated or corrupt gzip
file is an error naming the file (and line); blank lines at the end are ignored.

Offline, ``substitute_corpus`` stands in: HAPT subjects 1-10, which the downstream HAPT task
then leaves out (``SUBSTITUTE_SUBJECTS``), so no evaluation subject is seen in pre-training.
It is phone-on-waist data at 50 Hz, not wrist data in the wild: far smaller and less varied.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .hapt import load_hapt
from .paths import check_file
from .protocol import TARGET_FS, resample
from .recording import Recording

CAPTURE24_FS = 100.0  # Hz
SUBSTITUTE_SUBJECTS = tuple(range(1, 11))  # HAPT subjects given to pre-training offline
_NAME = re.compile(r"P(\d+)\.csv(\.gz)?$")


def read_participant(path: str | Path, *, block_rows: int = 1_000_000) -> Recording:
    """One ``Pxxx.csv.gz`` file as an unlabelled Recording at 50 Hz (x, y, z in g)."""
    path = Path(path)
    match = _NAME.search(path.name)
    if match is None:
        raise ValueError(f"{path}: file name does not look like P<number>.csv.gz")
    opener = gzip.open if check_file(path, "a Capture-24 file P<number>.csv.gz").suffix == ".gz" else open
    try:
        blocks = _read_blocks(path, opener, block_rows)
    except (EOFError, OSError) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: cannot read it ({err}); the file is truncated or corrupt: download it again") from err
    signal = np.concatenate(blocks) if blocks else np.empty((0, 3), np.float32)
    if not len(signal):
        raise ValueError(f"{path}: no samples after the header")
    if not np.isfinite(signal).all():
        raise ValueError(f"{path}:{int(np.argwhere(~np.isfinite(signal))[0, 0]) + 2}: a sample is not finite")
    raw = Recording(dataset="capture24", subject=int(match.group(1)), session=0, signal=signal,
                    labels=np.full(len(signal), -1, dtype=np.int64), fs=CAPTURE24_FS, classes=(),
                    meta={"position": "wrist"})
    return resample(raw, TARGET_FS)


def _read_blocks(path: Path, opener, block_rows: int) -> list[np.ndarray]:
    """x, y, z (n, 3) float32 of every row, read ``block_rows`` lines at a time."""
    blocks = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:  # annotations are not used
        header = f.readline().strip().split(",")
        if header[:4] != ["time", "x", "y", "z"]:
            raise ValueError(f"{path}:1: header {header}; expected time,x,y,z,annotation")
        number, blank = 1, None  # lines read so far; the first of the blank lines ending the last block
        while lines := [line for _, line in zip(range(block_rows), f)]:
            if blank is not None and any(line.strip() for line in lines):
                raise ValueError(f"{path}:{blank}: blank line between samples; expected one row per sample")
            kept = len(lines)
            while kept and not lines[kept - 1].strip():
                kept -= 1
            if kept < len(lines) and blank is None:
                blank = number + kept + 1
            try:
                blocks.append(np.array([line.split(",", 4)[1:4] for line in lines[:kept]], dtype=np.float32).reshape(-1, 3))
            except ValueError as err:
                raise ValueError(_bad_line(path, number + 1, lines) or f"{path}: rows {number + 1}..{number + kept}: {err}") from err
            number += len(lines)
    return blocks


def _bad_line(path: Path, first: int, lines: list[str]) -> str | None:
    """The error for the first of ``lines`` (numbered from ``first``) without numeric x, y, z."""
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            return f"{path}:{number}: blank line between samples; expected one row per sample"
        fields = line.split(",", 4)
        try:
            numeric = len(fields) >= 4 and bool([float(v) for v in fields[1:4]])
        except ValueError:
            numeric = False
        if not numeric:
            return f"{path}:{number}: {line.strip()!r}; expected time,x,y,z,annotation with x, y, z numbers in g"
    return None


def stream_capture24(folder: str | Path) -> Iterator[Recording]:
    """Participants one at a time, at 50 Hz, from a folder of ``P*.csv.gz`` (or its ``capture24/``)."""
    folder = Path(folder)
    files = sorted(folder.glob("P*.csv.gz")) or sorted(folder.glob("capture24/P*.csv.gz"))
    if not files:
        raise FileNotFoundError(f"{folder}: no Capture-24 files (P001.csv.gz ...) found")
    for path in files:
        yield read_participant(path)


def substitute_corpus() -> list[Recording]:
    """The offline stand-in for Capture-24: HAPT subjects 1-10 without labels, at 50 Hz."""
    return [Recording(dataset="capture24-substitute", subject=r.subject, session=r.session, signal=r.signal,
                      labels=np.full(len(r.labels), -1, dtype=np.int64), fs=r.fs, classes=(),
                      meta={"position": "waist", "source": "HAPT"})
            for r in load_hapt(subjects=list(SUBSTITUTE_SUBJECTS))]
