"""The common form of every IMU dataset: one ``Recording`` per subject and session."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ..checks import check_rate


@dataclass(frozen=True)
class Recording:
    """One continuous tri-axial accelerometer recording with per-sample labels.

    Attributes:
        dataset: short dataset name, e.g. ``"hapt"``.
        subject: subject id as published.
        session: recording number within the subject (the published run number where there is one).
        signal: (T, 3) float32, in g, axes x, y, z of the sensor.
        labels: (T,) int64 class index into ``classes``; -1 where a sample is unlabelled.
        fs: sampling rate in Hz.
        classes: class names, index i names label i.
        extra: other channels of the recording by name, e.g. ``{"gyro": (T, 3) in rad/s}``.
        meta: facts about the recording that are not per sample, e.g. ``{"side": "left"}``.
    """

    dataset: str
    subject: int
    session: int
    signal: np.ndarray
    labels: np.ndarray
    fs: float
    classes: tuple[str, ...]
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"{self.dataset} subject {self.subject} session {self.session}"
        for name in ("subject", "session"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{where}: {name}={value!r} ({type(value).__name__}); expected a whole number (int)")
        check_rate(self.fs, name=f"{where}: fs")
        if self.signal.dtype.kind not in "iuf":
            raise ValueError(f"{where}: signal has dtype {self.signal.dtype}; expected numbers (float32, in g)")
        if self.signal.ndim != 2 or self.signal.shape[1] != 3:
            raise ValueError(f"{where}: signal has shape {self.signal.shape}; expected (T, 3)")
        if self.labels.shape != (self.signal.shape[0],):
            raise ValueError(f"{where}: labels have shape {self.labels.shape}; expected ({self.signal.shape[0]},)")
        if not np.isfinite(self.signal).all():
            t = int(np.argwhere(~np.isfinite(self.signal))[0, 0])
            raise ValueError(f"{where}: sample {t} is not finite ({self.signal[t]})")
        if self.labels.dtype.kind not in "iu":
            raise ValueError(f"{where}: labels have dtype {self.labels.dtype}; expected whole numbers (int64), -1 where unlabelled")
        if self.labels.size and (self.labels.max() >= len(self.classes) or self.labels.min() < -1):
            raise ValueError(f"{where}: labels span {self.labels.min()}..{self.labels.max()}; expected -1..{len(self.classes) - 1}")

    @property
    def seconds(self) -> float:
        """Duration in s."""
        return self.signal.shape[0] / self.fs
