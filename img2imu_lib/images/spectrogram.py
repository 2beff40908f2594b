"""Tri-axial IMU windows to 3-channel spectrogram images (paper Section IV-A, Fig. 4).

The pipeline, per window and per axis: short-time Fourier transform with a Hann window,
one-sided power spectral density, log10, min-max scaling to [0, 1], low frequencies at the
bottom of the image. The three axes become the R, G and B channels, the image is resized
bilinearly to 128 x 96 (W x H) and normalised with the ImageNet mean and std, as the
pre-training images are.

Windows shorter than ``nfft`` samples follow scipy's rule for ``nfft > nperseg``: the whole
window is one segment, Hann-windowed over its own length and zero-padded to ``nfft``, so the
image still has ``nfft // 2 + 1`` frequency rows (one time column). A window with fewer than
``nfft // 2`` samples is rejected: its only segment would be mostly padding. The checks of the
arguments, and the loudest window taken, are in ``parameters.py``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from ..datasets.windows import check_windows
from .parameters import check_image_args
from .parameters import check_out
from .parameters import check_peaks
from .parameters import check_spectrogram_params
from .parameters import peak_limit

IMAGE_SIZE: tuple[int, int] = (96, 128)  # (H, W), the paper's 128 x 96 pixels
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
POWER_FLOOR: float = 1e-12  # g^2/Hz; an exactly zero bin becomes -120 dB instead of -inf
RESIZE_BLOCK: int = 64  # windows resized at a time: 9 MiB of float32 images (benchmarks/bench_conversion.py)


def stft_power(
    windows: np.ndarray | torch.Tensor, *, fs: float, nfft: int = 128, noverlap: int = 116
) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """One-sided power spectral density of each axis of each window.

    Args:
        windows: (N, T, 3) float, in g (any unit works; the image is scale-free).
        fs: sampling rate in Hz.
        nfft: FFT length and segment length in samples.
        noverlap: samples shared by consecutive segments (hop = nfft - noverlap).

    Returns:
        ``f`` (F,) in Hz, ``t`` (M,) segment centres in s, and ``P`` (N, 3, F, M) float32 in
        unit^2/Hz, with F = nfft // 2 + 1. Matches ``scipy.signal.spectrogram(..., window='hann',
        detrend=False, scaling='density', mode='psd')``. A window louder than ``peak_limit`` (its PSD
        would overflow float32) raises ``ValueError``; ``spectrogram_images`` scales such windows down instead.
    """
    x = check_windows(windows)
    check_spectrogram_params(x.shape[1], fs, nfft, noverlap)
    check_peaks(x, fs=fs, nfft=nfft)
    nperseg = min(nfft, x.shape[1])
    hop = nfft - noverlap if nperseg == nfft else nperseg
    n_segments = segment_count(x.shape[1], nfft=nfft, noverlap=noverlap)
    if len(x) == 0:  # oneMKL's FFT refuses an empty batch
        power = torch.zeros(0, 3, n_segments, nfft // 2 + 1)
    else:
        power = _power(x, fs=fs, nfft=nfft, noverlap=noverlap)  # (N, 3, M, F)
    f = np.fft.rfftfreq(nfft, d=1.0 / fs)
    t = (np.arange(n_segments) * hop + nperseg / 2) / fs
    return f, t, power.transpose(2, 3)  # P: (N, 3, F, M)


def _power(x: torch.Tensor, *, fs: float, nfft: int, noverlap: int, fit: bool = False) -> torch.Tensor:
    """Checked windows (N, T, 3) -> one-sided PSD laid out (N, 3, M, F).

    With ``fit``, a window louder than ``peak_limit`` is scaled down to that peak first, so that its PSD stays
    finite; the PSD of such a window is then in scaled units, for scale-free uses only (the images).
    """
    nperseg = min(nfft, x.shape[1])
    hop = nfft - noverlap if nperseg == nfft else nperseg  # a short window is one segment
    window = torch.hann_window(nperseg, periodic=True, dtype=torch.float32)
    taper = window  # (nperseg,)
    if fit:
        limit = peak_limit(x.shape[1], fs=fs, nfft=nfft)
        peak = x.abs().amax(dim=(1, 2)).clamp_min(limit)  # (N,)
        taper = window * (limit / peak).view(-1, 1, 1, 1)  # (N, 1, 1, nperseg): the window itself, unless x is loud
    segments = x.transpose(1, 2).contiguous().unfold(-1, nperseg, hop)  # (N, 3, M, nperseg)
    spectrum = torch.view_as_real(torch.fft.rfft(segments * taper, n=nfft))  # (N, 3, M, F, 2)
    weight = torch.full((nfft // 2 + 1,), 2.0 / (fs * float((window**2).sum())))  # one-sided density
    weight[0] /= 2  # the 0 Hz bin has no negative twin,
    if nfft % 2 == 0:
        weight[-1] /= 2  # nor has the Nyquist bin of an even nfft
    real, imag = spectrum[..., 0], spectrum[..., 1]
    return torch.addcmul(real.square(), imag, imag).mul_(weight)  # |X|^2 * weight: (N, 3, M, F)


def scaled_log_grid(x: torch.Tensor, *, fs: float, nfft: int, noverlap: int, scale: torch.Tensor,
                    shift: torch.Tensor) -> torch.Tensor:
    """Checked windows (N, T, 3) -> log10 power (N, 3, F, M), min-max scaled per channel and window and then
    mapped by ``scale * unit + shift`` (3, 1, 1): the image on its time-frequency grid, before resizing.

    The one spectrogram core: ``spectrogram_images`` and the exported ``deploy.export.SpectrogramModule``
    both run it. Min-max scaling and normalisation are one affine map per channel, applied here on the
    small grid because they commute with the resize. A flat channel (an axis of zeros) maps to ``shift``;
    a window louder than ``peak_limit`` is scaled down first (the image is scale-free).
    """
    power = _power(x, fs=fs, nfft=nfft, noverlap=noverlap, fit=True)  # (N, 3, M, F), a fresh tensor: updated in place
    log_power = power.clamp_min_(POWER_FLOOR).log10_().transpose(2, 3)  # (N, 3, F, M)
    low = log_power.amin(dim=(-2, -1), keepdim=True)
    span = (log_power.amax(dim=(-2, -1), keepdim=True) - low).clamp_min(torch.finfo(torch.float32).eps)
    # subtract low before scaling: folded into the offset, (shift - low * gain) + log_power * gain cancels in
    # float32 when the span is small (a flat channel came out 16 instead of shift)
    return torch.addcmul(shift, log_power.sub_(low), scale / span)


def image_affine(normalize: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift), each (3, 1, 1), taking [0, 1] units to ImageNet-normalised ones (or leaving them)."""
    if not normalize:
        return torch.ones(3, 1, 1), torch.zeros(3, 1, 1)
    scale = 1.0 / torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return scale, -torch.tensor(IMAGENET_MEAN).view(3, 1, 1) * scale


