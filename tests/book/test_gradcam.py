"""The Grad-CAM chapter's measures and verdicts from hand-built maps and records.

Six windows whose differences are distinct and all positive give the one-sided Wilcoxon test's
smallest p, 1/64 = 0.016 < 0.05: the reading "holds here"; the same differences negated have no
positive rank, so p = 1 ("does not hold here"); fewer than six windows with a heatmap cannot be tested.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from img2imu_lib.book import gradcam as G

UP = np.array([0.8, 0.7, 0.6, 0.5, 0.4, 0.3])  # six distinct positive differences


def test_greater_p_is_scipys_test_of_the_notebook():
    """The same p as the chapter's former call, ``stats.wilcoxon(x, y, alternative="greater")`` (scipy's default
    treatment of zeros), for paired values and for values against a reference."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=20), rng.uniform(size=20)
    y[:3] = x[:3]  # three zero differences
    assert G.greater_p(x - y) == pytest.approx(stats.wilcoxon(x, y, alternative="greater").pvalue, rel=1e-12)
    assert G.greater_p(x - 0.4) == pytest.approx(stats.wilcoxon(x - 0.4, alternative="greater").pvalue, rel=1e-12)
    assert G.greater_p(UP) == pytest.approx(1 / 64) and G.greater_p(-UP) == 1.0
    assert np.isnan(G.greater_p(UP[:5])) and np.isnan(G.greater_p(np.zeros(8)))


def test_similarities_of_known_maps():
    supervised = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[3.0, 2.0], [1.0, 0.0]]])  # (2, 2, 2)
    maps = {"IMG2IMU": supervised * 2, "random init (2D)": supervised.flip(0), "fully supervised (2D)": supervised}
    similarity = G.similarities(maps, np.array([0, 1]))
    assert list(similarity) == [G.OURS, G.RANDOM, G.FLOOR]
    np.testing.assert_allclose(similarity[G.OURS], [1.0, 1.0])  # the same ranks
    np.testing.assert_allclose(similarity[G.RANDOM], [-1.0, -1.0])  # the reversed ranks
    np.testing.assert_allclose(similarity[G.FLOOR], [1.0, 1.0])  # "another window" is the same one here


def test_statistics_and_band_rows_of_known_maps():
    # 4 rows at fs 50 Hz, nfft 64: the rows' centres are 22.2, 15.7, 9.3 and 2.8 Hz, so below 5 Hz is the bottom row
    bottom = torch.zeros(6, 4, 2)
    bottom[:, 3] = 1.0  # all mass on the bottom row: share 1
    even = torch.ones(6, 4, 2)  # share 1/4, the area share
    maps = {"random init (2D)": even, "fully supervised (2D)": even, "IMG2IMU": bottom}
    similarity = {G.OURS: 0.1 + UP, G.RANDOM: np.full(6, 0.1), G.FLOOR: np.full(6, np.nan)}
    record = G.statistics(similarity, maps, fs=50.0, nfft=64, below_hz=5.0)
    assert record["band_area"] == 0.25 and record["band_share"]["IMG2IMU"] == [1.0] * 6
    assert record["band_p"]["IMG2IMU"] == pytest.approx(stats.wilcoxon(np.full(6, 0.75), alternative="greater").pvalue)
    assert np.isnan(record["band_p"]["random init (2D)"])  # an even map: every difference is zero
    assert record["similarity_p"] == pytest.approx(1 / 64)
    rows = G.band_rows(record)
    assert rows[2] == {"model": "IMG2IMU", "windows": 6, "mean share below band edge": "1.000", "area share": "0.250",
                       "ratio": "4.00", "p (share > area, one-sided Wilcoxon)": f"{record['band_p']['IMG2IMU']:.2g}"}
    np.testing.assert_allclose(G.row_profile(bottom), [0, 0, 0, 1])
    np.testing.assert_allclose(G.row_profile(torch.cat([even, torch.zeros(2, 4, 2)])), [0.25] * 4)  # empty maps skipped


def test_similarity_rows():
    rows = G.similarity_rows({"a": np.array([0.0, 0.5, 1.0, np.nan]), "b": np.array([np.nan])})
    assert rows[0] == {"pair": "a", "windows": 3, "mean": "0.500", "std": "0.408", "median": "0.500",
                       "quartiles": "0.250\u00a0to\u00a00.750", "no map (skipped)": 1}
    assert rows[1] == {"pair": "b", "windows": 0, "no map (skipped)": 1}


def hand_record(ours, random, floor, band):
    similarity = {G.OURS: list(ours), G.RANDOM: list(random), G.FLOOR: list(floor)}
    return {"test_f1": {"random init (2D)": 0.2, "fully supervised (2D)": 0.9, "IMG2IMU": 0.5},
            "similarity": similarity, "similarity_p": G.greater_p(G.paired_gap(similarity)),
            "band_share": band, "band_area": 0.25,
            "band_p": {k: G.greater_p(np.asarray(v)[~np.isnan(v)] - 0.25) for k, v in band.items()}}


def test_verdicts_hold_do_not_hold_and_cannot_be_tested():
    band = {"random init (2D)": [0.2, 0.2, 0.2, np.nan, np.nan, np.nan],  # three windows with a map
            "fully supervised (2D)": list(0.25 - UP / 4),  # below the area on every window
            "IMG2IMU": list(0.25 + UP / 4)}  # above it on every window
    record = hand_record(0.1 + UP, np.full(6, 0.1), np.full(6, 0.05), band)
    rows = G.gradcam_verdicts(record, low_band_hz=5.0)
    assert [r["verdict"] for r in rows] == ["holds here", "cannot be tested here (too few windows with a heatmap)",
                                            "does not hold here", "holds here"]
    # ours: mean of 0.9 ... 0.4 = 0.65 against 0.1, a gap of +0.55 on 6 windows, p = 1/64
    assert rows[0]["evidence"] == ("mean rank correlation with the supervised maps 0.650 for IMG2IMU and 0.100 for "
                                   "random init, a paired difference of +0.550 over 6 windows (one-sided Wilcoxon "
                                   "p = 0.016); the same model on shuffled windows gives 0.050")
    assert rows[3] == {"reading": "IMG2IMU favours the band below 5 Hz", "verdict": "holds here",
                       "evidence": "0.388 of the mass on 0.250 of the image"}
    assert G.gradcam_notes(record) == ["Test macro-F1 of the explained models: random init (2D) 0.200, "
                                       "fully supervised (2D) 0.900, IMG2IMU 0.500."]


def test_the_paper_reading_does_not_hold_when_random_looks_closer():
    record = hand_record(np.full(6, 0.1), 0.1 + UP, np.full(6, 0.9), {"IMG2IMU": [0.25] * 6})
    rows = G.gradcam_verdicts(record, low_band_hz=5.0)
    assert rows[0]["verdict"] == "does not hold here" and "-0.550 over 6 windows" in rows[0]["evidence"]
    assert rows[1]["verdict"].startswith("cannot be tested")  # every share equals the area: no difference to test
    notes = G.gradcam_notes(record)
    assert notes[0].startswith("The supervised model's maps of two *different* windows agree more (0.900)")


def test_verdict_rule():
    assert G.verdict(0.01, 0.2) == "holds here" and G.verdict(0.01, -0.2) == "does not hold here"
    assert G.verdict(0.2, 0.2) == "does not hold here" and G.verdict(float("nan"), 0.2).startswith("cannot be tested")
