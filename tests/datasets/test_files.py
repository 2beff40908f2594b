"""Tests of the readers of published file formats: Daphnet, WISDM raw, the seglearn watch data."""

from __future__ import annotations

import numpy as np
import pytest

from img2imu_lib.datasets.daphnet import load_daphnet, read_daphnet_file
from img2imu_lib.datasets.watch import WATCH_CLASSES, load_watch
from img2imu_lib.datasets.wisdm import load_wisdm

WISDM_LINES = """\
33,Jogging,49105962326000,-0.6946377,12.680544,0.50395286;
33,Jogging,49106012271000,5.012288,11.264028,0.95342433;
33,Jogging,49106062167000,4.903325,10.882658,-0.08172209;33,Jogging,49106112305000,-0.61291564,18.496431,3.0237172;
33,Jogging,0,-1.1849703,12.108489,7.205164;
33,Jogging,49106162290000,1.3756552,-2.4925237,-6.510526,;
33,Jogging,49106212312000,-0.61291564,10.56939,
33,Jogging,49106262389000,-0.50395286,13.947236,7.0553403;
33,Jogging,49116262389000,-0.50395286,13.947236,7.0553403;
11,Walking,1867172313000,4.4,4.4,;
11,Walking,1867222270000,0.08,9.80665,0.0;
11,Walking,1867272310000,-0.3,10.2,oops;
"""


def test_wisdm_defects_are_counted(tmp_path):
    path = tmp_path / "WISDM_ar_v1.1_raw.txt"
    path.write_text(WISDM_LINES)
    recordings, skipped = load_wisdm(path)
    assert dict(skipped) == {"zero timestamp": 1, "malformed": 2, "not a number": 1}
    # user 33: six good records up to the 10 s gap, then one more; user 11: one
    assert [(r.subject, r.session, len(r.signal)) for r in recordings] == [(33, 0, 6), (33, 1, 1), (11, 0, 1)]
    assert recordings[0].classes[recordings[0].labels[0]] == "jogging"
    np.testing.assert_allclose(recordings[2].signal[0], [0.08 / 9.80665, 1.0, 0.0], rtol=1e-6)  # m/s^2 -> g


def test_wisdm_unknown_activity_names_the_line(tmp_path):
    path = tmp_path / "raw.txt"
    path.write_text("1,Walking,10,0,0,0;\n1,Swimming,20,0,0,0;\n")
    with pytest.raises(ValueError, match=r"raw.txt:2: activity 'Swimming'"):
        load_wisdm(path)


def test_wisdm_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    with pytest.raises(ValueError, match="empty.txt: no valid WISDM records"):
        load_wisdm(path)


def test_daphnet_real_files(shared_data):
    recordings = load_daphnet(shared_data / "daphnet")
    assert [(r.subject, r.session) for r in recordings] == [(1, 2), (2, 1), (2, 2), (3, 2), (3, 3), (6, 2), (7, 2)]
    first = recordings[0]
    assert first.fs == 64.0 and first.meta["position"] == "ankle"
    np.testing.assert_allclose(first.signal[0], [0.040, 0.029, -0.960], rtol=1e-6)  # "15 40 29 -960": mg -> g
    freeze = {r.subject for r in recordings if (r.labels == 1).any()}
    assert freeze == {1, 2, 3, 7}  # S06R02 and S03R03 have no freeze; S01R02, S02R0x, S03R02, S07R02 do
    assert all(set(np.unique(r.labels)) <= {-1, 0, 1} for r in recordings)


def test_daphnet_bad_files(tmp_path):
    good = "15 40 29 -960 0 0 0 0 0 0 1\n"
    (tmp_path / "S01R01.txt").write_text(good + "31 70 49 -960 0 0 0 0 0 1\n")
    with pytest.raises(ValueError, match=r"S01R01.txt:2: '31 70 49 -960 0 0 0 0 0 1' has 10 fields; expected 11 numbers"):
        read_daphnet_file(tmp_path / "S01R01.txt")
    (tmp_path / "S01R02.txt").write_text(good + "31 70 49 -960 0 0 0 0 0 0 7\n")
    with pytest.raises(ValueError, match=r"S01R02.txt:2: annotation 7; expected 0, 1 or 2"):
        read_daphnet_file(tmp_path / "S01R02.txt")
    (tmp_path / "S01R03.txt").write_text("")
    with pytest.raises(ValueError, match=r"S01R03.txt: the file is empty"):
        read_daphnet_file(tmp_path / "S01R03.txt")
    (tmp_path / "notes.txt").write_text(good)
    with pytest.raises(ValueError, match="does not look like S<subject>R<run>.txt"):
        read_daphnet_file(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="no Daphnet files"):
        load_daphnet(tmp_path / "nowhere")


def test_watch_from_seglearn():
    recordings = load_watch()
    assert len(recordings) == 140 and {r.subject for r in recordings} == set(range(1, 11))
    assert all(r.fs == 50.0 and r.classes == WATCH_CLASSES for r in recordings)
    counts = np.bincount([r.labels[0] for r in recordings])
    assert counts.tolist() == [20] * 7
    magnitude = np.linalg.norm(np.concatenate([r.signal for r in recordings]), axis=1).mean()
    assert 0.9 < magnitude < 1.4  # a wrist during exercise: about 1 g
    assert recordings[0].extra["gyro"].shape == recordings[0].signal.shape


def test_watch_rejects_a_plain_array(tmp_path):
    path = tmp_path / "watch_dataset.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="expected a pickled dict"):
        load_watch(path)
