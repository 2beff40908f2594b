"""The evaluation chapter's tables, assembled from its records beside the paper's numbers: the datasets,
the spectrogram search, Table II (Section V-A), Fig. 7's curves, Table I (Section VI-A), the nfft study
(Section VI-C) and the feature spread. Every function returns rows of plain dicts of text (or numbers to
plot); ``paper.markdown_table`` prints them.

A record is what ``evaluation.study.Evaluation.score`` (or ``upper_bound``) returns; the tables read its
``per_seed`` list, ``[{"seed": 0, "test_f1": {"original": 0.61, "noised": 0.52, ...}, ...}, ...]``. The
paper's tables come as the rows ``paper.paper_table`` reads (None when the CSV is not on this machine:
then every paper cell is "—").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..evaluation.data import EvalData
from .paper import (ABLATIONS, MOBILENET_ROWS, PAPER_NFFT_WISDM, PAPER_ROW, SENSOR_ROWS, TABLE1_ROWS, paper_column,
                    summary)

MISSING = "—"  # a number that is not there: not run here, or not in the paper
NBSP = "\u00a0"  # joins a number to its spread, so a narrow column never breaks "0.363 ± 0.040" over lines

Results = Mapping[str, Mapping[str, dict]]  # {Table II row: {dataset: record}}


def shown(mean: float | None, std: float | None = None) -> str:
    """``0.363`` or, with ``std``, ``0.363 ± 0.040`` (no-break spaces around ±); "—" for a missing (None or NaN) mean."""
    if mean is None or np.isnan(mean):
        return MISSING
    return f"{mean:.3f}" if std is None else f"{mean:.3f}{NBSP}±{NBSP}{std:.3f}"


def dataset_rows(data: Mapping[str, EvalData]) -> list[dict[str, object]]:
    """One row per downstream dataset: windows used and in all, subjects, classes, window length, paper column."""
    return [{"dataset": name, "windows used": len(d.labels), "windows in all": d.total_windows,
             "subjects": len(np.unique(d.subjects)), "classes": len(d.classes), "window (s)": f"{d.seconds:g}",
             "read against": paper_column(name)[0] or MISSING} for name, d in data.items()]


def spectrogram_rows(choice: Mapping[str, dict], settings: Sequence[tuple[int, int]]) -> list[dict[str, str]]:
    """IMG2IMU's mean validation macro-F1 per (nfft, noverlap) setting (rows) and dataset (columns), from
    ``Evaluation.choose_spectrogram``'s results by dataset; "—" where a setting was skipped."""
    return [{"setting": f"nfft {n}, noverlap {o}",
             **{name: shown(c["validation_f1"].get((n, o), np.nan)) for name, c in choice.items()}}
            for n, o in settings]


def chosen_rows(choices: Mapping[str, Mapping[str, dict]], datasets: Sequence[str]) -> list[dict[str, str]]:
    """Per image row, the (nfft, noverlap) it chose on each dataset and that setting's mean validation macro-F1,
    from ``scoring.spectrogram_choices``."""
    rows = []
    for row, by_data in choices.items():
        line = {"method": row}
        for name in datasets:
            c = by_data.get(name)
            line[name] = (f"{c['chosen'][0]}/{c['chosen'][1]} ({c['validation_f1'][tuple(c['chosen'])]:.3f})" if c
                          else MISSING)
        rows.append(line)
    return rows


def raw_rows(results: Results, raw: Results, datasets: Sequence[str]) -> list[dict[str, str]]:
    """Table II's mean test macro-F1 per row and dataset with standardised features (the protocol here) and with
    the raw ones (``scoring.raw_records``), and the change, for the rows scored both ways."""
    rows = []
    for row, by_data in raw.items():
        line = {"method": row}
        for name in datasets:
            if name in by_data and name in results.get(row, {}):
                scaled, unscaled = summary(results[row][name])[0], summary(by_data[name])[0]
                line[name] = f"{scaled:.3f} / {unscaled:.3f} ({scaled - unscaled:+.3f})"
            else:
                line[name] = MISSING
        rows.append(line)
    return rows


