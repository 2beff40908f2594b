"""Readers for the two non-human datasets of the paper: Goat Movement and PVS road surfaces.

Both layouts follow the publishers' descriptions as documented by public loaders; neither
archive could be downloaded where this was written, so the column names below are the
contract a user's copy must meet (the error names the file and the missing column).

Goat (Kamminga et al. 2018): one CSV per recording with a ``label`` column and the collar's
primary accelerometer ``ax, ay, az`` in m/s^2 at 100 Hz; the animal is the ``animal_ID``
column or, without it, the file name. Labels map to stationary / walking / running /
trotting; "eating" (grazing) is dropped as in the paper, and so is anything else.

PVS (Menegazzo & von Wangenheim 2020): folders ``PVS 1`` .. ``PVS 9`` (drivers 1-3 drove
PVS 1-3, 4-6, 7-9), each with ``dataset_gps_mpu_left.csv`` (100 Hz, ``acc_x_dashboard`` ...
in m/s^2) and ``dataset_labels.csv`` (one-hot columns, one row per sample). We use the
left dashboard accelerometer, closest to where a phone would sit, and the road surface
labels asphalt / dirt / cobblestone.

Both are read as UTF-8 CSV (a byte-order mark is dropped). A row with more or fewer fields than
the header, a blank line between rows, or a value that is not a finite number is an error naming
the file and line; blank lines at the end of a file are ignored.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from .paths import check_file
from .recording import Recording
from .wisdm import STANDARD_GRAVITY

GOAT_FS = 100.0
GOAT_CLASSES: tuple[str, ...] = ("stationary", "walking", "running", "trotting")
_GOAT_LABELS = {"stationary": 0, "standing": 0, "lying": 0, "walking": 1, "running": 2, "trotting": 3}
PVS_FS = 100.0
PVS_CLASSES: tuple[str, ...] = ("asphalt", "dirt", "cobblestone")
_PVS_COLUMNS = ("asphalt_road", "dirt_road", "cobblestone_road")
PVS_AXES = ("acc_x_dashboard", "acc_y_dashboard", "acc_z_dashboard")


def _columns(path: Path, needed: tuple[str, ...]) -> tuple[dict[str, list[str]], list[int]]:
    """The ``needed`` columns of a CSV as strings, and the line number of each row."""
    with open(check_file(path, "a CSV file"), newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            values, lines = _read_columns(reader, path, needed)
        except UnicodeDecodeError as err:
            raise ValueError(f"{path}: near line {reader.line_num + 1}: not UTF-8 text ({err}); save it as UTF-8") from err
    if not lines:
        raise ValueError(f"{path}: no rows after the header")
    return values, lines


def _read_columns(reader, path: Path, needed: tuple[str, ...]) -> tuple[dict[str, list[str]], list[int]]:
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in needed if c not in header]
    if missing:
        raise ValueError(f"{path}:1: missing columns {missing}; the header is {header[:12]}")
    index = [header.index(c) for c in needed]
    values: dict[str, list[str]] = {c: [] for c in needed}
    lines: list[int] = []
    blank = None
    for row in reader:
        if not any(v.strip() for v in row):
            blank = blank or reader.line_num
            continue
        if blank:
            raise ValueError(f"{path}:{blank}: blank line between rows; expected one row per sample")
        if len(row) != len(header):
            raise ValueError(f"{path}:{reader.line_num}: {len(row)} fields; expected {len(header)} as in the header")
        for c, i in zip(needed, index):
            values[c].append(row[i])
        lines.append(reader.line_num)
    return values, lines


def _floats(path: Path, values: list[str], column: str, lines: list[int]) -> np.ndarray:
    """A column as finite floats; the error names the file, line and value."""
    try:
        numbers = np.array(values, dtype=np.float64)
    except ValueError:
        numbers = np.array([_float_or_nan(v) for v in values])
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        raise ValueError(f"{path}:{lines[bad[0]]}: {column} {values[bad[0]]!r}; expected a finite number")
    return numbers


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def load_goat(folder: str | Path) -> tuple[list[Recording], dict[str, int]]:
    """Goat recordings (collar accelerometer in g, 100 Hz) and counts of dropped samples by label."""
    files = sorted(Path(folder).rglob("*.csv"))
    if not files:
        raise FileNotFoundError(f"{folder}: no goat CSV files found")
    recordings, dropped, sessions = [], {}, {}
    for path in files:
        values, lines = _columns(path, ("label", "ax", "ay", "az"))
        signal = np.stack([_floats(path, values[a], a, lines) for a in ("ax", "ay", "az")], axis=1) / STANDARD_GRAVITY
        names = [v.strip().lower() for v in values["label"]]
        for name in set(names) - set(_GOAT_LABELS):
            dropped[name] = dropped.get(name, 0) + names.count(name)
        labels = np.array([_GOAT_LABELS.get(n, -1) for n in names], dtype=np.int64)
        digits = re.findall(r"\d+", path.stem)
        subject = int(digits[0]) if digits else len(sessions) + 1
        sessions[subject] = sessions.get(subject, -1) + 1
        recordings.append(Recording(dataset="goat", subject=subject, session=sessions[subject],
                                    signal=signal.astype(np.float32), labels=labels, fs=GOAT_FS,
                                    classes=GOAT_CLASSES, meta={"position": "neck collar", "file": path.name}))
    return recordings, dropped


def load_pvs(folder: str | Path) -> list[Recording]:
    """PVS drives (left dashboard accelerometer in g, 100 Hz); subject = driver 1..3."""
    runs = sorted((p for p in Path(folder).glob("PVS *") if p.is_dir()), key=lambda p: int(p.name.split()[-1]))
    if not runs:
        raise FileNotFoundError(f"{folder}: no 'PVS 1' .. 'PVS 9' folders found")
    recordings = []
    for run in runs:
        number = int(run.name.split()[-1])
        sensor_file, labels_file = run / "dataset_gps_mpu_left.csv", run / "dataset_labels.csv"
        sensor, sensor_lines = _columns(sensor_file, PVS_AXES)
        onehot, onehot_lines = _columns(labels_file, _PVS_COLUMNS)
        signal = np.stack([_floats(sensor_file, sensor[a], a, sensor_lines) for a in PVS_AXES], axis=1) / STANDARD_GRAVITY
        flags = np.stack([_floats(labels_file, onehot[c], c, onehot_lines) for c in _PVS_COLUMNS], axis=1)  # (T, 3)
        if len(flags) != len(signal):
            raise ValueError(f"{run}: {len(signal)} sensor rows but {len(flags)} label rows; expected one label row per sample")
        labels = np.where(flags.sum(axis=1) == 1, flags.argmax(axis=1), -1)
        recordings.append(Recording(dataset="pvs", subject=(number - 1) // 3 + 1, session=(number - 1) % 3,
                                    signal=signal.astype(np.float32), labels=labels.astype(np.int64), fs=PVS_FS,
                                    classes=PVS_CLASSES, meta={"position": "dashboard, left", "run": run.name}))
    return recordings
