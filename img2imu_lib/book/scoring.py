"""The records behind the evaluation chapter's tables: which ``Evaluation`` call fills each cell of Table II,
Fig. 7 and Table I, run now or read back from the cache.

``evaluation`` is an ``evaluation.study.Evaluation`` (anything with its ``data``, ``sizes``, ``score`` and
``upper_bound``); ``chosen`` maps each dataset to the (nfft, noverlap) its spectrogram search chose, which
every image method uses there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from ..evaluation.candidates import Candidate
from ..evaluation.features import features
from ..evaluation.study import Evaluation
from ..progress import progress_bar
from .paper import FIG7_ROWS, TABLE1_ROWS
from .runs import for_dataset

Records = dict[str, dict[str, dict]]  # {Table II row: {dataset: record}}


def ablation_dataset(datasets: Sequence[str]) -> str:
    """Where Table I is run: WISDM (the paper's) if here, else HAPT (its stand-in), else the first dataset."""
    return "wisdm" if "wisdm" in datasets else ("hapt" if "hapt" in datasets else datasets[0])


def table2_records(evaluation: Evaluation, candidates: Sequence[Candidate], rows: Sequence[str],
                   chosen: Mapping[str, tuple[int, int]]) -> Records:
    """Table II's records, {row: {dataset: record}}: the fully supervised bounds where the sizes train them
    (``upper_epochs_1d`` / ``_2d`` > 0), every other row the probe of the candidate of that name (sensor runs: the
    one pre-trained nearest the dataset's window length). A row with no backbone stays empty."""
    sizes = evaluation.sizes
    results: Records = {row: {} for row in rows}
    cells = progress_bar([(name, row) for name in evaluation.data for row in rows], desc="Table II", disable=True)
    for name, row in cells:  # a bar drawn nowhere: it reports to a build watching the chapter (progress.py)
        cells.set_postfix_str(f"{row} on {name}")
        d = evaluation.data[name]
        if row == "fully_supervised_1d" and sizes.upper_epochs_1d:
            results[row][name] = evaluation.upper_bound("sensor", name)
        elif row == "fully_supervised_2d" and sizes.upper_epochs_2d:
            results[row][name] = evaluation.upper_bound("image", name, spectrogram=chosen[name])
        elif row.startswith("fully_supervised"):
            continue
        elif (candidate := for_dataset(candidates, row, d)) is not None:
            spectrogram = chosen[name] if candidate.kind == "image" else None
            results[row][name] = evaluation.score(candidate, name, spectrogram=spectrogram)
    return results


def curve_records(evaluation: Evaluation, candidates: Sequence[Candidate], results: Records,
                  chosen: Mapping[str, tuple[int, int]]) -> Records:
    """Fig. 7's records, {row: {dataset: [record per k of ``sizes.curve_shots``]}}, for the ``FIG7_ROWS`` that
    Table II scored. Unless ``sizes.curve_search``, each seed reuses the rate and decay it chose at Table II's k."""
    sizes = evaluation.sizes
    curve: Records = {row: {} for row in FIG7_ROWS if row in results}
    cells = progress_bar([(name, row) for name in evaluation.data for row in curve], desc="Fig. 7", disable=True)
    for name, row in cells:  # drawn nowhere, as Table II's
        cells.set_postfix_str(f"{row} on {name}")
        candidate = for_dataset(candidates, row, evaluation.data[name])
        if candidate is None or name not in results[row]:
            continue
        fixed = None if sizes.curve_search else {r["seed"]: (r["lr"], r["weight_decay"])
                                                 for r in results[row][name]["per_seed"]}
        spectrogram = chosen[name] if candidate.kind == "image" else None
        curve[row][name] = [evaluation.score(candidate, name, spectrogram=spectrogram, shots=k, fixed=fixed,
                                             stage="shots") for k in sizes.curve_shots]
    return curve


def table1_records(evaluation: Evaluation, candidates: Sequence[Candidate], dataset: str,
                   spectrogram: tuple[int, int], perturbations: Sequence[str]) -> dict[str, dict]:
    """Table I's records, {``TABLE1_ROWS`` label: record}: each variant's probe on ``dataset``, tested on the
    original windows and on each of ``perturbations`` (the probe is trained on original windows only)."""
    by_name: dict[str, Candidate] = {}
    for c in candidates:
        by_name.setdefault(c.name, c)  # the first of a name, as Table II's image rows
    missing = [run for run in TABLE1_ROWS.values() if run not in by_name]
    if missing:
        raise ValueError(f"Table I needs the pre-training runs {missing}; the candidates are {sorted(by_name)}")
    return {label: evaluation.score(by_name[run], dataset, spectrogram=spectrogram, perturbations=list(perturbations),
                                    stage="table1")
            for label, run in progress_bar(TABLE1_ROWS.items(), desc="Table I", disable=True)}  # drawn nowhere


def feature_spread(feats: torch.Tensor) -> float:
    """How much frozen features (N, D) vary between windows: the mean over dimensions of their standard
    deviation across windows, divided by the mean absolute feature value (0: every window maps to one point)."""
    return (feats.std(dim=0).mean() / feats.abs().mean().clamp_min(1e-12)).item()


def feature_spreads(evaluation: Evaluation, candidates: Sequence[Candidate], results: Records,
                    chosen: Mapping[str, tuple[int, int]]) -> dict[str, dict[str, float]]:
    """``feature_spread`` of every (row, dataset) Table II scored, {row: {dataset: spread}}."""
    spreads: dict[str, dict[str, float]] = {row: {} for row in results}
    for row in results:
        for name, d in evaluation.data.items():
            candidate = for_dataset(candidates, row, d)
            if candidate is None or name not in results[row]:
                continue
            feats = features(candidate, d, spectrogram=chosen[name] if candidate.kind == "image" else None)
            spreads[row][name] = feature_spread(feats)
    return spreads


def bound_2d_hours(samples_per_second: float, total_windows: Sequence[int], *, epochs: int, seeds: int) -> float:
    """Hours the fully supervised 2D bound would take at ``samples_per_second``: ``epochs`` passes over the
    training subjects' 60 % of every dataset's windows, once per seed."""
    images = sum(0.6 * n for n in total_windows) * epochs * seeds
    return images / samples_per_second / 3600


def chapter_records(choice: Mapping[str, dict], results: Records, table1: Mapping[str, dict],
                    curve: Records) -> list[dict]:
    """Every record behind the chapter's numbers: the spectrogram search, Table II, Table I and Fig. 7."""
    used = [r for c in choice.values() for r in c["records"].values()]
    used += [r for by_data in results.values() for r in by_data.values()] + list(table1.values())
    used += [r for by_data in curve.values() for records in by_data.values() for r in records]
    return used
