"""Paired comparisons: scipy's Wilcoxon test and bootstrap interval, Cohen's d_z, Holm's correction and the
intersection-union test, each against a hand-computed answer or a direct scipy (or statsmodels) call.

Tolerances: results that are the same scipy computation are compared at rel=1e-12; hand-computed values at
the default pytest.approx (rel=1e-6)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import DegenerateDataWarning, bootstrap, wilcoxon

from img2imu_lib.evaluation.claims import (BOOTSTRAP_SEED, all_of, by_pair, effect_size, from_differences, holm,
                                           paired)

DIFF = [0.3, -0.1, 0.0, 0.2, 0.4, 0.0, 0.5]


def test_paired_uses_only_shared_runs_and_scipys_test():
    a = {("d", s): 0.6 + 0.01 * s for s in range(6)}
    b = {("d", s): 0.5 + 0.02 * (s % 2) for s in range(5)}  # no seed 5: that run of a is left out
    result = paired(a, b)
    diff = [a[("d", s)] - b[("d", s)] for s in range(5)]
    assert result.n == 5 and result.wins == 5
    assert result.mean_difference == pytest.approx(sum(diff) / 5)
    assert result.p_value == pytest.approx(wilcoxon(diff, alternative="greater").pvalue)
    assert result.verdict() == "confirmed" and "5 of 5" in result.evidence()


def test_a_claim_against_the_evidence_is_not_confirmed():
    a = {("d", s): 0.5 for s in range(5)}
    b = {("d", s): 0.6 for s in range(5)}
    assert paired(a, b).verdict() == "not confirmed" and "opposite direction" in paired(a, b).evidence()
    assert paired(a, a).p_value == 1.0 and paired(a, a).verdict() == "not confirmed"
    mixed = {("d", s): 0.5 + (0.1 if s < 3 else -0.1) for s in range(5)}
    assert paired(mixed, a).verdict() == "not confirmed"  # 3 wins of 5 is not enough
    with pytest.raises(ValueError, match="share no"):
        paired({("d", 0): 1.0}, {("e", 0): 1.0})


def test_by_pair_reads_records():
    records = [{"dataset": "d", "per_seed": [{"seed": 0, "test_f1": {"original": 0.5, "noised": 0.4}}]}]
    assert by_pair(records) == {("d", 0): 0.5} and by_pair(records, "noised") == {("d", 0): 0.4}


def test_from_differences_is_scipys_one_sided_test():
    """The one-sample form: paired() is from_differences of a - b, and the zero treatment is scipy's, as asked."""
    for zero_method in ("zsplit", "wilcox"):
        expected = wilcoxon(DIFF, alternative="greater", zero_method=zero_method).pvalue
        assert from_differences(DIFF, zero_method=zero_method).p_value == pytest.approx(expected, rel=1e-12)
    result = from_differences(DIFF)
    assert (result.n, result.wins) == (7, 4) and result.mean_difference == pytest.approx(1.3 / 7)
    a = {("d", s): 0.5 + d for s, d in enumerate(DIFF)}
    assert paired(a, {("d", s): 0.5 for s in range(7)}) == from_differences([a[("d", s)] - 0.5 for s in range(7)])
    assert from_differences([0.0, 0.0]).p_value == 1.0
    with pytest.raises(ValueError, match="expected a non-empty 1D array"):
        from_differences([])
    with pytest.raises(ValueError, match="expected finite numbers"):
        from_differences([0.1, float("nan")])


def scipy_interval(differences, method):
    return bootstrap((np.asarray(differences),), np.mean, n_resamples=9999, confidence_level=0.95, method=method,
                     rng=np.random.default_rng(BOOTSTRAP_SEED)).confidence_interval


def test_interval_is_scipys_seeded_bca():
    result, expected = from_differences(DIFF), scipy_interval(DIFF, "BCa")
    assert result.ci_method == "BCa"
    assert (result.ci_low, result.ci_high) == pytest.approx((expected.low, expected.high), rel=1e-12)
    assert result.ci_low < result.mean_difference < result.ci_high
    assert from_differences(DIFF) == result  # seeded: the same interval every build


def test_the_seed_fixes_the_interval(rng):
    d = rng.normal(0.1, 0.2, size=12)  # continuous: another resampling moves the interval's ends
    result = from_differences(d)
    other = bootstrap((d,), np.mean, method="BCa", rng=np.random.default_rng(BOOTSTRAP_SEED + 1)).confidence_interval
    assert (result.ci_low, result.ci_high) == pytest.approx(tuple(scipy_interval(d, "BCa")), rel=1e-12)
    assert result.ci_low != pytest.approx(other.low, rel=1e-9)


