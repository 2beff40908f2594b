"""The paper's evaluation (Section V-A, V-B, VI-C) over every method and dataset, cached and resumable.

The protocol, per dataset and seed: a 6:2:2 subject split, distinct across the seeds, and
``shots`` windows per class from the training subjects (``seed_splits``, the same for every
method); a frozen backbone's features (``features``, computed once per backbone, dataset,
spectrogram setting and perturbation, and cached), standardised with the shots' own mean and
standard deviation (``linear.shot_scaler``; ``EvalSizes.standardize``); a grid of linear heads
(Adam's rate x weight decay, ``probe.train_heads``) trained on the shots; the head with the best
macro-F1 on the validation subjects is scored on the test subjects. The spectrogram setting
(nfft, noverlap) is chosen per backbone and dataset on the validation subjects too
(``choose_spectrogram``). Test scores never choose anything.

Every result is a record (``store.cached_record``): repeating a call reuses it, and the
evaluation chapter's tables are built from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets.protocol import Split
from ..progress import progress_bar
from ..store import cached_record, records_dir
from .bounds import fully_supervised, per_class_sample
from .candidates import Candidate
from .data import EvalData, seed_splits
from ..checks import check_field_types, check_seed
from .features import RESULTS_VERSION, features
from .linear import linear_eval
from .probe import macro_f1

GAPS = (2, 4, 8, 16)  # noverlap = nfft - gap, the paper's grid

SPLIT_RULE = "distinct"  # datasets.protocol.distinct_splits: no two seeds alike, test subjects rotating

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
    standardize: bool = True  # scale features with each seed's shots' mean and std (False: the raw features)

    def __post_init__(self) -> None:
        check_field_types(self)
        for seed in (*self.seeds, self.perturbation_seed):
            check_seed(seed)
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


class Evaluation:
    """The evaluation at ``sizes`` over a set of datasets, every result a record in ``folder``.

    ``data``: EvalData by name. Each method keeps the same seeds, splits and shots. ``profile`` only
    labels the records: it is written into every record's inputs and names the default folder,
    ``records_dir(profile)``.
    """

    def __init__(self, sizes: EvalSizes, data: dict[str, EvalData], *, profile: str, folder: Path | None = None,
                 progress: bool = True) -> None:
        if not isinstance(sizes, EvalSizes):
            raise TypeError(f"sizes={sizes!r}; expected an EvalSizes (a profile's: get_profile(name).evaluation)")
        self.sizes, self.data, self.profile = sizes, data, profile
        self.folder = folder or records_dir(profile)
        self.progress = progress

    def splits(self, dataset: str, shots: int | None = None) -> list[Split]:
        k = shots or self.sizes.shots
        return seed_splits(self.data[dataset], self.sizes.seeds, k, allow_fewer=k > self.sizes.shots)

    def _inputs(self, candidate: Candidate, dataset: str, **extra: object) -> dict:
        s = self.sizes
        return {"version": RESULTS_VERSION, "method": candidate.name, "kind": candidate.kind, "dataset": dataset, "checkpoint": candidate.key,
                "data": self.data[dataset].fingerprint, "windows": len(self.data[dataset].labels), "seeds": list(s.seeds),
                "lrs": list(s.lrs), "weight_decays": list(s.weight_decays), "probe_epochs": s.probe_epochs,
                "splits": SPLIT_RULE, "profile": self.profile, **extra}

    def score(self, candidate: Candidate, dataset: str, *, spectrogram: tuple[int, int] | None = None,
              shots: int | None = None, perturbations: Sequence[str] = (), stage: str = "table2",
              fixed: dict[int, tuple[float, float]] | None = None, standardize: bool | None = None) -> dict:
        """The record of ``candidate`` on ``dataset``: per seed the chosen probe and its test macro-F1.

        ``fixed`` {seed: (lr, weight_decay)} skips the search (the few-shot curve reuses each seed's
        choice at the profile's shots when ``EvalSizes.curve_search`` is off). ``standardize`` overrides
        the sizes' choice of standardised or raw features (the chapter scores both)."""
        k = shots or self.sizes.shots
        standardize = self.sizes.standardize if standardize is None else bool(standardize)
        spectrogram = tuple(spectrogram) if spectrogram else None
        fixed = {int(seed): tuple(v) for seed, v in fixed.items()} if fixed else None
        inputs = self._inputs(candidate, dataset, shots=k, spectrogram=spectrogram, perturbations=list(perturbations),
                              perturbation_seed=self.sizes.perturbation_seed, fixed=fixed,
                              features="standardized by the shots" if standardize else "raw")

        def compute() -> dict:
            data = self.data[dataset]
            feats = features(candidate, data, spectrogram=spectrogram)
            tests = {p: features(candidate, data, spectrogram=spectrogram, perturbation=p,
                                 perturbation_seed=self.sizes.perturbation_seed) for p in perturbations}
            per_seed = linear_eval(feats, data, self.splits(dataset, k), lrs=self.sizes.lrs,
                                   weight_decays=self.sizes.weight_decays, epochs=self.sizes.probe_epochs, tests=tests,
                                   fixed=fixed, standardize=standardize)
            f1 = [r["test_f1"]["original"] for r in per_seed]
            return {"per_seed": per_seed, "f1_mean": float(np.mean(f1)), "f1_std": float(np.std(f1))}

        return cached_record(self.folder, stage, f"{candidate.name}-{dataset}", inputs, compute)

    def choose_spectrogram(self, candidate: Candidate, dataset: str) -> dict:
        """Score ``candidate`` with every spectrogram setting of the profile that fits the windows; choose the
        one with the best validation macro-F1 (mean over seeds). Returns chosen, scores per setting, skipped.
        Every image backbone makes its own choice (the chapter's ``scoring.spectrogram_choices``), so no
        method is scored on a setting chosen for another."""
        data = self.data[dataset]
        samples = data.windows.shape[1]
        fits = [s for s in self.sizes.spectrograms if samples >= s[0] // 2]
        skipped = [s for s in self.sizes.spectrograms if s not in fits]
        if not fits:
            raise ValueError(f"{dataset}: its {samples}-sample windows fit none of the spectrogram settings "
                             f"{self.sizes.spectrograms} (nfft needs at least nfft/2 samples)")
        scores = {s: self.score(candidate, dataset, spectrogram=s, stage="spectrogram") for s in
                  progress_bar(fits, desc=f"{candidate.name} on {dataset}: spectrogram settings",
                               disable=not self.progress)}
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
            for split in progress_bar(self.splits(dataset), desc=f"{name} on {dataset}", disable=not self.progress):
                train = per_class_sample(data.labels, split.train, s.upper_windows_per_class, seed=split.seed)
                predicted = fully_supervised(kind, data, train, split.test, spectrogram=spectrogram, epochs=epochs,
                                             seed=split.seed)
                per_seed.append({"seed": split.seed, "train_windows": len(train), "test_windows": len(split.test),
                                 "test_f1": {"original": macro_f1(data.labels[split.test], predicted,
                                                                  classes=len(data.classes))}})
            f1 = [r["test_f1"]["original"] for r in per_seed]
            return {"per_seed": per_seed, "f1_mean": float(np.mean(f1)), "f1_std": float(np.std(f1))}

        return cached_record(self.folder, "upper_bound", f"{name}-{dataset}", inputs, compute)
