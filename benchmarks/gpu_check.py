"""GPU readiness of IMG2IMU pre-training: throughput, memory, NCCL DDP, exact resume, projected paper time.

    python benchmarks/gpu_check.py                          # on a CUDA GPU: batch 256, 96 x 128 images, < 5 min
    python benchmarks/gpu_check.py --json gpu_check.json    # the report also as JSON
    python benchmarks/gpu_check.py --device cpu --tiny      # CPU dry run of the same code at toy sizes

Without a CUDA GPU (and without --device cpu) it prints one line saying so and exits 0.
Sections of the report (PretrainConfig(method="img2imu"), channels last, one BatchNorm group):
  throughput  samples/s of the training step in fp32 and bf16 autocast: median of synchronised steps after warm-up
                bare step         forward, backward and optimizer step of MoCo on ready-made views
                device pipeline   the trainer's call ``method(batch, generators=...)`` on an image batch on the
                                  device, the views drawn there: device generators, and the device as torch's
                                  default device during the call (the augmentations make their random draws and
                                  index tensors with factory functions that take no device)
                library pipeline  the same call as ``pretrain`` makes it: batch and generators on the CPU,
                                  views drawn there and copied to the device
  memory      peak torch.cuda.max_memory_allocated of each (on the CPU: the process's peak RSS)
  ddp         pretrain() in a one-process group (NCCL; gloo on the CPU), the method in DistributedDataParallel
              and the trainer's collectives called (a world of one is made to report itself distributed)
  resume      N steps straight against N/2 steps, interrupted, then resumed by a fresh pretrain() call, in
              deterministic mode: largest difference over every tensor of the model state
  projection  wall time of the paper profile's image pre-training runs (book_runs) at each measured rate
Run folders and caches go to a temporary folder ($IMG2IMU_CACHE is set to it for this process).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import Dataset

import img2imu_lib as L
from img2imu_lib.book.profiles import PROFILES
from img2imu_lib.book.runs import book_runs
from img2imu_lib.images.spectrogram import normalize_images
from img2imu_lib.pretraining import distributed, trainer
from img2imu_lib.pretraining.config import PretrainConfig, bf16_hardware, read_checkpoint
from img2imu_lib.pretraining.distributed import World
from img2imu_lib.pretraining.methods import method_kind

IMAGENET_TRAIN = 1_281_167  # ImageNet-1k train images
MODES = ("bare", "device_pipeline", "library_pipeline")
SIZES = {  # batch, image size, warm-up steps, timed steps, DDP steps, resume steps N
    "full": {"batch": 256, "image": [96, 128], "warmup": 3, "steps": 20, "ddp_steps": 6, "resume_steps": 4},
    "tiny": {"batch": 8, "image": [48, 64], "warmup": 1, "steps": 1, "ddp_steps": 2, "resume_steps": 2},
}


class Images(Dataset):
    """``length`` images cycling through decoded ones held in memory; raises ``Interrupted`` after ``limit`` reads."""

    def __init__(self, images: torch.Tensor, length: int, origin: str, limit: int | None = None) -> None:
        self.images, self.length, self.origin, self.limit, self.reads = images, length, origin, limit, 0

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        self.reads += 1
        if self.limit is not None and self.reads > self.limit:
            raise Interrupted(f"stopped at read {self.reads}")
        return self.images[index % len(self.images)]

    def describe(self) -> dict[str, object]:
        return {"name": "gpu-check", "size": self.length, "origin": self.origin}


class Interrupted(Exception):
    """The corpus stopped a run, as a killed process would."""


class OneProcessWorld(World):
    """A world of one that reports itself distributed: the trainer wraps DDP and calls its collectives."""

    @property
    def distributed(self) -> bool:
        return True


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_mb(device: torch.device) -> float:
    """torch.cuda.max_memory_allocated on a GPU; the process's peak resident memory on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bf16_unsupported(device: torch.device) -> str | None:
    """Why bf16 autocast is not measured on ``device``, or None when the hardware computes it (bf16_hardware)."""
    hardware = bf16_hardware(device)
    return None if hardware["native"] else f"no native bf16 on {hardware}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(step: Callable[[], None], *, warmup: int, steps: int, batch: int, device: torch.device) -> dict:
    """Median samples/s of ``step`` over ``steps`` synchronised steps after ``warmup``, and the peak memory."""
    reset_peak(device)
    for _ in range(warmup):
        step()
    seconds = []
    for _ in range(steps):
        sync(device)
        started = time.perf_counter()
        step()
        sync(device)
        seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    return {"samples_per_s": batch / median, "median_step_s": median, "steps": steps, "peak_mb": peak_mb(device)}


