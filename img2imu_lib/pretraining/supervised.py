"""Supervised pre-training on labelled images: the image baseline of the paper's pre-training question.

An image backbone (torchvision's ResNet18 by default, or MobileNetV2; random or ImageNet weights)
with a linear classifier learns to classify augmented images of a labelled folder
(``labelled.LabelledImageFolder``) with cross-entropy. The augmentations are
MoCo v2's, so the only difference from the MoCo runs is the objective. The optimiser is
torchvision's reference recipe for ResNets (``references/classification``: SGD, momentum 0.9,
weight decay 1e-4, learning rate 0.1 for a batch of 256, scaled linearly with the batch as in
Goyal et al. 2017), decayed along a cosine to zero (its ``--lr-scheduler cosineannealinglr``
option; its default is a step schedule).

The generic trainer calls only ``loss``, ``optimizer``, ``learning_rate`` and ``backbone``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_field_types
from ..images.baselines import moco_v2_augmentations
from ..images.spectrogram import IMAGE_SIZE
from ..images.spectrogram import normalize_images
from .moco import image_network, without_head


@dataclass(frozen=True)
class SupervisedConfig:
    num_classes: int = 1000  # classifier outputs: the corpus's classes (ImageNet's 1,000, as in imagenet-sample)
    lr: float = 0.1  # learning rate at a batch of reference_batch (torchvision's reference recipe)
    reference_batch: int = 256  # batch at which the learning rate is lr; it scales linearly with the batch
    momentum: float = 0.9  # SGD momentum (torchvision's reference recipe)
    weight_decay: float = 1e-4  # L2 penalty on all parameters (torchvision's reference recipe)
    image_size: tuple[int, int] = IMAGE_SIZE  # (H, W) of the augmented crops, the size of the sensor images

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.num_classes < 2:
            raise ValueError(f"num_classes={self.num_classes}; supervised training needs at least 2")
        if self.lr <= 0 or self.reference_batch < 1:
            raise ValueError(f"lr={self.lr}, reference_batch={self.reference_batch}; expected both positive")
        if not 0.0 <= self.momentum < 1.0 or self.weight_decay < 0:
            raise ValueError(f"momentum={self.momentum}, weight_decay={self.weight_decay}; "
                             f"expected 0 <= momentum < 1 and weight_decay >= 0")


class Supervised(nn.Module):
    """An image backbone with a ``num_classes``-way linear classifier, trained by cross-entropy on augmented images.

    ``arch``, ``init``, ``seed``: the backbone, ``moco.image_network``'s (ResNet18 with random weights by default).
    """

    def __init__(self, config: SupervisedConfig = SupervisedConfig(), *, arch: str = "resnet18", init: str = "random",
                 seed: int = 0) -> None:
        super().__init__()
        self.config = config
        self.network = image_network(config.num_classes, arch=arch, init=init, seed=seed)
        self.augment = moco_v2_augmentations(config.image_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised images (N, 3, H, W) -> class logits (N, num_classes)."""
        return self.network(images)

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor], *, generator: torch.Generator) -> torch.Tensor:
        """Mean cross-entropy (nats) of one augmented view of each image.

        batch: images (N, 3, H, W) float in [0, 1] and labels (N,) long in [0, num_classes), as a
        DataLoader yields them from a ``LabelledImageFolder``; the augmentations draw from ``generator``.
        """
        images, labels = batch
        if images.ndim != 4 or labels.shape != (images.shape[0],):
            raise ValueError(f"images {tuple(images.shape)} and labels {tuple(labels.shape)}; expected (N, 3, H, W) and (N,)")
        if labels.min() < 0 or labels.max() >= self.config.num_classes:
            raise ValueError(f"labels span [{int(labels.min())}, {int(labels.max())}]; "
                             f"expected [0, {self.config.num_classes - 1}] (num_classes={self.config.num_classes})")
        views = self.augment(images, generator=generator)  # (N, 3, *image_size)
        logits = self(normalize_images(views))  # (N, num_classes)
        return F.cross_entropy(logits, labels.to(logits.device))

    def optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        """SGD over all parameters, at the learning rate of epoch 0 for ``batch_size``."""
        return torch.optim.SGD(self.parameters(), lr=self.learning_rate(0.0, epochs=1, batch_size=batch_size),
                               momentum=self.config.momentum, weight_decay=self.config.weight_decay)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        """lr * batch_size / reference_batch * (1 + cos(pi * epoch / epochs)) / 2, for 0 <= epoch <= epochs."""
        if epochs < 1 or batch_size < 1:
            raise ValueError(f"epochs={epochs}, batch_size={batch_size}; expected both >= 1")
        if not 0.0 <= epoch <= epochs:
            raise ValueError(f"epoch={epoch}; expected 0 <= epoch <= {epochs}")
        peak = self.config.lr * batch_size / self.config.reference_batch
        return peak * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))

    def backbone(self) -> nn.Module:
        """A copy of the network without its classifier: (N, 3, H, W) -> (N, FEATURE_DIMS[arch]) pooled features."""
        return without_head(self.network)
