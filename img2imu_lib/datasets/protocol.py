"""The paper's data protocol (Section V-A2): resample to 50 Hz, window, split by subject, sample shots.

Every rule here is a documented decision the evaluation depends on:

* resampling is polyphase (``scipy.signal.resample_poly``); labels follow the nearest earlier
  original sample;
* subjects are split 6:2:2 into train / validation / test by a seeded permutation, so no subject
  is in two splits and each seed gives an independent split; given the window labels, the
  permutation is redrawn (from the same seed, up to 1,000 times) until every class occurs in
  every part, since a part without a class makes macro-F1 meaningless; when no split can
  (a class recorded from too few subjects) the error names the class and its subjects;
* the seeds of one evaluation get **distinct** splits (``distinct_splits``): seeds are taken in
  order, and each takes, among the valid draws from its own seed, the one whose test subjects
  were tested least often by the seeds before it (the first such draw; half the draws first move
  the least-tested subjects into the test part). Test subjects therefore rotate through the
  subjects as far as the classes allow: on Daphnet, where only four of the five subjects freeze,
  the five seeds test on each freezing subject once and one of them twice (with another
  validation subject), a leave-one-freezing-subject-out scheme. A seed whose every draw repeats
  an earlier seed's whole split is an error naming both;
* the few-shot sample draws k windows per class from the training split without replacement;
  a class with fewer than k training windows is an error naming the class (pass
  ``allow_fewer=True`` to take all it has);
* sensor baselines are normalised with the pre-training corpus's per-axis mean and std.

Parameters are checked before they reach numpy: a seed is a whole number from 0 to 2**31 - 1
(``checks.check_seed``; never None, a float or a bool), a count such as ``k`` or ``shots`` a whole
number >= 1, ``allow_fewer`` True or False, a rate a finite number > 0; the error names the
parameter and its value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from ..checks import check_rate, check_seed, check_whole
from .recording import Recording

TARGET_FS = 50.0  # Hz, every dataset is resampled to this rate


def resample(recording: Recording, fs: float = TARGET_FS) -> Recording:
    """The recording at ``fs`` Hz: polyphase resampling of the signal, labels of the nearest earlier sample."""
    fs = check_rate(fs)
    if recording.fs == fs:
        return recording
    ratio = Fraction(fs / recording.fs).limit_denominator(1000)
    signal = resample_poly(recording.signal.astype(np.float64), ratio.numerator, ratio.denominator, axis=0)
    source = np.minimum((np.arange(len(signal)) * recording.fs / fs).astype(np.int64), len(recording.labels) - 1)
    extra = {k: resample_poly(v.astype(np.float64), ratio.numerator, ratio.denominator, axis=0).astype(np.float32)
             for k, v in recording.extra.items()}
    return replace(recording, signal=signal.astype(np.float32), labels=recording.labels[source], fs=fs, extra=extra)


@dataclass(frozen=True)
class Split:
    """One seed's 6:2:2 subject split: the subject ids of each part, the window indices of each part, and
    the ``k`` shots per class drawn from the training part (empty until ``seed_split`` draws them)."""

    seed: int
    train_subjects: np.ndarray
    validation_subjects: np.ndarray
    test_subjects: np.ndarray
    train: np.ndarray  # indices of the windows of the training subjects
    validation: np.ndarray
    test: np.ndarray
    shots: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # indices into the windows


def subject_split(
    subjects: np.ndarray, *, seed: int, labels: np.ndarray | None = None,
    ratios: tuple[float, float, float] = (0.6, 0.2, 0.2),
) -> Split:
    """Split the distinct ``subjects`` into train / validation / test by ``ratios`` (Section V-A2).

    subjects: (N,) subject id of each window; labels: (N,) class of each window, optional (see
    the module docstring for the rule it adds).
    """
    seed = check_seed(seed)
    subjects = np.asarray(subjects)
    if subjects.ndim != 1:
        raise ValueError(f"subjects have shape {subjects.shape}; expected (N,), the subject of each window")
    if labels is not None:
        labels = _labels(labels, len(subjects), "subjects")
    if (not isinstance(ratios, (tuple, list)) or len(ratios) != 3
            or not all(isinstance(r, numbers.Real) and not isinstance(r, bool) and math.isfinite(r) for r in ratios)):
        raise ValueError(f"ratios={ratios!r}; expected three positive fractions summing to 1 (train, validation, test)")
    unique = np.unique(subjects)
    if len(unique) < 3:
        raise ValueError(f"{len(unique)} subjects ({unique.tolist()}); a subject-wise split needs at least 3")
    if abs(sum(ratios) - 1.0) > 1e-9 or min(ratios) <= 0:
        raise ValueError(f"ratios={ratios}; expected three positive fractions summing to 1")
    for parts in _valid_parts(subjects, labels, unique, seed, ratios, tested=None):
        return _split(seed, parts, subjects)
    _no_split(subjects, labels)


DRAWS = 1000  # draws of a seed's permutation before a split is given up


def _valid_parts(subjects: np.ndarray, labels: np.ndarray | None, unique: np.ndarray, seed: int,
                 ratios: tuple[float, float, float], tested: dict | None) -> Iterator[tuple[np.ndarray, ...]]:
    """The valid (train, validation, test) subject parts among ``DRAWS`` seeded permutations, in draw order.
    ``tested`` {subject: times tested by earlier seeds}: every other draw is first stably sorted so that the
    least-tested subjects come last, into the test part."""
    n_val = max(1, int(round(ratios[1] * len(unique))))
    n_test = max(1, int(round(ratios[2] * len(unique))))
    n_train = len(unique) - n_val - n_test
    if n_train < 1:
        raise ValueError(f"{len(unique)} subjects leave none for training with ratios {ratios}")
    rng = np.random.default_rng(seed)
    for draw in range(DRAWS):
        order = rng.permutation(unique)
        if tested is not None and draw % 2 == 0:
            order = order[np.argsort([-tested.get(s, 0) for s in order.tolist()], kind="stable")]
        parts = (np.sort(order[:n_train]), np.sort(order[n_train:n_train + n_val]), np.sort(order[n_train + n_val:]))
        if labels is None or _every_class_everywhere(parts, subjects, labels):
            yield parts


def _split(seed: int, parts: tuple[np.ndarray, ...], subjects: np.ndarray) -> Split:
    return Split(seed, *parts, *(np.flatnonzero(np.isin(subjects, part)) for part in parts))


def _no_split(subjects: np.ndarray, labels: np.ndarray) -> None:
    classes = np.unique(labels)
    owners = {int(c): np.unique(subjects[labels == c]).tolist() for c in classes}
    rare = min(owners, key=lambda c: len(owners[c]))
    raise ValueError(f"no split puts every class in train, validation and test: class {rare} occurs only for "
                     f"subjects {owners[rare]}")


def distinct_splits(labels: np.ndarray, subjects: np.ndarray, *, seeds: Sequence[int], shots: int,
                    allow_fewer: bool = False, ratios: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> list[Split]:
    """One split per seed, taken in order, none repeating another and their test subjects rotating (the module
    docstring states the rule), each with ``shots`` windows per class drawn from its training part with its seed.
    A function of the data and the seeds only, so every method evaluated with them sees the same windows."""
    shots = check_whole(shots, "shots", least=1)
    seeds = [check_seed(seed) for seed in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds {seeds} repeat a seed; expected distinct seeds")
    subjects = np.asarray(subjects)
    labels = _labels(labels, len(subjects), "subjects")
    unique = np.unique(subjects)
    if len(unique) < 3:
        raise ValueError(f"{len(unique)} subjects ({unique.tolist()}); a subject-wise split needs at least 3")
    tested: dict = {}
    taken: dict[tuple, int] = {}  # every earlier split's parts -> its seed
    splits = []
    for seed in seeds:
        best, best_overlap, repeats = None, None, None
        for parts in _valid_parts(subjects, labels, unique, seed, ratios, tested):
            key = tuple(tuple(part.tolist()) for part in parts)
            if key in taken:
                repeats = taken[key]
                continue
            overlap = sum(tested.get(s, 0) for s in parts[2].tolist())
            if best is None or overlap < best_overlap:
                best, best_overlap = parts, overlap
            if overlap == 0:
                break
        if best is None:
            if repeats is None:
                _no_split(subjects, labels)
            raise ValueError(f"seed {seed}: every split it can draw of the {len(unique)} subjects repeats the split of "
                             f"seed {repeats}; use fewer seeds (these subjects allow only so many distinct splits)")
        taken[tuple(tuple(part.tolist()) for part in best)] = seed
        for s in best[2].tolist():
            tested[s] = tested.get(s, 0) + 1
        split = _split(seed, best, subjects)
        splits.append(replace(split, shots=few_shot(labels, split.train, k=shots, seed=seed, allow_fewer=allow_fewer)))
    return splits


def seed_split(labels: np.ndarray, subjects: np.ndarray, *, seed: int, shots: int, allow_fewer: bool = False) -> Split:
    """The seed's subject split with its ``shots`` windows per class drawn from the training part: a function
    of the data and the seed only, so every method evaluated with the seed sees the same windows."""
    shots = check_whole(shots, "shots", least=1)
    split = subject_split(subjects, seed=seed, labels=labels)
    return replace(split, shots=few_shot(labels, split.train, k=shots, seed=seed, allow_fewer=allow_fewer))


def _every_class_everywhere(parts: tuple[np.ndarray, ...], subjects: np.ndarray, labels: np.ndarray) -> bool:
    classes = set(np.unique(labels).tolist())
    return all(set(np.unique(labels[np.isin(subjects, part)]).tolist()) == classes for part in parts)


def few_shot(labels: np.ndarray, candidates: np.ndarray, *, k: int, seed: int, allow_fewer: bool = False) -> np.ndarray:
    """Indices of ``k`` windows per class, drawn without replacement from ``candidates`` (indices into labels)."""
    k = check_whole(k, "k", least=1)
    seed = check_seed(seed)
    if not isinstance(allow_fewer, (bool, np.bool_)):
        raise TypeError(f"allow_fewer={allow_fewer!r} ({type(allow_fewer).__name__}); expected True or False")
    labels = _labels(labels, None, "")
    if not labels.size:
        raise ValueError("labels is empty; expected the class of each window")
    candidates = np.asarray(candidates)
    if candidates.ndim != 1 or (candidates.size and candidates.dtype.kind not in "iu"):
        raise ValueError(f"candidates have shape {candidates.shape} and dtype {candidates.dtype}; expected (M,) window indices (int)")
    if candidates.size and (candidates.min() < 0 or candidates.max() >= len(labels)):
        raise ValueError(f"candidates span {candidates.min()}..{candidates.max()}; expected indices 0..{len(labels) - 1} into labels")
    candidates = candidates.astype(np.int64)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        pool = candidates[labels[candidates] == c]
        if len(pool) < k and not allow_fewer:
            raise ValueError(f"class {c} has {len(pool)} training windows; k={k} needs {k} (or pass allow_fewer=True)")
        chosen.append(rng.choice(pool, size=min(k, len(pool)), replace=False))
    return np.sort(np.concatenate(chosen))


def _labels(labels: object, n: int | None, other: str) -> np.ndarray:
    """``labels`` as a (N,) array of class indices, N = ``n`` (the length of ``other``) when given."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or (n is not None and len(labels) != n):
        raise ValueError(f"labels have shape {labels.shape}; expected ({n if n is not None else 'N'},)"
                         + (f", one per entry of {other}" if other else ""))
    if labels.size and labels.dtype.kind not in "iu":
        raise ValueError(f"labels have dtype {labels.dtype}; expected class indices (int)")
    return labels


def fit_normalizer(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis mean and std (3,) of windows (N, T, 3): the pre-training corpus's statistics."""
    flat = windows.reshape(-1, windows.shape[-1]).astype(np.float64)
    std = flat.std(axis=0)
    if (std == 0).any():
        raise ValueError(f"an axis has zero variance (std {std.tolist()}); cannot normalise")
    return flat.mean(axis=0), std


def normalize(windows: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(windows - mean) / std per axis; windows (N, T, 3) -> float32 (N, T, 3)."""
    return ((windows - mean) / std).astype(np.float32)
