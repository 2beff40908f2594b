"""Pre-training runs: their configuration, batch order, checkpoints and profiles.

``trainer.pretrain(config, out_dir)`` trains, writes ``checkpoint.pt`` every ``checkpoint_every``
steps (atomically: a temporary file renamed into place) and ``record.json`` at the end. Run
it again with the same config and it resumes from the checkpoint with nothing lost: the
model (with MoCo's key encoder and queue), optimizer, step, and the augmentation generators'
states are all in it, and each epoch's order is a pure function of (seed, epoch), so on the
CPU a resumed run ends with the same weights as an uninterrupted one. A finished run with the
same config is not trained again.
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
from torch.utils.data import Sampler

from .moco import MoCoConfig
from .simsiam import SimSiamConfig

IMAGE_METHODS = ("img2imu", "moco_default", "moco_all", "simsiam", "supervised")
SENSOR_METHODS = ("simclr_har", "multitask_har", "cpc_har", "limu_bert")
METHODS = IMAGE_METHODS + SENSOR_METHODS
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class PretrainConfig:
    method: str = "img2imu"  # one of METHODS: img2imu (sensor-aware, one per view), the image and the sensor baselines
    augmentations: tuple[str, ...] = ("translate_x", "permute_x", "hue", "jitter")  # img2imu's pool (ablations drop one)
    corpus: str = "offline"  # image corpus name or folder (corpora.load_corpus); sensor methods: offline or a Capture-24 folder
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
    groups: int = 1  # BatchNorm groups of a batch (per-GPU BN), at least one per process; in one process, k > 1 acts as k GPUs
    window_seconds: float = 2.0  # sensor methods: window length of the sensor corpus (the paper: 2, 5 or 10 s)
    sensor_windows: int = 0  # sensor methods: windows drawn (seeded) from the sensor corpus; 0: every window
    channels_last: bool = False  # image methods: NHWC memory layout (faster convolutions on some CPUs and GPUs)
    precision: str = "fp32"  # fp32, or bf16 autocast (for CPUs and GPUs with bf16 arithmetic)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}; expected one of {METHODS}")
        if not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(f"warmup_epochs={self.warmup_epochs}; expected 0 <= warmup_epochs < epochs={self.epochs}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision!r}; expected one of {PRECISIONS}")
        if self.groups < 1 or self.batch_size % self.groups:
            raise ValueError(f"groups={self.groups} does not divide batch_size={self.batch_size} into equal BatchNorm groups")
        if self.batch_size < 2 or self.epochs < 1 or self.checkpoint_every < 1:
            raise ValueError(f"batch_size={self.batch_size}, epochs={self.epochs}, checkpoint_every="
                             f"{self.checkpoint_every}; expected batch_size >= 2 and positive epochs and interval")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> PretrainConfig:
        """The config ``as_dict`` gave (as saved in checkpoints and records)."""
        nested = {"moco": MoCoConfig, "simsiam": SimSiamConfig}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"config fields {unknown} are not PretrainConfig fields (made by another version?)")
        return cls(**{k: nested[k](**v) if k in nested else tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    def key(self) -> str:
        """Hash of everything that changes the result (not the checkpoint interval or workers)."""
        relevant = {k: v for k, v in self.as_dict().items() if k not in ("checkpoint_every", "num_workers")}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]


class EpochOrder(Sampler[list[int]]):
    """Batches of one epoch in the order torch.randperm(seed, epoch) gives, from batch ``start`` on.

    Under torchrun every process draws the same order and reads only its share of each batch:
    the ``rank``-th of ``world`` equal slices.
    """

    def __init__(self, size: int, batch_size: int, *, seed: int, epoch: int, start: int = 0, rank: int = 0,
                 world: int = 1) -> None:
        if batch_size % world:
            raise ValueError(f"batch_size={batch_size} does not split over {world} processes")
        self.size, self.batch_size, self.seed, self.epoch, self.start = size, batch_size, seed, epoch, start
        self.share = batch_size // world
        self.rank = rank

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed * 100_003 + self.epoch))
        for b in range(self.start, len(self)):
            first = b * self.batch_size + self.rank * self.share
            yield order[first:first + self.share].tolist()

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
    # sizes (and speed switches) only: every profile trains the same method
    "smoke": {"epochs": 1, "batch_size": 8, "corpus_size": 32, "sensor_windows": 32, "warmup_epochs": 0, "max_steps": 2,
              "moco": MoCoConfig(queue_size=32), "channels_last": True},
    # about 40 steps of 64 per run: the whole book's pre-training in about 20 minutes on 2 cores.
    # The paper's peak rate (1e-5) is tuned for ~200k steps and barely moves a 40-step run, so
    # this profile warms up to 1e-3 (within the paper's grid search) and decays to 1e-4.
    "cpu": {"epochs": 2, "batch_size": 64, "corpus_size": 1280, "sensor_windows": 1280, "warmup_epochs": 1,
            "lr_peak": 1e-3, "lr_end": 1e-4, "moco": MoCoConfig(queue_size=1024), "channels_last": True},
    "paper": {},  # the defaults are the paper's settings
}


def profile_config(profile: str, **overrides: object) -> PretrainConfig:
    """The pre-training config of a profile, with ``overrides`` (method, corpus, seed ...) applied."""
    if profile not in PROFILE_SIZES:
        raise ValueError(f"profile {profile!r}; expected one of {sorted(PROFILE_SIZES)}")
    return PretrainConfig(**{**PROFILE_SIZES[profile], **{k: v for k, v in overrides.items() if v is not None}})


SENSOR_WINDOW_SECONDS: dict[str, tuple[float, ...]] = {
    # window lengths the sensor baselines are pre-trained for: the paper trains one model per
    # downstream window length (2, 5 and 10 s); smaller profiles train the 2 s model only
    "smoke": (2.0,),
    "cpu": (2.0, 5.0),
    "paper": (2.0, 5.0, 10.0),
}


def book_runs(profile: str, *, images: str = "offline", sensor_corpus: str = "offline", seed: int = 0) -> dict[str, PretrainConfig]:
    """Every pre-training run the book needs, by name: IMG2IMU, its four leave-one-out ablations,
    the image baselines and the sensor baselines (one per window length of the profile)."""
    full = PretrainConfig.augmentations
    runs = {"img2imu": profile_config(profile, corpus=images, seed=seed)}
    for left_out in full:
        runs[f"img2imu without {left_out}"] = profile_config(profile, corpus=images, seed=seed,
                                                            augmentations=tuple(a for a in full if a != left_out))
    for method in ("moco_default", "moco_all", "simsiam"):
        runs[method] = profile_config(profile, method=method, corpus=images, seed=seed)
    for method in SENSOR_METHODS:
        for seconds in SENSOR_WINDOW_SECONDS[profile]:
            runs[f"{method} {seconds:g} s"] = profile_config(profile, method=method, corpus=sensor_corpus, seed=seed,
                                                            window_seconds=seconds)
    return runs


def run_folder(config: PretrainConfig) -> Path:
    """Where a run of ``config`` lives: ``<cache>/runs/<method>-<config key>`` (``$IMG2IMU_CACHE``)."""
    from .datasets.download import cache_dir

    return cache_dir() / "runs" / f"{config.method}-{config.key()}"
