"""Whole 2D classifiers: the probe's head on a frozen backbone, the fully supervised ResNet18, sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from img2imu_lib.evaluation import classifiers as K
from img2imu_lib import evaluation as S
from img2imu_lib.book.profiles import get_profile
from img2imu_lib.evaluation.features import backbone_inputs

SPECTROGRAM = (32, 24)
SMOKE = get_profile("smoke").evaluation


@pytest.fixture(scope="module")
def hapt() -> S.EvalData:
    return S.eval_data("hapt", max_windows=120)


@pytest.fixture(scope="module")
def split(hapt):
    return S.seed_splits(hapt, [0], 2)[0]


def test_probe_classifier_is_the_evaluations_chosen_head(hapt, split):
    candidate = S.random_2d_candidate(0)
    sizes = SMOKE
    model, choice = K.probe_classifier(candidate, hapt, split, spectrogram=SPECTROGRAM, sizes=sizes)
    images = backbone_inputs(hapt.windows[split.test], kind="image", fs=hapt.fs, spectrogram=(32, 24))
    f1, predicted = K.macro_f1_on(model, images, hapt.labels[split.test], classes=len(hapt.classes))
    assert f1 == pytest.approx(choice["test_f1"]["original"], abs=1e-9)  # the same seed trains the same head
    assert predicted.shape == (len(split.test),)
    assert choice["lr"] in sizes.lrs and choice["weight_decay"] in sizes.weight_decays
    fresh = candidate.load().state_dict()
    assert all(torch.equal(fresh[k], v) for k, v in model.state_dict().items() if not k.startswith("fc."))


def test_probe_classifier_refuses_a_sensor_backbone(hapt, split):
    sensor = S.Candidate("x", "sensor", lambda: None, "k")
    with pytest.raises(ValueError, match="sensor backbone"):
        K.probe_classifier(sensor, hapt, split, spectrogram=SPECTROGRAM, sizes=SMOKE)


def test_supervised_classifier_is_trained_once_then_read_back(hapt, split, monkeypatch):
    first = K.supervised_classifier(hapt, split, spectrogram=SPECTROGRAM, epochs=1)
    assert len(list((K.cache_dir() / "classifiers").glob("fully_supervised_2d-hapt-*.pt"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("trained again although the weights are cached")

    monkeypatch.setattr(K, "train_fully_supervised", no_training)
    second = K.supervised_classifier(hapt, split, spectrogram=SPECTROGRAM, epochs=1)
    assert all(torch.equal(v, second.state_dict()[k]) for k, v in first.state_dict().items())
    assert not second.training and second.fc.out_features == len(hapt.classes)


def test_balanced_sample():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 7)
    indices = np.arange(20)
    picked = K.balanced_sample(labels, indices, per_class=2, seed=1)
    assert np.bincount(labels[picked]).tolist() == [2, 2, 2] and np.all(np.diff(picked) > 0)
    assert np.bincount(labels[K.balanced_sample(labels, indices, total=12)]).tolist() == [4, 3, 4]  # a rare class keeps all
    assert np.array_equal(K.balanced_sample(labels, indices, per_class=2, seed=1), picked)
    assert len(K.balanced_sample(labels, indices)) == 20


def test_explain_sizes_are_checked():
    with pytest.raises(ValueError, match="at least one epoch"):
        K.ExplainSizes(supervised_epochs=0, compared_windows=10, samples_per_class=1)
