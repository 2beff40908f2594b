"""The benchmark script runs end to end at a tiny size (its numbers are printed, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import ROOT


def test_benchmark_runs_small():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_conversion.py"), "--windows", "300",
         "--naive-windows", "30", "--batch", "8", "--repeats", "1"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for line in ("spectrogram_images", "memory-bound limit", "naive scipy + PIL loop", "speed-up", "TranslateX",
                 "MoCo v2 cascade"):
        assert line in result.stdout


def test_pretrain_benchmark_runs_small():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_pretrain.py"), "--batch", "4", "--steps", "1", "--repeats", "2",
         "--workers", "0", "--per-image-from-cache"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for line in ("bare step", "pipeline", "per-image", "per-image, from the cache", "overhead over the bare step",
                 "pipeline / per-image"):
        assert line in result.stdout
    assert re.search(r"per repeat: -?\d+\.\d, -?\d+\.\d;", result.stdout), "one overhead figure per repeat"


def test_corpus_cache_benchmark_runs_small():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_corpus_cache.py"), "--images", "8"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ms" in result.stdout


def test_probe_benchmark_runs_small():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_probe.py"), "--seeds", "1", "--lrs", "2",
                             "--decays", "1", "--epochs", "2"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    for line in ("one by one (torch.optim.Adam)", "all at once (train_heads)", "speed-up"):
        assert line in result.stdout


def test_on_device_benchmark_runs_small(tmp_path):
    bench = str(ROOT / "benchmarks" / "bench_on_device.py")
    result = subprocess.run([sys.executable, bench, "--repeats", "2", "--warmup", "1", "--threads", "1",
                             "--calibration", "8", "--work", str(tmp_path), "--out", str(tmp_path / "rows.json")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    for line in ("stage", "precision", "threads", "median ms", "p90 ms", "CPU %", "peak RSS MB", "increase MB",
                 "machine:", "visualize", "inference", "int8"):
        assert line in result.stdout
    assert (tmp_path / "rows.json").is_file()
    # measuring existing bundles (as on a board) imports neither torch nor img2imu_lib
    result = subprocess.run([sys.executable, "-X", "importtime", bench, "--bundle", str(tmp_path / "int8"),
                             "--windows", str(tmp_path / "windows.npy"), "--repeats", "2", "--warmup", "0",
                             "--threads", "1"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "numpy" in imported and not {"torch", "img2imu_lib"} & imported
    assert "increase MB" in result.stdout and "int8" in result.stdout
