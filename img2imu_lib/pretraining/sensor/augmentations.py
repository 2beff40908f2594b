"""The signal transformations of the sensor baselines, on raw windows (N, T, 3) in g.

After the transformation code shared by Saeed et al. (2019) and Tang et al. (2020): Gaussian
noise (sigma 0.05 g), per-axis scaling by N(1, 0.1), negation, time reversal ("horizontal
flip"), a non-identity permutation of the axes, and time warping (random smooth speed curve
with sigma 0.2 and 4 knots). Rotation and segment permutation are the repo's
``img2imu_lib.datasets.perturbations.rotate`` and ``mask(mode="permute")``. All take the same keyword-only
``generator`` (unused by the deterministic ones) so they can sit in one list; none mutates its
input. Simplification: time warping interpolates the knots linearly instead of with a cubic
spline.
"""

from __future__ import annotations

import itertools

import torch

from ...datasets.windows import check_windows

_AXIS_ORDERS = torch.tensor(list(itertools.permutations(range(3)))[1:])  # (5, 3), the identity left out


def scale(windows: torch.Tensor, *, generator: torch.Generator, sigma: float = 0.1) -> torch.Tensor:
    """Multiply each axis of each window by its own factor drawn from N(1, sigma). (N, T, 3) -> (N, T, 3)."""
    x = check_windows(windows)
    if sigma < 0:
        raise ValueError(f"sigma={sigma}; expected >= 0")
    factors = 1.0 + sigma * torch.randn(x.shape[0], 1, 3, generator=generator)  # (N, 1, 3)
    return x * factors


def gaussian_noise(windows: torch.Tensor, *, generator: torch.Generator, sigma: float = 0.05) -> torch.Tensor:
    """Add zero-mean Gaussian noise of std ``sigma`` (g) to every sample. (N, T, 3) -> (N, T, 3)."""
    x = check_windows(windows)
    if sigma < 0:
        raise ValueError(f"sigma={sigma}; expected >= 0")
    return x + sigma * torch.randn(x.shape, generator=generator)


def negate(windows: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """-x: every sample's sign inverted (deterministic). (N, T, 3) -> (N, T, 3)."""
    return -check_windows(windows)


def time_flip(windows: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Reverse time in each window, the "horizontal flip" (deterministic). (N, T, 3) -> (N, T, 3)."""
    return check_windows(windows).flip(1)


def channel_shuffle(windows: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
    """Reorder the (x, y, z) axes of each window by one of the 5 non-identity permutations."""
    x = check_windows(windows)
    orders = _AXIS_ORDERS[torch.randint(len(_AXIS_ORDERS), (x.shape[0],), generator=generator)]  # (N, 3)
    return x.gather(2, orders.unsqueeze(1).expand(-1, x.shape[1], -1))


def time_warp(windows: torch.Tensor, *, generator: torch.Generator, sigma: float = 0.2, knots: int = 4) -> torch.Tensor:
    """Stretch and compress time smoothly, independently per window and axis.

    A speed curve through ``knots + 2`` evenly spaced values drawn from N(1, sigma) (linear
    between knots, floored at 0.01), integrated, gives monotone warped time stamps spanning
    [0, T - 1]; the output at stamp t is the input read where the warped time equals t, by
    linear interpolation (numpy's ``interp(t, warped, x)``). (N, T, 3) -> (N, T, 3).
    """
    x = check_windows(windows)
    if knots < 1 or sigma < 0:
        raise ValueError(f"knots={knots}, sigma={sigma}; expected knots >= 1 and sigma >= 0")
    n, t, _ = x.shape
    rows = x.permute(0, 2, 1).reshape(n * 3, t)  # (R, T), one row per window and axis
    values = 1.0 + sigma * torch.randn(n * 3, 1, knots + 2, generator=generator)  # (R, 1, K + 2)
    speed = torch.nn.functional.interpolate(values, size=t, mode="linear", align_corners=True)[:, 0]  # (R, T)
    warped = speed.clamp_min(0.01).cumsum(1)
    warped = (warped - warped[:, :1]) / (warped[:, -1:] - warped[:, :1]) * (t - 1)  # (R, T), 0 .. T - 1
    stamps = torch.arange(t, dtype=x.dtype).expand(n * 3, t).contiguous()
    right = torch.searchsorted(warped, stamps).clamp(1, t - 1)  # (R, T), warped[right - 1] <= t <= warped[right]
    lo, hi = warped.gather(1, right - 1), warped.gather(1, right)
    weight = ((stamps - lo) / (hi - lo)).clamp(0.0, 1.0)
    out = torch.lerp(rows.gather(1, right - 1), rows.gather(1, right), weight)  # (R, T)
    return out.view(n, 3, t).permute(0, 2, 1).contiguous()  # (N, T, 3)
