"""Command line: ``python -m img2imu_lib pretrain --method img2imu --images offline --profile cpu --out runs/x``.

Under ``torchrun --nproc_per_node N -m img2imu_lib pretrain ...`` the same command trains on N
processes (GPUs, or CPU processes with gloo); ``--batch`` is then the batch of all of them.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import distributed
from .pretrain import METHODS, PRECISIONS, PROFILE_SIZES, profile_config
from .trainer import pretrain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m img2imu_lib", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pretrain", help="pre-train one method (resumes from --out if interrupted)")
    p.add_argument("--method", choices=METHODS, default="img2imu")
    p.add_argument("--images", default="offline", help="offline, imagenet-sample, cifar10, stl10 or an image folder; "
                   "for the sensor methods: offline (the Capture-24 stand-in) or a folder of Capture-24 files")
    p.add_argument("--profile", choices=sorted(PROFILE_SIZES), default="cpu", help="run size (never the method)")
    p.add_argument("--augmentations", nargs="+", help="subset of translate_x permute_x hue jitter (img2imu ablations)")
    p.add_argument("--seed", type=int)
    p.add_argument("--max-steps", type=int, help="stop after this many steps")
    p.add_argument("--workers", type=int, help="DataLoader worker processes")
    p.add_argument("--batch", type=int, help="batch size (of all processes together)")
    p.add_argument("--groups", type=int, help="BatchNorm groups per batch (in one process, acts as that many GPUs)")
    p.add_argument("--seconds", type=float, help="sensor methods: window length of the sensor corpus")
    p.add_argument("--channels-last", action="store_true", default=None, help="NHWC memory layout for image methods")
    p.add_argument("--precision", choices=PRECISIONS, help="fp32, or bf16 autocast")
    p.add_argument("--out", required=True, help="run folder: checkpoint.pt and record.json")
    args = parser.parse_args(argv)
    config = profile_config(args.profile, method=args.method, corpus=args.images, seed=args.seed, max_steps=args.max_steps,
                            num_workers=args.workers, augmentations=tuple(args.augmentations) if args.augmentations else None,
                            batch_size=args.batch, groups=args.groups, window_seconds=args.seconds,
                            channels_last=args.channels_last, precision=args.precision)
    world = distributed.init_from_env()
    try:
        record = pretrain(config, args.out, progress=world.main)
    finally:
        distributed.shutdown()
    if not world.main:
        return 0
    summary = {k: record[k] for k in ("method", "corpus", "steps", "wall_seconds", "samples_per_second", "final_loss")}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
