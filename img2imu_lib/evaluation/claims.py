"""Paired comparisons of two methods over the same seeds (and datasets), their interval and effect size, and
the corrections a family of claims needs.

Every method is scored on the same subject split and the same shots for a seed, so the fair comparison is
paired: the difference of the two F1 scores on each (dataset, seed) pair. ``from_differences`` reports, for
differences d_1..d_n of a - b:

- the one-sided Wilcoxon signed-rank p of H1 "a > b" (scipy). With five pairs its smallest p is
  1/32 = 0.031, so five seeds on one dataset can reach p < 0.05 only when a wins on every seed;
- a 95 % bootstrap confidence interval of the mean difference (scipy's BCa, ``BOOTSTRAP_RESAMPLES``
  resamples drawn from a generator seeded with ``BOOTSTRAP_SEED``, so a rebuilt book shows the same
  interval). BCa needs spread and a jackknife: where every difference is equal the interval is the point
  itself (every resample has that mean); with two distinct pairs it is the percentile interval; and if
  BCa still comes out undefined, the percentile interval again;
- Cohen's d_z = mean / sd (sd with ddof = 1): with sd = 0 it is +inf or -inf by the mean's sign and NaN
  when the mean is 0 as well; NaN with one pair.

A family of claims is corrected with ``holm`` (Holm-Bonferroni); a claim "a beats every one of b_1..b_m" is
the intersection-union test of ``all_of``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import bootstrap, wilcoxon

ALPHA = 0.05
CONFIDENCE = 0.95  # of the bootstrap interval
BOOTSTRAP_RESAMPLES = 9999  # scipy's default
BOOTSTRAP_SEED = 0  # seeds the resampling, so the book's intervals are reproducible


@dataclass(frozen=True)
class Paired:
    n: int  # pairs compared
    mean_difference: float  # mean of a - b over the pairs
    wins: int  # pairs where a > b
    p_value: float  # one-sided Wilcoxon signed-rank, H1: a > b (1.0 when every difference is zero)
    ci_low: float  # 95 % bootstrap confidence interval of the mean difference: lower end
    ci_high: float  # ... and upper end
    ci_method: str  # how the interval was taken: "BCa", "percentile" or "point" (see the module's docstring)
    effect_size: float  # Cohen's d_z = mean / sd of the differences (ddof = 1); +-inf when sd = 0, NaN for 0/0

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


def mean_interval(differences: np.ndarray, *, n_resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float, str]:
    """(low, high, method) of the ``CONFIDENCE`` bootstrap interval of the mean of ``differences`` (n,), by the
    rule of the module's docstring: BCa; the point where all are equal; percentile with n < 3 or BCa undefined."""
    if np.ptp(differences) == 0:
        return float(differences[0]), float(differences[0]), "point"
    for method in (("BCa",) if len(differences) >= 3 else ()) + ("percentile",):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns of degenerate data and returns NaN: caught below
            interval = bootstrap((differences,), np.mean, n_resamples=n_resamples, confidence_level=CONFIDENCE,
                                 method=method, rng=np.random.default_rng(BOOTSTRAP_SEED)).confidence_interval
        if np.isfinite(interval.low) and np.isfinite(interval.high):
            return float(interval.low), float(interval.high), method
    raise ValueError(f"no bootstrap interval for differences {differences.tolist()}")


def effect_size(differences: np.ndarray) -> float:
    """Cohen's d_z of ``differences`` (n,): mean / sd (ddof = 1); +-inf when sd = 0 and the mean is not, NaN for
    0 / 0 and for a single difference (no sd)."""
    if len(differences) < 2:
        return float("nan")
    mean, sd = float(differences.mean()), float(differences.std(ddof=1))
    if sd == 0:
        return float("nan") if mean == 0 else float(np.copysign(np.inf, mean))
    return mean / sd


def from_differences(differences: Sequence[float] | np.ndarray, *, zero_method: str = "zsplit",
                     n_resamples: int = BOOTSTRAP_RESAMPLES) -> Paired:
    """The one-sided test of differences already taken, (n,) of a - b per pair (or value - reference, the
    one-sample test): H1 they lie above zero, with the interval and d_z of the module's docstring.
    ``zero_method`` is scipy's treatment of zero differences (``"zsplit"`` for F1 pairs, where ties are
    common; the Grad-CAM chapter uses scipy's default ``"wilcox"``)."""
    diff = np.asarray(differences, dtype=float)
    if diff.ndim != 1 or not len(diff):
        raise ValueError(f"differences of shape {diff.shape}: expected a non-empty 1D array")
    if not np.all(np.isfinite(diff)):
        raise ValueError(f"differences {diff.tolist()}: expected finite numbers")
    if np.all(diff == 0):
        p = 1.0
    else:
        p = float(wilcoxon(diff, alternative="greater", zero_method=zero_method).pvalue)
    low, high, method = mean_interval(diff, n_resamples=n_resamples)
    return Paired(len(diff), float(diff.mean()), int((diff > 0).sum()), p, low, high, method, effect_size(diff))


def by_pair(records: list[dict], test: str = "original") -> dict[tuple, float]:
    """{(dataset, seed): test macro-F1} of one method's records (one record per dataset)."""
    return {(r["dataset"], s["seed"]): s["test_f1"][test] for r in records for s in r["per_seed"]}


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values of a family of m tests, in the input order: sorted ascending, the i-th
    smallest (i = 1..m) becomes max over j <= i of (m - j + 1) p_(j), capped at 1 (Holm 1979). Rejecting
    where the adjusted p < alpha controls the family-wise error rate at alpha."""
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values {list(p_values)}: expected a flat sequence of numbers in [0, 1]")
    order = np.argsort(p, kind="stable")
    scaled = (len(p) - np.arange(len(p))) * p[order]  # (m - j + 1) p_(j), j counted from 1
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted.tolist()


@dataclass(frozen=True)
class AllOf:
    """The intersection-union test of "a beats every one of b_1..b_m" (Berger 1982): the claim holds only if
    each comparison holds, so its p-value is the largest of the components' p-values (a level-alpha test with
    no correction, since every component must reject at alpha on its own)."""

    components: tuple[Paired, ...]  # one paired comparison per b_i

    @property
    def p_value(self) -> float:
        return max(c.p_value for c in self.components)

    @property
    def binding(self) -> int:
        """Index of the component whose p is the claim's: the largest p, the smallest mean difference among ties."""
        return max(range(len(self.components)),
                   key=lambda i: (self.components[i].p_value, -self.components[i].mean_difference))

    @property
    def every_direction_agrees(self) -> bool:
        return all(c.mean_difference > 0 for c in self.components)

    @property
    def confirmed(self) -> bool:
        return self.every_direction_agrees and self.p_value < ALPHA


def all_of(components: Sequence[Paired]) -> AllOf:
    """The intersection-union test of ``components`` (see ``AllOf``); a ValueError for none."""
    if not components:
        raise ValueError("an intersection-union test needs at least one comparison")
    return AllOf(tuple(components))
