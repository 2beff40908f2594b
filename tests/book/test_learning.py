"""The learning curve: its long runs' configs, the BatchNorm-matched controls, and the reading of the curve
(a run beats its control where the paired validation lead's bootstrap interval lies above zero)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from img2imu_lib.book import learning, runs as R
from img2imu_lib.book.profiles import get_profile
from img2imu_lib.evaluation.candidates import Candidate
from img2imu_lib.evaluation.claims import paired


def record(values: dict[str, list[float]]) -> dict[str, dict]:
    """Records by dataset whose seeds' validation F1 are ``values[dataset]``."""
    return {name: {"per_seed": [{"seed": s, "validation_f1": v, "test_f1": {"original": 0.0}} for s, v in enumerate(vs)]}
            for name, vs in values.items()}


CONTROL = {"hapt": [0.50, 0.52, 0.48, 0.51, 0.49], "watch": [0.40, 0.41, 0.39, 0.42, 0.38]}


def curve(leads: dict[int, float], *, noise: float = 0.0) -> dict:
    rng = np.random.default_rng(0)
    runs = {step: record({n: [v + lead + noise * rng.normal() for v in vs] for n, vs in CONTROL.items()})
            for step, lead in leads.items()}
    return {"scratch": {"steps": list(leads), "control": record(CONTROL), "runs": {"img2imu": runs}}}


def test_a_run_beats_its_control_from_the_first_step_whose_interval_is_above_zero():
    found = curve({0: 0.0, 10: -0.02, 40: 0.03, 160: 0.05}, noise=0.002)
    assert learning.first_step_beating_control(found, "scratch", "img2imu") == 40
    by_step = learning.against_control(found, "scratch", "img2imu")
    lead = learning.validation_pairs(found["scratch"]["runs"]["img2imu"][40])
    reference = paired(lead, learning.validation_pairs(found["scratch"]["control"]))
    assert by_step[40] == reference and by_step[40].ci_low > 0 > by_step[10].ci_high
    rows = learning.curve_rows(found)
    assert [r["beats control"] for r in rows] == ["no", "no", "yes", "yes"]
    assert rows[2]["lead over control"] == f"{reference.mean_difference:+.3f}"
    assert "beats the control from step 40" in learning.curve_verdict(found, "scratch")


def test_a_run_that_never_leads_never_beats_its_control():
    found = curve({0: 0.0, 10: -0.01, 40: -0.03, 160: 0.0}, noise=0.01)
    assert learning.first_step_beating_control(found, "scratch", "img2imu") is None
    assert learning.curve_verdict(found, "scratch") == "img2imu never beats the control within 160 steps"


def test_curve_runs_share_initial_weights_order_and_schedule():
    runs = R.curve_runs("cpu")
    curve_sizes = get_profile("cpu").curve
    for family, (arch, init) in R.FAMILIES.items():
        a, b = runs[family, "img2imu"], runs[family, "moco_default"]
        assert dataclasses.replace(b, method="img2imu") == a  # only the method (its augmentations) differs
        assert (a.arch, a.init, a.moco.momentum, a.groups) == (arch, init, curve_sizes.momentum, curve_sizes.groups)
        steps = a.epochs * (a.corpus_size // a.batch_size)
        assert a.snapshots[0] == 0 and a.snapshots[-1] == steps and len(a.snapshots) >= 4
    assert runs["scratch", "img2imu"].lr_peak == curve_sizes.scratch_lr_peak
    assert runs["continued", "img2imu"].lr_peak == curve_sizes.continued_lr_peak


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x)).mean(dim=(2, 3))


def test_a_control_re_estimates_batchnorm_only_and_is_keyed_by_its_images():
    torch.manual_seed(0)
    net = Tiny().eval()
    base = Candidate("base", "image", lambda: net, "base-key")
    images = torch.randn(8, 3, 6, 6) * 3 + 1
    control = R.control_candidate("control", base, images, note="")
    loaded = control.load()
    assert torch.equal(loaded.conv.weight, net.conv.weight) and not loaded.training
    expected = net.conv(images).mean(dim=(0, 2, 3))  # one batch: the running mean is the batch mean
    torch.testing.assert_close(loaded.bn.running_mean, expected.detach(), rtol=1e-5, atol=1e-5)
    assert torch.equal(net.bn.running_mean, torch.zeros(4))  # the base is untouched
    other = R.control_candidate("control", base, images + 1, note="")
    assert other.key != control.key and R.control_candidate("control", base, images.clone(), note="").key == control.key


def test_bn_images_are_the_first_of_the_runs_order_normalised(monkeypatch):
    from img2imu_lib.images.spectrogram import normalize_images
    from img2imu_lib.pretraining.config import EpochOrder

    corpus = [torch.full((3, 4, 4), i / 20) for i in range(20)]
    monkeypatch.setattr(R, "load_corpus_for", lambda config, progress=False: corpus)
    config = R.curve_runs("smoke")["scratch", "img2imu"]
    config = dataclasses.replace(config, batch_size=4)
    order = [i for batch in EpochOrder(20, 4, seed=config.seed, epoch=0) for i in batch]
    images = R.bn_images(config, 6)
    torch.testing.assert_close(images, normalize_images(torch.stack([corpus[i] for i in order[:6]])))
    with pytest.raises(ValueError, match="the controls need 40"):
        R.bn_images(config, 40)
