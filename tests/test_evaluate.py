"""Linear evaluation of a backbone: the seed's split and shots, the inputs of each kind, and a real score."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from img2imu_lib.evaluate import EvalConfig, backbone_inputs, evaluate
from img2imu_lib.probe import ProbeConfig
from img2imu_lib.sensor import random_init_backbone

FS = 50.0


@pytest.fixture(scope="module")
def dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    return np.array(windows, dtype=np.float32), np.array(labels), np.array(subjects)


def test_a_random_1d_cnn_separates_frequencies(dataset):
    windows, labels, subjects = dataset
    config = EvalConfig(shots=5, probe=ProbeConfig(epochs=30, lr=1e-2))
    result = evaluate(random_init_backbone(0), windows, labels, subjects, kind="sensor", fs=FS, classes=3, config=config)
    assert result["macro_f1"] > 0.8  # chance is about 0.33
    assert len(result["train_windows"]) == 15 and len(result["test_windows"]) == 2 * 24  # 2 test subjects of 10


def test_every_method_of_a_seed_sees_the_same_windows(dataset):
    windows, labels, subjects = dataset
    config = EvalConfig(shots=2, probe=ProbeConfig(epochs=1))
    image_backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    image = evaluate(image_backbone, windows, labels, subjects, kind="image", fs=FS, classes=3, config=config)
    sensor = evaluate(random_init_backbone(1), windows, labels, subjects, kind="sensor", fs=FS, classes=3, config=config)
    assert np.array_equal(image["train_windows"], sensor["train_windows"])
    assert np.array_equal(image["test_windows"], sensor["test_windows"])
    train_subjects, test_subjects = set(subjects[image["train_windows"]]), set(subjects[image["test_windows"]])
    assert not train_subjects & test_subjects and test_subjects == set(image["test_subjects"])
    other = evaluate(random_init_backbone(1), windows, labels, subjects, kind="sensor", fs=FS, classes=3,
                     config=EvalConfig(shots=2, seed=1, probe=ProbeConfig(epochs=1)))
    assert other["test_subjects"] != sensor["test_subjects"] or not np.array_equal(other["train_windows"], sensor["train_windows"])


def test_inputs_of_each_kind(dataset):
    windows = dataset[0][:4]
    images = backbone_inputs(windows, kind="image", fs=FS, config=EvalConfig())
    assert images.shape == (4, 3, 96, 128) and images.min() < 0  # ImageNet-normalised
    raw = backbone_inputs(windows, kind="sensor", fs=FS, config=EvalConfig())
    assert raw.dtype == torch.float32 and torch.equal(raw, torch.from_numpy(windows))
    with pytest.raises(ValueError, match="kind='audio'; expected one of"):
        backbone_inputs(windows, kind="audio", fs=FS, config=EvalConfig())
