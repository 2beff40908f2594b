"""Every method through the one trainer: sensor baselines on windows, backbones back from checkpoints."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from img2imu_lib.pretraining.methods import SENSOR_METHODS, build
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.config import PretrainConfig, read_checkpoint
from img2imu_lib.pretraining.sensor import WindowCorpus
from img2imu_lib.pretraining.run_backbones import trained_backbone
from img2imu_lib.pretraining.trainer import pretrain
from img2imu_lib.pretraining.wrappers import split

from tests.pretraining.test_trainer import Corpus


@pytest.fixture(scope="module")
def windows() -> WindowCorpus:
    rng = np.random.default_rng(0)
    t = np.arange(100) / 50.0
    base = np.stack([np.sin(2 * np.pi * f * t) for f in (1.0, 2.0, 3.0)], axis=-1)  # (T, 3)
    x = 0.5 * base[None] * rng.uniform(0.5, 1.5, (32, 1, 3)) + rng.normal(0, 0.1, (32, 100, 3)) + [0.0, 0.0, 1.0]
    return WindowCorpus(x.astype(np.float32), name="synthetic", origin="test")


@pytest.mark.parametrize("method", SENSOR_METHODS)
def test_sensor_methods_train_and_give_back_a_standardising_backbone(tmp_path, windows, method):
    config = PretrainConfig(method=method, batch_size=8, epochs=1, warmup_epochs=0, max_steps=2, checkpoint_every=1)
    record = pretrain(config, tmp_path, corpus=windows, progress=False)
    assert record["steps"] == 2 and math.isfinite(record["final_loss"])
    assert record["corpus"]["mean_g"] == pytest.approx(windows.mean.tolist())
    backbone = trained_backbone(tmp_path)
    assert not backbone.training
    features = backbone(windows.windows[:4])
    assert features.ndim == 2 and len(features) == 4 and torch.isfinite(features).all()
    standardize = backbone[0]  # raw windows in g come in: the corpus's statistics go with the backbone
    assert standardize.mean.flatten().tolist() == pytest.approx(windows.mean.tolist(), rel=1e-6)
    assert features.shape[1] == backbone(windows.windows[:2, :100]).shape[1]


def test_image_backbone_from_a_checkpoint(tmp_path):
    config = PretrainConfig(batch_size=8, epochs=1, warmup_epochs=0, max_steps=1, moco=MoCoConfig(queue_size=16))
    pretrain(config, tmp_path, corpus=Corpus(), progress=False)
    backbone = trained_backbone(tmp_path)
    saved = read_checkpoint(tmp_path / "checkpoint.pt")["model"]
    assert torch.equal(backbone.conv1.weight, saved["net.encoder_q.conv1.weight"])  # the query encoder, trained
    assert backbone(torch.rand(2, 3, 96, 128)).shape == (2, 512)
    with pytest.raises(FileNotFoundError, match="no checkpoint; pre-train first"):
        trained_backbone(tmp_path / "missing")


def test_config_round_trip():
    config = PretrainConfig(method="moco_all", augmentations=("hue",), moco=MoCoConfig(queue_size=8), groups=2)
    assert PretrainConfig.from_dict(config.as_dict()) == config
    with pytest.raises(ValueError, match=r"config fields \['colour'\] are not PretrainConfig fields"):
        PretrainConfig.from_dict({**config.as_dict(), "colour": 1})


def test_split_cuts_tensors_and_labelled_batches():
    images, labels = torch.arange(8.0).reshape(4, 2), torch.arange(4)
    parts = split((images, labels), 2)
    assert [p[1].tolist() for p in parts] == [[0, 1], [2, 3]] and torch.equal(parts[1][0], images[2:])
    assert [p.tolist() for p in split(labels, 4)] == [[0], [1], [2], [3]]


def test_sensor_method_needs_the_corpus_statistics(windows):
    method = build(PretrainConfig(method="simclr_har"), windows)
    assert method.inner.config.std == pytest.approx(tuple(windows.std.tolist()))


def test_a_sensor_run_with_dropout_resumes_to_the_same_weights(tmp_path, windows):
    config = PretrainConfig(method="simclr_har", batch_size=8, epochs=2, warmup_epochs=0, max_steps=6, checkpoint_every=3)
    whole = pretrain(config, tmp_path / "whole", corpus=windows, progress=False)
    first = pretrain(dataclasses.replace(config, max_steps=3), tmp_path / "part", corpus=windows, progress=False)
    (tmp_path / "part" / "record.json").unlink()  # as if the process had died right after the checkpoint of step 3
    saved = read_checkpoint(tmp_path / "part" / "checkpoint.pt")
    saved["config"], saved["config_key"] = config.as_dict(), config.key()  # the same run, stopped at step 3
    torch.save(saved, tmp_path / "part" / "checkpoint.pt")
    resumed = pretrain(config, tmp_path / "part", corpus=windows, progress=False)
    assert first["losses"] == whole["losses"][:3] and resumed["losses"] == whole["losses"]
    a = read_checkpoint(tmp_path / "whole" / "checkpoint.pt")["model"]
    b = read_checkpoint(tmp_path / "part" / "checkpoint.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_command_line_trains_a_sensor_baseline(tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "limu"
    result = subprocess.run([sys.executable, "-m", "img2imu_lib", "pretrain", "--method", "limu_bert", "--profile", "smoke",
                             "--seconds", "5", "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((out / "record.json").read_text())
    assert record["steps"] == 2 and record["corpus"]["name"] == "capture24-substitute" and record["corpus"]["samples"] == 250
