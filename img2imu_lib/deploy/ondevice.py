"""On-device cost of an exported IMG2IMU bundle: one stage per process (paper Table III).

A standalone worker: it imports only NumPy, ONNX Runtime, psutil and the standard library, so it
can be copied beside a bundle folder to a phone-class Linux board (a Raspberry Pi) and run there::

    python ondevice.py BUNDLE --stage visualize --threads 1 --windows windows.npy --repeats 50 --warmup 10

It prints one JSON line. The paper reports, for spectrogram generation and for inference, the time
per window, the CPU use and the memory; a phone app classifies one window each time, so every
timed run here is one window (batch 1), cycling through the windows given.

What is reported (times in ms, memory in MB = 2**20 bytes):

- ``median_ms``, ``p90_ms``, ``mean_ms``: wall time of one run (``perf_counter``), over ``repeats``.
- ``cpu_percent``: the process's CPU time (user + system, all its threads: ``time.process_time``)
  during the timed loop over the loop's wall time, x 100. 100 % is one core fully busy (the Android
  convention), so two busy threads read 200 %. Other threads' CPU time is only booked at scheduler
  ticks (a few ms), so the loop goes on, untimed per run, until it has lasted ``CPU_SECONDS``;
  ``cpu_runs`` counts its runs. ONNX Runtime's worker threads spin while waiting (its default), which
  counts here as it would on a phone.
- ``rss_baseline_mb``: resident memory just before the stage's session is created: the interpreter,
  NumPy, ONNX Runtime's library and the inputs; for ``inference`` the inputs are the images, and
  what ONNX Runtime keeps after the freed visualize session is in it too (about 10 MB on x86-64 Linux).
- ``peak_rss_mb``: the process's peak resident memory (Linux ``VmHWM``) from the baseline on. The
  high-water mark is reset (``/proc/self/clear_refs``) at the baseline, so for ``inference`` the
  transient memory of making the images beforehand (with ``visualize.onnx``, untimed) does not count.
  ``peak_since`` says "baseline", or "process start" where the reset is not possible.
- ``peak_increase_mb``: ``peak_rss_mb - rss_baseline_mb``, the memory the stage itself adds:
  the model's weights, ONNX Runtime's session and arena, and the activations of one run. Loading a
  model briefly holds its file's bytes and the weights both, so the peak exceeds the steady state:
- ``rss_end_mb``: resident memory after the timed runs, with the session still alive.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import psutil

STAGES: tuple[str, ...] = ("visualize", "inference")
MODEL_FILES: tuple[str, ...] = ("visualize.onnx", "classify.onnx")
MB = float(2**20)
CPU_SECONDS = 1.0  # the shortest loop CPU use is measured over, s


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (the manifest's check of each model file)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def machine() -> str:
    """CPU model (from /proc/cpuinfo where it exists), architecture, core count and system."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                model = value.strip()
                break
    return f"{model}, {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def read_manifest(folder: str | Path) -> dict:
    """The bundle's ``manifest.json``, after checking the sha256 of every model file it lists.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming a changed one.
    """
    folder = Path(folder)
    path = folder / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; expected a bundle folder (img2imu_lib.deploy.export_bundle)")
    manifest = json.loads(path.read_text())
    for name, expected in manifest["sha256"].items():
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} is missing; the manifest lists it")
        actual = file_sha256(folder / name)
        if actual != expected:
            raise ValueError(f"{folder / name} has sha256 {actual[:12]}..., the manifest says {expected[:12]}...: "
                             f"the file was changed after export; export the bundle again")
    return manifest


def session(path: str | Path, *, threads: int = 1) -> ort.InferenceSession:
    """A CPU session with ``threads`` intra-op threads and one inter-op thread (sequential execution)."""
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads={threads!r}; expected a positive int")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def bundle_windows(windows: np.ndarray, *, window_samples: int, count: int | None = None) -> np.ndarray:
    """The first ``count`` (None: all) of windows (N, T, 3) in g with T == ``window_samples``, as contiguous
    float32 for ONNX Runtime; ValueError naming the shape otherwise. (The library checks windows with
    ``datasets.windows.check_windows``; this worker keeps its own numpy-only check because it must run
    where only numpy, onnxruntime and psutil are installed.)"""
    windows = np.asarray(windows)
    if windows.ndim != 3 or windows.shape[1:] != (window_samples, 3) or len(windows) == 0:
        raise ValueError(f"windows have shape {windows.shape}; expected (N, {window_samples}, 3) with N >= 1: "
                         f"acceleration in g, axes x, y, z, {window_samples} samples per window as exported")
    return np.ascontiguousarray(windows[:count], dtype=np.float32)


