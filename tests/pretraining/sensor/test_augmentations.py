"""Tests of the sensor transformations: exact cases, invariants, determinism, no mutation."""

from __future__ import annotations

import pytest
import torch

from img2imu_lib.pretraining.sensor.augmentations import channel_shuffle, gaussian_noise, negate, scale, time_flip, time_warp
from img2imu_lib.pretraining.sensor.multitask import TRANSFORMATIONS


def test_scale_is_one_factor_per_window_and_axis(windows, generator):
    out = scale(windows, generator=generator, sigma=0.1)
    ratio = out / windows  # (N, T, 3), constant over time
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(ratio[:, 0, 0], ratio[:, 0, 1])
    torch.testing.assert_close(scale(windows, generator=generator, sigma=0.0), windows)


def test_noise_has_the_requested_std(generator):
    zeros = torch.zeros(64, 200, 3)
    out = gaussian_noise(zeros, generator=generator, sigma=0.05)
    assert out.std().item() == pytest.approx(0.05, rel=0.02)  # 38,400 draws: std error ~0.4%


def test_negate_and_time_flip_are_exact(windows):
    torch.testing.assert_close(negate(windows), -windows)
    torch.testing.assert_close(time_flip(windows), windows[:, torch.arange(99, -1, -1)])


def test_channel_shuffle_permutes_axes_never_identity(generator):
    x = torch.tensor([1.0, 2.0, 3.0]).expand(200, 10, 3)
    out = channel_shuffle(x, generator=generator)
    assert torch.equal(out.sort(dim=2).values, x)
    assert not (out[:, 0] == x[:, 0]).all(dim=1).any()
    assert len({tuple(row.tolist()) for row in out[:, 0]}) == 5


def test_time_warp_without_distortion_is_identity(windows, generator):
    torch.testing.assert_close(time_warp(windows, generator=generator, sigma=0.0), windows, atol=1e-5, rtol=0)


def test_time_warp_keeps_endpoints_and_range(windows, generator):
    out = time_warp(windows, generator=generator, sigma=0.2)
    torch.testing.assert_close(out[:, [0, -1]], windows[:, [0, -1]], atol=1e-5, rtol=0)
    assert (out <= windows.amax(dim=1, keepdim=True) + 1e-6).all()
    assert (out >= windows.amin(dim=1, keepdim=True) - 1e-6).all()
    assert not torch.allclose(out, windows, atol=1e-3)


def test_time_warp_of_a_ramp_is_monotone(generator):
    ramp = torch.linspace(0, 1, 100).view(1, 100, 1).expand(4, 100, 3).contiguous()
    out = time_warp(ramp, generator=generator)
    assert (out.diff(dim=1) >= -1e-6).all()


@pytest.mark.parametrize("name", list(TRANSFORMATIONS))
def test_transformations_are_seeded_and_pure(name, windows):
    before = windows.clone()
    first = TRANSFORMATIONS[name](windows, generator=torch.Generator().manual_seed(3))
    second = TRANSFORMATIONS[name](windows, generator=torch.Generator().manual_seed(3))
    assert first.shape == windows.shape
    torch.testing.assert_close(first, second)
    torch.testing.assert_close(windows, before)
    assert not torch.allclose(first, windows)


def test_bad_magnitudes_raise(windows, generator):
    with pytest.raises(ValueError, match="sigma=-1"):
        scale(windows, generator=generator, sigma=-1)
    with pytest.raises(ValueError, match="knots=0"):
        time_warp(windows, generator=generator, knots=0)
