"""The pre-training loop for every method: ``train_one_epoch`` and the resumable ``pretrain`` around it.

One process, or one per GPU under ``torchrun`` (the method wrapped in DistributedDataParallel,
MoCo's keys gathered from every process and its BatchNorm shuffled across them, see
``moco.MoCo.forward``). Only the main process writes checkpoints, records and the progress bar.
At the steps ``config.snapshots`` names, the backbone is kept as ``snapshot-<step>.pt`` beside the
checkpoint (``run_backbones.snapshot_backbone`` reads one back), for learning curves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from . import distributed
from .distributed import World
from ..store import UnreadableFile, commit, remove_stale_temporaries, save_atomic
from .run_backbones import kept_snapshots, missing_snapshots, snapshot_name
from .methods import build, corpus_facts, load_corpus_for
from .config import EpochOrder, PretrainConfig, bf16_hardware, config_differences, load_checkpoint
from ..progress import progress_bar


@dataclass
class Run:
    """Everything a run carries from step to step; ``checkpoint()`` saves all of it."""

    config: PretrainConfig
    method: nn.Module  # the method itself (its state is what a checkpoint and the evaluation load)
    model: nn.Module  # what is called: the method, or the method inside DistributedDataParallel
    optimizer: torch.optim.Optimizer
    generators: list[torch.Generator]  # augmentation draws, one per BatchNorm group of this process
    shuffle: torch.Generator  # draws the permutation of MoCo's shuffled BatchNorm; the same in every process
    state: dict  # epoch, step (in the epoch), global_step, losses, accuracies, snapshots (step -> file), seconds
    steps_per_epoch: int
    total_steps: int
    world: World
    path: Path  # checkpoint.pt
    corpus_facts: dict  # what building the method read from the corpus (methods.corpus_facts)
    started: float = 0.0  # perf_counter at the start of this session, less the seconds of earlier ones

    def checkpoint(self) -> None:
        """Save everything needed to resume exactly (every process's generators included), atomically."""
        self.state["seconds"] = time.perf_counter() - self.started
        states = [s for part in self.world.gather_objects([g.get_state() for g in self.generators]) for s in part]
        global_states = self.world.gather_objects(torch.get_rng_state())  # dropout draws from the global generator
        if self.world.main:
            save_atomic({"config": self.config.as_dict(), "config_key": self.config.key(), "model": self.method.state_dict(),
                         "optimizer": self.optimizer.state_dict(), "generators": states, "torch_rng": global_states,
                         "shuffle": self.shuffle.get_state(), "state": self.state, "corpus_facts": self.corpus_facts},
                        self.path)
        self.world.barrier()

    def snapshot(self) -> None:
        """Keep the backbone (``method.backbone()``) at this step as ``snapshot-<step>.pt``: a state dict of
        tensors only, written atomically and listed in the state (so the next checkpoint knows it)."""
        step = self.state["global_step"]
        if self.world.main:
            weights = {k: v.detach().cpu().clone() for k, v in self.method.backbone().state_dict().items()}
            save_atomic(weights, self.path.parent / snapshot_name(step))
        self.state["snapshots"][str(step)] = snapshot_name(step)  # JSON's keys are strings

    def set_learning_rate(self) -> float:
        epoch = self.state["epoch"] + self.state["step"] / self.steps_per_epoch
        return set_learning_rate(self.method, self.optimizer, self.config, epoch)


def set_learning_rate(method: nn.Module, optimizer: torch.optim.Optimizer, config: PretrainConfig, epoch: float) -> float:
    """The method's rate at fractional ``epoch``, applied to every parameter group not marked ``fixed_lr``."""
    lr = method.learning_rate(min(epoch, config.epochs), epochs=config.epochs, batch_size=config.batch_size)
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] if group.get("fixed_lr") else lr
    return lr


