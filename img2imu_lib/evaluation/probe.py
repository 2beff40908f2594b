"""The linear probe of the paper's protocol (Section V-A): a frozen backbone and one new linear layer.

The backbone stays frozen and in ``eval()`` mode (BatchNorm uses its running statistics and is
never updated), so its features of a window never change: they are computed once
(``extract_features``; ``evaluation.features`` checks the backbone is unchanged afterwards, as
MoCo's ``main_lincls`` sanity check does) and the new layer is trained on them with Adam, batch
size 4, for 50 epochs, which is the same computation as training the layer on top of the frozen
network, only faster. ``train_heads`` trains a whole grid of such layers at once and is what the
evaluation uses (``evaluation.linear.linear_eval``); ``train_head`` is the same computation for
one layer with ``torch.optim.Adam``, kept as the slow, obvious reference the tests and the
benchmark compare it with. The score is macro-F1 from scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from torch import nn


@dataclass(frozen=True)
class ProbeConfig:
    epochs: int = 50  # the paper
    batch_size: int = 4  # the paper
    lr: float = 1e-3  # Adam's rate; the paper chooses it on the validation split
    weight_decay: float = 0.0  # the paper chooses it on the validation split
    seed: int = 0  # the layer's initial weights and the order of the shots

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(f"epochs={self.epochs}, batch_size={self.batch_size}, lr={self.lr}, "
                             f"weight_decay={self.weight_decay}; expected positive sizes and rate, weight_decay >= 0")


@torch.no_grad()
def extract_features(backbone: nn.Module, inputs: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
    """Features (N, F) of ``inputs`` (N, ...) through the frozen backbone in eval mode."""
    backbone.eval()
    device = next(backbone.parameters()).device
    return torch.cat([backbone(part.to(device)).float().cpu() for part in inputs.split(batch_size)])


def train_head(features: torch.Tensor, labels: torch.Tensor, *, classes: int, config: ProbeConfig) -> nn.Linear:
    """A new linear layer (F -> classes) trained on frozen ``features`` (N, F) and ``labels`` (N,)."""
    if len(features) != len(labels) or len(features) == 0:
        raise ValueError(f"{len(features)} feature rows and {len(labels)} labels; expected the same, non-zero number")
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels span {int(labels.min())}..{int(labels.max())}; expected 0..{classes - 1}")
    generator = torch.Generator().manual_seed(config.seed)
    head = nn.Linear(features.shape[1], classes)
    with torch.no_grad():  # initial weights from the probe's own generator, not the global one
        bound = 1.0 / features.shape[1] ** 0.5
        head.weight.uniform_(-bound, bound, generator=generator)
        head.bias.uniform_(-bound, bound, generator=generator)
    trainable = [p for p in head.parameters() if p.requires_grad]
    assert len(trainable) == 2, "the probe trains exactly the new layer's weight and bias"
    optimizer = torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay)
    for _ in range(config.epochs):
        for batch in torch.randperm(len(features), generator=generator).split(config.batch_size):
            loss = F.cross_entropy(head(features[batch]), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return head.eval()


def macro_f1(true: np.ndarray | torch.Tensor, predicted: np.ndarray | torch.Tensor, *, classes: int) -> float:
    """scikit-learn's macro-averaged F1 over the classes 0 .. classes - 1 (a class never predicted scores 0)."""
    return float(f1_score(np.asarray(true), np.asarray(predicted), average="macro", labels=list(range(classes)),
                          zero_division=0))


@dataclass
class Heads:
    """G linear heads trained side by side: weight (G, F, C) and bias (G, C), and what each was trained with."""

    weight: torch.Tensor
    bias: torch.Tensor
    lrs: tuple[float, ...]
    weight_decays: tuple[float, ...]

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        """Logits (G, N, C) of features (N, F), the same rows through every head, or (G, N, F), each head its own."""
        if features.ndim == 2:
            features = features.expand(len(self.weight), *features.shape)
        return torch.baddbmm(self.bias.unsqueeze(1), features, self.weight)


