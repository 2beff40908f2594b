"""Bring your own recordings: wrap arrays, or read a CSV of tri-axial samples, as ``Recording``s.

CSV layout (one header row, any column order, extra columns ignored)::

    subject,session,x,y,z,label
    1,0,0.02,-0.98,0.11,walking

``x, y, z`` in g, ``label`` a class name (empty for unlabelled), one row per sample at a
constant rate ``fs`` given by the caller. Everything downstream (windows, splits, images)
then works as for the published datasets.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .recording import Recording

REQUIRED = ("subject", "session", "x", "y", "z", "label")


def from_arrays(
    signal: np.ndarray, labels: Sequence[str | None], *, fs: float, subject: int, session: int = 0,
    classes: Sequence[str] | None = None, name: str = "own",
) -> Recording:
    """One recording from samples (T, 3) in g and per-sample class names (None: unlabelled)."""
    classes = tuple(classes) if classes is not None else tuple(sorted({c for c in labels if c}))
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({c for c in labels if c and c not in index})
    if unknown:
        raise ValueError(f"labels {unknown} are not in classes {list(classes)}")
    codes = np.array([index[c] if c else -1 for c in labels], dtype=np.int64)
    return Recording(dataset=name, subject=subject, session=session, signal=np.asarray(signal, dtype=np.float32),
                     labels=codes, fs=fs, classes=classes)


def read_csv(path: str | Path, *, fs: float, name: str = "own") -> list[Recording]:
    """Recordings from a CSV in the layout above; an error names the file and line of any bad row."""
    path = Path(path)
    rows: dict[tuple[int, int], list[tuple[float, float, float, str]]] = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}:1: missing columns {missing}; expected {', '.join(REQUIRED)}")
        for row in reader:
            try:
                key = (int(row["subject"]), int(row["session"]))
                sample = (float(row["x"]), float(row["y"]), float(row["z"]))
            except (TypeError, ValueError) as err:
                raise ValueError(f"{path}:{reader.line_num}: {err}; expected integer subject and session, numeric x, y, z") from err
            if not np.isfinite(sample).all():
                raise ValueError(f"{path}:{reader.line_num}: sample {sample} is not finite")
            rows.setdefault(key, []).append((*sample, row["label"].strip()))
    if not rows:
        raise ValueError(f"{path}: no samples after the header")
    classes = tuple(sorted({r[3] for samples in rows.values() for r in samples if r[3]}))
    return [from_arrays(np.array([r[:3] for r in samples]), [r[3] or None for r in samples], fs=fs,
                        subject=subject, session=session, classes=classes, name=name)
            for (subject, session), samples in sorted(rows.items())]
