"""Command line: ``python -m img2imu_lib pretrain --method img2imu --images offline --profile cpu --out runs/x``
``python -m img2imu_lib evaluate --checkpoint runs/x --dataset hapt --profile cpu`` and
``python -m img2imu_lib export --checkpoint runs/x --dataset hapt --out exports/hapt``.

Under ``torchrun --nproc_per_node N -m img2imu_lib pretrain ...`` the same command trains on N
processes (GPUs, or CPU processes with gloo); ``--batch`` is then the batch of all of them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from .book.profiles import PROFILES, get_profile, profile_config
from .checks import check_seed
from .pretraining import distributed
from .pretraining.backbones import IMAGE_ARCHS, INITS
from .pretraining.config import AUTO, PRECISIONS, resolve_precision
from .pretraining.methods import METHODS
from .pretraining.trainer import RunFolderInUse, pretrain


def count(text: str, least: int = 1) -> int:
    """An argparse type: a whole number >= ``least`` (``--shots 0`` or ``--batch 2.5`` is an error, never a
    default)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value}; expected a whole number >= {least}")
    return value


def at_least_zero(text: str) -> int:
    """An argparse type: a whole number >= 0."""
    return count(text, least=0)


def seed(text: str) -> int:
    """An argparse type: a seed, a whole number from 0 to 2**31 - 1."""
    try:
        return check_seed(int(text))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err) if text.lstrip("-").isdigit() else f"{text!r} is not a whole number")


