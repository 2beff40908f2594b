"""The sensor corpus's own statistics (Section V-A2: "The Capture-24 data was normalized using its statistics").

Every sensor method standardises *inside* the model: ``loss()`` takes raw windows in g, applies
its augmentations there (rotations and scalings are physical in g), then ``Standardize``. The
backbone handed to the probe starts with the same ``Standardize``, so downstream windows, also
raw in g, are normalised with the pre-training corpus's statistics, as the paper does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...datasets.protocol import fit_normalizer


def fit_corpus_stats(windows: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis mean and std, each (3,) float64 in g, of corpus windows (N, T, 3) in g."""
    array = windows.detach().cpu().numpy() if torch.is_tensor(windows) else np.asarray(windows)
    if array.ndim != 3 or array.shape[-1] != 3 or array.size == 0:
        raise ValueError(f"windows have shape {array.shape}; expected a non-empty (N, T, 3)")
    return fit_normalizer(array)


def check_stats(mean: Sequence[float], std: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``mean`` and ``std`` as two tuples of 3 floats; ValueError unless finite and std > 0."""
    mean_t = tuple(float(v) for v in np.asarray(mean, dtype=np.float64).reshape(-1))
    std_t = tuple(float(v) for v in np.asarray(std, dtype=np.float64).reshape(-1))
    if len(mean_t) != 3 or len(std_t) != 3:
        raise ValueError(f"mean={mean_t}, std={std_t}; expected 3 values each (x, y, z)")
    if not all(math.isfinite(v) for v in mean_t + std_t) or min(std_t) <= 0:
        raise ValueError(f"mean={mean_t}, std={std_t}; expected finite values and std > 0")
    return mean_t, std_t


@dataclass(frozen=True)
class StandardizedConfig:
    """Base of every sensor method's config: the corpus statistics the model standardises with."""

    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # per-axis corpus mean in g (fit_corpus_stats); default: no shift
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per-axis corpus std in g (fit_corpus_stats); default: no scaling

    def __post_init__(self) -> None:
        mean, std = check_stats(self.mean, self.std)
        object.__setattr__(self, "mean", mean)  # arrays from fit_corpus_stats become plain tuples
        object.__setattr__(self, "std", std)


class Standardize(nn.Module):
    """(x - mean) / std per axis, the statistics kept as buffers (saved with the weights)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        mean_t, std_t = check_stats(mean, std)
        self.register_buffer("mean", torch.tensor(mean_t, dtype=torch.float32))  # (3,)
        self.register_buffer("std", torch.tensor(std_t, dtype=torch.float32))  # (3,)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """windows (N, T, 3) in g -> (N, T, 3) in corpus standard deviations."""
        if windows.ndim != 3 or windows.shape[-1] != 3:
            raise ValueError(f"windows have shape {tuple(windows.shape)}; expected (N, T, 3) with axes last")
        return (windows - self.mean) / self.std
