"""Shoulder-exercise smartwatch recordings shipped in the PyPI package ``seglearn``.

``seglearn/data/watch_dataset.npy`` (Burns et al. 2018) holds a pickled dict: 140 series of
(T, 6) samples at 50 Hz from an Apple Watch on the wrist (accelerometer ax, ay, az in g, then
gyroscope), one exercise label per series, 10 subjects, 7 exercises. We read it with a
restricted unpickler, without importing seglearn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .paths import check_file
from .recording import Recording
from .safe_pickle import installed_file, load_restricted

WATCH_FS = 50.0  # Hz
WATCH_CLASSES: tuple[str, ...] = (
    "pendulum", "abduction", "forward elevation", "internal rotation", "external rotation",
    "trapezius extension", "upright row",
)  # the file's y_labels PEN, ABD, FEL, IR, ER, TRAP, ROW
_FILE_LABELS = ("PEN", "ABD", "FEL", "IR", "ER", "TRAP", "ROW")


def watch_file() -> Path:
    """Path of ``watch_dataset.npy`` inside the installed seglearn package, found without importing it."""
    return installed_file("seglearn", "data/watch_dataset.npy", pip_name="seglearn")


def load_watch(path: str | Path | None = None) -> list[Recording]:
    """Load the 140 exercise series as ``Recording``s (signal in g at 50 Hz, one label per series)."""
    source = Path(path) if path is not None else watch_file()
    if path is not None:
        check_file(source, "seglearn's watch_dataset.npy")
    elif not source.is_file():
        raise FileNotFoundError(f"{source}: watch dataset not found; install seglearn")
    with open(source, "rb") as f:
        try:
            np.lib.format.read_magic(f)
            header = np.lib.format.read_array_header_1_0(f)
        except ValueError as err:
            raise ValueError(f"{source}: not a .npy file ({err})") from err
        if header[2] != np.dtype(object):
            raise ValueError(f"{source}: holds a {header[2]} array; expected a pickled dict (dtype object)")
        data = load_restricted(f, source)
    try:
        data = data.item() if isinstance(data, np.ndarray) else data
        series, labels, subjects, sides = data["X"], data["y"], data["subject"], data["side"]
        file_labels = tuple(str(v) for v in data["y_labels"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{source}: expected a dict with X, y, subject, side and y_labels ({err!r})") from err
    if file_labels != _FILE_LABELS:
        raise ValueError(f"{source}: y_labels are {file_labels}; expected {_FILE_LABELS}")
    recordings = []
    sessions: dict[int, int] = {}
    for x, y, subject, side in zip(series, labels, subjects, sides):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != 6:
            raise ValueError(f"{source}: a series has shape {x.shape}; expected (T, 6)")
        subject = int(subject)
        session = sessions.get(subject, 0)
        sessions[subject] = session + 1
        recordings.append(Recording(
            dataset="watch", subject=subject, session=session, signal=x[:, :3],
            labels=np.full(len(x), int(y), dtype=np.int64), fs=WATCH_FS, classes=WATCH_CLASSES,
            extra={"gyro": x[:, 3:]}, meta={"side": "right" if side else "left"},
        ))
    return recordings
