"""The Grad-CAM chapter's measures and verdicts (paper Section V-B2, Fig. 8): how alike the three models'
heatmaps are, how much of each falls on the low-frequency band, and whether the paper's reading holds.

The models are named as in ``MODELS``; ``maps`` are their Grad-CAM maps (N, H, W) of the same test
windows (``evaluation.explain.grad_cam``). Each reading is tested window by window with the one-sided
Wilcoxon signed-rank test of ``evaluation.claims.from_differences`` (scipy's default treatment of zero
differences), and is only tested on at least ``MIN_WINDOWS`` windows with a heatmap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ..evaluation.claims import ALPHA, from_differences
from ..evaluation.explain import band_share, rank_similarity
from .tables import NBSP

MODELS = ("random init (2D)", "fully supervised (2D)", "IMG2IMU")  # the three classifiers of Fig. 8
OURS = "IMG2IMU vs fully supervised"
RANDOM = "random init vs fully supervised"
FLOOR = "fully supervised vs itself on another window"  # what two maps share regardless of the window
MIN_WINDOWS = 6  # fewer windows with a defined measure: the reading cannot be tested

Maps = Mapping[str, torch.Tensor | np.ndarray]


def similarities(maps: Maps, other: np.ndarray) -> dict[str, np.ndarray]:
    """Spearman rank correlation per window (N,) of IMG2IMU's and of the random network's maps with the fully
    supervised model's, and of the supervised model's map with its map of window ``other[i]`` (a permutation)."""
    supervised = maps["fully supervised (2D)"]
    return {OURS: rank_similarity(maps["IMG2IMU"], supervised),
            RANDOM: rank_similarity(maps["random init (2D)"], supervised),
            FLOOR: rank_similarity(supervised, supervised[other])}


def greater_p(differences: np.ndarray) -> float:
    """One-sided Wilcoxon p of H1: ``differences`` (n,) lie above zero; NaN with fewer than ``MIN_WINDOWS`` or all zero."""
    differences = np.asarray(differences, dtype=float)
    if len(differences) < MIN_WINDOWS or not np.any(differences != 0):
        return float("nan")
    return from_differences(differences, zero_method="wilcox").p_value


def _defined(values: Sequence[float]) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[~np.isnan(values)]


def paired_gap(similarity: Mapping[str, Sequence[float]]) -> np.ndarray:
    """IMG2IMU's minus the random network's similarity to the supervised maps, on windows where both are defined."""
    mine, baseline = (np.asarray(similarity[k], dtype=float) for k in (OURS, RANDOM))
    both = ~np.isnan(mine) & ~np.isnan(baseline)
    return mine[both] - baseline[both]


def statistics(similarity: Mapping[str, np.ndarray], maps: Maps, *, fs: float, nfft: int,
               below_hz: float) -> dict:
    """The numbers behind the verdicts, as the chapter's record keeps them: the similarities and the p of
    IMG2IMU's exceeding the random network's (``similarity_p``), each model's share of heatmap mass below
    ``below_hz`` per window, the area share of those rows and the p of each share exceeding it (``band_p``)."""
    shares, area = {}, float("nan")
    for name, m in maps.items():
        shares[name], area = band_share(m, fs=fs, nfft=nfft, below_hz=below_hz)
    return {"similarity": {k: np.asarray(v).tolist() for k, v in similarity.items()},
            "similarity_p": greater_p(paired_gap(similarity)),
            "band_share": {k: v.tolist() for k, v in shares.items()}, "band_area": area,
            "band_p": {k: greater_p(_defined(v) - area) for k, v in shares.items()}}


def similarity_rows(similarity: Mapping[str, Sequence[float]]) -> list[dict[str, object]]:
    """Per pair of models: windows with a defined similarity, mean, std, median and quartiles, windows skipped."""
    rows = []
    for pair, values in similarity.items():
        skipped = int(np.isnan(np.asarray(values, dtype=float)).sum())
        defined = _defined(values)
        if not len(defined):
            rows.append({"pair": pair, "windows": 0, "no map (skipped)": skipped})
            continue
        q1, median, q3 = np.percentile(defined, [25, 50, 75])
        rows.append({"pair": pair, "windows": len(defined), "mean": f"{defined.mean():.3f}", "std": f"{defined.std():.3f}",
                     "median": f"{median:.3f}", "quartiles": f"{q1:.3f}{NBSP}to{NBSP}{q3:.3f}", "no map (skipped)": skipped})
    return rows


def band_rows(record: Mapping) -> list[dict[str, object]]:
    """Per model: windows with a heatmap, mean share of mass below the band edge, the area share, their ratio
    and the p of the share exceeding the area, from ``statistics``' numbers."""
    area, rows = record["band_area"], []
    for name, share in record["band_share"].items():
        defined = _defined(share)
        rows.append({"model": name, "windows": len(defined),
                     "mean share below band edge": f"{defined.mean():.3f}" if len(defined) else "-",
                     "area share": f"{area:.3f}", "ratio": f"{defined.mean() / area:.2f}" if len(defined) else "-",
                     "p (share > area, one-sided Wilcoxon)": f"{record['band_p'][name]:.2g}"})
    return rows


