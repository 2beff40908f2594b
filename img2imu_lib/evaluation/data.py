"""The downstream datasets as the evaluation reads them: windows at 50 Hz, capped per profile, split per seed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets import load_dataset
from ..datasets.protocol import TARGET_FS, Split, distinct_splits
from ..datasets.registry import DATASETS, locate


@dataclass
class EvalData:
    """One downstream dataset as the evaluation uses it: windows (N, T, 3) in g at ``fs``, labels, subjects."""

    name: str
    windows: np.ndarray
    labels: np.ndarray
    subjects: np.ndarray
    fs: float
    classes: tuple[str, ...]
    seconds: float
    total_windows: int  # before the profile's cap
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            digest = hashlib.sha256(np.ascontiguousarray(self.windows).tobytes())
            digest.update(self.labels.tobytes() + self.subjects.astype(np.int64).tobytes())
            self.fingerprint = digest.hexdigest()[:16]


def downstream_datasets() -> list[str]:
    """Every downstream task of the registry, in its order (pre-training corpora are not scored)."""
    return [name for name, info in DATASETS.items() if info.downstream]


def available_datasets(data_dir: Sequence[str | Path] = ()) -> list[str]:
    """The downstream datasets on this machine: the installed ones and those found on the data search path."""
    present = []
    for name in downstream_datasets():
        try:
            locate(name, data_dir)
        except FileNotFoundError:
            continue
        present.append(name)
    return present


def balanced_cap(labels: np.ndarray, limit: int | None, *, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``limit`` windows: the budget is shared equally among classes, a class
    with fewer windows than its share keeping all of them and leaving the rest to the others; windows
    within a class are drawn at random (``seed``). ``None`` keeps everything."""
    if limit is None or len(labels) <= limit:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    chosen, budget = [], limit
    for position, c in enumerate(classes[np.argsort(counts, kind="stable")]):
        pool = np.flatnonzero(labels == c)
        take = min(len(pool), budget // (len(classes) - position))
        chosen.append(rng.choice(pool, size=take, replace=False))
        budget -= take
    return np.sort(np.concatenate(chosen))


def eval_data(name: str, *, max_windows: int | None, data_dir: Sequence[str | Path] = ()) -> EvalData:
    """A downstream dataset's windows at the protocol's 50 Hz with its window length, capped to ``max_windows``."""
    if name in DATASETS and not DATASETS[name].downstream:
        raise ValueError(f"dataset {name!r} is a pre-training corpus without a downstream task; the evaluation "
                         f"scores one of {downstream_datasets()}")
    dataset = load_dataset(name, data_dir)
    windows, labels, subjects = dataset.windows(fs=TARGET_FS)
    keep = balanced_cap(labels, max_windows)
    return EvalData(name, windows[keep], labels[keep], subjects[keep], TARGET_FS, dataset.info.classes,
                    dataset.info.window_seconds, len(labels))


def seed_splits(data: EvalData, seeds: Sequence[int], shots: int, *, allow_fewer: bool = False) -> list[Split]:
    """``datasets.protocol.distinct_splits`` of the seeds (no two alike, test subjects rotating): the same for every
    method."""
    return distinct_splits(data.labels, data.subjects, seeds=seeds, shots=shots, allow_fewer=allow_fewer)
