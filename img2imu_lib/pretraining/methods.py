"""Every pre-training method in one table, ``METHODS``: its kind, builder, Table II row and corpus.

Each entry builds a method with the trainer's interface (``wrappers``: ``forward(batch,
generators=...) -> loss``, ``optimizer``, ``learning_rate``, ``backbone``) from a model that
owns its views, optimiser and schedule. A new method is its module (the model and its config,
a field of ``PretrainConfig``) and one entry here, as in timm's model registry: the config's
validation, the trainer, the evaluation and the command line all ask the table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn
from torch.utils.data import Dataset

from ..images.augmentations import sensor_aware_augmentations
from ..images.baselines import all_augmentations, moco_v2_augmentations
from .corpora import imagenet_sample_folder, load_corpus
from .labelled import LabelledImageFolder
from .moco import AdamRecipe, MoCo, moco_encoder
from .sensor import CPCHAR, LimuBert, MultiTaskHAR, SimCLRHAR, sensor_corpus
from .sensor.normalization import StandardizedConfig
from .simsiam import SimSiam
from .supervised import Supervised
from .wrappers import LossMethod, TwoViewMethod

if TYPE_CHECKING:
    from .config import PretrainConfig

Builder = Callable[["PretrainConfig", Dataset | None], nn.Module]  # (config, corpus) -> the method, initial weights


def paper_moco(config: PretrainConfig) -> MoCo:
    """MoCo with ``config.moco`` on the paper's Adam schedule (the config's ``lr_*``, warm-up and weight decay),
    its encoders the config's ``arch`` and ``init`` with MoCo's projection head."""
    recipe = AdamRecipe(warmup_epochs=config.warmup_epochs, start=config.lr_start, peak=config.lr_peak, end=config.lr_end,
                        weight_decay=config.weight_decay)
    encoder = moco_encoder(config.moco.dim, mlp_head=config.moco.mlp_head, **backbone_choice(config))
    return MoCo(config.moco, encoder, recipe=recipe)


def backbone_choice(config: PretrainConfig) -> dict[str, object]:
    """The image backbone an image method starts from: ``arch``, ``init`` and ``seed`` (``moco.image_network``)."""
    return {"arch": config.arch, "init": config.init, "seed": config.seed}


def img2imu(config: PretrainConfig, corpus: Dataset | None = None) -> TwoViewMethod:
    """MoCo on views from IMG2IMU's sensor-aware pool, one augmentation per view (Section IV-B2)."""
    augment = sensor_aware_augmentations(config.augmentations)
    return TwoViewMethod(paper_moco(config), augment, channels_last=config.channels_last)


def moco_default(config: PretrainConfig, corpus: Dataset | None = None) -> TwoViewMethod:
    """MoCo on MoCo v2's augmentations (Table II's "MoCo (default)")."""
    return TwoViewMethod(paper_moco(config), moco_v2_augmentations(), channels_last=config.channels_last)


def moco_all(config: PretrainConfig, corpus: Dataset | None = None) -> TwoViewMethod:
    """MoCo on every image augmentation of the paper's search, one per view (Table II's "MoCo (all aug.)")."""
    return TwoViewMethod(paper_moco(config), all_augmentations(), channels_last=config.channels_last)


def simsiam(config: PretrainConfig, corpus: Dataset | None = None) -> TwoViewMethod:
    """SimSiam on its official views, MoCo v2's augmentations."""
    return TwoViewMethod(SimSiam(config.simsiam, **backbone_choice(config)), moco_v2_augmentations(),
                         channels_last=config.channels_last)


def supervised(config: PretrainConfig, corpus: Dataset) -> LossMethod:
    """Supervised pre-training with one output per class of the labelled ``corpus``."""
    settings = dataclasses.replace(config.supervised, num_classes=len(corpus.classes))
    return LossMethod(Supervised(settings, **backbone_choice(config)))


def with_corpus_stats(settings: StandardizedConfig, corpus: Dataset) -> StandardizedConfig:
    """A sensor method's config with the per-axis mean and std (in g) of its pre-training corpus."""
    return dataclasses.replace(settings, mean=tuple(corpus.mean), std=tuple(corpus.std))


def simclr_har(config: PretrainConfig, corpus: Dataset) -> LossMethod:
    """SimCLR for HAR (Tang et al. 2020), standardised with the corpus's statistics."""
    return LossMethod(SimCLRHAR(with_corpus_stats(config.simclr_har, corpus)))


