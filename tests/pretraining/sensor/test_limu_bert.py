"""Tests of LIMU-BERT's span masking."""

from __future__ import annotations

import pytest
import torch

from img2imu_lib.pretraining.sensor import LimuBert
from img2imu_lib.pretraining.sensor.limu_bert import span_mask


def test_span_mask_gives_count_distinct_positions(generator):
    for _ in range(50):
        positions = span_mask(100, count=15, max_span=10, p=0.2, generator=generator)
        assert positions.shape == (15,)
        assert len(set(positions.tolist())) == 15 and positions.min() >= 0 and positions.max() < 100
        assert torch.equal(positions, positions.sort().values)


def test_span_mask_makes_spans(generator):
    runs = []
    for _ in range(200):
        positions = span_mask(500, count=75, max_span=10, p=0.2, generator=generator).tolist()
        run = 1
        for a, b in zip(positions, positions[1:]):
            run = run + 1 if b == a + 1 else (runs.append(run) or 1)
        runs.append(run)
    assert max(runs) > 1  # contiguous spans, not isolated timesteps
    assert sum(runs) / len(runs) > 2.0  # truncated geometric p = 0.2, cap 10: mean span ~3.9 before merging


def test_span_mask_rejects_a_count_it_cannot_meet(generator):
    with pytest.raises(ValueError, match="count=10; expected 1 <= count < length=10"):
        span_mask(10, count=10, max_span=3, p=0.2, generator=generator)


def test_mask_zeroes_only_the_masked_timesteps(generator):
    model = LimuBert()
    x = torch.randn(40, 100, 3) + 5.0  # no sample is zero
    masked, positions = model.mask(x, generator=generator)
    assert positions.shape == (40, 15)
    chosen = torch.zeros(40, 100, dtype=torch.bool)
    chosen[torch.arange(40).view(40, 1), positions] = True
    assert torch.equal(masked[~chosen], x[~chosen])
    zeroed = (masked[chosen].view(40, 15, 3) == 0).all(dim=(1, 2))
    untouched = (masked[chosen] == x[chosen]).view(40, 15, 3).all(dim=(1, 2))
    assert torch.equal(zeroed | untouched, torch.ones(40, dtype=torch.bool))
    assert 20 <= int(zeroed.sum()) <= 39  # probability 0.8 per window
