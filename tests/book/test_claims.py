"""The claims tables from hand-built records: which claims are tested, on which rows, with what numbers and
verdict.

With n paired differences that are all positive and distinct, the one-sided Wilcoxon signed-rank p is its
smallest, 1/2^n: 1/32 = 0.031 for five seeds on one dataset, 1/1024 for five seeds on two. With differences
(+0.05, +0.10, +0.15, -0.20, -0.25) the positive ranks sum to 1 + 2 + 3 = 6, and 22 of the 32 equally likely
sign patterns reach 6 or more, so p = 22/32 = 0.6875. Holm over the three primary claims multiplies the
smallest p by 3, the next by 2 (kept monotone), the largest by 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from img2imu_lib.book import claims as C
from img2imu_lib.book.paper import ABLATIONS, PROTECTS, markdown_table
from img2imu_lib.evaluation.claims import from_differences

from .fake_records import record

OURS, DEFAULT = "img2imu_mobilenet", "moco_default_mobilenet"
BASE = [0.60, 0.62, 0.64, 0.66, 0.68]  # IMG2IMU's F1 on seeds 0 to 4 (hapt)
F1 = {"hapt": BASE, "watch": [0.70, 0.71, 0.72, 0.73, 0.74]}
GAP = {"hapt": [0.01, 0.02, 0.03, 0.04, 0.05], "watch": [0.06, 0.07, 0.08, 0.09, 0.10]}  # ten distinct gaps
SHIFT = {"limu_bert": 0.032, "simclr_har": 0.022, "multitask_har": 0.012, "cpc_har": 0.002}  # cpc_har is closest
UP = [0.05, 0.10, 0.15, 0.20, 0.25]  # IMG2IMU minus the other, every seed positive and distinct
MIXED = [0.05, 0.10, 0.15, -0.20, -0.25]
# Table I: on its matching perturbation the model without an augmentation keeps LOW[d]; the others keep 0.72
LOW = {"hapt": [0.40, 0.38, 0.36, 0.34, 0.32], "watch": [0.30, 0.28, 0.26, 0.24, 0.22]}


def shifted(base, by):
    return [f - d for f, d in zip(base, by)]


def primary_chapter(datasets=("hapt", "watch")):
    """IMG2IMU beats every sensor baseline on every pair (by GAP + SHIFT), MoCo-default on three seeds of five
    (hapt only), and each Table I ablation loses the most on its matching perturbation."""
    results = {OURS: {d: record(d, F1[d]) for d in datasets},
               DEFAULT: {"hapt": record("hapt", shifted(BASE, MIXED))}}
    for b, shift in SHIFT.items():
        results[b] = {d: record(d, shifted(F1[d], [g + shift for g in GAP[d]])) for d in datasets}
    table1 = {}
    for d in datasets:
        rows = {"all four": record(d, [0.8] * 5, perturbed={p: [0.72] * 5 for p in PROTECTS.values()})}
        for a in ABLATIONS:
            rows[f"without {a}"] = record(d, [0.8] * 5, perturbed={p: LOW[d] if p == PROTECTS[a] else [0.72] * 5
                                                                   for p in PROTECTS.values()})
        table1[d] = rows
    return results, table1


def by_id(rows):
    return {r["id"]: r for r in rows}


def test_declared_before_the_numbers():
    declared = C.declared_claims(ours=OURS, default=DEFAULT)
    assert [c["id"] for c in declared] == ["C1", "C2", "C5"] == [c["id"] for c in C.PRIMARY]
    assert declared[0]["rows"] == f"{OURS} vs each of limu_bert, simclr_har, multitask_har, cpc_har"
    assert declared[1]["rows"] == f"{OURS} vs {DEFAULT}" and "ONE claim" in declared[2]["test"]
    assert "{ours}" in C.PRIMARY[1]["rows"] and "Holm-Bonferroni" in C.PROTOCOL and "C1, C2, C5" in C.PROTOCOL
    assert markdown_table(declared).startswith("| id | claim | test | rows |")


def test_relative_change_drop_and_curve_lead():
    r = record("hapt", [0.5, 0.8], perturbed={"noised": [0.25, 0.8]})
    assert C.relative_change(r, "hapt", "noised") == {("hapt", 0): -0.5, ("hapt", 1): 0.0}
    table1 = {"hapt": {"all four": r}, "watch": {"all four": record("watch", [0.4], perturbed={"noised": [0.3]})},
              "goat": {}}
    assert C.relative_drop(table1, "all four", "noised") == {("hapt", 0): 0.5, ("hapt", 1): 0.0,
                                                             ("watch", 0): pytest.approx(0.25)}
    with pytest.raises(ValueError, match="not tested on 'masked'"):
        C.relative_drop(table1, "all four", "masked")
    curve = {"img2imu": {"hapt": [record("hapt", [0.5, 0.6]), record("hapt", [0.9, 0.9])]},
             "limu_bert": {"hapt": [record("hapt", [0.25, 0.5], seeds=[0, 2]), record("hapt", [0.5, 0.5])]}}
    assert C.curve_lead(curve, "img2imu", "limu_bert", 0) == {("hapt", 0): 0.25}  # seed 0 only is shared
    assert C.curve_lead(curve, "img2imu", "limu_bert", 1) == {("hapt", 0): pytest.approx(0.4),
                                                              ("hapt", 1): pytest.approx(0.4)}


def test_best_sensor_baseline_is_chosen_on_validation(rng):
    results = {"limu_bert": {"a": record("a", [0.3], validation=[0.9]), "b": record("b", [0.3], validation=[0.7])},
               "cpc_har": {"a": record("a", [0.95], validation=[0.75])}, "simclr_har": {},
               "img2imu": {"a": record("a", [0.99], validation=[0.99])}}  # not a sensor baseline
    assert C.best_sensor_baseline(results) == "limu_bert"  # validation 0.8 against 0.75; by test it is cpc_har
    for _ in range(20):  # no test score changes the choice
        for row in results.values():
            for r in row.values():
                for s in r["per_seed"]:
                    s["test_f1"]["original"] = float(rng.uniform())
        assert C.best_sensor_baseline(results) == "limu_bert"
    results["cpc_har"]["a"]["per_seed"][0]["validation_f1"] = 0.85  # a validation score does
    assert C.best_sensor_baseline(results) == "cpc_har"
    assert C.best_sensor_baseline({"img2imu": {"a": record("a", [0.9])}}) is None
    del results["cpc_har"]["a"]["per_seed"][0]["validation_f1"]
    with pytest.raises(ValueError, match="no validation_f1"):
        C.best_sensor_baseline(results)


def test_primary_claims_by_hand():
    results, table1 = primary_chapter()
    rows = by_id(C.primary_claims(results, table1, ours=OURS, default=DEFAULT))
    assert list(rows) == ["C1", "C2", "C5"]
    c1, c2, c5 = rows["C1"], rows["C2"], rows["C5"]
    # C1: every baseline loses on all ten pairs (p = 1/1024 each); cpc_har, with the smallest mean, binds
    built = [f - b for d in ("hapt", "watch") for f, b in zip(F1[d], shifted(F1[d], [g + 0.002 for g in GAP[d]]))]
    assert built == pytest.approx([g + 0.002 for d in ("hapt", "watch") for g in GAP[d]], abs=1e-12)
    cpc = from_differences(built)  # on the same floats: BCa counts the resample means below the mean
    assert cpc.mean_difference == pytest.approx(0.057) and cpc.p_value == pytest.approx(1 / 1024)
    assert c1["rows compared"].endswith(f"; binding: {OURS} vs cpc_har")
    assert (c1["pairs (wins)"], c1["mean difference"], c1["p"]) == ("10 (10)", "+0.057", "< 0.001")
    assert c1["95% CI"] == f"[{cpc.ci_low:+.3f}, {cpc.ci_high:+.3f}]" and c1["d_z"] == f"{cpc.effect_size:+.2f}"
    assert c1["note"] == "4 of 4 comparisons in the claimed direction"
    # C2: MIXED on hapt only, p = 22/32
    assert (c2["pairs (wins)"], c2["mean difference"], c2["p"]) == ("5 (3)", "-0.030", "0.688")
    # Holm over (1/1024, 22/32, 1/1024): 3/1024 = 0.0029 twice, 22/32 unchanged
    assert (c1["Holm p"], c2["Holm p"], c5["Holm p"]) == ("0.003", "0.688", "0.003")
    assert c1["verdict"] == c5["verdict"] == "confirmed" + C.CONDITIONAL
    assert c2["verdict"] == "not confirmed (conditional on one pre-training seed)"
    assert C.claims_summary(list(rows.values())).startswith(
        "3 claims: confirmed: 2; not confirmed: 1; not testable here: 0; not testable at this budget: 0")


def test_c5_is_the_largest_drop_against_every_other_ablation():
    """Without its augmentation a model keeps LOW of 0.8 on the matching perturbation (drops 0.5 to 0.725), the
    others keep 0.72 (drop 0.1): each of the 12 gaps is drop - 0.1, mean (0.6125 - 0.1) = 0.5125."""
    results, table1 = primary_chapter()
    gaps = [(0.8 - f) / 0.8 - 0.1 for d in ("hapt", "watch") for f in LOW[d]]
    without, other = (C.relative_drop(table1, f"without {a}", "noised") for a in ("jitter", "hue"))
    built = [without[k] - other[k] for k in sorted(without)]
    assert built == pytest.approx(gaps, abs=1e-12)
    expected = from_differences(built)  # the interval of these floats (BCa counts resample means below the mean)
    assert expected.mean_difference == pytest.approx(0.5125) and expected.p_value == pytest.approx(1 / 1024)
    c5 = by_id(C.primary_claims(results, table1, ours=OURS, default=DEFAULT))["C5"]
    assert (c5["pairs (wins)"], c5["mean difference"]) == ("10 (10)", f"{expected.mean_difference:+.3f}")
    assert c5["95% CI"] == f"[{expected.ci_low:+.3f}, {expected.ci_high:+.3f}]"
    assert c5["note"] == "12 of 12 comparisons in the claimed direction"
    # without hue, noise costs more than without jitter: that one comparison of twelve fails, and binds
    for d in table1:
        for s in table1[d]["without hue"]["per_seed"]:
            s["test_f1"]["noised"] = 0.2
    c5 = by_id(C.primary_claims(results, table1, ours=OURS, default=DEFAULT))["C5"]
    assert c5["rows compared"].endswith("; binding: without jitter vs without hue on noised")
    assert (c5["p"], c5["Holm p"], c5["verdict"]) == ("1.000", "1.000", "not confirmed" + C.CONDITIONAL)
    assert c5["note"] == "11 of 12 comparisons in the claimed direction"


def test_holm_keeps_one_dataset_from_confirming():
    """On hapt alone C1 and C5 reach p = 1/32 < 0.05, but Holm makes it 3/32 = 0.094: not confirmed."""
    results, table1 = primary_chapter(datasets=("hapt",))
    rows = by_id(C.primary_claims(results, table1, ours=OURS, default=DEFAULT, pretraining_seeds=3))
    assert (rows["C1"]["p"], rows["C1"]["Holm p"], rows["C5"]["p"], rows["C5"]["Holm p"]) == (
        "0.031", "0.094", "0.031", "0.094")
    assert rows["C1"]["verdict"] == rows["C5"]["verdict"] == "not confirmed"  # three seeds: no condition


def test_not_testable_at_this_budget_and_here():
    results, table1 = primary_chapter()
    why = "the from-scratch ResNet18 never beat its BatchNorm-matched control on the learning curve"
    rows = by_id(C.primary_claims(results, table1, ours=OURS, default=DEFAULT, untestable={"C5": why}))
    assert rows["C5"]["verdict"] == "not testable at this budget" and rows["C5"]["Holm p"] == "—"
    assert rows["C5"]["note"] == why + "; the numbers are descriptive only, outside the Holm test"
    # C5 still counts as p = 1 in the family: C1's Holm p is 3/1024 (0.003), not 2/1024 (0.002)
    assert rows["C1"]["Holm p"] == "0.003" and rows["C1"]["verdict"] == "confirmed" + C.CONDITIONAL
    del results["limu_bert"]
    rows = by_id(C.primary_claims(results, {}, ours=OURS, default="moco_default", pretraining_seeds=2))
    assert rows["C1"] == {"id": "C1", "claim": C.PRIMARY[0]["claim"], "rows compared": C.declared_claims(
        ours=OURS, default="")[0]["rows"], "pairs (wins)": "—", "mean difference": "—", "95% CI": "—", "d_z": "—",
        "p": "—", "Holm p": "—", "verdict": "not testable here", "note": "no runs of limu_bert on this machine"}
    assert rows["C2"]["note"] == f"no runs of {OURS} or of moco_default on this machine"
    assert rows["C5"]["note"].startswith("Table I has no runs of without translate_x")
    assert {r["verdict"] for r in rows.values()} == {"not testable here"}
    with pytest.raises(ValueError, match=r"untestable claims \['C9'\]"):
        C.primary_claims(results, table1, ours=OURS, default=DEFAULT, untestable={"C9": "?"})
    with pytest.raises(ValueError, match="pretraining_seeds=0"):
        C.primary_claims(results, table1, ours=OURS, default=DEFAULT, pretraining_seeds=0)


def secondary_chapter():
    """Five seeds on HAPT: IMG2IMU beats LIMU-BERT on every seed, SimCLR-HAR beats IMG2IMU, the rest as noted."""
    results = {row: {} for row in ("fully_supervised_1d", "random_init_1d", "limu_bert", "simclr_har", "multitask_har",
                                   "cpc_har", "fully_supervised_2d", "random_init_2d", "imagenet_supervised",
                                   "supervised_sample", "simsiam", "moco_default", "moco_all_aug", "img2imu")}
    results["img2imu"]["hapt"] = record("hapt", BASE)
    # LIMU-BERT: test mean 0.49 but validation 0.95, so it is the best baseline; SimCLR-HAR's test mean is 0.79
    results["limu_bert"]["hapt"] = record("hapt", shifted(BASE, UP), validation=[0.95] * 5)
    results["simclr_har"]["hapt"] = record("hapt", shifted(BASE, [-u for u in UP]))
    results["moco_default"]["hapt"] = record("hapt", shifted(BASE, MIXED))
    results["fully_supervised_1d"]["hapt"] = record("hapt", [0.99] * 5)  # beats limu_bert on every seed
    clean = [0.8] * 5
    rows = {"all four": record("hapt", clean, perturbed={"noised": [0.7, 0.69, 0.68, 0.67, 0.66], "masked": [0.4] * 5})}
    for a in ABLATIONS:  # without jitter, noise costs more (0.5 of 0.8); nothing else changes
        rows[f"without {a}"] = record("hapt", clean, perturbed={"noised": [0.4] * 5 if a == "jitter" else
                                                                [0.7, 0.69, 0.68, 0.67, 0.66], "masked": [0.4] * 5})
    for p in ("time_shifted", "rotated"):
        for r in rows.values():
            for s in r["per_seed"]:
                s["test_f1"][p] = 0.8
    choice = {"hapt": {"records": {(32, 24): record("hapt", shifted(BASE, UP)), (128, 120): record("hapt", BASE)}}}
    curve = {"img2imu": {"hapt": [record("hapt", BASE), record("hapt", BASE)]},
             "limu_bert": {"hapt": [record("hapt", shifted(BASE, UP)), record("hapt", BASE)]}}
    return results, {"hapt": rows}, choice, curve


def secondary(results, table1, choice, curve, images="offline", supervised_images="imagenet-sample"):
    return C.secondary_claims(results, table1, choice, curve, curve_shots=[1, 10], profile="cpu", images=images,
                              supervised_images=supervised_images)


def test_secondary_claims_by_hand():
    rows = secondary(*secondary_chapter())
    assert len(rows) == 19 and [r["id"] for r in rows] == [f"S{k}" for k in range(1, 20)]
    assert all("Holm p" not in r for r in rows)
    by_claim = {r["claim"]: r for r in rows}
    limu = by_claim["IMG2IMU beats the sensor-pretrained limu_bert"]
    expected = from_differences(UP)
    assert limu["verdict"] == "confirmed (exploratory)" and limu["rows compared"] == "img2imu vs limu_bert"
    assert (limu["pairs (wins)"], limu["mean difference"], limu["p"]) == ("5 (5)", "+0.150", "0.031")
    assert limu["95% CI"] == f"[{expected.ci_low:+.3f}, {expected.ci_high:+.3f}]"
    assert limu["d_z"] == f"{expected.effect_size:+.2f}" == "+1.90"  # 0.15 / 0.0791
    assert by_claim["IMG2IMU beats the sensor-pretrained simclr_har"]["verdict"] == "not confirmed (exploratory)"
    cpc = by_claim["IMG2IMU beats the sensor-pretrained cpc_har"]
    assert (cpc["verdict"], cpc["note"]) == ("not testable here", "no runs of cpc_har on this machine")
    assert by_claim["IMG2IMU beats ImageNet-supervised pre-training"]["note"] == (
        "torchvision's ImageNet weights are not in this machine's cache")
    jitter = by_claim["jitter protects against noised data: the model without it loses more F1"]
    assert jitter["verdict"] == "confirmed (exploratory)" and jitter["pairs (wins)"] == "5 (5)"
    permute = by_claim["permute_x protects against masked data: the model without it loses more F1"]
    assert permute["verdict"] == "not confirmed (exploratory)" and permute["p"] == "1.000"  # no difference
    assert permute["note"] == "the interval is the point: every paired difference is equal"
    nfft = by_claim["nfft 128 beats nfft 32 on phone activity recognition (hapt)"]
    assert nfft["verdict"] == "confirmed (exploratory)" and nfft["note"].endswith("so nfft 128 zero-pads them")
    # the best baseline is limu_bert by validation (by test it would be simclr_har); its lead is UP at k = 1, 0 at 10
    lead = next(r for r in rows if r["claim"].startswith("IMG2IMU's F1 minus the best sensor baseline's"))
    assert "(limu_bert, chosen on validation)" in lead["claim"] and "k = 1 than with k = 10" in lead["claim"]
    assert lead["verdict"] == "confirmed (exploratory)"
    bound = by_claim["The fully supervised 1D model beats the best sensor baseline's ten shots"]
    assert bound["rows compared"] == "fully_supervised_1d vs limu_bert" and bound["verdict"] == "confirmed (exploratory)"
    assert by_claim["The fully supervised 2D model beats IMG2IMU's ten shots"]["note"] == (
        "the cpu profile does not train the 2D bound")
    summary = C.claims_summary(rows)
    assert summary.startswith("19 claims: confirmed: 5; not confirmed: 5; not testable here: 9; "
                              "not testable at this budget: 0")
    assert "confirmed here:\n  - S1: IMG2IMU beats the sensor-pretrained limu_bert" in summary


def test_the_supervised_stand_in_says_which_corpus():
    chapter = secondary_chapter()
    different = [r["claim"] for r in secondary(*chapter) if "supervised_sample" in r["rows compared"]]
    assert different == ["IMG2IMU (pre-trained on offline) beats our supervised stand-in, trained with labels on a "
                         "different corpus (imagenet-sample): the corpus changes with the method"]
    same = [r["claim"] for r in secondary(*chapter, supervised_images="offline") if "supervised_sample" in
            r["rows compared"]]
    assert same == ["IMG2IMU beats supervised pre-training on the same images (offline)"]


def test_secondary_claims_without_the_curve_or_a_phone_dataset():
    results, table1, choice, _ = secondary_chapter()
    rows = secondary(results, table1, {"watch": choice["hapt"]}, {})
    assert len(rows) == 18  # the claim on Fig. 7 needs both curves
    nfft = next(r for r in rows if r["claim"].startswith("nfft 128"))
    assert (nfft["claim"], nfft["verdict"], nfft["p"]) == (
        "nfft 128 beats nfft 32 on phone activity recognition", "not testable here", "—")
    assert nfft["note"] == "no phone dataset, or the profile does not search both settings"
    assert np.all([r["verdict"] == "not testable here" for r in secondary(results, {}, choice, {})
                   if r["rows compared"].startswith("all four")])
