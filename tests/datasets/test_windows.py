"""Tests of sliding windows and their majority labels."""

from __future__ import annotations

import numpy as np
import pytest

import img2imu_lib as L


def recording(labels, fs=10.0) -> L.Recording:
    labels = np.asarray(labels)
    signal = np.arange(len(labels) * 3, dtype=np.float32).reshape(-1, 3)
    return L.Recording(dataset="toy", subject=1, session=0, signal=signal, labels=labels, fs=fs, classes=("a", "b", "c"))


def test_counts_and_contents():
    r = recording([0] * 100)
    windows, labels = L.sliding_windows(r, seconds=2.0, overlap=0.5)  # 20 samples, step 10
    assert windows.shape == (9, 20, 3)  # starts 0, 10, ..., 80
    np.testing.assert_array_equal(windows[1], r.signal[10:30])
    assert (labels == 0).all()


def test_majority_and_purity():
    r = recording([0] * 17 + [1] * 3 + [2] * 10 + [-1] * 10)
    windows, labels = L.sliding_windows(r, seconds=2.0, overlap=0.5, min_majority=0.8)
    # window 0..20: 17/20 class 0 -> kept; 10..30: 7,3,10 -> dropped; 20..40: 10 class 2, 10 unlabelled -> dropped
    assert labels.tolist() == [0]
    _, loose = L.sliding_windows(r, seconds=2.0, overlap=0.5, min_majority=0.5)
    assert loose.tolist() == [0, 2, 2]


def test_short_recording_gives_no_windows():
    windows, labels = L.sliding_windows(recording([0] * 5), seconds=2.0)
    assert windows.shape == (0, 20, 3) and labels.shape == (0,)


def test_many_recordings():
    a, b = recording([0] * 40), recording([1] * 40)
    b = L.Recording(dataset="toy", subject=2, session=0, signal=b.signal, labels=b.labels, fs=10.0, classes=b.classes)
    windows, labels, subjects = L.windows_from_recordings([a, b], seconds=2.0)
    assert windows.shape == (6, 20, 3)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1] and subjects.tolist() == [1, 1, 1, 2, 2, 2]


def test_errors():
    with pytest.raises(ValueError, match=r"overlap=1.0; expected a fraction in \[0, 1\)"):
        L.sliding_windows(recording([0] * 40), seconds=2.0, overlap=1.0)
    with pytest.raises(ValueError, match="no recordings given"):
        L.windows_from_recordings([], seconds=2.0)
    with pytest.raises(ValueError, match=r"sampling rates \[10.0, 20.0\] Hz"):
        L.windows_from_recordings([recording([0] * 40), recording([0] * 40, fs=20.0)], seconds=1.0)
