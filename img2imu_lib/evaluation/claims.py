"""Paired comparisons of two methods over the same seeds (and datasets), and the verdict they support.

Every method is scored on the same subject split and the same shots for a seed, so the fair
comparison is paired: the difference of the two F1 scores on each (dataset, seed) pair. A
claim "A beats B" is *confirmed* when the mean difference is positive and a one-sided
Wilcoxon signed-rank test (scipy) over the pairs gives p < ``ALPHA``; *not confirmed*
otherwise (the evidence then says whether the direction agrees). With five pairs the smallest
one-sided p the test can give is 1/32 = 0.031, so five seeds on one dataset can confirm a
claim only when A wins on every seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import wilcoxon

ALPHA = 0.05


@dataclass(frozen=True)
class Paired:
    n: int  # pairs compared
    mean_difference: float  # mean of a - b over the pairs
    wins: int  # pairs where a > b
    p_value: float  # one-sided Wilcoxon signed-rank, H1: a > b (1.0 when every difference is zero)

    @property
    def confirmed(self) -> bool:
        return self.mean_difference > 0 and self.p_value < ALPHA

    def verdict(self) -> str:
        return "confirmed" if self.confirmed else "not confirmed"

    def evidence(self) -> str:
        direction = "same direction" if self.mean_difference > 0 else "opposite direction"
        return (f"{self.mean_difference:+.3f} F1 on average, better on {self.wins} of {self.n} paired "
                f"(dataset, seed) runs; Wilcoxon p = {self.p_value:.3f} ({direction})")


def paired(a: Mapping[tuple, float], b: Mapping[tuple, float]) -> Paired:
    """Compare scores keyed by (dataset, seed) on the keys both have; a ValueError if they share none."""
    keys = sorted(set(a) & set(b))
    if not keys:
        raise ValueError("the two methods share no (dataset, seed) runs to compare")
    return from_differences([a[k] - b[k] for k in keys])


def from_differences(differences: Sequence[float] | np.ndarray, *, zero_method: str = "zsplit") -> Paired:
    """The one-sided test of differences already taken, (n,) of a - b per pair (or value - reference, the
    one-sample test): H1 they lie above zero. ``zero_method`` is scipy's treatment of zero differences
    (``"zsplit"`` for F1 pairs, where ties are common; the Grad-CAM chapter uses scipy's default ``"wilcox"``)."""
    diff = np.asarray(differences, dtype=float)
    if diff.ndim != 1 or not len(diff):
        raise ValueError(f"differences of shape {diff.shape}: expected a non-empty 1D array")
    if np.all(diff == 0):
        p = 1.0
    else:
        p = float(wilcoxon(diff, alternative="greater", zero_method=zero_method).pvalue)
    return Paired(len(diff), float(diff.mean()), int((diff > 0).sum()), p)


def by_pair(records: list[dict], test: str = "original") -> dict[tuple, float]:
    """{(dataset, seed): test macro-F1} of one method's records (one record per dataset)."""
    return {(r["dataset"], s["seed"]): s["test_f1"][test] for r in records for s in r["per_seed"]}