def train_one_epoch(run: Run, loader: DataLoader, bar: tqdm) -> dict:
    """Train from ``run.state['step']`` to the end of the epoch (or the run's last step); returns the state."""
    run.model.train()
    state, groups = run.state, run.config.groups
    for batch in loader:
        lr = run.set_learning_rate()
        permutation = torch.randperm(run.config.batch_size, generator=run.shuffle) if groups > 1 else None
        with autocast(run.config, run.world.device):
            loss = run.model(batch, generators=run.generators, permutation=permutation, gather=run.world.gather,
                             rank=run.world.rank)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at step {state['global_step']} (epoch {state['epoch']}); "
                                     f"the last good checkpoint is kept")
        descend(run.optimizer, loss)
        state["step"] += 1
        state["global_step"] += 1
        state["losses"].append(_mean_over_processes(loss.detach(), run.world))
        accuracy = run.method.accuracy()  # MoCo's InfoNCE top-1 accuracy of this batch, None for the others
        state["accuracies"].append(None if accuracy is None else _mean_over_processes(accuracy, run.world))
        bar.update(1)
        bar.set_postfix(loss=f"{state['losses'][-1]:.3f}", lr=f"{lr:.2e}", epoch=state["epoch"],
                        samples_s=f"{bar.format_dict['rate'] * run.config.batch_size:.1f}" if bar.format_dict.get("rate") else "-")
        if state["global_step"] in run.config.snapshots:
            run.snapshot()  # before the checkpoint, so a checkpoint lists every snapshot up to its step
        if state["global_step"] % run.config.checkpoint_every == 0 or state["global_step"] >= run.total_steps:
            run.checkpoint()
        if state["global_step"] >= run.total_steps:
            break
    return state


def pretrain(config: PretrainConfig, out_dir: str | Path, *, corpus: Dataset | None = None, progress: bool = True) -> dict:
    """Pre-train (or resume, or reuse a finished run) and return its record.

    Under torchrun (``distributed.init_from_env()`` called first) every process calls this with the
    same config; ``config.batch_size`` is the batch of all processes together.
    """
    world = distributed.current()
    config = dataclasses.replace(config, groups=max(config.groups, world.size))  # per-process BatchNorm at least
    if config.groups % world.size:
        raise ValueError(f"groups={config.groups} is not a multiple of the {world.size} processes")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: a file, not a run folder; give a folder for checkpoint.pt and record.json")
    out.mkdir(parents=True, exist_ok=True)
    with run_folder_lock(out, world):
        record = finished_record(out, config)
        if record is not None:
            return record
        if world.main:
            for stale in remove_stale_temporaries(out):
                tqdm.write(f"removed {stale}: a temporary file left by a process that no longer runs")
        world.barrier()
        corpus = corpus if corpus is not None else load_corpus_for(config, progress=progress and world.main)
        return _train(config, corpus, out, world, progress)


def _train(config: PretrainConfig, corpus: Dataset, out: Path, world: World, progress: bool) -> dict:
    run = start(config, corpus, out / "checkpoint.pt", world)
    if run.state["global_step"] == 0 and 0 in config.snapshots:
        run.snapshot()  # the initial weights, before any gradient step
    with progress_bar(total=run.total_steps, initial=run.state["global_step"], desc=f"pre-training {config.method}",
                      disable=not (progress and world.main)) as bar:
        while run.state["global_step"] < run.total_steps:
            sampler = EpochOrder(len(corpus), config.batch_size, seed=config.seed, epoch=run.state["epoch"],
                                 start=run.state["step"], rank=world.rank, world=world.size)
            # its own generator: a loader seeding its workers from the global one would shift dropout's draws on resume
            loader = DataLoader(corpus, batch_sampler=sampler, num_workers=config.num_workers,
                                generator=torch.Generator().manual_seed(config.seed * 100_003 + run.state["epoch"]))
            train_one_epoch(run, loader, bar)
            if run.state["step"] >= run.steps_per_epoch:
                run.state["epoch"] += 1
                run.state["step"] = 0
    failed = getattr(corpus, "failed", None)  # an image folder's files that failed after its check, per process
    if isinstance(failed, torch.Tensor) and world.distributed:
        for flags in world.gather_objects(failed.clone()):
            failed |= flags  # so the main process's record counts every process's skips
    record = make_record(run, corpus)
    if world.main:
        save_atomic(json.dumps(record, indent=1), out / "record.json")
    world.barrier()
    return record


