"""Small raw windows in g shared by the sensor tests: gravity plus a per-window oscillation."""

from __future__ import annotations

import math

import pytest
import torch


def make_windows(n: int, t: int, *, seed: int = 0) -> torch.Tensor:
    """(n, t, 3) float32 in g: a random gravity direction, a 0.5-3 Hz oscillation at 50 Hz and noise."""
    g = torch.Generator().manual_seed(seed)
    gravity = torch.nn.functional.normalize(torch.randn(n, 1, 3, generator=g), dim=2)
    freq = 0.5 + 2.5 * torch.rand(n, 1, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 1, 3, generator=g)
    time = torch.arange(t).view(1, t, 1) / 50.0
    amplitude = 0.5 * torch.rand(n, 1, 3, generator=g)
    return gravity + amplitude * torch.sin(2 * math.pi * freq * time + phase) + 0.02 * torch.randn(n, t, 3, generator=g)


def make_aperiodic_windows(n: int, t: int, *, seed: int = 0) -> torch.Tensor:
    """(n, t, 3) float32 in g: gravity plus smoothed noise (box of 8 samples), so no two stretches look alike."""
    g = torch.Generator().manual_seed(seed)
    gravity = torch.nn.functional.normalize(torch.randn(n, 1, 3, generator=g), dim=2)
    noise = torch.randn(n * 3, 1, t + 7, generator=g)
    smooth = torch.nn.functional.avg_pool1d(noise, 8, stride=1).view(n, 3, t).transpose(1, 2)  # (n, t, 3)
    return gravity + smooth


@pytest.fixture
def windows() -> torch.Tensor:
    return make_windows(8, 100)
