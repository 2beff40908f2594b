"""Time per image of the offline corpus: rendered each time, building its cache, and read from the cache.

    python benchmarks/bench_corpus_cache.py               # 1,000 images
    python benchmarks/bench_corpus_cache.py --images 100  # a quick run

The cache is built in a temporary folder, deleted afterwards; one process, no DataLoader workers.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from img2imu_lib.pretraining.corpora import OfflineCorpus
from img2imu_lib.pretraining.corpus_cache import CachedCorpus


def per_image_ms(corpus: torch.utils.data.Dataset, count: int) -> float:
    """Milliseconds per image to read images 0 .. count - 1 of ``corpus`` in order."""
    started = time.perf_counter()
    for i in range(count):
        corpus[i]
    return (time.perf_counter() - started) / count * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1_000, help="images in the corpus")
    args = parser.parse_args()
    corpus = OfflineCorpus(args.images, seed=0)
    print(f"{args.images:,} offline images, {torch.get_num_threads()} torch threads")
    print(f"rendered each time      {per_image_ms(corpus, args.images):9.3f} ms/image")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        cached = CachedCorpus(corpus, folder, progress=False)
        build = (time.perf_counter() - started) / args.images * 1e3
        print(f"building the cache      {build:9.3f} ms/image  ({cached.path.stat().st_size / 2**20:.1f} MiB)")
        print(f"read from the cache     {per_image_ms(cached, args.images):9.3f} ms/image")


if __name__ == "__main__":
    main()
