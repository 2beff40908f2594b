"""Image corpora for pre-training, all yielding (3, 96, 128) float tensors in [0, 1].

* ``ImageFolderCorpus``: any folder of images in ImageNet layout (class sub-folders) or flat,
  decoded with PIL (``image_files.read_rgb``). Every file is checked when the corpus is made; a file
  that cannot be read is left out, counted and named (``skipped``), never a crash mid-epoch.
* ``OfflineCorpus``: works on a fresh machine with no download: random crops of the photographs
  that installed packages ship (scikit-image's, matplotlib's and scikit-learn's sample images), alternating with
  procedurally generated "dead leaves" images (Baradad et al. 2021).
* ``torchvision_corpus``: torchvision's CIFAR-10 or STL-10, downloaded by torchvision.

``load_corpus`` caches the offline corpus on disk (``corpus_cache.CachedCorpus``): each image is
rendered once, not once per epoch. ``labelled.LabelledImageFolder`` adds class labels to a folder.

Every corpus describes itself (``describe()``: name, size, origin) for the run records.

What a folder may hold, and what becomes of it (``image_files`` says which files are taken and
how each is read):

* Files are taken by extension; others and hidden files and folders are left out and counted as
  ``ignored``.
* Every image file is checked when the corpus is made: decoded and hashed, about 1 ms a file.
  Files that cannot be read (empty, not an image though named like one, cut short, over the
  pixel limit, pixels with no RGB meaning) are ``skipped``: left out of the corpus, named with the
  reason in ``corpus.skipped``, logged, and counted in ``describe()``. The count is known before
  training, so it is the same in every process and every DataLoader worker. A folder with no
  readable image is an error.
* The check's results are kept under ``cache_dir()/corpora`` (``folder_checks.check_images``), so
  that a folder is decoded once: made again (by another run, or each process of a distributed
  one), a corpus only decodes the files whose size or modification time changed, and gets the
  same files, skips and fingerprint as a full check would.
* A file that changes or vanishes after that check is skipped when it is met (replaced by the
  next readable image) and counted across DataLoader workers (a flag in shared memory).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch.utils.data import Dataset
from torchvision.transforms.v2 import functional as TF

from ..images.spectrogram import IMAGE_SIZE
from ..store import cache_dir
from .corpus_cache import CachedCorpus
from .folder_checks import check_images
from .image_files import EXTENSIONS, UnreadableImage, find_images, read_rgb, skip_reason

log = logging.getLogger(__name__)


def fit(image: torch.Tensor, size: tuple[int, int] = IMAGE_SIZE) -> torch.Tensor:
    """uint8 or float (3, H, W) -> float (3, *size) in [0, 1]: scaled to cover, centre-cropped.

    A panorama or a tall strip (resized, it would cover more than 4 times ``size``) has its middle
    cut out first, with a margin for the resizing filter, so that memory stays small: a 20000 x 10
    strip would otherwise be resized to 96 x 192000 pixels before the crop.
    """
    h, w = image.shape[-2:]
    scale = max(size[0] / h, size[1] / w)
    if math.ceil(h * scale) * math.ceil(w * scale) > 4 * size[0] * size[1]:
        margin = 2 * math.ceil(1 / scale) + 2  # source pixels either side that the antialiasing filter reads
        image = TF.center_crop(image, [min(h, math.ceil(size[0] / scale) + margin),
                                       min(w, math.ceil(size[1] / scale) + margin)])
        h, w = image.shape[-2:]
    image = TF.resize(image, [max(size[0], math.ceil(h * scale)), max(size[1], math.ceil(w * scale))], antialias=True)
    image = TF.center_crop(image, list(size))
    # antialiased resizing of a float image can overshoot [0, 1] by rounding: clamp it back
    return image.float() / 255.0 if image.dtype == torch.uint8 else image.clamp(0.0, 1.0)


class ImageFolderCorpus(Dataset):
    """Every image file below ``root`` (sorted) that can be read, fitted to ``size``; the others are skipped.

    ``skipped``: each file left out when the corpus was made, with the reason; ``ignored``: how
    many files are not taken by their name (by extension); ``unreadable``: the files that failed
    later; ``fingerprint``: of the names and bytes of the files taken. ``progress``: a bar while
    the files are checked (decoded the first time, afterwards only those whose size or
    modification time changed: ``folder_checks.check_images``).
    """

    def __init__(self, root: str | Path, *, size: tuple[int, int] = IMAGE_SIZE, name: str | None = None,
                 progress: bool = False) -> None:
        self.root = Path(root)
        candidates, self.ignored = find_images(self.root)
        if not candidates:
            raise FileNotFoundError(f"{self.root}: no image files ({', '.join(EXTENSIONS)}) found"
                                    f"{'; ignored ' + _counts(self.ignored) if self.ignored else ''}")
        self.size = size
        self.name = name or self.root.name
        self.skipped: dict[Path, str] = {}  # file -> why it was left out
        self.files, stats, digest = [], [], hashlib.sha256()
        checks = check_images(self.root, candidates, cache_dir() / "corpora", progress=progress,
                              desc=f"checking {self.name}")
        for path, found in checks.items():
            if isinstance(found, str):  # why it cannot be read
                self.skipped[path] = found
                continue
            self.files.append(path)
            stats.append((found.size, found.mtime_ns))
            digest.update(f"{path.relative_to(self.root).as_posix()}\0{found.sha256}\n".encode())
        examples = "; ".join(list(self.skipped.values())[:3]) + (" ..." if len(self.skipped) > 3 else "")
        if not self.files:
            raise ValueError(f"{self.root}: none of its {len(candidates)} image files can be read: {examples}")
        if self.skipped:
            log.warning("%s: skipped %d of %d image files that cannot be read (all in .skipped): %s", self.root,
                        len(self.skipped), len(candidates), examples)
        if self.ignored:
            log.info("%s: ignored %s, not image files by name", self.root, _counts(self.ignored))
        self.fingerprint = digest.hexdigest()[:16]  # of the readable files' names and bytes
        self._stats = np.array(stats, dtype=np.int64)  # (N, 2): size in bytes, mtime in ns, when checked
        # (N,) bool, in shared memory so that every DataLoader worker's finds reach this process: files that
        # failed after the check
        self.failed = torch.zeros(len(self.files), dtype=torch.bool).share_memory_()

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.decode(index)[0]

    def decode(self, index: int) -> tuple[torch.Tensor, int]:
        """Image ``index`` fitted to ``size``, and the index of the file actually decoded.

        A file that cannot be read any more (changed or vanished since the check) is flagged in
        shared memory, so every worker skips it and the main process counts it, and replaced by
        the next readable one.
        """
        if not 0 <= index < len(self.files):
            raise IndexError(f"index {index} out of range for {len(self.files)} images")
        for offset in range(len(self.files)):
            used = (index + offset) % len(self.files)
            if self.failed[used]:
                continue
            try:
                return fit(self._read(used), self.size), used
            except (UnreadableImage, OSError) as err:
                self.failed[used] = True
                log.warning("%s; skipped, replaced by the next readable image", skip_reason(err, self.files[used]))
        raise RuntimeError(f"{self.root}: none of the {len(self.files)} image files could be decoded")

    def _read(self, index: int) -> torch.Tensor:
        path = self.files[index]
        with open(path, "rb") as file:
            stat = os.fstat(file.fileno())
            if [stat.st_size, stat.st_mtime_ns] != self._stats[index].tolist():
                raise UnreadableImage(f"{path}: changed since the corpus was made (its size or modification time); "
                                      f"make the corpus again to read it")
            return read_rgb(file)

    @property
    def unreadable(self) -> list[Path]:
        """The files that failed after the check (in this process or any DataLoader worker of it)."""
        return [self.files[i] for i in self.failed.nonzero().flatten().tolist()]

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "size": len(self.files), "origin": str(self.root), "fingerprint": self.fingerprint,
                "skipped": len(self.skipped) + int(self.failed.sum()), "ignored": sum(self.ignored.values())}


def _counts(counter: Counter) -> str:
    """'3 files (.txt: 2, hidden: 1)'."""
    return f"{sum(counter.values())} files ({', '.join(f'{k}: {n}' for k, n in counter.most_common())})"


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
    from their files each time; a folder's files are checked first (with a ``progress`` bar).
    """
    if name == "offline":
        corpus = OfflineCorpus(length, seed=seed)
        return CachedCorpus(corpus, cache_dir() / "corpora", progress=progress, workers=workers) if cache else corpus
    if name == "imagenet-sample":
        return ImageFolderCorpus(imagenet_sample_folder(data_dir), name=name, progress=progress)
    if name in ("cifar10", "stl10"):
        return torchvision_corpus(name, cache_dir() / name, download=download)
    if Path(name).is_dir():
        return ImageFolderCorpus(name, progress=progress)
    raise ValueError(f"corpus {name!r}; expected offline, imagenet-sample, cifar10, stl10 or an image folder")