def multitask_har(config: PretrainConfig, corpus: Dataset) -> LossMethod:
    """Multi-task transformation recognition (Saeed et al. 2019), standardised with the corpus's statistics."""
    return LossMethod(MultiTaskHAR(with_corpus_stats(config.multitask_har, corpus)))


def cpc_har(config: PretrainConfig, corpus: Dataset) -> LossMethod:
    """Enhanced CPC for HAR (Haresamudram et al. 2022), standardised with the corpus's statistics."""
    return LossMethod(CPCHAR(with_corpus_stats(config.cpc_har, corpus)))


def limu_bert(config: PretrainConfig, corpus: Dataset) -> LossMethod:
    """LIMU-BERT's masked reconstruction (Xu et al. 2021), standardised with the corpus's statistics."""
    return LossMethod(LimuBert(with_corpus_stats(config.limu_bert, corpus)))


CORPORA: dict[str, Callable[[PretrainConfig, bool], Dataset]] = {  # what a method reads: (config, progress) -> Dataset
    "images": lambda c, progress: load_corpus(c.corpus, length=c.corpus_size, seed=c.seed, progress=progress,
                                              workers=c.num_workers),
    "labelled images": lambda c, progress: labelled_folder(c.corpus),
    "sensor windows": lambda c, progress: sensor_corpus(c.corpus, seconds=c.window_seconds, size=c.sensor_windows,
                                                        seed=c.seed),
}
KINDS = ("image", "sensor")


@dataclass(frozen=True)
class MethodSpec:
    """What the rest of the library needs to know of a pre-training method."""

    kind: str  # "image": its backbone takes spectrogram images (N, 3, H, W); "sensor": raw windows (N, T, 3) in g
    build: Builder  # (config, corpus) -> the method; the corpus gives class names or sensor statistics
    row: str  # its row of Table II (the evaluation's results, the paper's CSV)
    corpus: str  # what it trains on, a key of CORPORA

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.corpus not in CORPORA:
            raise ValueError(f"kind={self.kind!r}, corpus={self.corpus!r}; expected one of {KINDS} and of {tuple(CORPORA)}")


METHODS: dict[str, MethodSpec] = {
    "img2imu": MethodSpec(kind="image", build=img2imu, row="img2imu", corpus="images"),
    "moco_default": MethodSpec(kind="image", build=moco_default, row="moco_default", corpus="images"),
    "moco_all": MethodSpec(kind="image", build=moco_all, row="moco_all_aug", corpus="images"),
    "simsiam": MethodSpec(kind="image", build=simsiam, row="simsiam", corpus="images"),
    "supervised": MethodSpec(kind="image", build=supervised, row="supervised_sample", corpus="labelled images"),
    "simclr_har": MethodSpec(kind="sensor", build=simclr_har, row="simclr_har", corpus="sensor windows"),
    "multitask_har": MethodSpec(kind="sensor", build=multitask_har, row="multitask_har", corpus="sensor windows"),
    "cpc_har": MethodSpec(kind="sensor", build=cpc_har, row="cpc_har", corpus="sensor windows"),
    "limu_bert": MethodSpec(kind="sensor", build=limu_bert, row="limu_bert", corpus="sensor windows"),
}
IMAGE_METHODS = tuple(name for name, spec in METHODS.items() if spec.kind == "image")  # derived from the table
SENSOR_METHODS = tuple(name for name, spec in METHODS.items() if spec.kind == "sensor")


def method_spec(name: str) -> MethodSpec:
    """The table's entry for ``name``; ValueError naming the choices for any other name."""
    if name not in METHODS:
        raise ValueError(f"method={name!r}; expected one of {tuple(METHODS)}")
    return METHODS[name]


def method_kind(name: str) -> str:
    """``"image"`` or ``"sensor"``: what the backbone of method ``name`` takes."""
    return method_spec(name).kind


def build(config: PretrainConfig, corpus: Dataset | None = None) -> nn.Module:
    """The method ``config.method`` names, sized for ``corpus`` where it matters (classes, sensor statistics)."""
    return method_spec(config.method).build(config, corpus)


def load_corpus_for(config: PretrainConfig, *, progress: bool = True) -> Dataset:
    """The corpus a method trains on: images named by ``config.corpus`` (with labels for supervised
    pre-training), or windows of the sensor corpus for the sensor methods."""
    return CORPORA[method_spec(config.method).corpus](config, progress)


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
