"""The evaluation's datasets come from the registry alone: a new entry is picked up, a corpus is refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from img2imu_lib import evaluation as E
from img2imu_lib.datasets import registry
from img2imu_lib.datasets.recording import Recording


def tones(folder) -> tuple[list[Recording], dict[str, int]]:
    """Four subjects, two classes: 60 s of a 2 Hz tone (class 0) then 60 s of an 8 Hz tone (class 1), at 100 Hz."""
    t = np.arange(12000) / 100.0
    recordings = []
    for subject in range(4):
        hz = np.where(t < 60, 2.0, 8.0)
        signal = np.sin(2 * np.pi * hz * t)[:, None].repeat(3, axis=1).astype(np.float32)
        recordings.append(Recording("tones", subject, 1, signal, (t >= 60).astype(np.int64), 100.0, ("low", "high")))
    return recordings, {}


@pytest.fixture
def with_tones(monkeypatch):
    info = dataclasses.replace(registry.DATASETS["watch"], name="tones", classes=("low", "high"), fs=100.0,
                               window_seconds=2.0, offline=True, folder=None, read=tones)
    monkeypatch.setitem(registry.DATASETS, "tones", info)
    return info


def test_a_new_registry_entry_is_evaluated_without_a_second_list(with_tones):
    assert "tones" in E.downstream_datasets() and "tones" in E.available_datasets()
    data = E.eval_data("tones", max_windows=None)
    assert data.fs == 50.0 and data.windows.shape[1:] == (100, 3)  # resampled to the protocol's 50 Hz
    assert data.classes == ("low", "high") and set(np.unique(data.subjects)) == {0, 1, 2, 3}
    assert np.bincount(data.labels).tolist() == [236, 236]  # 4 x 59 2-s windows; the one across the change dropped


def test_a_pretraining_corpus_is_refused_by_name():
    assert "capture24" not in E.downstream_datasets()
    with pytest.raises(ValueError, match="'capture24' is a pre-training corpus"):
        E.eval_data("capture24", max_windows=10)


def test_registry_order_is_the_evaluation_order():
    assert E.downstream_datasets() == [n for n, info in registry.DATASETS.items() if info.downstream]
    assert E.downstream_datasets()[:3] == ["hapt", "watch", "daphnet"]
