"""Bad and messy inputs to the datasets layer: each gets an error naming the file, line or value and what was
expected, or a documented, counted result. Each test is named for the input it tries."""

from __future__ import annotations

import gzip
import math
import socket

import numpy as np
import pytest

from img2imu_lib.datasets import download as dl
from img2imu_lib.datasets.capture24 import read_participant
from img2imu_lib.datasets.daphnet import read_daphnet_file
from img2imu_lib.datasets.field import load_goat
from img2imu_lib.datasets.hapt import hapt_file, load_hapt
from img2imu_lib.datasets.own import from_arrays, read_csv
from img2imu_lib.datasets.protocol import few_shot, resample, seed_split, subject_split
from img2imu_lib.datasets.recording import Recording
from img2imu_lib.datasets.watch import load_watch, watch_file
from tests.datasets.test_download import Server

HEADER = "subject,session,x,y,z,label\n"
ROW = "1,0,0.1,0.2,1.0,walk\n"


def csv_file(tmp_path, text: str | bytes, name: str = "mine.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, newline="")  # line ends exactly as given
    return path


def wrap(labels, **kw) -> Recording:
    return from_arrays(np.zeros((len(labels), 3)), labels, fs=50.0, subject=1, **kw)


# --- labels of every dtype (own.from_arrays) ---

def test_integer_labels_0_and_1_keep_the_windows_of_class_0():
    r = wrap([0, 1, 0, 1])
    assert r.classes == ("0", "1") and r.labels.tolist() == [0, 1, 0, 1] and r.meta["unlabelled"] == {}


def test_numpy_integer_labels_name_classes_in_numeric_order():
    r = wrap(np.array([2, 10, 0, 1]))
    assert r.classes == ("0", "1", "2", "10") and r.labels.tolist() == [2, 3, 0, 1]


def test_float_labels_with_nan_mark_only_nan_unlabelled():
    r = wrap(np.array([0.0, 1.0, np.nan, 1.0]))  # a pandas int column with a gap becomes float
    assert r.classes == ("0", "1") and r.labels.tolist() == [0, 1, -1, 1]
    assert r.meta["unlabelled"] == {"nan": 1}


def test_float_nan_among_string_labels_is_unlabelled():
    r = wrap(["walk", float("nan"), "run", None])
    assert r.classes == ("run", "walk") and r.labels.tolist() == [1, -1, 0, -1]
    assert r.meta["unlabelled"] == {"nan": 1, "None": 1}


def test_string_nan_NaN_NA_and_empty_labels_are_unlabelled_and_counted_by_spelling():
    r = wrap(["walk", "nan", "NaN", "", " NA ", "walk"])
    assert r.classes == ("walk",) and r.labels.tolist() == [0, -1, -1, -1, -1, 0]
    assert r.meta["unlabelled"] == {"'nan'": 1, "'NaN'": 1, "''": 1, "' NA '": 1}


def test_minus_one_as_int_float_or_string_label_is_unlabelled():
    r = wrap([-1, 0, -1.0, "-1", 1])
    assert r.classes == ("0", "1") and r.labels.tolist() == [-1, 0, -1, -1, 1]
    assert r.meta["unlabelled"] == {"-1": 1, "-1.0": 1, "'-1'": 1}


def test_bool_labels_name_classes_false_and_true():
    r = wrap(np.array([True, False, True]))
    assert r.classes == ("False", "True") and r.labels.tolist() == [1, 0, 1]


def test_object_labels_mixing_numbers_and_strings():
    r = wrap(np.array(["a", 1, None, "b", 1.0, "1"], dtype=object))
    assert r.classes == ("1", "a", "b") and r.labels.tolist() == [1, 0, -1, 2, 0, 0]


def test_labels_with_surrounding_spaces_are_one_class():
    assert wrap(["walk", "walk ", " walk"]).classes == ("walk",)


def test_a_fractional_float_label_is_an_error_naming_the_sample():
    with pytest.raises(ValueError, match=r"labels\[1\]: label 0\.5 is not a whole number"):
        wrap([0.0, 0.5])


@pytest.mark.parametrize("label", [b"walk", ["walk"], {"walk": 1}])
def test_a_bytes_list_or_dict_label_is_a_type_error_naming_the_sample(label):
    with pytest.raises(TypeError, match=r"labels\[1\]: label .* expected a class name \(str\)"):
        wrap(["walk", label])


def test_labels_given_as_one_string_instead_of_one_per_sample():
    with pytest.raises(TypeError, match=r"labels is one str \('walk'\); expected one label per sample"):
        from_arrays(np.zeros((4, 3)), "walk", fs=50.0, subject=1)


def test_labels_given_as_a_column_of_shape_t_by_1():
    with pytest.raises(ValueError, match=r"labels have shape \(4, 1\); expected \(T,\)"):
        from_arrays(np.zeros((4, 3)), np.array([["a"]] * 4), fs=50.0, subject=1)


def test_labels_shorter_than_the_signal():
    with pytest.raises(ValueError, match=r"3 labels for 4 samples; expected one label per sample"):
        from_arrays(np.zeros((4, 3)), ["a"] * 3, fs=50.0, subject=1)


def test_integer_labels_with_class_names_say_labels_are_not_indices():
    with pytest.raises(ValueError, match=r"labels \['0', '1'\] are not in classes \['sit', 'walk'\] \(whole-number labels name"):
        wrap([0, 1, 0], classes=["sit", "walk"])


def test_classes_that_name_unlabelled_or_repeat_a_name():
    with pytest.raises(ValueError, match=r"classes\[1\]='nan' means unlabelled"):
        wrap(["a"], classes=["a", "nan"])
    with pytest.raises(ValueError, match=r"name \['a'\] more than once"):
        wrap(["a"], classes=["a", "b", " a"])


def test_pandas_labels_with_none_nan_and_pd_na():
    pd = pytest.importorskip("pandas")
    r = wrap(pd.Series(["walk", None, np.nan, "run"]))
    assert r.labels.tolist() == [1, -1, -1, 0]
    r = wrap(pd.Series([0, None, 1], dtype="Int64"))  # nullable integers hold pd.NA
    assert r.classes == ("0", "1") and r.labels.tolist() == [0, -1, 1] and r.meta["unlabelled"] == {"<NA>": 1}


# --- signals and recordings ---

@pytest.mark.parametrize("shape,hint", [((40, 2), r"\(40, 2\); expected \(T, 3\)"),
                                        ((40, 6), r"with 6 columns, pass the accelerometer's three"),
                                        ((3, 40), r"it looks transposed: pass signal.T")])
def test_a_signal_with_2_or_6_axes_or_transposed(shape, hint):
    with pytest.raises(ValueError, match=hint):
        from_arrays(np.zeros(shape), ["a"] * shape[0], fs=50.0, subject=1)


def test_a_signal_of_words():
    with pytest.raises(ValueError, match=r"signal: could not convert string to float.*expected numbers \(T, 3\)"):
        from_arrays(np.array([["a", "b", "c"]] * 2), ["a"] * 2, fs=50.0, subject=1)


def test_a_subject_given_as_a_string():
    with pytest.raises(TypeError, match=r"subject='1' \(str\); expected a whole number"):
        from_arrays(np.zeros((2, 3)), ["a"] * 2, fs=50.0, subject="1")


def test_float_labels_given_to_a_recording():
    with pytest.raises(ValueError, match=r"labels have dtype float64; expected whole numbers"):
        Recording("toy", 1, 0, np.zeros((2, 3), np.float32), np.array([0.0, np.nan]), 50.0, ("a",))


@pytest.mark.parametrize("fs,error", [(0, ValueError), (-50.0, ValueError), (math.inf, ValueError), (math.nan, ValueError),
                                      ("50", TypeError), (None, TypeError), (True, TypeError)])
def test_a_sampling_rate_of_zero_negative_inf_nan_or_not_a_number(tmp_path, fs, error):
    match = rf"fs={fs!r}.*expected a sampling rate in Hz"
    with pytest.raises(error, match=match):
        from_arrays(np.zeros((2, 3)), ["a"] * 2, fs=fs, subject=1)
    with pytest.raises(error, match=match):
        read_csv(csv_file(tmp_path, HEADER + ROW), fs=fs)
    with pytest.raises(error, match=rf"toy subject 1 session 0: fs={fs!r}"):
        Recording("toy", 1, 0, np.zeros((2, 3), np.float32), np.zeros(2, np.int64), fs, ("a",))


# --- read_csv: rows and fields ---

def test_a_csv_row_with_one_field_too_many_names_file_line_and_field_count(tmp_path):
    path = csv_file(tmp_path, HEADER + ROW + "1,0,0.1,0.2,1.0,walk,extra\n" + ROW)
    with pytest.raises(ValueError, match=r"mine.csv:3: 7 fields; expected 6 as in the header"):
        read_csv(path, fs=50.0)


def test_a_csv_row_missing_its_last_field_names_file_line_and_field_count(tmp_path):
    path = csv_file(tmp_path, HEADER + ROW + "1,0,0.1,0.2,1.0\n" + ROW)
    with pytest.raises(ValueError, match=r"mine.csv:3: 5 fields; expected 6 as in the header"):
        read_csv(path, fs=50.0)


def test_a_csv_that_changes_its_number_of_columns_halfway(tmp_path):
    path = csv_file(tmp_path, HEADER + ROW * 3 + "1,0,0.1,0.2,1.0,walk,7,8\n" * 3)
    with pytest.raises(ValueError, match=r"mine.csv:5: 8 fields; expected 6"):
        read_csv(path, fs=50.0)


def test_a_csv_with_a_utf8_byte_order_mark(tmp_path):
    [r] = read_csv(csv_file(tmp_path, ("\ufeff" + HEADER + ROW * 2).encode("utf-8")), fs=50.0)
    assert r.subject == 1 and len(r.signal) == 2


def test_a_csv_with_windows_line_ends(tmp_path):
    [r] = read_csv(csv_file(tmp_path, (HEADER + ROW * 2).replace("\n", "\r\n")), fs=50.0)
    assert r.classes == ("walk",) and len(r.signal) == 2


def test_a_csv_separated_by_semicolons_says_which_delimiter_to_pass(tmp_path):
    path = csv_file(tmp_path, (HEADER + ROW * 2).replace(",", ";"))
    with pytest.raises(ValueError, match=r"mine.csv:1: missing columns .*its fields are separated by ';': pass delimiter=';'"):
        read_csv(path, fs=50.0)
    assert len(read_csv(path, fs=50.0, delimiter=";")[0].signal) == 2


def test_a_csv_with_decimal_commas(tmp_path):
    unquoted = csv_file(tmp_path, HEADER + "1,0,0,1,0.2,1.0,walk\n")  # x = 0,1 splits in two
    with pytest.raises(ValueError, match=r"mine.csv:2: 7 fields; expected 6 .*decimal comma"):
        read_csv(unquoted, fs=50.0)
    semicolons = csv_file(tmp_path, "subject;session;x;y;z;label\n1;0;0,1;0,2;1,0;walk\n", "semi.csv")
    with pytest.raises(ValueError, match=r"semi.csv:2: x '0,1'; expected a finite number \(write numbers with a decimal point"):
        read_csv(semicolons, fs=50.0, delimiter=";")


def test_a_csv_with_quoted_numbers(tmp_path):
    [r] = read_csv(csv_file(tmp_path, HEADER + '"1","0","0.1","0.2","1.0","walk"\n'), fs=50.0)
    np.testing.assert_allclose(r.signal[0], [0.1, 0.2, 1.0], rtol=1e-6)


def test_a_csv_with_thousands_separators(tmp_path):
    path = csv_file(tmp_path, HEADER + ROW + '1,0,"1,000.5",0.2,1.0,walk\n')
    with pytest.raises(ValueError, match=r"mine.csv:3: x '1,000.5'; expected a finite number .*no thousands separator"):
        read_csv(path, fs=50.0)


def test_a_csv_with_latin1_bytes_in_the_header(tmp_path):
    path = csv_file(tmp_path, "subject,session,x,y,z,label,d\xe9bit\n1,0,0.1,0.2,1.0,walk,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"mine.csv:1: byte b'\\xe9' is not utf-8; save the file as UTF-8 or pass its encoding"):
        read_csv(path, fs=50.0)
    assert read_csv(path, fs=50.0, encoding="latin-1")[0].classes == ("walk",)


def test_a_csv_with_latin1_bytes_in_a_label_names_its_line(tmp_path):
    path = csv_file(tmp_path, (HEADER + ROW + "1,0,0.1,0.2,1.0,caf\xe9\n").encode("latin-1"))
    with pytest.raises(ValueError, match=r"mine.csv:3: byte b'\\xe9' is not utf-8"):
        read_csv(path, fs=50.0)


@pytest.mark.parametrize("blank", ["\n", "   \n", ",,,,,\n"])
def test_a_csv_with_a_blank_line_between_rows(tmp_path, blank):
    path = csv_file(tmp_path, HEADER + ROW + blank + ROW)
    with pytest.raises(ValueError, match=r"mine.csv:3: blank line between samples; expected one row per sample"):
        read_csv(path, fs=50.0)


def test_a_csv_with_trailing_blank_lines_and_empty_rows(tmp_path):
    [r] = read_csv(csv_file(tmp_path, HEADER + ROW * 2 + "\n,,,,,\n\n"), fs=50.0)
    assert len(r.signal) == 2 and r.meta["lines"] == (2, 3)


def test_a_header_only_csv(tmp_path):
    with pytest.raises(ValueError, match=r"mine.csv: no samples after the header"):
        read_csv(csv_file(tmp_path, HEADER), fs=50.0)


def test_an_empty_csv(tmp_path):
    with pytest.raises(ValueError, match=r"mine.csv: the file is empty; expected a header row subject,session,x,y,z,label"):
        read_csv(csv_file(tmp_path, ""), fs=50.0)


@pytest.mark.parametrize("cell", ["nan", "NA", "", "inf"])
def test_a_csv_with_nan_na_empty_or_inf_cells_in_the_data(tmp_path, cell):
    path = csv_file(tmp_path, HEADER + ROW + f"1,0,0.1,{cell},1.0,walk\n" + ROW)
    with pytest.raises(ValueError, match=rf"mine.csv:3: y '{cell}'; expected a finite number"):
        read_csv(path, fs=50.0)


def test_a_csv_with_na_nan_and_empty_labels_counts_them(tmp_path):
    [r] = read_csv(csv_file(tmp_path, HEADER + ROW + "1,0,0,0,1,NA\n1,0,0,0,1,nan\n1,0,0,0,1,\n"), fs=50.0)
    assert r.classes == ("walk",) and r.labels.tolist() == [0, -1, -1, -1]
    assert r.meta["unlabelled"] == {"'NA'": 1, "'nan'": 1, "''": 1}


def test_a_csv_with_integer_labels_orders_classes_by_value(tmp_path):
    rows = "".join(f"1,0,0,0,1,{c}\n" for c in (0, 1, 10, 2, -1))
    [r] = read_csv(csv_file(tmp_path, HEADER + rows), fs=50.0)
    assert r.classes == ("0", "1", "2", "10") and r.labels.tolist() == [0, 1, 3, 2, -1]


def test_a_csv_header_with_spaces_and_capitals(tmp_path):
    [r] = read_csv(csv_file(tmp_path, "Subject, Session, X, Y, Z, Label\n1, 0, 0.1, 0.2, 1.0, walk\n"), fs=50.0)
    assert r.classes == ("walk",) and r.signal.shape == (1, 3)


def test_a_csv_with_a_required_column_twice(tmp_path):
    with pytest.raises(ValueError, match=r"mine.csv:1: columns \['x'\] appear more than once"):
        read_csv(csv_file(tmp_path, "subject,session,x,y,z,label,x\n1,0,0.1,0.2,1.0,walk,5\n"), fs=50.0)


def test_a_csv_whose_recording_resumes_after_another_recording(tmp_path):
    path = csv_file(tmp_path, HEADER + ROW + "2,0,0.1,0.2,1.0,walk\n" + ROW)
    with pytest.raises(ValueError, match=r"mine.csv:4: subject 1 session 0 resumes after other rows .*line 2"):
        read_csv(path, fs=50.0)


def test_a_csv_with_subject_written_1_point_0_or_1_point_5(tmp_path):
    [r] = read_csv(csv_file(tmp_path, HEADER + "1.0,0,0.1,0.2,1.0,walk\n"), fs=50.0)
    assert r.subject == 1
    with pytest.raises(ValueError, match=r"mine.csv:2: subject '1.5'; expected a whole number"):
        read_csv(csv_file(tmp_path, HEADER + "1.5,0,0.1,0.2,1.0,walk\n"), fs=50.0)


def test_a_csv_with_two_axes(tmp_path):
    with pytest.raises(ValueError, match=r"mine.csv:1: missing columns \['z'\]"):
        read_csv(csv_file(tmp_path, "subject,session,x,y,label\n1,0,0.1,0.2,walk\n"), fs=50.0)


def test_a_directory_or_a_missing_file_passed_to_read_csv(tmp_path):
    with pytest.raises(IsADirectoryError, match=rf"{tmp_path} is a folder; expected a CSV file"):
        read_csv(tmp_path, fs=50.0)
    with pytest.raises(FileNotFoundError, match=r"nope.csv: no such file; expected a CSV file"):
        read_csv(tmp_path / "nope.csv", fs=50.0)


# --- the protocol's parameters ---

SUBJECTS = np.repeat(np.arange(1, 11), 4)
LABELS = np.tile([0, 1], 20)


@pytest.mark.parametrize("seed", [-1, 1.5, 2.0, "3", True, None, 2**31])
def test_a_negative_float_string_bool_none_or_huge_seed(seed):
    match = rf"seed={seed!r}; expected a whole number from 0"
    with pytest.raises(ValueError, match=match):
        subject_split(SUBJECTS, seed=seed)
    with pytest.raises(ValueError, match=match):
        few_shot(LABELS, np.arange(40), k=2, seed=seed)
    with pytest.raises(ValueError, match=match):
        seed_split(LABELS, SUBJECTS, seed=seed, shots=1)


@pytest.mark.parametrize("k,error", [(2.5, TypeError), (2.0, TypeError), ("2", TypeError), (True, TypeError), (0, ValueError)])
def test_a_float_string_bool_or_zero_shot_count(k, error):
    with pytest.raises(error, match=rf"k={k!r}"):
        few_shot(LABELS, np.arange(40), k=k, seed=0)
    with pytest.raises(error, match=rf"shots={k!r}"):
        seed_split(LABELS, SUBJECTS, seed=0, shots=k)


def test_allow_fewer_given_as_a_string():
    with pytest.raises(TypeError, match=r"allow_fewer='no' \(str\); expected True or False"):
        few_shot(LABELS, np.arange(40), k=2, seed=0, allow_fewer="no")


@pytest.mark.parametrize("ratios", [(math.nan, 0.2, 0.2), (0.5, 0.5), "622"])
def test_split_ratios_with_nan_or_two_parts(ratios):
    with pytest.raises(ValueError, match=r"ratios=.*expected three positive fractions summing to 1"):
        subject_split(SUBJECTS, seed=0, ratios=ratios)


def test_split_labels_of_another_length_than_the_subjects():
    with pytest.raises(ValueError, match=r"labels have shape \(37,\); expected \(40,\), one per entry of subjects"):
        subject_split(SUBJECTS, seed=0, labels=LABELS[:-3])


def test_few_shot_candidates_as_floats_or_out_of_range():
    with pytest.raises(ValueError, match=r"candidates have shape \(40,\) and dtype float64; expected \(M,\) window indices"):
        few_shot(LABELS, np.arange(40.0), k=2, seed=0)
    with pytest.raises(ValueError, match=r"candidates span 0..44; expected indices 0..39"):
        few_shot(LABELS, np.arange(45), k=2, seed=0)


@pytest.mark.parametrize("fs,error", [(0, ValueError), (-1, ValueError), (math.nan, ValueError), ("50", TypeError)])
def test_resample_to_a_rate_of_zero_negative_nan_or_a_string(fs, error):
    r = wrap(["a"] * 100)
    with pytest.raises(error, match=rf"fs={fs!r}.*expected a sampling rate in Hz"):
        resample(r, fs)


# --- downloads that cannot arrive ---

def test_a_download_from_a_port_nothing_listens_on(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/archive.zip"
    with pytest.raises(dl.DownloadError, match=r"the machine seems offline or the host is unreachable") as caught:
        dl.fetch(dl.Download(url, "archive.zip"), folder=tmp_path, progress=False)
    message = str(caught.value)
    assert message.startswith(url) and f"put it at {tmp_path / 'archive.zip'}, where fetch looks first" in message
    assert [p.name for p in tmp_path.iterdir()] == []  # no partial file, no recorded hash


def test_a_download_the_host_answers_404(tmp_path):
    server = Server()
    try:
        with pytest.raises(dl.DownloadError, match=r"/gone.zip: could not download it: the host answered HTTP 404") as caught:
            dl.fetch(dl.Download(server.url + "/gone.zip", "gone.zip"), folder=tmp_path, progress=False)
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
    assert str(tmp_path / "gone.zip") in str(caught.value) and isinstance(caught.value, ConnectionError)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_file_put_by_hand_where_the_failed_download_said_is_used(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "archive.zip").write_bytes(b"by hand")
    path = dl.fetch(dl.Download(f"http://127.0.0.1:{port}/archive.zip", "archive.zip"), folder=tmp_path, progress=False)
    assert path.read_bytes() == b"by hand" and (tmp_path / "archive.zip.sha256").exists()


# --- the published datasets' readers ---

DAPHNET_ROWS = "".join(f"{15 * i} 40 29 -960 0 0 0 0 0 0 1\n" for i in range(1, 6))  # lines 1..5, times 15..75 ms


@pytest.mark.parametrize("text,match", [
    (DAPHNET_ROWS + "90 40 29 -960 0 0", r"S01R01.txt:6: '90 40 29 -960 0 0' has 6 fields; expected 11 numbers"),
    (DAPHNET_ROWS + "90 40 2x9 -960 0 0 0 0 0 0 1\n" + DAPHNET_ROWS, r"S01R01.txt:6: .* not a number; expected 11 numbers"),
    (DAPHNET_ROWS + "90 NaN 29 -960 0 0 0 0 0 0 1\n", r"S01R01.txt:6: a value is not finite"),
    (DAPHNET_ROWS + "90 40 29 -960 0 0 0 0 0 0 1.5\n", r"S01R01.txt:6: annotation 1.5; expected 0, 1 or 2"),
    (DAPHNET_ROWS + "30 40 29 -960 0 0 0 0 0 0 1\n", r"S01R01.txt:6: time 30 ms does not come after 75 ms"),
    (DAPHNET_ROWS + "75 40 29 -960 0 0 0 0 0 0 1\n", r"S01R01.txt:6: time 75 ms does not come after 75 ms"),
    ("\n\n" + DAPHNET_ROWS + "90 40 29 -960 0 0 0 0 0 0 7\n", r"S01R01.txt:8: annotation 7; expected 0, 1 or 2"),
])
def test_a_daphnet_file_truncated_garbled_nan_fractional_annotation_or_time_going_back(tmp_path, text, match):
    (tmp_path / "S01R01.txt").write_text(text)
    with pytest.raises(ValueError, match=match):
        read_daphnet_file(tmp_path / "S01R01.txt")


def test_a_daphnet_path_that_is_a_folder_or_missing(tmp_path):
    (tmp_path / "S09R01.txt").mkdir()
    with pytest.raises(IsADirectoryError, match=r"S09R01.txt is a folder; expected a Daphnet file"):
        read_daphnet_file(tmp_path / "S09R01.txt")
    with pytest.raises(FileNotFoundError, match=r"S08R01.txt: no such file; expected a Daphnet file"):
        read_daphnet_file(tmp_path / "S08R01.txt")


def test_a_truncated_hapt_file(tmp_path):
    path = tmp_path / "HAPT.pkl.gz"
    with open(hapt_file(), "rb") as f:
        path.write_bytes(f.read(1_000_000))
    with pytest.raises(ValueError, match=r"HAPT.pkl.gz: cannot read the pickle \(Compressed file ended"):
        load_hapt(path)
    with pytest.raises(IsADirectoryError, match=r"is a folder; expected the HAPT.pkl.gz file"):
        load_hapt(tmp_path)


def test_a_truncated_watch_file(tmp_path):
    path = tmp_path / "watch_dataset.npy"
    with open(watch_file(), "rb") as f:
        head = f.read(1_000_000)
    path.write_bytes(head)
    with pytest.raises(ValueError, match=r"watch_dataset.npy: cannot read the pickle \(pickle data was truncated\)"):
        load_watch(path)
    path.write_bytes(head[:5])
    with pytest.raises(ValueError, match=r"watch_dataset.npy: not a .npy file"):
        load_watch(path)
    with pytest.raises(IsADirectoryError, match=r"is a folder; expected seglearn's watch_dataset.npy"):
        load_watch(tmp_path)


GOAT_HEADER = "label,animal_ID,segment_ID,timestamp_ms,ax,ay,az\n"


def test_a_goat_csv_row_with_one_field_too_many(tmp_path):
    (tmp_path / "G1.csv").write_text(GOAT_HEADER + "walking,G1,1,0,0,0,9.8\nwalking,G1,1,10,0,0,9.8,99\n")
    with pytest.raises(ValueError, match=r"G1.csv:3: 8 fields; expected 7 as in the header"):
        load_goat(tmp_path)


def test_a_goat_csv_with_a_byte_order_mark_and_trailing_blank_lines(tmp_path):
    (tmp_path / "G1.csv").write_text("\ufeff" + GOAT_HEADER + "walking,G1,1,0,0,0,9.80665\n\n\n", encoding="utf-8")
    recordings, dropped = load_goat(tmp_path)
    assert len(recordings[0].signal) == 1 and dropped == {}


@pytest.mark.parametrize("value", ["nine", "nan", ""])
def test_a_goat_csv_with_a_word_nan_or_empty_value(tmp_path, value):
    (tmp_path / "G1.csv").write_text(GOAT_HEADER + "walking,G1,1,0,0,0,9.8\n" + f"walking,G1,1,10,0,0,{value}\n")
    with pytest.raises(ValueError, match=rf"G1.csv:3: az '{value}'; expected a finite number"):
        load_goat(tmp_path)


CAPTURE24_HEADER = "time,x,y,z,annotation\n"


def test_a_truncated_or_not_gzipped_capture24_file(tmp_path):
    path = tmp_path / "P001.csv.gz"
    body = gzip.compress((CAPTURE24_HEADER + "".join(f"t{i},0.{i % 97},0,1,a\n" for i in range(20000))).encode())
    path.write_bytes(body[: len(body) // 2])
    with pytest.raises(ValueError, match=r"P001.csv.gz: cannot read it \(Compressed file ended.*truncated or corrupt"):
        read_participant(path)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"P001.csv.gz: cannot read it \(Not a gzipped file"):
        read_participant(path)


@pytest.mark.parametrize("bad,match", [("t,0,0\n", r"P001.csv.gz:7: 't,0,0'; expected time,x,y,z,annotation"),
                                       ("t,0,x,1,a\n", r"P001.csv.gz:7: 't,0,x,1,a'; expected"),
                                       ("\n", r"P001.csv.gz:7: blank line between samples")])
def test_a_capture24_row_short_garbled_or_blank_names_its_line(tmp_path, bad, match):
    path = tmp_path / "P001.csv.gz"
    path.write_bytes(gzip.compress((CAPTURE24_HEADER + "t,0,0,1,a\n" * 5 + bad + "t,0,0,1,a\n").encode()))
    with pytest.raises(ValueError, match=match):
        read_participant(path)


def test_a_capture24_file_with_trailing_blank_lines(tmp_path):
    path = tmp_path / "P001.csv.gz"
    path.write_bytes(gzip.compress((CAPTURE24_HEADER + "t,0,0,1,a\n" * 100 + "\n\n").encode()))
    assert len(read_participant(path).signal) == 50  # 100 samples at 100 Hz -> 50 at 50 Hz


# --- read_csv: files that are not plain UTF-8 CSV text ---

def test_a_csv_with_a_quote_that_is_never_closed(tmp_path):
    path = csv_file(tmp_path, HEADER + '1,0,0.1,0.2,1.0,"walk\n' + ROW * 2)  # would swallow the next rows into one label
    with pytest.raises(ValueError, match=r"mine.csv:2: a quoted field runs on to line 4 \(a quote not closed\?\)"):
        read_csv(path, fs=50.0)


def test_a_csv_saved_as_utf16_with_or_without_byte_order_mark(tmp_path):
    text = HEADER + ROW
    with pytest.raises(ValueError, match=r"mine.csv:1: byte b'\\xff' is not utf-8"):
        read_csv(csv_file(tmp_path, text.encode("utf-16")), fs=50.0)
    with pytest.raises(ValueError, match=r"mine.csv:1: holds a NUL character; expected text \(a UTF-16 export\?"):
        read_csv(csv_file(tmp_path, text.encode("utf-16-le")), fs=50.0)
    assert read_csv(csv_file(tmp_path, text.encode("utf-16")), fs=50.0, encoding="utf-16")[0].classes == ("walk",)


def test_an_xlsx_workbook_passed_as_a_csv(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ValueError, match=r"book.xlsx: is a zip archive \(an .xlsx workbook\?\), not a CSV file"):
        read_csv(tmp_path / "book.xlsx", fs=50.0)


def test_a_goat_csv_with_latin1_bytes(tmp_path):
    (tmp_path / "G1.csv").write_bytes((GOAT_HEADER + "walking,G1,1,0,0,0,9.8\nmarch\xe9,G1,1,10,0,0,9.8\n").encode("latin-1"))
    with pytest.raises(ValueError, match=r"G1.csv: near line \d+: not UTF-8 text"):
        load_goat(tmp_path)


def test_few_shot_of_no_windows():
    with pytest.raises(ValueError, match=r"labels is empty; expected the class of each window"):
        few_shot(np.empty(0, np.int64), np.empty(0, np.int64), k=1, seed=0)


def test_a_wisdm_file_cut_mid_record_counts_it_and_a_folder_is_refused(tmp_path):
    from img2imu_lib.datasets.wisdm import load_wisdm

    path = tmp_path / "WISDM_ar_v1.1_raw.txt"
    path.write_text("7,Walking,1000000000,0.1,9.8,0.2;\n7,Walking,1050000000,0.1,9.8,0.2;\n7,Walking,11000")
    recordings, skipped = load_wisdm(path)
    assert len(recordings[0].signal) == 2 and dict(skipped) == {"malformed": 1}
    with pytest.raises(IsADirectoryError, match=r"is a folder; expected the WISDM raw file"):
        load_wisdm(tmp_path)
