"""Daphnet Freezing of Gait (Bachlin et al. 2010), in its original text format.

One file per subject and run, ``S01R02.txt``: 11 space-separated columns per row at 64 Hz:
time [ms], ankle acceleration x/y/z, upper-leg x/y/z, trunk x/y/z [all mg], annotation
(0 outside the experiment, 1 no freeze, 2 freeze). As in the paper we keep the ankle sensor,
convert mg to g, label 1 -> "no freeze", 2 -> "freeze", and mark annotation 0 as unlabelled
(-1), so windows over it are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .recording import Recording

DAPHNET_FS = 64.0  # Hz
DAPHNET_CLASSES: tuple[str, ...] = ("no freeze", "freeze")
_NAME = re.compile(r"S(\d+)R(\d+)\.txt$")
ANKLE = slice(1, 4)  # columns of the ankle accelerometer (x: forward, y: vertical, z: lateral)


def read_daphnet_file(path: str | Path) -> Recording:
    """One ``SxxRyy.txt`` file as a Recording (ankle acceleration in g, 64 Hz)."""
    path = Path(path)
    match = _NAME.search(path.name)
    if match is None:
        raise ValueError(f"{path}: file name does not look like S<subject>R<run>.txt")
    if not path.read_bytes().strip():
        raise ValueError(f"{path}: the file is empty")
    try:
        table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path}: {err} (expected 11 numbers per row)") from err
    if table.shape[1] != 11:
        raise ValueError(f"{path}: rows have {table.shape[1]} columns; expected 11")
    annotation = table[:, 10].astype(np.int64)
    unknown = np.setdiff1d(np.unique(annotation), [0, 1, 2])
    if unknown.size:
        row = int(np.flatnonzero(np.isin(annotation, unknown))[0]) + 1
        raise ValueError(f"{path}:{row}: annotation {unknown[0]}; expected 0, 1 or 2")
    return Recording(
        dataset="daphnet", subject=int(match.group(1)), session=int(match.group(2)),
        signal=(table[:, ANKLE] / 1000.0).astype(np.float32),  # mg -> g
        labels=annotation - 1,  # 0 -> -1 (unlabelled), 1 -> 0, 2 -> 1
        fs=DAPHNET_FS, classes=DAPHNET_CLASSES, meta={"position": "ankle", "file": path.name},
    )


def load_daphnet(folder: str | Path) -> list[Recording]:
    """Every ``S*R*.txt`` file in ``folder`` (or its ``dataset/`` subfolder, as in the UCI archive)."""
    folder = Path(folder)
    files = sorted(folder.glob("S*R*.txt")) or sorted(folder.glob("dataset/S*R*.txt"))
    if not files:
        raise FileNotFoundError(f"{folder}: no Daphnet files (S01R01.txt ...) found")
    return [read_daphnet_file(f) for f in files]
