"""Bad checkpoints and run records, each test named for the file it is handed.

Every kind of ``torch.save`` file the library reads (run checkpoints, state dicts from other code, the ImageNet
weights, cached features and classifiers) is opened by ``store.load_tensors`` with ``weights_only=True``. A pickle
planted in any of them that would run a shell command runs nothing and gives an error naming the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from img2imu_lib import evaluation as E
from img2imu_lib.evaluation.classifiers import supervised_classifier
from img2imu_lib.pretraining import distributed
from img2imu_lib.pretraining.config import PretrainConfig, load_checkpoint, read_checkpoint
from img2imu_lib.pretraining.imagenet_weights import imagenet_backbone
from img2imu_lib.pretraining.run_backbones import trained_backbone
from img2imu_lib.pretraining.trainer import RunFolderInUse, pretrain, run_folder_lock
from img2imu_lib.store import UnreadableFile, cached_record, load_records, load_tensors, save_atomic

from .test_trainer import CONFIG, Corpus


class RunsAShellCommand:
    """Unpickled with ``weights_only=False``, this would create the file ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def plant(path: Path, marker: Path, *, around: dict | None = None) -> Path:
    """Write a torch.save file at ``path`` whose pickle calls os.system (inside ``around``, if given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({**(around or {}), "model": RunsAShellCommand(marker)}, path)
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished 6-step run: its folder, copied by the tests that damage it."""
    folder = tmp_path_factory.mktemp("finished")
    pretrain(CONFIG, folder, corpus=Corpus(), progress=False)
    return folder


def copy_run(source: Path, destination: Path) -> Path:
    destination.mkdir(parents=True)
    for name in ("checkpoint.pt", "record.json"):
        (destination / name).write_bytes((source / name).read_bytes())
    return destination


def test_a_planted_pickle_loads_as_nothing_and_names_the_file(tmp_path):
    marker = tmp_path / "ran"
    path = plant(tmp_path / "any.pt", marker)
    with pytest.raises(UnreadableFile, match=r"any.pt: not a .* asks for Python code.*nothing in it was run"):
        load_tensors(path)
    assert not marker.exists()


def test_a_planted_checkpoint_in_a_run_folder_is_refused_on_resume(tmp_path):
    marker = tmp_path / "ran"
    plant(tmp_path / "run" / "checkpoint.pt", marker, around={"config": CONFIG.as_dict(), "config_key": CONFIG.key()})
    with pytest.raises(UnreadableFile, match=r"checkpoint.pt: not a pre-training checkpoint .*delete it to start over"):
        pretrain(CONFIG, tmp_path / "run", corpus=Corpus(), progress=False)
    with pytest.raises(UnreadableFile, match="checkpoint.pt"):
        trained_backbone(tmp_path / "run")
    assert not marker.exists()


def test_a_planted_checkpoint_is_refused_by_evaluate_and_pretrain_on_the_command_line(tmp_path):
    marker = tmp_path / "ran"
    folder = tmp_path / "run"
    plant(folder / "checkpoint.pt", marker, around={"config": CONFIG.as_dict(), "config_key": CONFIG.key()})
    for command in (["evaluate", "--checkpoint", str(folder), "--dataset", "hapt", "--profile", "smoke"],
                    ["pretrain", "--profile", "smoke", "--out", str(folder)]):
        result = subprocess.run([sys.executable, "-m", "img2imu_lib", *command], capture_output=True, text=True,
                                env={**os.environ, "IMG2IMU_CACHE": str(tmp_path / "cache")})
        assert result.returncode == 2, result.stderr[-2000:]
        assert "checkpoint.pt: not a" in result.stderr and "nothing in it was run" in result.stderr
        assert "Traceback" not in result.stderr
    assert not marker.exists()


def test_a_planted_state_dict_is_refused_as_a_backbone(tmp_path):
    marker = tmp_path / "ran"
    path = plant(tmp_path / "resnet18.pth", marker)
    candidate = E.candidate_from_file(path)
    with pytest.raises(UnreadableFile, match="resnet18.pth: not a PyTorch state dict"):
        candidate.load()
    assert not marker.exists()


