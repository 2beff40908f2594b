"""Tests of img2imu_lib.datasets.perturbations: the raw-signal perturbations of Table I and Fig. 6."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import img2imu_lib as L
from img2imu_lib.datasets.perturbations import random_rotations


@pytest.fixture
def windows(rng) -> np.ndarray:
    return rng.normal(size=(8, 200, 3)).astype(np.float32)


def test_rotations_are_proper(generator):
    r = random_rotations(100, generator=generator).double()
    torch.testing.assert_close(r @ r.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(100, 3, 3), rtol=0, atol=1e-6)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(100, dtype=torch.float64), rtol=0, atol=1e-6)


def test_rotate_keeps_norms_and_changes_axes(windows, generator):
    out = L.rotate(windows, generator=generator)
    torch.testing.assert_close(out.norm(dim=2), torch.from_numpy(windows).norm(dim=2), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(out, torch.from_numpy(windows), atol=1e-2)


def test_zero_angle_rotation_is_identity(windows, generator):
    torch.testing.assert_close(L.rotate(windows, generator=generator, max_angle_deg=0.0), torch.from_numpy(windows))


def test_time_shift_is_a_circular_roll(windows, generator):
    out = L.time_shift(windows, generator=generator).numpy()
    for before, after in zip(windows, out):
        shifts = [s for s in range(-60, 61) if np.array_equal(np.roll(before, s, axis=0), after)]
        assert len(shifts) == 1  # exactly one roll within +-30 % of 200 samples explains the output


def test_mask_permute_keeps_samples_and_local_order(windows, generator):
    out = L.mask(windows, generator=generator, n_segments=4).numpy()
    for before, after in zip(windows, out):
        np.testing.assert_array_equal(np.sort(before, axis=0), np.sort(after, axis=0))
        segments = [after[i * 50 : (i + 1) * 50] for i in range(4)]
        originals = [before[i * 50 : (i + 1) * 50] for i in range(4)]
        assert all(any(np.array_equal(s, o) for o in originals) for s in segments)


def test_mask_blank_sets_one_segment_to_the_mean(windows, generator):
    out = L.mask(windows, generator=generator, n_segments=4, mode="blank").numpy()
    for before, after in zip(windows, out):
        changed = [i for i in range(4) if not np.array_equal(before[i * 50 : (i + 1) * 50], after[i * 50 : (i + 1) * 50])]
        assert len(changed) == 1
        np.testing.assert_allclose(after[changed[0] * 50], before.mean(axis=0), rtol=0, atol=1e-6)


def test_noise_is_bounded_and_zero_mean(generator):
    x = np.zeros((50, 500, 3), dtype=np.float32)
    noise = L.add_noise(x, generator=generator, amplitude=0.1).numpy()
    assert np.abs(noise).max() <= 0.1
    assert abs(noise.mean()) < 6 * 0.1 / np.sqrt(3) / np.sqrt(noise.size)


@pytest.mark.parametrize("name", sorted(L.SENSORY_PERTURBATIONS))
def test_seeded_and_pure(name, windows):
    perturb = L.SENSORY_PERTURBATIONS[name]
    before = windows.copy()
    first = perturb(windows, generator=torch.Generator().manual_seed(1))
    second = perturb(windows, generator=torch.Generator().manual_seed(1))
    np.testing.assert_array_equal(windows, before)
    assert torch.equal(first, second) and first.shape == windows.shape


def test_bad_arguments_raise(windows, generator):
    with pytest.raises(ValueError, match="mode='drop'; expected 'permute' or 'blank'"):
        L.mask(windows, generator=generator, mode="drop")
    with pytest.raises(ValueError, match=r"n_segments=1; expected 2 <= n_segments <= T=200"):
        L.mask(windows, generator=generator, n_segments=1)
    with pytest.raises(ValueError, match="amplitude=-0.1; expected >= 0"):
        L.add_noise(windows, generator=generator, amplitude=-0.1)
    with pytest.raises(ValueError, match=r"expected \(N, T, 3\)"):
        L.rotate(windows[..., :2], generator=generator)
