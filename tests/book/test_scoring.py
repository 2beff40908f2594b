"""Which Evaluation call fills each cell of the chapter's tables, checked with a stand-in evaluation that
records its calls (no backbone is loaded, nothing is trained)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import torch

from img2imu_lib.book import scoring
from img2imu_lib.book.paper import TABLE1_ROWS
from img2imu_lib.evaluation.candidates import Candidate


@dataclass
class StandIn:
    """Answers ``score``, ``choose_spectrogram`` and ``upper_bound`` with a record naming the call; each backbone
    "chooses" the setting ``chosen`` gives for its name and dataset."""

    data: dict
    sizes: SimpleNamespace
    chosen: dict = None

    def score(self, candidate, dataset, *, spectrogram=None, shots=None, perturbations=(), stage="table2", fixed=None,
              standardize=None):
        call = (candidate.name, candidate.key, dataset, spectrogram, shots, fixed, stage, tuple(perturbations))
        if standardize is not None:
            call += (standardize,)
        return {"call": call, "dataset": dataset, "key": str(call),
                "per_seed": [{"seed": 0, "lr": 0.01, "weight_decay": 1e-4, "test_f1": {"original": 0.5}}]}

    def choose_spectrogram(self, candidate, dataset):
        settings = [(32, 24), (64, 56), (128, 120)]
        chosen = self.chosen[candidate.name, dataset]
        return {"chosen": chosen, "validation_f1": {s: float(s == chosen) for s in settings},
                "records": {s: self.score(candidate, dataset, spectrogram=s, stage="spectrogram") for s in settings}}

    def upper_bound(self, kind, dataset, spectrogram=None):
        return {"call": ("bound", kind, dataset, spectrogram), "key": f"bound-{kind}-{dataset}", "per_seed": []}


def candidate(name, kind="image", seconds=None, key="k"):
    return Candidate(name, kind, lambda: None, key, seconds=seconds)


SIZES = SimpleNamespace(upper_epochs_1d=1, upper_epochs_2d=0, curve_search=False, curve_shots=(1, 2))
DATA = {"hapt": SimpleNamespace(seconds=2.0), "watch": SimpleNamespace(seconds=10.0)}
# each image backbone's own choice: img2imu and simsiam differ on hapt
CHOSEN = {("img2imu", "hapt"): (64, 56), ("img2imu", "watch"): (128, 120), ("simsiam", "hapt"): (32, 24),
          ("simsiam", "watch"): (128, 120), **{(run, "hapt"): (32, 24) for run in TABLE1_ROWS.values() if run != "img2imu"}}
CANDIDATES = [candidate("img2imu"), candidate("limu_bert", "sensor", 2.0, "l2"), candidate("limu_bert", "sensor", 10.0, "l10")]


def stand_in(sizes=SIZES) -> StandIn:
    return StandIn(DATA, sizes, CHOSEN)


def test_every_image_row_scores_the_setting_it_chose_itself():
    with_simsiam = CANDIDATES + [candidate("simsiam", key="s")]
    evaluation = stand_in()
    choices = scoring.spectrogram_choices(evaluation, with_simsiam, ["limu_bert", "img2imu", "simsiam"])
    assert sorted(choices) == ["img2imu", "simsiam"]  # sensor rows read raw windows: no search
    results = scoring.table2_records(evaluation, with_simsiam, ["img2imu", "simsiam"], choices)
    assert results["img2imu"]["hapt"]["call"][3] == (64, 56) and results["simsiam"]["hapt"]["call"][3] == (32, 24)
    assert results["img2imu"]["hapt"]["call"][6] == "spectrogram"  # the search's own record, not a second probe
    raw = scoring.raw_records(evaluation, with_simsiam, results, choices)
    assert raw["simsiam"]["hapt"]["call"] == ("simsiam", "s", "hapt", (32, 24), None, None, "raw", (), False)


def test_table2_records_pick_the_call_for_each_row():
    rows = ["fully_supervised_1d", "limu_bert", "fully_supervised_2d", "img2imu", "simsiam"]
    evaluation = stand_in()
    choices = scoring.spectrogram_choices(evaluation, CANDIDATES, rows)
    results = scoring.table2_records(evaluation, CANDIDATES, rows, choices)
    assert list(results) == rows
    assert results["fully_supervised_1d"]["hapt"]["call"] == ("bound", "sensor", "hapt", None)
    assert results["fully_supervised_2d"] == {} and results["simsiam"] == {}  # no 2D epochs; no such backbone
    # sensor runs read raw windows, from the run pre-trained nearest the dataset's window length
    assert results["limu_bert"]["hapt"]["call"][1:4] == ("l2", "hapt", None)
    assert results["limu_bert"]["watch"]["call"][1:4] == ("l10", "watch", None)
    assert results["img2imu"]["watch"]["call"] == ("img2imu", "k", "watch", (128, 120), None, None, "spectrogram", ())


def test_curve_records_reuse_each_seeds_choice():
    evaluation = stand_in()
    choices = scoring.spectrogram_choices(evaluation, CANDIDATES, ["img2imu"])
    results = scoring.table2_records(evaluation, CANDIDATES, ["limu_bert", "img2imu", "simsiam"], choices)
    curve = scoring.curve_records(evaluation, CANDIDATES, results, choices)
    assert list(curve) == ["img2imu", "simsiam", "limu_bert"]  # Fig. 7's order, rows Table II has
    calls = [r["call"] for r in curve["img2imu"]["hapt"]]
    assert calls == [("img2imu", "k", "hapt", (64, 56), k, {0: (0.01, 1e-4)}, "shots", ()) for k in (1, 2)]
    searched = scoring.curve_records(stand_in(SimpleNamespace(**{**vars(SIZES), "curve_search": True})),
                                     CANDIDATES, results, choices)
    assert searched["limu_bert"]["hapt"][0]["call"][5] is None  # curve_search: no fixed choice


def test_table1_records_need_every_ablation():
    ablations = [candidate(run, key=run) for run in TABLE1_ROWS.values()]
    table1 = scoring.table1_records(stand_in(), ablations, "hapt", ["noised", "masked"])
    assert list(table1) == list(TABLE1_ROWS)
    assert table1["all four"]["call"][3] == (64, 56)
    assert table1["without hue"]["call"] == ("img2imu without hue", "img2imu without hue", "hapt", (32, 24), None,
                                             None, "table1", ("noised", "masked"))  # the variant's own choice
    with pytest.raises(ValueError, match=r"Table I needs the pre-training runs \['img2imu without translate_x'"):
        scoring.table1_records(stand_in(), ablations[:1], "hapt", ["noised"])


def test_feature_spread_by_hand():
    # per dimension the std across windows (unbiased) of 1 and 3 is sqrt(2); the mean absolute value is 2
    assert scoring.feature_spread(torch.tensor([[1.0, 1.0], [3.0, 3.0]])) == pytest.approx(2 ** 0.5 / 2)
    assert scoring.feature_spread(torch.ones(5, 3)) == 0.0  # every window maps to one point


def test_bound_hours_and_datasets():
    # 60 % of 1,500 windows, 30 epochs, 5 seeds: 135,000 images at 100 images/s = 1,350 s
    assert scoring.bound_2d_hours(100.0, [1000, 500], epochs=30, seeds=5) == pytest.approx(0.375)
    assert scoring.ablation_dataset(["watch", "hapt"]) == "hapt"
    assert scoring.ablation_dataset(["hapt", "wisdm"]) == "wisdm" and scoring.ablation_dataset(["watch"]) == "watch"


def test_chapter_records_lists_every_record():
    choice = {"img2imu": {"hapt": {"records": {(32, 24): {"key": "a"}, (64, 56): {"key": "b"}}}}}
    results = {"img2imu": {"hapt": {"key": "c"}}, "simsiam": {}}
    used = scoring.chapter_records(choice, results, {"all four": {"key": "d"}}, {"img2imu": {"hapt": [{"key": "e"}]}})
    assert [r["key"] for r in used] == ["a", "b", "c", "d", "e"]
