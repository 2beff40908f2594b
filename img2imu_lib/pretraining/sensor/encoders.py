"""The two sensor encoders of the paper's sensor baselines (Section V-A4).

``CNN1D`` is the 1D CNN that Haresamudram et al. (2022, "Assessing the state of self-supervised
human activity recognition using wearables") use for every method they assess and that the
paper replicates for SimCLR, multi-task and the randomly initialised row: three blocks of
Conv1d (kernels 24, 16, 8; 32, 64, 96 channels; no padding, as Keras's "valid"), ReLU and
dropout 0.1, then global max pooling over time -> 96 features (Saeed et al. 2019; Tang et al.
2020). The Keras originals also put an L2 penalty of 1e-4 on the kernels; here that is left
to the optimiser's weight decay.

``LimuBertEncoder`` is LIMU-BERT's transformer (Xu et al. 2021): a linear projection of each
sample to 72 features, LayerNorm, a learned positional embedding, LayerNorm, then ONE post-norm
transformer layer (4 heads, feed-forward 144, GELU) applied 4 times (ALBERT-style shared weights).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .normalization import Standardize

CNN_KERNELS: tuple[int, int, int] = (24, 16, 8)  # Haresamudram et al. 2022 / Saeed et al. 2019
CNN_CHANNELS: tuple[int, int, int] = (32, 64, 96)
CNN_MIN_SAMPLES: int = sum(CNN_KERNELS) - len(CNN_KERNELS) + 1  # 46: shortest window leaving one output step


def check_axes_last(windows: torch.Tensor) -> None:
    """ValueError unless ``windows`` is (N, T, 3)."""
    if windows.ndim != 3 or windows.shape[-1] != 3:
        raise ValueError(f"windows have shape {tuple(windows.shape)}; expected (N, T, 3) with axes last")


class CNN1D(nn.Module):
    """Per-timestep 1D CNN of the assessment; ``forward`` pools over time, ``features`` does not."""

    out_features: int = CNN_CHANNELS[-1]

    def __init__(self, dropout: float = 0.1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 3
        for kernel, channels in zip(CNN_KERNELS, CNN_CHANNELS):
            layers += [nn.Conv1d(width, channels, kernel), nn.ReLU(), nn.Dropout(dropout)]
            width = channels
        self.blocks = nn.Sequential(*layers)

    def features(self, windows: torch.Tensor) -> torch.Tensor:
        """windows (N, T, 3), T >= 46 -> per-timestep features (N, 96, T - 45)."""
        check_axes_last(windows)
        if windows.shape[1] < CNN_MIN_SAMPLES:
            raise ValueError(f"windows have T={windows.shape[1]} samples; the 1D CNN (kernels {CNN_KERNELS}, "
                             f"no padding) needs at least {CNN_MIN_SAMPLES}")
        return self.blocks(windows.transpose(1, 2))  # (N, 3, T) -> (N, 96, T - 45)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """windows (N, T, 3) standardised, T >= 46 -> (N, 96) by global max pooling over time."""
        return self.features(windows).amax(dim=2)


def reset_parameters(module: nn.Module, *, generator: torch.Generator) -> nn.Module:
    """Redraw every Conv1d / Linear weight and bias with PyTorch's default init, from ``generator``."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv1d, nn.Linear)):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                bound = 1.0 / math.sqrt(layer.weight[0].numel())  # 1 / sqrt(fan_in)
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return module


def random_init_backbone(seed: int, *, mean: Sequence[float] = (0.0, 0.0, 0.0),
                         std: Sequence[float] = (1.0, 1.0, 1.0)) -> nn.Module:
    """The "Randomly-init. (1D)" row of Table II: Standardize(mean, std) then an untrained CNN1D.

    Raw windows (N, T, 3) in g -> (N, 96); weights drawn from ``seed`` only; returned in eval mode.
    Pass the pre-training corpus's ``fit_corpus_stats`` so it sees the same inputs as the others.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed={seed!r}; expected a non-negative int")
    encoder = reset_parameters(CNN1D(), generator=torch.Generator().manual_seed(seed))
    return nn.Sequential(Standardize(mean, std), encoder).eval()


class LimuBertEncoder(nn.Module):
    """LIMU-BERT's embedding and shared-weight transformer: (N, T, 3) -> hidden states (N, T, hidden)."""

    def __init__(self, *, hidden: int = 72, layers: int = 4, heads: int = 4, feed_forward: int = 144,
                 max_len: int = 500, dropout: float = 0.0) -> None:
        super().__init__()
        self.layers, self.max_len = layers, max_len
        self.project = nn.Linear(3, hidden)
        self.embed_norm = nn.LayerNorm(hidden)
        self.position = nn.Embedding(max_len, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.block = nn.TransformerEncoderLayer(hidden, heads, feed_forward, dropout=dropout, activation="gelu",
                                                batch_first=True)  # post-norm, as BERT and LIMU-BERT

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """windows (N, T, 3) standardised, 1 <= T <= max_len -> last hidden states (N, T, hidden)."""
        check_axes_last(windows)
        t = windows.shape[1]
        if not 1 <= t <= self.max_len:
            raise ValueError(f"windows have T={t} samples; the positional embedding covers 1..{self.max_len}")
        h = self.embed_norm(self.project(windows))  # (N, T, hidden)
        h = self.norm(h + self.position(torch.arange(t, device=windows.device)))  # (T, hidden) broadcast over N
        for _ in range(self.layers):
            h = self.block(h)  # the same weights every time
        return h


class MeanOverTime(nn.Module):
    """Wraps a sequence encoder (N, T, 3) -> (N, T, F) into a feature extractor (N, T, 3) -> (N, F)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.encoder(windows).mean(dim=1)
