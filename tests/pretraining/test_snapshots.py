"""Snapshots of the backbone for learning curves: written at the steps asked for, kept across a resume,
read back by ``snapshot_backbone``; and MoCo's top-1 accuracy beside the loss of every step."""

from __future__ import annotations

import dataclasses
import os

import pytest
import torch
import torchvision

from img2imu_lib.pretraining.backbones import image_backbone
from img2imu_lib.pretraining.config import PretrainConfig
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.sensor import WindowCorpus
from img2imu_lib.pretraining.run_backbones import snapshot_backbone, trained_backbone
from img2imu_lib.pretraining.trainer import pretrain
from img2imu_lib.store import load_tensors

from tests.pretraining.sensor.conftest import make_windows
from tests.pretraining.test_trainer import Corpus

CONFIG = PretrainConfig(arch="mobilenet_v2", batch_size=4, epochs=1, warmup_epochs=0, max_steps=6, checkpoint_every=3,
                        lr_peak=1e-3, moco=MoCoConfig(queue_size=16), seed=3, snapshots=(0, 2, 5, 6))


def snapshot_files(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("snapshot-*.pt"))


def equal_states(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """An uninterrupted run of CONFIG: its folder and record."""
    folder = tmp_path_factory.mktemp("whole")
    return folder, pretrain(CONFIG, folder, corpus=Corpus(), progress=False)


def test_snapshots_are_written_at_the_steps_asked_for(whole):
    folder, record = whole
    names = ["snapshot-000000.pt", "snapshot-000002.pt", "snapshot-000005.pt", "snapshot-000006.pt"]
    assert snapshot_files(folder) == names
    assert record["snapshots"] == {"0": names[0], "2": names[1], "5": names[2], "6": names[3]}
    for name in names:
        weights = load_tensors(folder / name)
        assert type(weights) is dict and all(isinstance(v, torch.Tensor) for v in weights.values())  # tensors only
    assert not list(folder.glob(".*.tmp-*"))  # written atomically: no temporary left


def test_the_step_zero_snapshot_is_the_initial_backbone_and_later_ones_move(whole):
    folder, _ = whole
    initial = image_backbone("mobilenet_v2", "random", 3).state_dict()
    step0, step2 = load_tensors(folder / "snapshot-000000.pt"), load_tensors(folder / "snapshot-000002.pt")
    assert equal_states(step0, initial)
    assert not torch.equal(step2["features.0.0.weight"], step0["features.0.0.weight"])  # two Adam steps later
    last = snapshot_backbone(folder, 6).state_dict()  # the final step is what trained_backbone gives
    assert equal_states(last, trained_backbone(folder).state_dict())


def test_snapshot_backbone_gives_the_runs_module_in_eval_mode(whole):
    folder, _ = whole
    backbone = snapshot_backbone(folder, 2)
    assert isinstance(backbone, torchvision.models.MobileNetV2) and not backbone.training
    assert equal_states(backbone.state_dict(), load_tensors(folder / "snapshot-000002.pt"))
    assert backbone(torch.rand(2, 3, 96, 128)).shape == (2, 1280)


def test_accuracies_sit_beside_the_losses(whole):
    _, record = whole
    accuracies = record["accuracies"]
    assert len(accuracies) == len(record["losses"]) == 6
    assert all(0.0 <= a <= 1.0 for a in accuracies)
    assert all(abs(a * 4 - round(a * 4)) < 1e-6 for a in accuracies)  # k of the batch's 4 queries


def test_snapshots_and_accuracies_survive_a_resume(tmp_path, whole):
    folder, record = whole
    with pytest.raises(KeyboardInterrupt):
        pretrain(CONFIG, tmp_path, corpus=Corpus(limit=4 * 4), progress=False)  # dies loading step 5
    assert snapshot_files(tmp_path) == ["snapshot-000000.pt", "snapshot-000002.pt"]
    kept = os.stat(tmp_path / "snapshot-000002.pt").st_mtime_ns
    resumed = pretrain(CONFIG, tmp_path, corpus=Corpus(), progress=False)  # from the checkpoint of step 3
    assert os.stat(tmp_path / "snapshot-000002.pt").st_mtime_ns == kept  # the earlier snapshot was kept, not redone
    assert snapshot_files(tmp_path) == snapshot_files(folder) and resumed["snapshots"] == record["snapshots"]
    for name in snapshot_files(folder):
        assert equal_states(load_tensors(tmp_path / name), load_tensors(folder / name))
    assert resumed["accuracies"] == record["accuracies"] and resumed["losses"] == record["losses"]


def test_a_snapshot_of_a_step_already_passed_cannot_be_made_up(tmp_path):
    plain = dataclasses.replace(CONFIG, snapshots=())
    with pytest.raises(KeyboardInterrupt):
        pretrain(plain, tmp_path, corpus=Corpus(limit=4 * 4), progress=False)  # checkpoint of step 3, no snapshots
    with pytest.raises(ValueError, match=r"resumes at step 3 without snapshots at steps \[0, 2\]"):
        pretrain(dataclasses.replace(CONFIG, snapshots=(0, 2, 5)), tmp_path, corpus=Corpus(), progress=False)
    record = pretrain(dataclasses.replace(CONFIG, snapshots=(4,)), tmp_path, corpus=Corpus(), progress=False)
    assert record["snapshots"] == {"4": "snapshot-000004.pt"}  # a later step is still to come: it is written
    with pytest.raises(ValueError, match=r"a finished run of 6 steps without snapshots at steps \[5\] \(it kept \[4\]"):
        pretrain(dataclasses.replace(CONFIG, snapshots=(4, 5)), tmp_path, corpus=Corpus(), progress=False)
    again = pretrain(dataclasses.replace(CONFIG, snapshots=(4,)), tmp_path, corpus=Corpus(limit=0), progress=False)
    assert again["losses"] == record["losses"]  # reused, not trained (the corpus would have crashed)


def test_a_snapshot_past_the_last_step_is_refused_when_the_run_starts(tmp_path):
    with pytest.raises(ValueError, match=r"snapshots=\(2, 7\): step 7 is past this run's 6 steps \(1 epochs of 8 "
                                         r"steps, max_steps=6\)"):
        pretrain(dataclasses.replace(CONFIG, snapshots=(2, 7)), tmp_path, corpus=Corpus(), progress=False)
    assert not (tmp_path / "checkpoint.pt").exists() and not snapshot_files(tmp_path)  # refused before any step


def test_snapshot_backbone_names_the_steps_there_are(tmp_path, whole):
    folder, _ = whole
    with pytest.raises(FileNotFoundError, match=r"no snapshot at step 3; the run kept snapshots at steps \[0, 2, 5, 6\]"):
        snapshot_backbone(folder, 3)
    with pytest.raises(FileNotFoundError, match="checkpoint.pt: no checkpoint; pre-train first"):
        snapshot_backbone(tmp_path, 0)
    with pytest.raises(ValueError, match="step=-1; expected a whole number >= 0"):
        snapshot_backbone(folder, -1)
    plain = pretrain(dataclasses.replace(CONFIG, max_steps=1, snapshots=()), tmp_path / "plain", corpus=Corpus(),
                     progress=False)
    assert plain["snapshots"] == {}
    with pytest.raises(FileNotFoundError, match="no snapshot at step 0; the run kept snapshots at steps none"):
        snapshot_backbone(tmp_path / "plain", 0)


def test_a_deleted_snapshot_is_reported_missing(tmp_path):
    config = dataclasses.replace(CONFIG, max_steps=2, snapshots=(1, 2))
    pretrain(config, tmp_path, corpus=Corpus(), progress=False)
    (tmp_path / "snapshot-000001.pt").unlink()
    with pytest.raises(FileNotFoundError, match=r"no snapshot at step 1; the run kept snapshots at steps \[2\]"):
        snapshot_backbone(tmp_path, 1)
    with pytest.raises(ValueError, match=r"without snapshots at steps \[1\] \(it kept \[2\]"):
        pretrain(config, tmp_path, corpus=Corpus(), progress=False)


def test_sensor_snapshots_load_into_the_sensor_backbone(tmp_path):
    corpus = WindowCorpus(make_windows(32, 100).numpy(), name="synthetic", origin="test")
    config = PretrainConfig(method="simclr_har", batch_size=8, epochs=1, warmup_epochs=0, max_steps=2, snapshots=(0, 2))
    record = pretrain(config, tmp_path, corpus=corpus, progress=False)
    assert record["accuracies"] is None  # a method without an accuracy
    first, last = snapshot_backbone(tmp_path, 0), snapshot_backbone(tmp_path, 2)
    assert equal_states(last.state_dict(), trained_backbone(tmp_path).state_dict())
    assert not equal_states(first.state_dict(), last.state_dict())
    assert not first.training
    assert first[0].mean.flatten().tolist() == pytest.approx(corpus.mean.tolist(), rel=1e-6)  # the corpus statistics
    assert first(corpus.windows[:3]).shape == last(corpus.windows[:3]).shape == (3, 96)
