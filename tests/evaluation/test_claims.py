"""Paired comparisons: the statistic is scipy's Wilcoxon test, and the verdict follows it."""

from __future__ import annotations

import pytest
from scipy.stats import wilcoxon

from img2imu_lib.evaluation.claims import by_pair, from_differences, paired


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
    diff = [0.3, -0.1, 0.0, 0.2, 0.4, 0.0, 0.5]
    for zero_method in ("zsplit", "wilcox"):
        expected = wilcoxon(diff, alternative="greater", zero_method=zero_method).pvalue
        assert from_differences(diff, zero_method=zero_method).p_value == pytest.approx(expected, rel=1e-12)
    result = from_differences(diff)
    assert (result.n, result.wins) == (7, 4) and result.mean_difference == pytest.approx(1.3 / 7)
    a = {("d", s): 0.5 + d for s, d in enumerate(diff)}
    assert paired(a, {("d", s): 0.5 for s in range(7)}) == from_differences([a[("d", s)] - 0.5 for s in range(7)])
    assert from_differences([0.0, 0.0]).p_value == 1.0
    with pytest.raises(ValueError, match="expected a non-empty 1D array"):
        from_differences([])
