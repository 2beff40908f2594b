"""The paper authors' own example: 30 s of phone accelerometer while jogging (WISDM format, 20 Hz),
and the spectrogram image their Android app made of it (``img2imu-app/`` on the data path)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .paths import require_data

APP_FS = 20.0  # Hz, WISDM v1.1
APP_FOLDER = "img2imu-app"


def load_app_example(extra: Sequence[str | Path] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Return the jogging window (600, 3) float32 in WISDM units (m/s^2) and the app's PNG (H, W, 3) uint8."""
    folder = require_data(APP_FOLDER, extra, how_to_get="It holds jogging.csv and jogging_combined.png from the authors' demo app.")
    csv = folder / "jogging.csv"
    rows = []
    for number, line in enumerate(csv.read_text().splitlines(), start=1):
        fields = line.strip().split(",")
        if len(fields) != 3:
            raise ValueError(f"{csv}:{number}: {line!r} has {len(fields)} fields; expected x,y,z")
        try:
            rows.append([float(v) for v in fields])
        except ValueError as err:
            raise ValueError(f"{csv}:{number}: {line!r} is not three numbers") from err
    png = np.asarray(Image.open(folder / "jogging_combined.png").convert("RGB"))
    return np.asarray(rows, dtype=np.float32), png
