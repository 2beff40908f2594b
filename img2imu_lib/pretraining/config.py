"""Pre-training runs: their configuration, the sizes a profile gives them, batch order and checkpoints.

``trainer.pretrain(config, out_dir)`` trains, writes ``checkpoint.pt`` every ``checkpoint_every``
steps (atomically: a temporary file renamed into place) and ``record.json`` at the end. Run
it again with the same config and it resumes from the checkpoint with nothing lost: the
model (with MoCo's key encoder and queue), optimizer, step, and the augmentation generators'
states are all in it, and each epoch's order is a pure function of (seed, epoch), so on the
CPU a resumed run ends with the same weights as an uninterrupted one. A finished run with the
same config is not trained again. At the steps ``snapshots`` names it also keeps the backbone
(``snapshot-<step>.pt``, for learning curves; ``run_backbones.snapshot_backbone`` reads one back).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Sampler

from ..checks import check_field_types, check_seed
from ..images.augmentations import sensor_aware_augmentations
from ..store import UnreadableFile, cache_dir, load_tensors
from .backbones import IMAGE_ARCHS, INITS
from .methods import method_spec
from .moco import MoCoConfig
from .sensor import CPCHARConfig, LimuBertConfig, MultiTaskHARConfig, SimCLRHARConfig
from .simsiam import SimSiamConfig
from .supervised import SupervisedConfig

PRECISIONS = ("fp32", "bf16", "fp64")  # fp64: float64 weights and inputs, slow, for numerical checks
AUTO = "auto"  # for profiles and the command line: bf16 where the hardware computes bfloat16 products, else fp32


def bf16_hardware(device: torch.device | str = "cpu") -> dict:
    """What ``device`` offers for bfloat16, detected: ``native`` is True where matrix products run in bfloat16
    hardware (a CUDA GPU that supports it; on x86, the AVX-512 BF16 dot-product instructions or AMX tiles), and
    the facts it is decided from.

    Without them bf16 is emulated in fp32 arithmetic and autocast makes a step several times slower; with them
    oneDNN's bf16 convolutions made a ResNet18 step 1.7 to 2.2 times faster than fp32 on the CPUs measured
    (``benchmarks/bench_pretrain.py --precision bf16``).
    """
    device = torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return {"device": name, "native": bool(torch.cuda.is_bf16_supported())}
    facts = {"device": "cpu", "capability": torch.backends.cpu.get_cpu_capability(),
             "avx512_bf16": bool(torch.cpu._is_avx512_bf16_supported()), "amx": bool(torch.cpu._is_amx_tile_supported())}
    return {**facts, "native": facts["avx512_bf16"] or facts["amx"]}


def resolve_precision(precision: str, device: torch.device | str = "cpu") -> str:
    """``precision`` itself, or for ``auto`` bf16 where ``bf16_hardware(device)`` is native and fp32 elsewhere."""
    if precision == AUTO:
        return "bf16" if bf16_hardware(device)["native"] else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}; expected one of {(*PRECISIONS, AUTO)}")
    return precision


@dataclass(frozen=True)
class PretrainConfig:
    method: str = "img2imu"  # a key of methods.METHODS: img2imu (sensor-aware, one per view), the image and the sensor baselines
    augmentations: tuple[str, ...] = ("translate_x", "permute_x", "hue", "jitter")  # img2imu's pool (ablations drop one)
    corpus: str = "offline"  # image corpus name or folder (corpora.load_corpus); sensor methods: offline or a Capture-24 folder
    corpus_size: int = 10_000  # images in the offline corpus (other corpora have their own size)
    epochs: int = 40  # the paper's 40
    batch_size: int = 256  # the paper's 256
    warmup_epochs: int = 10  # MoCo methods: learning rate rises over the first 10 epochs (the paper)
    lr_start: float = 1e-8  # MoCo methods: the paper
    lr_peak: float = 1e-5  # MoCo methods: the paper
    lr_end: float = 1e-6  # MoCo methods: the paper, reached at the last epoch
    weight_decay: float = 0.0  # MoCo methods: Adam weight decay (the paper's grid includes 0)
    moco: MoCoConfig = field(default_factory=MoCoConfig)  # dim 64, queue 4,096 (the paper), m, tau (MoCo v2)
    simsiam: SimSiamConfig = field(default_factory=SimSiamConfig)  # SimSiam's official recipe (method simsiam only)
    # the supervised and sensor baselines' own settings; what comes from the corpus (num_classes, the
    # sensor statistics mean and std) is filled in when the method is built and stays at its default here
    supervised: SupervisedConfig = field(default_factory=SupervisedConfig)  # torchvision's ResNet recipe (method supervised)
    simclr_har: SimCLRHARConfig = field(default_factory=SimCLRHARConfig)  # Tang et al. 2020 (method simclr_har)
    multitask_har: MultiTaskHARConfig = field(default_factory=MultiTaskHARConfig)  # Saeed et al. 2019 (method multitask_har)
    cpc_har: CPCHARConfig = field(default_factory=CPCHARConfig)  # enhanced CPC, Haresamudram et al. 2022 (method cpc_har)
    limu_bert: LimuBertConfig = field(default_factory=LimuBertConfig)  # Xu et al. 2021 (method limu_bert)
    seed: int = 0  # seeds weights, image order and augmentations
    max_steps: int = 0  # stop after this many steps (0: all epochs), for smoke runs
    checkpoint_every: int = 50  # steps between checkpoints
    num_workers: int = 0  # DataLoader worker processes reading images
    groups: int = 1  # BatchNorm groups of a batch (per-GPU BN), at least one per process; in one process, k > 1 acts as k GPUs
    window_seconds: float = 2.0  # sensor methods: window length of the sensor corpus (the paper: 2, 5 or 10 s)
    sensor_windows: int = 0  # sensor methods: windows drawn (seeded) from the sensor corpus; 0: every window
    channels_last: bool = False  # image methods: NHWC memory layout (faster convolutions on some CPUs and GPUs)
    precision: str = "fp32"  # fp32, bf16 autocast (for CPUs and GPUs with bf16 arithmetic), or fp64 (checks)
    arch: str = "resnet18"  # image methods: the backbone, one of backbones.IMAGE_ARCHS (the paper's ResNet18)
    init: str = "random"  # image methods: its starting weights, one of backbones.INITS (the paper: random)
    snapshots: tuple[int, ...] = ()  # steps after which the backbone is kept as snapshot-<step>.pt (0: before any step)

    def __post_init__(self) -> None:
        check_field_types(self)  # 2.5 epochs, "40", True as a batch size: a ValueError naming the field (the nested
        # configs check their own fields when they are made)
        method_spec(self.method)  # ValueError naming the methods of the table for any other name
        check_seed(self.seed)
        sensor_aware_augmentations(self.augmentations)  # ValueError naming the pool for an unknown name
        if min(self.corpus_size, self.max_steps, self.num_workers, self.sensor_windows) < 0 or self.window_seconds <= 0:
            raise ValueError(f"corpus_size={self.corpus_size}, max_steps={self.max_steps}, num_workers={self.num_workers}, "
                             f"sensor_windows={self.sensor_windows}, window_seconds={self.window_seconds}: expected "
                             f"counts >= 0 and a positive window length")
        if not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(f"warmup_epochs={self.warmup_epochs}; expected 0 <= warmup_epochs < epochs={self.epochs}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision!r}; expected one of {PRECISIONS}")
        if self.groups < 1 or self.batch_size % self.groups:
            raise ValueError(f"groups={self.groups} does not divide batch_size={self.batch_size} into equal BatchNorm groups")
        self._check_backbone_and_snapshots()
        if self.batch_size < 2 or self.epochs < 1 or self.checkpoint_every < 1:
            raise ValueError(f"batch_size={self.batch_size}, epochs={self.epochs}, checkpoint_every="
                             f"{self.checkpoint_every}; expected batch_size >= 2 and positive epochs and interval")

    def _check_backbone_and_snapshots(self) -> None:
        if self.arch not in IMAGE_ARCHS or self.init not in INITS:
            raise ValueError(f"arch={self.arch!r}, init={self.init!r}; expected an arch of {IMAGE_ARCHS} and an "
                             f"init of {INITS}")
        if method_spec(self.method).kind == "sensor" and (self.arch, self.init) != ("resnet18", "random"):
            raise ValueError(f"arch={self.arch!r}, init={self.init!r}: {self.method} is a sensor method with an "
                             f"encoder of its own; arch and init choose the image methods' backbone (leave them at "
                             f"'resnet18' and 'random')")
        if min(self.snapshots, default=0) < 0 or list(self.snapshots) != sorted(set(self.snapshots)):
            raise ValueError(f"snapshots={self.snapshots}; expected steps >= 0 in increasing order, none repeated")

    def as_dict(self) -> dict:
        """Every field, the nested configs as dicts (what checkpoints and records save)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> PretrainConfig:
        """The config ``as_dict`` gave (as saved in checkpoints and records; lists read back from JSON become
        tuples); a nested config missing from ``values`` takes its defaults."""
        nested = nested_configs()
        return cls(**{k: _from_dict(nested[k], v) if k in nested else _tuples(v) for k, v in _known(cls, values).items()})

    def key(self) -> str:
        """Hash of everything that changes the result (not the checkpoint interval, workers or snapshots).

        A nested config other than ``moco`` and ``simsiam``, and a field of ``HASHED_UNLESS_DEFAULT``, is
        hashed only when it differs from its default, so the runs cached before they were fields keep their
        keys (and folders). Snapshots are copies of weights the run computes anyway: a run with them is the
        same run, in the same folder (``trainer`` refuses to reuse one that did not keep a snapshot asked for).
        """
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        relevant = {k: v for k, v in self.as_dict().items() if k not in NOT_HASHED}
        for name, kind in nested_configs().items():
            if name not in ("moco", "simsiam") and getattr(self, name) == kind():
                del relevant[name]
        for name in HASHED_UNLESS_DEFAULT:
            if getattr(self, name) == defaults[name]:
                del relevant[name]
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]


