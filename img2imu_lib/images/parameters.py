"""The checks of the spectrogram conversion's arguments (``spectrogram.py``), and the loudest window it takes.

Each check raises a ``TypeError`` or ``ValueError`` naming the value and what was expected, before any work:

- ``fs``: a real number (not a bool), finite, from 1e-6 to 1e9 Hz. That is far wider than any IMU's rate
  (tens of Hz to a few kHz) and keeps the PSD's density weight 2 / (fs * sum(w^2)) a normal float32: past
  it, fs=1e300 (or inf) let the weight underflow to 0 and gave constant images, fs=1e-300 overflowed.
- ``nfft`` and ``noverlap``: whole numbers (an int or a numpy integer, not a bool), nfft >= 2 and
  0 <= noverlap < nfft (a hop of at least one sample); a window needs at least nfft // 2 samples, since a
  shorter one would be one segment of mostly zero padding.
- ``normalize`` a bool; ``size`` two whole numbers (H, W) >= 1; ``chunk_size`` a whole number >= 1;
  ``out`` a contiguous float32 CPU tensor of the output's shape, not requiring grad, sharing no memory
  with the windows (they are read while it is written).

Loud windows. ``peak_limit`` is the largest |x| whose PSD surely stays finite in float32 (about 9e15 at
fs=50 Hz, nfft=128: far beyond any sensor's range, so corrupt samples). ``stft_power`` returns the PSD in
the windows' unit squared per Hz, which cannot be rescaled, so it rejects a louder window (``check_peaks``).
``spectrogram_images`` scales such a window down to that peak instead, because the image is scale-free:
scaling a window by c > 0 multiplies every bin's power by c^2, adding the same 2 log10(c) to every log
power, and the per-channel min-max scaling removes that constant. The image is thus the window's own, up
to float32 rounding (an axis so quiet beside the loud one that its scaled power falls under
``spectrogram.POWER_FLOOR`` is flat, as it is at any scale under the floor). A window at or under the
limit gets the factor exactly 1, so the scaling leaves it, and its image, bit-identical.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..checks import check_rate, check_whole

POWER_LIMIT: float = 2.0**120  # largest |X|^2 and PSD let into float32 (which overflows at 2^128)
FS_RANGE: tuple[float, float] = (1e-6, 1e9)  # Hz: wider than any IMU's rates; keeps the PSD weight a normal float32


def check_spectrogram_params(n_samples: int, fs: float, nfft: int, noverlap: int) -> None:
    """Raise ``ValueError`` naming the value when (fs, nfft, noverlap) cannot make an image of ``n_samples`` windows,
    ``TypeError`` when fs is not a real number or nfft, noverlap not whole numbers (a bool is neither)."""
    check_rate(fs, within=FS_RANGE)
    for name, value in (("nfft", nfft), ("noverlap", noverlap)):
        check_whole(value, name)
    if nfft < 2:
        raise ValueError(f"nfft={nfft}; expected at least 2")
    if not 0 <= noverlap < nfft:
        raise ValueError(f"noverlap={noverlap}; expected 0 <= noverlap < nfft={nfft}")
    if n_samples < nfft // 2:
        raise ValueError(
            f"window has {n_samples} samples; nfft={nfft} needs at least {nfft // 2} "
            f"(a shorter window would be mostly zero padding): lower nfft or use longer windows"
        )


def peak_limit(n_samples: int, *, fs: float, nfft: int) -> float:
    """The largest |x| (in the windows' unit) whose PSD surely stays finite in float32: about 9e15 at fs=50, nfft=128.

    With n = min(nfft, n_samples) samples a segment, a Hann window has 0 <= w <= 1 and sum(w^2) >= 3n/8, so a bin's
    spectrum is at most peak * n and its density weight 2 / (fs * sum(w^2)) at most 16 / (3 fs n); the spectrum
    squared, and times the weight, stays under ``POWER_LIMIT``. Plain arithmetic: a constant in the ONNX export.
    """
    n = min(nfft, n_samples)
    return math.sqrt(POWER_LIMIT / max(16.0 / (3.0 * fs * n), 1.0)) / n


def check_peaks(x: torch.Tensor, *, fs: float, nfft: int) -> None:
    """ValueError naming the windows of ``x`` (N, T, 3), in any unit, louder than ``peak_limit`` (``stft_power``'s
    check: a PSD in the windows' unit cannot be scaled down)."""
    limit = peak_limit(x.shape[1], fs=fs, nfft=nfft)
    peaks = x.abs().amax(dim=(1, 2))  # (N,)
    loud = (peaks > limit).nonzero().flatten().tolist()
    if loud:
        raise ValueError(f"windows {loud[:5]}{' ...' if len(loud) > 5 else ''} reach |x| = {float(peaks[loud[0]]):g}, "
                         f"above {limit:.3g}, where their PSD overflows float32 at fs={fs}, nfft={nfft}: look for "
                         f"corrupt samples, or scale them down (spectrogram_images does: its images are scale-free)")


def check_image_args(*, normalize: object, size: object, chunk_size: object) -> tuple[int, int]:
    """``size`` as a tuple of ints, or a TypeError or ValueError naming the argument of ``spectrogram_images``."""
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize={normalize!r} ({type(normalize).__name__}); expected True or False")
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size={size!r}; expected (H, W) in pixels, two whole numbers")
    for name, value in (("size[0]", size[0]), ("size[1]", size[1]), ("chunk_size", chunk_size)):
        check_whole(value, name)
        if value < 1:
            raise ValueError(f"{name}={value}; expected at least 1")
    return int(size[0]), int(size[1])


def check_out(out: torch.Tensor, shape: tuple[int, ...], x: torch.Tensor) -> None:
    """ValueError unless ``out`` is a contiguous float32 CPU tensor of ``shape`` that ``x`` can be read beside."""
    if (tuple(out.shape) != shape or out.dtype != torch.float32 or not out.is_contiguous() or out.device.type != "cpu"
            or out.requires_grad):
        raise ValueError(f"out is {out.dtype} {tuple(out.shape)} on {out.device}"
                         f"{', requiring grad' if out.requires_grad else ''}; expected a contiguous float32 tensor "
                         f"of shape {shape} on the CPU, not requiring grad")
    (out_low, out_high), (x_low, x_high) = _byte_range(out), _byte_range(x)
    if out_low < x_high and x_low < out_high:
        raise ValueError("out shares memory with windows; expected a buffer of its own (windows are read while it is "
                         "written)")


def _byte_range(t: torch.Tensor) -> tuple[int, int]:
    """The addresses [first, last + 1) of the bytes a tensor with non-negative strides reads; empty for no elements."""
    if t.numel() == 0:
        return 0, 0
    extent = sum((n - 1) * stride for n, stride in zip(t.shape, t.stride())) + 1
    return t.data_ptr(), t.data_ptr() + extent * t.element_size()
