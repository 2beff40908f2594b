"""Run profiles: ``smoke`` (seconds, for tests), ``cpu`` (the book on 2 cores), ``paper`` (GPUs).

A profile sets sizes only, never the method: every chapter computes the same things under
every profile, on more or less data. ``PROFILES`` is the one table of them: each profile is
composed of every stage's own sizes (pre-training, evaluation, Grad-CAM, on-device, the chapters'
figures), and the command line, the book's build and the notebooks all ask it. A new profile is
one more entry here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import get_type_hints

from ..checks import check_field_types
from ..deploy.export import OnDeviceSizes
from ..evaluation.classifiers import ExplainSizes
from ..evaluation.study import PAPER_GRID, EvalSizes
from ..pretraining.config import PretrainConfig, PretrainSizes


@dataclass(frozen=True)
class ChapterSizes:
    """How much the chapters' own figures and statistics read and draw (what no library stage sizes)."""

    subjects: int  # HAPT subjects read for figures and statistics (of 30)
    windows_per_class: int  # windows per class averaged in statistics
    explorer_nffts: tuple[int, ...]  # nfft values the precomputed conversion explorer offers
    explorer_gaps: tuple[int, ...]  # nfft - noverlap values the explorer offers (the paper's grid)
    magnitude_steps: int  # magnitudes precomputed per augmentation in the augmentation explorer
    dpi: int  # figure resolution in dots per inch
    timing_images: int  # images per step when the pre-training chapter times layouts and precisions
    timing_steps: int  # steps timed per setting (after one warm-up step)

    def __post_init__(self) -> None:
        check_field_types(self)
        sizes = (self.subjects, self.windows_per_class, self.dpi, self.timing_images, self.timing_steps)
        if min(sizes) < 1 or self.magnitude_steps < 2 or not self.explorer_nffts or not self.explorer_gaps:
            raise ValueError(f"{self}: expected sizes >= 1, magnitude_steps >= 2 and explorer settings")
        if min(self.explorer_gaps) < 1 or max(self.explorer_gaps) >= min(self.explorer_nffts):
            raise ValueError(f"explorer_gaps={self.explorer_gaps} with explorer_nffts={self.explorer_nffts}; expected "
                             f"gaps of at least 1 sample, each below the smallest nfft (the explorer draws every pair)")


@dataclass(frozen=True)
class CurveSizes:
    """The learning curve's long runs: IMG2IMU and MoCo with its default augmentations, from the same initial
    weights and image order, each kept at ``snapshots`` steps (the chapter scores every snapshot beside its
    control: the same initial weights with BatchNorm re-estimated on ``bn_images`` pre-training images).

    Two families: the paper's ResNet18 from random weights (``scratch_*``), and the MobileNetV2 trained on
    ImageNet continued with MoCo (``continued_*``). Both use MoCo's key-encoder momentum ``momentum`` (suited
    to runs of hundreds of steps, where 0.999 leaves the key encoder almost where it started), shuffle-BN over
    ``groups`` groups, and the profile's batch, corpus and queue.
    """

    scratch_epochs: int  # passes over the corpus of the from-scratch runs
    scratch_lr_peak: float  # their Adam rate after one epoch of warm-up, decayed by a cosine to a tenth of it
    scratch_snapshots: tuple[int, ...]  # steps kept (0: the initial weights); the last is the run's end
    continued_epochs: int  # passes of the runs continued from ImageNet weights
    continued_lr_peak: float  # their peak rate (lower: the weights already know images)
    continued_snapshots: tuple[int, ...]
    momentum: float  # MoCo's key-encoder momentum m
    groups: int  # shuffle-BN groups in one process
    bn_images: int  # pre-training images the controls re-estimate BatchNorm on

    def __post_init__(self) -> None:
        check_field_types(self)
        if min(self.scratch_epochs, self.continued_epochs, self.groups, self.bn_images) < 1 or not (
                0 < self.momentum < 1) or min(self.scratch_lr_peak, self.continued_lr_peak) <= 0:
            raise ValueError(f"{self}: expected positive epochs, groups and images, rates > 0 and 0 < momentum < 1")
        for snapshots in (self.scratch_snapshots, self.continued_snapshots):
            if len(snapshots) < 4 or snapshots[0] != 0 or list(snapshots) != sorted(set(snapshots)):
                raise ValueError(f"snapshots={snapshots}; expected at least 4 increasing steps from 0 (a curve)")