NOT_HASHED = ("checkpoint_every", "num_workers", "snapshots")  # change no number the run computes
HASHED_UNLESS_DEFAULT = ("arch", "init")  # fields newer than cached runs: at their defaults they leave the key alone


def nested_configs() -> dict[str, type]:
    """PretrainConfig's nested configs: field name -> its dataclass (``moco``: MoCoConfig ...)."""
    return {f.name: f.default_factory for f in dataclasses.fields(PretrainConfig)
            if f.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(f.default_factory)}


def _known(cls: type, values: dict) -> dict:
    unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"config fields {unknown} are not {cls.__name__} fields (made by another version?)")
    return values


def _tuples(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _from_dict(cls: type, values: dict) -> object:
    return cls(**{k: _tuples(v) for k, v in _known(cls, values).items()})


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


def is_run_checkpoint(state: object) -> bool:
    """Whether ``state`` (what a ``torch.save`` file held) is a pre-training checkpoint of this library."""
    return isinstance(state, dict) and isinstance(state.get("config"), dict) and {"config_key", "model"} <= set(state)


def read_checkpoint(path: Path) -> dict:
    """What a run's ``checkpoint.pt`` holds (``store.load_tensors``: tensors and plain data only, so a
    checkpoint from anyone can be opened), unchecked against any config; an ``UnreadableFile`` naming the
    file when it is damaged, asks for code, or is not a checkpoint of this library."""
    state = load_tensors(path, what="pre-training checkpoint")
    if not is_run_checkpoint(state):
        kind = type(state).__name__ if not isinstance(state, dict) else f"dict with keys {sorted(state)[:6]}"
        raise UnreadableFile(f"{path}: holds a {kind}; expected a pre-training checkpoint of this library "
                             f"(a dict with config, config_key, model ...)")
    return state


def load_checkpoint(path: Path, config: PretrainConfig | None = None) -> dict:
    """A checkpoint made with ``config`` (None: with the config saved in it, which must still give its key);
    a clear error for a damaged file or another config, naming the fields that differ."""
    try:
        state = read_checkpoint(path)
    except UnreadableFile as err:
        raise UnreadableFile(f"{err}; delete it to start over") from err
    try:
        saved = PretrainConfig.from_dict(state["config"])
    except (TypeError, ValueError) as err:
        raise UnreadableFile(f"{path}: its config cannot be read ({err}); made by another version?") from err
    config = config if config is not None else saved
    if state["config_key"] != config.key():
        changed = config_differences(saved, config)
        raise ValueError(f"{path}: made with another config: {changed or 'the same fields, another key (another version?)'}; "
                         f"use another folder, or delete it to start over")
    return state


def config_differences(saved: PretrainConfig, wanted: PretrainConfig) -> str:
    """``field: saved -> wanted`` for every (nested) field that differs, in one line."""
    def flat(values: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in values.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    a, b = flat(saved.as_dict()), flat(wanted.as_dict())
    return ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))


