"""The claims table from hand-built records: which claims are tested, with what evidence and verdict.

With five seeds on one dataset and five distinct positive differences, the one-sided Wilcoxon
signed-rank test's p is its smallest, 1/32 = 0.031 < 0.05: "confirmed". With differences
(+0.05, +0.10, +0.15, -0.20, -0.25) the positive ranks sum to 1 + 2 + 3 = 6, and 22 of the 32 equally
likely sign patterns reach 6 or more, so p = 22/32 = 0.688: "not confirmed".
"""

from __future__ import annotations

import pytest

from img2imu_lib.book import claims as C
from img2imu_lib.book.paper import ABLATIONS

from .fake_records import record

BASE = [0.60, 0.62, 0.64, 0.66, 0.68]  # IMG2IMU's F1 on seeds 0 to 4


def shifted(by):
    return [f - d for f, d in zip(BASE, by)]


UP = [0.05, 0.10, 0.15, 0.20, 0.25]  # IMG2IMU minus the other, every seed positive and distinct
MIXED = [0.05, 0.10, 0.15, -0.20, -0.25]


def test_check_verdicts_by_hand():
    ours = C.scores({"img2imu": {"hapt": record("hapt", BASE)}}, "img2imu")
    better = C.check("A beats B", ours, C.scores({"b": {"hapt": record("hapt", shifted(UP))}}, "b"))
    assert better == {"claim": "A beats B", "verdict": "confirmed",
                      "evidence": "+0.150 F1 on average, better on 5 of 5 paired (dataset, seed) runs; "
                                  "Wilcoxon p = 0.031 (same direction)"}
    mixed = C.check("A beats B", ours, C.scores({"b": {"hapt": record("hapt", shifted(MIXED))}}, "b"), note="a note")
    assert mixed["verdict"] == "not confirmed"
    assert mixed["evidence"] == ("-0.030 F1 on average, better on 3 of 5 paired (dataset, seed) runs; "
                                 "Wilcoxon p = 0.688 (opposite direction); a note")
    untestable = C.check("A beats B", ours, {}, missing="B was not run")
    assert untestable == {"claim": "A beats B", "evidence": "not testable here: B was not run",
                          "verdict": "not testable here"}


def test_relative_change_and_curve_lead():
    r = record("hapt", [0.5, 0.8], perturbed={"noised": [0.25, 0.8]})
    assert C.relative_change(r, "hapt", "noised") == {("hapt", 0): -0.5, ("hapt", 1): 0.0}
    curve = {"img2imu": {"hapt": [record("hapt", [0.5, 0.6]), record("hapt", [0.9, 0.9])]},
             "limu_bert": {"hapt": [record("hapt", [0.25, 0.5], seeds=[0, 2]), record("hapt", [0.5, 0.5])]}}
    assert C.curve_lead(curve, "img2imu", "limu_bert", 0) == {("hapt", 0): 0.25}  # seed 0 only is shared
    assert C.curve_lead(curve, "img2imu", "limu_bert", 1) == {("hapt", 0): pytest.approx(0.4),
                                                              ("hapt", 1): pytest.approx(0.4)}


def test_best_sensor_baseline():
    results = {"limu_bert": {"a": record("a", [0.5]), "b": record("b", [0.7])},  # mean 0.6
               "cpc_har": {"a": record("a", [0.65])}, "simclr_har": {}, "img2imu": {"a": record("a", [0.99])}}
    assert C.best_sensor_baseline(results) == "cpc_har"
    assert C.best_sensor_baseline({"img2imu": {"a": record("a", [0.9])}}) is None


def hand_built_chapter():
    """Five seeds on HAPT: IMG2IMU beats LIMU-BERT on every seed, SimCLR-HAR beats IMG2IMU, the rest as noted."""
    results = {row: {} for row in ("fully_supervised_1d", "random_init_1d", "limu_bert", "simclr_har", "multitask_har",
                                   "cpc_har", "fully_supervised_2d", "random_init_2d", "imagenet_supervised",
                                   "supervised_sample", "simsiam", "moco_default", "moco_all_aug", "img2imu")}
    results["img2imu"]["hapt"] = record("hapt", BASE)
    results["limu_bert"]["hapt"] = record("hapt", shifted(UP))  # mean 0.49
    results["simclr_har"]["hapt"] = record("hapt", shifted([-u for u in UP]))  # mean 0.79: the best baseline
    results["moco_default"]["hapt"] = record("hapt", shifted(MIXED))
    results["fully_supervised_1d"]["hapt"] = record("hapt", [0.99] * 5)  # beats simclr_har on every seed
    clean = [0.8] * 5
    table1 = {"all four": record("hapt", clean, perturbed={"noised": [0.7, 0.69, 0.68, 0.67, 0.66],
                                                             "masked": [0.4] * 5})}
    for a in ABLATIONS:  # without jitter, noise costs more (0.5 of 0.8); nothing else changes
        table1[f"without {a}"] = record("hapt", clean, perturbed={"noised": [0.4] * 5 if a == "jitter" else
                                                                  [0.7, 0.69, 0.68, 0.67, 0.66], "masked": [0.4] * 5})
    for p in ("time_shifted", "rotated"):
        for r in table1.values():
            for s in r["per_seed"]:
                s["test_f1"][p] = 0.8
    choice = {"hapt": {"records": {(32, 24): record("hapt", shifted(UP)), (128, 120): record("hapt", BASE)}}}
    curve = {"img2imu": {"hapt": [record("hapt", BASE), record("hapt", BASE)]},
             "simclr_har": {"hapt": [record("hapt", shifted(UP)), record("hapt", BASE)]}}
    return results, table1, choice, curve