def row_profile(maps: torch.Tensor | np.ndarray) -> np.ndarray:
    """Mean share of a heatmap's mass per image row (H,), over the maps (N, H, W) that have any mass."""
    rows = np.asarray(maps).sum(axis=2)  # (N, H): mass per row
    total = rows.sum(axis=1, keepdims=True)
    return (rows[total[:, 0] > 0] / total[total[:, 0] > 0]).mean(axis=0)


def verdict(p: float, effect: float) -> str:
    """"holds here" when the effect is positive with p < ``ALPHA``; "cannot be tested here" when p is NaN."""
    if np.isnan(p):
        return "cannot be tested here (too few windows with a heatmap)"
    return "holds here" if effect > 0 and p < ALPHA else "does not hold here"


def gradcam_verdicts(record: Mapping, *, low_band_hz: float) -> list[dict[str, str]]:
    """The paper's reading of Fig. 8, one {reading, verdict, evidence} per part, from the chapter's record
    (``statistics``' numbers): IMG2IMU's maps resemble the supervised model's more than a random network's do,
    and each model favours the band below ``low_band_hz``."""
    similarity, area = record["similarity"], record["band_area"]
    mine, baseline, floor = (np.nanmean(np.asarray(similarity[k], dtype=float)) for k in (OURS, RANDOM, FLOOR))
    difference = paired_gap(similarity)
    gap = float(np.mean(difference)) if len(difference) else float("nan")
    rows = [{"reading": "IMG2IMU's heatmaps resemble the fully supervised model's more than a random network's do",
             "verdict": verdict(record["similarity_p"], gap),
             "evidence": f"mean rank correlation with the supervised maps {mine:.3f} for IMG2IMU and {baseline:.3f} "
                         f"for random init, a paired difference of {gap:+.3f} over {len(difference)} windows "
                         f"(one-sided Wilcoxon p = {record['similarity_p']:.2g}); the same model on shuffled "
                         f"windows gives {floor:.3f}"}]
    for name, share in record["band_share"].items():
        defined = _defined(share)
        effect = float(defined.mean() - area) if len(defined) else float("nan")
        rows.append({"reading": f"{name} favours the band below {low_band_hz:g} Hz",
                     "verdict": verdict(record["band_p"][name], effect),
                     "evidence": f"{defined.mean() if len(defined) else float('nan'):.3f} of the mass on "
                                 f"{area:.3f} of the image"})
    return rows


def gradcam_notes(record: Mapping) -> list[str]:
    """What else the record says: whether the supervised model's maps of two different windows agree more than
    either other model's maps agree with them (then the similarities mostly measure a fixed layout), and the
    explained models' test macro-F1."""
    similarity = record["similarity"]
    mine, baseline, floor = (float(np.nanmean(np.asarray(similarity[k], dtype=float))) for k in (OURS, RANDOM, FLOOR))
    notes = []
    if floor >= max(mine, baseline):
        notes.append(f"The supervised model's maps of two *different* windows agree more ({floor:.3f}) than either "
                     f"other model's map agrees with its map of the same window: much of what its maps hold is a "
                     f"layout that hardly depends on the window, so the similarities above mostly measure agreement "
                     f"with that layout.")
    notes.append("Test macro-F1 of the explained models: " + ", ".join(f"{n} {v:.3f}" for n, v in record["test_f1"].items())
                 + ".")
    return notes
