"""Multi-task self-supervised learning by transformation recognition (Saeed et al. 2019,
"Multi-task self-supervised learning for human activity detection"), the "Multi-task (HAR)" row
of Table II.

Taken from Saeed et al.: eight transformations (noise, scaling, rotation, negation, horizontal
flip = time reversal, segment permutation, time warping, channel shuffle), one shared encoder
(the 1D CNN, ``CNN1D``), one binary head per transformation that tells transformed windows from
original ones, Adam with learning rate 3e-4.
Assumed: each head sees the N original windows (label 0) and the same N windows transformed by
its transformation (label 1), so one call encodes 9N windows; the loss is the unweighted mean of
the eight binary cross-entropies (Saeed et al. weight them, weights not replicated); each head
is Dense 256 - ReLU - Dense 256 - ReLU - Dense 1; transformation magnitudes are those of the
code Tang et al. (2020) share with Saeed et al. (see ``augmentations``); the permutation cuts 4
equal segments (it can draw the identity order, 1 in 24); time warping is piecewise linear.
Transformations act on raw windows in g, then everything is standardised.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from ...checks import check_field_types
from ...datasets.windows import check_windows
from ...datasets.perturbations import mask, rotate
from .augmentations import channel_shuffle, gaussian_noise, negate, scale, time_flip, time_warp
from .encoders import CNN1D
from .normalization import Standardize, StandardizedConfig
from .recipe import ConstantRateAdam

TRANSFORMATIONS = {
    "noised": gaussian_noise,
    "scaled": scale,
    "rotated": rotate,
    "negated": negate,
    "time_flipped": time_flip,
    "permuted": partial(mask, mode="permute", n_segments=4),
    "time_warped": time_warp,
    "channel_shuffled": channel_shuffle,
}
"""The eight transformations of Saeed et al., each ``f(windows (N, T, 3), *, generator) -> (N, T, 3)``."""


@dataclass(frozen=True)
class MultiTaskHARConfig(StandardizedConfig):
    tasks: tuple[str, ...] = tuple(TRANSFORMATIONS)  # which transformations to recognise (Saeed et al.: all 8)
    head: tuple[int, ...] = (256, 256)  # hidden widths of each binary head (assumed, see the module docstring)
    lr: float = 3e-4  # Adam learning rate, constant (Saeed et al.)
    weight_decay: float = 0.0  # (the paper grid-searches 0, 1e-3, 1e-4)
    dropout: float = 0.1  # encoder dropout (Haresamudram et al. 2022)

    def __post_init__(self) -> None:
        super().__post_init__()  # the statistics become tuples first
        check_field_types(self)
        unknown = [t for t in self.tasks if t not in TRANSFORMATIONS]
        if unknown or not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks={self.tasks}; expected distinct names from {tuple(TRANSFORMATIONS)}")
        if self.lr <= 0 or self.weight_decay < 0 or min(self.head, default=1) < 1:
            raise ValueError(f"lr={self.lr}, weight_decay={self.weight_decay}, head={self.head}; "
                             "expected lr > 0, weight_decay >= 0, positive head widths")


def binary_head(width: int, hidden: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 1))


class MultiTaskHAR(ConstantRateAdam, nn.Module):  # Adam at a constant rate (Saeed et al. use no schedule)
    """Standardize, shared CNN1D encoder, one logit head per transformation."""

    def __init__(self, config: MultiTaskHARConfig = MultiTaskHARConfig()) -> None:
        super().__init__()
        self.config = config
        self.standardize = Standardize(config.mean, config.std)
        self.encoder = CNN1D(config.dropout)
        self.heads = nn.ModuleDict({t: binary_head(CNN1D.out_features, config.head) for t in config.tasks})

    def loss(self, windows: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """Raw windows (N, T, 3) in g, T >= 46 -> scalar mean binary cross-entropy over the tasks."""
        x = check_windows(windows).cpu()  # transformations draw from the CPU generator
        tasks = self.config.tasks
        batch = torch.cat([x] + [TRANSFORMATIONS[t](x, generator=generator) for t in tasks])  # (9N, T, 3)
        features = self.encoder(self.standardize(batch.to(self.standardize.mean.device)))  # (9N, 96)
        original, *transformed = features.split(x.shape[0])  # 1 + len(tasks) blocks of (N, 96)
        labels = torch.cat([torch.zeros(x.shape[0]), torch.ones(x.shape[0])]).to(features.device)  # (2N,)
        losses = [F.binary_cross_entropy_with_logits(self.heads[t](torch.cat([original, f])).squeeze(1), labels)
                  for t, f in zip(tasks, transformed)]
        return torch.stack(losses).mean()

    def backbone(self) -> nn.Module:
        """A copy of Standardize + encoder: raw windows (N, T, 3) in g -> (N, 96); eval mode, no heads."""
        return nn.Sequential(copy.deepcopy(self.standardize), copy.deepcopy(self.encoder)).eval()
