"""A labelled image folder for supervised pre-training: items (image (3, H, W) float in [0, 1], label).

Two layouts, found from where the files lie:

* class sub-folders (ImageNet's, as torchvision's ``ImageFolder`` reads it): every image below
  ``root/<class>/`` belongs to ``<class>``;
* flat: every image directly in ``root``, its class the file name up to the first underscore
  (``n01440764_tench.jpg`` is class ``n01440764``).

Classes are numbered in sorted order, as torchvision numbers ImageNet's WordNet ids, so on an
ImageNet folder label ``i`` is ImageNet class ``i``. The shared ``imagenet-sample`` is flat with
one photo for each of the 1,000 classes: supervised pre-training on it is close to exemplar
classification (1,000 classes of one image each, told apart under strong augmentation), not
ImageNet-supervised training, whose weights ``imagenet_weights`` loads instead.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..images.spectrogram import IMAGE_SIZE
from .corpora import ImageFolderCorpus


def class_names(root: Path, files: list[Path]) -> tuple[list[str], str]:
    """The class of each file below ``root`` and the layout: ``"class folders"`` or ``"flat"``."""
    depths = {len(f.relative_to(root).parts) for f in files}
    if min(depths) >= 2:
        return [f.relative_to(root).parts[0] for f in files], "class folders"
    if depths == {1}:
        unnamed = [f.name for f in files if "_" not in f.stem]
        if unnamed:
            raise ValueError(f"{root}: flat folder, but {unnamed[0]!r} (and {len(unnamed) - 1} more) has no class "
                             f"prefix; expected names like '<class>_<anything>.jpg'")
        return [f.name.split("_", 1)[0] for f in files], "flat"
    loose = next(f for f in files if f.parent == root)
    raise ValueError(f"{root}: both image files directly inside (e.g. {loose.name!r}) and class sub-folders; "
                     f"expected one layout: root/<class>/<image> or root/<class>_<name>")


class LabelledImageFolder(ImageFolderCorpus):
    """Every image below ``root`` with its class index; unreadable files are skipped and counted."""

    def __init__(self, root: str | Path, *, size: tuple[int, int] = IMAGE_SIZE, name: str | None = None) -> None:
        super().__init__(root, size=size, name=name)
        names, self.layout = class_names(self.root, self.files)
        self.classes = sorted(set(names))  # class names; label i is classes[i]
        if len(self.classes) < 2:
            raise ValueError(f"{self.root}: {len(self.files)} images all in class {self.classes[0]!r}; "
                             f"supervised training needs at least 2 classes ({self.layout} layout)")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.labels = [self.class_to_idx[n] for n in names]  # label of each file in self.files

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """(image (3, H, W) float in [0, 1], label); an unreadable file gives the next readable one's pair."""
        image, used = self.decode(index)
        return image, self.labels[used]

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "classes": len(self.classes), "layout": self.layout}
