"""Image corpora for pre-training, all yielding (3, 96, 128) float tensors in [0, 1].

* ``ImageFolderCorpus``: any folder of images in ImageNet layout (class sub-folders) or flat,
  decoded with PIL as torchvision's ``ImageFolder`` does; an unreadable file is skipped and counted, never a crash mid-epoch.
* ``OfflineCorpus``: works on a fresh machine with no download: random crops of the photographs
  that installed packages ship (scikit-image's, matplotlib's and scikit-learn's sample images), alternating with
  procedurally generated "dead leaves" images (Baradad et al. 2021).
* ``torchvision_corpus``: torchvision's CIFAR-10 or STL-10, downloaded by torchvision.

``load_corpus`` caches the offline corpus on disk (``corpus_cache.CachedCorpus``): each image is
rendered once, not once per epoch. ``labelled.LabelledImageFolder`` adds class labels to a folder.

Every corpus describes itself (``describe()``: name, size, origin) for the run records.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset
from torchvision.transforms.v2 import functional as TF

from ..images.spectrogram import IMAGE_SIZE

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def read_rgb(path: Path) -> torch.Tensor:
    """An image file as uint8 (3, H, W) RGB."""
    with Image.open(path) as image:
        return TF.pil_to_tensor(image.convert("RGB"))


def fit(image: torch.Tensor, size: tuple[int, int] = IMAGE_SIZE) -> torch.Tensor:
    """uint8 or float (3, H, W) -> float (3, *size) in [0, 1]: scaled to cover, centre-cropped."""
    h, w = image.shape[-2:]
    scale = max(size[0] / h, size[1] / w)
    image = TF.resize(image, [max(size[0], math.ceil(h * scale)), max(size[1], math.ceil(w * scale))], antialias=True)
    image = TF.center_crop(image, list(size))
    # antialiased resizing of a float image can overshoot [0, 1] by rounding: clamp it back
    return image.float() / 255.0 if image.dtype == torch.uint8 else image.clamp(0.0, 1.0)


class ImageFolderCorpus(Dataset):
    """Every image file below ``root`` (sorted), fitted to ``size``; unreadable files are skipped."""

    def __init__(self, root: str | Path, *, size: tuple[int, int] = IMAGE_SIZE, name: str | None = None) -> None:
        self.root = Path(root)
        self.files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
        if not self.files:
            raise FileNotFoundError(f"{self.root}: no image files ({', '.join(EXTENSIONS)}) found")
        self.size = size
        self.name = name or self.root.name
        self.skipped: set[Path] = set()  # unreadable files met so far (in this process)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.decode(index)[0]

    def decode(self, index: int) -> tuple[torch.Tensor, int]:
        """Image ``index`` fitted to ``size``, and the index of the file actually decoded.

        An unreadable file is recorded in ``skipped`` and replaced by the next readable one.
        """
        for offset in range(len(self.files)):
            used = (index + offset) % len(self.files)
            if self.files[used] in self.skipped:
                continue
            try:
                return fit(read_rgb(self.files[used]), self.size), used
            except (UnidentifiedImageError, OSError, ValueError):
                self.skipped.add(self.files[used])
        raise RuntimeError(f"{self.root}: none of the {len(self.files)} image files could be decoded")

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "size": len(self.files), "origin": str(self.root), "skipped": len(self.skipped)}


SKIMAGE_PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "clock_motion.png", "coffee.png",
    "coins.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "moon.png", "motorcycle_left.png",
    "motorcycle_right.png", "page.png", "retina.jpg", "rocket.jpg", "text.png",
)  # the photographs among scikit-image's sample data (its drawings and test patterns are left out)


def package_photos() -> list[Path]:
    """Photographs shipped inside installed packages (scikit-image, matplotlib, scikit-learn)."""
    import matplotlib
    import skimage
    import sklearn

    candidates = [Path(skimage.__file__).parent / "data" / name for name in SKIMAGE_PHOTOS]
    candidates += [Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg",
                   Path(matplotlib.get_data_path()) / "sample_data" / "Minduka_Present_Blue_Pack.png"]
    candidates += sorted((Path(sklearn.__file__).parent / "datasets" / "images").glob("*.jpg"))
    return [p for p in candidates if p.is_file()]


@functools.lru_cache(maxsize=1)
def _photo_tensors() -> tuple[torch.Tensor, ...]:
    """The package photos, each fitted to (3, 384, 512) float; decoded once per process (~3 s)."""
    return tuple(fit(read_rgb(p), (384, 512)) for p in package_photos())


def dead_leaves(seed: int, *, size: tuple[int, int] = IMAGE_SIZE, n_disks: int = 400) -> torch.Tensor:
    """A dead-leaves image: opaque disks of random colour with power-law radii, painted in order.

    Radii follow p(r) ~ r^-3 between 2 px and half the image height (Baradad et al. 2021).
    Returns (3, H, W) float in [0, 1], the same for the same ``seed``.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    r_min, r_max = 2.0, h / 2
    u = rng.random(n_disks)
    radii = (r_min**-2 - u * (r_min**-2 - r_max**-2)) ** -0.5  # inverse CDF of r^-3 on [r_min, r_max]
    centres = rng.random((n_disks, 2)) * [h, w]
    colours = rng.random((n_disks, 3))
    image = np.tile(rng.random(3), (h, w, 1))
    for (cy, cx), r, colour in zip(centres, radii, colours):
        top, bottom = max(0, int(cy - r)), min(h, int(cy + r) + 1)  # paint inside the disk's bounding box only
        left, right = max(0, int(cx - r)), min(w, int(cx + r) + 1)
        yy, xx = np.ogrid[top:bottom, left:right]
        image[top:bottom, left:right][(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = colour
    return torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)


class OfflineCorpus(Dataset):
    """``length`` images: even indices are random crops of package photos, odd ones dead leaves.

    Deterministic: image ``i`` depends only on ``i`` and ``seed``.
    """

    def __init__(self, length: int = 10_000, *, seed: int = 0, size: tuple[int, int] = IMAGE_SIZE) -> None:
        self.photos = _photo_tensors()
        if not self.photos:
            raise RuntimeError("no package photos found (matplotlib and scikit-learn sample images)")
        self.length, self.seed, self.size = length, seed, size

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} images")
        if index % 2:
            return dead_leaves(self.seed * 1_000_003 + index, size=self.size)
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        photo = self.photos[int(torch.randint(len(self.photos), (1,), generator=g))]
        scale = 0.15 + 0.85 * float(torch.rand(1, generator=g))  # crop side, as a fraction of the photo
        ch, cw = int(photo.shape[1] * scale), int(photo.shape[2] * scale)
        top = int(torch.randint(photo.shape[1] - ch + 1, (1,), generator=g))
        left = int(torch.randint(photo.shape[2] - cw + 1, (1,), generator=g))
        return fit(photo[:, top:top + ch, left:left + cw], self.size)

    def describe(self) -> dict[str, object]:
        return {"name": "offline", "size": self.length, "seed": self.seed, "image_size": list(self.size),
                "origin": f"random crops of {len(self.photos)} package photos + dead leaves (seed {self.seed})"}


