"""torchvision's ImageNet-supervised ResNet18 (``IMAGENET1K_V1``), loaded only from the local torch cache.

Loading never downloads: ``imagenet_backbone`` reads the file torchvision itself would keep,
``torch.hub.get_dir()/checkpoints/resnet18-f37072fd.pth`` (``$TORCH_HOME/hub/...``), and raises
``WeightsNotCached`` with the path and the command to fetch it otherwise. The one download is
explicit, ``download_imagenet_weights()``, through ``torch.hub`` as torchvision does it (the
hash prefix in the file name is checked).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision
from torch import nn
from torchvision.models import ResNet18_Weights

from ..store import UnreadableFile, load_tensors

URL = ResNet18_Weights.IMAGENET1K_V1.url  # https://download.pytorch.org/models/resnet18-f37072fd.pth
DOWNLOAD_COMMAND = "python -c \"import torchvision; torchvision.models.resnet18(weights='IMAGENET1K_V1')\""


class WeightsNotCached(FileNotFoundError):
    """The ImageNet weights are not in the torch hub cache (and are never downloaded implicitly)."""


def weights_path() -> Path:
    """Where torch.hub keeps the weights: ``torch.hub.get_dir()/checkpoints/<file name of URL>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(URL).path)


def imagenet_weights_available() -> bool:
    """True if the weight file is already in the torch hub cache."""
    return weights_path().is_file()


def imagenet_backbone() -> nn.Module:
    """ResNet18 with torchvision's ImageNet-supervised weights, ``fc`` the identity: (N, 3, H, W) -> (N, 512).

    Inputs are ImageNet-normalised images (``images.spectrogram.normalize_images``).
    """
    path = weights_path()
    if not path.is_file():
        raise WeightsNotCached(f"torchvision's ImageNet ResNet18 weights are not at {path} (they are never downloaded "
                               f"implicitly); download them once ({URL}, 45 MB) with: {DOWNLOAD_COMMAND}")
    try:
        state = load_tensors(path, what="ResNet18 state dict")
    except UnreadableFile as err:
        raise UnreadableFile(f"{err}; delete it and run: {DOWNLOAD_COMMAND}") from err
    model = torchvision.models.resnet18(weights=None)
    model.load_state_dict(state)
    model.fc = nn.Identity()
    return model


def download_imagenet_weights(*, progress: bool = True) -> Path:
    """Download the weights into the torch hub cache (if absent), check their hash prefix, return the path."""
    path = weights_path()
    torch.hub.load_state_dict_from_url(URL, model_dir=str(path.parent), progress=progress, check_hash=True,
                                       map_location="cpu", weights_only=True)
    return path
