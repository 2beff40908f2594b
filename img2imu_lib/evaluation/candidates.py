"""The backbones an evaluation scores: pre-training runs, state dicts saved by other code, random initialisations.

A ``Candidate`` names a backbone, says what it reads (spectrogram images or raw windows), loads it
on demand and carries a key that changes whenever its weights could, so cached features and
records follow the weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torchvision
from torch import nn

from ..pretraining.backbones import state_differences
from ..pretraining.config import is_run_checkpoint, read_checkpoint
from ..pretraining.methods import method_kind
from ..store import load_tensors, record_key, sha256_of


@dataclass(frozen=True)
class Candidate:
    """A backbone to evaluate: its Table II name and group, what it reads, how to load it, and a cache key."""

    name: str  # row name, as in the paper's table2 CSV where one exists
    kind: str  # "image" (spectrogram images) or "sensor" (raw windows)
    load: Callable[[], nn.Module] = field(compare=False)
    key: str  # changes whenever the weights could: a checkpoint's hash, or how random weights were drawn
    note: str = ""
    seconds: float | None = None  # sensor runs: the window length they were pre-trained on


def checkpoint_candidate(name: str, run_folder: str | Path, *, note: str = "", seconds: float | None = None,
                         method: str | None = None) -> Candidate:
    """A pre-training run's backbone (``run_backbones.trained_backbone``), keyed by its checkpoint's hash.
    ``method`` (the run's, when the caller has read it) saves reading the checkpoint to find its kind."""
    from ..pretraining.run_backbones import trained_backbone

    path = Path(run_folder) / "checkpoint.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint; pre-train first")
    method = method or read_checkpoint(path)["config"]["method"]
    kind = method_kind(method)
    return Candidate(name, kind, lambda: trained_backbone(run_folder), sha256_of(path)[:16], note, seconds)


STATE_DICT_PREFIXES = ("module.", "encoder_q.", "encoder.", "backbone.", "model.", "net.")


def resnet18_from_state_dict(path: str | Path) -> nn.Module:
    """A ResNet18 backbone (``fc`` the identity) from a state dict saved by other code: torchvision's layout,
    optionally under ``state_dict`` and behind prefixes such as MoCo's ``module.encoder_q.``; ``fc`` is dropped."""
    path = Path(path)
    saved = load_tensors(path, what="PyTorch state dict")
    state = saved.get("state_dict", saved) if isinstance(saved, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: expected a state dict of tensors (or one under 'state_dict')")
    cleaned = {}
    for key, value in state.items():
        while key.startswith(STATE_DICT_PREFIXES):
            key = key.split(".", 1)[1]
        if not key.startswith("fc."):
            cleaned[key] = value
    network = torchvision.models.resnet18(weights=None)
    network.fc = nn.Identity()
    expected = network.state_dict()
    if differences := state_differences(expected, cleaned):
        raise ValueError(f"{path}: not a torchvision ResNet18: {differences} (after removing the prefixes "
                         f"{STATE_DICT_PREFIXES} and fc.*)")
    network.load_state_dict(cleaned)
    return network.eval()


def candidate_from_file(path: str | Path, *, name: str | None = None) -> Candidate:
    """A candidate from a pre-training run folder or its ``checkpoint.pt``, or from a ResNet18 state dict file."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if (folder / "checkpoint.pt").is_file() and (path.is_dir() or path.name == "checkpoint.pt"):
        saved = load_tensors(folder / "checkpoint.pt", what="pre-training checkpoint or state dict")
        if is_run_checkpoint(saved):
            config = saved["config"]
            seconds = config.get("window_seconds") if method_kind(config["method"]) == "sensor" else None
            return checkpoint_candidate(name or config["method"], folder, seconds=seconds, method=config["method"])
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file or run folder")
    return Candidate(name or path.stem, "image", lambda: resnet18_from_state_dict(path), sha256_of(path)[:16],
                     f"ResNet18 state dict {path.name}")


def random_init_2d(seed: int = 0) -> nn.Module:
    """ResNet18 with torchvision's initialisation drawn from ``seed`` only, ``fc`` the identity (the "Randomly-init. (2D)" row)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = torchvision.models.resnet18(weights=None)
    network.fc = nn.Identity()
    return network.eval()


def random_2d_candidate(seed: int = 0) -> Candidate:
    """The "Randomly-init. (2D)" backbone as a candidate (``random_init_2d``)."""
    return Candidate("random_init_2d", "image", lambda: random_init_2d(seed), f"resnet18-torchvision-init-seed{seed}")


def random_candidates(sensor_mean: Sequence[float], sensor_std: Sequence[float], seed: int = 0) -> list[Candidate]:
    """The two random-initialisation rows: a ResNet18 on images and a 1D CNN on windows standardised with the
    sensor corpus's statistics (as the sensor baselines are)."""
    from ..pretraining.sensor.encoders import random_init_backbone

    mean, std = [float(v) for v in sensor_mean], [float(v) for v in sensor_std]
    return [random_2d_candidate(seed),
            Candidate("random_init_1d", "sensor", lambda: random_init_backbone(seed, mean=mean, std=std),
                      record_key({"cnn1d": seed, "mean": mean, "std": std}))]