def library_views_as_is(method: torch.nn.Module, batch: torch.Tensor) -> dict:
    """The method's views of a batch on the device with the trainer's CPU generators, unchanged."""
    try:
        views = method.views(batch[:8], generator=torch.Generator().manual_seed(0))
    except Exception as err:  # the augmentations' own tensors and draws live on the CPU
        return {"ok": False, "error": f"{type(err).__name__}: {str(err).splitlines()[0]}"}
    return {"ok": all(v.device == batch.device for v in views), "device": str(views[0].device)}


def throughput(config: PretrainConfig, images: torch.Tensor, device: torch.device, sizes: dict) -> dict:
    """The three step timings of ``config`` on a batch of ``images``, and where the device pipeline's views are."""
    if device.type == "cuda":
        torch.cuda.empty_cache()  # what an earlier call left in the allocator's cache
    method = trainer.initial_method(config, None, device)
    optimizer = method.optimizer(config.batch_size)
    cast = trainer.autocast(config, device)
    batch_cpu = images[:config.batch_size]
    batch = batch_cpu.to(device)

    def device_generators() -> list[torch.Generator]:
        return [torch.Generator(device=device).manual_seed(config.seed)]

    with torch.device(device):
        view_q, view_k = method.views(batch, generator=device_generators()[0])
    views = {"device_pipeline_views_on": str(view_q.device), "batch_on": str(batch.device),
             "library_as_is": library_views_as_is(method, batch)}
    if not view_q.device == view_k.device == batch.device:
        raise AssertionError(f"views on {view_q.device}, {view_k.device}; expected {batch.device}")
    ready = [normalize_images(v).contiguous(memory_format=torch.channels_last) for v in (view_q, view_k)]

    def bare() -> None:
        with cast:
            loss = method.net(*ready)[0]
        trainer.descend(optimizer, loss)

    on_device = device_generators()

    def device_pipeline() -> None:
        with torch.device(device), cast:
            loss = method(batch, generators=on_device)
        trainer.descend(optimizer, loss)

    on_cpu = [torch.Generator().manual_seed(config.seed)]

    def library_pipeline() -> None:
        with cast:
            loss = method(batch_cpu, generators=on_cpu)
        trainer.descend(optimizer, loss)

    steps = {"bare": bare, "device_pipeline": device_pipeline, "library_pipeline": library_pipeline}
    timings = {name: timed(fn, warmup=sizes["warmup"], steps=sizes["steps"], batch=config.batch_size, device=device)
               for name, fn in steps.items()}
    return {"timings": timings, "views": views}