def test_planted_imagenet_weights_are_refused(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    plant(tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth", marker)
    with pytest.raises(UnreadableFile, match="resnet18-f37072fd.pth: not a ResNet18 state dict.*delete it and run"):
        imagenet_backbone()
    assert not marker.exists()


def tones() -> E.EvalData:
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(24, 100, 3)).astype(np.float32)
    return E.EvalData("noise", windows, np.repeat([0, 1, 2], 8), np.tile(np.arange(8), 3), 50.0, ("a", "b", "c"), 2.0, 24)


def test_a_planted_features_cache_is_replaced_without_running(tmp_path):
    from img2imu_lib.evaluation.features import _features_path
    from img2imu_lib.pretraining.sensor import random_init_backbone

    marker = tmp_path / "ran"
    data = tones()
    candidate = E.Candidate("cnn", "sensor", lambda: random_init_backbone(0), "planted-features-test")
    plant(_features_path(candidate, data, None, None, 0), marker)
    with pytest.warns(RuntimeWarning, match="not a cached tensor file this library opens.*removed it"):
        feats = E.features(candidate, data)
    assert feats.shape[0] == 24 and torch.isfinite(feats).all() and not marker.exists()
    assert torch.equal(E.features(candidate, data), feats)  # the recomputed file is the cache now


def test_a_planted_classifier_cache_is_trained_again_without_running(tmp_path, monkeypatch):
    from img2imu_lib.evaluation import classifiers

    marker = tmp_path / "ran"
    data = tones()
    split = E.seed_splits(data, [0], 2, allow_fewer=True)[0]
    planted = []

    def save_then_plant(obj, path):  # the first training writes its file; the test replaces it with a pickle
        save_atomic(obj, path)
        planted.append(path)

    monkeypatch.setattr(classifiers, "save_atomic", save_then_plant)
    supervised_classifier(data, split, spectrogram=(32, 16), epochs=1)
    plant(planted[0], marker)
    with pytest.warns(RuntimeWarning, match="removed it"):
        model = supervised_classifier(data, split, spectrogram=(32, 16), epochs=1)
    assert model.fc.out_features == 3 and not marker.exists()


def test_a_checkpoint_cut_short_beside_its_record_is_not_a_finished_run(finished, tmp_path):
    run = copy_run(finished, tmp_path / "run")
    data = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFile, match="checkpoint.pt: not a readable pre-training checkpoint, cut short"):
        pretrain(CONFIG, run, corpus=Corpus(limit=0), progress=False)


def test_a_missing_checkpoint_beside_its_record_is_not_a_finished_run(finished, tmp_path):
    run = copy_run(finished, tmp_path / "run")
    (run / "checkpoint.pt").unlink()
    with pytest.raises(FileNotFoundError, match="says the run finished, but .*checkpoint.pt is missing"):
        pretrain(CONFIG, run, corpus=Corpus(limit=0), progress=False)


def test_a_record_ahead_of_its_checkpoint_is_not_a_finished_run(finished, tmp_path):
    run = copy_run(finished, tmp_path / "run")
    record = json.loads((run / "record.json").read_text())
    (run / "record.json").write_text(json.dumps({**record, "steps": 60}))
    with pytest.raises(UnreadableFile, match="is at step 6, but .*record.json says the run finished at step 60"):
        pretrain(CONFIG, run, corpus=Corpus(limit=0), progress=False)


@pytest.mark.parametrize("content", ['{"config_key": "ab', "\x00\xff garbage", "[1, 2, 3]", '{"config_key": "x"}'],
                         ids=["cut short", "binary", "a list", "no steps"])
def test_a_garbage_run_record_is_a_clear_error(finished, tmp_path, content):
    run = copy_run(finished, tmp_path / "run")
    (run / "record.json").write_text(content, encoding="latin-1")
    with pytest.raises(UnreadableFile, match="record.json: not a run record"):
        pretrain(CONFIG, run, corpus=Corpus(limit=0), progress=False)


def test_a_finished_run_is_still_reused_after_the_checks(finished, tmp_path):
    run = copy_run(finished, tmp_path / "run")
    record = pretrain(CONFIG, run, corpus=Corpus(limit=0), progress=False)  # would raise if it trained
    assert record["steps"] == 6


def test_a_state_dict_named_checkpoint_pt_in_a_run_folder_is_not_resumed(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"conv1.weight": torch.zeros(1)}, run / "checkpoint.pt")
    with pytest.raises(UnreadableFile, match=r"holds a dict with keys \['conv1.weight'\]; expected a pre-training"):
        pretrain(CONFIG, run, corpus=Corpus(), progress=False)


