"""Tests of img2imu_lib.images.augmentations: invariants, references, determinism, the one-of rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.transforms.v2 import functional as TF

import img2imu_lib as L
from img2imu_lib.images.augmentations import rotate_hue


@pytest.fixture
def images(generator) -> torch.Tensor:
    """Real-looking spectrogram images in [0, 1]: (6, 3, 96, 128)."""
    t = np.arange(500) / 50.0
    windows = np.stack([np.stack([np.sin(2 * np.pi * f * t + p) for p in (0, 1, 2)], axis=1) for f in (1, 2, 3, 5, 7, 11)])
    windows = windows + 0.05 * np.random.default_rng(0).normal(size=windows.shape)
    return L.spectrogram_images(windows.astype(np.float32), fs=50.0, normalize=False)


SENSOR_AWARE = [L.TranslateX(), L.PermuteX(), L.Hue(), L.Jitter()]
ALL = SENSOR_AWARE + [L.sensor_aware_augmentations(), L.sensor_aware_augmentations(cascade=True),
                      L.moco_v2_augmentations(), L.all_augmentations(), L.all_augmentations(cascade=True)]


def columns(image: torch.Tensor) -> torch.Tensor:
    """(3, H, W) -> (W, 3 * H): one row per time column."""
    return image.permute(2, 0, 1).reshape(image.shape[2], -1)


def test_permute_x_moves_whole_columns(images, generator):
    out = L.PermuteX()(images, generator=generator)
    for before, after in zip(images, out):
        a, b = columns(before), columns(after)
        # the output columns are exactly the input columns, reordered: same multiset
        torch.testing.assert_close(torch.sort(a, dim=0).values, torch.sort(b, dim=0).values, rtol=0, atol=0)
        distance = torch.cdist(b, a, compute_mode="donot_use_mm_for_euclid_dist")
        assert (distance.amin(dim=1) == 0).all()
    assert not torch.equal(out, images)


def test_translate_x_matches_a_loop_from_its_definition(images, generator):
    aug = L.TranslateX(max_fraction=0.25, fill=0.0)
    replay = torch.Generator().set_state(generator.get_state())
    out = aug(images, generator=generator)
    limit = round(0.25 * 128)
    shifts = torch.randint(-limit, limit + 1, (len(images), 1), generator=replay).flatten().tolist()
    for image, shift, result in zip(images.numpy(), shifts, out.numpy()):
        expected = np.zeros_like(image)  # shift right by `shift` columns, black where nothing moved in
        for j in range(128):
            if 0 <= j - shift < 128:
                expected[:, :, j] = image[:, :, j - shift]
        np.testing.assert_array_equal(result, expected)
    assert any(s != 0 for s in shifts)


def test_translate_x_keeps_column_spectra(images, generator):
    out = L.TranslateX(fill=-1.0)(images, generator=generator)
    for before, after in zip(images, out):
        a, b = columns(before), columns(after)
        moved = ~(b == -1.0).all(dim=1)
        distance = torch.cdist(b[moved], a, compute_mode="donot_use_mm_for_euclid_dist")
        assert (distance.amin(dim=1) == 0).all()


def test_translate_x_zero_is_identity(images, generator):
    torch.testing.assert_close(L.TranslateX(max_fraction=0.0)(images, generator=generator), images)


def test_hue_keeps_pixel_brightness(images, generator):
    out = L.Hue()(images, generator=generator)
    # brightness as HSV value (max over R, G, B) is kept up to float rounding (1e-5)
    torch.testing.assert_close(out.amax(dim=1), images.amax(dim=1), rtol=0, atol=1e-5)
    assert not torch.allclose(out, images, atol=1e-3)


def test_hue_third_turn_swaps_channels(images):
    swapped = TF.adjust_hue(images[0], 1 / 3)  # the operation Hue draws from, at one third of the circle
    torch.testing.assert_close(swapped[1], images[0, 0], rtol=0, atol=1e-5)  # R -> G
    torch.testing.assert_close(swapped[2], images[0, 1], rtol=0, atol=1e-5)  # G -> B
    torch.testing.assert_close(swapped[0], images[0, 2], rtol=0, atol=1e-5)  # B -> R


def test_rotate_hue_matches_torchvision_per_image(generator):
    x = torch.rand(16, 3, 24, 32, generator=generator)
    x[0, :, :4] = 0.5  # grey pixels: no hue
    x[1, 0] = x[1, 1]  # ties between the largest channels
    shifts = torch.rand(16, generator=generator) - 0.5
    expected = torch.stack([TF.adjust_hue(image, float(s)) for image, s in zip(x, shifts)])
    torch.testing.assert_close(rotate_hue(x, shifts), expected, rtol=0, atol=1e-5)


def test_hue_zero_is_identity(images, generator):
    torch.testing.assert_close(L.Hue(max_shift=0.0)(images, generator=generator), images, rtol=0, atol=1e-5)


def test_jitter_is_zero_mean_and_bounded(images, generator):
    big = images.repeat(20, 1, 1, 1)
    out = L.Jitter(max_amplitude=0.2)(big, generator=generator)
    noise = out - big
    assert noise.abs().max() <= 0.2 + 1e-6
    # mean of ~1.5 M uniform draws with std <= 0.2/sqrt(3): 6 standard errors is < 6e-4
    assert abs(noise.mean().item()) < 6e-4
    assert noise.std() > 0.01


def test_one_of_applies_exactly_one(generator):
    marks = [lambda x, generator: x + 1, lambda x, generator: x + 10, lambda x, generator: x + 100]
    x = torch.zeros(3000, 3, 4, 4)
    added = L.OneOf(marks)(x, generator=generator)[:, 0, 0, 0]
    values, counts = torch.unique(added, return_counts=True)
    assert values.tolist() == [1.0, 10.0, 100.0]
    assert counts.min() > 900  # uniform choice: about 1000 each
    assert torch.equal(L.Cascade(marks)(x[:5], generator=generator), torch.full_like(x[:5], 111.0))


def test_two_views_differ(images, generator):
    first, second = L.TwoViews(L.sensor_aware_augmentations(), L.sensor_aware_augmentations())(images, generator=generator)
    assert first.shape == second.shape == images.shape
    assert not torch.equal(first, second)


@pytest.mark.parametrize("aug", ALL, ids=lambda a: type(a).__name__)
def test_seeded_pure_and_shape_preserving(aug, images):
    before = images.clone()
    global_state = torch.get_rng_state()
    first = aug(images, generator=torch.Generator().manual_seed(7))
    second = aug(images, generator=torch.Generator().manual_seed(7))
    other = aug(images, generator=torch.Generator().manual_seed(8))
    assert torch.equal(images, before), "the input was mutated"
    assert torch.equal(torch.get_rng_state(), global_state), "the global RNG was used"
    assert first.shape == images.shape and first.dtype == images.dtype
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_subset_for_ablation(images, generator):
    only_hue = L.sensor_aware_augmentations(["hue"])
    out = only_hue(images, generator=generator)
    torch.testing.assert_close(out.amax(dim=1), images.amax(dim=1), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: L.sensor_aware_augmentations(["rotate"]), r"expected a non-empty subset of"),
        (lambda: L.sensor_aware_augmentations([]), r"expected a non-empty subset of"),
        (lambda: L.TranslateX(max_fraction=1.5), r"max_fraction=1.5; expected a fraction in \[0, 1\]"),
        (lambda: L.PermuteX(max_chunks=1), r"max_chunks=1; expected at least 2"),
        (lambda: L.Hue(max_shift=0.7), r"max_shift=0.7; expected a value in \[0, 0.5\]"),
        (lambda: L.Jitter(max_amplitude=-1), r"max_amplitude=-1; expected >= 0"),
        (lambda: L.ImageOp("flip"), r"unknown op 'flip'"),
    ],
)
def test_bad_settings_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_image_shape_raises(generator):
    with pytest.raises(ValueError, match=r"images have shape \(3, 96, 128\); expected \(N, 3, H, W\)"):
        L.Jitter()(torch.zeros(3, 96, 128), generator=generator)