def seconds(text: str) -> float:
    """An argparse type: a finite positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{value}; expected a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of the three commands; every ``--profile`` offers the names of ``PROFILES``."""
    parser = argparse.ArgumentParser(prog="python -m img2imu_lib", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pretrain", help="pre-train one method (resumes from --out if interrupted)")
    p.add_argument("--method", choices=METHODS, default="img2imu")
    p.add_argument("--images", default="offline", help="offline, imagenet-sample, cifar10, stl10 or an image folder; "
                   "for the sensor methods: offline (the Capture-24 stand-in) or a folder of Capture-24 files")
    p.add_argument("--profile", choices=sorted(PROFILES), default="cpu", help="run size (never the method)")
    p.add_argument("--augmentations", nargs="+", help="subset of translate_x permute_x hue jitter (img2imu ablations)")
    p.add_argument("--seed", type=seed)
    p.add_argument("--max-steps", type=count, help="stop after this many steps")
    p.add_argument("--workers", type=at_least_zero, help="DataLoader worker processes")
    p.add_argument("--batch", type=count, help="batch size (of all processes together)")
    p.add_argument("--groups", type=count, help="BatchNorm groups per batch (in one process, acts as that many GPUs)")
    p.add_argument("--seconds", type=seconds, help="sensor methods: window length of the sensor corpus")
    p.add_argument("--channels-last", action="store_true", default=None, help="NHWC memory layout for image methods")
    p.add_argument("--precision", choices=(*PRECISIONS, AUTO),
                   help="fp32, bf16 autocast, or auto: bf16 where the hardware computes bfloat16 products")
    p.add_argument("--arch", choices=IMAGE_ARCHS, help="image methods: the backbone (default resnet18)")
    p.add_argument("--init", choices=INITS, help="image methods: its starting weights (default random)")
    p.add_argument("--snapshots", type=at_least_zero, nargs="+",
                   help="steps after which the backbone is kept as snapshot-<step>.pt (0: the initial weights)")
    p.add_argument("--out", required=True, help="run folder: checkpoint.pt and record.json")
    e = commands.add_parser("evaluate", help="linear evaluation of a backbone on a dataset (the paper's protocol)")
    which = e.add_mutually_exclusive_group(required=True)
    which.add_argument("--checkpoint", help="a pre-training run folder or its checkpoint.pt, or a ResNet18 state dict file")
    which.add_argument("--method", choices=("random_init_2d", "random_init_1d", "imagenet_supervised"),
                       help="a backbone that needs no checkpoint")
    e.add_argument("--dataset", required=True, help="hapt, watch, wisdm, goat, pvs or daphnet")
    e.add_argument("--profile", choices=sorted(PROFILES), default="cpu", help="evaluation sizes")
    e.add_argument("--seeds", type=seed, nargs="+", help="evaluation seeds (default: the profile's)")
    e.add_argument("--shots", type=count, help="labelled windows per class (default: the profile's, 10 in cpu and paper)")
    e.add_argument("--nfft", type=count, help="image backbones: FFT length (default: chosen on validation)")
    e.add_argument("--noverlap", type=at_least_zero, help="image backbones: overlap, with --nfft")
    e.add_argument("--data-dir", action="append", default=[], help="folder searched first for the dataset")
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    x = commands.add_parser("export", help="fit the few-shot head on a dataset and export the classifier to ONNX")
    x.add_argument("--checkpoint", required=True, help="a pre-training run folder or a ResNet18 state dict file")
    x.add_argument("--dataset", required=True, help="hapt, watch, wisdm, goat, pvs or daphnet")
    x.add_argument("--profile", choices=sorted(PROFILES), default="cpu", help="evaluation sizes")
    x.add_argument("--seed", type=seed, default=0, help="the evaluation seed whose split and shots fit the head")
    x.add_argument("--nfft", type=count, help="FFT length (default: chosen on validation)")
    x.add_argument("--noverlap", type=at_least_zero, help="overlap, with --nfft")
    x.add_argument("--int8", action="store_true", help="also write an 8-bit copy to OUT/int8")
    x.add_argument("--data-dir", action="append", default=[], help="folder searched first for the dataset")
    x.add_argument("--out", required=True, help="folder: OUT/fp32 (and OUT/int8) bundles")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input (a damaged or unsafe file, a value out of range, a missing dataset) ends it
    with its message on stderr and exit status 2, without a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = {"evaluate": evaluate, "export": export, "pretrain": pretrain_command}[args.command]
    try:
        return command(args)
    except (ValueError, OSError, RunFolderInUse) as err:  # OSError: missing files, unreachable hosts, a full disk
        parser.exit(2, f"{parser.prog} {args.command}: error: {err}\n")


def pretrain_command(args: argparse.Namespace) -> int:
    """Pre-train (or resume) one run into ``--out``; print its summary as JSON."""
    world = distributed.init_from_env()
    precision = resolve_precision(args.precision, world.device) if args.precision else None
    config = profile_config(args.profile, method=args.method, corpus=args.images, seed=args.seed, max_steps=args.max_steps,
                            num_workers=args.workers, augmentations=tuple(args.augmentations) if args.augmentations else None,
                            batch_size=args.batch, groups=args.groups, window_seconds=args.seconds,
                            channels_last=args.channels_last, precision=precision, arch=args.arch, init=args.init,
                            snapshots=tuple(args.snapshots) if args.snapshots else None)
    try:
        record = pretrain(config, args.out, progress=world.main)
    finally:
        distributed.shutdown()
    if not world.main:
        return 0
    summary = {k: record[k] for k in ("method", "corpus", "steps", "wall_seconds", "samples_per_second", "final_loss")}
    print(json.dumps(summary, indent=1))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Score one backbone on one dataset; print the summary as JSON (the record is kept with the others)."""
    import dataclasses

    from . import evaluation as study
    from .pretraining.imagenet_weights import imagenet_backbone, weights_path
    from .pretraining.sensor.corpus import sensor_corpus
    from .store import sha256_of

    if (args.nfft is None) != (args.noverlap is None):
        raise ValueError("--nfft and --noverlap go together: give both, or neither to choose them on validation")
    sizes = get_profile(args.profile).evaluation
    shots = args.shots if args.shots is not None else sizes.shots  # --shots 0 never reaches here (count)
    sizes = dataclasses.replace(sizes, seeds=tuple(args.seeds or sizes.seeds), shots=shots)
    if args.checkpoint:  # read first: a damaged or unsafe file is refused before the dataset loads
        candidate = study.candidate_from_file(args.checkpoint)
    elif args.method == "imagenet_supervised":
        backbone = imagenet_backbone()  # raises with the download command when the weights are not cached
        candidate = study.Candidate("imagenet_supervised", "image", lambda: backbone, sha256_of(weights_path())[:16])
    else:
        corpus = sensor_corpus("offline", seconds=2.0)  # the sensor baselines' statistics, as in the book
        candidate = next(c for c in study.random_candidates(corpus.mean, corpus.std) if c.name == args.method)
    data = {args.dataset: study.eval_data(args.dataset, max_windows=sizes.max_windows, data_dir=args.data_dir)}
    evaluation = study.Evaluation(sizes, data, profile=args.profile, progress=not args.quiet)
    spectrogram = None
    if candidate.kind == "image":
        spectrogram = ((args.nfft, args.noverlap) if args.nfft is not None
                       else evaluation.choose_spectrogram(candidate, args.dataset)["chosen"])
    record = evaluation.score(candidate, args.dataset, spectrogram=spectrogram, stage="cli")
    print(json.dumps({"method": candidate.name, "dataset": args.dataset, "shots": sizes.shots,
                      "spectrogram": spectrogram, "f1_mean": record["f1_mean"], "f1_std": record["f1_std"],
                      "per_seed": {r["seed"]: r["test_f1"]["original"] for r in record["per_seed"]},
                      "record": record["key"], "records_folder": str(evaluation.folder)}, indent=1))
    return 0


def export(args: argparse.Namespace) -> int:
    """Fit the head on the seed's shots, export the classifier, check it on the test windows; print JSON."""
    from pathlib import Path

    import numpy as np

    from . import evaluation as study
    from .deploy import export as deploy
    from .evaluation import classifiers

    if (args.nfft is None) != (args.noverlap is None):
        raise ValueError("--nfft and --noverlap go together: give both, or neither to choose them on validation")
    profile = get_profile(args.profile)
    sizes = profile.evaluation
    candidate = study.candidate_from_file(args.checkpoint)  # a damaged or unsafe file is refused first
    data = study.eval_data(args.dataset, max_windows=sizes.max_windows, data_dir=args.data_dir)
    if args.nfft is not None:
        spectrogram = (args.nfft, args.noverlap)
    else:
        evaluation = study.Evaluation(sizes, {args.dataset: data}, profile=args.profile, progress=False)
        spectrogram = tuple(evaluation.choose_spectrogram(candidate, args.dataset)["chosen"])
    [split] = study.seed_splits(data, [args.seed], sizes.shots)
    model, choice = classifiers.probe_classifier(candidate, data, split, spectrogram=spectrogram, sizes=sizes)
    out = Path(args.out)
    for existing in (out / "fp32", out / "int8"):
        if (existing / "manifest.json").exists() and (existing.name == "fp32" or args.int8):
            print(f"replacing the bundle in {existing}", file=sys.stderr)
    bundle = deploy.export_bundle(model, out / "fp32", window_samples=data.windows.shape[1], fs=data.fs,
                                  nfft=spectrogram[0], noverlap=spectrogram[1], classes=data.classes)
    test = data.windows[split.test].astype(np.float32)
    summary = {"bundle": str(bundle), "classes": list(data.classes), "spectrogram": spectrogram,
               "probe": {k: choice[k] for k in ("lr", "weight_decay", "validation_f1")},
               "round_trip": deploy.round_trip(model, bundle, test, fs=data.fs, nfft=spectrogram[0],
                                               noverlap=spectrogram[1])}
    if args.int8:
        picked = classifiers.balanced_sample(data.labels, split.train, seed=args.seed,  # training subjects only
                                             total=profile.on_device.calibration_windows)
        calibration = data.windows[picked].astype(np.float32)
        int8 = deploy.quantize_bundle(bundle, out / "int8", calibration_windows=calibration)
        same = deploy.OnnxClassifier(int8).predict(test) == deploy.OnnxClassifier(bundle).predict(test)
        summary["int8"] = {"bundle": str(int8), "same_class_as_fp32": float(same.mean())}
    print(json.dumps(summary, indent=1))
    return 0 if summary["round_trip"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
