"""The on-device worker: sane numbers on a tiny bundle, in process and in its own process, no torch needed."""

from __future__ import annotations

import ast
import sys

import numpy as np
import pytest
import torch
from torch import nn

from img2imu_lib.deploy import export as deploy
from img2imu_lib.deploy import ondevice

from tests.conftest import ROOT

ALLOWED = {"numpy", "onnxruntime", "psutil"}  # plus the standard library


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A bundle of a seeded linear layer over channel means; windows (8, 100, 3) in g."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
    folder = deploy.export_bundle(model, tmp_path_factory.mktemp("tiny") / "fp32", window_samples=100, fs=50.0,
                                  nfft=64, noverlap=56, classes=["a", "b"])
    windows = np.random.default_rng(0).normal(0.0, 0.5, (8, 100, 3)).astype(np.float32)
    np.save(folder.parent / "windows.npy", windows)
    return folder, windows


def check_fields(result: dict, *, stage: str, threads: int, repeats: int, fresh_process: bool) -> None:
    assert (result["stage"], result["threads"], result["repeats"]) == (stage, threads, repeats)
    assert result["precision"] == "fp32"
    assert 0 < result["median_ms"] <= result["p90_ms"] < 10_000
    assert result["cpu_percent"] > 0 and result["cpu_runs"] >= repeats
    assert 0 < result["rss_baseline_mb"] <= result["peak_rss_mb"] and result["rss_end_mb"] > 0
    assert result["peak_increase_mb"] == pytest.approx(result["peak_rss_mb"] - result["rss_baseline_mb"])
    # a session always allocates, but in a long-lived process (the test run's own) it may reuse pages
    # that are already resident, so only a fresh process must show the increase
    assert result["peak_increase_mb"] > 0 if fresh_process else result["peak_increase_mb"] >= 0
    if sys.platform.startswith("linux"):
        assert result["peak_since"] == "baseline"


@pytest.mark.parametrize("stage", ondevice.STAGES)
def test_measure_in_process(bundle, stage):
    folder, windows = bundle
    result = ondevice.measure(folder, stage=stage, threads=1, windows=windows, repeats=5, warmup=2)
    check_fields(result, stage=stage, threads=1, repeats=5, fresh_process=False)
    assert result["windows"] == 7  # repeats + warmup of the 8 windows are kept


def test_measure_in_subprocess(bundle):
    folder, _ = bundle
    result = ondevice.measure_in_subprocess(folder, stage="inference", threads=2, windows=folder.parent / "windows.npy",
                                            repeats=3, warmup=1)
    check_fields(result, stage="inference", threads=2, repeats=3, fresh_process=True)
    assert result["windows"] == 4


def test_bad_arguments_are_named(bundle):
    folder, windows = bundle
    for measure in (ondevice.measure, ondevice.measure_in_subprocess):
        with pytest.raises(ValueError, match=r"stage='train'; expected one of \('visualize', 'inference'\)"):
            measure(folder, stage="train", windows=windows)
    with pytest.raises(ValueError, match=r"shape \(4, 90, 3\); expected \(N, 100, 3\)"):
        ondevice.measure(folder, stage="visualize", windows=windows[:4, :90], repeats=2, warmup=0)
    with pytest.raises(ValueError, match="repeats=0"):
        ondevice.measure(folder, stage="visualize", windows=windows, repeats=0)
    with pytest.raises(ValueError, match="threads=0"):
        ondevice.measure(folder, stage="visualize", threads=0, windows=windows, repeats=1)
    with pytest.raises(RuntimeError, match="exited with 1"):  # the worker's error comes back with its stderr
        ondevice.measure_in_subprocess(folder.parent, stage="visualize", windows=windows, repeats=1, warmup=0)


def test_worker_imports_only_numpy_onnxruntime_psutil_and_the_standard_library():
    tree = ast.parse((ROOT / "img2imu_lib" / "deploy" / "ondevice.py").read_text())
    imported = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in tree.body
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert not any(isinstance(node, ast.ImportFrom) and node.level > 0 for node in ast.walk(tree))  # no package imports
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == ALLOWED
