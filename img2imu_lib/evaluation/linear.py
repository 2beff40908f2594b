"""The linear evaluation of frozen features (Section V-A): a grid of heads per seed, chosen on validation.

By default each seed's features are first standardised with the mean and standard deviation of
that seed's shots alone (``shot_scaler``): the validation and test windows are scaled with the
shots' statistics and never contribute to them, so no choice and no scaling depends on a window
the probe is scored on. Without it a probe's result depends on the scale of a backbone's features
(features of a barely trained network can be tiny or huge), which the paper's protocol leaves
open; ``standardize=False`` keeps the raw features for comparison with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch

from ..datasets.protocol import Split
from .data import EvalData
from .probe import macro_f1, train_heads


def shot_scaler(feats: torch.Tensor, shots: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation (F,) of the ``shots`` rows of ``feats`` (N, F), the population's (ddof 0);
    a dimension constant over the shots gets a deviation of 1, so it is only centred."""
    rows = feats[torch.as_tensor(np.asarray(shots), dtype=torch.long)]
    mean, std = rows.mean(dim=0), rows.std(dim=0, correction=0)
    return mean, torch.where(std > 0, std, torch.ones_like(std))


def linear_eval(feats: torch.Tensor, data: EvalData, splits: Sequence[Split], *, lrs: Sequence[float],
                weight_decays: Sequence[float], epochs: int, tests: dict[str, torch.Tensor] | None = None,
                batch_size: int = 4, fixed: dict[int, tuple[float, float]] | None = None,
                standardize: bool = True) -> list[dict]:
    """Per seed: heads for every (rate, weight decay) on the shots, the best on validation, its test macro-F1.

    ``standardize``: every feature set of the seed is scaled with ``shot_scaler`` of its shots (the module
    docstring says why); False trains and scores on the raw features.
    ``tests`` adds other feature sets of the same windows (perturbed copies) scored with the chosen head.
    ``fixed`` {seed: (lr, weight_decay)} trains only that head for each seed instead of the grid.
    Returns one dict per seed: lr, weight_decay, validation_f1 (of the chosen head), the validation
    F1 of every grid point, test_f1 per test set, shots per class, and the test-window count.
    """
    full_grid = list(itertools.product(lrs, weight_decays))

    def grid_of(split: Split) -> list[tuple[float, float]]:
        return [tuple(fixed[split.seed])] if fixed else full_grid

    classes = len(data.classes)
    labels = torch.as_tensor(data.labels)
    tests = {"original": feats, **(tests or {})}
    # seeds with as many shots train in one batch of heads; different counts (allow_fewer) in another
    by_count: dict[int, list[Split]] = {}
    for split in splits:
        by_count.setdefault(len(split.shots), []).append(split)
    results: dict[int, dict] = {}
    def scaled(f: torch.Tensor, split: Split) -> torch.Tensor:
        if not standardize:
            return f
        mean, std = scalers[split.seed]
        return (f - mean) / std

    scalers = {split.seed: shot_scaler(feats, split.shots) for split in splits} if standardize else {}
    for group in by_count.values():
        points = [(split, lr, wd) for split in group for lr, wd in grid_of(split)]
        rows = np.stack([split.shots for split, _, _ in points])
        inputs = torch.stack([scaled(feats[split.shots], split) for split, _, _ in points])
        heads = train_heads(inputs, labels[rows], classes=classes, lrs=[lr for _, lr, _ in points],
                            weight_decays=[wd for _, _, wd in points], seeds=[split.seed for split, _, _ in points],
                            epochs=epochs, batch_size=batch_size)
        with torch.no_grad():
            for i, split in enumerate(group):
                grid = grid_of(split)
                own = slice(i * len(grid), (i + 1) * len(grid))
                val_pred = heads(scaled(feats[split.validation], split))[own].argmax(-1)
                val_f1 = [macro_f1(data.labels[split.validation], p, classes=classes) for p in val_pred]
                best = int(np.argmax(val_f1))  # the first of equals, in grid order
                test_f1 = {name: macro_f1(data.labels[split.test],
                                          heads(scaled(f[split.test], split))[own.start + best].argmax(-1),
                                          classes=classes) for name, f in tests.items()}
                results[split.seed] = {
                    "seed": split.seed, "lr": grid[best][0], "weight_decay": grid[best][1], "validation_f1": val_f1[best],
                    "validation_grid": [{"lr": lr, "weight_decay": wd, "validation_f1": v} for (lr, wd), v in zip(grid, val_f1)],
                    "test_f1": test_f1, "shots_per_class": np.bincount(data.labels[split.shots], minlength=classes).tolist(),
                    "test_windows": len(split.test)}
    return [results[split.seed] for split in splits]
