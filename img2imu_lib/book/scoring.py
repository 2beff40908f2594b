"""The records behind the evaluation chapter's tables: which ``Evaluation`` call fills each cell of Table II,
Fig. 7 and Table I, run now or read back from the cache.

``evaluation`` is an ``evaluation.study.Evaluation`` (anything with its ``data``, ``sizes``, ``score``,
``choose_spectrogram`` and ``upper_bound``); ``choices`` maps each image row to its spectrogram search on
each dataset (``spectrogram_choices``): every image backbone is scored on the (nfft, noverlap) it chose
itself on the validation subjects.
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


Choices = Mapping[str, Mapping[str, dict]]  # {image row: {dataset: Evaluation.choose_spectrogram's result}}


def spectrogram_choices(evaluation: Evaluation, candidates: Sequence[Candidate], rows: Sequence[str]) -> dict:
    """Every image row's own spectrogram search on every dataset, {row: {dataset: choice}}; rows with no image
    backbone among ``candidates`` are left out."""
    choices: dict[str, dict[str, dict]] = {}
    cells = progress_bar([(name, row) for row in rows for name in evaluation.data], desc="spectrogram search",
                         disable=True)  # a backbone's datasets one after another: it is loaded once (features.loaded)
    for name, row in cells:  # drawn nowhere, as Table II's
        cells.set_postfix_str(f"{row} on {name}")
        candidate = for_dataset(candidates, row, evaluation.data[name])
        if candidate is not None and candidate.kind == "image":
            choices.setdefault(row, {})[name] = evaluation.choose_spectrogram(candidate, name)
    return choices


def chosen_setting(choices: Choices, row: str, dataset: str) -> tuple[int, int]:
    """The (nfft, noverlap) ``row`` chose on ``dataset``."""
    return tuple(choices[row][dataset]["chosen"])


def table2_records(evaluation: Evaluation, candidates: Sequence[Candidate], rows: Sequence[str],
                   choices: Choices) -> Records:
    """Table II's records, {row: {dataset: record}}: the fully supervised bounds where the sizes train them
    (``upper_epochs_1d`` / ``_2d`` > 0), every other row the probe of the candidate of that name (sensor runs: the
    one pre-trained nearest the dataset's window length; image rows: their own spectrogram search's record at the
    setting they chose). A row with no backbone stays empty. The 2D bound uses IMG2IMU's setting."""
    sizes = evaluation.sizes
    results: Records = {row: {} for row in rows}
    cells = progress_bar([(name, row) for name in evaluation.data for row in rows], desc="Table II", disable=True)
    for name, row in cells:  # a bar drawn nowhere: it reports to a build watching the chapter (progress.py)
        cells.set_postfix_str(f"{row} on {name}")
        d = evaluation.data[name]
        if row == "fully_supervised_1d" and sizes.upper_epochs_1d:
            results[row][name] = evaluation.upper_bound("sensor", name)
        elif row == "fully_supervised_2d" and sizes.upper_epochs_2d:
            results[row][name] = evaluation.upper_bound("image", name, spectrogram=chosen_setting(choices, "img2imu", name))
        elif row.startswith("fully_supervised"):
            continue
        elif (candidate := for_dataset(candidates, row, d)) is not None:
            if candidate.kind == "image":
                choice = choices[row][name]
                results[row][name] = choice["records"][tuple(choice["chosen"])]
            else:
                results[row][name] = evaluation.score(candidate, name)
    return results


def raw_records(evaluation: Evaluation, candidates: Sequence[Candidate], results: Records, choices: Choices) -> Records:
    """Table II's probes again on the raw, unstandardised features (the paper's protocol leaves the scale to the
    backbone), at the same spectrogram settings: {row: {dataset: record}} for the rows with a backbone."""
    raw: Records = {}
    for row, by_data in results.items():
        for name in by_data:
            candidate = for_dataset(candidates, row, evaluation.data[name])
            if candidate is None:
                continue  # the fully supervised bounds: no frozen features
            spectrogram = chosen_setting(choices, row, name) if candidate.kind == "image" else None
            raw.setdefault(row, {})[name] = evaluation.score(candidate, name, spectrogram=spectrogram,
                                                             standardize=False, stage="raw")
    return raw


def curve_records(evaluation: Evaluation, candidates: Sequence[Candidate], results: Records,
                  choices: Choices) -> Records:
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
        spectrogram = chosen_setting(choices, row, name) if candidate.kind == "image" else None
        curve[row][name] = [evaluation.score(candidate, name, spectrogram=spectrogram, shots=k, fixed=fixed,
                                             stage="shots") for k in sizes.curve_shots]
    return curve


