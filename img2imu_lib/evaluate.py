"""Linear evaluation of one backbone on one dataset for one seed (Section V-A).

The seed fixes the subject split (6:2:2, ``datasets.subject_split``) and the shots (``k``
windows per class from the training subjects, ``datasets.few_shot``), so every method
evaluated with the same seed sees the same windows. Image backbones get the windows as
ImageNet-normalised spectrogram images; sensor backbones get the raw windows in g (they
standardise with their pre-training corpus's statistics themselves). The probe is
``probe.probe``: frozen backbone, one trained layer, macro-F1 on the test subjects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .conversion import spectrogram_images
from .datasets.protocol import few_shot, subject_split
from .probe import ProbeConfig, probe

KINDS = ("image", "sensor")


@dataclass(frozen=True)
class EvalConfig:
    shots: int = 10  # labelled windows per class for the probe (the paper's k)
    seed: int = 0  # subject split and shot sample
    nfft: int = 128  # image backbones: FFT length of the spectrogram (chosen on validation in the paper)
    noverlap: int = 116  # image backbones: overlap of FFT segments
    probe: ProbeConfig = field(default_factory=ProbeConfig)  # Adam, batch 4, 50 epochs


def backbone_inputs(windows: np.ndarray, *, kind: str, fs: float, config: EvalConfig) -> torch.Tensor:
    """What a backbone of ``kind`` reads: images (N, 3, 96, 128) ImageNet-normalised, or windows (N, T, 3) in g."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; expected one of {KINDS}")
    if kind == "image":
        return spectrogram_images(windows, fs=fs, nfft=config.nfft, noverlap=config.noverlap)
    return torch.as_tensor(np.ascontiguousarray(windows, dtype=np.float32))


@dataclass(frozen=True)
class SeedSplit:
    """Indices into a dataset's windows for one seed: the three subject parts and the shots."""

    seed: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    shots: np.ndarray


def seed_split(labels: np.ndarray, subjects: np.ndarray, *, seed: int, shots: int, allow_fewer: bool = False) -> SeedSplit:
    """The seed's 6:2:2 subject split (window indices of each part) and its ``shots`` windows per class
    from the training part: a function of the data and the seed only, so every method sees the same."""
    split = subject_split(subjects, seed=seed, labels=labels)
    part = {k: np.flatnonzero(np.isin(subjects, getattr(split, k))) for k in ("train", "validation", "test")}
    picked = few_shot(labels, part["train"], k=shots, seed=seed, allow_fewer=allow_fewer)
    return SeedSplit(seed, part["train"], part["validation"], part["test"], picked)


def evaluate(backbone: nn.Module, windows: np.ndarray, labels: np.ndarray, subjects: np.ndarray, *, kind: str,
             fs: float, classes: int, config: EvalConfig = EvalConfig()) -> dict:
    """Macro-F1 of a linear probe on ``config.shots`` windows per class of the seed's training subjects,
    tested on all windows of its test subjects. windows (N, T, 3) in g; labels, subjects (N,)."""
    split = seed_split(labels, subjects, seed=config.seed, shots=config.shots)
    train, test = split.shots, split.test
    x_train, x_test = (backbone_inputs(windows[i], kind=kind, fs=fs, config=config) for i in (train, test))
    result = probe(backbone, (x_train, torch.as_tensor(labels[train])), (x_test, torch.as_tensor(labels[test])),
                   classes=classes, config=config.probe)
    return {"macro_f1": result["macro_f1"], "seed": config.seed, "shots": config.shots, "train_windows": train,
            "test_windows": test, "test_subjects": np.unique(subjects[test]).tolist(), "predicted": result["predicted"]}
