"""A corpus computed once: every image stored as uint8 in a NumPy file, read back by memory map.

Pre-training reads every image of its corpus each epoch; the offline corpus renders them
(dead leaves, and antialiased crops of package photos) at about 22 ms each. ``CachedCorpus``
renders each image once into ``<directory>/<name>-<key>.npy``, an (N, 3, H, W) uint8 array,
and afterwards reads it back by memory map (microseconds per image).

* Quantisation. The cache stores ``round(255 x)``, so an image read back is the original to
  within 1/510 in [0, 1] units: finer than the steps of any 8-bit photograph (ImageNet's JPEGs,
  CIFAR), and far below the changes the MoCo augmentations make. Images that are already
  8-bit (any folder of photos) come back exactly.
* Key. A hash of the corpus's ``describe()`` (name, size, seed, image size, origin), the array
  shape, a format version and the bytes of its first two images, so that a change to the code
  that renders them gives a new file rather than stale images. The corpus must be
  deterministic (image ``i`` always the same), as the offline corpus is.
* Atomic. The array is written to a temporary file beside the target and renamed when
  complete: an interrupted build leaves no partial cache; two processes building the same key
  each write their own file and the last rename wins (the contents are identical).
* Workers. The memory map is opened lazily in each process (never pickled), so the corpus can
  go to ``DataLoader`` worker processes.
* Checked. A cache file is read with ``allow_pickle=False`` (a planted pickle runs nothing) and
  must be the uint8 array of the expected shape; one that is not (cut short, damaged, planted,
  of another shape) is removed with a ``RuntimeWarning`` and built again, as ``store`` treats
  its cache files. A build first checks there is room on the disk for the whole array (writing
  into a memory map on a full disk kills the process), and fails, leaving nothing, if the corpus
  skipped more images while it was read (an image folder whose files changed or vanished) or
  gave images of another shape or not finite.
* Skipped images. ``describe()`` keeps the counts of the corpus it caches (``skipped``,
  ``ignored``: an image folder's files left out), as they were when the cache was opened.

What the check of an image folder found is kept too, in ``folder_checks``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..progress import progress_bar
from ..store import UnreadableFile, atomic_path

FORMAT = 1  # bump when the stored layout or quantisation changes: old files are then ignored
VOLATILE = ("skipped", "ignored")  # describe() counts not part of the key: they change while a corpus is read
# (an image folder's files that fail), or leave its images unchanged (its junk files)


def quantize(images: torch.Tensor) -> torch.Tensor:
    """float (..., 3, H, W) in [0, 1] -> uint8 of the same shape, round(255 x)."""
    return (images.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)


def dequantize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (..., 3, H, W) -> float32 in [0, 1], x / 255 (as ``corpora.fit`` converts photos)."""
    return images.float() / 255.0


def cache_key(corpus: Dataset) -> str:
    """``<name>-<16 hex digits>``: the file stem under which ``corpus`` is cached."""
    return _key_and_shape(corpus)[0]


def _key_and_shape(corpus: Dataset) -> tuple[str, tuple[int, int, int, int]]:
    if not callable(getattr(corpus, "describe", None)):
        raise TypeError(f"{type(corpus).__name__} has no describe() (name, size, seed, ...) to key its cache by; "
                        f"expected a corpus from img2imu_lib.pretraining.corpora")
    description = {k: v for k, v in corpus.describe().items() if k not in VOLATILE}
    first = [_image(corpus, i) for i in range(min(2, len(corpus)))]
    shape = (len(corpus), *first[0].shape)  # (N, 3, H, W)
    digest = hashlib.sha256(json.dumps({"describe": description, "format": FORMAT, "shape": shape},
                                       sort_keys=True, default=str).encode())
    for image in first:
        digest.update(quantize(image).numpy().tobytes())
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(description.get("name", "corpus")))
    return f"{name}-{digest.hexdigest()[:16]}", shape


def _image(corpus: Dataset, index: int) -> torch.Tensor:
    image = corpus[index]
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
        raise TypeError(f"item {index} of {corpus.describe().get('name')!r} is not a (3, H, W) tensor "
                        f"(got {type(image).__name__}); only image corpora without labels can be cached")
    return image


