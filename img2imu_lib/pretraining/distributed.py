"""Several processes with ``torchrun``: who this process is, and the few collective calls training needs.

The launcher is ``torchrun`` (torch.distributed.run), never a script of ours::

    torchrun --nproc_per_node 4 -m img2imu_lib pretrain --method img2imu --images /data/imagenet/train --profile paper --out runs/x

It sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; ``init_from_env`` joins the process group
(NCCL on GPUs, gloo on CPUs) and the trainer wraps the method in DistributedDataParallel.
Without those variables everything runs in one process and no collective is ever called.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0  # this process, 0 ... size - 1
    size: int = 1  # processes in the run
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))  # where this process trains

    @property
    def main(self) -> bool:
        """True for the one process that writes checkpoints, records and progress bars."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """(n, ...) on every process -> (size * n, ...) in rank order, on every process (no gradient)."""
        if not self.distributed:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    def gather_objects(self, obj: object) -> list[object]:
        """One picklable object from every process, in rank order."""
        if not self.distributed:
            return [obj]
        out: list[object] = [None] * self.size
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def current() -> World:
    """The world this process belongs to: the initialised process group, or a world of one."""
    if not (dist.is_available() and dist.is_initialized()):
        return World(device=_device(0))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    return World(rank=dist.get_rank(), size=dist.get_world_size(), device=_device(local_rank))


def init_from_env() -> World:
    """Join the process group that ``torchrun`` describes in the environment (a no-op outside torchrun)."""
    if int(os.environ.get("WORLD_SIZE", 1)) > 1 and not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return current()


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _device(local_rank: int) -> torch.device:
    return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
