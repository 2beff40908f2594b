"""Reading the learning curve: does pre-training beat its matched control, and from which step?

A snapshot is compared with its family's control (the same initial weights, BatchNorm re-estimated on
pre-training images, no gradient step) on the validation subjects only, paired over every (dataset, seed):
the mean difference of validation macro-F1 with its 95 % bootstrap interval
(``evaluation.claims.paired``). A run *beats its control* at a step when that interval lies above zero.
Test scores take no part, so the verdict can decide which claims are testable before any claim is read.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..evaluation.claims import Paired, paired
from .tables import shown


def validation_pairs(records: Mapping[str, dict]) -> dict[tuple, float]:
    """{(dataset, seed): validation macro-F1 of the chosen probe} of one backbone's records by dataset."""
    return {(name, r["seed"]): r["validation_f1"] for name, record in records.items() for r in record["per_seed"]}


def against_control(curve: Mapping[str, dict], family: str, method: str) -> dict[int, Paired]:
    """Step -> the paired comparison of ``method``'s snapshot with the family's control, on validation."""
    found = curve[family]
    control = validation_pairs(found["control"])
    return {step: paired(validation_pairs(found["runs"][method][step]), control) for step in found["steps"]}


def first_step_beating_control(curve: Mapping[str, dict], family: str, method: str) -> int | None:
    """The first snapshot step whose validation lead over the control has a 95 % interval above zero; None if none."""
    for step, result in against_control(curve, family, method).items():
        if step > 0 and result.ci_low > 0:
            return step
    return None


def curve_rows(curve: Mapping[str, dict]) -> list[dict[str, str]]:
    """One row per (family, method, step): mean validation macro-F1 over every (dataset, seed), the control's, and
    the paired lead over the control with its 95 % bootstrap interval."""
    rows = []
    for family, found in curve.items():
        control = validation_pairs(found["control"])
        for method in found["runs"]:
            for step, result in against_control(curve, family, method).items():
                ours = validation_pairs(found["runs"][method][step])
                rows.append({"family": family, "method": method, "step": str(step),
                             "validation F1": shown(float(np.mean(list(ours.values())))),
                             "control": shown(float(np.mean(list(control.values())))),
                             "lead over control": f"{result.mean_difference:+.3f}",
                             "95 % interval": f"[{result.ci_low:+.3f}, {result.ci_high:+.3f}]",
                             "beats control": "yes" if result.ci_low > 0 and step > 0 else "no"})
    return rows


def curve_verdict(curve: Mapping[str, dict], family: str) -> str:
    """One sentence per method of ``family``: from which step it beats its control on validation, or that it never
    does within the curve's steps."""
    last = curve[family]["steps"][-1]
    sentences = []
    for method in curve[family]["runs"]:
        step = first_step_beating_control(curve, family, method)
        sentences.append(f"{method} beats the control from step {step}" if step is not None else
                         f"{method} never beats the control within {last} steps")
    return "; ".join(sentences)
