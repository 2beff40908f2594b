"""Sliding windows over a ``Recording``, each labelled by its majority class."""

from __future__ import annotations

import numpy as np

from .datasets.recording import Recording


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
