"""Windows of tri-axial samples: the check every stage applies to them, and sliding windows over a
``Recording``, each labelled by its majority class."""

from __future__ import annotations

import math

import numpy as np
import torch

from .recording import Recording

INTEGER_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.uint16, torch.uint32,
                  torch.uint64)  # raw ADC counts: converted to float32 like any other unit


def check_windows(windows: np.ndarray | torch.Tensor, *, samples: int | None = None) -> torch.Tensor:
    """Validate a batch of tri-axial windows and return it as a float32 tensor (N, T, 3); with ``samples``,
    T must equal it (an exported classifier's window length).

    ``windows`` may be a tensor, an array of any real dtype (float or int counts; any strides) or nested lists.
    Raises ``ValueError`` naming the offending shape, dtype or the first bad value (NaN, inf, a float64 beyond
    float32's range, a masked sample).
    """
    x = windows if torch.is_tensor(windows) else torch.as_tensor(_as_array(windows))
    if samples is not None and (x.ndim != 3 or tuple(x.shape[1:]) != (samples, 3) or len(x) == 0):
        raise ValueError(f"windows have shape {tuple(x.shape)}; expected (N, {samples}, 3) with N >= 1: "
                         f"acceleration in g, axes x, y, z, {samples} samples per window")
    if x.ndim == 2:
        raise ValueError(f"windows have shape {tuple(x.shape)}; expected (N, T, 3): add a batch axis with x[None]")
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"windows have shape {tuple(x.shape)}; expected (N, T, 3) with 3 axes (x, y, z) last")
    if not (x.dtype.is_floating_point or x.dtype in INTEGER_DTYPES):
        raise ValueError(f"windows have dtype {x.dtype}; expected a real number type")
    x32 = x.to(torch.float32)
    if not torch.isfinite(x32.sum(dim=(1, 2), dtype=torch.float64)).all():  # cheap test; locate only on failure
        bad = ~torch.isfinite(x32)
        if bad.any():
            n, t, a = (int(i) for i in bad.nonzero()[0])
            value = x[n, t, a].item()
            if math.isfinite(value):  # finite in float64, infinite in float32
                raise ValueError(f"windows[{n}, {t}, {a}] is {value:g}, beyond float32's range (|x| < 3.4e38); "
                                 f"expected samples in g: check the units and look for corrupt samples")
            raise ValueError(f"windows[{n}, {t}, {a}] is {value}; every sample must be finite (no NaN or inf)")
    return x32


def _as_array(windows: object) -> np.ndarray:
    """An array or nested lists as a numpy array of numbers torch can share, or a ValueError saying why not."""
    if np.ma.is_masked(windows):  # np.asarray would silently use the values under the mask
        where = ", ".join(str(int(i)) for i in np.argwhere(np.ma.getmaskarray(windows))[0])
        raise ValueError(f"windows[{where}] is masked; fill or drop masked samples first (windows.filled(...))")
    try:
        array = np.asarray(windows)
    except ValueError as error:  # nested lists of unequal lengths
        raise ValueError(f"windows cannot be read as one array ({error}); expected (N, T, 3), "
                         f"every window of the same length") from None
    if array.dtype.kind not in "iuf":  # bools, complex numbers, strings, objects, dates
        raise ValueError(f"windows have dtype {array.dtype}; expected a real number type (float32 in g, or int counts)")
    if array.dtype.itemsize > 8:  # long double: torch has no such type
        array = array.astype(np.float64)
    if any(stride < 0 for stride in array.strides):  # np.flip and [::-1] views; torch takes no negative strides
        array = array.copy()
    return array


def sliding_windows(
    recording: Recording, *, seconds: float, overlap: float = 0.5, min_majority: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a recording into windows of ``seconds`` with fractional ``overlap``.

    A window's label is its most frequent labelled class. A window is dropped when that class
    covers less than ``min_majority`` of its samples (unlabelled samples count against it), so
    windows straddling two activities, a transition or an unlabelled stretch are left out.
    An unlabelled corpus (no classes, as for pre-training) keeps every window, labelled -1.

    Returns:
        windows (N, size, 3) float32 in g, and labels (N,) int64; N may be 0.
    """
    size = int(round(seconds * recording.fs))
    step = max(1, int(round(size * (1.0 - overlap))))
    if size < 1:
        raise ValueError(f"seconds={seconds} at fs={recording.fs} Hz gives windows of {size} samples; expected >= 1")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap={overlap}; expected a fraction in [0, 1)")
    n_samples = recording.signal.shape[0]
    if n_samples < size:
        return np.empty((0, size, 3), np.float32), np.empty(0, np.int64)
    starts = np.arange(0, n_samples - size + 1, step)
    index = starts[:, None] + np.arange(size)[None, :]  # (N, size)
    if not recording.classes:
        return recording.signal[index], np.full(len(starts), -1, dtype=np.int64)
    labels = recording.labels[index]  # (N, size)
    n_classes = len(recording.classes)
    counts = np.stack([(labels == c).sum(axis=1) for c in range(n_classes)], axis=1)  # (N, C)
    majority = counts.argmax(axis=1)
    keep = counts.max(axis=1) >= min_majority * size
    return recording.signal[index[keep]], majority[keep].astype(np.int64)


def windows_from_recordings(
    recordings: list[Recording], *, seconds: float, overlap: float = 0.5, min_majority: float = 0.8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sliding_windows`` over many recordings of one dataset, concatenated.

    Returns windows (N, size, 3) float32 in g, labels (N,) int64 and subjects (N,) int64.
    """
    if not recordings:
        raise ValueError("no recordings given; expected at least one")
    rates = {r.fs for r in recordings}
    if len(rates) != 1:
        raise ValueError(f"recordings have sampling rates {sorted(rates)} Hz; resample them to one rate first")
    parts = [sliding_windows(r, seconds=seconds, overlap=overlap, min_majority=min_majority) for r in recordings]
    subjects = [np.full(len(y), r.subject, dtype=np.int64) for r, (_, y) in zip(recordings, parts)]
    return (np.concatenate([w for w, _ in parts]), np.concatenate([y for _, y in parts]), np.concatenate(subjects))
