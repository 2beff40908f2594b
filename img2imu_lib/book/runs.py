"""The runs and backbones the book needs: every pre-training run of the pre-training chapter (``book_runs``,
at a profile's sizes), trained when missing and reused when cached, and the candidates the evaluation
chapter scores."""

from __future__ import annotations

from collections.abc import Sequence

from ..datasets.paths import find_data
from ..evaluation.candidates import Candidate, checkpoint_candidate, random_candidates
from ..evaluation.data import EvalData
from ..pretraining.config import PretrainConfig, read_checkpoint, run_folder
from ..pretraining.imagenet_weights import (
    imagenet_backbone,
    imagenet_weights_available,
    weights_path,
)
from ..pretraining.methods import METHODS, SENSOR_METHODS, method_kind
from ..pretraining.trainer import pretrain
from ..progress import progress_bar
from ..store import sha256_of
from .profiles import get_profile, profile_config


def book_runs(profile: str, *, images: str = "offline", sensor_corpus: str = "offline", seed: int = 0) -> dict[str, PretrainConfig]:
    """Every pre-training run the book needs at ``profile``'s sizes, by name: IMG2IMU, its four leave-one-out
    ablations, the image baselines and the sensor baselines (one per window length of the profile)."""
    sizes = get_profile(profile).pretraining
    full = PretrainConfig.augmentations
    runs = {"img2imu": sizes.config(corpus=images, seed=seed)}
    for left_out in full:
        runs[f"img2imu without {left_out}"] = sizes.config(corpus=images, seed=seed,
                                                          augmentations=tuple(a for a in full if a != left_out))
    for method in ("moco_default", "moco_all", "simsiam"):
        runs[method] = sizes.config(method=method, corpus=images, seed=seed)
    for method in SENSOR_METHODS:
        for seconds in sizes.sensor_seconds:
            runs[f"{method} {seconds:g} s"] = sizes.config(method=method, corpus=sensor_corpus, seed=seed,
                                                          window_seconds=seconds)
    return runs


def book_candidates(profile: str, *, seed: int = 0, images: str = "offline", sensor_corpus: str = "offline",
                    supervised_images: str = "imagenet-sample", progress: bool = False) -> list[Candidate]:
    """Every backbone the evaluation chapter scores: the pre-training chapter's runs (trained now if missing,
    reused if cached), the random initialisations and, when its weights are cached, ImageNet-supervised."""

    runs = book_runs(profile, images=images, sensor_corpus=sensor_corpus, seed=seed)
    if supervised_images != "imagenet-sample" or find_data("imagenet-sample"):
        runs["supervised"] = profile_config(profile, method="supervised", corpus=supervised_images, seed=seed)
    candidates = []
    for run, config in progress_bar(runs.items(), desc="pre-trained backbones", disable=not progress):
        pretrain(config, run_folder(config), progress=False)
        row = METHODS[config.method].row  # its Table II row
        if method_kind(config.method) == "sensor":
            candidates.append(checkpoint_candidate(row, run_folder(config), seconds=config.window_seconds,
                                                   note=f"pre-trained on {config.window_seconds:g} s windows",
                                                   method=config.method))
        else:
            name = row if run == config.method else run  # the ablations keep their run names
            candidates.append(checkpoint_candidate(name, run_folder(config), method=config.method))
    first_sensor = next(c for c in runs.values() if method_kind(c.method) == "sensor")
    facts = read_checkpoint(run_folder(first_sensor) / "checkpoint.pt")["corpus_facts"]
    candidates += random_candidates(facts["mean"], facts["std"], seed=seed)
    if imagenet_weights_available():
        candidates.append(Candidate("imagenet_supervised", "image", imagenet_backbone, sha256_of(weights_path())[:16],
                                    "torchvision's ImageNet weights"))
    return candidates


def for_dataset(candidates: Sequence[Candidate], name: str, data: EvalData) -> Candidate | None:
    """The candidate called ``name`` for ``data``: for sensor runs, the one pre-trained on the nearest window length."""
    matching = [c for c in candidates if c.name == name]
    if not matching:
        return None
    return min(matching, key=lambda c: abs((c.seconds or data.seconds) - data.seconds))


def img2imu_candidate(profile: str, *, seed: int = 0, images: str = "offline", progress: bool = False) -> Candidate:
    """The pre-training chapter's IMG2IMU backbone for ``profile`` (trained now if it is not cached)."""
    config = book_runs(profile, images=images, seed=seed)["img2imu"]
    pretrain(config, run_folder(config), progress=progress)
    return checkpoint_candidate("img2imu", run_folder(config), method=config.method)
