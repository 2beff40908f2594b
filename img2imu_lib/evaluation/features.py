"""Frozen features of a backbone over a dataset's windows, computed once and cached by content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..datasets.perturbations import SENSORY_PERTURBATIONS
from ..images.spectrogram import spectrogram_images
from ..pretraining.methods import KINDS
from ..store import cache_dir, load_cached_tensors, record_key, save_atomic
from .candidates import Candidate
from .data import EvalData
from .probe import extract_features

RESULTS_VERSION = 1  # part of every record's and feature file's key: bump it when a change alters results
_LAST: list = []  # [(candidate key, its load function, the backbone)] of the backbone loaded last (see ``loaded``)


def loaded(candidate: Candidate) -> torch.nn.Module:
    """``candidate``'s backbone in eval mode, loaded once for consecutive calls with the same candidate (the
    feature sets of one backbone over several datasets, settings and perturbations): only the last is kept,
    and only for the same key and the same load function."""
    if not _LAST or _LAST[0][0] != candidate.key or _LAST[0][1] is not candidate.load:
        _LAST[:] = [(candidate.key, candidate.load, candidate.load().eval())]
    return _LAST[0][2]


def backbone_inputs(windows: np.ndarray, *, kind: str, fs: float, spectrogram: tuple[int, int] | None) -> torch.Tensor:
    """What a backbone of ``kind`` reads: images (N, 3, 96, 128) ImageNet-normalised, made with ``spectrogram`` =
    (nfft, noverlap), or windows (N, T, 3) in g (sensor backbones standardise them themselves)."""
    check_inputs(kind, spectrogram)
    if kind == "image":
        return spectrogram_images(windows, fs=fs, nfft=spectrogram[0], noverlap=spectrogram[1])
    return torch.as_tensor(np.ascontiguousarray(windows, dtype=np.float32))


def check_inputs(kind: str, spectrogram: tuple[int, int] | None) -> None:
    """ValueError unless ``kind`` is one of ``KINDS`` and ``spectrogram`` is given exactly for image backbones."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; expected one of {KINDS}")
    if (kind == "image") != (spectrogram is not None):
        raise ValueError(f"{kind} backbones take {'a spectrogram setting' if kind == 'image' else 'no spectrogram setting'}")


def _features_path(candidate: Candidate, data: EvalData, spectrogram: tuple[int, int] | None, perturbation: str | None,
                   perturbation_seed: int) -> Path:
    key = record_key({"version": RESULTS_VERSION, "backbone": candidate.key, "kind": candidate.kind, "data": data.fingerprint,
                      "spectrogram": spectrogram, "perturbation": perturbation, "perturbation_seed": perturbation_seed})
    return cache_dir() / "features" / f"{candidate.name.replace(' ', '_')}-{data.name}-{key}.pt"


def perturbed(windows: np.ndarray, perturbation: str | None, *, seed: int) -> np.ndarray:
    """The windows, or their copy under one of ``datasets.perturbations.SENSORY_PERTURBATIONS`` (one seeded draw per window)."""
    if perturbation is None:
        return windows
    if perturbation not in SENSORY_PERTURBATIONS:
        raise ValueError(f"perturbation {perturbation!r}; expected one of {sorted(SENSORY_PERTURBATIONS)}")
    generator = torch.Generator().manual_seed(seed)
    return SENSORY_PERTURBATIONS[perturbation](torch.as_tensor(windows), generator=generator).numpy()


def features(candidate: Candidate, data: EvalData, *, spectrogram: tuple[int, int] | None = None,
             perturbation: str | None = None, perturbation_seed: int = 0, chunk: int = 256) -> torch.Tensor:
    """Frozen features (N, D) of every window of ``data`` through ``candidate``, computed once and cached.

    Image backbones read the windows as spectrogram images made with ``spectrogram`` = (nfft,
    noverlap); sensor backbones read the raw windows. ``perturbation`` first perturbs the windows.
    """
    try:
        check_inputs(candidate.kind, spectrogram)
    except ValueError as err:
        raise ValueError(f"{candidate.name}: {err}") from None
    path = _features_path(candidate, data, spectrogram, perturbation, perturbation_seed)
    if path.exists() and (cached := load_cached_tensors(path)) is not None:  # a damaged one is computed again
        return cached
    windows = perturbed(data.windows, perturbation, seed=perturbation_seed)
    backbone = loaded(candidate)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    if candidate.kind == "image":
        backbone = backbone.to(memory_format=torch.channels_last)
    parts = []
    for start in range(0, len(windows), chunk):
        inputs = backbone_inputs(windows[start:start + chunk], kind=candidate.kind, fs=data.fs, spectrogram=spectrogram)
        if candidate.kind == "image":
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        parts.append(extract_features(backbone, inputs, batch_size=chunk))
    after = backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), f"{candidate.name}: the frozen backbone changed"
    result = torch.cat(parts)
    save_atomic(result, path)
    return result