def finished_record(out: Path, config: PretrainConfig) -> dict | None:
    """The record of a finished run of ``config`` in ``out``, None when there is none; a finished run of another
    config is an error naming the fields that differ (it is never trained over). A record is only trusted beside a readable checkpoint of the same config at its
    last step: a damaged or missing ``checkpoint.pt`` is a clear error, never a finished run."""
    path = out / "record.json"
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UnreadableFile(f"{path}: not a run record, cut short or damaged ({err}); delete it (the checkpoint "
                             f"beside it resumes the run)") from err
    if not isinstance(record, dict) or not isinstance(record.get("steps"), int):
        raise UnreadableFile(f"{path}: not a run record of this library (expected a JSON object with config_key and "
                             f"steps); delete it")
    if record.get("config_key") != config.key():
        try:
            changed = config_differences(PretrainConfig.from_dict(record["config"]), config)
        except (KeyError, TypeError, ValueError):
            changed = "a config this version cannot read"
        raise ValueError(f"{path}: a finished run of another config ({changed}); use another folder, or delete the "
                         f"folder to train this config in it")
    checkpoint = out / "checkpoint.pt"
    if not checkpoint.exists():
        raise FileNotFoundError(f"{path} says the run finished, but {checkpoint} is missing; delete the record to "
                                f"train again")
    saved = load_checkpoint(checkpoint, config)
    if saved["state"]["global_step"] != record["steps"]:
        raise UnreadableFile(f"{checkpoint} is at step {saved['state']['global_step']}, but {path} says the run "
                             f"finished at step {record['steps']}; delete the record to resume from the checkpoint")
    missing = missing_snapshots(config, saved["state"], out)
    if missing:
        raise ValueError(f"{out}: a finished run of {record['steps']} steps without snapshots at steps {missing} "
                         f"(it kept {sorted(kept_snapshots(out, saved['state'])) or 'none'}; a run keeps a snapshot "
                         f"only while it trains past its step): drop them from snapshots, or delete the folder to "
                         f"train again")
    return record


class RunFolderInUse(RuntimeError):
    """Another process is pre-training in the run folder."""


@contextlib.contextmanager
def run_folder_lock(out: Path, world: World) -> Iterator[None]:
    """Hold ``out/.lock`` (the main process) while a run trains there: a second process pre-training into the same
    folder gets a clear error instead of writing over its checkpoints. The lock goes with its process (even
    ``kill -9``)."""
    if not world.main:
        yield
        return
    import fcntl

    with open(out / ".lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise RunFolderInUse(f"{out} is in use by {holder}, which is pre-training there; wait for it or use "
                               f"another --out folder") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"process {os.getpid()}")
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)


def start(config: PretrainConfig, corpus: Dataset, path: Path, world: World) -> Run:
    """A new run, or the one saved at ``path`` (a clear error if it is damaged or from another config)."""
    method = initial_method(config, corpus, world.device)
    optimizer = method.optimizer(config.batch_size)
    local = config.groups // world.size
    mine = range(world.rank * local, (world.rank + 1) * local)  # this process's BatchNorm groups
    generators, shuffle = run_generators(config.seed, mine)
    state = {"epoch": 0, "step": 0, "global_step": 0, "losses": [], "accuracies": [], "snapshots": {}, "seconds": 0.0}
    if path.exists():
        saved = load_checkpoint(path, config)
        method.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        for g, saved_state in zip(generators, [saved["generators"][i] for i in mine]):
            g.set_state(saved_state)
        shuffle.set_state(saved["shuffle"])
        torch.set_rng_state(saved["torch_rng"][world.rank])
        earlier = {"accuracies": [None] * len(saved["state"]["losses"]), "snapshots": {}}  # older checkpoints lack them
        state = {**earlier, **saved["state"]}
        missing = missing_snapshots(config, state, path.parent, upto=state["global_step"])
        if missing:
            raise ValueError(f"{path}: the run resumes at step {state['global_step']} without snapshots at steps "
                             f"{missing} (a run keeps a snapshot only while it trains past its step): drop them from "
                             f"snapshots, or delete {path.parent} to train again")
    steps_per_epoch = len(corpus) // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"corpus has {len(corpus)} items; batch_size={config.batch_size} needs at least that many")
    total = config.epochs * steps_per_epoch
    total = min(config.max_steps, total) if config.max_steps else total
    if config.snapshots and config.snapshots[-1] > total:
        raise ValueError(f"snapshots={config.snapshots}: step {config.snapshots[-1]} is past this run's {total} steps "
                         f"({config.epochs} epochs of {steps_per_epoch} steps, max_steps={config.max_steps})")
    model = DistributedDataParallel(method) if world.distributed else method
    return Run(config, method, model, optimizer, generators, shuffle, state, steps_per_epoch, total, world, path,
               corpus_facts(corpus), started=time.perf_counter() - state["seconds"])