def ddp_check(config: PretrainConfig, images: torch.Tensor, device: torch.device, steps: int, folder: Path) -> dict:
    """pretrain() for ``steps`` steps in a one-process group, the method wrapped in DistributedDataParallel."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()), "RANK": "0", "WORLD_SIZE": "1",
           "LOCAL_RANK": str(device.index or 0)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend, **({"device_id": device} if device.type == "cuda" else {}))
        seen = distributed.current()  # what the trainer itself sees in a world of one
        world = OneProcessWorld(rank=0, size=1, device=device)
        probe = torch.randn(4, 3, 6, 8, device=device)  # MoCo gathers channels-last views and NCHW keys
        gather_exact = all(torch.equal(world.gather(t), t) for t in (probe, probe.contiguous(
            memory_format=torch.channels_last)))
        corpus = Images(images, config.batch_size * steps, "decoded corpus images, in memory")
        run = dataclasses.replace(config, max_steps=steps, checkpoint_every=10**6)
        ddp = trainer.DistributedDataParallel
        with mock.patch.object(distributed, "current", lambda: world), \
             mock.patch.object(trainer, "DistributedDataParallel", side_effect=ddp) as wrap:
            record = pretrain_quiet(run, folder, corpus)
        return {"backend": dist.get_backend(), "world_size": dist.get_world_size(), "ran": record["steps"] == steps,
                "wrapped_in_ddp": wrap.call_count == 1, "trainer_alone_wraps_a_world_of_one": seen.distributed,
                "gather_exact": gather_exact,
                "precision": config.precision, "steps": record["steps"], "samples_per_s": record["samples_per_second"],
                "wall_s": record["wall_seconds"], "final_loss": record["final_loss"],
                "note": "samples/s of the whole run: first step, CPU augmentations and the final checkpoint included"}
    finally:
        distributed.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def pretrain_quiet(config: PretrainConfig, folder: Path, corpus: Dataset) -> dict:
    return trainer.pretrain(config, folder, corpus=corpus, progress=False)


@contextlib.contextmanager
def deterministic() -> Iterator[list[str]]:
    """Deterministic algorithms (warn only) and cuDNN; yields the ops torch reported as non-deterministic."""
    cudnn = torch.backends.cudnn
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              cudnn.deterministic, cudnn.benchmark)
    alerts: list[str] = []
    torch.use_deterministic_algorithms(True, warn_only=True)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield alerts
        alerts += sorted({str(w.message).split(" does not have")[0] for w in caught
                          if "does not have a deterministic implementation" in str(w.message)})
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        cudnn.deterministic, cudnn.benchmark = before[2:]


def resume_check(config: PretrainConfig, images: torch.Tensor, device: torch.device, steps: int, folder: Path) -> dict:
    """``steps`` steps straight against ``steps // 2``, interrupted, then resumed to ``steps`` by a fresh call."""
    half = steps // 2
    per_epoch = max(2, steps - 1)  # the resumed half crosses an epoch boundary when steps > 2
    run = dataclasses.replace(config, epochs=2, warmup_epochs=1, lr_peak=1e-3, lr_end=1e-4, max_steps=steps,
                              checkpoint_every=half)  # rates high enough that an inexact resume shows
    length = config.batch_size * per_epoch
    origin = "decoded corpus images, in memory"
    world = World(device=device)  # the trainer picks CUDA whenever it is present; this picks the checked device
    with deterministic() as alerts, mock.patch.object(distributed, "current", lambda: world):
        # the checkpoint interval is not part of the config's key: the straight run saves only at its end
        straight = pretrain_quiet(dataclasses.replace(run, checkpoint_every=steps), folder / "straight",
                                  Images(images, length, origin))
        try:
            pretrain_quiet(run, folder / "resumed", Images(images, length, origin, limit=half * config.batch_size))
            raise AssertionError("the interrupting corpus did not stop the run")
        except Interrupted:
            pass
        stopped_at = read_checkpoint(folder / "resumed" / "checkpoint.pt")["state"]["global_step"]
        resumed = pretrain_quiet(run, folder / "resumed", Images(images, length, origin))
    a = read_checkpoint(folder / "straight" / "checkpoint.pt")["model"]
    b = read_checkpoint(folder / "resumed" / "checkpoint.pt")["model"]
    if a.keys() != b.keys():
        raise AssertionError(f"the two runs' states differ in their keys: {sorted(set(a) ^ set(b))}")
    diff = max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
    scale = max(float(a[k].double().abs().max()) for k in a if a[k].is_floating_point())
    tolerance = 0.0 if not alerts else 1e-5 * scale  # exact unless torch ran an op it calls non-deterministic
    return {"steps": resumed["steps"], "straight_steps": straight["steps"], "resumed_from_step": stopped_at,
            "precision": config.precision, "deterministic_algorithms": True, "nondeterministic_ops": alerts,
            "tensors_compared": len(a), "max_abs_diff": diff, "max_abs_weight": scale, "tolerance": tolerance,
            "exact": diff == 0.0, "within_1e-5_relative": diff <= 1e-5 * scale,
            "tolerance_rule": "exact (0) with deterministic algorithms; 1e-5 x the largest weight if torch reported "
                              "a non-deterministic op", "losses_equal": straight["losses"] == resumed["losses"],
            "passed": diff <= tolerance and stopped_at == half and resumed["steps"] == steps}


