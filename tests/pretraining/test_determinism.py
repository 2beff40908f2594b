"""Two fresh runs of one config, in two folders at the same thread count, end with bit-identical weights."""

from __future__ import annotations

import dataclasses

import torch

from img2imu_lib.book.profiles import get_profile
from img2imu_lib.pretraining.config import read_checkpoint
from img2imu_lib.pretraining.sensor import WindowCorpus
from img2imu_lib.pretraining.trainer import pretrain

from tests.pretraining.sensor.conftest import make_windows
from tests.pretraining.test_trainer import Corpus

SMOKE = get_profile("smoke").pretraining  # batch 8, 2 steps


def twice(config, corpus, tmp_path) -> tuple[dict, dict, list[dict]]:
    """Two fresh runs of ``config``: their records and the weights each checkpoint holds."""
    records = [pretrain(config, tmp_path / name, corpus=corpus, progress=False) for name in ("first", "second")]
    weights = [read_checkpoint(tmp_path / name / "checkpoint.pt")["model"] for name in ("first", "second")]
    return records[0], records[1], weights


def test_a_sensor_baseline_trains_to_the_same_bits_twice(tmp_path):
    corpus = WindowCorpus(make_windows(32, 100).numpy(), name="synthetic", origin="test")
    config = dataclasses.replace(SMOKE.config(method="simclr_har"), checkpoint_every=1)  # dropout in its encoder
    first, second, (a, b) = twice(config, corpus, tmp_path)
    assert first["torch_threads"] == second["torch_threads"] == torch.get_num_threads()
    assert first["precision"] == second["precision"] == "fp32"
    assert first["steps"] == 2 and first["losses"] == second["losses"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    initial = pretrain(dataclasses.replace(config, max_steps=1), tmp_path / "one step", corpus=corpus, progress=False)
    assert initial["losses"] == first["losses"][:1] and first["losses"][0] != first["losses"][1]


def test_img2imu_on_mobilenet_v2_trains_to_the_same_bits_twice(tmp_path):
    config = SMOKE.config(method="img2imu", arch="mobilenet_v2", precision="fp32", batch_size=4, max_steps=3)
    first, second, (a, b) = twice(config, Corpus(), tmp_path)
    assert first["torch_threads"] == second["torch_threads"] == torch.get_num_threads()
    assert first["losses"] == second["losses"] and first["accuracies"] == second["accuracies"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # key encoder and queue included
    assert not torch.equal(a["net.encoder_q.features.0.0.weight"], a["net.encoder_k.features.0.0.weight"])  # it moved
