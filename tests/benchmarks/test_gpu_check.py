"""benchmarks/gpu_check.py: one line and exit 0 without a GPU; its CPU dry run fills every section of the report."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from img2imu_lib.book.runs import book_runs
from img2imu_lib.pretraining.methods import method_kind

from ..conftest import ROOT

SCRIPT = str(ROOT / "benchmarks" / "gpu_check.py")
MODES = ("bare", "device_pipeline", "library_pipeline")


def run_script(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "IMG2IMU_CACHE": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, check=False, env=env,
                          timeout=300)


def check_report(report: dict) -> None:
    """What a sound dry-run report holds; raises AssertionError naming the first thing wrong."""
    assert report["dry_run"] is True and "CPU dry run" in report["label"] and report["ok"] and not report["failures"]
    for precision in ("fp32", "bf16"):
        timings = report["throughput"][precision]
        if "skipped" in timings:
            assert precision == "bf16" and timings["skipped"], "only bf16 may be skipped, with a reason"
            continue
        assert set(timings) == set(MODES)
        for mode in MODES:
            assert 0 < timings[mode]["samples_per_s"] < 1e4 and timings[mode]["median_step_s"] > 0
            assert timings[mode]["samples_per_s"] * timings[mode]["median_step_s"] == pytest.approx(8)  # batch 8
            assert 10 < report["memory"][precision][mode] < 64 * 1024  # MiB
        views = report["views"][precision]
        assert views["device_pipeline_views_on"] == views["batch_on"] == "cpu" and views["library_as_is"]["ok"]
    assert "fp32" in report["views"] and "skipped" not in report["throughput"]["fp32"]
    ddp = report["ddp"]
    assert ddp["backend"] == "gloo" and ddp["world_size"] == 1 and ddp["ran"] and ddp["steps"] == 2
    assert ddp["wrapped_in_ddp"] and ddp["gather_exact"] and ddp["samples_per_s"] > 0
    assert math.isfinite(ddp["final_loss"]) and ddp["final_loss"] > 0  # an InfoNCE loss
    resume = report["resume"]
    assert resume["passed"] and resume["exact"] and resume["max_abs_diff"] == 0.0 and resume["tolerance"] == 0.0
    assert resume["steps"] == resume["straight_steps"] == 2 and resume["resumed_from_step"] == 1
    assert resume["losses_equal"] and resume["tensors_compared"] > 100 and resume["max_abs_weight"] > 0
    projection = report["projection"]
    runs = book_runs("paper")
    images = sum(method_kind(c.method) == "image" for c in runs.values())
    assert projection["image_runs"] == images == 8 and "1,281,167" in projection["assumption"]
    assert projection["samples_per_run"]["imagenet-1k"] == 40 * (1_281_167 // 256) * 256
    rates = {f"{m} {p}": t["samples_per_s"] for p, modes in report["throughput"].items() if "skipped" not in modes
             for m, t in modes.items()} | {"ddp pretrain() " + ddp["precision"]: ddp["samples_per_s"]}
    assert set(projection["hours"]) == set(rates)
    for rate, corpora in projection["hours"].items():
        hours = corpora["imagenet-1k"]
        assert hours["per_run_h"] == pytest.approx(40 * 5004 * 256 / rates[rate] / 3600)
        assert hours["all_runs_h"] == pytest.approx(images * hours["per_run_h"])


def test_without_a_gpu_it_says_so_and_exits_0(tmp_path):
    result = run_script(tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("no CUDA GPU found") and "torch " in lines[0], result.stdout
    assert "CUDA build" in lines[0] or "CPU-only build" in lines[0]


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict, Path]:
    folder = tmp_path_factory.mktemp("gpu_check")
    result = run_script("--device", "cpu", "--tiny", "--json", str(folder / "report.json"), tmp_path=folder)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, json.loads((folder / "report.json").read_text()), folder


def test_cpu_dry_run_fills_every_section(dry_run):
    result, report, folder = dry_run
    check_report(report)
    for line in ("CPU dry run", "throughput (samples/s)", "bare", "device_pipeline", "library_pipeline", "ddp: gloo",
                 "resume:", "PASS", "projection: paper profile, 8 image pre-training runs", "all checks passed"):
        assert line in result.stdout, line
    assert not (folder / "cache").exists()  # run folders went to the script's own temporary cache, not $IMG2IMU_CACHE


@pytest.mark.parametrize("damage", ["resume diff", "views elsewhere", "ddp unwrapped", "no bf16 reason",
                                    "projection off", "not a dry run"])
def test_the_report_check_catches_a_bad_report(dry_run, damage):
    report = copy.deepcopy(dry_run[1])
    if damage == "resume diff":
        report["resume"]["max_abs_diff"] = 1e-7
    elif damage == "views elsewhere":
        report["views"]["fp32"]["device_pipeline_views_on"] = "cuda:0"
    elif damage == "ddp unwrapped":
        report["ddp"]["wrapped_in_ddp"] = False
    elif damage == "no bf16 reason":
        report["throughput"]["bf16"] = {"skipped": ""}
    elif damage == "projection off":
        next(iter(report["projection"]["hours"].values()))["imagenet-1k"]["per_run_h"] *= 2
    else:
        report["dry_run"] = False
    with pytest.raises(AssertionError):
        check_report(report)