class CachedCorpus(Dataset):
    """``corpus`` materialised once into ``directory``; items are float (3, H, W) in [0, 1]."""

    def __init__(self, corpus: Dataset, directory: str | Path, *, progress: bool = True, workers: int = 0) -> None:
        """Open the cache of ``corpus`` in ``directory``, building it first if absent.

        ``workers``: DataLoader worker processes that render the images while building (0: this one).
        """
        if len(corpus) == 0:
            raise ValueError(f"corpus {type(corpus).__name__} is empty; nothing to cache")
        key, self.shape = _key_and_shape(corpus)
        self.path = Path(directory) / f"{key}.npy"
        if self.path.exists():
            try:
                open_cache(self.path, self.shape)
            except UnreadableFile as err:
                warnings.warn(f"{err}; removed it, building it again", RuntimeWarning, stacklevel=2)
                self.path.unlink()
        if not self.path.exists():
            build(corpus, self.path, shape=self.shape, progress=progress, workers=workers)
            open_cache(self.path, self.shape)  # what was written reads back
        self.description = corpus.describe()  # with its counts (skipped files) as they are now
        self._array: np.ndarray | None = None  # opened lazily, once per process

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        if self._array is None:
            self._array = open_cache(self.path, self.shape)
        return dequantize(torch.from_numpy(np.array(self._array[index])))  # copied out of the read-only map

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_array": None}  # a worker process opens its own memory map

    def describe(self) -> dict[str, object]:
        return {**self.description, "cache": str(self.path)}


def open_cache(path: Path, shape: tuple[int, int, int, int]) -> np.ndarray:
    """The read-only memory map of the cache file ``path``; UnreadableFile unless it is uint8 of ``shape``."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)  # never unpickle: a planted file runs nothing
    except (ValueError, OSError, EOFError) as err:  # numpy's errors for a file cut short, damaged or of objects
        raise UnreadableFile(f"{path}: not a readable corpus cache, cut short, damaged or not a plain array "
                             f"({type(err).__name__}: {err})") from err
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.shape != shape:
        found = f"{array.dtype} {array.shape}" if isinstance(array, np.ndarray) else type(array).__name__
        raise UnreadableFile(f"{path}: holds {found}, expected a corpus cache of uint8 {shape}")
    return array


def build(corpus: Dataset, path: Path, *, shape: tuple[int, int, int, int], progress: bool = True,
          workers: int = 0, batch: int = 64) -> None:
    """Render every image of ``corpus`` into the uint8 .npy file ``path`` of ``shape`` (N, 3, H, W), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_room(path, shape)
    counts = _counts(corpus)
    with atomic_path(path) as partial:
        array = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=shape)
        loader = DataLoader(corpus, batch_size=batch, num_workers=workers)  # in order: image i goes to row i
        done = 0
        with progress_bar(total=shape[0], desc=f"caching {path.name}", unit="image", disable=not progress) as bar:
            for images in loader:  # (B, 3, H, W) float in [0, 1]
                _check_batch(images, done, shape, path.stem)
                array[done:done + len(images)] = quantize(images).numpy()
                done += len(images)
                bar.update(len(images))
        array.flush()
        del array
        if _counts(corpus) != counts:
            raise ValueError(f"{path.stem}: {counts} became {_counts(corpus)} while it was cached (files changed or "
                             f"vanished?); nothing was cached, so that no image stands in for another; run it again")


def _counts(corpus: Dataset) -> dict[str, object]:
    return {k: v for k, v in corpus.describe().items() if k in VOLATILE}


def _check_batch(images: torch.Tensor, first: int, shape: tuple[int, int, int, int], name: str) -> None:
    """ValueError unless the batch ``images`` (B, 3, H, W) has the cache's image shape and is finite (quantised,
    NaN would silently become 0)."""
    finite = bool(torch.isfinite(images).all())
    if images.shape[1:] != shape[1:] or not finite:
        raise ValueError(f"images {first} to {first + len(images) - 1} of {name}: {tuple(images.shape[1:])}"
                         f"{'' if finite else ' with NaN or infinity'}; expected finite images of {shape[1:]} "
                         f"like the first; nothing was cached")


def _check_room(path: Path, shape: tuple[int, int, int, int]) -> None:
    """OSError if the disk holding ``path`` has no room for the array of ``shape`` (and 1 % to spare)."""
    needed, free = int(np.prod(shape)) * 101 // 100, shutil.disk_usage(path.parent).free
    if free < needed:
        raise OSError(f"{path.parent}: {free / 2**30:.2f} GiB free; the corpus cache {path.name} needs "
                      f"{needed / 2**30:.2f} GiB; free some space or point IMG2IMU_CACHE elsewhere")
