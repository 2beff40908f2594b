"""Windows of the sensor pre-training corpus (Section V-A2): 50 Hz, 50% overlap, one length per model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ...datasets.capture24 import stream_capture24, substitute_corpus
from ...datasets.windows import windows_from_recordings
from .normalization import fit_corpus_stats


def sensor_corpus_windows(seconds: float, *, overlap: float = 0.5) -> np.ndarray:
    """(N, round(50 seconds), 3) float32 windows in g of the offline stand-in for Capture-24.

    The stand-in is ``capture24.substitute_corpus()`` (HAPT subjects 1-10, unlabelled, 50 Hz);
    every window is kept (no labels, so no majority rule).
    """
    if not seconds > 0:
        raise ValueError(f"seconds={seconds}; expected a positive window length in s")
    windows, _, _ = windows_from_recordings(substitute_corpus(), seconds=seconds, overlap=overlap)
    return windows.astype(np.float32, copy=False)


class WindowCorpus(Dataset):
    """Windows (N, T, 3) in g as a Dataset of (T, 3) float32 tensors, with their per-axis statistics."""

    def __init__(self, windows: np.ndarray, *, name: str, origin: str) -> None:
        if windows.ndim != 3 or windows.shape[-1] != 3 or len(windows) == 0:
            raise ValueError(f"{name}: windows have shape {windows.shape}; expected a non-empty (N, T, 3)")
        self.windows = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32))
        self.name, self.origin = name, origin
        self.mean, self.std = fit_corpus_stats(windows)  # (3,) each, in g

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.windows[index]

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "size": len(self), "origin": self.origin, "samples": self.windows.shape[1],
                "mean_g": self.mean.tolist(), "std_g": self.std.tolist()}


def sensor_corpus(name: str, *, seconds: float, size: int = 0, seed: int = 0) -> WindowCorpus:
    """``offline`` (HAPT subjects 1-10, the stand-in) or a folder of Capture-24 files, as 50 Hz windows.

    All of Capture-24 as 2 s windows with 50% overlap is about 17 GB of float32 in memory: on a
    smaller machine point it at a folder holding some of the participants' files. ``size`` > 0
    keeps that many windows, drawn without replacement with ``seed`` (0: every window).
    """
    if name == "offline":
        windows, label, origin = sensor_corpus_windows(seconds), "capture24-substitute", "HAPT subjects 1-10 (capture24.substitute_corpus)"
    elif Path(name).is_dir():
        windows, _, _ = windows_from_recordings(list(stream_capture24(name)), seconds=seconds, overlap=0.5)
        label, origin = "capture24", str(name)
    else:
        raise ValueError(f"sensor corpus {name!r}; expected offline or a folder of Capture-24 files (P001.csv.gz ...)")
    if 0 < size < len(windows):
        windows = windows[np.sort(np.random.default_rng(seed).choice(len(windows), size, replace=False))]
    return WindowCorpus(windows, name=label, origin=origin)
