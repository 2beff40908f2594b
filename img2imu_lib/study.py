"""The paper's evaluation (Section V-A, V-B, VI-C) over every method and dataset, cached and resumable.

The protocol, per dataset and seed: a 6:2:2 subject split and ``shots`` windows per class from
the training subjects (``seed_splits``, the same for every method); a frozen backbone's
features (``features``, computed once per backbone, dataset, spectrogram setting and
perturbation, and cached); a grid of linear heads (Adam's rate x weight decay, ``probe.
train_heads``) trained on the shots; the head with the best macro-F1 on the validation
subjects is scored on the test subjects. The spectrogram setting (nfft, noverlap) is chosen
per dataset on the validation subjects too (``choose_spectrogram``). Test scores never choose
anything.

Every result is a record (``records.cached_record``): repeating a call reuses it, and the
evaluation chapter's tables are built from them.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from tqdm.auto import tqdm

from .datasets import load_dataset
from .datasets.download import cache_dir, sha256_of
from .datasets.registry import locate
from .evaluate import EvalConfig, SeedSplit, backbone_inputs, seed_split
from .pretrain import SENSOR_METHODS
from .probe import extract_features, macro_f1, train_heads
from .records import cached_record, record_key, records_dir
from .sensor.encoders import CNN1D, reset_parameters
from .sensor.normalization import Standardize, fit_corpus_stats
from .sensory import SENSORY_PERTURBATIONS

RESULTS_VERSION = 1  # part of every record's and feature file's key: bump it when a change alters results
GAPS = (2, 4, 8, 16)  # noverlap = nfft - gap, the paper's grid
PAPER_GRID = tuple((nfft, nfft - gap) for nfft in (32, 64, 128, 256) for gap in GAPS)


@dataclass(frozen=True)
class EvalSizes:
    """How much of the evaluation a profile runs. The protocol itself never changes."""

    seeds: tuple[int, ...]  # one subject split and shot sample each
    shots: int  # windows per class for Table II (the paper: 10)
    max_windows: int | None  # windows kept per dataset (class-balanced, seeded); None keeps all
    spectrograms: tuple[tuple[int, int], ...]  # (nfft, noverlap) settings searched on validation
    lrs: tuple[float, ...]  # the probe's Adam rates searched on validation
    weight_decays: tuple[float, ...]  # the probe's weight decays searched on validation
    probe_epochs: int  # the paper: 50
    curve_shots: tuple[int, ...]  # Fig. 7's shots per class
    upper_windows_per_class: int | None  # training windows per class of the fully supervised bounds; None: all
    upper_epochs_1d: int  # 0: the fully supervised 1D bound is not trained in this profile
    upper_epochs_2d: int  # 0: the fully supervised 2D bound is not trained in this profile
    curve_search: bool = True  # Fig. 7: search the probe's rate and decay at every shot count (else reuse Table II's)
    perturbation_seed: int = 0  # the draws of Table I's perturbed test copies

    def __post_init__(self) -> None:
        if not self.seeds or self.shots < 1 or self.probe_epochs < 1 or not self.spectrograms or not self.curve_shots:
            raise ValueError(f"seeds={self.seeds}, shots={self.shots}, probe_epochs={self.probe_epochs}, "
                             f"spectrograms={self.spectrograms}, curve_shots={self.curve_shots}: expected seeds, "
                             f"spectrogram settings and shot counts, shots and epochs >= 1")
        if not self.lrs or not self.weight_decays or min(self.lrs) <= 0 or min(self.weight_decays) < 0:
            raise ValueError(f"lrs={self.lrs}, weight_decays={self.weight_decays}: expected positive rates and "
                             f"non-negative decays")
        if (self.max_windows is not None and self.max_windows < 1) or min(self.upper_epochs_1d, self.upper_epochs_2d) < 0:
            raise ValueError(f"max_windows={self.max_windows}, upper epochs {self.upper_epochs_1d}/{self.upper_epochs_2d}: "
                             f"expected a positive cap (or None) and epochs >= 0")


EVAL_SIZES: dict[str, EvalSizes] = {
    "smoke": EvalSizes(seeds=(0, 1), shots=2, max_windows=120, spectrograms=((32, 24), (64, 56)), lrs=(1e-2,),
                       weight_decays=(0.0,), probe_epochs=3, curve_shots=(1, 2), upper_windows_per_class=4,
                       upper_epochs_1d=1, upper_epochs_2d=1, curve_search=False),
    # the main job on 2 cores: 1,000 windows per dataset, the four nfft values at one overlap, and no
    # ResNet18 trained from scratch (a useful one needs thousands of image steps per seed and dataset)
    "cpu": EvalSizes(seeds=(0, 1, 2, 3, 4), shots=10, max_windows=1000,
                     spectrograms=tuple((nfft, nfft - 8) for nfft in (32, 64, 128, 256)),
                     lrs=(1e-4, 1e-3, 1e-2, 1e-1), weight_decays=(0.0, 1e-4, 1e-3), probe_epochs=50,
                     curve_shots=(1, 2, 5, 10, 20, 50), upper_windows_per_class=None, upper_epochs_1d=10,
                     upper_epochs_2d=0, curve_search=False),
    "paper": EvalSizes(seeds=(0, 1, 2, 3, 4), shots=10, max_windows=None, spectrograms=PAPER_GRID,
                       lrs=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1), weight_decays=(0.0, 1e-4, 1e-3), probe_epochs=50,
                       curve_shots=(1, 2, 5, 10, 20, 50), upper_windows_per_class=None, upper_epochs_1d=100,
                       upper_epochs_2d=30),
}

# what each dataset here stands for in the paper's Table II (its columns: wisdm, goat, pvs, daphnet)
PAPER_COLUMN: dict[str, tuple[str | None, str]] = {
    "wisdm": ("wisdm", "the paper's dataset"),
    "goat": ("goat", "the paper's dataset"),
    "pvs": ("pvs", "the paper's dataset"),
    "daphnet": ("daphnet", "the paper's dataset"),
    "hapt": ("wisdm", "stands in for WISDM: both phone-on-body activity recognition, other subjects, waist "
                      "instead of trouser pocket, 2 s instead of 10 s windows"),
    "watch": (None, "no counterpart in the paper: wrist exercises, a non-phone placement and a task of its own, "
                    "as Goat and PVS are for theirs"),
}
DATASET_ORDER = ("hapt", "watch", "daphnet", "wisdm", "goat", "pvs")


@dataclass
class EvalData:
    """One downstream dataset as the evaluation uses it: windows (N, T, 3) in g at ``fs``, labels, subjects."""

    name: str
    windows: np.ndarray
    labels: np.ndarray
    subjects: np.ndarray
    fs: float
    classes: tuple[str, ...]
    seconds: float
    total_windows: int  # before the profile's cap
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            digest = hashlib.sha256(np.ascontiguousarray(self.windows).tobytes())
            digest.update(self.labels.tobytes() + self.subjects.astype(np.int64).tobytes())
            self.fingerprint = digest.hexdigest()[:16]


def available_datasets(data_dir: Sequence[str | Path] = ()) -> list[str]:
    """The downstream datasets on this machine: the installed ones and those found on the data search path."""
    present = []
    for name in DATASET_ORDER:
        try:
            locate(name, data_dir)
        except FileNotFoundError:
            continue
        present.append(name)
    return present


def balanced_cap(labels: np.ndarray, limit: int | None, *, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``limit`` windows: the budget is shared equally among classes, a class
    with fewer windows than its share keeping all of them and leaving the rest to the others; windows
    within a class are drawn at random (``seed``). ``None`` keeps everything."""
    if limit is None or len(labels) <= limit:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    chosen, budget = [], limit
    for position, c in enumerate(classes[np.argsort(counts, kind="stable")]):
        pool = np.flatnonzero(labels == c)
        take = min(len(pool), budget // (len(classes) - position))
        chosen.append(rng.choice(pool, size=take, replace=False))
        budget -= take
    return np.sort(np.concatenate(chosen))


def eval_data(name: str, *, max_windows: int | None, data_dir: Sequence[str | Path] = ()) -> EvalData:
    """A downstream dataset's windows at 50 Hz with its window length, capped to ``max_windows``."""
    dataset = load_dataset(name, data_dir)
    windows, labels, subjects = dataset.windows()
    keep = balanced_cap(labels, max_windows)
    return EvalData(name, windows[keep], labels[keep], subjects[keep], 50.0, dataset.info.classes,
                    dataset.info.window_seconds, len(labels))


def seed_splits(data: EvalData, seeds: Sequence[int], shots: int, *, allow_fewer: bool = False) -> list[SeedSplit]:
    """``evaluate.seed_split`` of every seed: the same for every method."""
    return [seed_split(data.labels, data.subjects, seed=seed, shots=shots, allow_fewer=allow_fewer) for seed in seeds]


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
    """A pre-training run's backbone (``methods.trained_backbone``), keyed by its checkpoint's hash.
    ``method`` (the run's, when the caller has read it) saves reading the checkpoint to find its kind."""
    from .methods import trained_backbone

    path = Path(run_folder) / "checkpoint.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint; pre-train first")
    method = method or torch.load(path, map_location="cpu", weights_only=False)["config"]["method"]
    kind = "sensor" if method in SENSOR_METHODS else "image"
    return Candidate(name, kind, lambda: trained_backbone(run_folder), sha256_of(path)[:16], note, seconds)


