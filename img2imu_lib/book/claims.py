"""The paper's claims, each checked against the evaluation chapter's records by a paired comparison.

Every claim is "A beats B" over the (dataset, seed) runs both have, tested by
``evaluation.claims.paired`` (a one-sided Wilcoxon signed-rank test): its verdict is "confirmed",
"not confirmed", or "not testable here" when either side has no runs on this machine. The claims come
from Sections V-A (Table II), V-B (Fig. 7), VI-A (Table I) and VI-C (the FFT length).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..evaluation.claims import by_pair, paired
from ..pretraining.methods import METHODS, SENSOR_METHODS
from .paper import PROTECTS, SENSOR_ROWS, summary

VERDICTS = ("confirmed", "not confirmed", "not testable here")
# the sensor-pretrained rows, in Table II's order: the method table's sensor methods
SENSOR_BASELINES = tuple(row for row in SENSOR_ROWS if row in {METHODS[m].row for m in SENSOR_METHODS})

Scores = Mapping[tuple, float]  # {(dataset, seed): value}
Records = Mapping[str, Mapping[str, dict]]  # {Table II row: {dataset: record}}


def check(claim: str, a: Scores, b: Scores, note: str = "", missing: str = "") -> dict[str, str]:
    """The claims table's row for "``a`` beats ``b``": the claim, the evidence and the verdict; "not testable
    here" (``missing`` says why) when either side has no runs. ``note`` is added to the evidence."""
    if not a or not b:
        return {"claim": claim, "evidence": "not testable here: " + missing, "verdict": "not testable here"}
    result = paired(a, b)
    return {"claim": claim, "evidence": result.evidence() + (f"; {note}" if note else ""), "verdict": result.verdict()}


def scores(results: Records, row: str | None, test: str = "original") -> dict[tuple, float]:
    """{(dataset, seed): test macro-F1 on ``test``} of one Table II row (empty when it was not run)."""
    return by_pair(list(results.get(row, {}).values()), test)


def relative_change(record: dict, dataset: str, perturbation: str) -> dict[tuple, float]:
    """{(dataset, seed): (F1 on ``perturbation`` - F1 on the original windows) / F1 on the original} of one record."""
    return {(dataset, r["seed"]): (r["test_f1"][perturbation] - r["test_f1"]["original"]) / r["test_f1"]["original"]
            for r in record["per_seed"]}


def best_sensor_baseline(results: Records) -> str | None:
    """The sensor-pretrained row with the highest mean test macro-F1 over its datasets (None if none ran)."""
    ran = [r for r in SENSOR_BASELINES if results.get(r)]
    return max(ran, key=lambda r: np.mean([summary(x)[0] for x in results[r].values()])) if ran else None


def curve_lead(curve: Records, a: str, b: str, index: int) -> dict[tuple, float]:
    """{(dataset, seed): F1 of ``a`` - F1 of ``b``} at the ``index``-th shot count of Fig. 7's records."""
    ours = by_pair([records[index] for records in curve[a].values()])
    theirs = by_pair([records[index] for records in curve[b].values()])
    return {key: ours[key] - theirs[key] for key in ours if key in theirs}


def _table2_claims(results: Records) -> list[dict[str, str]]:
    claims = [check(f"IMG2IMU beats the sensor-pretrained {b}", scores(results, "img2imu"), scores(results, b))
              for b in SENSOR_BASELINES]
    ours = scores(results, "img2imu")
    claims.append(check("Sensor-aware augmentations beat MoCo's default ones", ours, scores(results, "moco_default")))
    claims.append(check("Adding every augmentation does not beat the sensor-aware four", ours,
                        scores(results, "moco_all_aug")))
    claims.append(check("IMG2IMU beats SimSiam", ours, scores(results, "simsiam")))
    claims.append(check("IMG2IMU beats ImageNet-supervised pre-training", ours, scores(results, "imagenet_supervised"),
                        missing="torchvision's ImageNet weights are not in this machine's cache"))
    claims.append(check("IMG2IMU beats supervised pre-training on the same images (our stand-in)", ours,
                        scores(results, "supervised_sample"), missing="no labelled image sample on this machine"))
    claims.append(check("A random 1D CNN beats a random 2D ResNet18", scores(results, "random_init_1d"),
                        scores(results, "random_init_2d")))
    claims.append(check("IMG2IMU's pre-training lifts the 2D model above its random initialisation", ours,
                        scores(results, "random_init_2d")))
    return claims


