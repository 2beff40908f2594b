"""The evaluation chapter's tables from hand-built records, every expected cell worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from img2imu_lib.book import paper as P
from img2imu_lib.book import tables as T

from .fake_records import record


def plain(rows):
    """The rows with no-break spaces (which keep a number and its spread on one line) written as spaces."""
    return [{k: v.replace(T.NBSP, " ") if isinstance(v, str) else v for k, v in r.items()} for r in rows]


PAPER2 = [  # two rows of the paper's table2_f1_10shot.csv, as paper_table reads them (text)
    {"group": "sensor", "method": "limu_bert", "wisdm_mean": "0.516", "wisdm_std": "0.141", "average_mean": "0.475",
     "average_std": "0.123"},
    {"group": "image", "method": "imagenet_supervised", "wisdm_mean": "0.620", "wisdm_std": "0.043",
     "average_mean": "0.603", "average_std": "0.111"},
]
RESULTS = {  # Table II's records by row and dataset: limu_bert on both, our stand-in on hapt only, img2imu nowhere
    "limu_bert": {"hapt": record("hapt", [0.5, 0.7]), "watch": record("watch", [0.4, 0.6])},
    "supervised_sample": {"hapt": record("hapt", [0.3, 0.3])},
    "img2imu": {},
}


def test_shown_formats_three_decimals_and_marks_missing():
    assert T.shown(0.36349, 0.04) == "0.363\u00a0±\u00a00.040" and T.shown(0.5) == "0.500"  # never broken over lines
    assert T.shown(None) == T.shown(float("nan"), 0.1) == "—"


def test_table2_cells_by_hand():
    rows = plain(T.table2_rows(RESULTS, ["hapt", "watch"], PAPER2))
    # watch has no counterpart in the paper: no paper column for it
    assert list(rows[0]) == ["group", "method", "hapt", "hapt: paper (wisdm)", "watch", "mean", "paper mean"]
    # limu_bert: hapt (0.5, 0.7) -> 0.6 ± 0.1 (population std over seeds); watch 0.5 ± 0.1; across datasets
    # the means 0.6 and 0.5 give 0.55 ± 0.05
    assert rows[0] == {"group": "sensor", "method": "limu_bert", "hapt": "0.600 ± 0.100",
                       "hapt: paper (wisdm)": "0.516 ± 0.141", "watch": "0.500 ± 0.100", "mean": "0.550 ± 0.050",
                       "paper mean": "0.475 ± 0.123"}
    # the stand-in is read against the paper's ImageNet-supervised row; not run on watch, so no mean
    assert rows[1] == {"group": "image", "method": "supervised_sample", "hapt": "0.300 ± 0.000",
                       "hapt: paper (wisdm)": "0.620 ± 0.043", "watch": "not run", "mean": "—",
                       "paper mean": "0.603 ± 0.111"}
    assert rows[2] == {"group": "image", "method": "img2imu", "hapt": "not run", "hapt: paper (wisdm)": "—",
                       "watch": "not run", "mean": "—", "paper mean": "—"}
    assert T.table2_not_run(RESULTS, "cpu") == ["img2imu not run: no backbone of this name"]
    assert "watch has none in the paper" in T.table2_legend(["hapt", "watch"])


def test_a_dataset_the_paper_does_not_name_gets_no_paper_column():
    assert P.paper_column("tones") == (None, "no counterpart in the paper")
    results = {"limu_bert": {"tones": RESULTS["limu_bert"]["hapt"]}}
    [row] = plain(T.table2_rows(results, ["tones"], PAPER2))
    assert list(row) == ["group", "method", "tones", "mean", "paper mean"] and row["tones"] == "0.600 ± 0.100"


def test_table2_without_the_papers_csv(tmp_path):
    """No paper folder beside the data folder: paper_table gives None and every paper cell is "—"."""
    assert P.paper_table("table9_not_in_the_paper.csv", [tmp_path / "data"]) is None
    rows = plain(T.table2_rows(RESULTS, ["hapt"], None))
    assert [r["hapt: paper (wisdm)"] for r in rows] == ["—"] * 3 and [r["paper mean"] for r in rows] == ["—"] * 3
    assert rows[0]["hapt"] == "0.600 ± 0.100"  # our numbers are unchanged
    assert T.paper_mean(None, "limu_bert", "wisdm") is None


def test_table2_reads_a_papers_csv_beside_the_data_folder(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "table2_f1_10shot.csv").write_text(
        "group,method,wisdm_mean,wisdm_std,average_mean,average_std\nsensor,limu_bert,0.111,0.022,0.333,0.044\n")
    paper = P.paper_table("table2_f1_10shot.csv", [tmp_path / "data"])
    row = plain(T.table2_rows({"limu_bert": RESULTS["limu_bert"]}, ["hapt"], paper))[0]
    assert row["hapt: paper (wisdm)"] == "0.111 ± 0.022" and row["paper mean"] == "0.333 ± 0.044"
    assert T.paper_mean(paper, "limu_bert", "wisdm") == 0.111 and T.paper_mean(paper, "limu_bert", None) is None


def test_table1_cells_by_hand():
    perturbations = ["noised"]
    table1 = {"all four": record("hapt", [0.8, 0.6], perturbed={"noised": [0.4, 0.3]}),
              "without jitter": record("hapt", [0.5, 0.5], perturbed={"noised": [0.5, 0.5]})}
    paper = [{"translatex": "1", "permutex": "1", "hue": "1", "jitter": "1", "original_f1": "0.754",
              "noised_f1": "0.580", "noised_drop_pct": "-23.10"},
             {"translatex": "1", "permutex": "1", "hue": "1", "jitter": "0", "original_f1": "0.749",
              "noised_f1": "0.562", "noised_drop_pct": "-24.91"}]
    rows = plain(T.table1_rows(table1, paper, perturbations))
    # all four: original 0.7, noised 0.35, a change of (0.35 - 0.7) / 0.7 = -50 %
    assert rows[0] == {"augmentations": "all four", "original (ours)": "0.700", "original (paper)": "0.754",
                       "noised (ours)": "0.350 (-50.0%)", "noised (paper)": "0.580 (-23.1%)"}
    assert rows[1] == {"augmentations": "without jitter", "original (ours)": "0.500", "original (paper)": "0.749",
                       "noised (ours)": "0.500 (+0.0%)", "noised (paper)": "0.562 (-24.9%)"}
    missing = T.table1_rows(table1, None, perturbations)  # no paper CSV: the paper's cells are "—"
    assert missing[0]["original (paper)"] == missing[0]["noised (paper)"] == "—"


def test_table1_flags_follow_the_papers_columns():
    assert T.variant_flags("all four") == "1111"
    assert [T.variant_flags(f"without {a}") for a in P.ABLATIONS] == ["0111", "1011", "1101", "1110"]
    with pytest.raises(ValueError, match="Table I row 'without colour'"):
        T.variant_flags("without colour")


def test_spectrogram_and_nfft_tables():
    choice = {"hapt": {"validation_f1": {(32, 24): 0.4, (64, 56): 0.5},
                       "records": {(64, 56): record("hapt", [0.6, 0.8]), (32, 24): record("hapt", [0.2, 0.4])}},
              "watch": {"validation_f1": {(32, 24): 0.7}, "records": {(32, 24): record("watch", [0.5, 0.5])}}}
    grid = T.spectrogram_rows(choice, [(32, 24), (64, 56)])
    assert grid == [{"setting": "nfft 32, noverlap 24", "hapt": "0.400", "watch": "0.700"},
                    {"setting": "nfft 64, noverlap 56", "hapt": "0.500", "watch": "—"}]
    assert T.nfft_points(choice) == {"hapt": [(32, pytest.approx(0.3)), (64, pytest.approx(0.7))],
                                     "watch": [(32, 0.5)]}
    assert plain(T.nfft_rows(choice)) == [
        {"setting": "nfft 32, noverlap 24", "hapt": "0.300 ± 0.100", "watch": "0.500 ± 0.000", "WISDM (paper)": "0.660"},
        {"setting": "nfft 64, noverlap 56", "hapt": "0.700 ± 0.100", "watch": "—", "WISDM (paper)": "0.734"}]


def test_fig7_points_and_table():
    curve = {"img2imu": {"hapt": [record("hapt", [0.2, 0.4]), record("hapt", [0.5, 0.7])]},
             "limu_bert": {"hapt": [record("hapt", [0.1, 0.1]), record("hapt", [0.3, 0.3])],
                           "watch": [record("watch", [0.9, 0.9]), record("watch", [0.8, 0.8])]},
             "simsiam": {}}
    points = T.curve_points(curve)
    assert list(points) == ["hapt", "watch"] and list(points["hapt"]) == ["img2imu", "limu_bert"]
    assert points["hapt"]["img2imu"] == [pytest.approx(0.3), pytest.approx(0.6)]
    assert points["watch"] == {"limu_bert": [0.9, 0.8]}
    rows = plain(T.fig7_rows(curve, [1, 2]))
    assert rows[0] == {"method": "img2imu", "dataset": "hapt", "k = 1": "0.300 ± 0.100", "k = 2": "0.600 ± 0.100"}
    assert [(r["method"], r["dataset"]) for r in rows] == [("img2imu", "hapt"), ("limu_bert", "hapt"),
                                                            ("limu_bert", "watch")]


def test_spread_rows_and_nearly_constant():
    spreads = {"img2imu": {"hapt": 0.5, "watch": 0.6}, "limu_bert": {"hapt": 0.01}, "simsiam": {}}
    rows = T.spread_rows(spreads, ["hapt", "watch"])
    assert rows == [{"method": "img2imu", "hapt": "0.500", "watch": "0.600"},
                    {"method": "limu_bert", "hapt": "0.010", "watch": "—"}]  # simsiam scored nowhere: left out
    # the median of 0.5, 0.6, 0.01 is 0.5: under a tenth of it is 0.01 only
    assert T.nearly_constant(rows) == ["limu_bert on hapt"]


def test_dataset_rows():
    from img2imu_lib.evaluation.data import EvalData

    d = EvalData("hapt", np.zeros((4, 100, 3), np.float32), np.array([0, 1, 0, 1]), np.array([1, 1, 2, 3]), 50.0,
                 ("walk", "sit"), 2.0, total_windows=10)
    assert T.dataset_rows({"hapt": d}) == [{"dataset": "hapt", "windows used": 4, "windows in all": 10, "subjects": 3,
                                            "classes": 2, "window (s)": "2", "read against": "wisdm"}]


def test_markdown_of_table2_has_one_line_per_row():
    text = P.markdown_table(T.table2_rows(RESULTS, ["hapt"], PAPER2))
    lines = text.splitlines()
    assert len(lines) == 2 + len(RESULTS)
    assert lines[0] == "| group | method | hapt | hapt: paper (wisdm) | mean | paper mean |"
