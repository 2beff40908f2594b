"""Every pre-training method behind one interface, so that one trainer trains them all.

A method is an ``nn.Module`` whose ``forward(batch, generators=...)`` returns the loss of one
batch as the corpus loader yields it (images for the image methods, raw windows for the
sensor ones), making its own augmented views from the injected generators, one generator per
BatchNorm group. It also says how it is optimised (``optimizer(batch_size)``,
``learning_rate(epoch, epochs=, batch_size=)``, a pure function of the fractional epoch) and
gives its ``backbone()``: the trained encoder without its head, for the evaluation.

* ``ImageMethod``: MoCo (img2imu and its ablations, moco_default, moco_all) or SimSiam, on two views.
* ``LossMethod``: any module with ``loss(batch, generator=)``: supervised pre-training on a
  labelled image folder and the sensor baselines (SimCLR, multi-task, CPC, LIMU-BERT).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.utils.data import Dataset

from .augmentations import Augmentation, TwoViews, sensor_aware_augmentations
from .baseline_augmentations import all_augmentations, moco_v2_augmentations
from .conversion import normalize_images
from .corpora import imagenet_sample_folder, load_corpus
from .labelled import LabelledImageFolder
from .moco import Gather, MoCo
from .schedule import learning_rate
from .sensor import CPCHAR, CPCHARConfig, LimuBert, LimuBertConfig, MultiTaskHAR, MultiTaskHARConfig
from .sensor import SimCLRHAR, SimCLRHARConfig, sensor_corpus
from .simsiam import SimSiam
from .supervised import Supervised, SupervisedConfig

if TYPE_CHECKING:
    from .pretrain import PretrainConfig

Batch = torch.Tensor | Sequence[torch.Tensor]


SENSOR_MODELS = {  # name -> (module, its config), each standardising with the sensor corpus's statistics
    "simclr_har": (SimCLRHAR, SimCLRHARConfig),
    "multitask_har": (MultiTaskHAR, MultiTaskHARConfig),
    "cpc_har": (CPCHAR, CPCHARConfig),
    "limu_bert": (LimuBert, LimuBertConfig),
}


def make_views(config: PretrainConfig) -> TwoViews:
    """The pair of augmentation pipelines of an image method."""
    augment: Augmentation = {
        "img2imu": lambda: sensor_aware_augmentations(config.augmentations),
        "moco_default": moco_v2_augmentations,
        "moco_all": all_augmentations,
        "simsiam": moco_v2_augmentations,  # SimSiam's official augmentations are MoCo v2's
    }[config.method]()
    return TwoViews(augment, augment)


class ImageMethod(nn.Module):
    """MoCo (Adam on the paper's schedule) or SimSiam (its official SGD recipe) over two views of images."""

    def __init__(self, config: PretrainConfig) -> None:
        super().__init__()
        self.config = config
        self.net = SimSiam(config.simsiam) if config.method == "simsiam" else MoCo(config.moco)
        self.views = make_views(config)

    def forward(self, images: torch.Tensor, *, generators: Sequence[torch.Generator], permutation: torch.Tensor | None = None,
                gather: Gather | None = None, rank: int = 0) -> torch.Tensor:
        """images (N, 3, H, W) in [0, 1], on the CPU where the views are drawn -> the loss."""
        groups = len(generators)
        pairs = [self.views(part, generator=g) for part, g in zip(images.chunk(groups), generators)]
        view_q, view_k = (self._model_input(torch.cat(views)) for views in zip(*pairs))
        if isinstance(self.net, SimSiam):
            return self.net(view_q, view_k, groups=groups)[0]
        return self.net(view_q, view_k, groups=groups, permutation=permutation, gather=gather, rank=rank)[0]

    def _model_input(self, views: torch.Tensor) -> torch.Tensor:
        views = normalize_images(views).to(next(self.parameters()).device)
        return views.contiguous(memory_format=torch.channels_last) if self.config.channels_last else views

    def optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        if isinstance(self.net, SimSiam):
            return self.net.optimizer(batch_size)
        return torch.optim.Adam(self.net.encoder_q.parameters(), lr=self.config.lr_start, weight_decay=self.config.weight_decay)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        if isinstance(self.net, SimSiam):
            return self.net.learning_rate(epoch, epochs=epochs, batch_size=batch_size)
        c = self.config
        return learning_rate(epoch, epochs=epochs, warmup_epochs=c.warmup_epochs, start=c.lr_start, peak=c.lr_peak, end=c.lr_end)

    def backbone(self) -> nn.Module:
        return self.net.backbone()


class LossMethod(nn.Module):
    """A module with ``loss(batch, generator=)`` trained per BatchNorm group: the loss is the groups' mean."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, batch: Batch, *, generators: Sequence[torch.Generator], **_: object) -> torch.Tensor:
        device = next(self.parameters()).device
        parts = split(batch, len(generators))
        losses = [self.inner.loss(_to(part, device), generator=g) for part, g in zip(parts, generators)]
        return torch.stack(losses).mean()

    def optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        return self.inner.optimizer(batch_size)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        return self.inner.learning_rate(epoch, epochs=epochs, batch_size=batch_size)

    def backbone(self) -> nn.Module:
        return self.inner.backbone()


def split(batch: Batch, parts: int) -> list[Batch]:
    """A batch (a tensor, or a tuple of tensors such as images and labels) cut into ``parts`` equal parts."""
    if isinstance(batch, torch.Tensor):
        return list(batch.chunk(parts))
    return [tuple(p) for p in zip(*(t.chunk(parts) for t in batch))]


def _to(batch: Batch, device: torch.device) -> Batch:
    return batch.to(device) if isinstance(batch, torch.Tensor) else tuple(t.to(device) for t in batch)


def build(config: PretrainConfig, corpus: Dataset) -> nn.Module:
    """The method ``config.method`` names, sized for ``corpus`` where it matters (classes, sensor statistics)."""
    if config.method in ("img2imu", "moco_default", "moco_all", "simsiam"):
        return ImageMethod(config)
    if config.method == "supervised":
        return LossMethod(Supervised(SupervisedConfig(num_classes=len(corpus.classes))))
    model, settings = SENSOR_MODELS[config.method]
    return LossMethod(model(dataclasses.replace(settings(), mean=tuple(corpus.mean), std=tuple(corpus.std))))


def load_corpus_for(config: PretrainConfig, *, progress: bool = True) -> Dataset:
    """The corpus a method trains on: images named by ``config.corpus`` (with labels for supervised
    pre-training), or windows of the sensor corpus for the sensor methods."""
    if config.method == "supervised":
        return labelled_folder(config.corpus)
    if config.method in SENSOR_MODELS:
        return sensor_corpus(config.corpus, seconds=config.window_seconds, size=config.sensor_windows, seed=config.seed)
    return load_corpus(config.corpus, length=config.corpus_size, seed=config.seed, progress=progress,
                       workers=config.num_workers)


def labelled_folder(name: str) -> LabelledImageFolder:
    """``imagenet-sample`` (on the data search path) or any folder of labelled images."""
    if name == "imagenet-sample":
        return LabelledImageFolder(imagenet_sample_folder(), name=name)
    if not Path(name).is_dir():
        raise ValueError(f"supervised pre-training needs labelled images: corpus {name!r} is not imagenet-sample "
                         f"or a folder of class sub-folders (or of <class>_<name> files)")
    return LabelledImageFolder(name)


def corpus_facts(corpus: Dataset) -> dict[str, object]:
    """What ``build`` reads from a corpus (class names, sensor statistics), to be saved with a checkpoint."""
    facts = {name: getattr(corpus, name) for name in ("classes", "mean", "std") if hasattr(corpus, name)}
    return {k: (v.tolist() if hasattr(v, "tolist") else list(v)) for k, v in facts.items()}


def trained_backbone(run_folder: str | Path) -> nn.Module:
    """The encoder of a pre-training run (its ``checkpoint.pt``), without its head, in eval mode."""
    from .pretrain import PretrainConfig, load_checkpoint

    path = Path(run_folder) / "checkpoint.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint; pre-train first (img2imu_lib.trainer.pretrain)")
    config = PretrainConfig.from_dict(torch.load(path, map_location="cpu", weights_only=False)["config"])
    saved = load_checkpoint(path, config)
    method = build(config, SimpleNamespace(**saved["corpus_facts"]))
    method.load_state_dict(saved["model"])
    return method.backbone().eval()
