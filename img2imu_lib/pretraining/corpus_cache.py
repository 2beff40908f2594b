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
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..progress import progress_bar
from ..store import atomic_path

FORMAT = 1  # bump when the stored layout or quantisation changes: old files are then ignored
VOLATILE = ("skipped",)  # describe() fields that change while a corpus is read; not part of the key


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
        self.description = {k: v for k, v in corpus.describe().items() if k not in VOLATILE}
        if not self.path.exists():
            build(corpus, self.path, shape=self.shape, progress=progress, workers=workers)
        stored = np.load(self.path, mmap_mode="r")
        if stored.shape != self.shape or stored.dtype != np.uint8:
            raise ValueError(f"{self.path}: holds {stored.dtype} {stored.shape}, expected uint8 {self.shape}; "
                             f"delete the file to rebuild it")
        self._array: np.ndarray | None = None  # opened lazily, once per process

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        if self._array is None:
            self._array = np.load(self.path, mmap_mode="r")
        return dequantize(torch.from_numpy(np.array(self._array[index])))  # copied out of the read-only map

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_array": None}  # a worker process opens its own memory map

    def describe(self) -> dict[str, object]:
        return {**self.description, "cache": str(self.path)}


def build(corpus: Dataset, path: Path, *, shape: tuple[int, int, int, int], progress: bool = True,
          workers: int = 0, batch: int = 64) -> None:
    """Render every image of ``corpus`` into the uint8 .npy file ``path`` of ``shape`` (N, 3, H, W), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        array = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=shape)
        loader = DataLoader(corpus, batch_size=batch, num_workers=workers)  # in order: image i goes to row i
        done = 0
        with progress_bar(total=shape[0], desc=f"caching {path.name}", unit="image", disable=not progress) as bar:
            for images in loader:  # (B, 3, H, W) float in [0, 1]
                array[done:done + len(images)] = quantize(images).numpy()
                done += len(images)
                bar.update(len(images))
        array.flush()
        del array
