"""Tests of profiles and seeding: one ``PROFILES`` table, each profile composed of every stage's sizes."""

from __future__ import annotations

import argparse
import dataclasses
import random
from typing import get_type_hints

import numpy as np
import pytest
import torch

import img2imu_lib as L
from img2imu_lib.__main__ import build_parser
from img2imu_lib.book.profiles import PROFILES, ChapterSizes, CurveSizes, Profile, get_profile, profile_config
from img2imu_lib.book.runs import book_runs
from img2imu_lib.deploy.export import OnDeviceSizes
from img2imu_lib.evaluation.classifiers import ExplainSizes
from img2imu_lib.evaluation.study import EvalSizes
from img2imu_lib.pretraining import config as pretraining_config
from img2imu_lib.pretraining.config import PretrainConfig, PretrainSizes
from img2imu_lib.pretraining.methods import method_kind

from ..conftest import build_book_module

# PretrainConfig.key() of profile_config(profile, method=...) when the sizes moved into PretrainSizes: cached
# runs are found by these keys, so a change of sizes or of the config's fields must be deliberate
PINNED_KEYS = {
    ("smoke", "img2imu"): "c1acda0ec53d", ("smoke", "moco_all"): "c954089575cc", ("smoke", "simsiam"): "2be67d8ea0fb",
    ("smoke", "supervised"): "816cfbe4e67d", ("smoke", "simclr_har"): "fb02ace1ad1a", ("smoke", "limu_bert"): "af84ba90a8eb",
    # the cpu profile's image runs since they split a batch into 4 BatchNorm groups (shuffle-BN), its sensor runs since
    # they train for 8 epochs
    ("cpu", "img2imu"): "cf3d9d28bc80", ("cpu", "moco_all"): "f9abe95d6e91", ("cpu", "simsiam"): "7f35585ade70",
    ("cpu", "supervised"): "f5e8b953ce6f", ("cpu", "simclr_har"): "391c5e92d324", ("cpu", "limu_bert"): "96ca53f17070",
    ("paper", "img2imu"): "50aa7e2ffb76", ("paper", "moco_all"): "490e1280e081", ("paper", "simsiam"): "9bc498f0de99",
    ("paper", "supervised"): "e47878104a81", ("paper", "simclr_har"): "a34faa9f9e35", ("paper", "limu_bert"): "631b93e621c3",
}


def test_profiles_grow_in_size():
    smoke, cpu, paper = (get_profile(n) for n in ("smoke", "cpu", "paper"))
    assert smoke.chapters.windows_per_class < cpu.chapters.windows_per_class <= paper.chapters.windows_per_class
    assert set(cpu.chapters.explorer_nffts) == {32, 64, 128, 256} and set(cpu.chapters.explorer_gaps) == {2, 4, 8, 16}
    assert smoke.pretraining.batch_size < cpu.pretraining.batch_size < paper.pretraining.batch_size
    assert len(smoke.evaluation.seeds) < len(cpu.evaluation.seeds) == len(paper.evaluation.seeds) == 5
    assert smoke.on_device.repeats < cpu.on_device.repeats < paper.on_device.repeats
    with pytest.raises(ValueError, match=r"profile 'fast'; expected one of \['cpu', 'paper', 'smoke'\]"):
        get_profile("fast")
    assert L.get_profile is get_profile and L.profile_config is profile_config and L.PROFILES is PROFILES


def test_every_profile_fills_every_stage():
    types = get_type_hints(Profile)
    stages = {"chapters": ChapterSizes, "pretraining": PretrainSizes, "evaluation": EvalSizes, "explain": ExplainSizes,
              "on_device": OnDeviceSizes, "curve": CurveSizes}
    assert {f.name: types[f.name] for f in dataclasses.fields(Profile)} == {"name": str, **stages}
    for name, profile in PROFILES.items():
        assert profile.name == name
        for stage, kind in stages.items():
            sizes = getattr(profile, stage)
            assert type(sizes) is kind, (name, stage)
            assert dataclasses.replace(sizes) == sizes  # built again, its checks pass
            assert all(getattr(sizes, f.name) is not None or f.type.endswith("None") for f in dataclasses.fields(sizes))


def test_a_profile_refuses_another_stages_sizes():
    smoke = get_profile("smoke")
    with pytest.raises(TypeError, match=r"profile smoke: evaluation=ExplainSizes\(.*\); expected a EvalSizes"):
        dataclasses.replace(smoke, evaluation=smoke.explain)
    with pytest.raises(ValueError, match="profile name 'Big Run'; expected lower-case letters"):
        dataclasses.replace(smoke, name="Big Run")
    tiny = dataclasses.replace(smoke, name="tiny", on_device=OnDeviceSizes(repeats=1, warmup=0, calibration_windows=1))
    assert tiny.pretraining.config(method="simsiam") == profile_config("smoke", method="simsiam")  # sizes, not names