class _Fitted(Dataset):
    def __init__(self, base: Dataset, name: str, origin: str, size: tuple[int, int]) -> None:
        self.base, self.name, self.origin, self.size = base, name, origin, size

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> torch.Tensor:
        image = self.base[index][0]  # (PIL image, label): labels are not used for pre-training
        return fit(TF.pil_to_tensor(image), self.size)

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "size": len(self.base), "origin": self.origin}


def torchvision_corpus(name: str, root: str | Path, *, download: bool = False, size: tuple[int, int] = IMAGE_SIZE) -> Dataset:
    """torchvision's CIFAR-10 (train split) or STL-10 (unlabeled split), fitted to ``size``."""
    if name == "cifar10":
        base = torchvision.datasets.CIFAR10(str(root), train=True, download=download)
    elif name == "stl10":
        base = torchvision.datasets.STL10(str(root), split="unlabeled", download=download)
    else:
        raise ValueError(f"corpus {name!r}; expected 'cifar10' or 'stl10'")
    return _Fitted(base, name, f"torchvision.datasets ({root})", size)


def imagenet_sample_folder(data_dir: tuple[str | Path, ...] = ()) -> Path:
    """The ``imagenet-sample`` folder on the data search path (a clear error saying where to put it)."""
    from ..datasets.paths import require_data

    return require_data("imagenet-sample", data_dir, how_to_get="A folder of photos, one per ImageNet class.")


def load_corpus(
    name: str, *, data_dir: tuple[str | Path, ...] = (), download: bool = False, length: int = 10_000, seed: int = 0,
    cache: bool = True, progress: bool = True, workers: int = 0,
) -> Dataset:
    """A corpus by name: ``offline``, ``imagenet-sample`` (on the data search path), ``cifar10``,
    ``stl10`` (torchvision, kept in the download cache), or the path of any image folder.

    ``cache``: the offline corpus, the only one computed rather than read, is rendered once into
    ``cache_dir()/corpora`` (uint8, 36 KiB an image; see ``corpus_cache``) by ``workers`` DataLoader
    processes with a ``progress`` bar, and read from there afterwards. The other corpora are decoded
    from their files each time.
    """
    from .corpus_cache import CachedCorpus
    from ..store import cache_dir

    if name == "offline":
        corpus = OfflineCorpus(length, seed=seed)
        return CachedCorpus(corpus, cache_dir() / "corpora", progress=progress, workers=workers) if cache else corpus
    if name == "imagenet-sample":
        return ImageFolderCorpus(imagenet_sample_folder(data_dir), name=name)
    if name in ("cifar10", "stl10"):
        return torchvision_corpus(name, cache_dir() / name, download=download)
    if Path(name).is_dir():
        return ImageFolderCorpus(name)
    raise ValueError(f"corpus {name!r}; expected offline, imagenet-sample, cifar10, stl10 or an image folder")
