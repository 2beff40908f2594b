"""Shared fixtures: seeded generators, the repository root, and the real data folder."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
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


def build_book_module():
    """``tools/build_book.py`` imported as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SMOKE_SEED = 3  # the smoke book runs every chapter with a seed other than its default


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory, private_cache) -> Path:
    """The whole book built once per test run, as ``make book`` builds it but with the ``smoke`` profile and
    ``-p seed 3``: the folder holding ``_build/src`` (the executed chapters) and ``_build/html``."""
    out = tmp_path_factory.mktemp("book")
    command = [sys.executable, str(ROOT / "tools" / "build_book.py"), "--profile", "smoke", "-p", "seed", str(SMOKE_SEED),
               "--out", str(out), "--keep-going"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, f"book build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return out
