"""Pre-training throughput: the whole pipeline against the bare model step and a per-image pipeline.

    python benchmarks/bench_pretrain.py                     # batch 64, 5 timed steps each
    python benchmarks/bench_pretrain.py --batch 8 --steps 1 # a quick run

Measurements in one process, same corpus and model (MoCo ResNet18, IMG2IMU augmentations
for ours, MoCo v2's for the per-image pipeline, which is what the original MoCo code runs):
  bare step   the forward, backward and optimizer step on ready-made batches
  pipeline    img2imu_lib: images read by a DataLoader, two views augmented as a batch, step
  per-image   MoCo-style: PIL images augmented one by one in DataLoader workers, step (NCHW)
then the bare step and our pipeline again with the channels-last memory layout the cpu profile
uses, and our pipeline reading the images from a decoded uint8 cache (corpus_cache) instead of
decoding JPEG files every epoch.
The corpus is the ImageNet sample where it is on the data path, else the offline corpus.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import tempfile
import time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

import img2imu_lib as L
from img2imu_lib.images.spectrogram import IMAGENET_MEAN, IMAGENET_STD
from img2imu_lib.images.spectrogram import normalize_images
from img2imu_lib.pretraining.corpus_cache import CachedCorpus
from img2imu_lib.pretraining.methods import build
from img2imu_lib.pretraining.config import PretrainConfig


class PerImage(Dataset):
    """Two MoCo v2 views per image, made with PIL-input torchvision transforms in the worker."""

    def __init__(self, corpus: Dataset) -> None:
        self.corpus = corpus
        self.transform = v2.Compose([
            v2.RandomResizedCrop((96, 128), scale=(0.2, 1.0)),
            v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), v2.RandomGrayscale(p=0.2),
            v2.RandomApply([v2.GaussianBlur(9, (0.1, 2.0))], p=0.5), v2.RandomHorizontalFlip(),
            v2.PILToTensor(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(IMAGENET_MEAN), list(IMAGENET_STD)),
        ])

    def __len__(self) -> int:
        return len(self.corpus)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = Image.fromarray((self.corpus[index].permute(1, 2, 0).numpy() * 255).astype("uint8"))
        return self.transform(image), self.transform(image)


def step(model, optimizer, view_q, view_k) -> None:
    loss, _ = model(view_q, view_k)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def rate(batches, model, optimizer, steps: int, prepare) -> float:
    batches = iter(batches)
    step(model, optimizer, *prepare(next(batches)))  # warm-up
    start = time.perf_counter()
    for batch in itertools.islice(batches, steps):
        step(model, optimizer, *prepare(batch))
    return steps * len(batch[0] if isinstance(batch, (list, tuple)) else batch) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of both pipelines")
    args = parser.parse_args()
    corpus = (L.load_corpus("imagenet-sample") if L.find_data("imagenet-sample")
              else L.load_corpus("offline", length=2000, cache=False))
    print(f"corpus: {corpus.describe()}; batch {args.batch}; {args.steps} timed steps; {torch.get_num_threads()} threads")
    config = PretrainConfig(batch_size=args.batch)
    method = build(config)
    model, optimizer, views = method.net, method.optimizer(config.batch_size), method.views
    generator = torch.Generator().manual_seed(0)
    loader = DataLoader(corpus, batch_size=args.batch, shuffle=True, num_workers=args.workers, drop_last=True,
                        persistent_workers=args.workers > 0)
    ready = [tuple(normalize_images(v) for v in views(next(iter(loader)), generator=generator))] * (args.steps + 1)
    bare = rate(ready, model, optimizer, args.steps, lambda b: b)
    ours = rate(loader, model, optimizer, args.steps, lambda b: tuple(normalize_images(v) for v in views(b, generator=generator)))
    per_image = DataLoader(PerImage(corpus), batch_size=args.batch, shuffle=True, num_workers=args.workers, drop_last=True)
    theirs = rate(per_image, model, optimizer, args.steps, lambda b: b)
    fast = build(dataclasses.replace(config, channels_last=True)).to(memory_format=torch.channels_last)
    fast_model, fast_optimizer = fast.net, fast.optimizer(config.batch_size)
    nhwc = lambda views: tuple(v.contiguous(memory_format=torch.channels_last) for v in views)  # noqa: E731
    bare_fast = rate(ready, fast_model, fast_optimizer, args.steps, nhwc)
    ours_fast = rate(loader, fast_model, fast_optimizer, args.steps,
                     lambda b: nhwc(normalize_images(v) for v in views(b, generator=generator)))
    with tempfile.TemporaryDirectory() as folder:  # the corpus decoded once into a uint8 cache (corpus_cache)
        cached = DataLoader(CachedCorpus(corpus, folder, progress=False, workers=args.workers), batch_size=args.batch,
                            shuffle=True, num_workers=args.workers, drop_last=True, persistent_workers=args.workers > 0)
        ours_cached = rate(cached, fast_model, fast_optimizer, args.steps,
                           lambda b: nhwc(normalize_images(v) for v in views(b, generator=generator)))
    print(f"  bare model step                     {bare:8.1f} samples/s")
    print(f"  img2imu_lib pipeline                {ours:8.1f} samples/s  (overhead {100 * (bare / ours - 1):.1f}% of the step time)")
    print(f"  per-image pipeline                  {theirs:8.1f} samples/s  (img2imu_lib is {ours / theirs:.2f}x)")
    print(f"  bare model step, channels last      {bare_fast:8.1f} samples/s")
    print(f"  img2imu_lib pipeline, channels last {ours_fast:8.1f} samples/s  (overhead {100 * (bare_fast / ours_fast - 1):.1f}%; "
          f"{ours_fast / theirs:.2f}x the per-image pipeline)")
    print(f"  ... and from the decoded-image cache {ours_cached:7.1f} samples/s  (overhead {100 * (bare_fast / ours_cached - 1):.1f}%; "
          f"{ours_cached / theirs:.2f}x the per-image pipeline)")


if __name__ == "__main__":
    main()