def power_to_unit_image(power: torch.Tensor) -> torch.Tensor:
    """Power (N, 3, F, M) in unit^2/Hz (``stft_power``'s P) to images in [0, 1]: log10, min-max per channel and
    image, low f at the bottom. Raises ``ValueError`` naming the first NaN, infinite or negative power."""
    bad = ~((power >= 0) & (power < math.inf))  # NaN fails both comparisons
    if bad.any():
        where = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"power[{', '.join(map(str, where))}] is {power[where].item()}; expected a finite power >= 0")
    log_power = torch.log10(power.clamp_min(POWER_FLOOR))
    low = log_power.amin(dim=(-2, -1), keepdim=True)
    high = log_power.amax(dim=(-2, -1), keepdim=True)
    span = (high - low).clamp_min(torch.finfo(log_power.dtype).eps)  # a flat channel maps to 0
    unit = (log_power - low) / span
    return unit.flip(-2)  # row 0 is the highest frequency, as on a plotted spectrogram


@lru_cache(maxsize=64)
def resize_matrices(grid: tuple[int, int], size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinear (antialiased) resizing from ``grid`` (F, M) to ``size`` (H, W) as two matrices.

    torchvision's resize is separable and linear, so ``rows @ image @ cols`` equals
    ``TF.resize(image, size, BILINEAR, antialias=True)``; the matrices are that resize applied
    to identity matrices. Returns rows (H, F) and cols (M, W). Each row of ``rows`` and each
    column of ``cols`` sums to 1, so resizing commutes with any per-image affine map.
    """
    (f, m), (h, w) = grid, size
    rows = TF.resize(torch.eye(f)[None], [h, f], interpolation=InterpolationMode.BILINEAR, antialias=True)[0]
    cols = TF.resize(torch.eye(m)[None], [m, w], interpolation=InterpolationMode.BILINEAR, antialias=True)[0]
    return rows, cols


def spectrogram_images(
    windows: np.ndarray | torch.Tensor,
    *,
    fs: float,
    nfft: int = 128,
    noverlap: int = 116,
    normalize: bool = True,
    size: tuple[int, int] = IMAGE_SIZE,
    chunk_size: int = 256,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Convert tri-axial IMU windows to 3-channel spectrogram images (Section IV-A, Fig. 4).

    Args:
        windows: (N, T, 3) float, in g (or int counts: any unit, the image is scale-free); axes x, y, z become
            channels R, G, B. An array, a CPU tensor (the result carries no gradient) or nested lists.
        fs: sampling rate in Hz.
        nfft: FFT and segment length in samples (the paper grid-searches 32, 64, 128, 256).
        noverlap: overlap of consecutive segments in samples (the paper: nfft minus 2, 4, 8 or 16).
        normalize: subtract the ImageNet mean and divide by its std; if False the images are in [0, 1].
        size: output (H, W) in pixels; the paper uses (96, 128).
        chunk_size: windows whose spectrograms are computed at a time, bounding peak memory (about 26 KiB a
            window for the default grid, in temporaries of the STFT).
        out: optional (N, 3, H, W) float32 contiguous tensor to write into (a reused buffer
            saves allocating, and on most systems page-faulting, the output anew).

    Returns:
        (N, 3, H, W) float32 tensor (``out`` when given). An axis that is all zeros (or whose PSD is below
        ``POWER_FLOOR`` everywhere) gives a flat channel, 0 in [0, 1] units. Raises ``ValueError`` naming the
        windows if any pixel is not finite.

    The min-max scaling and the normalisation are applied to the small time-frequency grid
    before resizing (they commute with it), so the only full-size pass is the resize itself, which
    writes each output pixel once (``resize_into``).
    """
    x = check_windows(windows).detach()  # not differentiable: the resize writes into ``out``
    check_spectrogram_params(x.shape[1], fs, nfft, noverlap)
    size = check_image_args(normalize=normalize, size=size, chunk_size=chunk_size)
    scale, shift = image_affine(normalize)
    shape = (x.shape[0], 3, *size)
    if out is None:  # NumPy asks Linux for huge pages for large arrays (torch's allocator does not): 512 times
        out = torch.from_numpy(np.empty(shape, dtype=np.float32))  # fewer page faults writing a 1.5 GB output
    else:
        check_out(out, shape, x)
    for start in range(0, x.shape[0], chunk_size):
        small = scaled_log_grid(x[start : start + chunk_size], fs=fs, nfft=nfft, noverlap=noverlap, scale=scale,
                                shift=shift)  # (n, 3, F, M)
        if not torch.isfinite(small.sum()):  # not expected (finite windows, loud ones scaled down); locate on failure
            bad = (~torch.isfinite(small)).flatten(1).any(dim=1).nonzero().flatten() + start
            raise ValueError(f"windows {bad[:5].tolist()} gave non-finite pixels, though their samples are finite: "
                             f"please report this with those windows")
        for first in range(0, len(small), RESIZE_BLOCK):  # each block's images stay in the cache while written
            resize_into(small[first : first + RESIZE_BLOCK], out[start + first : start + first + RESIZE_BLOCK])
    return out


def resize_into(grid: torch.Tensor, out: torch.Tensor) -> None:
    """Resize time-frequency grids (n, 3, F, M), row 0 the lowest frequency, into the images ``out`` (n, 3, H, W),
    row 0 the highest: bilinear and antialiased, as ``TF.resize``, each output pixel written once.

    Enlarging both axes (the usual case: 65 x 32 grids for 96 x 128 images), antialiasing changes nothing and
    ATen's bilinear kernel writes ``out`` directly, reading two rows and two columns a pixel. Otherwise the
    image is two products with the resize matrices (``resize_matrices``).
    """
    size = tuple(out.shape[-2:])
    if grid.shape[-2] <= size[0] and grid.shape[-1] <= size[1]:
        torch.ops.aten.upsample_bilinear2d.out(grid.flip(-2), list(size), False, None, None, out=out)
        return
    rows, cols = resize_matrices(tuple(grid.shape[-2:]), size)
    torch.matmul(rows.flip(1) @ grid, cols, out=out)  # reading rows from the top flips the image: low f at the bottom


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """ImageNet normalisation: (N, 3, H, W) in [0, 1] units -> same shape, (x - mean) / std per channel."""
    return TF.normalize(images, mean=list(IMAGENET_MEAN), std=list(IMAGENET_STD))


def denormalize(images: torch.Tensor) -> torch.Tensor:
    """Undo the ImageNet normalisation: (N, 3, H, W) normalised -> same shape in [0, 1] units."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=images.dtype).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=images.dtype).view(3, 1, 1)
    return images * std + mean


def segment_count(n_samples: int, *, nfft: int, noverlap: int) -> int:
    """Number of spectrogram columns for a window of ``n_samples`` (1 when it is shorter than nfft)."""
    if n_samples < nfft:
        return 1
    return 1 + math.floor((n_samples - nfft) / (nfft - noverlap))
