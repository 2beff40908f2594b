"""Run profiles: ``smoke`` (seconds, for tests), ``cpu`` (the book on 2 cores), ``paper`` (GPUs).

A profile sets sizes only, never the method: every chapter computes the same things under
every profile, on more or less data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str  # smoke, cpu or paper
    subjects: int  # HAPT subjects read for figures and statistics (of 30)
    windows_per_class: int  # windows per class averaged in statistics
    explorer_nffts: tuple[int, ...]  # nfft values the precomputed conversion explorer offers
    explorer_gaps: tuple[int, ...]  # nfft - noverlap values the explorer offers (the paper's grid)
    magnitude_steps: int  # magnitudes precomputed per augmentation in the augmentation explorer
    dpi: int  # figure resolution in dots per inch
    timing_images: int  # images per step when the pre-training chapter times layouts and precisions
    timing_steps: int  # steps timed per setting (after one warm-up step)

    def __post_init__(self) -> None:
        sizes = (self.subjects, self.windows_per_class, self.timing_images, self.timing_steps)
        if min(sizes) < 1 or self.magnitude_steps < 2:
            raise ValueError(f"profile {self.name}: sizes >= 1 and magnitude_steps >= 2 expected")


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", subjects=2, windows_per_class=4, explorer_nffts=(64, 128), explorer_gaps=(4, 16),
                     magnitude_steps=2, dpi=60, timing_images=4, timing_steps=1),
    "cpu": Profile("cpu", subjects=30, windows_per_class=200, explorer_nffts=(32, 64, 128, 256),
                   explorer_gaps=(2, 4, 8, 16), magnitude_steps=5, dpi=90, timing_images=16, timing_steps=2),
    "paper": Profile("paper", subjects=30, windows_per_class=1000, explorer_nffts=(32, 64, 128, 256),
                     explorer_gaps=(2, 4, 8, 16), magnitude_steps=9, dpi=110, timing_images=64, timing_steps=3),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; a clear error for any other name."""
    if name not in PROFILES:
        raise ValueError(f"profile {name!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[name]