STATE_DICT_PREFIXES = ("module.", "encoder_q.", "encoder.", "backbone.", "model.", "net.")


def resnet18_from_state_dict(path: str | Path) -> nn.Module:
    """A ResNet18 backbone (``fc`` the identity) from a state dict saved by other code: torchvision's layout,
    optionally under ``state_dict`` and behind prefixes such as MoCo's ``module.encoder_q.``; ``fc`` is dropped."""
    path = Path(path)
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for foreign or truncated files
        raise ValueError(f"{path}: not a readable PyTorch state dict ({type(err).__name__}: {err})") from err
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
    missing = [k for k in expected if k not in cleaned]
    unexpected = [k for k in cleaned if k not in expected]
    misshapen = [k for k in expected if k in cleaned and cleaned[k].shape != expected[k].shape]
    if missing or unexpected or misshapen:
        raise ValueError(f"{path}: not a torchvision ResNet18: missing {missing[:4]}, unexpected {unexpected[:4]}, "
                         f"wrong shape {misshapen[:4]} (after removing the prefixes {STATE_DICT_PREFIXES} and fc.*)")
    network.load_state_dict(cleaned)
    return network.eval()


def candidate_from_file(path: str | Path, *, name: str | None = None) -> Candidate:
    """A candidate from a pre-training run folder or its ``checkpoint.pt``, or from a ResNet18 state dict file."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if (folder / "checkpoint.pt").is_file() and (path.is_dir() or path.name == "checkpoint.pt"):
        saved = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=False)
        if isinstance(saved, dict) and "config" in saved and "model" in saved:
            config = saved["config"]
            seconds = config.get("window_seconds") if config["method"] in SENSOR_METHODS else None
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
    from .sensor.encoders import random_init_backbone

    mean, std = [float(v) for v in sensor_mean], [float(v) for v in sensor_std]
    return [random_2d_candidate(seed),
            Candidate("random_init_1d", "sensor", lambda: random_init_backbone(seed, mean=mean, std=std),
                      record_key({"cnn1d": seed, "mean": mean, "std": std}))]


def _features_path(candidate: Candidate, data: EvalData, spectrogram: tuple[int, int] | None, perturbation: str | None,
                   perturbation_seed: int) -> Path:
    key = record_key({"version": RESULTS_VERSION, "backbone": candidate.key, "kind": candidate.kind, "data": data.fingerprint,
                      "spectrogram": spectrogram, "perturbation": perturbation, "perturbation_seed": perturbation_seed})
    return cache_dir() / "features" / f"{candidate.name.replace(' ', '_')}-{data.name}-{key}.pt"


def perturbed(windows: np.ndarray, perturbation: str | None, *, seed: int) -> np.ndarray:
    """The windows, or their copy under one of ``sensory.SENSORY_PERTURBATIONS`` (one seeded draw per window)."""
    if perturbation is None:
        return windows
    if perturbation not in SENSORY_PERTURBATIONS:
        raise ValueError(f"perturbation {perturbation!r}; expected one of {sorted(SENSORY_PERTURBATIONS)}")
    generator = torch.Generator().manual_seed(seed)
    return SENSORY_PERTURBATIONS[perturbation](torch.as_tensor(windows), generator=generator).numpy()


def features(candidate: Candidate, data: EvalData, *, spectrogram: tuple[int, int] | None = None,
             perturbation: str | None = None, perturbation_seed: int = 0, chunk: int = 256) -> torch.Tensor:
    """Frozen features (N, D) of every window of ``data`` through ``candidate``, computed once and cached.

    Image backbones read the windows as spectrogram images made with ``spectrogram`` = (nfft,
    noverlap); sensor backbones read the raw windows. ``perturbation`` first perturbs the windows.
    """
    if (candidate.kind == "image") != (spectrogram is not None):
        raise ValueError(f"{candidate.name}: {candidate.kind} backbones take "
                         f"{'a spectrogram setting' if candidate.kind == 'image' else 'no spectrogram setting'}")
    path = _features_path(candidate, data, spectrogram, perturbation, perturbation_seed)
    if path.exists():
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # a file cut short: compute again
            path.unlink()
    windows = perturbed(data.windows, perturbation, seed=perturbation_seed)
    config = EvalConfig(nfft=spectrogram[0], noverlap=spectrogram[1]) if spectrogram else EvalConfig()
    backbone = candidate.load().eval()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    if candidate.kind == "image":
        backbone = backbone.to(memory_format=torch.channels_last)
    parts = []
    for start in range(0, len(windows), chunk):
        inputs = backbone_inputs(windows[start:start + chunk], kind=candidate.kind, fs=data.fs, config=config)
        if candidate.kind == "image":
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        parts.append(extract_features(backbone, inputs, batch_size=chunk))
    after = backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), f"{candidate.name}: the frozen backbone changed"
    result = torch.cat(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(result, path.with_suffix(".partial"))
    path.with_suffix(".partial").replace(path)
    return result


def linear_eval(feats: torch.Tensor, data: EvalData, splits: Sequence[SeedSplit], *, lrs: Sequence[float],
                weight_decays: Sequence[float], epochs: int, tests: dict[str, torch.Tensor] | None = None,
                batch_size: int = 4, fixed: dict[int, tuple[float, float]] | None = None) -> list[dict]:
    """Per seed: heads for every (rate, weight decay) on the shots, the best on validation, its test macro-F1.

    ``tests`` adds other feature sets of the same windows (perturbed copies) scored with the chosen head.
    ``fixed`` {seed: (lr, weight_decay)} trains only that head for each seed instead of the grid.
    Returns one dict per seed: lr, weight_decay, validation_f1 (of the chosen head), the validation
    F1 of every grid point, test_f1 per test set, shots per class, and the test-window count.
    """
    full_grid = list(itertools.product(lrs, weight_decays))

    def grid_of(split: SeedSplit) -> list[tuple[float, float]]:
        return [tuple(fixed[split.seed])] if fixed else full_grid

    classes = len(data.classes)
    labels = torch.as_tensor(data.labels)
    tests = {"original": feats, **(tests or {})}
    # seeds with as many shots train in one batch of heads; different counts (allow_fewer) in another
    by_count: dict[int, list[SeedSplit]] = {}
    for split in splits:
        by_count.setdefault(len(split.shots), []).append(split)
    results: dict[int, dict] = {}
    for group in by_count.values():
        points = [(split, lr, wd) for split in group for lr, wd in grid_of(split)]
        rows = np.stack([split.shots for split, _, _ in points])
        heads = train_heads(feats[rows], labels[rows], classes=classes, lrs=[lr for _, lr, _ in points],
                            weight_decays=[wd for _, _, wd in points], seeds=[split.seed for split, _, _ in points],
                            epochs=epochs, batch_size=batch_size)
        with torch.no_grad():
            for i, split in enumerate(group):
                grid = grid_of(split)
                own = slice(i * len(grid), (i + 1) * len(grid))
                val_pred = heads(feats[split.validation])[own].argmax(-1)
                val_f1 = [macro_f1(data.labels[split.validation], p, classes=classes) for p in val_pred]
                best = int(np.argmax(val_f1))  # the first of equals, in grid order
                test_f1 = {name: macro_f1(data.labels[split.test], heads(f[split.test])[own.start + best].argmax(-1),
                                          classes=classes) for name, f in tests.items()}
                results[split.seed] = {
                    "seed": split.seed, "lr": grid[best][0], "weight_decay": grid[best][1], "validation_f1": val_f1[best],
                    "validation_grid": [{"lr": lr, "weight_decay": wd, "validation_f1": v} for (lr, wd), v in zip(grid, val_f1)],
                    "test_f1": test_f1, "shots_per_class": np.bincount(data.labels[split.shots], minlength=classes).tolist(),
                    "test_windows": len(split.test)}
    return [results[split.seed] for split in splits]


class Evaluation:
    """The evaluation of one profile over a set of datasets, every result a record in ``records_dir(profile)``.

    ``data``: EvalData by name. Each method keeps the same seeds, splits and shots.
    """

    def __init__(self, profile: str, data: dict[str, EvalData], *, sizes: EvalSizes | None = None,
                 folder: Path | None = None, progress: bool = True) -> None:
        if profile not in EVAL_SIZES and sizes is None:
            raise ValueError(f"profile {profile!r}; expected one of {sorted(EVAL_SIZES)}")
        self.profile, self.data = profile, data
        self.sizes = sizes or EVAL_SIZES[profile]
        self.folder = folder or records_dir(profile)
        self.progress = progress

    def splits(self, dataset: str, shots: int | None = None) -> list[SeedSplit]:
        k = shots or self.sizes.shots
        return seed_splits(self.data[dataset], self.sizes.seeds, k, allow_fewer=k > self.sizes.shots)

    def _inputs(self, candidate: Candidate, dataset: str, **extra: object) -> dict:
        s = self.sizes
        return {"version": RESULTS_VERSION, "method": candidate.name, "kind": candidate.kind, "dataset": dataset, "checkpoint": candidate.key,
                "data": self.data[dataset].fingerprint, "windows": len(self.data[dataset].labels), "seeds": list(s.seeds),
                "lrs": list(s.lrs), "weight_decays": list(s.weight_decays), "probe_epochs": s.probe_epochs,
                "profile": self.profile, **extra}

    def score(self, candidate: Candidate, dataset: str, *, spectrogram: tuple[int, int] | None = None,
              shots: int | None = None, perturbations: Sequence[str] = (), stage: str = "table2",
              fixed: dict[int, tuple[float, float]] | None = None) -> dict:
        """The record of ``candidate`` on ``dataset``: per seed the chosen probe and its test macro-F1.

        ``fixed`` {seed: (lr, weight_decay)} skips the search (the few-shot curve reuses each seed's
        choice at the profile's shots when ``EvalSizes.curve_search`` is off)."""
        k = shots or self.sizes.shots
        spectrogram = tuple(spectrogram) if spectrogram else None
        fixed = {int(seed): tuple(v) for seed, v in fixed.items()} if fixed else None
        inputs = self._inputs(candidate, dataset, shots=k, spectrogram=spectrogram, perturbations=list(perturbations),
                              perturbation_seed=self.sizes.perturbation_seed, fixed=fixed)

        def compute() -> dict:
            data = self.data[dataset]
            feats = features(candidate, data, spectrogram=spectrogram)
            tests = {p: features(candidate, data, spectrogram=spectrogram, perturbation=p,
                                 perturbation_seed=self.sizes.perturbation_seed) for p in perturbations}
            per_seed = linear_eval(feats, data, self.splits(dataset, k), lrs=self.sizes.lrs,
                                   weight_decays=self.sizes.weight_decays, epochs=self.sizes.probe_epochs, tests=tests,
                                   fixed=fixed)
            f1 = [r["test_f1"]["original"] for r in per_seed]
            return {"per_seed": per_seed, "f1_mean": float(np.mean(f1)), "f1_std": float(np.std(f1))}

        return cached_record(self.folder, stage, f"{candidate.name}-{dataset}", inputs, compute)

    def choose_spectrogram(self, candidate: Candidate, dataset: str) -> dict:
        """Score ``candidate`` with every spectrogram setting of the profile that fits the windows; choose the
        one with the best validation macro-F1 (mean over seeds). Returns chosen, scores per setting, skipped."""
        data = self.data[dataset]
        samples = data.windows.shape[1]
        fits = [s for s in self.sizes.spectrograms if samples >= s[0] // 2]
        skipped = [s for s in self.sizes.spectrograms if s not in fits]
        if not fits:
            raise ValueError(f"{dataset}: its {samples}-sample windows fit none of the spectrogram settings "
                             f"{self.sizes.spectrograms} (nfft needs at least nfft/2 samples)")
        scores = {s: self.score(candidate, dataset, spectrogram=s, stage="spectrogram") for s in
                  tqdm(fits, desc=f"{candidate.name} on {dataset}: spectrogram settings", disable=not self.progress)}
        validation = {s: float(np.mean([r["validation_f1"] for r in rec["per_seed"]])) for s, rec in scores.items()}
        chosen = max(fits, key=lambda s: validation[s])  # the first of equals, in grid order
        return {"chosen": chosen, "validation_f1": validation, "records": scores, "skipped": skipped}

    def upper_bound(self, kind: str, dataset: str, spectrogram: tuple[int, int] | None = None) -> dict:
        """Fully supervised 1D (``kind="sensor"``) or 2D (``"image"``) model trained on the training subjects, per seed."""
        s = self.sizes
        name = {"sensor": "fully_supervised_1d", "image": "fully_supervised_2d"}[kind]
        epochs = s.upper_epochs_1d if kind == "sensor" else s.upper_epochs_2d
        if epochs < 1:
            raise ValueError(f"the {name} bound is not trained with these sizes ({kind} epochs = {epochs})")
        inputs = {"version": RESULTS_VERSION, "method": name, "kind": kind, "dataset": dataset, "data": self.data[dataset].fingerprint,
                  "seeds": list(s.seeds), "epochs": epochs, "windows_per_class": s.upper_windows_per_class,
                  "spectrogram": tuple(spectrogram) if spectrogram else None, "profile": self.profile,
                  "optimizer": "Adam lr 1e-3, batch 32"}

        def compute() -> dict:
            data = self.data[dataset]
            per_seed = []
            for split in tqdm(self.splits(dataset), desc=f"{name} on {dataset}", disable=not self.progress):
                train = per_class_sample(data.labels, split.train, s.upper_windows_per_class, seed=split.seed)
                predicted = fully_supervised(kind, data, train, split.test, spectrogram=spectrogram, epochs=epochs,
                                             seed=split.seed)
                per_seed.append({"seed": split.seed, "train_windows": len(train), "test_windows": len(split.test),
                                 "test_f1": {"original": macro_f1(data.labels[split.test], predicted,
                                                                  classes=len(data.classes))}})
            f1 = [r["test_f1"]["original"] for r in per_seed]
            return {"per_seed": per_seed, "f1_mean": float(np.mean(f1)), "f1_std": float(np.std(f1))}

        return cached_record(self.folder, "upper_bound", f"{name}-{dataset}", inputs, compute)


def per_class_sample(labels: np.ndarray, candidates: np.ndarray, limit: int | None, *, seed: int) -> np.ndarray:
    """At most ``limit`` of ``candidates`` per class, at random, sorted (``candidates`` as given when ``limit`` is None)."""
    if limit is None:
        return candidates
    rng = np.random.default_rng(seed)
    parts = [rng.permutation(candidates[labels[candidates] == c])[:limit] for c in np.unique(labels[candidates])]
    return np.sort(np.concatenate(parts))


def fully_supervised(kind: str, data: EvalData, train: np.ndarray, test: np.ndarray, *,
                     spectrogram: tuple[int, int] | None, epochs: int, seed: int, batch_size: int = 32,
                     lr: float = 1e-3) -> np.ndarray:
    """Train a whole network from random weights on ``train`` windows; predicted classes of the ``test`` windows."""
    model, inputs = train_fully_supervised(kind, data, train, spectrogram=spectrogram, epochs=epochs, seed=seed,
                                           batch_size=batch_size, lr=lr)
    with torch.no_grad():
        return torch.cat([model(inputs[part]).argmax(1) for part in torch.as_tensor(test).split(256)]).numpy()


def train_fully_supervised(kind: str, data: EvalData, train: np.ndarray, *, spectrogram: tuple[int, int] | None,
                           epochs: int, seed: int, batch_size: int = 32, lr: float = 1e-3,
                           progress: bool = False) -> tuple[nn.Module, torch.Tensor]:
    """A whole network trained from random weights on the ``train`` windows of ``data`` (Adam, ``epochs`` passes).

    ``sensor``: the 1D CNN of the sensor baselines and a linear layer, on windows standardised with
    the training windows' statistics. ``image``: ResNet18 on the spectrogram images (channels last).
    Returns the model in ``eval()`` mode and its inputs for every window of ``data``: raw windows
    (N, T, 3) or images (N, 3, 96, 128).
    """
    classes = len(data.classes)
    generator = torch.Generator().manual_seed(seed)
    if kind == "sensor":
        mean, std = fit_corpus_stats(data.windows[train])
        encoder = reset_parameters(CNN1D(), generator=generator)
        model = nn.Sequential(Standardize(mean, std), encoder, reset_parameters(nn.Linear(CNN1D.out_features, classes),
                                                                                generator=generator))
        inputs = torch.as_tensor(data.windows)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = torchvision.models.resnet18(weights=None, num_classes=classes)
        model = model.to(memory_format=torch.channels_last)
        config = EvalConfig(nfft=spectrogram[0], noverlap=spectrogram[1])
        inputs = backbone_inputs(data.windows, kind="image", fs=data.fs, config=config).contiguous(
            memory_format=torch.channels_last)
    labels = torch.as_tensor(data.labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    with torch.random.fork_rng(devices=[]):  # dropout draws from the global generator: seed it, then restore it
        torch.manual_seed(seed)
        for _ in tqdm(range(epochs), desc=f"fully supervised {kind} on {data.name}", disable=not progress):
            for batch in torch.as_tensor(train)[torch.randperm(len(train), generator=generator)].split(batch_size):
                if len(batch) < 2 and kind == "image":
                    continue  # BatchNorm cannot train on one image
                loss = F.cross_entropy(model(inputs[batch]), labels[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    return model.eval(), inputs


# Table II's rows in the paper's order; ours are named as in the paper's CSV where one is its counterpart
SENSOR_ROWS = ("fully_supervised_1d", "random_init_1d", "limu_bert", "simclr_har", "multitask_har", "cpc_har")
IMAGE_ROWS = ("fully_supervised_2d", "random_init_2d", "imagenet_supervised", "supervised_sample", "simsiam",
              "moco_default", "moco_all_aug", "img2imu")
PAPER_ROW = {"supervised_sample": "imagenet_supervised"}  # our stand-in, compared with the paper's row
ABLATIONS = ("translate_x", "permute_x", "hue", "jitter")  # Table I: IMG2IMU without each, in the paper's order


def book_candidates(profile: str, *, seed: int = 0, images: str = "offline", sensor_corpus: str = "offline",
                    supervised_images: str = "imagenet-sample", progress: bool = False) -> list[Candidate]:
    """Every backbone the evaluation chapter scores: the pre-training chapter's runs (trained now if missing,
    reused if cached), the random initialisations and, when its weights are cached, ImageNet-supervised."""
    from .imagenet_weights import imagenet_backbone, imagenet_weights_available, weights_path
    from .paths import find_data
    from .pretrain import book_runs, profile_config, run_folder
    from .trainer import pretrain

    runs = book_runs(profile, images=images, sensor_corpus=sensor_corpus, seed=seed)
    if supervised_images != "imagenet-sample" or find_data("imagenet-sample"):
        runs["supervised"] = profile_config(profile, method="supervised", corpus=supervised_images, seed=seed)
    names = {"img2imu": "img2imu", "moco_default": "moco_default", "moco_all": "moco_all_aug", "simsiam": "simsiam",
             "supervised": "supervised_sample", **{f"img2imu without {a}": f"img2imu without {a}" for a in ABLATIONS}}
    candidates = []
    for run, config in tqdm(runs.items(), desc="pre-trained backbones", disable=not progress):
        pretrain(config, run_folder(config), progress=False)
        if config.method in SENSOR_METHODS:
            candidates.append(checkpoint_candidate(config.method, run_folder(config), seconds=config.window_seconds,
                                                   note=f"pre-trained on {config.window_seconds:g} s windows",
                                                   method=config.method))
        else:
            candidates.append(checkpoint_candidate(names[run], run_folder(config), method=config.method))
    first_sensor = next(c for c in runs.values() if c.method in SENSOR_METHODS)
    facts = torch.load(run_folder(first_sensor) / "checkpoint.pt", map_location="cpu", weights_only=False)["corpus_facts"]
    candidates += random_candidates(facts["mean"], facts["std"], seed=seed)
    if imagenet_weights_available():
        candidates.append(Candidate("imagenet_supervised", "image", imagenet_backbone, sha256_of(weights_path())[:16],
                                    "torchvision's ImageNet weights"))
    return candidates


def for_dataset(candidates: Sequence[Candidate], name: str, data: EvalData) -> Candidate | None:
    """The candidate called ``name`` for ``data``: for sensor runs, the one pre-trained on the nearest window length."""
    matching = [c for c in candidates if c.name == name]
    if not matching:
        return None
    return min(matching, key=lambda c: abs((c.seconds or data.seconds) - data.seconds))


PAPER_NFFT_WISDM = {32: 0.660, 64: 0.734, 128: 0.739}  # IMG2IMU on WISDM by nfft, the paper's Section VI-C


def paper_table(file: str, data_dir: Sequence[str | Path] = ()) -> list[dict[str, str]] | None:
    """Rows of one of the paper's tables (``table2_f1_10shot.csv`` ...), from a ``paper`` folder beside a
    folder of the data search path (``shared/paper`` beside ``shared/data``); None if there is none."""
    from .paths import data_search_path

    for folder in data_search_path(data_dir):
        path = folder.parent / "paper" / file
        if path.is_file():
            with open(path, newline="") as f:
                return list(csv.DictReader(f))
    return None


def markdown_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """A Markdown table of ``rows`` (dicts), with ``columns`` (default: the first row's keys) in order."""
    columns = list(columns or (rows[0] if rows else []))
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def summary(record: dict, test: str = "original") -> tuple[float, float]:
    """Mean and standard deviation over seeds of a record's test macro-F1 on ``test``."""
    f1 = [r["test_f1"][test] for r in record["per_seed"]]
    return float(np.mean(f1)), float(np.std(f1))


def sizes_rows(sizes: EvalSizes) -> list[dict[str, str]]:
    """{setting, ours, paper} rows: what ``sizes`` cuts from the ``paper`` profile's."""
    ours, paper = asdict(sizes), asdict(EVAL_SIZES["paper"])
    return [{"setting": k, "ours": str(ours[k]), "paper": str(paper[k])} for k in ours]


__all__ = ["EVAL_SIZES", "EvalSizes", "EvalData", "Evaluation", "Candidate", "available_datasets", "balanced_cap",
           "eval_data", "seed_splits", "features", "linear_eval", "fully_supervised", "random_init_2d",
           "random_candidates", "checkpoint_candidate", "candidate_from_file", "resnet18_from_state_dict", "summary", "sizes_rows", "PAPER_COLUMN", "paper_table", "markdown_table"]
