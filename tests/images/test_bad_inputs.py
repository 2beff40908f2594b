"""Messy inputs at the conversion layer (IMU windows -> images): each gives a correct image or a clear error.

Each test is named for the input it tries. "The slow path" is the step-by-step pipeline the library also
exports: ``stft_power`` -> ``power_to_unit_image`` (min-max with the span clamped, so a flat channel is 0)
-> ``TF.resize`` -> ``normalize_images``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as TF

import img2imu_lib as L
from img2imu_lib.images import parameters
from img2imu_lib.images import spectrogram as conversion

FS = 50.0
MEAN, STD = torch.tensor(L.IMAGENET_MEAN), torch.tensor(L.IMAGENET_STD)


@pytest.fixture
def windows(rng) -> np.ndarray:
    """Five 10 s windows at 50 Hz, in g: noise on each axis, gravity on z."""
    return (rng.normal(size=(5, 500, 3)) * [0.2, 0.5, 1.0] + [0.0, 0.0, 1.0]).astype(np.float32)


def slow_images(windows: np.ndarray, *, nfft: int = 128, noverlap: int = 116) -> torch.Tensor:
    """The slow path, step by step: (N, 3, 96, 128) normalised."""
    _, _, power = L.stft_power(windows, fs=FS, nfft=nfft, noverlap=noverlap)
    unit = L.power_to_unit_image(power)
    return L.normalize_images(TF.resize(unit, [96, 128], interpolation=InterpolationMode.BILINEAR, antialias=True))


# -- flat channels: the fast path's min-max gain cancelled in float32 and gave 16.0 -------------------------------


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_a_window_with_one_axis_all_zeros_gives_that_channel_the_image_of_zero(windows, axis):
    windows[:, :, axis] = 0.0
    images = L.spectrogram_images(windows, fs=FS)
    # by hand: a flat channel is 0 in [0, 1] units, (0 - mean) / std once normalised (-2.036 for green)
    flat = -MEAN[axis] / STD[axis]
    torch.testing.assert_close(images[:, axis], flat.expand(5, 96, 128), rtol=0, atol=1e-5)
    torch.testing.assert_close(images, slow_images(windows), rtol=0, atol=2e-4)  # float32, other order of steps


@pytest.mark.parametrize("level", [1e-9, 1e-20], ids=["1e-9-g", "1e-20-g"])
def test_an_axis_quieter_than_the_power_floor_is_flat_like_a_zero_axis(windows, rng, level):
    # its PSD is below POWER_FLOOR (1e-12 g^2/Hz) in every bin: the floor makes the channel exactly flat
    windows[:, :, 0] = level * rng.normal(size=(5, 500))
    images = L.spectrogram_images(windows, fs=FS)
    torch.testing.assert_close(images[:, 0], (-MEAN[0] / STD[0]).expand(5, 96, 128), rtol=0, atol=1e-5)
    torch.testing.assert_close(images, slow_images(windows), rtol=0, atol=2e-4)


def test_an_all_zero_window_gives_black_images_in_unit_scale():
    images = L.spectrogram_images(np.zeros((2, 300, 3), np.float32), fs=FS, normalize=False)
    torch.testing.assert_close(images, torch.zeros(2, 3, 96, 128), rtol=0, atol=1e-6)


# -- huge, non-finite and out-of-range samples --------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1e17, 1e19, 1e30])
def test_windows_of_huge_finite_samples_give_the_image_of_the_unscaled_windows(windows, factor):
    # past peak_limit (9e15 here) they are scaled down first, the image being scale-free; 1e19 and 1e30 gave NaN
    images = L.spectrogram_images(windows.astype(np.float64) * factor, fs=FS)
    assert torch.isfinite(images).all()
    torch.testing.assert_close(images, L.spectrogram_images(windows, fs=FS), rtol=0, atol=5e-4)  # float32 log10


def test_one_window_of_huge_samples_leaves_the_other_windows_bit_identical(windows):
    loud = windows.copy()
    loud[2] *= 1e19
    images, plain = L.spectrogram_images(loud, fs=FS), L.spectrogram_images(windows, fs=FS)
    keep = [0, 1, 3, 4]
    assert torch.equal(images[keep], plain[keep])
    torch.testing.assert_close(images[2], plain[2], rtol=0, atol=5e-4)


def test_a_window_of_huge_samples_at_stft_power_is_named(windows):
    windows[3] *= 1e19  # a PSD in g^2/Hz cannot be rescaled: it would be inf
    match = r"windows \[3\] reach \|x\| = .*e\+19, above 9.01e\+15, where their PSD overflows float32 at fs=50.0"
    with pytest.raises(ValueError, match=match):
        L.stft_power(windows, fs=FS)


def test_a_float64_sample_beyond_float32_range_is_named(windows):
    loud = windows.astype(np.float64)
    loud[1, 7, 2] = 1e39
    with pytest.raises(ValueError, match=r"windows\[1, 7, 2\] is 1e\+39, beyond float32's range"):
        L.spectrogram_images(loud, fs=FS)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1.0])
def test_a_power_with_a_nan_inf_or_negative_value_at_power_to_unit_image_is_named(bad):
    power = torch.ones(2, 3, 65, 4)
    power[1, 2, 10, 3] = bad
    with pytest.raises(ValueError, match=r"power\[1, 2, 10, 3\] is (nan|inf|-inf|-1.0); expected a finite power >= 0"):
        L.power_to_unit_image(power)


def test_a_non_finite_pixel_from_the_core_is_never_returned_silently(windows, monkeypatch):
    real_power = conversion._power

    def power_with_a_nan(x, **kwargs):  # stands for a numerical failure that the input checks did not foresee
        power = real_power(x, **kwargs)
        if len(x) > 1 and torch.equal(x[1], torch.from_numpy(windows[3])):  # second of the chunk of windows 2, 3
            power[1, 0, 0, 0] = float("nan")
        return power

    monkeypatch.setattr(conversion, "_power", power_with_a_nan)
    with pytest.raises(ValueError, match=r"windows \[3\] gave non-finite pixels"):
        L.spectrogram_images(windows, fs=FS, chunk_size=2)


# -- sampling rate, nfft, noverlap --------------------------------------------------------------------------------


@pytest.mark.parametrize("fs", [float("inf"), 1e300, 1e-300, 0.0, -50.0, float("nan")])
@pytest.mark.parametrize("entry", ["spectrogram_images", "stft_power", "check_spectrogram_params"])
def test_a_sampling_rate_that_is_not_a_finite_positive_number_is_named(windows, fs, entry):
    # fs=inf gave constant images and 1e300 too (the PSD weight underflows float32); 1e-300 an overflow error
    call = {"spectrogram_images": lambda: L.spectrogram_images(windows, fs=fs),
            "stft_power": lambda: L.stft_power(windows, fs=fs),
            "check_spectrogram_params": lambda: parameters.check_spectrogram_params(500, fs, 128, 116)}[entry]
    with pytest.raises(ValueError, match=rf"fs={re.escape(str(fs))}; expected a positive sampling rate in Hz, finite"):
        call()


@pytest.mark.parametrize("fs", ["50", True, None, torch.tensor(50.0)], ids=["str", "bool", "None", "tensor"])
def test_a_sampling_rate_that_is_not_a_number_is_named(windows, fs):
    with pytest.raises(TypeError, match=r"fs=.* \((str|bool|NoneType|Tensor)\); expected a sampling rate in Hz"):
        L.spectrogram_images(windows, fs=fs)


@pytest.mark.parametrize("kwargs,match", [
    ({"nfft": 256.0, "noverlap": 240}, r"nfft=256.0 \(float\); expected a whole number \(int\)"),
    ({"nfft": True, "noverlap": 0}, r"nfft=True \(bool\)"),
    ({"nfft": "128"}, r"nfft='128' \(str\)"),
    ({"noverlap": 116.0}, r"noverlap=116.0 \(float\)"),
    ({"noverlap": True}, r"noverlap=True \(bool\)"),  # was taken as 1
    ({"noverlap": None}, r"noverlap=None \(NoneType\)"),
])
def test_nfft_or_noverlap_of_the_wrong_type_is_named(windows, kwargs, match):
    with pytest.raises(TypeError, match=match):
        L.spectrogram_images(windows, fs=FS, **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"nfft": 0, "noverlap": 0}, r"nfft=0; expected at least 2"),
    ({"nfft": -128, "noverlap": 0}, r"nfft=-128; expected at least 2"),
    ({"noverlap": -1}, r"noverlap=-1; expected 0 <= noverlap < nfft=128"),
])
def test_nfft_or_noverlap_zero_or_negative_is_named(windows, kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.spectrogram_images(windows, fs=FS, **kwargs)


def test_numpy_numbers_for_fs_nfft_and_noverlap_give_the_same_images(windows):
    plain = L.spectrogram_images(windows, fs=50.0, nfft=64, noverlap=48)
    numpy = L.spectrogram_images(windows, fs=np.float64(50), nfft=np.int64(64), noverlap=np.int32(48))
    assert torch.equal(plain, numpy)


# -- dtypes and containers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint8, np.uint16, np.float16, np.float64,
                                   np.longdouble])
def test_integer_counts_and_other_float_dtypes_give_the_images_of_their_values(windows, dtype):
    # raw ADC counts (int16 from most IMUs, uint8/uint16 from some) are accepted like any other unit
    counts = np.clip(np.round(windows * 40 + 100), 0, 255).astype(dtype)
    expected = L.spectrogram_images(counts.astype(np.float32), fs=FS)
    assert torch.equal(L.spectrogram_images(counts, fs=FS), expected)


@pytest.mark.parametrize("make,match", [
    (lambda w: w > 0, r"dtype bool; expected a real number type"),
    (lambda w: w.astype(np.complex64), r"dtype complex64; expected a real number type"),
    (lambda w: w.astype(str), r"dtype <U\d+; expected a real number type"),
    (lambda w: w.astype(object), r"dtype object; expected a real number type"),
    (lambda w: [w[0].tolist(), w[1, :499].tolist()], r"cannot be read as one array .* every window of the same length"),
], ids=["bool", "complex", "strings", "objects", "ragged-lists"])
def test_windows_that_are_not_real_numbers_are_named(windows, make, match):
    with pytest.raises(ValueError, match=match):
        L.spectrogram_images(make(windows), fs=FS)


def test_a_masked_array_with_a_masked_sample_is_named(windows):
    masked = np.ma.masked_array(windows, mask=np.zeros(windows.shape, bool))
    masked[4, 9, 1] = np.ma.masked  # np.asarray would quietly use the value underneath
    with pytest.raises(ValueError, match=r"windows\[4, 9, 1\] is masked; fill or drop masked samples"):
        L.spectrogram_images(masked, fs=FS)
    assert torch.equal(L.spectrogram_images(np.ma.masked_array(windows), fs=FS), L.spectrogram_images(windows, fs=FS))


@pytest.mark.parametrize("view", [
    lambda w: w[:, ::-1],  # np.flip: negative strides, which torch refused
    lambda w: np.repeat(w, 2, axis=2)[:, :, ::2],  # every other axis of a wider array
    lambda w: np.asfortranarray(w),
    lambda w: torch.from_numpy(w).transpose(0, 1).contiguous().transpose(0, 1),  # non-contiguous tensor
    lambda w: w.tolist(),  # a list of lists
], ids=["negative-strides", "strided", "fortran-order", "non-contiguous-tensor", "list-of-lists"])
def test_non_contiguous_arrays_tensors_and_lists_give_the_images_of_their_values(windows, view):
    viewed = view(windows)
    dense = np.ascontiguousarray(np.asarray(viewed, dtype=np.float32))
    assert torch.equal(L.spectrogram_images(viewed, fs=FS), L.spectrogram_images(dense, fs=FS))


def test_a_tensor_that_requires_grad_gives_the_images_of_its_values(windows):
    tracked = torch.from_numpy(windows).requires_grad_()  # the resize's out= refused it with an autograd error
    images = L.spectrogram_images(tracked, fs=FS)
    assert not images.requires_grad
    assert torch.equal(images, L.spectrogram_images(windows, fs=FS))


# -- shapes -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,match", [
    ((500, 3), r"shape \(500, 3\); expected \(N, T, 3\): add a batch axis with x\[None\]"),  # one window
    ((5, 500, 2), r"shape \(5, 500, 2\); expected \(N, T, 3\) with 3 axes"),
    ((5, 500, 6), r"shape \(5, 500, 6\); expected \(N, T, 3\) with 3 axes"),  # accelerometer + gyroscope
    ((5, 3, 500), r"shape \(5, 3, 500\); expected \(N, T, 3\) with 3 axes \(x, y, z\) last"),  # channels first
    ((1, 5, 500, 3), r"shape \(1, 5, 500, 3\)"),
    ((0,), r"shape \(0,\)"),  # an empty list
])
def test_windows_of_the_wrong_shape_are_named_with_the_expected_shape(shape, match):
    with pytest.raises(ValueError, match=match):
        L.spectrogram_images(np.zeros(shape, np.float32), fs=FS)


def test_an_empty_batch_gives_no_images_and_no_power():
    empty = np.zeros((0, 500, 3), np.float32)
    assert L.spectrogram_images(empty, fs=FS).shape == (0, 3, 96, 128)
    f, t, power = L.stft_power(empty, fs=FS)  # oneMKL's FFT refused the empty batch
    assert power.shape == (0, 3, 65, 32) and len(f) == 65 and len(t) == 32


@pytest.mark.parametrize("samples", [64, 100, 127])
def test_windows_shorter_than_nfft_give_one_column_images(rng, samples):
    short = rng.normal(size=(2, samples, 3)).astype(np.float32)
    _, _, power = L.stft_power(short, fs=FS)
    assert power.shape == (2, 3, 65, 1)
    torch.testing.assert_close(L.spectrogram_images(short, fs=FS), slow_images(short), rtol=0, atol=2e-4)
    with pytest.raises(ValueError, match=r"window has 63 samples; nfft=128 needs at least 64"):
        L.spectrogram_images(short[:, :63], fs=FS)


# -- the other arguments of spectrogram_images ---------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,error,match", [
    ({"chunk_size": 0}, ValueError, r"chunk_size=0; expected at least 1"),
    ({"chunk_size": -1}, ValueError, r"chunk_size=-1; expected at least 1"),  # returned uninitialised memory
    ({"chunk_size": 2.5}, TypeError, r"chunk_size=2.5 \(float\)"),
    ({"size": (0, 128)}, ValueError, r"size\[0\]=0; expected at least 1"),
    ({"size": (96.0, 128)}, TypeError, r"size\[0\]=96.0 \(float\)"),
    ({"size": 96}, TypeError, r"size=96; expected \(H, W\)"),
    ({"normalize": "no"}, TypeError, r"normalize='no' \(str\); expected True or False"),  # was taken as True
])
def test_other_arguments_of_the_wrong_value_or_type_are_named(windows, kwargs, error, match):
    with pytest.raises(error, match=match):
        L.spectrogram_images(windows, fs=FS, **kwargs)


def test_an_out_buffer_that_shares_memory_with_the_windows_is_refused(windows):
    buffer = np.zeros(6 * 3 * 96 * 128, np.float32)
    inside = buffer[1000 : 1000 + windows.size].reshape(windows.shape)  # read while out is written
    inside[:] = windows
    out = torch.from_numpy(buffer[: 5 * 3 * 96 * 128]).view(5, 3, 96, 128)
    with pytest.raises(ValueError, match="out shares memory with windows"):
        L.spectrogram_images(inside, fs=FS, out=out)
    beside = buffer[5 * 3 * 96 * 128 :][: windows.size].reshape(windows.shape)  # same buffer, no overlap: fine
    beside[:] = windows
    assert torch.equal(L.spectrogram_images(beside, fs=FS, out=out), L.spectrogram_images(windows, fs=FS))


def test_an_out_buffer_that_requires_grad_is_refused(windows):
    with pytest.raises(ValueError, match="requiring grad; expected a contiguous float32 tensor"):
        L.spectrogram_images(windows, fs=FS, out=torch.empty(5, 3, 96, 128, requires_grad=True))


# -- the baselines' augmentations: they clip to [0, 1] ------------------------------------------------------------


@pytest.mark.parametrize("augment", [L.ImageOp("brightness"), L.ImageOp("rotate"), L.moco_v2_augmentations()],
                         ids=["brightness", "rotate", "moco-v2"])
def test_normalised_images_at_the_baseline_augmentations_are_refused(windows, augment, generator):
    normalised = L.spectrogram_images(windows, fs=FS)  # in [-2.1, 2.6]: clipping would flatten them
    with pytest.raises(ValueError, match=r"images span \[-2.\d+, 2.\d+\]; expected \[0, 1\] units"):
        augment(normalised, generator=generator)
    unit = L.spectrogram_images(windows, fs=FS, normalize=False)
    assert augment(unit, generator=generator).shape == unit.shape


def test_uint8_images_at_the_baseline_augmentations_are_refused(generator):
    with pytest.raises(ValueError, match=r"dtype torch.uint8; expected float images in \[0, 1\] units"):
        L.ImageOp("contrast")(torch.zeros(2, 3, 96, 128, dtype=torch.uint8), generator=generator)