def _paper_cell(paper: Mapping[str, dict], row: str, column: str | None) -> str:
    source = PAPER_ROW.get(row, row)
    if column is None or source not in paper:
        return MISSING
    return shown(float(paper[source][f"{column}_mean"]), float(paper[source][f"{column}_std"]))


def paper_mean(paper: Sequence[dict] | None, row: str, column: str | None) -> float | None:
    """The paper's Table II mean for ``row`` (or the row it stands in for) in ``column``; None if it has none."""
    source = PAPER_ROW.get(row, row)
    found = [r for r in paper or [] if r["method"] == source]
    return float(found[0][f"{column}_mean"]) if column and found else None


def paper_header(dataset: str) -> str:
    """Table II's header of the paper's column that ``dataset`` is read against (``hapt: paper (wisdm)``)."""
    return f"{dataset}: paper ({paper_column(dataset)[0]})"


def table2_rows(results: Results, datasets: Sequence[str], paper: Sequence[dict] | None) -> list[dict[str, str]]:
    """Table II: per row of ``results`` (in its order) the test macro-F1, mean ± std over seeds, on each dataset,
    the paper's number for the column it is read against, and the mean ± std across datasets (ours, "—" unless
    every dataset ran; the paper's over its four). A dataset with no counterpart gets no paper column."""
    by_method = {row["method"]: row for row in paper or []}
    lines = []
    for row, records in results.items():
        line = {"group": group(row), "method": row}
        means = []
        for name in datasets:
            record = records.get(name)
            line[name] = shown(*summary(record)) if record else "not run"
            if paper_column(name)[0]:
                line[paper_header(name)] = _paper_cell(by_method, row, paper_column(name)[0])
            means.append(summary(record)[0] if record else np.nan)
        complete = bool(means) and not np.isnan(means).any()
        line["mean"] = shown(np.mean(means), np.std(means)) if complete else MISSING
        line["paper mean"] = _paper_cell(by_method, row, "average")
        lines.append(line)
    return lines


def group(row: str) -> str:
    """Table II's group of a row: sensor, image (the paper's ResNet18) or image, MobileNetV2 (seen ImageNet)."""
    return "sensor" if row in SENSOR_ROWS else ("image, MobileNetV2" if row in MOBILENET_ROWS else "image")


def table2_legend(datasets: Sequence[str]) -> str:
    """What Table II's columns hold, in a sentence per kind of column (Markdown)."""
    own = [n for n in datasets if not paper_column(n)[0]]
    return ("Each dataset's column: test macro-F1 here, mean ± std over seeds; `<dataset>: paper (<column>)`: the "
            "paper's number for the column that dataset is read against"
            + (f" ({', '.join(own)} has none in the paper, so no paper column)" if own else "")
            + "; `mean`: over this machine's datasets, ± the std across them; `paper mean`: the paper's average "
              "over its four datasets.")


def table2_not_run(results: Results, profile: str) -> list[str]:
    """A line for each Table II row with no record on any dataset, saying why."""
    why = {"imagenet_supervised": "torchvision's ImageNet weights are not in the torch hub cache "
                                  "(img2imu_lib.pretraining.imagenet_weights says how to get them)",
           "fully_supervised_2d": f"the {profile} profile trains no ResNet18 from scratch (see below)",
           "fully_supervised_1d": f"the {profile} profile trains no fully supervised 1D CNN"}
    return [f"{row} not run: {why.get(row, 'no backbone of this name')}" for row, records in results.items()
            if not records]


def curve_points(curve: Results) -> dict[str, dict[str, list[float]]]:
    """Fig. 7's points: {dataset: {method: mean test macro-F1 per shot count}} from {method: {dataset: [record
    per shot count]}}, methods in ``curve``'s order."""
    points: dict[str, dict[str, list[float]]] = {}
    for row, by_dataset in curve.items():
        for name, records in by_dataset.items():
            points.setdefault(name, {})[row] = [summary(r)[0] for r in records]
    return points


