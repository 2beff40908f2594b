"""The baselines' image augmentations (Table II): MoCo v2's defaults and the "all augmentations" pool.

Both run torchvision v2 operations image by image, with magnitudes or random decisions drawn
from the injected ``torch.Generator`` (see ``augmentations`` for the calling convention).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from .augmentations import Augmentation
from .augmentations import Cascade
from .augmentations import OneOf
from .augmentations import check_images
from .augmentations import uniform_draws

UNIT_SLACK: float = 1e-3  # [0, 1] images overshoot by resize rounding (1e-6); normalised ones reach -2.1 and 2.6


def check_unit_images(images: torch.Tensor) -> None:
    """Raise ValueError unless ``images`` is a float batch (N, 3, H, W) in [0, 1] units: torchvision's colour ops
    clip to [0, 1], which would flatten ImageNet-normalised images without a word."""
    check_images(images)
    if not images.dtype.is_floating_point:
        raise ValueError(f"images have dtype {images.dtype}; expected float images in [0, 1] units")
    if images.numel() == 0:
        return
    low, high = (float(v) for v in images.aminmax())
    if not (low >= -UNIT_SLACK and high <= 1.0 + UNIT_SLACK):  # NaN fails too
        raise ValueError(f"images span [{low:.3g}, {high:.3g}]; expected [0, 1] units "
                         f"(spectrogram_images(..., normalize=False)), normalised after augmenting")


@dataclass(frozen=True)
class PerSample:
    """Run a torchvision v2 transform on each image separately, seeded from the generator.

    torchvision transforms draw from torch's global generator; each call here runs inside
    ``torch.random.fork_rng`` seeded from ``generator``, so results depend on it alone. Images are in [0, 1]
    units, as every augmentation's (``check_unit_images``): torchvision's colour transforms clip to that range.
    """

    transform: Callable[[torch.Tensor], torch.Tensor]

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        check_unit_images(images)
        seeds = torch.randint(0, 2**62, (images.shape[0],), generator=generator)
        outs = []
        for img, seed in zip(images, seeds):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                outs.append(self.transform(img))
        return torch.stack(outs)


def moco_v2_augmentations(size: tuple[int, int] = (96, 128)) -> Augmentation:
    """MoCo v2's default augmentations, in cascade, with MoCo v2's probabilities and strengths."""
    transform = v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.2, 1.0), antialias=True),
        v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        v2.RandomGrayscale(p=0.2),
        v2.RandomApply([v2.GaussianBlur(kernel_size=9, sigma=(0.1, 2.0))], p=0.5),
        v2.RandomHorizontalFlip(),
    ])
    return PerSample(transform)


def _posterize(img: torch.Tensor, bits: float) -> torch.Tensor:
    as_bytes = (img.clamp(0, 1) * 255).round().to(torch.uint8)
    return TF.posterize(as_bytes, int(round(bits))).to(img.dtype) / 255


_ALL_OPS: dict[str, tuple[Callable[[torch.Tensor, float], torch.Tensor], float, float]] = {
    # name: (op(image, magnitude), lowest magnitude, highest magnitude); ranges after RandAugment
    "rotate": (lambda img, m: TF.rotate(img, m), -30.0, 30.0),
    "sharpness": (lambda img, m: TF.adjust_sharpness(img, m), 0.1, 1.9),
    "shear": (lambda img, m: TF.affine(img, angle=0.0, translate=[0, 0], scale=1.0, shear=[m, 0.0]), -17.0, 17.0),
    "contrast": (lambda img, m: TF.adjust_contrast(img, m), 0.1, 1.9),
    "brightness": (lambda img, m: TF.adjust_brightness(img, m), 0.1, 1.9),
    "color": (lambda img, m: TF.adjust_saturation(img, m), 0.1, 1.9),
    "invert": (lambda img, m: TF.invert(img), 0.0, 0.0),
    "solarize": (lambda img, m: TF.solarize(img, m), 0.0, 1.0),
    "posterize": (_posterize, 4.0, 8.0),
    "equalize": (lambda img, m: TF.equalize(img), 0.0, 0.0),
    "autocontrast": (lambda img, m: TF.autocontrast(img), 0.0, 0.0),
}


@dataclass(frozen=True)
class ImageOp:
    """One photometric or geometric torchvision op with a magnitude drawn per sample."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in _ALL_OPS:
            raise ValueError(f"unknown op {self.name!r}; expected one of {sorted(_ALL_OPS)}")

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        check_unit_images(images)
        op, low, high = _ALL_OPS[self.name]
        magnitudes = uniform_draws(images.shape[0], low, high, generator)
        return torch.stack([op(img.clamp(0, 1), float(m)) for img, m in zip(images, magnitudes)])


def all_augmentations(*, cascade: bool = False) -> Augmentation:
    """The pool of the MoCo + All augmentations baseline: rotate, sharpen, shear, contrast,
    brightness, colour, invert, solarize, posterize, equalize, autocontrast; one per view
    unless ``cascade``."""
    ops = [ImageOp(name) for name in _ALL_OPS]
    return Cascade(ops) if cascade else OneOf(ops)
