"""Shared fixtures: seeded generators, the repository root, and the real data folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(12345)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, the real recordings CI provides; tests that need it skip without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not present (real data for checks is only on CI and dev machines)")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory) -> Path:
    """Every test (and every process it starts) caches downloads and rendered corpora in a temporary folder."""
    folder = tmp_path_factory.mktemp("cache")
    os.environ["IMG2IMU_CACHE"] = str(folder)
    return folder
