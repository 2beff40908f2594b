"""Tests of img2imu_lib.images.spectrogram: hand-derived answers, a scipy reference, invariants, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import spectrogram
from scipy.stats import spearmanr
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as TF

import img2imu_lib as L
from img2imu_lib.images.spectrogram import POWER_FLOOR, resize_matrices

FS = 50.0


def scipy_power(windows: np.ndarray, *, fs: float, nfft: int, noverlap: int) -> np.ndarray:
    """Reference: scipy per window and axis, float64; (N, 3, F, M)."""
    nperseg = min(nfft, windows.shape[1])
    if nperseg < nfft:
        noverlap = 0
    out = []
    for window in windows.astype(np.float64):
        axes = [spectrogram(window[:, a], fs=fs, window="hann", nperseg=nperseg, noverlap=noverlap, nfft=nfft,
                            detrend=False, scaling="density", mode="psd")[2] for a in range(3)]
        out.append(np.stack(axes))
    return np.stack(out)


def reference_images(windows: np.ndarray, *, fs: float, nfft: int, noverlap: int) -> torch.Tensor:
    """Slow, obvious pipeline: per window and axis, scipy -> log10 -> min-max -> flip, then resize, normalise."""
    images = []
    for power in scipy_power(windows, fs=fs, nfft=nfft, noverlap=noverlap):
        channels = []
        for axis_power in power:
            log_power = np.log10(np.maximum(axis_power, POWER_FLOOR))
            unit = (log_power - log_power.min()) / (log_power.max() - log_power.min())
            channels.append(np.flipud(unit))
        image = torch.from_numpy(np.stack(channels).astype(np.float32))
        image = TF.resize(image, [96, 128], interpolation=InterpolationMode.BILINEAR, antialias=True)
        images.append(TF.normalize(image, mean=list(L.IMAGENET_MEAN), std=list(L.IMAGENET_STD)))
    return torch.stack(images)


@pytest.mark.parametrize("nfft,noverlap", [(128, 116), (32, 30), (64, 48), (256, 240)])
def test_power_matches_scipy(rng, nfft, noverlap):
    windows = (rng.normal(size=(4, 500, 3)) + [0.0, 0.0, 1.0]).astype(np.float32)
    f, t, power = L.stft_power(windows, fs=FS, nfft=nfft, noverlap=noverlap)
    expected = scipy_power(windows, fs=FS, nfft=nfft, noverlap=noverlap)
    f_ref, t_ref, _ = spectrogram(windows[0, :, 0], fs=FS, window="hann", nperseg=nfft, noverlap=noverlap, nfft=nfft, detrend=False)
    np.testing.assert_allclose(f, f_ref)
    np.testing.assert_allclose(t, t_ref)
    # float32 FFT against float64: within 1e-5 of the largest power
    np.testing.assert_allclose(power.numpy(), expected, rtol=0, atol=1e-5 * expected.max())


def test_short_window_is_one_zero_padded_segment(rng):
    windows = rng.normal(size=(3, 100, 3)).astype(np.float32)  # 2 s at 50 Hz, shorter than nfft
    _, t, power = L.stft_power(windows, fs=FS, nfft=128, noverlap=116)
    assert power.shape == (3, 3, 65, 1)
    assert t == pytest.approx([1.0])  # the one segment is centred on the window
    expected = scipy_power(windows, fs=FS, nfft=128, noverlap=116)
    np.testing.assert_allclose(power.numpy(), expected, rtol=0, atol=1e-5 * expected.max())
    assert L.spectrogram_images(windows, fs=FS).shape == (3, 3, 96, 128)


@pytest.mark.parametrize("nfft,noverlap", [(128, 116), (256, 240), (32, 30)],
                         ids=["grid-enlarged", "more-rows-than-the-image", "more-columns-than-the-image"])
def test_images_match_reference_pipeline(rng, nfft, noverlap):
    windows = (rng.normal(size=(5, 500, 3)) * [0.2, 0.5, 1.0]).astype(np.float32)
    images = L.spectrogram_images(windows, fs=FS, nfft=nfft, noverlap=noverlap)
    expected = reference_images(windows, fs=FS, nfft=nfft, noverlap=noverlap)
    # float32 and a different order of linear steps: within 2e-4 normalised units
    torch.testing.assert_close(images, expected, rtol=0, atol=2e-4)


def test_sine_lands_in_its_frequency_row():
    # a sine exactly on FFT bin k has its power peak in row k: image row (H-1) - k * (H-1)/(F-1) from the top
    nfft, k = 128, 20
    freq = k * FS / nfft  # 7.8125 Hz
    t = np.arange(500) / FS
    window = np.stack([np.sin(2 * np.pi * freq * t)] * 3, axis=1)[None].astype(np.float32)
    _, _, power = L.stft_power(window, fs=FS, nfft=nfft, noverlap=116)
    assert (power[0].argmax(dim=1) == k).all()  # every axis, every segment
    unit = L.power_to_unit_image(power)[0]
    assert (unit.argmax(dim=1) == (nfft // 2) - k).all()  # flipped: row 0 is the top (highest frequency)
    image = L.spectrogram_images(window, fs=FS, normalize=False)[0]
    brightest_row = int(image.mean(dim=(0, 2)).argmax())
    expected_row = (95 - k * 96 / 65)  # the resize maps grid row k from the bottom to about this pixel row
    assert abs(brightest_row - expected_row) <= 1.5


def test_impulse_has_a_flat_spectrum():
    window = np.zeros((1, 128, 3), dtype=np.float32)
    window[0, 64, :] = 1.0  # an impulse at the centre of the single segment
    _, _, power = L.stft_power(window, fs=FS, nfft=128, noverlap=116)
    weights = np.full(65, 2.0)
    weights[[0, -1]] = 1.0  # one-sided doubling except 0 Hz and Nyquist
    flat = power[0, 0, :, 0].numpy() / weights
    np.testing.assert_allclose(flat, flat[0], rtol=1e-5)


def test_channels_follow_axes():
    t = np.arange(500) / FS
    window = np.zeros((1, 500, 3), dtype=np.float32)
    window[0, :, 1] = np.sin(2 * np.pi * 5.0 * t)  # motion on y only
    window[0, :, [0, 2]] = 1e-3 * np.random.default_rng(0).normal(size=(2, 500))
    _, _, power = L.stft_power(window, fs=FS)
    totals = power[0].sum(dim=(1, 2))
    assert int(totals.argmax()) == 1  # green carries the y axis


def test_scale_invariance_and_no_mutation(rng):
    windows = rng.normal(size=(3, 300, 3)).astype(np.float32)
    before = windows.copy()
    images = L.spectrogram_images(windows, fs=FS)
    scaled = L.spectrogram_images(windows * 9.81, fs=FS)  # g to m/s^2: log + min-max removes the unit
    torch.testing.assert_close(images, scaled, rtol=0, atol=5e-4)  # float32 rounding of log10
    np.testing.assert_array_equal(windows, before)


def test_chunking_and_out_buffer_do_not_change_results(rng):
    windows = rng.normal(size=(7, 250, 3)).astype(np.float32)
    whole = L.spectrogram_images(windows, fs=FS, chunk_size=100)
    pieces = L.spectrogram_images(windows, fs=FS, chunk_size=2)
    buffer = torch.full((7, 3, 96, 128), float("nan"))
    into = L.spectrogram_images(windows, fs=FS, out=buffer)
    assert into is buffer
    torch.testing.assert_close(whole, pieces)
    torch.testing.assert_close(whole, into)
    torch.testing.assert_close(whole[3:4], L.spectrogram_images(windows[3:4], fs=FS))


def test_unnormalized_range_and_denormalize_round_trip(rng):
    windows = rng.normal(size=(4, 500, 3)).astype(np.float32)
    unit = L.spectrogram_images(windows, fs=FS, normalize=False)
    assert unit.shape == (4, 3, 96, 128) and unit.dtype == torch.float32
    assert unit.min() >= -1e-6 and unit.max() <= 1 + 1e-6
    grid = L.power_to_unit_image(L.stft_power(windows, fs=FS)[2])
    torch.testing.assert_close(grid.amin(dim=(2, 3)), torch.zeros(4, 3))  # before resizing each channel spans [0, 1]
    torch.testing.assert_close(grid.amax(dim=(2, 3)), torch.ones(4, 3))
    torch.testing.assert_close(L.denormalize(L.spectrogram_images(windows, fs=FS)), unit, rtol=0, atol=1e-5)


def test_resize_matrices_rows_sum_to_one():
    rows, cols = resize_matrices((129, 16), (96, 128))
    torch.testing.assert_close(rows.sum(dim=1), torch.ones(96))
    torch.testing.assert_close(cols.sum(dim=0), torch.ones(128))


def test_constant_window_gives_finite_image():
    windows = np.ones((2, 200, 3), dtype=np.float32)
    images = L.spectrogram_images(windows, fs=FS)
    assert torch.isfinite(images).all()


@pytest.mark.parametrize(
    "windows,kwargs,match",
    [
        (np.zeros((2, 200, 2)), {}, r"shape \(2, 200, 2\); expected \(N, T, 3\)"),
        (np.zeros((200, 3)), {}, r"add a batch axis"),
        (np.zeros((1, 40, 3)), {}, r"window has 40 samples; nfft=128 needs at least 64"),
        (np.zeros((1, 200, 3)), {"noverlap": 128}, r"noverlap=128; expected 0 <= noverlap < nfft=128"),
        (np.zeros((1, 200, 3)), {"fs": 0.0}, r"fs=0.0; expected a positive sampling rate"),
    ],
)
def test_bad_input_raises(windows, kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.spectrogram_images(windows, **{"fs": FS, **kwargs})


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_sample_is_named(bad):
    windows = np.zeros((3, 200, 3), dtype=np.float32)
    windows[2, 17, 1] = bad
    with pytest.raises(ValueError, match=r"windows\[2, 17, 1\] is (nan|inf|-inf); every sample must be finite"):
        L.spectrogram_images(windows, fs=FS)


def test_out_buffer_of_wrong_shape_is_refused(rng):
    with pytest.raises(ValueError, match="expected a contiguous float32 tensor of shape"):
        L.spectrogram_images(rng.normal(size=(2, 200, 3)), fs=FS, out=torch.empty(3, 3, 96, 128))


def test_matches_the_authors_app_image(shared_data):
    """The authors' app PNG: same 65 x 40 grid, R=x G=y B=z, low frequencies at the bottom."""
    jogging, png = L.load_app_example([shared_data])
    _, _, power = L.stft_power(jogging[None], fs=20.0, nfft=128, noverlap=116)
    ours = L.power_to_unit_image(power)[0].numpy()
    assert ours.shape == (3, 65, 40)
    rows = ((np.arange(65) + 0.5) * png.shape[0] / 65).astype(int)
    cols = ((np.arange(40) + 0.5) * png.shape[1] / 40).astype(int)
    cells = png[rows][:, cols].astype(float)  # one value per flat cell of their image
    rho = np.array([[spearmanr(ours[c].ravel(), cells[:, :, k].ravel())[0] for k in range(3)] for c in range(3)])
    assert np.diag(rho).min() > 0.99  # their colour map is monotonic per channel: ranks agree
    assert (np.diag(rho)[:, None] > rho + 0.2).sum() == 6  # each axis matches its own channel best
    upside_down = [spearmanr(ours[c][::-1].ravel(), cells[:, :, c].ravel())[0] for c in range(3)]
    assert max(upside_down) < 0.5