def _table1_claims(table1: Mapping[str, dict], dataset: str) -> list[dict[str, str]]:
    return [check(f"{augmentation} protects against {perturbation.replace('_', ' ')} data: the model without it "
                  f"loses more F1 ({dataset})", relative_change(table1["all four"], dataset, perturbation),
                  relative_change(table1[f"without {augmentation}"], dataset, perturbation))
            for augmentation, perturbation in PROTECTS.items()]


def _nfft_claim(choice: Mapping[str, dict]) -> dict[str, str]:
    phone = "wisdm" if "wisdm" in choice else ("hapt" if "hapt" in choice else None)
    nfft_records = {s[0]: r for s, r in choice[phone]["records"].items()} if phone else {}
    if 128 not in nfft_records or 32 not in nfft_records:
        return check("nfft 128 beats nfft 32 on phone activity recognition", {}, {},
                     missing="no phone dataset, or the profile does not search both settings")
    return check(f"nfft 128 beats nfft 32 on phone activity recognition ({phone})", by_pair([nfft_records[128]]),
                 by_pair([nfft_records[32]]),
                 "HAPT's 2 s windows have 100 samples, so nfft 128 zero-pads them" if phone == "hapt" else "")


def paper_claims(results: Records, table1: Mapping[str, dict], choice: Mapping[str, dict], curve: Records, *,
                 ablation_data: str, curve_shots: Sequence[int], profile: str) -> list[dict[str, str]]:
    """The claims table: {claim, evidence, verdict} per claim of the paper, from Table II's ``results``, Table I's
    records (``TABLE1_ROWS`` label -> record, on ``ablation_data``), the spectrogram search ``choice`` by dataset
    and Fig. 7's ``curve`` (records per k of ``curve_shots``). The claim on Fig. 7 is left out when the curve of
    IMG2IMU or of the best sensor baseline is missing or has one k only."""
    claims = _table2_claims(results) + _table1_claims(table1, ablation_data) + [_nfft_claim(choice)]
    best = best_sensor_baseline(results)
    if curve.get("img2imu") and best and curve.get(best) and len(curve_shots) > 1:
        few, many = 0, len(curve_shots) - 1
        claims.append(check(f"IMG2IMU's F1 minus the best sensor baseline's ({best}) is higher with k = "
                            f"{curve_shots[few]} than with k = {curve_shots[many]} (its advantage is largest "
                            f"when labels are scarcest)", curve_lead(curve, "img2imu", best, few),
                            curve_lead(curve, "img2imu", best, many)))
    claims.append(check("The fully supervised 1D model beats the best sensor baseline's ten shots",
                        scores(results, "fully_supervised_1d"), scores(results, best) if best else {},
                        missing="the fully supervised 1D bound or the sensor baselines were not run"))
    claims.append(check("The fully supervised 2D model beats IMG2IMU's ten shots", scores(results, "fully_supervised_2d"),
                        scores(results, "img2imu"), missing=f"the {profile} profile does not train the 2D bound"))
    return claims


def claims_summary(claims: Sequence[dict[str, str]]) -> str:
    """How many claims got each verdict, then the confirmed and the not confirmed ones by name (plain text)."""
    verdicts = [c["verdict"] for c in claims]
    text = f"{len(claims)} claims: " + "; ".join(f"{v}: {verdicts.count(v)}" for v in VERDICTS)
    for verdict in VERDICTS[:2]:
        text += f"\n\n{verdict} here:\n" + "\n".join(f"  - {c['claim']}" for c in claims if c["verdict"] == verdict)
    return text