def run_generators(seed: int, groups: range) -> tuple[list[torch.Generator], torch.Generator]:
    """The augmentation generators of BatchNorm ``groups`` (one each) and the generator of MoCo's BatchNorm
    shuffle, all seeded from the run's ``seed``."""
    return ([torch.Generator().manual_seed(seed * 1_000_003 + g) for g in groups],
            torch.Generator().manual_seed(seed * 1_000_003 - 1))


def initial_method(config: PretrainConfig, corpus: Dataset | None, device: torch.device) -> nn.Module:
    """The method of ``config`` with its seeded initial weights (the same in every process), on ``device``."""
    torch.manual_seed(config.seed)
    method = build(config, corpus).to(device)
    if config.precision == "fp64":
        method = method.double()  # the views follow the weights' dtype (wrappers)
    return method.to(memory_format=torch.channels_last) if config.channels_last else method


def descend(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One optimizer step down the gradient of ``loss``."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def make_record(run: Run, corpus: Dataset) -> dict:
    """What a finished run reports: method, corpus, config, commit, precision and threads, steps, wall time,
    samples/s, the loss (and MoCo's top-1 accuracy, else None) of every step, and the snapshots kept."""
    seconds, state = time.perf_counter() - run.started, run.state
    describe = getattr(corpus, "describe", lambda: {"name": run.config.corpus})
    accuracies = state["accuracies"] if any(a is not None for a in state["accuracies"]) else None
    return {"method": run.config.method, "corpus": describe(), "config": run.config.as_dict(),
            "config_key": run.config.key(), "commit": commit(), "processes": run.world.size,
            "precision": run.config.precision, "bf16_hardware": bf16_hardware(run.world.device),
            "torch_threads": torch.get_num_threads(),
            "steps": state["global_step"], "epochs_done": state["global_step"] / run.steps_per_epoch,
            "wall_seconds": seconds, "samples_per_second": state["global_step"] * run.config.batch_size / max(seconds, 1e-9),
            "final_loss": state["losses"][-1] if state["losses"] else math.nan, "losses": state["losses"],
            "accuracies": accuracies, "snapshots": dict(sorted(state["snapshots"].items(), key=lambda kv: int(kv[0])))}


def _mean_over_processes(loss: torch.Tensor, world: World) -> float:
    """The loss of the whole batch: the mean of every process's loss (one value from each)."""
    return world.gather(loss.float().reshape(1)).mean().item()


def autocast(config: PretrainConfig, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` for a bf16 run; for the others, nothing."""
    if config.precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def time_steps(config: PretrainConfig, batch: torch.Tensor, *, steps: int = 3, corpus: Dataset | None = None) -> dict:
    """Training steps of ``config``'s method on one batch already in memory: the median samples/s
    over ``steps`` steps after one warm-up step, and the loss of the first step (the bare step,
    no loading, with ``config.groups`` BatchNorm groups as a run has; for comparing layouts,
    precisions and backbones)."""
    method = initial_method(config, corpus, torch.device("cpu"))
    optimizer = method.optimizer(config.batch_size)
    generators, shuffle = run_generators(config.seed, range(config.groups))
    seconds, losses = [], []
    for _ in range(steps + 1):
        started = time.perf_counter()
        permutation = torch.randperm(len(batch), generator=shuffle) if config.groups > 1 else None
        with autocast(config, torch.device("cpu")):
            loss = method(batch, generators=generators, permutation=permutation)
        descend(optimizer, loss)
        seconds.append(time.perf_counter() - started)
        losses.append(loss.item())
    return {"samples_per_second": len(batch) / float(np.median(seconds[1:])), "first_loss": losses[0], "losses": losses}
