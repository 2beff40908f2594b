"""Tests of profiles and seeding."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import img2imu_lib as L


def test_profiles_grow_in_size():
    smoke, cpu, paper = (L.get_profile(n) for n in ("smoke", "cpu", "paper"))
    assert smoke.windows_per_class < cpu.windows_per_class <= paper.windows_per_class
    assert set(cpu.explorer_nffts) == {32, 64, 128, 256} and set(cpu.explorer_gaps) == {2, 4, 8, 16}  # the paper's grid
    with pytest.raises(ValueError, match=r"profile 'fast'; expected one of \['cpu', 'paper', 'smoke'\]"):
        L.get_profile("fast")


def test_seed_everything_reproduces_every_source():
    g = L.seed_everything(5)
    draws = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
    g = L.seed_everything(5)
    assert draws == (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
    for bad in (None, -1, 1.5, True):
        with pytest.raises(ValueError, match="expected a non-negative int"):
            L.seed_everything(bad)
