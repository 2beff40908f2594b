"""Pre-training throughput: the trainer's pipeline against the bare model step and a per-image pipeline.

    python benchmarks/bench_pretrain.py                          # batch 64, 8 timed steps, 3 repeats
    python benchmarks/bench_pretrain.py --batch 8 --steps 1 --repeats 1   # a quick run

Three ways of training IMG2IMU's MoCo ResNet18 on the same images, in one process, with the settings
the cpu profile trains with (channels-last; precision ``auto``: bf16 only where the CPU has bfloat16
matrix units, else fp32):
  bare step   forward, backward and optimizer step on two views made once beforehand: the floor
  pipeline    the trainer itself (``trainer.train_one_epoch``): images read from the decoded uint8
              corpus cache by a DataLoader, both views augmented as a batch, the step
  per-image   the original MoCo code's way: each image decoded from its file into PIL and augmented
              on its own (MoCo v2's transforms) in DataLoader worker processes, then the step
After one untimed round of each, the three are timed in turn, ``--repeats`` times, so that a change in
the machine's load hits them alike; every figure is the median over repeats with its range, and the two ratios are also given per
repeat. Options add the pipeline with ``torch.compile`` and the per-image pipeline from the cache.
The images are the ImageNet sample where it is on the data path, else the offline corpus.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2
from tqdm import tqdm

import img2imu_lib as L
from img2imu_lib.images.spectrogram import IMAGENET_MEAN, IMAGENET_STD
from img2imu_lib.pretraining import trainer
from img2imu_lib.pretraining.config import PretrainConfig, bf16_hardware, resolve_precision
from img2imu_lib.pretraining.corpus_cache import CachedCorpus
from img2imu_lib.pretraining.distributed import World


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
        image = self.corpus.image(index) if hasattr(self.corpus, "image") else self._pil(index)
        return self.transform(image), self.transform(image)

    def _pil(self, index: int) -> Image.Image:
        return Image.fromarray((self.corpus[index].permute(1, 2, 0).numpy() * 255).round().astype("uint8"))


class Files(Dataset):
    """The image files of a folder corpus, decoded into PIL per item (as torchvision's ImageFolder reads)."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = list(paths)

    def __len__(self) -> int:
        return len(self.paths)

    def image(self, index: int) -> Image.Image:
        with Image.open(self.paths[index]) as image:
            return image.convert("RGB")


def per_image_rate(loader: DataLoader, method, optimizer, config: PretrainConfig, steps: int) -> float:
    """Samples/s of the step on views the per-image loader makes (its first batch is the warm-up)."""
    def step(views: list[torch.Tensor]) -> None:
        view_q, view_k = (v.contiguous(memory_format=torch.channels_last) for v in views)
        with trainer.autocast(config, torch.device("cpu")):
            loss = method.net(view_q, view_k)[0]
        trainer.descend(optimizer, loss)
    return timed(iter(loader), step, steps, config.batch_size)


def timed(batches: Iterable, step: Callable, steps: int, batch_size: int) -> float:
    """Samples/s of ``step`` over ``steps`` batches, after one warm-up batch; loading counts."""
    batches = iter(batches)
    step(next(batches))
    started = time.perf_counter()
    for batch in itertools.islice(batches, steps):
        step(batch)
    return steps * batch_size / (time.perf_counter() - started)


def pipeline_rate(run: trainer.Run, corpus: Dataset, steps: int) -> float:
    """Samples/s of ``trainer.train_one_epoch`` over ``steps`` batches after a one-step warm-up."""
    config = run.config
    def epoch(count: int) -> None:
        sampler = trainer.EpochOrder(len(corpus), config.batch_size, seed=config.seed, epoch=run.state["epoch"],
                                     start=run.state["step"])
        loader = DataLoader(corpus, batch_sampler=sampler, num_workers=config.num_workers)
        with tqdm(disable=True) as bar:  # never at the run's last step, so never a checkpoint
            trainer.train_one_epoch(run, itertools.islice(loader, count), bar)
        if run.state["step"] >= run.steps_per_epoch:
            run.state.update(epoch=run.state["epoch"] + 1, step=0)
    epoch(1)
    started = time.perf_counter()
    done = run.state["global_step"]
    while run.state["global_step"] - done < steps:
        epoch(steps - (run.state["global_step"] - done))
    return steps * config.batch_size / (time.perf_counter() - started)


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f}  ({min(values):.1f} to {max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8, help="timed steps of each pipeline in each repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the per-image pipeline")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    parser.add_argument("--compile", action="store_true", help="also time the pipeline with torch.compile of the model")
    parser.add_argument("--per-image-from-cache", action="store_true",
                        help="also time the per-image pipeline reading the decoded cache instead of the files")
    args = parser.parse_args()

    on_path = L.find_data("imagenet-sample")
    source = L.load_corpus("imagenet-sample") if on_path else L.load_corpus("offline", length=1000, cache=False)
    files = Files(source.files) if on_path else None  # the offline corpus has no files: its images go through PIL
    precision = resolve_precision(args.precision)
    # more epochs than the benchmark reaches: a run at its last step would checkpoint and stop at every call
    config = PretrainConfig(batch_size=args.batch, corpus=str(source.describe().get("name")), channels_last=True,
                            precision=precision, checkpoint_every=10**9, lr_peak=1e-3, warmup_epochs=1, epochs=10**6)
    print(f"images: {source.describe()}")
    print(f"batch {args.batch}, {args.steps} timed steps x {args.repeats} repeats, channels last, {precision} "
          f"(bf16 hardware: {bf16_hardware('cpu')}), {torch.get_num_threads()} threads")

    with tempfile.TemporaryDirectory() as folder:
        cached = CachedCorpus(source, folder, progress=False, workers=args.workers)
        world = World()
        run = trainer.start(config, cached, Path(folder) / "checkpoint.pt", world)
        method, optimizer = run.method, run.optimizer
        ready = method.views(torch.stack([cached[i] for i in range(args.batch)]), generator=torch.Generator().manual_seed(0))
        ready = [method.model_input(v) for v in ready]

        def bare_step(_: object) -> None:
            with trainer.autocast(config, torch.device("cpu")):
                loss = method.net(*ready)[0]
            trainer.descend(optimizer, loss)

        per_image_source = PerImage(files if files is not None else source)
        per_image = DataLoader(per_image_source, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                               drop_last=True, persistent_workers=args.workers > 0)
        extra: dict[str, Callable[[int], float]] = {}
        if args.per_image_from_cache:
            from_cache = DataLoader(PerImage(cached), batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                    drop_last=True, persistent_workers=args.workers > 0)
            extra["per-image, from the cache"] = lambda steps: per_image_rate(from_cache, method, optimizer, config, steps)
        if args.compile:  # a second run of the same config, its model (not the augmentations) compiled in place
            compiled = trainer.start(config, cached, Path(folder) / "compiled.pt", world)
            compiled.method.net.compile()
            extra["pipeline, torch.compile"] = lambda steps: pipeline_rate(compiled, cached, steps)

        measures: dict[str, Callable[[int], float]] = {
            "bare step": lambda steps: timed(itertools.repeat(None), bare_step, steps, args.batch),
            "pipeline": lambda steps: pipeline_rate(run, cached, steps),
            "per-image": lambda steps: per_image_rate(per_image, method, optimizer, config, steps),
            **extra}
        for measure in measures.values():  # an untimed round first: workers started, kernels chosen, pages touched
            measure(2)
        figures: dict[str, list[float]] = {}
        for _ in tqdm(range(args.repeats), desc="repeats"):
            for name, measure in measures.items():
                figures.setdefault(name, []).append(measure(args.steps))

    print("\nsamples/s, median over repeats (range)")
    for name, values in figures.items():
        print(f"  {name:28s} {summary(values)}")
    bare, ours, theirs = figures["bare step"], figures["pipeline"], figures["per-image"]
    overhead = [100 * (b / o - 1) for b, o in zip(bare, ours)]
    speedup = [o / t for o, t in zip(ours, theirs)]
    print(f"\npipeline overhead over the bare step: median {statistics.median(overhead):.1f} % "
          f"(per repeat: {', '.join(f'{v:.1f}' for v in overhead)}; goal: within 10 %)")
    print(f"pipeline / per-image: median {statistics.median(speedup):.2f}x "
          f"(per repeat: {', '.join(f'{v:.2f}' for v in speedup)}; goal: at least 1.5x in every repeat)")


if __name__ == "__main__":
    main()