def train_heads(features: torch.Tensor, labels: torch.Tensor, *, classes: int, lrs: Sequence[float],
                weight_decays: Sequence[float], seeds: Sequence[int], epochs: int = 50, batch_size: int = 4,
                betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> Heads:
    """Train G independent linear heads at once, head g on ``features[g]`` (G, N, F) and ``labels[g]`` (G, N),
    with its own Adam rate, weight decay and seed (initial weights and order of its rows).

    Each head follows ``train_head`` exactly (the test checks it against ``torch.optim.Adam``):
    Adam with L2 weight decay added to the gradient, batches of ``batch_size`` in a fresh random
    order every epoch. Doing all heads in one tensor program makes a grid of learning rates and
    weight decays, over every seed, cost about as much as one head: a head's steps are tiny and
    their cost is almost all per-operation overhead.
    """
    g, n, f = features.shape
    if labels.shape != (g, n) or not len(lrs) == len(weight_decays) == len(seeds) == g or n == 0:
        raise ValueError(f"features {tuple(features.shape)}, labels {tuple(labels.shape)}, {len(lrs)} rates, "
                         f"{len(weight_decays)} weight decays, {len(seeds)} seeds; expected (G, N, F), (G, N) and G of each")
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels span {int(labels.min())}..{int(labels.max())}; expected 0..{classes - 1}")
    if min(lrs) <= 0 or min(weight_decays) < 0 or epochs < 1 or batch_size < 1:
        raise ValueError(f"lrs={list(lrs)}, weight_decays={list(weight_decays)}, epochs={epochs}, batch_size={batch_size}; "
                         f"expected positive rates, sizes and epochs, non-negative decays")
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    weight, bias = torch.empty(g, f, classes), torch.empty(g, classes)
    bound = 1.0 / f**0.5
    for i, generator in enumerate(generators):  # the draws of nn.Linear's init in train_head, in its order
        weight[i] = torch.empty(classes, f).uniform_(-bound, bound, generator=generator).T
        bias[i] = torch.empty(classes).uniform_(-bound, bound, generator=generator)
    if features.requires_grad:
        raise ValueError("features require grad: the probe trains its heads on frozen features only (detach them)")
    params = [weight.requires_grad_(), bias.requires_grad_()]
    version = features._version  # bumped by any in-place change: the probe must leave its inputs alone
    lr = torch.tensor(lrs, dtype=torch.float32)
    decay = torch.tensor(weight_decays, dtype=torch.float32)
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    rows = torch.arange(g).unsqueeze(1)
    step = 0
    for _ in range(epochs):
        order = torch.stack([torch.randperm(n, generator=generator) for generator in generators])  # (G, N)
        for batch in order.split(batch_size, dim=1):  # (G, B)
            logits = torch.baddbmm(bias.unsqueeze(1), features[rows, batch], weight)  # (G, B, C)
            loss = F.cross_entropy(logits.flatten(0, 1), labels[rows, batch].flatten(), reduction="none")
            loss.view(g, -1).mean(dim=1).sum().backward()  # head g's gradient is that of its own mean loss
            step += 1
            with torch.no_grad():
                for p, (m, v) in zip(params, moments):
                    shape = (g,) + (1,) * (p.ndim - 1)
                    grad = p.grad + decay.view(shape) * p
                    m.lerp_(grad, 1 - betas[0])
                    v.mul_(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
                    denom = (v.sqrt() / (1 - betas[1] ** step) ** 0.5).add_(eps)
                    p.addcdiv_(m, denom * ((1 - betas[0] ** step) / lr.view(shape)), value=-1.0)
                    p.grad = None
    assert features._version == version and features.grad is None, "the probe changed or differentiated its features"
    return Heads(weight.detach(), bias.detach(), tuple(lrs), tuple(weight_decays))
