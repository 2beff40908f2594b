"""Tests of SimSiam: its loss, stop-gradient, recipe schedule, and a training smoke run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from img2imu_lib.pretraining.methods import build
from img2imu_lib.pretraining.config import PretrainConfig
from img2imu_lib.pretraining.simsiam import SimSiam, SimSiamConfig
from img2imu_lib.pretraining.trainer import pretrain, set_learning_rate

from tests.pretraining.test_trainer import Corpus


def test_identical_views_with_identity_predictor_give_minus_one(generator):
    model = SimSiam(SimSiamConfig(dim=32, pred_dim=8))
    model.predictor = nn.Identity()
    x = torch.rand(4, 3, 64, 64, generator=generator)
    loss, z = model(x, x)
    assert loss.item() == pytest.approx(-1.0, abs=1e-5)  # p1 = z1 = z2: cosine 1 on both sides
    assert z.shape == (2, 4, 32)


def test_gradient_stops_at_the_projection(generator):
    model = SimSiam(SimSiamConfig(dim=32, pred_dim=8))
    x = torch.rand(4, 3, 64, 64, generator=generator)
    loss, z = model(x, x.flip(-1))
    assert not z.requires_grad  # the targets are detached
    loss.backward()
    assert all(p.grad is not None for p in model.predictor.parameters())
    assert model.encoder.conv1.weight.grad is not None  # the encoder learns through the predictions


def test_official_schedule():
    config = PretrainConfig(method="simsiam", batch_size=512, epochs=100)
    model = build(config)
    optimizer = model.optimizer(config.batch_size)
    assert isinstance(optimizer, torch.optim.SGD)
    assert set_learning_rate(model, optimizer, config, 0.0) == pytest.approx(0.1)  # 0.05 x 512 / 256
    set_learning_rate(model, optimizer, config, 50.0)
    encoder_lr, predictor_lr = (g["lr"] for g in optimizer.param_groups)
    assert encoder_lr == pytest.approx(0.05) and predictor_lr == pytest.approx(0.1)  # the predictor's rate is fixed
    assert set_learning_rate(model, optimizer, config, 100.0) == pytest.approx(0.0, abs=1e-12)


def test_simsiam_trains_and_resumes(tmp_path):
    config = PretrainConfig(method="simsiam", batch_size=8, epochs=1, warmup_epochs=0, max_steps=3, checkpoint_every=1,
                            simsiam=SimSiamConfig(dim=64, pred_dim=16))
    record = pretrain(config, tmp_path, corpus=Corpus(), progress=False)
    assert record["steps"] == 3 and -1.0 <= record["final_loss"] <= 1.0