def test_every_stages_sizes_check_themselves():
    smoke = get_profile("smoke")
    with pytest.raises(ValueError, match="warmup_epochs=1; expected 0 <= warmup_epochs < epochs=1"):
        dataclasses.replace(smoke.pretraining, warmup_epochs=1)
    with pytest.raises(ValueError, match=r"sensor_seconds=\(\); expected at least one positive window length"):
        dataclasses.replace(smoke.pretraining, sensor_seconds=())
    with pytest.raises(ValueError, match="queue_size=0"):
        dataclasses.replace(smoke.pretraining, queue_size=0)
    with pytest.raises(ValueError, match="lr_peak=0"):
        dataclasses.replace(smoke.pretraining, lr_peak=0.0)
    with pytest.raises(ValueError, match="shots=0"):
        dataclasses.replace(smoke.evaluation, shots=0)
    with pytest.raises(ValueError, match="compared_windows=0"):
        dataclasses.replace(smoke.explain, compared_windows=0)
    with pytest.raises(ValueError, match="repeats=0, warmup=2"):
        dataclasses.replace(smoke.on_device, repeats=0)
    with pytest.raises(ValueError, match="magnitude_steps=1"):
        dataclasses.replace(smoke.chapters, magnitude_steps=1)
    with pytest.raises(ValueError, match=r"explorer_gaps=\(4, 64\) with explorer_nffts=\(64, 128\)"):
        dataclasses.replace(smoke.chapters, explorer_gaps=(4, 64))


@pytest.fixture
def fp32_hardware(monkeypatch):
    """A machine without bfloat16 arithmetic: precision ``auto`` is fp32, the precision of the pinned keys."""
    monkeypatch.setattr(pretraining_config, "bf16_hardware", lambda device="cpu": {"device": str(device), "native": False})


def test_pretraining_sizes_give_the_cached_runs_keys(fp32_hardware):
    for (name, method), key in PINNED_KEYS.items():
        config = profile_config(name, method=method)
        assert config == get_profile(name).pretraining.config(method=method)
        assert config.key() == key, (name, method)
    assert PretrainSizes().config() == PretrainConfig()  # the defaults are the paper's
    assert profile_config("cpu", seed=None, batch_size=None) == profile_config("cpu")  # None keeps the size
    smoke = profile_config("smoke", method="moco_all")
    assert (smoke.epochs, smoke.batch_size, smoke.moco.queue_size, smoke.max_steps, smoke.channels_last) == (1, 8, 32, 2, True)
    with pytest.raises(ValueError, match=r"profile 'huge'; expected one of \['cpu', 'paper', 'smoke'\]"):
        profile_config("huge")


@pytest.mark.parametrize(("name", "seconds"), [("smoke", ["2"]), ("cpu", ["2", "5"]), ("paper", ["2", "5", "10"])])
def test_book_runs_are_the_profiles_sizes(name, seconds, fp32_hardware):
    runs = book_runs(name)
    assert runs["img2imu"].key() == PINNED_KEYS[(name, "img2imu")]
    assert [r.split()[1] for r in runs if r.startswith("simclr_har")] == seconds  # one sensor run per window length
    assert len(runs) == 1 + 4 + 3 + 4 * len(seconds)  # img2imu, its ablations, the image and the sensor baselines
    assert runs["img2imu without hue"].augmentations == ("translate_x", "permute_x", "jitter")
    assert all(c == get_profile(name).pretraining.config(**{k: getattr(c, k) for k in
                                                           ("method", "augmentations", "corpus", "seed", "window_seconds")})
               for c in runs.values())


def test_on_bf16_hardware_the_image_runs_of_auto_profiles_train_in_bf16(monkeypatch):
    monkeypatch.setattr(pretraining_config, "bf16_hardware", lambda device="cpu": {"device": str(device), "native": True})
    for (name, method), key in PINNED_KEYS.items():
        config = profile_config(name, method=method)
        image = method_kind(method) == "image"
        expected = "bf16" if image and get_profile(name).pretraining.precision == "auto" else "fp32"
        assert config.precision == expected, (name, method)
        assert (config.key() == key) == (expected == "fp32"), (name, method)  # the precision is part of the key


def profile_choices(parser: argparse.ArgumentParser) -> list[list[str]]:
    """The choices of every ``--profile`` option of ``parser`` and of its sub-commands."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += profile_choices(sub)
        elif action.dest == "profile":
            found.append(list(action.choices))
    return found


def test_the_command_line_and_the_build_offer_the_profiles():
    assert profile_choices(build_parser()) == [sorted(PROFILES)] * 3  # pretrain, evaluate, export
    assert profile_choices(build_book_module().build_parser()) == [sorted(PROFILES)]


def test_seed_everything_reproduces_every_source():
    g = L.seed_everything(5)
    draws = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
    g = L.seed_everything(5)
    assert draws == (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
    for bad in (None, -1, 1.5, True):
        with pytest.raises(ValueError, match="expected a whole number from 0 to"):
            L.seed_everything(bad)


def test_curve_sizes_need_a_curve_from_step_0():
    curve = get_profile("cpu").curve
    with pytest.raises(ValueError, match=r"snapshots=\(0, 20, 60\); expected at least 4 increasing steps from 0"):
        dataclasses.replace(curve, scratch_snapshots=(0, 20, 60))
    with pytest.raises(ValueError, match="expected at least 4 increasing steps from 0"):
        dataclasses.replace(curve, continued_snapshots=(10, 20, 60, 200))
    with pytest.raises(ValueError, match="0 < momentum < 1"):
        dataclasses.replace(curve, momentum=1.0)
