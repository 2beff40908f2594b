"""Conversion and augmentation throughput, against a naive per-window loop, in one process.

    python benchmarks/bench_conversion.py                # 10,000 windows, the issue's target size
    python benchmarks/bench_conversion.py --windows 500  # a quick run

Prints windows per second for ``spectrogram_images`` (vectorised torch; into a new output
tensor, and into a reused buffer, which saves the page faults of a fresh 1.5 GB output) and for a per-window
loop in the style most code uses (scipy.signal.spectrogram per axis, PIL bilinear resize, NumPy
normalisation), the speed-up, and images per second for each image augmentation.
Beside the conversion it prints the physical limit: the bytes each window's image takes (3 x 96 x 128
float32) against this machine's memory write bandwidth, measured in the same run by filling a
buffer of the output's size (the least any conversion writing its output once must take).
Inputs are real HAPT windows (10 s at 50 Hz), repeated to the requested count.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch
from PIL import Image
from scipy.signal import spectrogram

import img2imu_lib as L
from img2imu_lib.images.spectrogram import POWER_FLOOR


def naive_images(windows: np.ndarray, *, fs: float, nfft: int, noverlap: int) -> np.ndarray:
    """Per-window, per-axis loop: scipy spectrogram, log10, min-max, PIL resize, normalise."""
    mean = np.array(L.IMAGENET_MEAN, dtype=np.float32)[:, None, None]
    std = np.array(L.IMAGENET_STD, dtype=np.float32)[:, None, None]
    out = np.empty((len(windows), 3, 96, 128), dtype=np.float32)
    for i, window in enumerate(windows):
        channels = []
        for axis in range(3):
            _, _, power = spectrogram(window[:, axis], fs=fs, window="hann", nperseg=nfft, noverlap=noverlap,
                                      nfft=nfft, detrend=False, scaling="density", mode="psd")
            log_power = np.log10(np.maximum(power, POWER_FLOOR))
            unit = (log_power - log_power.min()) / max(log_power.max() - log_power.min(), 1e-7)
            resized = Image.fromarray(np.flipud(unit).astype(np.float32), mode="F").resize((128, 96), Image.BILINEAR)
            channels.append(np.asarray(resized))
        out[i] = (np.stack(channels) - mean) / std
    return out


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:12,.0f}/s  ({seconds:.3f} s for {count:,})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", type=int, default=10_000, help="windows converted by the library")
    parser.add_argument("--naive-windows", type=int, default=1_000, help="windows converted by the naive loop")
    parser.add_argument("--batch", type=int, default=256, help="images per augmentation batch")
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions; the best and the median are reported")
    args = parser.parse_args()

    recordings = L.load_hapt(subjects=list(range(1, 11)))
    pool, _, _ = L.windows_from_recordings(recordings, seconds=10.0)
    windows = np.resize(pool, (args.windows, *pool.shape[1:])).astype(np.float32)
    fs, nfft, noverlap = 50.0, 128, 116
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"input: {len(windows):,} real HAPT windows of {windows.shape[1]} samples (10 s at 50 Hz), nfft {nfft}, noverlap {noverlap}")

    L.spectrogram_images(windows[:256], fs=fs, nfft=nfft, noverlap=noverlap)  # warm-up
    fresh = [_timed(lambda: L.spectrogram_images(windows, fs=fs, nfft=nfft, noverlap=noverlap)) for _ in range(args.repeats)]
    buffer = torch.zeros((len(windows), 3, 96, 128))  # touched once, then reused
    reused = [_timed(lambda: L.spectrogram_images(windows, fs=fs, nfft=nfft, noverlap=noverlap, out=buffer))
              for _ in range(args.repeats)]
    best, best_buffer = min(fresh), min(reused)
    fill = min(_timed(lambda: buffer.fill_(0.5)) for _ in range(args.repeats))  # the same bytes, written once
    per_window = buffer[0].numel() * buffer.element_size()
    naive_count = min(args.naive_windows, len(windows))
    naive = _timed(lambda: naive_images(windows[:naive_count], fs=fs, nfft=nfft, noverlap=noverlap))
    ours = L.spectrogram_images(windows[:naive_count], fs=fs, nfft=nfft, noverlap=noverlap).numpy()
    reference = naive_images(windows[:naive_count], fs=fs, nfft=nfft, noverlap=noverlap)
    print("\nconversion (windows per second)")
    print(f"  img2imu_lib.spectrogram_images  {rate(len(windows), best)}  new output tensor; median of "
          f"{args.repeats}: {len(windows) / statistics.median(fresh):,.0f}/s")
    print(f"  ... into a reused buffer (out=) {rate(len(windows), best_buffer)}  median: "
          f"{len(windows) / statistics.median(reused):,.0f}/s")
    print(f"  memory-bound limit              {rate(len(windows), fill)}  ({per_window:,} bytes a window at "
          f"{len(windows) * per_window / fill / 1e9:.1f} GB/s, this machine's write bandwidth as measured here)")
    print(f"  naive scipy + PIL loop          {rate(naive_count, naive)}")
    print(f"  speed-up                        {(len(windows) / best) / (naive_count / naive):12.1f}x  "
          f"({(len(windows) / best_buffer) / (naive_count / naive):.1f}x into a reused buffer)")
    print(f"  largest difference to the loop  {np.abs(ours - reference).max():12.4f} (normalised units; PIL resizes without antialiasing)")

    generator = torch.Generator().manual_seed(0)
    images = L.spectrogram_images(windows[: args.batch], fs=fs, nfft=nfft, noverlap=noverlap, normalize=False)
    augmentations = {
        "TranslateX": L.TranslateX(), "PermuteX": L.PermuteX(), "Hue": L.Hue(), "Jitter": L.Jitter(),
        "IMG2IMU one-of-four": L.sensor_aware_augmentations(),
        "MoCo v2 cascade": L.moco_v2_augmentations(), "all augmentations one-of": L.all_augmentations(),
    }
    print(f"\naugmentation (images per second, batches of {args.batch} of 3 x 96 x 128)")
    for name, aug in augmentations.items():
        aug(images[:8], generator=generator)
        seconds = min(_timed(lambda: aug(images, generator=generator)) for _ in range(args.repeats))
        print(f"  {name:30s} {rate(len(images), seconds)}")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
