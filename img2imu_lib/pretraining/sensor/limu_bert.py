"""LIMU-BERT (Xu et al. 2021, "LIMU-BERT: unleashing the potential of unlabeled data for IMU
sensing applications"), masked reconstruction, the "LIMU-BERT" row of Table II.

Taken from LIMU-BERT (paper and released code): the shared-weight transformer
(``LimuBertEncoder``: hidden 72, 4 layers sharing one set of weights, 4 heads, feed-forward 144,
learned positional embedding); span masking of 15% of the timesteps, span lengths from a
geometric distribution (p = 0.2) truncated at 10, anchors drawn until the goal count is met;
with probability 0.8 the masked timesteps of a window are set to zero, otherwise left as they
are; a prediction head Dense - GELU - LayerNorm - Dense(3) on the masked positions only; MSE
against the original values; Adam with learning rate 1e-3.
Assumed: inputs are the 3 accelerometer axes standardised with the corpus statistics (LIMU-BERT
feeds 6 axes, acceleration divided by 9.8), so zero is the corpus mean; the positional
embedding covers 500 samples (10 s at 50 Hz; LIMU-BERT's 120 at 20 Hz); no dropout; a span may
run to the last timestep (the code stops one short). The probe's features are the mean over
time of the last hidden states (72 features): LIMU-BERT feeds the whole sequence to a GRU
classifier, which a linear probe cannot take.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ...checks import check_field_types
from ...datasets.windows import check_windows
from .encoders import LimuBertEncoder, MeanOverTime
from .normalization import Standardize, StandardizedConfig
from .recipe import ConstantRateAdam


@dataclass(frozen=True)
class LimuBertConfig(StandardizedConfig):
    hidden: int = 72  # transformer width (LIMU-BERT)
    layers: int = 4  # times the one shared layer is applied (LIMU-BERT)
    heads: int = 4  # attention heads (LIMU-BERT)
    feed_forward: int = 144  # feed-forward width (LIMU-BERT)
    max_len: int = 500  # longest window in samples (10 s at 50 Hz; assumed)
    dropout: float = 0.0  # transformer dropout (assumed: LIMU-BERT uses none)
    mask_ratio: float = 0.15  # fraction of timesteps masked (LIMU-BERT)
    max_span: int = 10  # longest masked span (LIMU-BERT's max_gram)
    span_p: float = 0.2  # geometric parameter of span lengths (LIMU-BERT)
    mask_prob: float = 0.8  # chance a window's masked timesteps are zeroed, else left unchanged (LIMU-BERT)
    lr: float = 1e-3  # Adam learning rate, constant (LIMU-BERT)
    weight_decay: float = 0.0  # (the paper grid-searches 0, 1e-3, 1e-4)

    def __post_init__(self) -> None:
        super().__post_init__()  # the statistics become tuples first
        check_field_types(self)
        if self.hidden % self.heads != 0 or min(self.hidden, self.layers, self.heads, self.feed_forward, self.max_len) < 1:
            raise ValueError(f"hidden={self.hidden}, heads={self.heads}, layers={self.layers}; expected positive sizes, "
                             "hidden divisible by heads")
        if not 0 < self.mask_ratio < 1 or not 0 < self.span_p <= 1 or not 0 <= self.mask_prob <= 1 or self.max_span < 1:
            raise ValueError(f"mask_ratio={self.mask_ratio}, span_p={self.span_p}, mask_prob={self.mask_prob}, "
                             f"max_span={self.max_span}; expected fractions in range and max_span >= 1")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(f"lr={self.lr}, weight_decay={self.weight_decay}; expected lr > 0, weight_decay >= 0")


def span_mask(length: int, *, count: int, max_span: int, p: float, generator: torch.Generator) -> torch.Tensor:
    """``count`` distinct sorted timesteps of a window of ``length``, masked in spans (LIMU-BERT).

    Span lengths follow a geometric distribution truncated at ``max_span``; a span is cut short
    so the total never exceeds ``count``; an anchor already masked is redrawn.
    """
    if not 1 <= count < length:
        raise ValueError(f"count={count}; expected 1 <= count < length={length}")
    lengths = torch.arange(1, max_span + 1)
    weights = p * (1 - p) ** (lengths - 1).double()  # truncated geometric
    chosen: set[int] = set()
    while len(chosen) < count:
        span = int(lengths[torch.multinomial(weights, 1, generator=generator)])
        span = min(span, count - len(chosen))
        anchor = int(torch.randint(length, (1,), generator=generator))
        if anchor in chosen:
            continue
        chosen.update(range(anchor, min(anchor + span, length)))
    return torch.tensor(sorted(chosen))


class LimuBert(ConstantRateAdam, nn.Module):  # Adam at a constant rate (LIMU-BERT uses no schedule)
    """Standardize, LIMU-BERT transformer and its reconstruction head."""

    def __init__(self, config: LimuBertConfig = LimuBertConfig()) -> None:
        super().__init__()
        self.config = config
        self.standardize = Standardize(config.mean, config.std)
        self.encoder = LimuBertEncoder(hidden=config.hidden, layers=config.layers, heads=config.heads,
                                       feed_forward=config.feed_forward, max_len=config.max_len, dropout=config.dropout)
        self.head = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.GELU(), nn.LayerNorm(config.hidden),
                                  nn.Linear(config.hidden, 3))

    def mask(self, windows: torch.Tensor, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardised windows (N, T, 3) -> masked copy (N, T, 3) and masked positions (N, M), M = round(0.15 T)."""
        n, t, _ = windows.shape
        count = max(1, round(self.config.mask_ratio * t))
        positions = torch.stack([span_mask(t, count=count, max_span=self.config.max_span, p=self.config.span_p,
                                           generator=generator) for _ in range(n)])  # (N, M)
        zeroed = torch.rand(n, generator=generator) < self.config.mask_prob  # (N,), else left unchanged
        rows = torch.arange(n).view(n, 1).expand_as(positions)[zeroed]  # (Z, M)
        masked = windows.clone()
        masked[rows, positions[zeroed].to(windows.device)] = 0.0
        return masked, positions

    def loss(self, windows: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """Raw windows (N, T, 3) in g, 2 <= T <= max_len -> scalar MSE on the masked timesteps."""
        x = self.standardize(check_windows(windows).to(self.standardize.mean.device))
        masked, positions = self.mask(x, generator=generator)
        index = positions.to(x.device).unsqueeze(-1)  # (N, M, 1)
        hidden = self.encoder(masked).gather(1, index.expand(-1, -1, self.config.hidden))  # (N, M, hidden)
        target = x.gather(1, index.expand(-1, -1, 3))  # (N, M, 3)
        return F.mse_loss(self.head(hidden), target)

    def backbone(self) -> nn.Module:
        """A copy of Standardize + transformer + mean over time: raw (N, T, 3) in g -> (N, 72); eval mode."""
        return nn.Sequential(copy.deepcopy(self.standardize), MeanOverTime(copy.deepcopy(self.encoder))).eval()
