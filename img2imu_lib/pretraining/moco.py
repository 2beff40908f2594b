"""MoCo (He et al. 2020; v2 head, Chen et al. 2020) as IMG2IMU uses it (Section IV-B1, Eq. 1).

A query encoder and a momentum-averaged key encoder (an image backbone, ResNet18 or MobileNetV2
from torchvision, with a projection to ``dim`` features) map two augmented views of each image
to unit vectors q and k. The loss is InfoNCE over the positive key and a queue of ``queue_size``
keys from earlier batches, which are the negatives; the InfoNCE top-1 accuracy (how often the
positive key has the highest logit) is kept beside it. The queue is a registered buffer, so it is saved with the weights. Nothing
here calls CUDA or torch.distributed (a gather function comes in as an argument): the same
module runs in a CPU test and inside DDP. MoCo also says how it is optimised (``optimizer``,
``learning_rate``): Adam on the paper's warm-up and cosine schedule (Section V-A4, ``AdamRecipe``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from ..checks import check_field_types
from .backbones import FEATURE_DIMS, image_backbone
from .schedule import learning_rate

Gather = Callable[[torch.Tensor], torch.Tensor]  # (n, ...) on each process -> (world * n, ...)


@dataclass(frozen=True)
class MoCoConfig:
    dim: int = 64  # feature dimension of q and k (the paper, Section V-A4)
    queue_size: int = 4096  # negative keys kept (the paper, Section V-A4)
    momentum: float = 0.999  # key encoder update m (MoCo v2's; the paper does not say)
    temperature: float = 0.2  # tau of Eq. 1 (MoCo v2's; the paper does not say)
    mlp_head: bool = True  # MoCo v2's two-layer projection head

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.dim < 1 or self.queue_size < 1:
            raise ValueError(f"dim={self.dim}, queue_size={self.queue_size}; expected positive sizes")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum={self.momentum}; expected 0 <= m < 1")
        if self.temperature <= 0:
            raise ValueError(f"temperature={self.temperature}; expected > 0")


@dataclass(frozen=True)
class AdamRecipe:
    """How MoCo is optimised in the paper (Section V-A4): Adam, the rate warmed up then decayed (``schedule``)."""

    warmup_epochs: int = 10  # epochs of the linear rise (the paper)
    start: float = 1e-8  # rate at epoch 0 (the paper)
    peak: float = 1e-5  # rate at the end of the warm-up (the paper)
    end: float = 1e-6  # rate at the last epoch (the paper)
    weight_decay: float = 0.0  # Adam weight decay (the paper's grid includes 0)


def image_network(outputs: int, *, arch: str = "resnet18", init: str = "random", seed: int = 0) -> nn.Module:
    """The network an image method trains: ``backbones.image_backbone(arch, init, seed)`` ending in a fresh
    ``Linear(FEATURE_DIMS[arch], outputs)`` as its ``fc`` (ResNet18) or ``classifier`` (MobileNetV2), in train mode.

    ResNet18 with random weights is drawn as it was before ``arch`` existed, so that the runs cached then
    compute what they computed: torchvision's ``resnet18(num_classes=outputs)`` from the caller's random stream
    (the trainer seeds it with the run's seed; ``seed`` is not used). Everything else draws the trunk from
    ``seed`` alone and the last layer from the caller's stream.
    """
    if (arch, init) == ("resnet18", "random"):
        return torchvision.models.resnet18(weights=None, num_classes=outputs)
    network = image_backbone(arch, init, seed)
    set_head(network, nn.Linear(FEATURE_DIMS[arch], outputs))
    return network.train()


def moco_encoder(dim: int, *, mlp_head: bool = True, arch: str = "resnet18", init: str = "random",
                 seed: int = 0) -> nn.Module:
    """``image_network(dim, ...)`` with, for MoCo v2's head, a hidden ``Linear`` of the feature width and a ReLU
    before the projection: (N, 3, H, W) -> (N, dim)."""
    encoder = image_network(dim, arch=arch, init=init, seed=seed)
    if mlp_head:
        projection = head(encoder)
        width = projection.in_features  # FEATURE_DIMS[arch]: 512 for ResNet18, 1280 for MobileNetV2
        set_head(encoder, nn.Sequential(nn.Linear(width, width), nn.ReLU(inplace=True), projection))
    return encoder


def top1_accuracy(logits: torch.Tensor) -> torch.Tensor:
    """The fraction of rows of ``logits`` (N, 1 + K), the positive first, whose positive is strictly above every
    negative (a tie counts as a miss): InfoNCE's top-1 accuracy, a float tensor in [0, 1]."""
    return (logits[:, 0] > logits[:, 1:].amax(dim=1)).float().mean()


def info_nce(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, *, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 1: -log( exp(q.k+/tau) / sum_i exp(q.k_i/tau) ) averaged over the batch.

    q, k: (N, D) unit vectors (k is the positive key of q); queue: (K, D) unit negatives.
    Returns the loss and the logits (N, 1 + K), the positive first.
    """
    positive = (q * k).sum(dim=1, keepdim=True)  # (N, 1)
    negative = q @ queue.T  # (N, K)
    logits = torch.cat([positive, negative], dim=1) / temperature  # (N, 1 + K)
    targets = torch.zeros(len(q), dtype=torch.long, device=q.device)  # the positive is class 0
    return F.cross_entropy(logits, targets), logits


class MoCo(nn.Module):
    """Query encoder, momentum key encoder (starting from the same weights) and the queue of negative keys.

    ``encoder``: (N, 3, H, W) -> (N, dim); None gives ``moco_encoder`` (ResNet18, random weights).
    """

    def __init__(self, config: MoCoConfig = MoCoConfig(), encoder: nn.Module | None = None, *,
                 recipe: AdamRecipe = AdamRecipe()) -> None:
        super().__init__()
        self.config, self.recipe = config, recipe
        self.encoder_q = encoder if encoder is not None else moco_encoder(config.dim, mlp_head=config.mlp_head)
        self.encoder_k = copy.deepcopy(self.encoder_q)
        for p in self.encoder_k.parameters():
            p.requires_grad_(False)  # updated only by momentum_update
        self.register_buffer("queue", F.normalize(torch.randn(config.queue_size, config.dim), dim=1))  # (K, D)
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))
        self.last_accuracy: torch.Tensor | None = None  # top1_accuracy of the last forward, a detached 0-d tensor

    @torch.no_grad()
    def momentum_update(self) -> None:
        """theta_k <- m theta_k + (1 - m) theta_q, for every parameter and float buffer."""
        m = self.config.momentum
        for p_k, p_q in zip(self.encoder_k.parameters(), self.encoder_q.parameters()):
            p_k.mul_(m).add_(p_q.detach(), alpha=1.0 - m)
        for b_k, b_q in zip(self.encoder_k.buffers(), self.encoder_q.buffers()):
            b_k.copy_(b_q)  # BatchNorm running statistics follow the query encoder

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
        """Replace the oldest len(keys) entries of the queue with ``keys`` (N, D), wrapping around."""
        n, size = len(keys), self.config.queue_size
        if n > size:
            raise ValueError(f"a batch of {n} keys does not fit a queue of {size}")
        index = (self.queue_ptr + torch.arange(n, device=keys.device)) % size
        self.queue[index] = keys.to(self.queue.dtype)  # keys may come from bf16 autocast
        self.queue_ptr.copy_((self.queue_ptr + n) % size)

    def forward(self, view_q: torch.Tensor, view_k: torch.Tensor, *, groups: int = 1,
                permutation: torch.Tensor | None = None, gather: Gather | None = None,
                rank: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Two views (N, 3, H, W) of the same images -> InfoNCE loss and logits (N, 1 + K).

        BatchNorm as MoCo needs it (Section 3.3 of He et al., "shuffling BN"): the batch is cut
        into ``groups`` equal groups, each normalised with its own statistics, as each GPU of a
        multi-GPU run does; the keys are computed on the views shuffled by ``permutation``
        (over the whole batch of every process), so a query and its key never share statistics.
        Under torchrun, ``gather`` concatenates a tensor from every process along dim 0 and
        ``rank`` is this process's index; in one process both stay at their defaults, and
        ``groups > 1`` gives the same numbers as ``groups`` processes with one group each. The top-1 accuracy
        of this process's queries is left in ``last_accuracy`` (outside the graph: the loss is unchanged).
        """
        gather = gather or _alone
        q = F.normalize(grouped(self.encoder_q, view_q, groups), dim=1)  # (N, D)
        with torch.no_grad():
            self.momentum_update()
            every_view = gather(view_k)  # (W*N, 3, H, W), every process's keys' views
            n = len(view_k)
            order = permutation if permutation is not None else torch.arange(len(every_view), device=view_k.device)
            mine = every_view[order[rank * n:(rank + 1) * n]]  # this process's share of the shuffled batch
            shuffled = gather(F.normalize(grouped(self.encoder_k, mine, groups), dim=1))  # (W*N, D), shuffled order
            every_key = torch.empty_like(shuffled)
            every_key[order] = shuffled  # back to batch order
            k = every_key[rank * n:(rank + 1) * n]  # (N, D), the positives of this process's queries
        loss, logits = info_nce(q, k, self.queue.clone(), temperature=self.config.temperature)
        self.last_accuracy = top1_accuracy(logits.detach())
        self.enqueue(every_key)
        return loss, logits

    def optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        """Adam over the query encoder (the key encoder follows by momentum), at the rate of epoch 0."""
        return torch.optim.Adam(self.encoder_q.parameters(), lr=self.recipe.start, weight_decay=self.recipe.weight_decay)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        """The recipe's rate at fractional ``epoch`` of ``epochs`` (``schedule.learning_rate``; any batch size)."""
        r = self.recipe
        return learning_rate(epoch, epochs=epochs, warmup_epochs=r.warmup_epochs, start=r.start, peak=r.peak, end=r.end)

    def backbone(self) -> nn.Module:
        """The query encoder without its projection head: (N, 3, H, W) -> (N, FEATURE_DIMS[arch]) pooled features."""
        return without_head(self.encoder_q)


def _alone(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def grouped(encoder: nn.Module, images: torch.Tensor, groups: int) -> torch.Tensor:
    """``encoder`` applied to ``groups`` equal slices of ``images`` (each with its own BatchNorm statistics)."""
    if groups == 1:
        return encoder(images)
    if len(images) % groups:
        raise ValueError(f"a batch of {len(images)} does not split into {groups} equal BatchNorm groups")
    return torch.cat([encoder(part) for part in images.chunk(groups)])


HEADS = {torchvision.models.ResNet: "fc", torchvision.models.MobileNetV2: "classifier"}  # the last layer's name


def _head_name(network: nn.Module) -> str:
    for kind, name in HEADS.items():
        if isinstance(network, kind):
            return name
    raise TypeError(f"{type(network).__name__}: not an image network of this library (expected one of "
                    f"{[kind.__name__ for kind in HEADS]})")


def head(network: nn.Module) -> nn.Module:
    """The last layer of a torchvision ResNet (``fc``) or MobileNetV2 (``classifier``)."""
    return getattr(network, _head_name(network))


def set_head(network: nn.Module, layer: nn.Module) -> None:
    """Make ``layer`` the last layer (``fc`` / ``classifier``) of a torchvision ResNet or MobileNetV2."""
    setattr(network, _head_name(network), layer)


def without_head(encoder: nn.Module) -> nn.Module:
    """A copy of a torchvision ResNet or MobileNetV2 with its head (``fc`` / ``classifier``) the identity."""
    trunk = copy.deepcopy(encoder)
    set_head(trunk, nn.Identity())
    return trunk
