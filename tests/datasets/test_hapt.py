"""Tests of the HAPT reader: the real packaged file, and its restricted unpickler on bad files."""

from __future__ import annotations

import gzip
import os
import pickle

import numpy as np
import pytest

import img2imu_lib as L
from img2imu_lib.datasets.hapt import hapt_file


@pytest.fixture(scope="module")
def recordings() -> list[L.Recording]:
    return L.load_hapt()


def test_all_subjects_and_sessions(recordings):
    assert sorted({r.subject for r in recordings}) == list(range(1, 31))
    assert len(recordings) == 61  # subject 10 has three recordings, the others two
    assert all(r.fs == 50.0 and r.classes == L.HAPT_CLASSES for r in recordings)


def test_first_samples_are_the_published_values(recordings):
    first = recordings[0]
    assert (first.subject, first.session, first.signal.shape) == (1, 0, (20598, 3))
    np.testing.assert_allclose(first.signal[0], [0.9180556, -0.1125, 0.50972223], rtol=1e-6)
    assert first.extra["gyro"].shape == (20598, 3)


def test_acceleration_is_in_g(recordings):
    # a waist phone mostly at rest or walking: the mean magnitude is close to 1 g
    magnitude = np.linalg.norm(np.concatenate([r.signal for r in recordings]), axis=1)
    assert 0.95 < magnitude.mean() < 1.1


def test_labels(recordings):
    labels = np.concatenate([r.labels for r in recordings])
    assert labels.min() == -1 and labels.max() == 11
    counts = np.bincount(labels[labels >= 0], minlength=12)
    assert (counts[:6] > 100_000).all()  # the six activities are long
    assert (counts[6:] > 0).all() and (counts[6:] < counts[:6].min()).all()  # transitions are short


def test_subject_filter():
    chosen = L.load_hapt(subjects=[3, 7])
    assert sorted({r.subject for r in chosen}) == [3, 7]
    with pytest.raises(ValueError, match=r"subjects \[99\]: none of them is in HAPT"):
        L.load_hapt(subjects=[99])


def test_rejects_a_pickle_that_asks_for_other_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo hacked",))

    bad = tmp_path / "HAPT.pkl.gz"
    with gzip.open(bad, "wb") as f:
        pickle.dump({1: [Exploit()]}, f, protocol=2)
    with pytest.raises(ValueError, match=r"HAPT.pkl.gz.*asks for (posix|os)\.system, which this reader does not allow"):
        L.load_hapt(bad)


def test_truncated_file_names_the_file(tmp_path):
    data = hapt_file().read_bytes()[:50_000]
    bad = tmp_path / "truncated.pkl.gz"
    bad.write_bytes(data)
    with pytest.raises(ValueError, match=r"truncated.pkl.gz: cannot read the pickle"):
        L.load_hapt(bad)


def test_wrong_structure_names_the_file(tmp_path):
    bad = tmp_path / "list.pkl.gz"
    with gzip.open(bad, "wb") as f:
        pickle.dump([1, 2, 3], f, protocol=2)
    with pytest.raises(ValueError, match=r"list.pkl.gz: expected a dict of subject -> DataFrames, found list"):
        L.load_hapt(bad)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing.pkl.gz: no such file; expected the HAPT.pkl.gz file"):
        L.load_hapt(tmp_path / "nothing.pkl.gz")
