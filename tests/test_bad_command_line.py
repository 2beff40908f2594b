"""Bad arguments to ``python -m img2imu_lib``, each test named for what it is given: every one ends with exit
status 2 and one line that names the argument or value and what was expected, never a traceback or a
silently used default."""

from __future__ import annotations

import pytest

from img2imu_lib.__main__ import main


def fails(argv: list[str], capsys) -> str:
    """Run the command line in this process; the error it printed (it must exit with status 2)."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2, err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


EVALUATE = ["evaluate", "--method", "random_init_2d", "--dataset", "hapt", "--profile", "smoke"]


@pytest.mark.parametrize("shots", ["0", "-3"])
def test_zero_or_negative_shots_are_refused_not_replaced_by_the_default(shots, capsys):
    assert "argument --shots" in fails([*EVALUATE, "--shots", shots], capsys)


@pytest.mark.parametrize("flag, value, expected", [
    ("--seeds", "-1", "expected a whole number from 0 to 2147483647"),
    ("--seeds", "1.5", "'1.5' is not a whole number"),
    ("--seeds", "4294967296", "expected a whole number from 0 to 2147483647"),
    ("--nfft", "64.0", "'64.0' is not a whole number"),
    ("--noverlap", "-2", "expected a whole number >= 0"),
])
def test_seeds_and_spectrogram_numbers_of_the_wrong_kind_are_refused(flag, value, expected, capsys):
    assert f"argument {flag}" in (line := fails([*EVALUATE, flag, value], capsys)) and expected in line


def test_nfft_without_noverlap_is_refused(capsys):
    assert "--nfft and --noverlap go together" in fails([*EVALUATE, "--nfft", "64"], capsys)


def test_a_noverlap_not_below_nfft_is_refused(capsys):
    line = fails([*EVALUATE, "--nfft", "64", "--noverlap", "64"], capsys)
    assert "noverlap=64; expected 0 <= noverlap < nfft=64" in line


def test_an_unknown_dataset_is_refused_with_the_known_names(capsys):
    line = fails(["evaluate", "--method", "random_init_2d", "--dataset", "hpat", "--profile", "smoke"], capsys)
    assert "dataset 'hpat'; expected one of" in line and "'hapt'" in line


def test_a_missing_checkpoint_is_refused(tmp_path, capsys):
    for command in ("evaluate", "export"):
        extra = ["--out", str(tmp_path / "bundle")] if command == "export" else []
        line = fails([command, "--checkpoint", str(tmp_path / "nowhere"), "--dataset", "hapt", *extra], capsys)
        assert "nowhere: no such checkpoint file or run folder" in line


def test_a_folder_without_a_checkpoint_is_refused(tmp_path, capsys):
    line = fails(["evaluate", "--checkpoint", str(tmp_path), "--dataset", "hapt"], capsys)
    assert f"{tmp_path}: no such checkpoint file or run folder" in line


def test_a_checkpoint_file_of_garbage_is_refused(tmp_path, capsys):
    (tmp_path / "weights.pth").write_bytes(b"\x00" * 100)
    line = fails(["evaluate", "--checkpoint", str(tmp_path / "weights.pth"), "--dataset", "hapt", "--profile", "smoke",
                  "--nfft", "64", "--noverlap", "48"], capsys)
    assert "weights.pth: not a" in line


PRETRAIN = ["pretrain", "--profile", "smoke"]


@pytest.mark.parametrize("flag, value, expected", [
    ("--seed", "-1", "expected a whole number from 0"),
    ("--batch", "2.5", "'2.5' is not a whole number"),
    ("--batch", "0", "expected a whole number >= 1"),
    ("--max-steps", "ten", "'ten' is not a whole number"),
    ("--workers", "-1", "expected a whole number >= 0"),
    ("--seconds", "inf", "expected a positive number of seconds"),
    ("--seconds", "0", "expected a positive number of seconds"),
    ("--precision", "fp16", "invalid choice: 'fp16'"),
])
def test_pretraining_numbers_of_the_wrong_kind_are_refused(flag, value, expected, tmp_path, capsys):
    line = fails([*PRETRAIN, flag, value, "--out", str(tmp_path / "run")], capsys)
    assert f"argument {flag}" in line and expected in line
    assert not (tmp_path / "run").exists()


def test_an_unknown_augmentation_is_refused_before_any_work(tmp_path, capsys):
    line = fails([*PRETRAIN, "--augmentations", "hue", "wobble", "--out", str(tmp_path / "run")], capsys)
    assert "augmentation names ['hue', 'wobble']; expected a non-empty subset of" in line
    assert not (tmp_path / "run").exists()


def test_batchnorm_groups_that_do_not_divide_the_batch_are_refused(tmp_path, capsys):
    line = fails([*PRETRAIN, "--groups", "3", "--out", str(tmp_path / "run")], capsys)
    assert "groups=3 does not divide batch_size=8" in line


def test_an_image_folder_that_does_not_exist_is_refused(tmp_path, capsys):
    line = fails([*PRETRAIN, "--images", str(tmp_path / "photos"), "--out", str(tmp_path / "run")], capsys)
    assert "photos" in line and "expected offline, imagenet-sample, cifar10, stl10 or an image folder" in line


def test_an_out_path_that_is_a_file_is_refused_and_kept(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    line = fails([*PRETRAIN, "--out", str(tmp_path / "notes.txt")], capsys)
    assert "notes.txt: a file, not a run folder" in line
    assert (tmp_path / "notes.txt").read_text() == "mine"
