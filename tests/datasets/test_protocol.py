"""Tests of resampling, subject splits, few-shot sampling and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

import img2imu_lib as L
from img2imu_lib.datasets.protocol import fit_normalizer, few_shot, normalize, resample, subject_split


def recording(fs: float, n: int) -> L.Recording:
    t = np.arange(n) / fs
    signal = np.stack([np.sin(2 * np.pi * 2.0 * t), np.cos(2 * np.pi * 3.0 * t), np.ones_like(t)], axis=1)
    labels = (t >= t[-1] / 2).astype(np.int64)  # class 0 in the first half, 1 in the second
    return L.Recording(dataset="toy", subject=1, session=0, signal=signal.astype(np.float32), labels=labels,
                       fs=fs, classes=("a", "b"))


def test_resample_64_to_50_hz_keeps_a_sine():
    r = resample(recording(64.0, 6400), 50.0)
    assert r.fs == 50.0 and len(r.signal) == 5000
    t = np.arange(5000) / 50.0
    # away from the edges the 2 Hz sine is reproduced within 2e-3 (the polyphase filter's ripple)
    np.testing.assert_allclose(r.signal[200:-200, 0], np.sin(2 * np.pi * 2.0 * t[200:-200]), atol=2e-3)
    np.testing.assert_allclose(r.signal, resample_poly(recording(64.0, 6400).signal.astype(np.float64), 25, 32, axis=0), atol=1e-6)


def test_resample_moves_label_boundary_in_time():
    original = recording(20.0, 200)
    r = resample(original, 50.0)
    boundary_s = np.flatnonzero(original.labels)[0] / 20.0
    assert np.flatnonzero(r.labels)[0] / 50.0 == pytest.approx(boundary_s, abs=1 / 20.0)


def test_resample_same_rate_is_identity():
    original = recording(50.0, 100)
    assert resample(original, 50.0) is original


def test_split_is_subject_disjoint_and_seeded():
    subjects = np.repeat(np.arange(1, 31), 10)
    splits = [subject_split(subjects, seed=s) for s in range(5)]
    for split in splits:
        parts = [set(split.train_subjects), set(split.validation_subjects), set(split.test_subjects)]
        for name in ("train", "validation", "test"):  # window indices of each part are its subjects' windows
            np.testing.assert_array_equal(getattr(split, name),
                                          np.flatnonzero(np.isin(subjects, getattr(split, f"{name}_subjects"))))
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert set.union(*parts) == set(range(1, 31))
        assert (len(parts[0]), len(parts[1]), len(parts[2])) == (18, 6, 6)
    again = subject_split(subjects, seed=3)
    np.testing.assert_array_equal(again.test, splits[3].test)
    assert len({tuple(s.test_subjects) for s in splits}) == 5  # five seeds, five different test sets


def test_split_needs_three_subjects():
    with pytest.raises(ValueError, match=r"2 subjects \(\[1, 2\]\); a subject-wise split needs at least 3"):
        subject_split(np.array([1, 1, 2]), seed=0)


def test_few_shot_draws_k_per_class_from_candidates():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    candidates = np.arange(0, 100, 2)  # only even indices are in the training split
    chosen = few_shot(labels, candidates, k=5, seed=1)
    assert np.isin(chosen, candidates).all()
    assert np.bincount(labels[chosen]).tolist() == [5, 5, 5]
    np.testing.assert_array_equal(chosen, few_shot(labels, candidates, k=5, seed=1))
    assert not np.array_equal(chosen, few_shot(labels, candidates, k=5, seed=2))


def test_few_shot_too_few_is_an_error_or_takes_all():
    labels = np.array([0] * 20 + [1] * 3)
    with pytest.raises(ValueError, match="class 1 has 3 training windows; k=10 needs 10"):
        few_shot(labels, np.arange(23), k=10, seed=0)
    assert np.bincount(labels[few_shot(labels, np.arange(23), k=10, seed=0, allow_fewer=True)]).tolist() == [10, 3]


def test_normalizer(rng):
    windows = rng.normal(loc=[0, 0, 1], scale=[1, 2, 3], size=(100, 50, 3))
    mean, std = fit_normalizer(windows)
    np.testing.assert_allclose(mean, [0, 0, 1], atol=0.25)  # 5 standard errors of 5,000 draws with std 3
    z = normalize(windows, mean, std)
    np.testing.assert_allclose(z.reshape(-1, 3).mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.reshape(-1, 3).std(0), 1, atol=1e-4)
    with pytest.raises(ValueError, match="zero variance"):
        fit_normalizer(np.ones((2, 5, 3)))


def test_split_with_labels_puts_every_class_in_every_part():
    # class 1 is recorded from subjects 1, 2, 3 only: a random split often misses it somewhere
    subjects = np.repeat(np.arange(1, 11), 4)
    labels = np.where(np.isin(subjects, [1, 2, 3]) & (np.arange(40) % 4 == 0), 1, 0)
    for seed in range(10):
        split = subject_split(subjects, seed=seed, labels=labels)
        for part in (split.train, split.validation, split.test):
            assert set(labels[part]) == {0, 1}
        np.testing.assert_array_equal(split.test, subject_split(subjects, seed=seed, labels=labels).test)


def test_split_impossible_names_the_class():
    subjects = np.repeat(np.arange(1, 6), 2)
    labels = np.where(subjects == 4, 1, 0)  # one subject with the only examples of class 1
    with pytest.raises(ValueError, match=r"class 1 occurs only for subjects \[4\]"):
        subject_split(subjects, seed=0, labels=labels)


def test_distinct_splits_rotate_the_test_subjects_and_keep_seed_0s_split():
    from img2imu_lib.datasets.protocol import distinct_splits

    subjects = np.repeat(np.arange(20), 6)
    labels = np.tile(np.arange(3), 40)
    splits = distinct_splits(labels, subjects, seeds=(0, 1, 2, 3, 4), shots=1)
    tested = np.concatenate([s.test_subjects for s in splits])
    assert sorted(tested.tolist()) == list(range(20))  # five disjoint test parts of four: every subject tested once
    first = subject_split(subjects, seed=0, labels=labels)
    np.testing.assert_array_equal(splits[0].test_subjects, first.test_subjects)
    for split in splits:
        parts = [set(split.train_subjects), set(split.validation_subjects), set(split.test_subjects)]
        assert [len(p) for p in parts] == [12, 4, 4] and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert set(subjects[split.shots]) <= parts[0]
    again = distinct_splits(labels, subjects, seeds=(0, 1, 2, 3, 4), shots=1)
    assert all(np.array_equal(a.test, b.test) and np.array_equal(a.shots, b.shots) for a, b in zip(splits, again))


def test_distinct_splits_on_few_subjects_with_a_rare_class_leave_one_rare_subject_out():
    from img2imu_lib.datasets.protocol import distinct_splits

    # five subjects, the rare class (1) only in subjects 0-3, as Daphnet's freezing in its five recorded subjects
    subjects = np.repeat(np.arange(5), 20)
    labels = np.zeros(100, dtype=np.int64)
    for s in range(4):
        labels[s * 20:s * 20 + 3] = 1
    splits = distinct_splits(labels, subjects, seeds=(0, 1, 2, 3, 4), shots=1)
    tests = [s.test_subjects.tolist() for s in splits]
    assert sorted(t for [t] in tests[:4]) == [0, 1, 2, 3]  # each subject of the rare class tested once ...
    assert tests[4][0] in (0, 1, 2, 3)  # ... and one twice, with another validation subject
    wholes = [(tuple(s.train_subjects), tuple(s.validation_subjects), tuple(s.test_subjects)) for s in splits]
    assert len(set(wholes)) == 5
    for split in splits:
        assert all(set(labels[getattr(split, part)]) == {0, 1} for part in ("train", "validation", "test"))


def test_distinct_splits_refuse_seeds_that_can_only_repeat_a_split():
    from img2imu_lib.datasets.protocol import distinct_splits

    subjects = np.repeat(np.arange(3), 4)  # three subjects: six ways to split them one by one
    labels = np.zeros(12, dtype=np.int64)
    splits = distinct_splits(labels, subjects, seeds=range(6), shots=1)
    assert len({tuple(np.concatenate([s.train_subjects, s.validation_subjects, s.test_subjects])) for s in splits}) == 6
    with pytest.raises(ValueError, match=r"seed 6: every split .* repeats the split of seed \d"):
        distinct_splits(labels, subjects, seeds=range(7), shots=1)
    with pytest.raises(ValueError, match="repeat a seed"):
        distinct_splits(labels, subjects, seeds=(0, 0), shots=1)
