"""The interface the trainer trains every pre-training method through, and the two wrappers that give it.

A method is an ``nn.Module`` whose ``forward(batch, generators=..., permutation=, gather=, rank=)``
returns the loss of one batch as the corpus loader yields it (images for the image methods,
raw windows for the sensor ones), making its own augmented views from the injected
generators, one generator per BatchNorm group (``permutation``, ``gather`` and ``rank`` are
MoCo's shuffled BatchNorm across processes, see ``moco.MoCo.forward``). It also says how it is
optimised (``optimizer(batch_size)``, ``learning_rate(epoch, epochs=, batch_size=)``, a pure
function of the fractional epoch) and gives its ``backbone()``: the trained encoder without
its head, for the evaluation. Each model owns its optimiser and schedule; the wrappers ask it.
``accuracy()`` is the last batch's InfoNCE top-1 accuracy for MoCo, None for every other method.

* ``TwoViewMethod``: a model of two views of images (MoCo, SimSiam) and the augmentation that
  makes each view; the model takes ``(view_q, view_k, groups=, permutation=, gather=, rank=)``.
* ``LossMethod``: a model with ``loss(batch, generator=)``: supervised pre-training on a labelled
  image folder and the sensor baselines (SimCLR, multi-task, CPC, LIMU-BERT).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..images.augmentations import Augmentation, TwoViews
from ..images.spectrogram import normalize_images
from .moco import Gather

Batch = torch.Tensor | Sequence[torch.Tensor]


class TwoViewMethod(nn.Module):
    """A two-view model over images: each BatchNorm group's images augmented twice, the model's loss of the pair."""

    def __init__(self, net: nn.Module, augment: Augmentation, *, channels_last: bool = False) -> None:
        super().__init__()
        self.net = net  # its weights are saved as net.*
        self.views = TwoViews(augment, augment)
        self.channels_last = channels_last

    def forward(self, images: torch.Tensor, *, generators: Sequence[torch.Generator], permutation: torch.Tensor | None = None,
                gather: Gather | None = None, rank: int = 0) -> torch.Tensor:
        """images (N, 3, H, W) in [0, 1], on the CPU where the views are drawn -> the loss."""
        groups = len(generators)
        pairs = [self.views(part, generator=g) for part, g in zip(images.chunk(groups), generators)]
        view_q, view_k = (self.model_input(torch.cat(views)) for views in zip(*pairs))  # each (N, 3, H, W)
        return self.net(view_q, view_k, groups=groups, permutation=permutation, gather=gather, rank=rank)[0]

    def model_input(self, views: torch.Tensor) -> torch.Tensor:
        """Views in [0, 1] -> what the model takes: normalised, on the weights' device and dtype, in their layout."""
        views = normalize_images(views).to(next(self.parameters()))  # the weights' device and dtype
        return views.contiguous(memory_format=torch.channels_last) if self.channels_last else views

    def optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        return self.net.optimizer(batch_size)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        return self.net.learning_rate(epoch, epochs=epochs, batch_size=batch_size)

    def backbone(self) -> nn.Module:
        return self.net.backbone()

    def accuracy(self) -> torch.Tensor | None:
        """The last forward's top-1 accuracy (a 0-d tensor in [0, 1]) where the model keeps one (MoCo), else None."""
        return getattr(self.net, "last_accuracy", None)


class LossMethod(nn.Module):
    """A module with ``loss(batch, generator=)`` trained per BatchNorm group: the loss is the groups' mean."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner  # its weights are saved as inner.*

    def forward(self, batch: Batch, *, generators: Sequence[torch.Generator], **_: object) -> torch.Tensor:
        """A batch (windows (N, T, 3), or images and labels) -> the mean of its groups' losses (MoCo's arguments unused)."""
        weight = next(self.parameters())
        parts = split(batch, len(generators))
        losses = [self.inner.loss(_to(part, weight), generator=g) for part, g in zip(parts, generators)]
        return torch.stack(losses).mean()

    def optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        return self.inner.optimizer(batch_size)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        return self.inner.learning_rate(epoch, epochs=epochs, batch_size=batch_size)

    def backbone(self) -> nn.Module:
        return self.inner.backbone()

    def accuracy(self) -> None:
        """None: these methods report no accuracy beside their loss."""
        return None


def split(batch: Batch, parts: int) -> list[Batch]:
    """A batch (a tensor, or a tuple of tensors such as images and labels) cut into ``parts`` equal parts."""
    if isinstance(batch, torch.Tensor):
        return list(batch.chunk(parts))
    return [tuple(p) for p in zip(*(t.chunk(parts) for t in batch))]


def _to(batch: Batch, weight: torch.Tensor) -> Batch:
    """The batch on ``weight``'s device, its floating-point tensors in ``weight``'s dtype (labels stay integers)."""
    def move(t: torch.Tensor) -> torch.Tensor:
        return t.to(weight) if t.is_floating_point() else t.to(weight.device)

    return move(batch) if isinstance(batch, torch.Tensor) else tuple(move(t) for t in batch)
