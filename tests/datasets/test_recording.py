"""Tests of the Recording checks and the authors' example reader."""

from __future__ import annotations

import numpy as np
import pytest

import img2imu_lib as L


def make(signal, labels, classes=("a", "b")) -> L.Recording:
    return L.Recording(dataset="toy", subject=4, session=0, signal=np.asarray(signal, np.float32),
                       labels=np.asarray(labels), fs=50.0, classes=classes)


def test_valid_recording():
    r = make(np.zeros((100, 3)), np.zeros(100, dtype=int))
    assert r.seconds == 2.0


@pytest.mark.parametrize(
    "signal,labels,match",
    [
        (np.zeros((10, 2)), np.zeros(10), r"toy subject 4 session 0: signal has shape \(10, 2\); expected \(T, 3\)"),
        (np.zeros((10, 3)), np.zeros(9), r"labels have shape \(9,\); expected \(10,\)"),
        (np.where(np.arange(30).reshape(10, 3) == 13, np.nan, 0.0), np.zeros(10), r"sample 4 is not finite"),
        (np.zeros((10, 3)), np.full(10, 5), r"labels span 5..5; expected -1..1"),
    ],
)
def test_bad_recordings(signal, labels, match):
    with pytest.raises(ValueError, match=match):
        make(signal, labels)


def test_app_example(shared_data):
    jogging, png = L.load_app_example([shared_data])
    assert jogging.shape == (600, 3) and png.shape == (480, 640, 3)
    np.testing.assert_allclose(jogging[0], [4.18, -1.08, -0.27240697], rtol=1e-6)


def test_app_example_bad_line(tmp_path, shared_data):
    folder = tmp_path / "img2imu-app"
    folder.mkdir()
    (folder / "jogging.csv").write_text("1,2,3\n4,five,6\n")
    (folder / "jogging_combined.png").write_bytes((shared_data / "img2imu-app" / "jogging_combined.png").read_bytes())
    with pytest.raises(ValueError, match=r"jogging.csv:2: '4,five,6' is not three numbers"):
        L.load_app_example([tmp_path])