@dataclass(frozen=True)
class PretrainSizes:
    """How much pre-training a profile runs: sizes and speed switches only, never the method.

    The defaults are the paper's (those of ``PretrainConfig``); ``config(**overrides)`` is the
    PretrainConfig of one run at these sizes.
    """

    epochs: int = PretrainConfig.epochs  # passes over the corpus (the paper: 40)
    sensor_epochs: int = 0  # sensor methods: passes over the sensor corpus; 0: ``epochs``
    batch_size: int = PretrainConfig.batch_size  # images or windows per step (the paper: 256)
    corpus_size: int = PretrainConfig.corpus_size  # images of the offline corpus (other corpora have their own size)
    sensor_windows: int = PretrainConfig.sensor_windows  # sensor methods: windows drawn from the sensor corpus; 0: all
    warmup_epochs: int = PretrainConfig.warmup_epochs  # MoCo methods: epochs of the rising learning rate (the paper: 10)
    max_steps: int = PretrainConfig.max_steps  # stop every run after this many steps; 0: all epochs
    lr_peak: float = PretrainConfig.lr_peak  # MoCo methods: rate at the end of the warm-up (the paper: 1e-5)
    lr_end: float = PretrainConfig.lr_end  # MoCo methods: rate at the last epoch (the paper: 1e-6)
    queue_size: int = MoCoConfig.queue_size  # MoCo's negative keys K (the paper: 4,096)
    channels_last: bool = PretrainConfig.channels_last  # image methods: NHWC memory layout (a speed switch)
    precision: str = PretrainConfig.precision  # image methods: fp32, bf16, or auto (bf16 where bf16_hardware is native)
    groups: int = PretrainConfig.groups  # image methods: BatchNorm groups of a batch (shuffle-BN in one process)
    # the paper pre-trains one sensor baseline per downstream window length (2, 5 and 10 s)
    sensor_seconds: tuple[float, ...] = (2.0, 5.0, 10.0)  # window lengths in s the sensor baselines are trained for

    def __post_init__(self) -> None:
        check_field_types(self)
        if not self.sensor_seconds or min(self.sensor_seconds) <= 0:
            raise ValueError(f"sensor_seconds={self.sensor_seconds}; expected at least one positive window length")
        if min(self.corpus_size, self.queue_size) < 1 or min(self.sensor_windows, self.max_steps, self.sensor_epochs) < 0:
            raise ValueError(f"corpus_size={self.corpus_size}, queue_size={self.queue_size}, sensor_windows="
                             f"{self.sensor_windows}, max_steps={self.max_steps}: expected positive sizes, counts >= 0")
        if min(self.lr_peak, self.lr_end) <= 0:
            raise ValueError(f"lr_peak={self.lr_peak}, lr_end={self.lr_end}; expected positive rates")
        self.config()  # PretrainConfig checks epochs, warm-up and batch size

    def config(self, **overrides: object) -> PretrainConfig:
        """The PretrainConfig of a run at these sizes, with ``overrides`` (method, corpus, seed ...; None keeps
        the size) applied; precision ``auto`` becomes what this machine trains on natively (its GPU, else its CPU)."""
        sizes = {"epochs": self.epochs, "batch_size": self.batch_size, "corpus_size": self.corpus_size,
                 "sensor_windows": self.sensor_windows, "warmup_epochs": self.warmup_epochs,
                 "max_steps": self.max_steps, "lr_peak": self.lr_peak, "lr_end": self.lr_end,
                 "moco": MoCoConfig(queue_size=self.queue_size), "channels_last": self.channels_last}
        chosen = {k: v for k, v in overrides.items() if v is not None}
        if method_spec(chosen.get("method", PretrainConfig.method)).kind == "image":  # the sensor nets stay in fp32
            sizes["precision"] = resolve_precision(self.precision, "cuda" if torch.cuda.is_available() else "cpu")
            sizes["groups"] = self.groups
        elif self.sensor_epochs:
            sizes["epochs"] = self.sensor_epochs
        return PretrainConfig(**{**sizes, **chosen})


def run_folder(config: PretrainConfig) -> Path:
    """Where a run of ``config`` lives: ``<cache>/runs/<method>-<config key>`` (``$IMG2IMU_CACHE``)."""
    return cache_dir() / "runs" / f"{config.method}-{config.key()}"
