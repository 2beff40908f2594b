"""On-device cost of the exported classifier (paper Table III): spectrogram generation and inference.

    python benchmarks/bench_on_device.py                        # build fp32 + int8 bundles, measure them here
    python benchmarks/bench_on_device.py --repeats 5 --warmup 1 --threads 1   # a quick run
    python bench_on_device.py --bundle fp32/ int8/ --windows windows.npy      # on a board: measure only

Without --bundle the script exports a ResNet18 classifier (torchvision, seeded random weights unless
--checkpoint gives a ResNet18 classifier's state dict, ``torch.save(model.state_dict())``, read as data
only: latency and memory do not depend on the weights' values) with ``img2imu_lib.deploy.export``,
quantizes it to int8 (calibrated on real windows), and saves the bundles and the windows in --work, ready to copy to a phone-class Linux board with
this script and ``img2imu_lib/deploy/ondevice.py``. Windows are real Daphnet windows (5 s at 50 Hz,
ankle) when the data is on the search path, else seeded synthetic ones (a note says so).

Each stage (visualize: windows -> images; inference: images -> logits) runs in its own process
(``ondevice.py``), one window at a time, with ONNX Runtime on the CPU. With --bundle nothing imports
torch or img2imu_lib: only ``ondevice.py``, found beside this script or in ../img2imu_lib/deploy/.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np

HERE = Path(__file__).resolve().parent
COLUMNS = ("stage", "precision", "threads", "median ms", "p90 ms", "CPU %", "peak RSS MB", "increase MB")


def load_ondevice() -> ModuleType:
    """``ondevice.py`` imported by path, so the package ``__init__`` (and torch) is never loaded."""
    for path in (HERE / "ondevice.py", HERE.parent / "img2imu_lib" / "deploy" / "ondevice.py"):
        if path.is_file():
            spec = importlib.util.spec_from_file_location("ondevice", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError(f"ondevice.py not found beside {__file__} or in {HERE.parent / 'img2imu_lib' / 'deploy'}")


def daphnet_or_synthetic(count: int, seed: int) -> tuple[np.ndarray, str]:
    """Windows (count, 250, 3) float32 in g (5 s at 50 Hz) and where they come from."""
    import img2imu_lib as L

    rng = np.random.default_rng(seed)
    if L.find_data("daphnet") is not None:
        windows, _, _ = L.load_dataset("daphnet").windows()  # (N, 250, 3), resampled to 50 Hz
        pick = rng.permutation(len(windows))[:count]
        return windows[np.sort(pick)], f"{len(pick)} real Daphnet windows (5 s at 50 Hz, ankle)"
    t = np.arange(250) / 50.0
    gait = np.sin(2 * np.pi * rng.uniform(0.5, 2.0, (count, 1, 1)) * t[None, :, None])  # (count, 250, 1)
    windows = 0.3 * gait + rng.normal(0.0, 0.05, (count, 250, 3)) + np.array([0.0, 1.0, 0.0])  # gravity on y
    print("note: Daphnet not found on the data search path; using synthetic windows (latency is unaffected)")
    return windows.astype(np.float32), f"{count} synthetic windows (5 s at 50 Hz)"


def build_bundles(args: argparse.Namespace, work: Path) -> tuple[list[Path], Path]:
    """fp32 and int8 bundles of a ResNet18 classifier in ``work``, and the windows file to measure with."""
    import torch
    import torchvision

    import img2imu_lib as L
    from img2imu_lib.deploy import export as deploy
    from img2imu_lib.store import load_tensors

    windows, source = daphnet_or_synthetic(args.calibration + args.repeats + args.warmup, args.seed)
    classes = list(L.DATASETS["daphnet"].classes)
    L.seed_everything(args.seed)
    if args.checkpoint:  # a state dict, read as data only (store.load_tensors): never a pickled model
        state = load_tensors(args.checkpoint, what="ResNet18 classifier state dict")
        if not isinstance(state, dict) or not isinstance(state.get("fc.weight"), torch.Tensor):
            raise SystemExit(f"{args.checkpoint}: expected a torchvision ResNet18 classifier's state dict (with fc.weight)")
        count = state["fc.weight"].shape[0]
        model = torchvision.models.resnet18(num_classes=count)
        model.load_state_dict(state)
        classes = classes if count == len(classes) else [f"class {i}" for i in range(count)]
    else:
        model = torchvision.models.resnet18(num_classes=len(classes))  # seeded random weights
    calibration, measured = windows[: args.calibration], windows[args.calibration :]
    np.save(work / "windows.npy", measured)
    fp32 = deploy.export_bundle(model, work / "fp32", window_samples=windows.shape[1], fs=50.0, nfft=args.nfft,
                                noverlap=args.noverlap, classes=classes)
    int8 = deploy.quantize_bundle(fp32, work / "int8", calibration_windows=calibration, target=args.target)
    check = deploy.round_trip(model, fp32, measured, fs=50.0, nfft=args.nfft, noverlap=args.noverlap)
    sizes = ", ".join(f"{b.name} {(b / 'classify.onnx').stat().st_size / 2**20:.1f} MB" for b in (fp32, int8))
    print(f"windows: {source}; calibration on {len(calibration)} of them, int8 target {args.target}")
    print(f"classify.onnx: {sizes}; fp32 round trip on {check['windows']} windows: images within "
          f"{check['max_image_diff']:.1e}, logits within {check['max_logit_diff']:.1e}, "
          f"agreement {check['agreement']:.0%}")
    if args.work:
        print(f"on a board: python bench_on_device.py --bundle {fp32} {int8} --windows {work / 'windows.npy'}")
    else:
        print("the bundles are deleted at the end; pass --work DIR to keep them for a board")
    return [fp32, int8], work / "windows.npy"


def measure_all(ondevice: ModuleType, bundles: list[Path], windows: Path, args: argparse.Namespace) -> list[dict]:
    """Every bundle x threads x stage, each in its own process."""
    return [ondevice.measure_in_subprocess(bundle, stage=stage, threads=threads, windows=windows,
                                           repeats=args.repeats, warmup=args.warmup)
            for bundle in bundles for threads in args.threads for stage in ondevice.STAGES]


def print_table(rows: list[dict]) -> None:
    print("  ".join(f"{c:>11}" for c in COLUMNS))
    for r in rows:
        values = (r["stage"], r["precision"], r["threads"], f"{r['median_ms']:.2f}", f"{r['p90_ms']:.2f}",
                  f"{r['cpu_percent']:.0f}", f"{r['peak_rss_mb']:.1f}", f"{r['peak_increase_mb']:.1f}")
        print("  ".join(f"{v:>11}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", nargs="+", type=Path, help="measure these bundle folders only (no torch needed)")
    parser.add_argument("--windows", type=Path, help="with --bundle: .npy windows (N, T, 3) float32 in g")
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per stage, one window each")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs first")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="ONNX Runtime intra-op threads")
    parser.add_argument("--out", type=Path, help="also write the machine and the rows to this JSON file")
    parser.add_argument("--checkpoint", type=Path,
                        help="a torchvision ResNet18 classifier's state dict, torch.save(model.state_dict())")
    parser.add_argument("--work", type=Path, help="folder for the bundles and windows (default: a temporary one)")
    parser.add_argument("--calibration", type=int, default=64, help="windows calibrating the int8 model")
    parser.add_argument("--target", choices=("arm", "x86"), default="arm", help="int8 data types for this CPU family")
    parser.add_argument("--nfft", type=int, default=128)
    parser.add_argument("--noverlap", type=int, default=116)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if (args.bundle is None) != (args.windows is None):
        parser.error("--bundle and --windows go together")
    ondevice = load_ondevice()
    with tempfile.TemporaryDirectory() as tmp:
        if args.bundle:
            bundles, windows = args.bundle, args.windows
        else:
            work = args.work or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            bundles, windows = build_bundles(args, work)
        print(f"machine: {ondevice.machine()}; onnxruntime {ondevice.ort.__version__}")
        print(f"{args.repeats} timed runs of one window after {args.warmup} warm-up runs; one process per row; "
              f"CPU % = CPU time / wall time x 100 (100 % = one core), over >= 1 s of runs")
        rows = measure_all(ondevice, bundles, windows, args)
    print_table(rows)
    if args.out:
        args.out.write_text(json.dumps({"machine": ondevice.machine(), "repeats": args.repeats, "warmup": args.warmup,
                                        "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
