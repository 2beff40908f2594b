"""The fully supervised upper bounds of Table II: a whole network trained from random weights on every
training-subject window, the 1D CNN of the sensor baselines on raw windows or ResNet18 on images."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from ..pretraining.sensor.encoders import CNN1D, reset_parameters
from ..pretraining.sensor.normalization import Standardize, fit_corpus_stats
from ..progress import progress_bar
from .data import EvalData
from .features import backbone_inputs


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
        inputs = backbone_inputs(data.windows, kind="image", fs=data.fs, spectrogram=spectrogram).contiguous(
            memory_format=torch.channels_last)
    labels = torch.as_tensor(data.labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    with torch.random.fork_rng(devices=[]):  # dropout draws from the global generator: seed it, then restore it
        torch.manual_seed(seed)
        for _ in progress_bar(range(epochs), desc=f"fully supervised {kind} on {data.name}", disable=not progress):
            for batch in torch.as_tensor(train)[torch.randperm(len(train), generator=generator)].split(batch_size):
                if len(batch) < 2 and kind == "image":
                    continue  # BatchNorm cannot train on one image
                loss = F.cross_entropy(model(inputs[batch]), labels[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    return model.eval(), inputs
