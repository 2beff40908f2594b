"""The pre-training loop: ``train_one_epoch`` and the resumable ``pretrain`` around it."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from .conversion import normalize_images
from .corpora import load_corpus
from .pretrain import EpochOrder, PretrainConfig, build, commit, load_checkpoint, make_views, save_atomic, set_learning_rate


def train_one_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, loader: DataLoader, *, config: PretrainConfig,
                    state: dict, steps_per_epoch: int, total_steps: int, views, generator: torch.Generator,
                    checkpoint, bar: tqdm) -> dict:
    """Train from ``state['step']`` to the end of ``state['epoch']`` (or ``total_steps``); returns the state."""
    model.train()
    for images in loader:
        lr = set_learning_rate(model, optimizer, config, state["epoch"] + state["step"] / steps_per_epoch)
        view_q, view_k = views(images, generator=generator)
        loss, _ = model(normalize_images(view_q), normalize_images(view_k))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at step {state['global_step']} (epoch {state['epoch']}); "
                                     f"the last good checkpoint is kept")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        state["step"] += 1
        state["global_step"] += 1
        state["losses"].append(loss.item())
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.2e}", epoch=state["epoch"])
        if state["global_step"] % config.checkpoint_every == 0 or state["global_step"] >= total_steps:
            checkpoint()
        if state["global_step"] >= total_steps:
            break
    return state


def pretrain(config: PretrainConfig, out_dir: str | Path, *, corpus: Dataset | None = None, progress: bool = True) -> dict:
    """Pre-train (or resume, or reuse a finished run) and return its record."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record_path, checkpoint_path = out / "record.json", out / "checkpoint.pt"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("config_key") == config.key():
            return record
    torch.manual_seed(config.seed)
    corpus = corpus if corpus is not None else load_corpus(config.corpus, length=config.corpus_size, seed=config.seed)
    model, optimizer = build(config)
    generator = torch.Generator().manual_seed(config.seed)
    state = {"epoch": 0, "step": 0, "global_step": 0, "losses": [], "seconds": 0.0}
    if checkpoint_path.exists():
        saved = load_checkpoint(checkpoint_path, config)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        generator.set_state(saved["generator"])
        state = saved["state"]
    steps_per_epoch = len(corpus) // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"corpus has {len(corpus)} images; batch_size={config.batch_size} needs at least that many")
    total = config.epochs * steps_per_epoch if config.max_steps == 0 else min(config.max_steps, config.epochs * steps_per_epoch)
    started = time.perf_counter() - state["seconds"]

    def checkpoint() -> None:
        state["seconds"] = time.perf_counter() - started
        save_atomic({"config": config.as_dict(), "config_key": config.key(), "model": model.state_dict(),
                     "optimizer": optimizer.state_dict(), "generator": generator.get_state(), "state": state},
                    checkpoint_path)

    views = make_views(config)
    with tqdm(total=total, initial=state["global_step"], desc=f"pre-training {config.method}", disable=not progress) as bar:
        while state["global_step"] < total:
            sampler = EpochOrder(len(corpus), config.batch_size, seed=config.seed, epoch=state["epoch"], start=state["step"])
            loader = DataLoader(corpus, batch_sampler=sampler, num_workers=config.num_workers)
            train_one_epoch(model, optimizer, loader, config=config, state=state, steps_per_epoch=steps_per_epoch,
                            total_steps=total, views=views, generator=generator, checkpoint=checkpoint, bar=bar)
            if state["step"] >= steps_per_epoch:
                state["epoch"] += 1
                state["step"] = 0
    seconds = time.perf_counter() - started
    record = {"method": config.method, "corpus": getattr(corpus, "describe", lambda: {"name": config.corpus})(),
              "config": config.as_dict(), "config_key": config.key(), "commit": commit(),
              "steps": state["global_step"], "epochs_done": state["global_step"] / steps_per_epoch,
              "wall_seconds": seconds, "samples_per_second": state["global_step"] * config.batch_size / max(seconds, 1e-9),
              "final_loss": state["losses"][-1] if state["losses"] else math.nan, "losses": state["losses"]}
    save_atomic(json.dumps(record, indent=1), record_path)
    return record
