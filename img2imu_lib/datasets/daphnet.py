"""Daphnet Freezing of Gait (Bachlin et al. 2010), in its original text format.

One file per subject and run, ``S01R02.txt``: 11 space-separated columns per row at 64 Hz:
time [ms], ankle acceleration x/y/z, upper-leg x/y/z, trunk x/y/z [all mg], annotation
(0 outside the experiment, 1 no freeze, 2 freeze). As in the paper we keep the ankle sensor,
convert mg to g, label 1 -> "no freeze", 2 -> "freeze", and mark annotation 0 as unlabelled
(-1), so windows over it are dropped.

A file that breaks the format is an error naming the file and line: a row without 11 numbers (a
truncated or garbled line), a value that is not finite, an annotation other than 0, 1 or 2, a
time that does not increase. Blank lines are skipped, as ``np.loadtxt`` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .paths import check_file
from .recording import Recording

DAPHNET_FS = 64.0  # Hz
DAPHNET_CLASSES: tuple[str, ...] = ("no freeze", "freeze")
_NAME = re.compile(r"S(\d+)R(\d+)\.txt$")
ANKLE = slice(1, 4)  # columns of the ankle accelerometer (x: forward, y: vertical, z: lateral)


def read_daphnet_file(path: str | Path) -> Recording:
    """One ``SxxRyy.txt`` file as a Recording (ankle acceleration in g, 64 Hz)."""
    path = check_file(Path(path), "a Daphnet file S<subject>R<run>.txt")
    match = _NAME.search(path.name)
    if match is None:
        raise ValueError(f"{path}: file name does not look like S<subject>R<run>.txt")
    if not path.read_bytes().strip():
        raise ValueError(f"{path}: the file is empty")
    try:
        table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as err:  # UnicodeDecodeError included
        raise ValueError(_bad_row(path) or f"{path}: {err} (expected 11 numbers per row)") from err
    if table.shape[1] != 11:
        raise ValueError(_bad_row(path) or f"{path}: rows have {table.shape[1]} columns; expected 11")
    time = table[:, 0]
    checks = (  # (bad rows, what is wrong with row i)
        (~np.isfinite(table).all(axis=1), lambda i: "a value is not finite; expected 11 finite numbers"),
        (~np.isin(table[:, 10], [0, 1, 2]), lambda i: f"annotation {table[i, 10]:g}; expected 0, 1 or 2"),
        (np.diff(time, prepend=-np.inf) <= 0,
         lambda i: f"time {time[i]:g} ms does not come after {time[i - 1]:g} ms of the row before; expected increasing times"),
    )
    for bad, problem in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            number, text = _data_lines(path)[i]
            raise ValueError(f"{path}:{number}: {problem(i)} ({text!r})")
    annotation = table[:, 10].astype(np.int64)
    return Recording(
        dataset="daphnet", subject=int(match.group(1)), session=int(match.group(2)),
        signal=(table[:, ANKLE] / 1000.0).astype(np.float32),  # mg -> g
        labels=annotation - 1,  # 0 -> -1 (unlabelled), 1 -> 0, 2 -> 1
        fs=DAPHNET_FS, classes=DAPHNET_CLASSES, meta={"position": "ankle", "file": path.name},
    )


def _data_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of each row ``np.loadtxt`` reads: the lines not blank before any ``#``."""
    with open(path, encoding="latin-1") as f:  # any bytes decode; a garbled one shows in the message
        return [(n, line.strip()) for n, line in enumerate(f, start=1) if line.split("#", 1)[0].strip()]


def _bad_row(path: Path) -> str | None:
    """The error for the first row that is not 11 numbers, naming its line; None if every row is."""
    for number, text in _data_lines(path):
        fields = text.split("#", 1)[0].split()
        if len(fields) != 11:
            return f"{path}:{number}: {text!r} has {len(fields)} fields; expected 11 numbers (a truncated line?)"
        try:
            list(map(float, fields))
        except ValueError:
            return f"{path}:{number}: {text!r} holds something that is not a number; expected 11 numbers"
    return None


def load_daphnet(folder: str | Path) -> list[Recording]:
    """Every ``S*R*.txt`` file in ``folder`` (or its ``dataset/`` subfolder, as in the UCI archive)."""
    folder = Path(folder)
    files = sorted(folder.glob("S*R*.txt")) or sorted(folder.glob("dataset/S*R*.txt"))
    if not files:
        raise FileNotFoundError(f"{folder}: no Daphnet files (S01R01.txt ...) found")
    return [read_daphnet_file(f) for f in files]
