"""Tests of the offline sensor pre-training corpus (HAPT subjects 1-10, installed with the package)."""

from __future__ import annotations

import numpy as np
import pytest

from img2imu_lib.pretraining.sensor import fit_corpus_stats, sensor_corpus_windows


@pytest.fixture(scope="module")
def two_second_windows() -> np.ndarray:
    return sensor_corpus_windows(2.0)


def test_windows_are_two_seconds_at_50_hz(two_second_windows):
    w = two_second_windows
    assert w.dtype == np.float32 and w.ndim == 3 and w.shape[1:] == (100, 3)
    assert len(w) > 5000  # ~7,200 s of recordings, a window every second
    assert np.isfinite(w).all()


def test_windows_overlap_by_half(two_second_windows):
    w = two_second_windows
    np.testing.assert_array_equal(w[0, 50:], w[1, :50])  # the step is 50 samples (1 s)


def test_corpus_is_accelerometer_in_g(two_second_windows):
    mean, std = fit_corpus_stats(two_second_windows)
    norm = np.linalg.norm(two_second_windows.reshape(-1, 3), axis=1).mean()
    assert 0.8 < norm < 1.2  # gravity dominates a waist-worn phone
    assert (std > 0).all() and (np.abs(mean) < 1.5).all()


def test_bad_length_raises():
    with pytest.raises(ValueError, match="seconds=0"):
        sensor_corpus_windows(0)