def test_a_checkpoint_from_another_version_names_its_unknown_fields(finished, tmp_path):
    run = copy_run(finished, tmp_path / "run")
    (run / "record.json").unlink()
    saved = read_checkpoint(run / "checkpoint.pt")
    torch.save({**saved, "config": {**saved["config"], "future_field": 1}}, run / "checkpoint.pt")
    with pytest.raises(UnreadableFile, match=r"its config cannot be read .*\['future_field'\]"):
        pretrain(CONFIG, run, corpus=Corpus(), progress=False)


def test_a_config_mismatch_names_only_the_fields_that_differ(finished, tmp_path):
    run = copy_run(finished, tmp_path / "run")
    other = PretrainConfig(**{**CONFIG.__dict__, "seed": 9, "lr_peak": 2e-3})
    with pytest.raises(ValueError) as caught:
        load_checkpoint(run / "checkpoint.pt", other)
    message = str(caught.value)
    assert "lr_peak: 0.001 -> 0.002, seed: 0 -> 9;" in message and len(message) < 300, message


def test_stale_temporaries_of_a_killed_save_are_removed_when_a_run_starts(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = run / f".checkpoint.pt.tmp-{dead.stdout.strip()}"
    stale.write_bytes(b"half a checkpoint")
    live = run / f".checkpoint.pt.tmp-{os.getppid()}"  # a running process (pytest's parent) may still be writing it
    live.write_bytes(b"being written")
    pretrain(CONFIG, run, corpus=Corpus(), progress=False)
    assert not stale.exists() and live.exists()


def test_a_run_folder_in_use_by_another_process_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with run_folder_lock(run, distributed.current()):
        with pytest.raises(RunFolderInUse, match=rf"{run} is in use by process {os.getpid()}"):
            pretrain(CONFIG, run, corpus=Corpus(), progress=False)
    assert pretrain(CONFIG, run, corpus=Corpus(), progress=False)["steps"] == 6  # free again


def test_a_full_disk_during_a_checkpoint_keeps_the_last_one(tmp_path, monkeypatch):
    run = tmp_path / "run"
    config = PretrainConfig(**{**CONFIG.__dict__, "checkpoint_every": 2})
    saves = []

    def fills_up(obj, path, *args, **kwargs):
        saves.append(path)
        if len(saves) == 2:
            Path(path).write_bytes(b"part")
            raise OSError(28, "No space left on device", str(path))
        return real_save(obj, path, *args, **kwargs)

    real_save = torch.save
    monkeypatch.setattr(torch, "save", fills_up)
    with pytest.raises(OSError, match="No space left on device"):
        pretrain(config, run, corpus=Corpus(), progress=False)
    monkeypatch.undo()
    assert sorted(p.name for p in run.iterdir()) == [".lock", "checkpoint.pt"]  # no temporary left behind
    assert read_checkpoint(run / "checkpoint.pt")["state"]["global_step"] == 2
    assert pretrain(config, run, corpus=Corpus(), progress=False)["steps"] == 6


@pytest.mark.parametrize("content", ['{"stage": "cli", "key": "', "[]", '{"key": "another"}'],
                         ids=["cut short", "a list", "another key"])
def test_a_damaged_evaluation_record_is_computed_again(tmp_path, content):
    computed = []
    first = cached_record(tmp_path, "cli", "m", {"x": 1}, lambda: computed.append(1) or {"f1": 0.5})
    Path(tmp_path / "cli" / f"m-{first['key']}.json").write_text(content)
    again = cached_record(tmp_path, "cli", "m", {"x": 1}, lambda: computed.append(1) or {"f1": 0.5})
    assert again["f1"] == 0.5 and again["key"] == first["key"] and len(computed) == 2


def test_a_damaged_record_in_the_results_log_is_a_clear_error(tmp_path):
    cached_record(tmp_path, "cli", "m", {"x": 1}, lambda: {"f1": 0.5})
    (tmp_path / "cli" / "broken.json").write_text('{"f1": 0.')
    with pytest.raises(UnreadableFile, match=r"cli/broken.json: not a record, cut short"):
        load_records(tmp_path)


def test_a_finished_run_of_another_config_is_never_trained_over(finished, tmp_path):
    run = copy_run(finished, tmp_path / "run")
    (run / "checkpoint.pt").unlink()  # even without its checkpoint, the record says what the folder holds
    other = PretrainConfig(**{**CONFIG.__dict__, "seed": 9})
    with pytest.raises(ValueError, match=r"record.json: a finished run of another config \(seed: 0 -> 9\)"):
        pretrain(other, run, corpus=Corpus(), progress=False)
    assert json.loads((run / "record.json").read_text())["config_key"] == CONFIG.key()