def test_paper_claims_by_hand():
    results, table1, choice, curve = hand_built_chapter()
    claims = C.paper_claims(results, table1, choice, curve, ablation_data="hapt", curve_shots=[1, 10], profile="cpu")
    assert len(claims) == 19
    by_claim = {c["claim"]: c for c in claims}
    assert by_claim["IMG2IMU beats the sensor-pretrained limu_bert"]["verdict"] == "confirmed"
    assert by_claim["IMG2IMU beats the sensor-pretrained simclr_har"]["verdict"] == "not confirmed"
    assert "opposite direction" in by_claim["IMG2IMU beats the sensor-pretrained simclr_har"]["evidence"]
    assert by_claim["IMG2IMU beats the sensor-pretrained cpc_har"]["verdict"] == "not testable here"
    assert by_claim["Sensor-aware augmentations beat MoCo's default ones"]["verdict"] == "not confirmed"
    assert by_claim["IMG2IMU beats ImageNet-supervised pre-training"]["evidence"] == (
        "not testable here: torchvision's ImageNet weights are not in this machine's cache")
    # Table I: noise costs 12.5 % to 17.5 % of the F1 with jitter and 50 % without it, on every seed
    jitter = by_claim["jitter protects against noised data: the model without it loses more F1 (hapt)"]
    assert jitter["verdict"] == "confirmed" and "5 of 5" in jitter["evidence"]
    permute = by_claim["permute_x protects against masked data: the model without it loses more F1 (hapt)"]
    assert permute["verdict"] == "not confirmed" and "Wilcoxon p = 1.000" in permute["evidence"]  # no difference
    nfft = by_claim["nfft 128 beats nfft 32 on phone activity recognition (hapt)"]
    assert nfft["verdict"] == "confirmed" and nfft["evidence"].endswith("so nfft 128 zero-pads them")
    # the lead over the best baseline (simclr_har) is UP at k = 1 and 0 at k = 10: larger when labels are scarce
    lead = next(c for c in claims if c["claim"].startswith("IMG2IMU's F1 minus the best sensor baseline's (simclr_har)"))
    assert lead["verdict"] == "confirmed" and "k = 1 than with k = 10" in lead["claim"]
    # the 1D bound (0.99) beats simclr_har (0.65 ... 0.93) on every seed
    assert by_claim["The fully supervised 1D model beats the best sensor baseline's ten shots"]["verdict"] == "confirmed"
    assert by_claim["The fully supervised 2D model beats IMG2IMU's ten shots"] == {
        "claim": "The fully supervised 2D model beats IMG2IMU's ten shots", "verdict": "not testable here",
        "evidence": "not testable here: the cpu profile does not train the 2D bound"}
    summary = C.claims_summary(claims)
    assert summary.startswith("19 claims: confirmed: 5; not confirmed: 5; not testable here: 9")
    assert "confirmed here:\n  - IMG2IMU beats the sensor-pretrained limu_bert" in summary


def test_paper_claims_without_the_curve_or_a_phone_dataset():
    results, table1, choice, _ = hand_built_chapter()
    claims = C.paper_claims(results, table1, {"watch": choice["hapt"]}, {}, ablation_data="hapt", curve_shots=[1, 10],
                            profile="cpu")
    assert len(claims) == 18  # the claim on Fig. 7 needs both curves
    nfft = next(c for c in claims if c["claim"].startswith("nfft 128"))
    assert nfft == {"claim": "nfft 128 beats nfft 32 on phone activity recognition", "verdict": "not testable here",
                    "evidence": "not testable here: no phone dataset, or the profile does not search both settings"}