def projection(rates: dict[str, float]) -> dict:
    """Hours of the paper profile's image pre-training runs at each measured rate (samples/s)."""
    sizes = PROFILES["paper"].pretraining
    every_run = book_runs("paper")
    runs = sorted(name for name, c in every_run.items() if method_kind(c.method) == "image")
    corpora = {"imagenet-1k": IMAGENET_TRAIN, "offline (profile's corpus_size)": sizes.corpus_size}
    samples = {name: sizes.epochs * (n // sizes.batch_size) * sizes.batch_size for name, n in corpora.items()}
    hours = {rate: {corpus: {"per_run_h": s / r / 3600, "all_runs_h": len(runs) * s / r / 3600}
                    for corpus, s in samples.items()} for rate, r in rates.items() if r > 0}
    return {"assumption": f"{sizes.epochs} epochs at batch {sizes.batch_size} (the last partial batch of an epoch "
                          f"dropped) over ImageNet-1k train ({IMAGENET_TRAIN:,} images, the paper's corpus) or over "
                          f"the profile's offline corpus ({sizes.corpus_size:,} images); every image run costs what "
                          f"img2imu costs; image decoding and the {len(every_run) - len(runs)} sensor-baseline runs are not counted",
            "image_runs": len(runs), "run_names": runs, "samples_per_run": samples, "hours": hours}


def environment(device: torch.device, sizes: dict, corpus: str) -> dict:
    info = {"torch": torch.__version__, "cuda_build": torch.version.cuda, "device": str(device),
            "threads": torch.get_num_threads(), "corpus": corpus, **sizes}
    if device.type == "cuda":
        info |= {"gpu": torch.cuda.get_device_name(device), "cudnn": torch.backends.cudnn.version(),
                 "nccl": nccl_version(),
                 "tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "tf32_cudnn": torch.backends.cudnn.allow_tf32,
                 "cudnn_benchmark": torch.backends.cudnn.benchmark,
                 "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG")}
    return info


def nccl_version() -> str:
    version = torch.cuda.nccl.version()  # a tuple, or an int in old releases
    return ".".join(map(str, version)) if isinstance(version, tuple) else str(version)


def corpus_images(n: int, size: list[int]) -> tuple[torch.Tensor, str]:
    """``n`` images of the ImageNet sample where it is on the data path, else of the offline corpus (both
    3 x 96 x 128), resized to ``size``."""
    source = L.load_corpus("imagenet-sample") if L.find_data("imagenet-sample") else \
        L.load_corpus("offline", length=n, cache=False)
    images = torch.stack([source[i % len(source)] for i in range(n)])
    if list(images.shape[-2:]) != size:
        images = F.interpolate(images, size=size, mode="bilinear", antialias=True).clamp(0.0, 1.0)
    return images, json.dumps(source.describe())


def run_section(seconds: dict[str, float], name: str, fn: Callable[[], dict]) -> dict:
    """``fn()``, or the error it raised (the other sections still run); its wall time goes to ``seconds``."""
    started = time.perf_counter()
    try:
        result = fn()
    except Exception as err:
        result = {"error": f"{type(err).__name__}: {err}"}
    seconds[name] = time.perf_counter() - started
    return result


def check(args: argparse.Namespace, device: torch.device, folder: Path) -> dict:
    sizes = dict(SIZES["tiny" if args.tiny else "full"])
    sizes |= {k: v for k, v in (("batch", args.batch), ("steps", args.steps)) if v}
    seconds: dict[str, float] = {}
    images, corpus = corpus_images(sizes["batch"], sizes["image"])
    report: dict = {"dry_run": device.type != "cuda", "tiny": args.tiny,
                    "label": "CPU dry run: toy sizes, not a GPU result" if device.type != "cuda" else
                    "GPU result" + (" (toy sizes)" if args.tiny else ""),
                    "environment": environment(device, sizes, corpus)}
    base = PretrainConfig(method="img2imu", batch_size=sizes["batch"], channels_last=True)
    unsupported = bf16_unsupported(device)
    results = {p: {"skipped": unsupported} if p == "bf16" and unsupported else run_section(
        seconds, f"throughput {p}", lambda: throughput(dataclasses.replace(base, precision=p), images, device, sizes))
        for p in ("fp32", "bf16")}
    report["views"] = {p: r["views"] for p, r in results.items() if "views" in r}
    report["throughput"] = {p: {m: {k: t[k] for k in ("samples_per_s", "median_step_s", "steps")}
                                for m, t in r["timings"].items()} if "timings" in r else r for p, r in results.items()}
    report["memory"] = {"source": "torch.cuda.max_memory_allocated" if device.type == "cuda" else
                        "process peak RSS (ru_maxrss), CPU dry run",
                        **{p: {m: t["peak_mb"] for m, t in r["timings"].items()} if "timings" in r else r
                           for p, r in results.items()}}
    fast = dataclasses.replace(base, precision="fp32" if unsupported else "bf16")
    report["ddp"] = run_section(seconds, "ddp", lambda: ddp_check(fast, images, device, sizes["ddp_steps"],
                                                                  folder / "ddp"))
    report["resume"] = run_section(seconds, "resume", lambda: resume_check(fast, images, device,
                                                                           sizes["resume_steps"], folder / "resume"))
    rates = {f"{m} {p}": t["samples_per_s"] for p, r in results.items() if "timings" in r
             for m, t in r["timings"].items()}
    if "samples_per_s" in report["ddp"]:
        rates[f"ddp pretrain() {fast.precision}"] = report["ddp"]["samples_per_s"]
    report["projection"] = run_section(seconds, "projection", lambda: projection(rates))
    failures = [f"throughput {p}" for p, r in results.items() if "error" in r]
    failures += [name for name in ("ddp", "resume", "projection") if "error" in report[name]]
    ddp = report["ddp"]
    failures += [] if ddp.get("ran") and ddp.get("wrapped_in_ddp") and ddp.get("gather_exact") else ["ddp"]
    failures += [] if report["resume"].get("passed") else ["resume"]
    report["failures"] = sorted(set(failures))
    report["ok"] = not report["failures"]
    report["section_s"] = seconds
    return report


def print_report(report: dict) -> None:
    env = report["environment"]
    print(f"IMG2IMU GPU check -- {report['label']}")
    print(f"  {env.get('gpu', 'CPU')}; torch {env['torch']}, CUDA build {env['cuda_build']}"
          + (f", cuDNN {env['cudnn']}, NCCL {env['nccl']}" if "gpu" in env else f", {env['threads']} threads"))
    print(f"  batch {env['batch']}, images {env['image'][0]} x {env['image'][1]}, channels last; {env['warmup']} "
          f"warm-up + {env['steps']} timed steps (median); corpus {env['corpus']}")
    for precision, views in report["views"].items():
        as_is = views["library_as_is"]
        print(f"  views [{precision}]: device pipeline draws them on {views['device_pipeline_views_on']} (batch on "
              f"{views['batch_on']}); library as is with CPU generators: "
              + (f"on {as_is['device']}" if as_is["ok"] else as_is.get("error", "not on the device")))
    print("throughput (samples/s) and peak memory (MiB, " + report["memory"]["source"] + ")")
    for precision, modes in report["throughput"].items():
        if "skipped" in modes or "error" in modes:
            print(f"  {precision:5} {modes.get('skipped') or modes.get('error')}")
            continue
        for mode, t in modes.items():
            print(f"  {precision:5} {mode:17} {t['samples_per_s']:10.1f}   step {1000 * t['median_step_s']:9.2f} ms   "
                  f"peak {report['memory'][precision][mode]:9.1f} MiB")
    ddp = report["ddp"]
    if "error" in ddp:
        print(f"ddp: ERROR {ddp['error']}")
    else:
        print(f"ddp: {ddp['backend']}, world {ddp['world_size']}, DDP-wrapped {ddp['wrapped_in_ddp']}, ran "
              f"{ddp['steps']} steps ({ddp['precision']}): {ddp['samples_per_s']:.1f} samples/s, final loss "
              f"{ddp['final_loss']:.4f}; gather exact {ddp['gather_exact']} (the trainer alone wraps a world of one: "
              f"{ddp['trainer_alone_wraps_a_world_of_one']})")
    res = report["resume"]
    if "error" in res:
        print(f"resume: ERROR {res['error']}")
    else:
        print(f"resume: {res['straight_steps']} steps straight vs {res['resumed_from_step']}, interrupted, resumed to "
              f"{res['steps']} ({res['precision']}, deterministic algorithms): max |diff| {res['max_abs_diff']:.3g} over "
              f"{res['tensors_compared']} tensors (exact {res['exact']}, within 1e-5 relative "
              f"{res['within_1e-5_relative']}), tolerance {res['tolerance']:.3g}, losses equal {res['losses_equal']}: "
              f"{'PASS' if res['passed'] else 'FAIL'}")
        if res["nondeterministic_ops"]:
            print(f"  ops torch reported non-deterministic: {', '.join(res['nondeterministic_ops'])}")
    proj = report["projection"]
    if "error" in proj:
        print(f"projection: ERROR {proj['error']}")
    else:
        print(f"projection: paper profile, {proj['image_runs']} image pre-training runs; {proj['assumption']}")
        print(f"  {'at the rate of':30} {'ImageNet-1k h/run':>18} {'h all runs':>12} {'offline h/run':>14} "
              f"{'h all runs':>12}")
        for rate, corpora in proj["hours"].items():
            print(f"  {rate:30} " + " ".join(f"{h['per_run_h']:{w}.2f} {h['all_runs_h']:12.2f}"
                                             for h, w in zip(corpora.values(), (18, 14))))
    print("section seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report["section_s"].items()))
    print(("all checks passed" if report["ok"] else f"FAILED: {', '.join(report['failures'])}")
          + f" ({report['wall_s']:.1f} s){'; CPU dry run, not a GPU result' if report['dry_run'] else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu: a dry run of the same code")
    parser.add_argument("--tiny", action="store_true", help="toy sizes: batch 8, 48 x 64 images, 1 warm-up and 1 "
                                                            "timed step")
    parser.add_argument("--batch", type=int, default=0, help="override the batch (default 256; --tiny 8)")
    parser.add_argument("--steps", type=int, default=0, help="override the timed steps (default 20; --tiny 1)")
    parser.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = parser.parse_args()
    if args.device == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS determinism; read at CUDA start
        if not torch.cuda.is_available():
            build = f"CUDA build {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            print(f"no CUDA GPU found (torch {torch.__version__}, {build}); nothing measured "
                  f"(--device cpu --tiny runs a CPU dry run)")
            if args.json:
                args.json.write_text(json.dumps({"cuda_available": False, "torch": torch.__version__,
                                                 "cuda_build": torch.version.cuda}, indent=1))
            return 0
    device = torch.device("cuda", torch.cuda.current_device()) if args.device == "cuda" else torch.device("cpu")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="img2imu-gpu-check-") as folder:
        os.environ["IMG2IMU_CACHE"] = str(Path(folder) / "cache")
        report = check(args, device, Path(folder))
    report["wall_s"] = time.perf_counter() - started
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
