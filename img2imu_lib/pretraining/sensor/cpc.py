"""Contrastive predictive coding for HAR, the enhanced version (Haresamudram et al. 2022,
"Investigating enhancements to contrastive predictive coding for human activity recognition";
the original: Haresamudram et al. 2021), the "CPC (HAR)" row of Table II.

Taken from the enhanced CPC's released code (whose defaults are Capture-24 at 50 Hz, windows of
100 samples, Adam 1e-3, batch 128, 50 epochs): a convolutional encoder with an overall stride
of 4 (Conv1d 3->32 k4 s2, 32->64 k4 s2, 64->128 k1, 128->256 k1, no bias, each ReLU + dropout
0.2) giving one latent z_t per 4 samples; a causal convolutional aggregator (5 layers of 256
channels, kernels 2..6, left replication padding, GroupNorm, ReLU, residual connections scaled
by sqrt(0.5)) giving contexts c_t (the convolutions are causal; GroupNorm(1, C) normalises over
channels and time, so each c_t also sees the window's overall mean and variance, as in the code); from every c_t, predictions of z_{t+o+s} for s = 0..11 with
one linear map per step, where o = 3 is the encoder's receptive field in latent steps (the
wav2vec "offset"); InfoNCE against 10 negatives drawn from other timesteps of the same window,
the logit a plain dot product. For the probe the aggregator output is max-pooled over time.
``aggregator="gru"`` gives the 2021 aggregator instead (2-layer GRU, 256 units, dropout 0.2;
probe features are its last output), with the same prediction task.
Assumed: the loss is averaged over all (window, context, step) predictions; each step's linear
map has its own bias (the code's ConvTranspose2d shares one).
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
from .encoders import check_axes_last
from .normalization import Standardize, StandardizedConfig
from .recipe import ConstantRateAdam

ENCODER_LAYERS: tuple[tuple[int, int, int], ...] = ((32, 4, 2), (64, 4, 2), (128, 1, 1), (256, 1, 1))  # (channels, kernel, stride)
AGGREGATOR_KERNELS: tuple[int, ...] = (2, 3, 4, 5, 6)  # the enhanced code's first 5 conv aggregator layers
WIDTH: int = 256  # latent and context features


def latent_length(samples: int) -> int:
    """Number of latents z_t the encoder makes from a window of ``samples`` samples."""
    for _, kernel, stride in ENCODER_LAYERS:
        samples = (samples - kernel) // stride + 1
    return samples


def receptive_offset() -> int:
    """The encoder's receptive field in latent steps, rounded up (fairseq wav2vec's ``offset``): 3."""
    field, jump = 0, 0
    for _, kernel, stride in ENCODER_LAYERS:
        field = kernel if field == 0 else field + (kernel - 1) * jump
        jump = stride if jump == 0 else jump * stride
    return math.ceil(field / jump)


@dataclass(frozen=True)
class CPCHARConfig(StandardizedConfig):
    aggregator: str = "conv"  # "conv": causal conv aggregator (enhanced CPC); "gru": 2-layer GRU (CPC 2021)
    prediction_steps: int = 12  # future latents predicted from each context (enhanced code)
    negatives: int = 10  # negatives per prediction, other timesteps of the same window (enhanced code)
    lr: float = 1e-3  # Adam learning rate, constant (enhanced code)
    weight_decay: float = 0.0  # (enhanced code; the paper grid-searches 0, 1e-3, 1e-4)
    dropout: float = 0.2  # encoder dropout (enhanced code)

    def __post_init__(self) -> None:
        super().__post_init__()  # the statistics become tuples first
        check_field_types(self)
        if self.aggregator not in ("conv", "gru"):
            raise ValueError(f"aggregator={self.aggregator!r}; expected 'conv' or 'gru'")
        if self.prediction_steps < 1 or self.negatives < 1 or self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(f"prediction_steps={self.prediction_steps}, negatives={self.negatives}, lr={self.lr}, "
                             f"weight_decay={self.weight_decay}; expected positive counts and rate, weight_decay >= 0")


class CPCEncoder(nn.Module):
    """Strided conv encoder: windows (N, T, 3), T >= 10 -> latents (N, 256, latent_length(T))."""

    def __init__(self, dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 3
        for channels, kernel, stride in ENCODER_LAYERS:
            layers += [nn.Conv1d(width, channels, kernel, stride=stride, bias=False), nn.ReLU(), nn.Dropout(dropout)]
            width = channels
        self.blocks = nn.Sequential(*layers)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        check_axes_last(windows)
        if latent_length(windows.shape[1]) < 1:
            raise ValueError(f"windows have T={windows.shape[1]} samples; the CPC encoder needs at least 10")
        return self.blocks(windows.transpose(1, 2))  # (N, 3, T) -> (N, 256, L)


class CausalConvAggregator(nn.Module):
    """Contexts c_t by causal convolutions over z_1..z_t (GroupNorm over the whole window): (N, 256, L) -> (N, 256, L)."""

    def __init__(self, kernels: tuple[int, ...] = AGGREGATOR_KERNELS) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReplicationPad1d((k - 1, 0)), nn.Conv1d(WIDTH, WIDTH, k), nn.GroupNorm(1, WIDTH), nn.ReLU())
            for k in kernels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            z = (block(z) + z) * math.sqrt(0.5)  # residual, scaled as in the enhanced code
        return z


class GRUAggregator(nn.Module):
    """The 2021 aggregator: (N, 256, L) -> (N, 256, L) outputs of a 2-layer GRU."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(WIDTH, WIDTH, num_layers=2, dropout=0.2, batch_first=True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(z.transpose(1, 2))  # (N, L, 256)
        return out.transpose(1, 2)


