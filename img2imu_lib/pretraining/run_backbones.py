"""A finished or running pre-training run's backbones, read back: the one its checkpoint holds
(``trained_backbone``) and the ones it kept at its ``snapshots`` steps (``snapshot_backbone``), and the
names and bookkeeping of those snapshot files (``snapshot_name``, ``kept_snapshots``, ``missing_snapshots``).
Every file is opened as data (``store.load_tensors``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

from torch import nn

from ..checks import check_whole
from ..store import UnreadableFile, load_tensors
from .backbones import image_backbone
from .config import PretrainConfig, load_checkpoint
from .methods import build, method_kind


def trained_backbone(run_folder: str | Path) -> nn.Module:
    """The encoder of a pre-training run (its ``checkpoint.pt``), without its head, in eval mode: the run's
    ``arch`` for the image methods (N, 3, H, W) -> (N, FEATURE_DIMS[arch]), the sensor methods' own encoders."""
    saved = _run_checkpoint(Path(run_folder))
    config = PretrainConfig.from_dict(saved["config"])
    skeleton = dataclasses.replace(config, init="random")  # its starting weights are overwritten: ImageNet's unread
    method = build(skeleton, SimpleNamespace(**saved["corpus_facts"]))  # the classes or statistics it was built with
    method.load_state_dict(saved["model"])
    return method.backbone().eval()


def snapshot_name(step: int) -> str:
    """The file of a run's snapshot after ``step`` steps: ``snapshot-000120.pt``."""
    return f"snapshot-{step:06d}.pt"


def kept_snapshots(out: Path, state: dict) -> dict[int, str]:
    """The snapshots a run's ``state`` lists whose files are in its folder ``out``: step -> file name."""
    return {int(step): name for step, name in state.get("snapshots", {}).items() if (Path(out) / name).is_file()}


def missing_snapshots(config: PretrainConfig, state: dict, out: Path, *, upto: int | None = None) -> list[int]:
    """The steps of ``config.snapshots`` (those <= ``upto``; None: every one) that the run in ``out`` did not keep."""
    kept = kept_snapshots(out, state)
    return [s for s in config.snapshots if (upto is None or s <= upto) and s not in kept]


def snapshot_backbone(run_folder: str | Path, step: int) -> nn.Module:
    """The backbone of a run as it was after ``step`` gradient steps (0: its initial weights), from its
    ``snapshot-<step>.pt``, in eval mode: the module ``trained_backbone`` gives, with those weights."""
    folder, step = Path(run_folder), check_whole(step, "step", least=0)
    saved = _run_checkpoint(folder)  # the config and corpus facts the snapshots were made with
    kept = kept_snapshots(folder, saved["state"])
    if step not in kept:
        raise FileNotFoundError(f"{folder}: no snapshot at step {step}; the run kept snapshots at steps "
                                f"{sorted(kept) or 'none'} (PretrainConfig.snapshots names the steps to keep)")
    config = PretrainConfig.from_dict(saved["config"])
    if method_kind(config.method) == "image":
        backbone = image_backbone(config.arch, "random", config.seed)  # the skeleton; its weights are overwritten
    else:
        backbone = build(config, SimpleNamespace(**saved["corpus_facts"])).backbone()
    weights = load_tensors(folder / kept[step], what="backbone snapshot")
    if not isinstance(weights, dict):
        raise UnreadableFile(f"{folder / kept[step]}: holds a {type(weights).__name__}; expected a state dict")
    backbone.load_state_dict(weights)
    return backbone.eval()


def _run_checkpoint(folder: Path) -> dict:
    path = folder / "checkpoint.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint; pre-train first (img2imu_lib.pretraining.trainer.pretrain)")
    return load_checkpoint(path)  # read once, checked against the config saved in it