def table1_records(evaluation: Evaluation, candidates: Sequence[Candidate], dataset: str,
                   perturbations: Sequence[str]) -> dict[str, dict]:
    """Table I's records, {``TABLE1_ROWS`` label: record}: each variant's probe on ``dataset`` at the spectrogram
    setting it chose itself on validation, tested on the original windows and on each of ``perturbations`` (the
    probe is trained on original windows only)."""
    by_name: dict[str, Candidate] = {}
    for c in candidates:
        by_name.setdefault(c.name, c)  # the first of a name, as Table II's image rows
    missing = [run for run in TABLE1_ROWS.values() if run not in by_name]
    if missing:
        raise ValueError(f"Table I needs the pre-training runs {missing}; the candidates are {sorted(by_name)}")
    return {label: evaluation.score(by_name[run], dataset, perturbations=list(perturbations), stage="table1",
                                    spectrogram=tuple(evaluation.choose_spectrogram(by_name[run], dataset)["chosen"]))
            for label, run in progress_bar(TABLE1_ROWS.items(), desc="Table I", disable=True)}  # drawn nowhere


def feature_spread(feats: torch.Tensor) -> float:
    """How much frozen features (N, D) vary between windows: the mean over dimensions of their standard
    deviation across windows, divided by the mean absolute feature value (0: every window maps to one point)."""
    return (feats.std(dim=0).mean() / feats.abs().mean().clamp_min(1e-12)).item()


def feature_spreads(evaluation: Evaluation, candidates: Sequence[Candidate], results: Records,
                    choices: Choices) -> dict[str, dict[str, float]]:
    """``feature_spread`` of every (row, dataset) Table II scored, {row: {dataset: spread}}."""
    spreads: dict[str, dict[str, float]] = {row: {} for row in results}
    for row in results:
        for name, d in evaluation.data.items():
            candidate = for_dataset(candidates, row, d)
            if candidate is None or name not in results[row]:
                continue
            feats = features(candidate, d, spectrogram=chosen_setting(choices, row, name) if candidate.kind == "image"
                             else None)
            spreads[row][name] = feature_spread(feats)
    return spreads


def bound_2d_hours(samples_per_second: float, total_windows: Sequence[int], *, epochs: int, seeds: int) -> float:
    """Hours the fully supervised 2D bound would take at ``samples_per_second``: ``epochs`` passes over the
    training subjects' 60 % of every dataset's windows, once per seed."""
    images = sum(0.6 * n for n in total_windows) * epochs * seeds
    return images / samples_per_second / 3600


def chapter_records(choices: Choices, results: Records, table1: Mapping[str, dict],
                    curve: Records) -> list[dict]:
    """Every record behind the chapter's numbers: the spectrogram searches, Table II, Table I and Fig. 7."""
    used = [r for by_data in choices.values() for c in by_data.values() for r in c["records"].values()]
    used += [r for by_data in results.values() for r in by_data.values()] + list(table1.values())
    used += [r for by_data in curve.values() for records in by_data.values() for r in records]
    return used


def learning_curve_records(evaluation: Evaluation, families: Mapping[str, dict]) -> dict[str, dict]:
    """The learning curve's records: for each family of ``runs.curve_candidates``, its control's spectrogram search
    on every dataset (the setting it chooses is then used for every snapshot of the family: chosen before any
    gradient step, it favours neither method), and the probe of every snapshot at that setting.
    Returns {family: {"settings": {dataset: setting}, "control": {dataset: record},
    "runs": {method: {step: {dataset: record}}}, "steps": [...]}}."""
    curve: dict[str, dict] = {}
    for family, found in families.items():
        searches = {name: evaluation.choose_spectrogram(found["control"], name) for name in evaluation.data}
        settings = {name: tuple(c["chosen"]) for name, c in searches.items()}
        runs = {}
        cells = progress_bar([(m, s) for m in found["runs"] for s in found["steps"]], desc=f"learning curve, {family}",
                             disable=True)
        for method, step in cells:  # drawn nowhere, as Table II's
            cells.set_postfix_str(f"{method} after {step} steps")
            runs.setdefault(method, {})[step] = {
                name: evaluation.score(found["runs"][method][step], name, spectrogram=settings[name], stage="learning_curve")
                for name in evaluation.data}
        curve[family] = {"settings": settings, "steps": list(found["steps"]), "runs": runs,
                         "control": {name: c["records"][settings[name]] for name, c in searches.items()}}
    return curve
