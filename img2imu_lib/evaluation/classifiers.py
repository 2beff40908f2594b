"""Whole 2D classifiers (spectrogram image -> class logits) for the Grad-CAM and on-device chapters.

Three kinds, as in the paper's Fig. 8: a frozen pre-trained backbone with a linear head fitted on
a seed's shots (IMG2IMU; the probe of ``linear.linear_eval``, its rate and weight decay chosen on
the validation subjects), the same on a randomly initialised ResNet18, and a ResNet18 trained
from scratch on every training-subject window (fully supervised 2D). Fitted weights are cached
under ``$IMG2IMU_CACHE/classifiers``, keyed by everything that made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn

from ..checks import check_field_types
from ..store import cache_dir, load_cached_tensors, record_key, save_atomic
from .explain import classifier
from ..datasets.protocol import Split
from .bounds import per_class_sample, train_fully_supervised
from .candidates import Candidate
from .data import EvalData
from .features import RESULTS_VERSION, features
from .linear import linear_eval, shot_scaler
from .probe import macro_f1, train_heads
from .study import EvalSizes


@dataclass(frozen=True)
class ExplainSizes:
    """How much of the Grad-CAM study a profile runs."""

    supervised_epochs: int  # passes of the fully supervised ResNet18 over the training subjects' windows
    compared_windows: int | None  # test windows whose heatmaps are compared (class-balanced, seeded); None: all
    samples_per_class: int  # windows per class offered by the explorer widget

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.supervised_epochs < 1 or self.samples_per_class < 1 or (self.compared_windows is not None
                                                                        and self.compared_windows < 1):
            raise ValueError(f"{self}: expected at least one epoch, one sample per class and one compared window")


def probe_classifier(candidate: Candidate, data: EvalData, split: Split, *, spectrogram: tuple[int, int],
                     sizes: EvalSizes) -> tuple[nn.Module, dict]:
    """``candidate``'s frozen backbone and the linear head the evaluation fits on ``split``'s shots, as one model.

    The rate and weight decay are chosen on the validation subjects from ``sizes``' grid, then that
    head is trained again alone (the same seed draws the same head); where ``sizes.standardize``, the
    shots' scaling is folded into the layer, so the model reads the backbone's features as they come. Returns the model (images ->
    logits, ``eval()``) and the choice: lr, weight_decay, validation_f1 and the test macro-F1.
    """
    if candidate.kind != "image":
        raise ValueError(f"{candidate.name} is a {candidate.kind} backbone; a spectrogram classifier needs an image one")
    feats = features(candidate, data, spectrogram=tuple(spectrogram))
    [choice] = linear_eval(feats, data, [split], lrs=sizes.lrs, weight_decays=sizes.weight_decays,
                           epochs=sizes.probe_epochs, standardize=sizes.standardize)
    labels = torch.as_tensor(data.labels)
    mean, std = shot_scaler(feats, split.shots) if sizes.standardize else (torch.zeros(feats.shape[1]),
                                                                            torch.ones(feats.shape[1]))
    heads = train_heads(((feats[split.shots] - mean) / std)[None], labels[split.shots][None],
                        classes=len(data.classes), lrs=[choice["lr"]], weight_decays=[choice["weight_decay"]],
                        seeds=[split.seed], epochs=sizes.probe_epochs)
    head = nn.Linear(feats.shape[1], len(data.classes))
    with torch.no_grad():  # the shots' scaling folded into the layer: ((x - mean) / std) W + b = x W' + b'
        weight = heads.weight[0] / std[:, None]  # (F, C)
        head.weight.copy_(weight.T)
        head.bias.copy_(heads.bias[0] - mean @ weight)
    return classifier(candidate.load(), head), {k: choice[k] for k in ("lr", "weight_decay", "validation_f1", "test_f1")}


def supervised_classifier(data: EvalData, split: Split, *, spectrogram: tuple[int, int], epochs: int,
                          progress: bool = False) -> nn.Module:
    """ResNet18 trained from random weights on every window of ``split``'s training subjects (cached).

    The training is ``bounds.train_fully_supervised`` (Adam 1e-3, batch 32, the seed's draws), the
    fully supervised 2D bound of Table II at ``epochs`` passes.
    """
    key = record_key({"version": RESULTS_VERSION, "data": data.fingerprint, "seed": split.seed,
                      "train": np.asarray(split.train).tolist(), "spectrogram": list(spectrogram), "epochs": epochs,
                      "optimizer": "Adam lr 1e-3, batch 32"})
    path = cache_dir() / "classifiers" / f"fully_supervised_2d-{data.name}-{key}.pt"
    model = torchvision.models.resnet18(weights=None, num_classes=len(data.classes))
    if path.exists() and (cached := load_cached_tensors(path)) is not None:  # a damaged one is trained again
        try:
            model.load_state_dict(cached)
            return model.eval()
        except (RuntimeError, TypeError, AttributeError):  # a state dict of another network: train again
            path.unlink()
    trained, _ = train_fully_supervised("image", data, split.train, spectrogram=tuple(spectrogram), epochs=epochs,
                                        seed=split.seed, progress=progress)
    save_atomic(trained.state_dict(), path)
    model.load_state_dict(trained.state_dict())
    return model.eval()


def macro_f1_on(model: nn.Module, images: torch.Tensor, labels: np.ndarray, *, classes: int) -> tuple[float, np.ndarray]:
    """Macro-F1 and predicted classes of ``model`` on images (N, 3, H, W) with true ``labels`` (N,)."""
    with torch.no_grad():
        predicted = torch.cat([model(part).argmax(1) for part in images.split(256)]).numpy()
    return macro_f1(labels, predicted, classes=classes), predicted


def balanced_sample(labels: np.ndarray, indices: np.ndarray, *, per_class: int | None = None,
                    total: int | None = None, seed: int = 0) -> np.ndarray:
    """Up to ``per_class`` of ``indices`` per class, or ``total`` split evenly over the classes; seeded, sorted."""
    if per_class is None and total is not None:
        per_class = max(1, total // len(np.unique(labels[indices])))
    return np.sort(per_class_sample(labels, indices, per_class, seed=seed))


def save_path(name: str) -> Path:
    """Where the chapters keep exported files of ``name``: ``$IMG2IMU_CACHE/exports/<name>``."""
    return cache_dir() / "exports" / name
