"""Grad-CAM heatmaps on spectrogram images (paper Section V-B2, Fig. 8) and how alike two models' heatmaps are.

Grad-CAM (Selvaraju et al., 2017) explains class ``c`` at a convolutional layer with activations
``A_k`` (k channels of h x w cells): each channel is weighted by the mean gradient of the class
score over its cells, ``alpha_k = mean_ij dy_c / dA_k[i, j]``, and the map is
``ReLU(sum_k alpha_k A_k)``. Captum's ``LayerGradCam`` computes it; here it is upsampled
bilinearly to the image and scaled to [0, 1] per window.

The image convention is ``conversion``'s: row 0 is the highest frequency (fs / 2), the bottom row
0 Hz, and time runs left to right.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam
from scipy import stats
from torch import nn


def classifier(backbone: nn.Module, head: nn.Linear) -> nn.Module:
    """A torchvision ResNet18 backbone (``fc`` the identity) and a linear head as one model, images -> logits.

    Both are copied, so the returned model can be explained or exported without touching the originals.
    """
    if not isinstance(getattr(backbone, "fc", None), nn.Identity) or not hasattr(backbone, "layer4"):
        raise ValueError(f"{type(backbone).__name__}: expected a torchvision ResNet whose fc is nn.Identity "
                         f"(the backbones of study.Candidate.load for image methods)")
    model = copy.deepcopy(backbone)
    model.fc = copy.deepcopy(head)
    return model.eval()


def coarse_grad_cam(model: nn.Module, images: torch.Tensor, targets: torch.Tensor | np.ndarray, *,
                    layer: str = "layer4", batch_size: int = 64) -> torch.Tensor:
    """Grad-CAM at the resolution of ``layer``: images (N, 3, H, W) -> maps (N, h, w), >= 0, unscaled.

    ``targets`` (N,) are the explained classes. The model is put in ``eval()`` (BatchNorm uses its
    running statistics) and its parameters are left untouched.
    """
    targets = torch.as_tensor(targets, dtype=torch.long)
    if images.ndim != 4 or len(targets) != len(images):
        raise ValueError(f"images {tuple(images.shape)} and targets {tuple(targets.shape)}: expected (N, 3, H, W) and (N,)")
    module = dict(model.named_modules()).get(layer)
    if module is None:
        raise ValueError(f"layer {layer!r} is not a module of {type(model).__name__}; expected e.g. 'layer3' or 'layer4'")
    model.eval()
    cam = LayerGradCam(model, module)
    parts = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].detach().clone().requires_grad_(True)
        with warnings.catch_warnings():  # Captum warns that the input requires grad; it is meant to here
            warnings.simplefilter("ignore", UserWarning)
            maps = cam.attribute(batch, target=targets[start:start + batch_size].tolist(), relu_attributions=True)
        parts.append(maps.detach()[:, 0])  # (n, h, w)
    return torch.cat(parts)


def grad_cam(model: nn.Module, images: torch.Tensor, targets: torch.Tensor | np.ndarray, *, layer: str = "layer4",
             batch_size: int = 64) -> torch.Tensor:
    """Grad-CAM maps (N, H, W) in [0, 1]: bilinearly upsampled to the images' size, divided by each map's maximum.

    A map that is zero everywhere (no channel speaks for the class) stays zero.
    """
    coarse = coarse_grad_cam(model, images, targets, layer=layer, batch_size=batch_size)
    maps = F.interpolate(coarse[:, None], size=tuple(images.shape[-2:]), mode="bilinear", align_corners=False)[:, 0]
    peak = maps.amax(dim=(-2, -1), keepdim=True)
    return torch.where(peak > 0, maps / peak.clamp_min(torch.finfo(maps.dtype).tiny), torch.zeros_like(maps))


def rank_similarity(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> np.ndarray:
    """Spearman rank correlation of each pair of maps: (N, H, W) and (N, H, W) -> (N,) in [-1, 1].

    NaN where either map is constant (a rank correlation is undefined there); callers count those.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"maps of shapes {a.shape} and {b.shape}: expected two (N, H, W) arrays of one shape")
    out = np.full(len(a), np.nan)
    for i, (x, y) in enumerate(zip(a.reshape(len(a), -1), b.reshape(len(b), -1))):
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            out[i] = stats.spearmanr(x, y).statistic
    return out


def row_frequencies(height: int, *, fs: float, nfft: int) -> np.ndarray:
    """Centre frequency in Hz of each image row (top to bottom) of a spectrogram image ``height`` rows tall.

    The ``nfft // 2 + 1`` frequency bins (spacing fs / nfft) fill the image height evenly, 0 Hz at the bottom.
    """
    bins = nfft // 2 + 1
    from_bottom = (np.arange(height)[::-1] + 0.5) * bins / height  # position in bins, measured from the bottom edge
    return (from_bottom - 0.5) * fs / nfft


def band_share(maps: torch.Tensor | np.ndarray, *, fs: float, nfft: int, below_hz: float) -> tuple[np.ndarray, float]:
    """Share of each map's mass in the rows below ``below_hz``: (N, H, W) -> ((N,), area share of those rows).

    A map spread evenly over the image scores the area share; above it, the map favours the band.
    Maps with no mass give NaN.
    """
    maps = np.asarray(maps, dtype=np.float64)
    low = row_frequencies(maps.shape[1], fs=fs, nfft=nfft) < below_hz
    total = maps.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, maps[:, low].sum(axis=(1, 2)) / total, np.nan)
    return share, float(low.mean())