def fig7_rows(curve: Results, shots: Sequence[int]) -> list[dict[str, str]]:
    """Fig. 7 as a table: one row per (method, dataset), test macro-F1 mean ± std over seeds per shot count k."""
    return [{"method": row, "dataset": name, **{f"k = {k}": shown(*summary(r)) for k, r in zip(shots, records)}}
            for row, by_dataset in curve.items() for name, records in by_dataset.items()]


def variant_flags(label: str) -> str:
    """The paper's Table I flags (translatex, permutex, hue, jitter) of a row label: ``1111`` for "all four",
    a 0 for the augmentation left out."""
    if label not in TABLE1_ROWS:
        raise ValueError(f"Table I row {label!r}; expected one of {list(TABLE1_ROWS)}")
    return "".join("0" if label == f"without {a}" else "1" for a in ABLATIONS)


def table1_rows(table1: Mapping[str, dict], paper: Sequence[dict] | None,
                perturbations: Sequence[str]) -> list[dict[str, str]]:
    """Table I: per variant (``TABLE1_ROWS`` label -> record with every perturbation tested) the mean test macro-F1
    on the original windows and on each perturbation, with the change from the original in % (ours, then the
    paper's row with the same augmentations)."""
    theirs_by_flags = {"".join(row[a] for a in ("translatex", "permutex", "hue", "jitter")): row for row in paper or []}
    lines = []
    for label, record in table1.items():
        original = summary(record)[0]
        theirs = theirs_by_flags.get(variant_flags(label))
        line = {"augmentations": label, "original (ours)": shown(original),
                "original (paper)": shown(float(theirs["original_f1"])) if theirs else MISSING}
        for p in perturbations:
            mean = summary(record, p)[0]
            line[f"{p} (ours)"] = f"{mean:.3f}{NBSP}({100 * (mean - original) / original:+.1f}%)"
            line[f"{p} (paper)"] = (f"{float(theirs[f'{p}_f1']):.3f}{NBSP}({float(theirs[f'{p}_drop_pct']):+.1f}%)"
                                    if theirs else MISSING)
        lines.append(line)
    return lines


def nfft_points(choice: Mapping[str, dict]) -> dict[str, list[tuple[int, float]]]:
    """IMG2IMU's mean test macro-F1 against nfft per dataset, every setting of the search (sorted by nfft), from
    ``Evaluation.choose_spectrogram``'s results: what the nfft figure plots."""
    return {name: sorted((s[0], summary(r)[0]) for s, r in c["records"].items()) for name, c in choice.items()}


def nfft_rows(choice: Mapping[str, dict]) -> list[dict[str, str]]:
    """The nfft study as a table: per spectrogram setting searched anywhere, IMG2IMU's test macro-F1 (mean ± std
    over seeds) on each dataset, and the paper's WISDM number for that nfft (Section VI-C)."""
    settings = sorted({tuple(s) for c in choice.values() for s in c["records"]})
    return [{"setting": f"nfft {n}, noverlap {o}",
             **{name: shown(*summary(c["records"][(n, o)])) if (n, o) in c["records"] else MISSING
                for name, c in choice.items()},
             "WISDM (paper)": shown(PAPER_NFFT_WISDM.get(n))} for n, o in settings]


def spread_rows(spreads: Mapping[str, Mapping[str, float]], datasets: Sequence[str]) -> list[dict[str, str]]:
    """The feature spread (``scoring.feature_spread``) per method and dataset, "—" where not scored; methods
    scored on no dataset are left out."""
    rows = [{"method": row, **{name: f"{by_dataset[name]:.3f}" if name in by_dataset else MISSING for name in datasets}}
            for row, by_dataset in spreads.items()]
    return [r for r in rows if any(v != MISSING for k, v in r.items() if k != "method")]


def nearly_constant(rows: Sequence[dict[str, str]]) -> list[str]:
    """``method on dataset`` for each cell of ``spread_rows`` under a tenth of the median spread."""
    values = [float(v) for r in rows for k, v in r.items() if k != "method" and v != MISSING]
    return [f"{r['method']} on {k}" for r in rows for k, v in r.items()
            if k != "method" and v != MISSING and float(v) < 0.1 * float(np.median(values))]
