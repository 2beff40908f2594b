"""The evaluation engine: batched probes against torch.optim.Adam, splits shared by every method, choices
made on validation only, cached features and records, the upper bounds, and checkpoints from elsewhere."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from img2imu_lib import evaluation as S
from img2imu_lib.book import paper as P
from img2imu_lib.__main__ import main
from img2imu_lib.evaluation.probe import ProbeConfig, train_head, train_heads

FS = 50.0
SIZES = S.EvalSizes(seeds=(0, 1), shots=3, max_windows=None, spectrograms=((32, 24), (256, 248)), lrs=(1e-2, 1e-1),
                    weight_decays=(0.0, 1e-3), probe_epochs=10, curve_shots=(1, 2), upper_windows_per_class=None,
                    upper_epochs_1d=8, upper_epochs_2d=1)


def synthetic(name: str = "tones", subjects: int = 10, per_class: int = 6) -> S.EvalData:
    """Windows of 2 s (100 samples); class c is a 1, 4 or 10 Hz oscillation on all axes plus noise."""
    rng = np.random.default_rng(0)
    t = np.arange(100) / FS
    windows, labels, owners = [], [], []
    for subject in range(subjects):
        for c, hz in enumerate((1.0, 4.0, 10.0)):
            for _ in range(per_class):
                phase = rng.uniform(0, 2 * np.pi, 3)
                windows.append(np.sin(2 * np.pi * hz * t[:, None] + phase) + rng.normal(0, 0.2, (100, 3)))
                labels.append(c)
                owners.append(subject)
    return S.EvalData(name, np.array(windows, dtype=np.float32), np.array(labels), np.array(owners), FS,
                      ("slow", "middle", "fast"), 2.0, len(labels))


def tiny_image_candidate(key: str = "tiny") -> S.Candidate:
    def load() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 8, 5, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return S.Candidate(f"tiny-{key}", "image", load, key)


def random_1d(key: str = "cnn") -> S.Candidate:
    return next(c for c in S.random_candidates((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) if c.name == "random_init_1d")


def test_batched_heads_follow_torch_adam_head_by_head(generator):
    features, labels = torch.randn(24, 16, generator=generator), torch.arange(24) % 3
    configs = [ProbeConfig(epochs=7, lr=lr, weight_decay=wd, seed=seed)
               for lr in (1e-3, 1e-1) for wd in (0.0, 1e-2) for seed in (0, 5)]
    heads = train_heads(features.expand(len(configs), -1, -1), labels.expand(len(configs), -1), classes=3,
                        lrs=[c.lr for c in configs], weight_decays=[c.weight_decay for c in configs],
                        seeds=[c.seed for c in configs], epochs=7)
    for i, config in enumerate(configs):
        reference = train_head(features, labels, classes=3, config=config)  # nn.Linear + torch.optim.Adam
        torch.testing.assert_close(heads.weight[i], reference.weight.T, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(heads.bias[i], reference.bias, atol=1e-5, rtol=1e-4)
    assert heads(features).shape == (len(configs), 24, 3)


def test_batched_heads_reject_mismatched_inputs():
    with pytest.raises(ValueError, match="expected"):
        train_heads(torch.zeros(2, 4, 3), torch.zeros(2, 4, dtype=torch.long), classes=2, lrs=[1e-3], weight_decays=[0, 0],
                    seeds=[0, 1])
    with pytest.raises(ValueError, match="labels span"):
        train_heads(torch.zeros(1, 4, 3), torch.full((1, 4), 5), classes=2, lrs=[1e-3], weight_decays=[0], seeds=[0])


def test_balanced_cap_shares_the_budget_and_keeps_rare_classes():
    labels = np.array([0] * 500 + [1] * 30 + [2] * 300)
    keep = S.balanced_cap(labels, 200)
    counts = np.bincount(labels[keep])
    assert len(keep) == 200 and counts[1] == 30 and counts[0] == counts[2] == 85
    assert np.array_equal(keep, S.balanced_cap(labels, 200))  # seeded
    assert np.array_equal(S.balanced_cap(labels, None), np.arange(len(labels)))


def test_every_method_gets_the_same_splits_and_shots(tmp_path):
    data = synthetic()
    evaluation = S.Evaluation(SIZES, {"tones": data}, profile="test", folder=tmp_path)
    image = evaluation.score(tiny_image_candidate("splits"), "tones", spectrogram=(32, 24))
    sensor = evaluation.score(random_1d(), "tones")
    for a, b, split in zip(image["per_seed"], sensor["per_seed"], evaluation.splits("tones")):
        assert a["seed"] == b["seed"] == split.seed
        assert a["test_windows"] == b["test_windows"] == len(split.test)
        assert a["shots_per_class"] == b["shots_per_class"] == [3, 3, 3]
    first, second = evaluation.splits("tones")
    assert not np.array_equal(first.test, second.test)  # each seed its own split
    for split in (first, second):  # no subject on two sides, shots from training subjects only
        parts = [set(data.subjects[getattr(split, k)]) for k in ("train", "validation", "test")]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert set(data.subjects[split.shots]) <= parts[0]


def test_choices_are_made_on_validation_never_on_test(generator):
    data = synthetic()
    features = torch.randn(len(data.labels), 12, generator=generator) + torch.nn.functional.one_hot(
        torch.as_tensor(data.labels), 12).float() * 6
    splits = S.seed_splits(data, (0, 1, 2), 3)
    chosen = S.linear_eval(features, data, splits, lrs=(1e-4, 1e-2, 1.0), weight_decays=(0.0, 1e-1), epochs=5)
    again = []
    for split in splits:  # scramble one seed's test labels (another seed may validate on them): scores change,
        shuffled = S.EvalData(data.name, data.windows, data.labels.copy(), data.subjects, FS, data.classes, 2.0, 0)
        shuffled.labels[split.test] = np.random.default_rng(split.seed).permutation(shuffled.labels[split.test])
        again += S.linear_eval(features, shuffled, [split], lrs=(1e-4, 1e-2, 1.0), weight_decays=(0.0, 1e-1), epochs=5)
    for a, b in zip(chosen, again):  # choices must not
        assert (a["lr"], a["weight_decay"]) == (b["lr"], b["weight_decay"])
        assert a["validation_f1"] == max(g["validation_f1"] for g in a["validation_grid"])
    assert np.mean([r["test_f1"]["original"] for r in chosen]) > 0.6 > np.mean([r["test_f1"]["original"] for r in again])


def test_fixed_settings_train_one_head_per_seed(generator):
    data = synthetic()
    features = torch.randn(len(data.labels), 6, generator=generator)
    splits = S.seed_splits(data, (0, 1), 2)
    result = S.linear_eval(features, data, splits, lrs=(1e-3, 1e-2), weight_decays=(0.0,), epochs=2,
                           fixed={0: (0.5, 0.0), 1: (0.25, 1e-3)})
    assert [(r["lr"], r["weight_decay"]) for r in result] == [(0.5, 0.0), (0.25, 1e-3)]
    assert all(len(r["validation_grid"]) == 1 for r in result)


def test_records_are_reused_and_features_cached(tmp_path, monkeypatch):
    data = synthetic()
    evaluation = S.Evaluation(SIZES, {"tones": data}, profile="test", folder=tmp_path)
    candidate = tiny_image_candidate("cache")
    first = evaluation.score(candidate, "tones", spectrogram=(32, 24))
    assert 0.0 <= first["f1_mean"] <= 1.0 and first["commit"] and first["wall_seconds"] >= 0
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["key"] == first["key"]
    features = S.features(candidate, data, spectrogram=(32, 24))  # from the cache, not the network
    monkeypatch.setattr(S, "features", lambda *a, **k: pytest.fail("a cached record recomputed its features"))
    assert evaluation.score(candidate, "tones", spectrogram=(32, 24)) == first
    files[0].write_text("{ cut short")  # a record cut short by a crash is computed again
    monkeypatch.undo()
    assert evaluation.score(candidate, "tones", spectrogram=(32, 24))["per_seed"] == first["per_seed"]
    assert features.shape == (len(data.labels), 8)


def test_features_refuse_a_backbone_that_changes():
    class Drifting(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                self.linear.weight.add_(1.0)
            return self.linear(x.mean(dim=1))

    with pytest.raises(AssertionError, match="changed"):
        S.features(S.Candidate("drift", "sensor", Drifting, "drift"), synthetic())


def test_spectrogram_choice_skips_settings_longer_than_the_window(tmp_path):
    evaluation = S.Evaluation(SIZES, {"tones": synthetic()}, profile="test", folder=tmp_path)
    choice = evaluation.choose_spectrogram(tiny_image_candidate("choice"), "tones")
    assert choice["chosen"] == (32, 24) and choice["skipped"] == [(256, 248)]  # 100 samples < 256 / 2


def test_fully_supervised_bounds_learn(tmp_path):
    data = synthetic()
    evaluation = S.Evaluation(SIZES, {"tones": data}, profile="test", folder=tmp_path, progress=False)
    record = evaluation.upper_bound("sensor", "tones")
    assert record["f1_mean"] > 0.8 and record["method"] == "fully_supervised_1d"
    split = evaluation.splits("tones")[0]
    predicted = S.fully_supervised("image", data, split.train, split.test, spectrogram=(32, 24), epochs=1, seed=0)
    assert predicted.shape == (len(split.test),) and set(predicted) <= {0, 1, 2}


def test_a_resnet18_state_dict_from_elsewhere_loads(tmp_path):
    network = torchvision.models.resnet18(weights=None)
    path = tmp_path / "moco.pth"
    torch.save({"state_dict": {f"module.encoder_q.{k}": v for k, v in network.state_dict().items()}}, path)
    candidate = S.candidate_from_file(path)
    loaded = candidate.load()
    assert candidate.kind == "image" and isinstance(loaded.fc, nn.Identity)
    assert torch.equal(loaded.conv1.weight, network.conv1.weight)
    (tmp_path / "other.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="other.pth"):
        S.candidate_from_file(tmp_path / "other.pth").load()
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "small.pth")
    with pytest.raises(ValueError, match="not a torchvision ResNet18"):
        S.candidate_from_file(tmp_path / "small.pth").load()


def test_command_line_evaluates_a_state_dict(tmp_path, capsys):
    path = tmp_path / "resnet.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    assert main(["evaluate", "--checkpoint", str(path), "--dataset", "watch", "--profile", "smoke", "--quiet",
                 "--nfft", "64", "--noverlap", "56"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dataset"] == "watch" and out["spectrogram"] == [64, 56] and 0.0 <= out["f1_mean"] <= 1.0
    assert sorted(out["per_seed"]) == ["0", "1"]


def test_paper_tables_are_read_when_present(tmp_path):
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "t.csv").write_text("method,x_mean\nimg2imu,0.5\n")
    (tmp_path / "data").mkdir()
    assert P.paper_table("t.csv", [tmp_path / "data"])[0] == {"method": "img2imu", "x_mean": "0.5"}
    assert P.paper_table("absent.csv", [tmp_path / "data"]) is None
    assert P.markdown_table([{"a": 1, "b": 2}]).splitlines() == ["| a | b |", "| --- | --- |", "| 1 | 2 |"]


def test_sizes_are_checked():
    with pytest.raises(ValueError, match="shots"):
        S.EvalSizes(**{**SIZES.__dict__, "shots": 0})
    with pytest.raises(ValueError, match="lrs"):
        S.EvalSizes(**{**SIZES.__dict__, "lrs": (0.0,)})
    with pytest.raises(ValueError, match="not trained"):
        S.Evaluation(S.EvalSizes(**{**SIZES.__dict__, "upper_epochs_2d": 0}), {"tones": synthetic()}, profile="test",
                     folder=None).upper_bound("image", "tones", spectrogram=(32, 24))
    with pytest.raises(TypeError, match=r"sizes='cpu'; expected an EvalSizes \(a profile's: get_profile\(name\).evaluation\)"):
        S.Evaluation("cpu", {"tones": synthetic()}, profile="cpu")


def test_shot_scaler_is_scikit_learns_standard_scaler_fitted_on_the_shots(generator):
    from sklearn.preprocessing import StandardScaler

    from img2imu_lib.evaluation.linear import shot_scaler

    feats = torch.randn(40, 5, generator=generator) * torch.tensor([1.0, 10.0, 0.1, 3.0, 1.0]) + 7
    feats[:, 4] = 2.5  # constant: centred, not divided by zero
    shots = np.array([1, 4, 9, 16, 25, 36])
    mean, std = shot_scaler(feats, shots)
    reference = StandardScaler().fit(feats[shots].numpy().astype(np.float64))
    np.testing.assert_allclose(((feats - mean) / std).numpy(), reference.transform(feats.numpy()), rtol=1e-4, atol=1e-4)
    assert std[4] == 1.0


def test_test_windows_change_no_choice_and_no_scaling(generator):
    data = synthetic()
    feats = torch.randn(len(data.labels), 12, generator=generator) * 5 + torch.nn.functional.one_hot(
        torch.as_tensor(data.labels), 12).float() * 6
    [split] = S.seed_splits(data, (0,), 3)
    grid = dict(lrs=(1e-4, 1e-2, 1.0), weight_decays=(0.0, 1e-1), epochs=5)
    [before] = S.linear_eval(feats, data, [split], **grid)
    changed = feats.clone()
    changed[split.test] = changed[split.test] * 100 + 50  # the test windows' features far off
    [after] = S.linear_eval(changed, data, [split], **grid)
    assert (before["lr"], before["weight_decay"], before["validation_f1"]) == (after["lr"], after["weight_decay"],
                                                                                after["validation_f1"])
    assert before["validation_grid"] == after["validation_grid"]
    from img2imu_lib.evaluation.linear import shot_scaler

    assert all(torch.equal(a, b) for a, b in zip(shot_scaler(feats, split.shots), shot_scaler(changed, split.shots)))
    assert before["test_f1"] != after["test_f1"]


def test_standardised_and_raw_features_differ_only_in_scaling(generator):
    data = synthetic()
    feats = torch.randn(len(data.labels), 8, generator=generator) + torch.nn.functional.one_hot(
        torch.as_tensor(data.labels), 8).float() * 3
    splits = S.seed_splits(data, (0, 1), 3)
    grid = dict(lrs=(1e-2,), weight_decays=(0.0,), epochs=5)
    raw = S.linear_eval(feats * 1e-4, data, splits, standardize=False, **grid)
    scaled = S.linear_eval(feats * 1e-4, data, splits, **grid)
    again = S.linear_eval(feats * 1e4, data, splits, **grid)  # standardised: the features' scale is irrelevant
    for a, b in zip(scaled, again):  # the same up to float rounding of the scaling
        assert a["test_f1"]["original"] == pytest.approx(b["test_f1"]["original"], abs=0.02)
    assert np.mean([r["test_f1"]["original"] for r in scaled]) > np.mean([r["test_f1"]["original"] for r in raw]) + 0.2


def test_two_evaluations_from_empty_caches_give_identical_records(tmp_path, monkeypatch):
    """Two builds on one machine must give the same tables: every record of a backbone, from its features to
    the chosen probes, computed twice from nothing, is bit for bit the same."""
    data = synthetic()
    records = []
    for build in ("first", "second"):
        monkeypatch.setenv("IMG2IMU_CACHE", str(tmp_path / build))
        evaluation = S.Evaluation(SIZES, {"tones": data}, profile="test", folder=tmp_path / build / "records")
        choice = evaluation.choose_spectrogram(tiny_image_candidate("twice"), "tones")
        sensor = evaluation.score(random_1d(), "tones")
        records.append([{s: r["per_seed"] for s, r in choice["records"].items()}, choice["chosen"], sensor["per_seed"]])
    assert records[0] == records[1]
