"""Pre-training with MoCo on an image corpus: configuration, views, batch order, checkpoints.

``trainer.pretrain(config, out_dir)`` trains, writes ``checkpoint.pt`` every ``checkpoint_every``
steps (atomically: a temporary file renamed into place) and ``record.json`` at the end. Run
it again with the same config and it resumes from the checkpoint with nothing lost: the
model, key encoder, queue, optimizer, step, and the augmentation generator's state are all
in it, and each epoch's image order is a pure function of (seed, epoch), so on the CPU a
resumed run ends with the same weights as an uninterrupted one. A finished run with the same
config is not trained again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Sampler

from .augmentations import Augmentation, TwoViews, sensor_aware_augmentations
from .baseline_augmentations import all_augmentations, moco_v2_augmentations
from .moco import MoCo, MoCoConfig
from .schedule import learning_rate
from .simsiam import SimSiam, SimSiamConfig

METHODS = ("img2imu", "moco_default", "moco_all", "simsiam")


@dataclass(frozen=True)
class PretrainConfig:
    method: str = "img2imu"  # img2imu (sensor-aware, one per view), moco_default (MoCo v2 set), moco_all, simsiam
    augmentations: tuple[str, ...] = ("translate_x", "permute_x", "hue", "jitter")  # img2imu's pool (ablations drop one)
    corpus: str = "offline"  # image corpus name or folder (img2imu_lib.corpora.load_corpus)
    corpus_size: int = 10_000  # images in the offline corpus (other corpora have their own size)
    epochs: int = 40  # the paper's 40
    batch_size: int = 256  # the paper's 256
    warmup_epochs: int = 10  # learning rate rises over the first 10 epochs (the paper)
    lr_start: float = 1e-8  # the paper
    lr_peak: float = 1e-5  # the paper
    lr_end: float = 1e-6  # the paper, reached at the last epoch
    weight_decay: float = 0.0  # Adam weight decay (the paper's grid includes 0)
    moco: MoCoConfig = field(default_factory=MoCoConfig)  # dim 64, queue 4,096 (the paper), m, tau (MoCo v2)
    simsiam: SimSiamConfig = field(default_factory=SimSiamConfig)  # SimSiam's official recipe (method simsiam only)
    seed: int = 0  # seeds weights, image order and augmentations
    max_steps: int = 0  # stop after this many steps (0: all epochs), for smoke runs
    checkpoint_every: int = 50  # steps between checkpoints
    num_workers: int = 0  # DataLoader worker processes reading images

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}; expected one of {METHODS}")
        if self.batch_size < 2 or self.epochs < 1 or self.checkpoint_every < 1:
            raise ValueError(f"batch_size={self.batch_size}, epochs={self.epochs}, checkpoint_every="
                             f"{self.checkpoint_every}; expected batch_size >= 2 and positive epochs and interval")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def key(self) -> str:
        """Hash of everything that changes the result (not the checkpoint interval or workers)."""
        relevant = {k: v for k, v in self.as_dict().items() if k not in ("checkpoint_every", "num_workers")}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]


def make_views(config: PretrainConfig) -> TwoViews:
    """The pair of augmentation pipelines of a method."""
    augment: Augmentation = {
        "img2imu": lambda: sensor_aware_augmentations(config.augmentations),
        "moco_default": moco_v2_augmentations,
        "moco_all": all_augmentations,
        "simsiam": moco_v2_augmentations,  # SimSiam's official augmentations are MoCo v2's
    }[config.method]()
    return TwoViews(augment, augment)


class EpochOrder(Sampler[list[int]]):
    """Batches of one epoch in the order torch.randperm(seed, epoch) gives, from batch ``start`` on."""

    def __init__(self, size: int, batch_size: int, *, seed: int, epoch: int, start: int = 0) -> None:
        self.size, self.batch_size, self.seed, self.epoch, self.start = size, batch_size, seed, epoch, start

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed * 100_003 + self.epoch))
        for b in range(self.start, len(self)):
            yield order[b * self.batch_size:(b + 1) * self.batch_size].tolist()

    def __len__(self) -> int:
        return self.size // self.batch_size  # the last partial batch is dropped, as MoCo does


def save_atomic(obj: object, path: Path) -> None:
    """Write ``obj`` to a temporary file beside ``path``, then rename: a crash never leaves half a file.

    A ``str`` is written as text (records), anything else with ``torch.save`` (checkpoints).
    """
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if isinstance(obj, str):
        temporary.write_text(obj)
    else:
        torch.save(obj, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: Path, config: PretrainConfig) -> dict:
    """A checkpoint made with ``config``; a clear error for a corrupt file or another config."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises several types for a damaged file
        raise ValueError(f"{path}: not a readable checkpoint ({err}); delete it to start over") from err
    if not isinstance(state, dict) or state.get("config_key") != config.key():
        made = state.get("config") if isinstance(state, dict) else None
        raise ValueError(f"{path}: made with another config ({made}); expected {config.as_dict()}")
    return state


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


PROFILE_SIZES: dict[str, dict] = {
    # sizes only: every profile trains the same method
    "smoke": {"epochs": 1, "batch_size": 8, "corpus_size": 32, "warmup_epochs": 0, "max_steps": 2,
              "moco": MoCoConfig(queue_size=32)},
    "cpu": {"epochs": 5, "batch_size": 64, "corpus_size": 2560, "warmup_epochs": 1, "moco": MoCoConfig(queue_size=1024)},
    "paper": {},  # the defaults are the paper's settings
}


def profile_config(profile: str, **overrides: object) -> PretrainConfig:
    """The pre-training config of a profile, with ``overrides`` (method, corpus, seed ...) applied."""
    if profile not in PROFILE_SIZES:
        raise ValueError(f"profile {profile!r}; expected one of {sorted(PROFILE_SIZES)}")
    return PretrainConfig(**{**PROFILE_SIZES[profile], **{k: v for k, v in overrides.items() if v is not None}})


def build(config: PretrainConfig) -> tuple[nn.Module, torch.optim.Optimizer]:
    """The model and optimizer of a method: MoCo with Adam (the paper), or SimSiam with its SGD."""
    if config.method == "simsiam":
        model = SimSiam(config.simsiam)
        return model, model.optimizer(config.batch_size)
    model = MoCo(config.moco)
    return model, torch.optim.Adam(model.encoder_q.parameters(), lr=config.lr_start, weight_decay=config.weight_decay)


def set_learning_rate(model: nn.Module, optimizer: torch.optim.Optimizer, config: PretrainConfig, epoch: float) -> float:
    """Apply the method's schedule at fractional ``epoch``; returns the rate of the trained encoder."""
    epoch = min(epoch, config.epochs)
    if isinstance(model, SimSiam):
        lr = model.learning_rate(epoch, epochs=config.epochs, batch_size=config.batch_size)
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"] if group.get("fixed_lr") else lr
        return lr
    lr = learning_rate(epoch, epochs=config.epochs, warmup_epochs=config.warmup_epochs,
                       start=config.lr_start, peak=config.lr_peak, end=config.lr_end)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr
