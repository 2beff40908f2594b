"""Tests of NT-Xent against hand-computed and loop references, and of SimCLR's views."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from img2imu_lib.pretraining.sensor import SimCLRHAR, nt_xent


def test_equal_projections_give_log_two_n_minus_one():
    z = torch.ones(4, 5)
    assert nt_xent(z, z, temperature=0.1).item() == pytest.approx(math.log(7), rel=1e-6)


def test_two_orthogonal_pairs_by_hand():
    # N = 2, tau = 1: view pairs (e1, e1) and (e2, e2). Anchor e1 (view 0 of window 0) sees its positive
    # e1 (logit 1) and negatives e2, e2 (logit 0 each): loss -log(e / (e + 2)); every anchor is alike.
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    z0 = torch.stack([e1, e2])
    expected = -math.log(math.e / (math.e + 2))
    assert nt_xent(z0, z0.clone(), temperature=1.0).item() == pytest.approx(expected, rel=1e-6)


def test_matches_a_loop_over_anchors(generator):
    z0, z1 = torch.randn(5, 8, generator=generator), torch.randn(5, 8, generator=generator)
    tau = 0.1
    z = torch.cat([z0, z1]).double().numpy()
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    losses = []
    for i in range(10):  # SimCLR's l(i, j), averaged over the 2N anchors
        j = (i + 5) % 10
        denominator = sum(np.exp(z[i] @ z[k] / tau) for k in range(10) if k != i)
        losses.append(-np.log(np.exp(z[i] @ z[j] / tau) / denominator))
    assert nt_xent(z0, z1, temperature=tau).item() == pytest.approx(float(np.mean(losses)), rel=1e-5)


def test_symmetric_in_the_views(generator):
    z0, z1 = torch.randn(6, 4, generator=generator), torch.randn(6, 4, generator=generator)
    torch.testing.assert_close(nt_xent(z0, z1, temperature=0.5), nt_xent(z1, z0, temperature=0.5))


def test_rejects_mismatched_views():
    with pytest.raises(ValueError, match=r"expected equal \(N, D\)"):
        nt_xent(torch.ones(3, 4), torch.ones(2, 4), temperature=0.1)


def test_views_are_scaled_rotations_in_g(windows, generator):
    model = SimCLRHAR()
    view = model.view(windows, generator=generator)
    assert view.shape == windows.shape
    ratio = view.norm(dim=2) / windows.norm(dim=2)  # rotation keeps norms; scaling by ~N(1, 0.1) changes them a little
    assert ((ratio > 0.6) & (ratio < 1.4)).all()
    assert not torch.allclose(view, windows)
