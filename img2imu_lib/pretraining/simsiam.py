"""SimSiam (Chen & He 2021), the image baseline that needs no negative pairs, after its official recipe.

Two views go through one encoder (an image backbone, ResNet18 or MobileNetV2, + a 3-layer
projector ending in a BatchNorm without affine parameters) and a 2-layer predictor; the loss is
the negative cosine similarity between each view's prediction and the other view's projection,
with the gradient stopped on the projection. Recipe: SGD, lr 0.05 x batch / 256 on a cosine
schedule, momentum 0.9, weight decay 1e-4, the predictor's learning rate held fixed, MoCo v2's
augmentations. The official code synchronises BatchNorm across its 8 GPUs (SyncBatchNorm, CUDA
only); here BatchNorm statistics are per process under torchrun, or per group in one process
(``groups``), as for MoCo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_field_types
from .moco import Gather, grouped, head, image_network, set_head, without_head


@dataclass(frozen=True)
class SimSiamConfig:
    dim: int = 2048  # projection width (the official recipe)
    pred_dim: int = 512  # predictor bottleneck (the official recipe)
    base_lr: float = 0.05  # lr = base_lr x batch / 256 (the official recipe)
    momentum: float = 0.9  # SGD momentum (the official recipe)
    weight_decay: float = 1e-4  # (the official recipe)

    def __post_init__(self) -> None:
        check_field_types(self)


def projector(width: int, dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(width, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
        nn.Linear(width, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
        nn.Linear(width, dim, bias=False), nn.BatchNorm1d(dim, affine=False),
    )


class SimSiam(nn.Module):
    """Encoder (an image backbone + projector) and predictor; it also says how it is optimised (the official recipe).

    ``arch``, ``init``, ``seed``: the backbone, ``moco.image_network``'s (ResNet18 with random weights by default).
    """

    def __init__(self, config: SimSiamConfig = SimSiamConfig(), *, arch: str = "resnet18", init: str = "random",
                 seed: int = 0) -> None:
        super().__init__()
        self.config = config
        # torchvision's 1,000 outputs, drawn and then replaced by the projector: the draw of the runs cached before arch
        self.encoder = image_network(1000, arch=arch, init=init, seed=seed)
        set_head(self.encoder, projector(head(self.encoder).in_features, config.dim))
        self.predictor = nn.Sequential(nn.Linear(config.dim, config.pred_dim, bias=False), nn.BatchNorm1d(config.pred_dim),
                                       nn.ReLU(inplace=True), nn.Linear(config.pred_dim, config.dim))

    def forward(self, view_1: torch.Tensor, view_2: torch.Tensor, *, groups: int = 1, permutation: torch.Tensor | None = None,
                gather: Gather | None = None, rank: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Two views (N, 3, H, W) -> symmetric negative cosine loss (in [-1, 1]) and the projections (2, N, dim).

        ``groups``: BatchNorm statistics per equal slice of the batch, as per-GPU BatchNorm would give.
        ``permutation``, ``gather`` and ``rank`` are MoCo's (``moco.MoCo.forward``), taken so that every
        two-view model has one call; SimSiam has no keys to shuffle or gather and ignores them.
        """
        z1, z2 = grouped(self.encoder, view_1, groups), grouped(self.encoder, view_2, groups)  # (N, dim)
        p1, p2 = grouped(self.predictor, z1, groups), grouped(self.predictor, z2, groups)
        loss = -0.5 * (F.cosine_similarity(p1, z2.detach()).mean() + F.cosine_similarity(p2, z1.detach()).mean())
        return loss, torch.stack([z1.detach(), z2.detach()])

    def optimizer(self, batch_size: int) -> torch.optim.SGD:
        """SGD at base_lr x batch / 256; the predictor's group is marked ``fixed_lr`` (kept at that rate)."""
        lr = self.config.base_lr * batch_size / 256
        groups = [{"params": self.encoder.parameters(), "fixed_lr": False, "initial_lr": lr},
                  {"params": self.predictor.parameters(), "fixed_lr": True, "initial_lr": lr}]
        return torch.optim.SGD(groups, lr=lr, momentum=self.config.momentum, weight_decay=self.config.weight_decay)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        """Cosine decay from base_lr x batch / 256 to 0 over ``epochs``."""
        return self.config.base_lr * batch_size / 256 * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))

    def backbone(self) -> nn.Module:
        """The encoder without its projector: (N, 3, H, W) -> (N, FEATURE_DIMS[arch]) pooled features."""
        return without_head(self.encoder)
