"""Tests of the Capture-24 reader and substitute, the Goat and PVS readers, own CSV data, and the registry."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import img2imu_lib as L
from img2imu_lib.datasets.capture24 import SUBSTITUTE_SUBJECTS, read_participant, stream_capture24
from img2imu_lib.datasets.field import load_goat, load_pvs
from img2imu_lib.datasets.own import from_arrays, read_csv
from img2imu_lib.datasets.registry import DATASETS, load_dataset


def write_participant(path, n=1000):
    t = np.arange(n) / 100.0
    with gzip.open(path, "wt") as f:
        f.write("time,x,y,z,annotation\n")
        for i in range(n):
            f.write(f"2016-10-17 03:53:{t[i]:09.6f},{np.sin(2 * np.pi * t[i]):.5f},0.0,1.0,7030 sleeping;MET 0.95\n")


def test_capture24_participant_is_resampled_to_50_hz(tmp_path):
    write_participant(tmp_path / "P007.csv.gz")
    r = read_participant(tmp_path / "P007.csv.gz")
    assert (r.subject, r.fs, r.signal.shape) == (7, 50.0, (500, 3))
    assert (r.labels == -1).all() and r.meta["position"] == "wrist"
    np.testing.assert_allclose(r.signal[50:450, 2], 1.0, atol=1e-3)
    assert [x.subject for x in stream_capture24(tmp_path)] == [7]


def test_capture24_bad_files(tmp_path):
    bad = tmp_path / "P001.csv.gz"
    with gzip.open(bad, "wt") as f:
        f.write("when,a,b,c\n")
    with pytest.raises(ValueError, match=r"P001.csv.gz:1: header"):
        read_participant(bad)
    with gzip.open(bad, "wt") as f:
        f.write("time,x,y,z,annotation\n2016,0.1,zero,1,\n")
    with pytest.raises(ValueError, match=r"P001.csv.gz:2: '2016,0.1,zero,1,'; expected time,x,y,z,annotation"):
        read_participant(bad)
    with pytest.raises(FileNotFoundError, match="no Capture-24 files"):
        list(stream_capture24(tmp_path / "none"))


def test_substitute_keeps_downstream_subjects_out():
    substitute = load_dataset("capture24-substitute")
    hapt = load_dataset("hapt")
    pretrain = {r.subject for r in substitute.recordings}
    assert pretrain == set(SUBSTITUTE_SUBJECTS)
    assert not pretrain & {r.subject for r in hapt.recordings}
    assert all((r.labels == -1).all() for r in substitute.recordings)


def test_offline_datasets_give_protocol_windows():
    for name, seconds in (("hapt", 2.0), ("watch", 5.0)):
        data = load_dataset(name)
        windows, labels, subjects = data.windows()
        assert windows.shape[1:] == (int(seconds * 50), 3)
        assert set(labels) == set(range(len(data.info.classes)))
        assert len(set(subjects)) >= 10


def test_every_dataset_has_its_facts():
    for info in DATASETS.values():
        assert info.fs > 0 and info.window_seconds in (2.0, 5.0, 10.0)
        assert info.position and info.citation and info.licence and info.window_source


def goat_csv(path, labels):
    rows = ["label,animal_ID,segment_ID,timestamp_ms,ax,ay,az,axhg,ayhg,azhg"]
    rows += [f"{lab},G3,1,{10 * i},0.0,0.0,9.80665,0,0,0" for i, lab in enumerate(labels)]
    path.write_text("\n".join(rows) + "\n")


def test_goat_reader_drops_eating(tmp_path):
    goat_csv(tmp_path / "G3.csv", ["walking"] * 5 + ["eating"] * 3 + ["trotting"] * 2)
    recordings, dropped = load_goat(tmp_path)
    assert dropped == {"eating": 3}
    r = recordings[0]
    assert r.subject == 3 and r.fs == 100.0
    assert [r.classes[c] if c >= 0 else None for c in r.labels] == ["walking"] * 5 + [None] * 3 + ["trotting"] * 2
    np.testing.assert_allclose(r.signal[0], [0, 0, 1])  # m/s^2 -> g


def test_goat_missing_column(tmp_path):
    (tmp_path / "G1.csv").write_text("label,x,y,z\nwalking,0,0,0\n")
    with pytest.raises(ValueError, match=r"G1.csv:1: missing columns \['ax', 'ay', 'az'\]"):
        load_goat(tmp_path)


def test_pvs_reader(tmp_path):
    for number in (1, 5):
        run = tmp_path / f"PVS {number}"
        run.mkdir()
        (run / "dataset_gps_mpu_left.csv").write_text(
            "timestamp,acc_x_dashboard,acc_y_dashboard,acc_z_dashboard,acc_x_above_suspension\n"
            + "".join(f"{i},0.0,0.0,9.80665,0\n" for i in range(4)))
        (run / "dataset_labels.csv").write_text(
            "paved_road,unpaved_road,dirt_road,cobblestone_road,asphalt_road\n"
            "1,0,0,0,1\n1,0,0,0,1\n0,1,1,0,0\n1,0,0,1,0\n")
    recordings = load_pvs(tmp_path)
    assert [(r.subject, r.session) for r in recordings] == [(1, 0), (2, 1)]  # PVS 5 is driver 2's second run
    assert recordings[0].labels.tolist() == [0, 0, 1, 2]  # asphalt, asphalt, dirt, cobblestone


def test_pvs_length_mismatch(tmp_path):
    run = tmp_path / "PVS 2"
    run.mkdir()
    (run / "dataset_gps_mpu_left.csv").write_text("acc_x_dashboard,acc_y_dashboard,acc_z_dashboard\n0,0,1\n0,0,1\n")
    (run / "dataset_labels.csv").write_text("dirt_road,cobblestone_road,asphalt_road\n1,0,0\n")
    with pytest.raises(ValueError, match="2 sensor rows but 1 label rows"):
        load_pvs(tmp_path)


def test_own_csv(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("subject,session,x,y,z,label,extra\n" + "".join(
        f"{s},0,0.1,0.2,1.0,{'run' if i % 2 else 'walk'},x\n" for s in (1, 2) for i in range(6)) + "2,0,0,0,1,,x\n")
    recordings = read_csv(path, fs=25.0)
    assert [(r.subject, len(r.signal)) for r in recordings] == [(1, 6), (2, 7)]
    assert recordings[0].classes == ("run", "walk") and recordings[1].labels[-1] == -1
    windows, labels, subjects = L.windows_from_recordings(recordings, seconds=0.08, min_majority=1.0)
    assert windows.shape[1:] == (2, 3)


def test_own_data_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("subject,session,x,y,z,label\n1,0,0.1,0.2,1.0,walk\n1,0,0.1,oops,1.0,walk\n")
    with pytest.raises(ValueError, match=r"bad.csv:3: y 'oops'; expected a finite number"):
        read_csv(path, fs=50.0)
    path.write_text("subject,x,y,z\n1,0,0,0\n")
    with pytest.raises(ValueError, match=r"bad.csv:1: missing columns \['session', 'label'\]"):
        read_csv(path, fs=50.0)
    with pytest.raises(ValueError, match=r"labels \['swim'\] are not in classes \['walk'\]"):
        from_arrays(np.zeros((2, 3)), ["walk", "swim"], fs=50.0, subject=1, classes=["walk"])
