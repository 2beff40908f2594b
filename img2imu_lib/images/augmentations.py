"""Image augmentations over batches (N, 3, H, W) in [0, 1] units, before ImageNet normalisation.

Every augmentation is a small callable ``aug(images, generator=g)`` that returns a new tensor
(never mutating its input) and takes all its randomness from the injected ``torch.Generator``,
one draw per sample. Three families:

* the four sensor-aware augmentations of IMG2IMU (Section IV-B2, Fig. 5): ``TranslateX``,
  ``PermuteX``, ``Hue``, ``Jitter``;
* (in ``baseline_augmentations``) MoCo v2's default set and the "all augmentations" pool of
  the two MoCo baselines.

``OneOf`` draws one augmentation per sample without cascading (Section V-A4); ``Cascade``
applies several in sequence. The paper gives no magnitudes: every default below is our
assumption, named as such in the augmentations chapter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

Augmentation = Callable[..., torch.Tensor]


def check_images(images: torch.Tensor) -> None:
    """Raise ValueError unless ``images`` is a batch (N, 3, H, W)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images have shape {tuple(images.shape)}; expected (N, 3, H, W)")


def uniform_draws(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    """n draws uniform in [low, high) from ``generator``."""
    return low + (high - low) * torch.rand(n, generator=generator)


def _gather_columns(images: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """images (N, C, H, W), columns (N, W) source column per output column -> (N, C, H, W)."""
    n, c, h, w = images.shape
    index = columns.view(n, 1, 1, w).expand(n, c, h, w)
    return images.gather(-1, index)


@dataclass(frozen=True)
class TranslateX:
    """Shift each image along the time (x) axis by a random whole number of columns.

    The shift is uniform in [-max_fraction * W, max_fraction * W]; columns shifted in from
    outside the image are filled with ``fill`` (0.0: black, no energy, like silence).
    """

    max_fraction: float = 0.3  # largest shift as a fraction of the width (assumption)
    fill: float = 0.0  # value of the uncovered columns, in [0, 1] image units

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_fraction <= 1.0:
            raise ValueError(f"max_fraction={self.max_fraction}; expected a fraction in [0, 1]")

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        check_images(images)
        n, _, _, w = images.shape
        limit = int(round(self.max_fraction * w))
        shifts = torch.randint(-limit, limit + 1, (n, 1), generator=generator)
        source = torch.arange(w).view(1, w) - shifts  # output column j shows input column j - shift
        inside = (source >= 0) & (source < w)
        out = _gather_columns(images, source.clamp(0, w - 1))
        return torch.where(inside.view(n, 1, 1, w), out, torch.full_like(out, self.fill))


@dataclass(frozen=True)
class PermuteX:
    """Cut the time axis into 2..max_chunks chunks at random points and shuffle the chunks.

    Rows (frequencies) are never moved, so each column keeps its spectrum.
    """

    max_chunks: int = 5  # most chunks per image (assumption, after Um et al.'s permutation)
    min_width: int = 4  # narrowest chunk in columns

    def __post_init__(self) -> None:
        if self.max_chunks < 2:
            raise ValueError(f"max_chunks={self.max_chunks}; expected at least 2")

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        check_images(images)
        n, _, _, w = images.shape
        if w < 2 * self.min_width:
            raise ValueError(f"image width {w} is too narrow for two chunks of min_width={self.min_width}")
        columns = torch.empty((n, w), dtype=torch.long)
        for i in range(n):
            columns[i] = self._permuted_columns(w, generator)
        return _gather_columns(images, columns)

    def _permuted_columns(self, w: int, generator: torch.Generator) -> torch.Tensor:
        most = min(self.max_chunks, w // self.min_width)
        k = int(torch.randint(2, most + 1, (1,), generator=generator))
        # k - 1 distinct cut points, each chunk at least min_width wide
        slack = w - k * self.min_width
        cuts = torch.sort(torch.randint(0, slack + 1, (k - 1,), generator=generator)).values
        bounds = [0] + [int(c) + (i + 1) * self.min_width for i, c in enumerate(cuts)] + [w]
        chunks = [torch.arange(bounds[i], bounds[i + 1]) for i in range(k)]
        order = torch.randperm(k, generator=generator)
        return torch.cat([chunks[int(j)] for j in order])


@dataclass(frozen=True)
class Hue:
    """Rotate the hue of each image by a random fraction of the colour circle (HSV).

    A rotation of 1/3 moves R into G, G into B and B into R exactly: the channel swap a rotated
    sensor causes. Each pixel keeps its HSV value (max of R, G, B) and saturation.
    """

    max_shift: float = 0.5  # largest hue rotation as a fraction of the circle (0.5: any hue)

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_shift <= 0.5:
            raise ValueError(f"max_shift={self.max_shift}; expected a value in [0, 0.5]")

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        check_images(images)
        shifts = uniform_draws(images.shape[0], -self.max_shift, self.max_shift, generator)
        return rotate_hue(images, shifts)


def rotate_hue(images: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Rotate the HSV hue of each image by its own fraction of the circle, keeping V and S.

    images: (N, 3, H, W) in [0, 1]; shifts: (N,) in turns. Per image the same as torchvision's
    ``adjust_hue(image, shift)``, for a whole batch with different shifts at once.
    """
    r, g, b = images.unbind(1)  # each (N, H, W)
    value = images.amax(dim=1)
    chroma = value - images.amin(dim=1)
    safe = torch.where(chroma > 0, chroma, torch.ones_like(chroma))
    rc, gc, bc = (value - r) / safe, (value - g) / safe, (value - b) / safe
    sector = torch.where(value == r, bc - gc, torch.where(value == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = torch.remainder(sector / 6.0 + shifts.view(-1, 1, 1).to(images.dtype), 1.0)  # (N, H, W) in turns
    # HSV -> RGB: channel n (R: 5, G: 3, B: 1) is V - C * clamp(min(k, 4 - k), 0, 1), k = (n + 6 hue) mod 6
    offsets = torch.tensor([5.0, 3.0, 1.0], dtype=images.dtype).view(1, 3, 1, 1)
    k = torch.remainder(offsets + 6.0 * hue.unsqueeze(1), 6.0)  # (N, 3, H, W)
    return value.unsqueeze(1) - chroma.unsqueeze(1) * torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)


@dataclass(frozen=True)
class Jitter:
    """Add zero-centred uniform noise to every pixel and channel.

    Each image draws an amplitude a in [0, max_amplitude], then noise uniform in [-a, a].
    The result is not clipped, so the mean colour is kept on average; values may leave [0, 1].
    """

    max_amplitude: float = 0.2  # largest noise amplitude in [0, 1] image units (assumption)

    def __post_init__(self) -> None:
        if self.max_amplitude < 0:
            raise ValueError(f"max_amplitude={self.max_amplitude}; expected >= 0")

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        check_images(images)
        n = images.shape[0]
        amplitude = uniform_draws(n, 0.0, self.max_amplitude, generator).view(n, 1, 1, 1)
        noise = 2.0 * torch.rand(images.shape, generator=generator, dtype=images.dtype) - 1.0
        return images + amplitude * noise


@dataclass(frozen=True)
class OneOf:
    """Apply exactly one augmentation per sample, drawn uniformly (the paper's no-cascading rule)."""

    augmentations: Sequence[Augmentation]

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        check_images(images)
        choice = torch.randint(len(self.augmentations), (images.shape[0],), generator=generator)
        out = images.clone()
        for k, aug in enumerate(self.augmentations):
            picked = (choice == k).nonzero().flatten()
            if len(picked):
                out[picked] = aug(images[picked], generator=generator)
        return out


@dataclass(frozen=True)
class Cascade:
    """Apply every augmentation in order, each to the previous one's output."""

    augmentations: Sequence[Augmentation]

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        for aug in self.augmentations:
            images = aug(images, generator=generator)
        return images


@dataclass(frozen=True)
class TwoViews:
    """Two independently augmented views of the same batch, as MoCo's positive pairs."""

    first: Augmentation
    second: Augmentation

    def __call__(self, images: torch.Tensor, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self.first(images, generator=generator), self.second(images, generator=generator)


def sensor_aware_augmentations(names: Sequence[str] = ("translate_x", "permute_x", "hue", "jitter"), *, cascade: bool = False) -> Augmentation:
    """IMG2IMU's augmentation pool (Section IV-B2); one per view unless ``cascade``.

    ``names`` picks a subset, as the leave-one-out ablation of Table I does.
    """
    pool = {"translate_x": TranslateX(), "permute_x": PermuteX(), "hue": Hue(), "jitter": Jitter()}
    unknown = sorted(set(names) - set(pool))
    if unknown or not names:
        raise ValueError(f"augmentation names {list(names)}; expected a non-empty subset of {sorted(pool)}")
    chosen = [pool[name] for name in names]
    return Cascade(chosen) if cascade else OneOf(chosen)