class CPCFeatures(nn.Module):
    """Encoder + aggregator + pooling over time: standardised (N, T, 3) -> (N, 256)."""

    def __init__(self, encoder: nn.Module, aggregator: nn.Module, pooling: str) -> None:
        super().__init__()
        self.encoder, self.aggregator, self.pooling = encoder, aggregator, pooling

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        c = self.aggregator(self.encoder(windows))  # (N, 256, L)
        return c.amax(dim=2) if self.pooling == "max" else c[:, :, -1]


class CPCHAR(ConstantRateAdam, nn.Module):  # Adam at a constant rate (the enhanced code uses no schedule)
    """Standardize, CPCEncoder, aggregator and the per-step prediction maps."""

    def __init__(self, config: CPCHARConfig = CPCHARConfig()) -> None:
        super().__init__()
        self.config = config
        self.standardize = Standardize(config.mean, config.std)
        self.encoder = CPCEncoder(config.dropout)
        self.aggregator = CausalConvAggregator() if config.aggregator == "conv" else GRUAggregator()
        self.predict = nn.Linear(WIDTH, WIDTH * config.prediction_steps)  # one linear map per step, stacked
        self.offset = receptive_offset()

    def loss(self, windows: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """Raw windows (N, T, 3) in g -> scalar InfoNCE over every context and step (T >= 66 by default)."""
        x = check_windows(windows)
        steps, k = self.config.prediction_steps, self.config.negatives
        z = self.encoder(self.standardize(x.to(self.standardize.mean.device)))  # (N, C, L)
        n, c, length = z.shape
        if length < self.offset + steps:
            raise ValueError(f"windows of T={x.shape[1]} samples give {length} latents; predicting {steps} steps "
                             f"from offset {self.offset} needs at least {self.offset + steps}")
        prediction = self.predict(self.aggregator(z).transpose(1, 2)).view(n, length, steps, c)  # (N, L, S, C)
        scores = torch.einsum("ntsc,ncu->ntsu", prediction, z)  # (N, L, S, L): every prediction . every latent
        index = torch.randint(length - 1, (n, length, k), generator=generator)  # (N, L, K) negatives of target u
        index += index >= torch.arange(length).view(1, length, 1)  # skip the positive's own timestep
        candidates = torch.cat([torch.arange(length).expand(n, length).unsqueeze(2), index], dim=2)  # (N, L, 1 + K)
        candidates = candidates.to(z.device)
        logits = [scores[:, : length - (self.offset + s), s].gather(2, candidates[:, self.offset + s:])  # target u = t + o + s
                  .reshape(-1, 1 + k) for s in range(steps)]  # each (N (L - o - s), 1 + K), positive first
        logits = torch.cat(logits)
        return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))

    def backbone(self) -> nn.Module:
        """A copy of Standardize + encoder + aggregator + pooling: raw (N, T, 3) in g -> (N, 256); eval mode."""
        pooling = "max" if self.config.aggregator == "conv" else "last"
        features = CPCFeatures(copy.deepcopy(self.encoder), copy.deepcopy(self.aggregator), pooling)
        return nn.Sequential(copy.deepcopy(self.standardize), features).eval()