def test_interval_falls_back_where_bca_is_degenerate():
    constant = [0.25] * 5  # every resample's mean is 0.25: scipy's BCa gives NaN here
    with pytest.warns(DegenerateDataWarning), np.errstate(invalid="ignore"):
        assert np.isnan(scipy_interval(constant, "BCa").low)
    result = from_differences(constant)
    assert (result.ci_low, result.ci_high, result.ci_method) == (0.25, 0.25, "point")
    single = from_differences([0.2])
    assert (single.ci_low, single.ci_high, single.ci_method) == (0.2, 0.2, "point")
    two = from_differences([0.1, 0.3])  # n < 3: BCa's jackknife is not used, the percentile interval is
    expected = scipy_interval([0.1, 0.3], "percentile")
    assert two.ci_method == "percentile"
    assert (two.ci_low, two.ci_high) == pytest.approx((expected.low, expected.high), rel=1e-12)


def test_effect_size_is_cohens_dz():
    assert effect_size(np.array([1.0, 2.0, 3.0])) == pytest.approx(2.0)  # mean 2, sd (ddof 1) 1
    rng = np.random.default_rng(0)
    d = rng.normal(0.1, 0.2, size=12)
    assert from_differences(d).effect_size == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-12)
    assert effect_size(np.array([0.25] * 3)) == np.inf and effect_size(np.array([-0.25] * 3)) == -np.inf
    assert np.isnan(effect_size(np.zeros(3))) and np.isnan(effect_size(np.array([0.2])))


def holm_by_definition(p):
    """Holm's step-down rule as written: the i-th smallest p times (m - i + 1), made monotone, capped at 1."""
    m, order = len(p), sorted(range(len(p)), key=lambda i: p[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def test_holm_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4 x 0.005 = 0.02, 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 1 x 0.04)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.3, 0.6, 0.7]) == pytest.approx([0.9, 1.0, 1.0])  # 2 x 0.6 = 1.2 is capped at 1
    assert holm([0.02]) == pytest.approx([0.02]) and holm([]) == []
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        holm([0.1, float("nan")])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        holm([1.5])


def test_holm_against_its_definition_and_invariants(rng):
    for m in (2, 3, 6, 19):
        p = rng.uniform(0, 0.2, size=m).tolist()
        adjusted = holm(p)
        assert adjusted == pytest.approx(holm_by_definition(p), rel=1e-12)
        assert all(a >= q for a, q in zip(adjusted, p))  # never smaller than the raw p
        order = np.argsort(p)
        assert np.all(np.diff(np.asarray(adjusted)[order]) >= 0)  # monotone in the raw p
        perm = rng.permutation(m)
        assert holm([p[i] for i in perm]) == pytest.approx([adjusted[i] for i in perm], rel=1e-12)


def test_holm_matches_statsmodels(rng):
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = rng.uniform(0, 0.3, size=8).tolist()
    assert holm(p) == pytest.approx(multitest.multipletests(p, method="holm")[1].tolist(), rel=1e-12)


def test_intersection_union_takes_the_largest_p():
    up = from_differences([0.05, 0.10, 0.15, 0.20, 0.25])  # every pair positive, distinct: p = 1/32
    closer = from_differences([0.01, 0.02, 0.03, 0.04, 0.05])  # also p = 1/32, smaller mean
    mixed = from_differences([0.05, 0.10, 0.15, -0.20, -0.25])  # positive ranks 1 + 2 + 3: p = 22/32
    assert up.p_value == pytest.approx(1 / 32) and mixed.p_value == pytest.approx(22 / 32)
    both = all_of([up, closer])
    assert both.p_value == pytest.approx(1 / 32) and both.confirmed and both.binding == 1  # the tie: smaller mean
    three = all_of([up, mixed, closer])
    assert three.p_value == pytest.approx(22 / 32) and three.binding == 1 and not three.confirmed
    assert not three.every_direction_agrees
    assert all_of([up]).p_value == up.p_value and all_of([up]).confirmed == up.confirmed
    with pytest.raises(ValueError, match="at least one"):
        all_of([])


def test_intersection_union_confirms_only_when_every_component_does():
    """Over every subset of components, the claim is confirmed exactly when each component is."""
    components = [from_differences(d) for d in ([0.1, 0.2, 0.3, 0.4, 0.5], [0.1, -0.2, 0.3, 0.4, 0.5],
                                                [-0.1, -0.2, -0.3, -0.4, -0.5], [0.2, 0.3, 0.4, 0.5, 0.6])]
    for k in range(1, len(components) + 1):
        for subset in itertools.combinations(components, k):
            assert all_of(subset).confirmed == all(c.confirmed for c in subset)
