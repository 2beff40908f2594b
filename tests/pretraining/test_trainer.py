"""Tests of the pre-training loop: exact resume, checkpoints, records, NaN stop, reuse."""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.data import Dataset

from img2imu_lib.pretraining.corpora import OfflineCorpus
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.config import EpochOrder, PretrainConfig, read_checkpoint
from img2imu_lib.pretraining.trainer import pretrain

CONFIG = PretrainConfig(batch_size=8, epochs=2, warmup_epochs=1, moco=MoCoConfig(queue_size=32), max_steps=6,
                        checkpoint_every=3, lr_peak=1e-3, lr_end=1e-4)


class Corpus(Dataset):
    """32 offline images; can crash (as a killed process would) or turn to NaN after ``limit`` reads."""

    def __init__(self, limit: int | None = None, crash: bool = True) -> None:
        self.base, self.reads, self.limit, self.crash = OfflineCorpus(32, seed=1), 0, limit, crash
        self.images = [self.base[i] for i in range(32)]

    def __len__(self) -> int:
        return 32

    def __getitem__(self, index: int) -> torch.Tensor:
        self.reads += 1
        if self.limit is not None and self.reads > self.limit:
            if self.crash:
                raise KeyboardInterrupt("stopped by the test")
            return torch.full_like(self.images[index], float("nan"))
        return self.images[index]

    def describe(self) -> dict:
        return {"name": "test", "size": 32, "origin": "test"}


def test_epoch_order_is_a_function_of_seed_and_epoch():
    full = list(EpochOrder(32, 8, seed=3, epoch=1))
    assert len(full) == 4 and sorted(i for b in full for i in b) == list(range(32))
    assert list(EpochOrder(32, 8, seed=3, epoch=1, start=2)) == full[2:]
    assert list(EpochOrder(32, 8, seed=3, epoch=2)) != full


def test_resumed_run_ends_with_the_same_weights(tmp_path):
    whole = pretrain(CONFIG, tmp_path / "whole", corpus=Corpus(), progress=False)
    with pytest.raises(KeyboardInterrupt):
        pretrain(CONFIG, tmp_path / "resumed", corpus=Corpus(limit=4 * 8), progress=False)  # dies loading step 5
    saved = read_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    assert saved["state"]["global_step"] == 3  # the checkpoint of step 3 survived the crash
    resumed = pretrain(CONFIG, tmp_path / "resumed", corpus=Corpus(), progress=False)
    assert resumed["steps"] == whole["steps"] == 6 and resumed["losses"] == whole["losses"]
    a = read_checkpoint(tmp_path / "whole" / "checkpoint.pt")["model"]
    b = read_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # queue and key encoder included


def test_record_and_reuse(tmp_path):
    record = pretrain(CONFIG, tmp_path, corpus=Corpus(), progress=False)
    on_disk = json.loads((tmp_path / "record.json").read_text())
    assert on_disk["config_key"] == CONFIG.key() and on_disk["steps"] == 6 and on_disk["corpus"]["name"] == "test"
    assert record["samples_per_second"] > 0 and len(record["losses"]) == 6 and record["commit"]
    assert on_disk["precision"] == CONFIG.precision and on_disk["bf16_hardware"]["device"] == "cpu"
    assert isinstance(on_disk["bf16_hardware"]["native"], bool)
    assert on_disk["torch_threads"] == torch.get_num_threads() >= 1
    accuracies = on_disk["accuracies"]  # MoCo's InfoNCE top-1 accuracy of every step, beside its loss
    assert len(accuracies) == len(on_disk["losses"]) and all(0.0 <= a <= 1.0 for a in accuracies)
    assert all(abs(a * 8 - round(a * 8)) < 1e-6 for a in accuracies)  # k of the batch's 8 queries
    assert on_disk["snapshots"] == {} and not list(tmp_path.glob("snapshot-*.pt"))  # none asked for, none written
    again = pretrain(CONFIG, tmp_path, corpus=Corpus(limit=0), progress=False)  # would crash if it trained
    assert again["final_loss"] == record["final_loss"]


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    with pytest.raises(FloatingPointError, match="loss is nan at step 4"):
        pretrain(CONFIG, tmp_path, corpus=Corpus(limit=4 * 8, crash=False), progress=False)
    saved = read_checkpoint(tmp_path / "checkpoint.pt")
    assert saved["state"]["global_step"] == 3


def test_bad_checkpoints(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="checkpoint.pt: not a pre-training checkpoint this library opens"):
        pretrain(CONFIG, tmp_path, corpus=Corpus(), progress=False)
    other = PretrainConfig(**{**CONFIG.__dict__, "seed": 9})
    pretrain(other, tmp_path / "other", corpus=Corpus(), progress=False)
    (tmp_path / "other" / "record.json").unlink()
    with pytest.raises(ValueError, match="made with another config"):
        pretrain(CONFIG, tmp_path / "other", corpus=Corpus(), progress=False)


def test_config_checks():
    with pytest.raises(ValueError, match="method='simclr'; expected one of"):
        PretrainConfig(method="simclr")
    assert PretrainConfig().key() != PretrainConfig(augmentations=("hue", "jitter")).key()
    assert PretrainConfig().key() == PretrainConfig(checkpoint_every=7).key()


def test_command_line_smoke_run(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "img2imu_lib", "pretrain", "--profile", "smoke", "--images", "offline",
                             "--augmentations", "hue", "jitter", "--snapshots", "0", "2", "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["method"] == "img2imu" and summary["steps"] == 2 and summary["corpus"]["name"] == "offline"
    record = json.loads((out / "record.json").read_text())
    assert record["config"]["augmentations"] == ["hue", "jitter"]
    assert (out / "checkpoint.pt").exists()
    assert record["snapshots"] == {"0": "snapshot-000000.pt", "2": "snapshot-000002.pt"}
    assert (out / "snapshot-000000.pt").exists() and (out / "snapshot-000002.pt").exists()


def test_command_line_backbone_flags(capsys):
    from img2imu_lib.__main__ import build_parser

    args = build_parser().parse_args(["pretrain", "--arch", "mobilenet_v2", "--init", "imagenet", "--out", "x"])
    assert (args.arch, args.init, args.snapshots) == ("mobilenet_v2", "imagenet", None)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["pretrain", "--arch", "vgg16", "--out", "x"])
    err = capsys.readouterr().err
    assert "invalid choice: 'vgg16'" in err and "resnet18" in err and "mobilenet_v2" in err


def test_profile_sizes_never_change_the_method():
    from img2imu_lib.book.profiles import profile_config

    smoke, paper = profile_config("smoke", method="moco_all"), profile_config("paper", method="moco_all")
    assert smoke.method == paper.method == "moco_all" and smoke.augmentations == paper.augmentations
    assert (paper.epochs, paper.batch_size, paper.moco.queue_size, paper.lr_peak) == (40, 256, 4096, 1e-5)
    with pytest.raises(ValueError, match="profile 'huge'"):
        profile_config("huge")