def _reset_peak() -> str:
    """Reset the peak-RSS mark to the current RSS; say since when the peak counts."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux >= 4.0: reset VmHWM
        return "baseline"
    except OSError:
        return "process start"


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process in bytes: VmHWM on Linux, else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    import resource  # Unix only

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kB elsewhere


def measure(bundle: str | Path, *, stage: str, threads: int = 1, windows: np.ndarray | str | Path,
            repeats: int = 50, warmup: int = 10) -> dict:
    """Cost of one stage on one window at a time, in this process (see the module docstring).

    Args:
        bundle: folder written by ``export_bundle`` or ``quantize_bundle``.
        stage: "visualize" (windows -> images) or "inference" (images -> logits).
        threads: ONNX Runtime intra-op threads.
        windows: (N, T, 3) float32 in g, or a ``.npy`` file of them; run i uses window i mod N.
        repeats: timed runs; warmup: untimed runs before them.
    """
    if stage not in STAGES:
        raise ValueError(f"stage={stage!r}; expected one of {STAGES}")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats={repeats}, warmup={warmup}; expected repeats >= 1 and warmup >= 0")
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    raw = np.load(windows, mmap_mode="r") if isinstance(windows, (str, Path)) else windows
    x = bundle_windows(raw, window_samples=manifest["window_samples"], count=repeats + warmup)  # only those run
    del raw
    if stage == "inference":  # the inputs are images, made beforehand one by one (a small arena), untimed
        visualize = session(bundle / "visualize.onnx", threads=threads)
        x = np.concatenate([visualize.run(None, {"windows": w[None]})[0] for w in x])  # (n, 3, H, W)
        del visualize
    gc.collect()
    process = psutil.Process()
    peak_since = _reset_peak()
    baseline = process.memory_info().rss
    name = "visualize.onnx" if stage == "visualize" else "classify.onnx"
    model = session(bundle / name, threads=threads)
    feed = model.get_inputs()[0].name
    inputs = [x[i % len(x)][None] for i in range(warmup + repeats)]  # batch 1: (1, ...)
    for item in inputs[:warmup]:
        model.run(None, {feed: item})
    times = np.empty(repeats)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    for i, item in enumerate(inputs[warmup:]):
        started = time.perf_counter()
        model.run(None, {feed: item})
        times[i] = time.perf_counter() - started
    runs = repeats
    while time.perf_counter() - wall_start < CPU_SECONDS:  # long enough for every thread's time to be booked
        model.run(None, {feed: inputs[warmup + runs % repeats]})
        runs += 1
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    end = process.memory_info().rss
    peak = max(_peak_rss_bytes(), baseline)
    return {
        "stage": stage, "precision": manifest.get("precision", "fp32"), "threads": threads,
        "repeats": repeats, "warmup": warmup, "windows": len(x),
        "median_ms": float(np.median(times) * 1e3), "p90_ms": float(np.percentile(times, 90) * 1e3),
        "mean_ms": float(times.mean() * 1e3), "cpu_percent": 100.0 * cpu / wall, "cpu_runs": runs,
        "rss_baseline_mb": baseline / MB, "peak_rss_mb": peak / MB, "peak_increase_mb": (peak - baseline) / MB,
        "rss_end_mb": end / MB, "peak_since": peak_since, "onnxruntime": ort.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


def measure_in_subprocess(bundle: str | Path, *, stage: str, threads: int = 1, windows: np.ndarray | str | Path,
                          repeats: int = 50, warmup: int = 10, timeout: float = 600.0) -> dict:
    """``measure`` in a fresh interpreter running this file by path, so the peak memory is the
    stage's alone and the ``img2imu_lib`` package (which imports torch) is never loaded."""
    if stage not in STAGES:
        raise ValueError(f"stage={stage!r}; expected one of {STAGES}")
    with tempfile.TemporaryDirectory() as tmp:
        if not isinstance(windows, (str, Path)):
            np.save(Path(tmp) / "windows.npy", np.asarray(windows, dtype=np.float32))
            windows = Path(tmp) / "windows.npy"
        safe_path = ["-P"] if sys.version_info >= (3, 11) else []  # keep this file's folder off sys.path
        command = [sys.executable, *safe_path, str(Path(__file__).resolve()), str(bundle), "--stage", stage,
                   "--threads", str(threads), "--windows", str(windows), "--repeats", str(repeats),
                   "--warmup", str(warmup)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", help="bundle folder (manifest.json, visualize.onnx, classify.onnx)")
    parser.add_argument("--stage", choices=STAGES, required=True)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--windows", required=True, help=".npy file of windows (N, T, 3) float32 in g")
    parser.add_argument("--repeats", type=int, default=50, help="timed runs, one window each")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs first")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.bundle, stage=args.stage, threads=args.threads, windows=args.windows,
                             repeats=args.repeats, warmup=args.warmup)))


if __name__ == "__main__":
    main()
