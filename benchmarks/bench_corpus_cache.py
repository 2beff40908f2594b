"""Time per image of the corpus caches: the offline corpus rendered each time, building its cache and read
from it; an image folder's check made the first time (every file decoded) and again (results kept).

    python benchmarks/bench_corpus_cache.py               # 1,000 offline images, the imagenet-sample folder
    python benchmarks/bench_corpus_cache.py --images 100  # a quick run
    python benchmarks/bench_corpus_cache.py --folder PATH # another image folder

The caches are made in temporary folders, deleted afterwards; one process, no DataLoader workers.
The folder's files are read once before it is timed, so both checks find them in the page cache.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from img2imu_lib.pretraining.corpora import ImageFolderCorpus, OfflineCorpus, imagenet_sample_folder
from img2imu_lib.pretraining.corpus_cache import CachedCorpus
from img2imu_lib.store import CACHE_ENV


def per_image_ms(corpus: torch.utils.data.Dataset, count: int) -> float:
    """Milliseconds per image to read images 0 .. count - 1 of ``corpus`` in order."""
    started = time.perf_counter()
    for i in range(count):
        corpus[i]
    return (time.perf_counter() - started) / count * 1e3


def offline(images: int) -> None:
    corpus = OfflineCorpus(images, seed=0)
    print(f"{images:,} offline images, {torch.get_num_threads()} torch threads")
    print(f"rendered each time      {per_image_ms(corpus, images):9.3f} ms/image")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        cached = CachedCorpus(corpus, folder, progress=False)
        build = (time.perf_counter() - started) / images * 1e3
        print(f"building the cache      {build:9.3f} ms/image  ({cached.path.stat().st_size / 2**20:.1f} MiB)")
        print(f"read from the cache     {per_image_ms(cached, images):9.3f} ms/image")


def folder_check(root: Path) -> None:
    """Make ``ImageFolderCorpus(root)`` twice, with an empty cache, and print images/s of each."""
    files = [p for p in root.rglob("*") if p.is_file()]
    megabytes = sum(len(p.read_bytes()) for p in files) / 2**20  # read once: into the page cache
    print(f"\n{root}: {len(files):,} files, {megabytes:.1f} MiB")
    with tempfile.TemporaryDirectory() as cache:
        before, os.environ[CACHE_ENV] = os.environ.get(CACHE_ENV), cache
        try:
            for label in ("first time (empty cache)", "again (results kept)"):
                started = time.perf_counter()
                corpus = ImageFolderCorpus(root)
                seconds = time.perf_counter() - started
                n = len(corpus) + len(corpus.skipped)
                print(f"check, {label:25s} {n / seconds:10,.0f} images/s  ({seconds:.3f} s, fingerprint "
                      f"{corpus.fingerprint}, {len(corpus.skipped)} skipped)")
        finally:
            if before is None:
                del os.environ[CACHE_ENV]
            else:
                os.environ[CACHE_ENV] = before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1_000, help="images in the offline corpus")
    parser.add_argument("--folder", type=Path, default=None, help="image folder to check (default: imagenet-sample)")
    args = parser.parse_args()
    offline(args.images)
    try:
        folder = args.folder or imagenet_sample_folder()
    except FileNotFoundError as err:  # no shared data on this machine: the offline figures alone
        print(f"\nno folder check: {err}")
        return
    folder_check(folder)


if __name__ == "__main__":
    main()
