"""SimCLR for HAR (Tang et al. 2020, "Exploring contrastive learning in human activity recognition
for healthcare"), the "SimCLR (HAR)" row of Table II.

Taken from Tang et al. (paper and released code): the 1D CNN encoder (``CNN1D``), a projection
head Dense 256 - ReLU - Dense 128 - ReLU - Dense 50, the NT-Xent loss with temperature 0.1, two
views made by the same random composite transformation (their best pair: per-axis scaling,
sigma 0.1, then a random 3-D rotation), and SGD with a cosine decay from 0.1.
Assumed: the views are made on raw windows in g and standardised afterwards (the paper:
"it applies sensory augmentations to the raw sensor data"); the rotation axis is uniform on the
sphere (``datasets.perturbations.rotate``) where Tang draws it in a cube; the NT-Xent is averaged over the 2N
anchors as lightly's ``NTXentLoss`` does (Tang sums the two directions, twice this value); the
cosine runs over the whole pre-training (Tang's decays to 0 after 1,000 steps).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ...checks import check_field_types
from ...datasets.windows import check_windows
from ...datasets.perturbations import rotate
from .augmentations import scale
from .encoders import CNN1D
from .normalization import Standardize, StandardizedConfig


@dataclass(frozen=True)
class SimCLRHARConfig(StandardizedConfig):
    temperature: float = 0.1  # NT-Xent tau (Tang et al.)
    projection: tuple[int, ...] = (256, 128, 50)  # projection head widths, ReLU between (Tang et al.)
    scale_sigma: float = 0.1  # std of the per-axis scaling factor around 1 (Tang et al.'s code)
    max_angle_deg: float = 180.0  # rotation angle drawn uniformly in +-this (Tang et al.'s code: +-pi)
    lr: float = 0.1  # SGD initial learning rate, cosine-decayed to 0 (Tang et al.'s code)
    weight_decay: float = 0.0  # (the paper grid-searches 0, 1e-3, 1e-4)
    dropout: float = 0.1  # encoder dropout (Haresamudram et al. 2022)

    def __post_init__(self) -> None:
        super().__post_init__()  # the statistics become tuples first
        check_field_types(self)
        if self.temperature <= 0 or self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(f"temperature={self.temperature}, lr={self.lr}, weight_decay={self.weight_decay}; "
                             "expected temperature > 0, lr > 0, weight_decay >= 0")
        if not self.projection or min(self.projection) < 1:
            raise ValueError(f"projection={self.projection}; expected positive widths")


def nt_xent(z0: torch.Tensor, z1: torch.Tensor, *, temperature: float) -> torch.Tensor:
    """NT-Xent (SimCLR): z0, z1 (N, D) projections of two views; scalar mean over the 2N anchors.

    Each anchor's positive is the other view of its window; its negatives are the other 2N - 2
    projections. With all projections equal the loss is log(2N - 1).
    """
    n = z0.shape[0]
    if z1.shape != z0.shape or n < 2:
        raise ValueError(f"views have shapes {tuple(z0.shape)} and {tuple(z1.shape)}; expected equal (N, D), N >= 2")
    z = F.normalize(torch.cat([z0, z1]), dim=1)  # (2N, D)
    logits = z @ z.T / temperature  # (2N, 2N)
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))  # no self-pairs
    targets = (torch.arange(2 * n, device=z.device) + n) % (2 * n)  # view 0 of i <-> view 1 of i
    return F.cross_entropy(logits, targets)


def projection_head(width: int, sizes: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, size in enumerate(sizes):
        layers += [nn.Linear(width, size)] + ([nn.ReLU()] if i < len(sizes) - 1 else [])
        width = size
    return nn.Sequential(*layers)


class SimCLRHAR(nn.Module):
    """Standardize, CNN1D encoder, projection head; ``loss`` makes the two views itself."""

    def __init__(self, config: SimCLRHARConfig = SimCLRHARConfig()) -> None:
        super().__init__()
        self.config = config
        self.standardize = Standardize(config.mean, config.std)
        self.encoder = CNN1D(config.dropout)
        self.head = projection_head(CNN1D.out_features, config.projection)

    def view(self, windows: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """One augmented view of raw windows (N, T, 3) in g: scale, then rotate; still in g."""
        scaled = scale(windows, generator=generator, sigma=self.config.scale_sigma)
        return rotate(scaled, generator=generator, max_angle_deg=self.config.max_angle_deg)

    def loss(self, windows: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """Raw windows (N, T, 3) in g, N >= 2, T >= 46 -> scalar NT-Xent loss of two random views."""
        x = check_windows(windows).cpu()  # augmentations draw from the CPU generator
        device = self.standardize.mean.device
        views = [self.view(x, generator=generator).to(device) for _ in range(2)]
        z0, z1 = (self.head(self.encoder(self.standardize(v))) for v in views)  # (N, 50) each
        return nt_xent(z0, z1, temperature=self.config.temperature)

    def optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        """Cosine decay from ``lr`` at epoch 0 to 0 at ``epochs``."""
        if not 0 <= epoch <= epochs:
            raise ValueError(f"epoch={epoch}; expected 0 <= epoch <= {epochs}")
        return self.config.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))

    def backbone(self) -> nn.Module:
        """A copy of Standardize + encoder: raw windows (N, T, 3) in g -> (N, 96); eval mode, no head."""
        return nn.Sequential(copy.deepcopy(self.standardize), copy.deepcopy(self.encoder)).eval()
