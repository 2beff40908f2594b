"""Perturbations of raw IMU windows (N, T, 3), the "sensory augmentations" of Table I and Fig. 6.

After Um et al. (2017): the paper builds four perturbed copies of its test data, time-shifted,
masked, rotated and noised, to see which image augmentation buys robustness to which
perturbation. Randomness comes from an injected ``torch.Generator``, one draw per window; the
input is never mutated. The paper gives no magnitudes: the defaults are our assumptions.
"""

from __future__ import annotations

import torch

from .windows import check_windows


def time_shift(windows: torch.Tensor, *, generator: torch.Generator, max_fraction: float = 0.3) -> torch.Tensor:
    """Shift each window left or right in time by up to ``max_fraction`` of its length.

    The shift is circular (samples leaving one end come back at the other), so no sample is
    invented and the window keeps its content. windows: (N, T, 3) -> (N, T, 3).
    """
    x = check_windows(windows)
    n, t, _ = x.shape
    limit = int(round(max_fraction * t))
    shifts = torch.randint(-limit, limit + 1, (n, 1), generator=generator)
    source = (torch.arange(t).view(1, t) - shifts) % t  # (N, T)
    return x.gather(1, source.unsqueeze(-1).expand(n, t, 3))


def mask(
    windows: torch.Tensor, *, generator: torch.Generator, n_segments: int = 4, mode: str = "permute"
) -> torch.Tensor:
    """Break the global structure of each window, keeping local structure.

    ``mode="permute"``: cut into ``n_segments`` equal segments and shuffle them (Um et al.).
    ``mode="blank"``: set one random segment to the window's mean, as a sensor drop-out would.
    windows: (N, T, 3) -> (N, T, 3).
    """
    x = check_windows(windows)
    n, t, _ = x.shape
    if not 2 <= n_segments <= t:
        raise ValueError(f"n_segments={n_segments}; expected 2 <= n_segments <= T={t}")
    bounds = torch.linspace(0, t, n_segments + 1).round().long()
    if mode == "permute":
        rows = []
        for _ in range(n):
            order = torch.randperm(n_segments, generator=generator)
            rows.append(torch.cat([torch.arange(bounds[j], bounds[j + 1]) for j in order]))
        source = torch.stack(rows)  # (N, T)
        return x.gather(1, source.unsqueeze(-1).expand(n, t, 3))
    if mode == "blank":
        which = torch.randint(n_segments, (n,), generator=generator)
        out = x.clone()
        means = x.mean(dim=1)  # (N, 3)
        for i in range(n):
            start, stop = bounds[which[i]], bounds[which[i] + 1]
            out[i, start:stop] = means[i]
        return out
    raise ValueError(f"mode={mode!r}; expected 'permute' or 'blank'")


def random_rotations(n: int, *, generator: torch.Generator, max_angle_deg: float = 180.0) -> torch.Tensor:
    """(n, 3, 3) rotation matrices about uniformly random axes by angles up to ``max_angle_deg``."""
    axis = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    axis = axis / axis.norm(dim=1, keepdim=True)
    angle = torch.deg2rad(torch.tensor(max_angle_deg, dtype=torch.float64)) * (2 * torch.rand(n, generator=generator, dtype=torch.float64) - 1)
    kx, ky, kz = axis.unbind(1)
    zero = torch.zeros_like(kx)
    k = torch.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], dim=1).view(n, 3, 3)  # cross-product matrix
    eye = torch.eye(3, dtype=torch.float64).expand(n, 3, 3)
    s, c = torch.sin(angle).view(n, 1, 1), torch.cos(angle).view(n, 1, 1)
    return (eye + s * k + (1 - c) * (k @ k)).to(torch.float32)  # Rodrigues' formula


def rotate(windows: torch.Tensor, *, generator: torch.Generator, max_angle_deg: float = 180.0) -> torch.Tensor:
    """Rotate each window's (x, y, z) samples by one random 3-D rotation, as a re-mounted sensor.

    windows: (N, T, 3) -> (N, T, 3); the norm of every sample is kept.
    """
    x = check_windows(windows)
    rotations = random_rotations(x.shape[0], generator=generator, max_angle_deg=max_angle_deg)
    return torch.einsum("nij,ntj->nti", rotations, x)  # (N, T, 3)


def add_noise(windows: torch.Tensor, *, generator: torch.Generator, amplitude: float = 0.1) -> torch.Tensor:
    """Add zero-centred uniform noise in [-amplitude, amplitude] (units of the input, g) to every sample."""
    x = check_windows(windows)
    if amplitude < 0:
        raise ValueError(f"amplitude={amplitude}; expected >= 0")
    return x + amplitude * (2 * torch.rand(x.shape, generator=generator) - 1)


SENSORY_PERTURBATIONS = {
    "time_shifted": time_shift,
    "masked": mask,
    "rotated": rotate,
    "noised": add_noise,
}
