"""Frozen features and the linear evaluation on them: the inputs of each kind, the backbone kept in eval mode,
the seed's split shared by every method, and a real score on windows whose classes differ in frequency.
(test_study.py checks that a backbone that changes while it runs is refused.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from img2imu_lib import evaluation as E
from img2imu_lib.pretraining.sensor import random_init_backbone

FS = 50.0


@pytest.fixture(scope="module")
def data() -> E.EvalData:
    """10 subjects x 3 classes x 8 windows of 2 s; class c is a 1, 4 or 10 Hz oscillation on all axes, plus noise."""
    rng = np.random.default_rng(0)
    t = np.arange(100) / FS
    windows, labels, subjects = [], [], []
    for subject in range(10):
        for c, hz in enumerate((1.0, 4.0, 10.0)):
            for _ in range(8):
                phase = rng.uniform(0, 2 * np.pi, 3)
                windows.append(np.sin(2 * np.pi * hz * t[:, None] + phase) + rng.normal(0, 0.2, (100, 3)))
                labels.append(c)
                subjects.append(subject)
    return E.EvalData("tones", np.array(windows, dtype=np.float32), np.array(labels), np.array(subjects), FS,
                      ("1 Hz", "4 Hz", "10 Hz"), 2.0, 240)


def sensor_candidate(seed: int) -> E.Candidate:
    return E.Candidate(f"cnn{seed}", "sensor", lambda: random_init_backbone(seed), f"cnn1d-seed{seed}")


def test_a_random_1d_cnn_separates_frequencies(data):
    feats = E.features(sensor_candidate(0), data)
    [result] = E.linear_eval(feats, data, E.seed_splits(data, [0], 5), lrs=(1e-2,), weight_decays=(0.0,), epochs=30)
    assert result["test_f1"]["original"] > 0.8  # chance is about 0.33
    assert result["shots_per_class"] == [5, 5, 5] and result["test_windows"] == 2 * 24  # 2 test subjects of 10


def test_every_method_of_a_seed_sees_the_same_windows(data):
    first, again = E.seed_splits(data, [0], 2), E.seed_splits(data, [0], 2)
    assert all(np.array_equal(getattr(first[0], k), getattr(again[0], k)) for k in ("train", "validation", "test", "shots"))
    [split] = first
    train, test = set(data.subjects[split.train]), set(data.subjects[split.test])
    assert not train & test and test == set(split.test_subjects.tolist())
    assert set(split.shots) <= set(split.train)
    [other] = E.seed_splits(data, [1], 2)
    assert set(other.test_subjects.tolist()) != test or not np.array_equal(other.shots, split.shots)


def test_inputs_of_each_kind(data):
    windows = data.windows[:4]
    images = E.backbone_inputs(windows, kind="image", fs=FS, spectrogram=(128, 116))
    assert images.shape == (4, 3, 96, 128) and images.min() < 0  # ImageNet-normalised
    raw = E.backbone_inputs(windows, kind="sensor", fs=FS, spectrogram=None)
    assert raw.dtype == torch.float32 and torch.equal(raw, torch.from_numpy(windows))
    with pytest.raises(ValueError, match="kind='audio'; expected one of"):
        E.backbone_inputs(windows, kind="audio", fs=FS, spectrogram=None)
    with pytest.raises(ValueError, match="image backbones take a spectrogram setting"):
        E.backbone_inputs(windows, kind="image", fs=FS, spectrogram=None)


def test_features_are_cached_and_follow_the_candidate_key(data):
    first = E.features(sensor_candidate(0), data)
    again = E.features(E.Candidate("cnn0", "sensor", lambda: pytest.fail("a cached feature file was recomputed"),
                                   "cnn1d-seed0"), data)
    assert torch.equal(first, again)
    assert not torch.equal(first, E.features(sensor_candidate(1), data))


def test_features_run_the_backbone_in_eval_mode(data):
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(300, 8), nn.BatchNorm1d(8))
    backbone.train()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    E.features(E.Candidate("bn", "sensor", lambda: backbone, "bn"), data)
    assert not backbone.training  # BatchNorm's running statistics were not touched
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())