@dataclass(frozen=True)
class Profile:
    """One run size of the whole book: every stage's sizes under one name."""

    name: str  # smoke, cpu or paper: the key in PROFILES and the folder of its records
    chapters: ChapterSizes  # the chapters' figures and statistics
    pretraining: PretrainSizes  # every pre-training run (sizes.config(method=...) is one run's config)
    evaluation: EvalSizes  # the linear evaluation, the few-shot curve and the fully supervised bounds
    explain: ExplainSizes  # the Grad-CAM chapter
    on_device: OnDeviceSizes  # the on-device chapter's timings and int8 calibration
    curve: CurveSizes  # the learning curve's long runs and their controls

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not re.fullmatch(r"[a-z0-9_-]+", self.name):
            raise ValueError(f"profile name {self.name!r}; expected lower-case letters, digits, _ or - (it names a "
                             f"records folder)")
        types = get_type_hints(Profile)
        for f in fields(self)[1:]:  # every stage's sizes
            if not isinstance(getattr(self, f.name), types[f.name]):
                raise TypeError(f"profile {self.name}: {f.name}={getattr(self, f.name)!r}; expected a "
                                f"{types[f.name].__name__}")


PAPER_NFFTS = (32, 64, 128, 256)  # the paper's nfft grid (Section VI-C)
PAPER_GAPS = (2, 4, 8, 16)  # the paper's nfft - noverlap grid

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        "smoke",
        chapters=ChapterSizes(subjects=2, windows_per_class=4, explorer_nffts=(64, 128), explorer_gaps=(4, 16),
                              magnitude_steps=2, dpi=60, timing_images=4, timing_steps=1),
        pretraining=PretrainSizes(epochs=1, batch_size=8, corpus_size=32, sensor_windows=32, warmup_epochs=0,
                                  max_steps=2, queue_size=32, channels_last=True, sensor_seconds=(2.0,)),
        evaluation=EvalSizes(seeds=(0, 1), shots=2, max_windows=120, spectrograms=((64, 56),), lrs=(1e-2,),
                             weight_decays=(0.0,), probe_epochs=3, curve_shots=(1, 2), upper_windows_per_class=4,
                             upper_epochs_1d=1, upper_epochs_2d=1, curve_search=False),
        explain=ExplainSizes(supervised_epochs=1, compared_windows=24, samples_per_class=1),
        on_device=OnDeviceSizes(repeats=5, warmup=2, calibration_windows=16),
        curve=CurveSizes(scratch_epochs=1, scratch_lr_peak=1e-3, scratch_snapshots=(0, 1, 2, 4), continued_epochs=1,
                         continued_lr_peak=1e-4, continued_snapshots=(0, 1, 2, 4), momentum=0.99, groups=2,
                         bn_images=16),
    ),
    "cpu": Profile(
        "cpu",
        chapters=ChapterSizes(subjects=30, windows_per_class=200, explorer_nffts=PAPER_NFFTS, explorer_gaps=PAPER_GAPS,
                              magnitude_steps=5, dpi=90, timing_images=16, timing_steps=2),
        # about 40 steps of 64 per run: the whole book's pre-training in about 20 minutes on 2 cores.
        # The paper's peak rate (1e-5) is tuned for ~200k steps and barely moves a 40-step run, so
        # this profile warms up to 1e-3 (within the paper's grid search) and decays to 1e-4; a batch is
        # split into 4 BatchNorm groups (shuffle-BN, as on 4 GPUs); the sensor baselines are trained for
        # 2 and 5 s windows (not 10 s), for 160 steps (CPC's loss sits on a plateau for about the first 110)
        pretraining=PretrainSizes(epochs=2, sensor_epochs=8, batch_size=64, corpus_size=1280, sensor_windows=1280,
                                  warmup_epochs=1,
                                  lr_peak=1e-3, lr_end=1e-4, queue_size=1024, channels_last=True, precision="auto",
                                  groups=4, sensor_seconds=(2.0, 5.0)),
        # the main job on 2 cores: 1,000 windows per dataset, the four nfft values at one overlap, and no
        # ResNet18 trained from scratch (a useful one needs thousands of image steps per seed and dataset)
        evaluation=EvalSizes(seeds=(0, 1, 2, 3, 4), shots=10, max_windows=1000,
                             spectrograms=tuple((nfft, nfft - 8) for nfft in PAPER_NFFTS),
                             lrs=(1e-4, 1e-3, 1e-2, 1e-1), weight_decays=(0.0, 1e-4, 1e-3), probe_epochs=50,
                             curve_shots=(1, 2, 5, 10, 20, 50), upper_windows_per_class=None, upper_epochs_1d=10,
                             upper_epochs_2d=0, curve_search=False),
        explain=ExplainSizes(supervised_epochs=8, compared_windows=300, samples_per_class=3),
        on_device=OnDeviceSizes(repeats=200, warmup=20, calibration_windows=200),
        # about 20 steps per epoch (1,280 images, batch 64): each curve run 160 steps
        curve=CurveSizes(scratch_epochs=8, scratch_lr_peak=1e-3, scratch_snapshots=(0, 20, 60, 160),
                         continued_epochs=8, continued_lr_peak=1e-4, continued_snapshots=(0, 20, 60, 160),
                         momentum=0.99, groups=4, bn_images=256),
    ),
    "paper": Profile(
        "paper",
        chapters=ChapterSizes(subjects=30, windows_per_class=1000, explorer_nffts=PAPER_NFFTS,
                              explorer_gaps=PAPER_GAPS, magnitude_steps=9, dpi=110, timing_images=64, timing_steps=3),
        # the paper's settings, one sensor baseline per window length (2, 5, 10 s); bf16 where the GPU has it
        pretraining=PretrainSizes(precision="auto"),
        evaluation=EvalSizes(seeds=(0, 1, 2, 3, 4), shots=10, max_windows=None, spectrograms=PAPER_GRID,
                             lrs=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1), weight_decays=(0.0, 1e-4, 1e-3), probe_epochs=50,
                             curve_shots=(1, 2, 5, 10, 20, 50), upper_windows_per_class=None, upper_epochs_1d=100,
                             upper_epochs_2d=30),
        explain=ExplainSizes(supervised_epochs=30, compared_windows=None, samples_per_class=5),
        on_device=OnDeviceSizes(repeats=1000, warmup=50, calibration_windows=500),
        # the paper's 40 epochs of ImageNet (5,004 steps of 256 each), kept at four points; continued: 4 epochs
        curve=CurveSizes(scratch_epochs=40, scratch_lr_peak=1e-5, scratch_snapshots=(0, 2_000, 20_000, 200_160),
                         continued_epochs=4, continued_lr_peak=1e-5, continued_snapshots=(0, 1_000, 5_000, 20_016),
                         momentum=0.999, groups=4, bn_images=2048),
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; a clear error for any other name."""
    if name not in PROFILES:
        raise ValueError(f"profile {name!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[name]


def profile_config(profile: str, **overrides: object) -> PretrainConfig:
    """The pre-training config of one run of ``profile``, with ``overrides`` (method, corpus, seed ...; None keeps
    the profile's size) applied: ``get_profile(profile).pretraining.config(**overrides)``."""
    return get_profile(profile).pretraining.config(**overrides)
