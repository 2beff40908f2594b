"""Tests of the 1D CNN, the seeded random backbone and the LIMU-BERT transformer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from img2imu_lib.pretraining.sensor import CNN1D, LimuBertEncoder, random_init_backbone
from img2imu_lib.pretraining.sensor.encoders import CNN_MIN_SAMPLES


@pytest.mark.parametrize("t", [CNN_MIN_SAMPLES, 100, 250, 500])
def test_cnn_pools_any_length_to_96(t):
    encoder = CNN1D().eval()
    assert encoder(torch.randn(2, t, 3)).shape == (2, 96)
    assert encoder.features(torch.randn(2, t, 3)).shape == (2, 96, t - 45)


def test_cnn_is_the_assessment_architecture():
    convs = [m for m in CNN1D().modules() if isinstance(m, nn.Conv1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.padding[0]) for c in convs] == [
        (3, 32, 24, 0), (32, 64, 16, 0), (64, 96, 8, 0)]
    assert [m.p for m in CNN1D().modules() if isinstance(m, nn.Dropout)] == [0.1] * 3


def test_cnn_max_pools_over_time():
    encoder = CNN1D().eval()
    x = torch.randn(3, 120, 3)
    torch.testing.assert_close(encoder(x), encoder.features(x).amax(dim=2))


def test_cnn_rejects_short_or_misshaped_windows():
    with pytest.raises(ValueError, match="T=45 samples.*at least 46"):
        CNN1D()(torch.randn(2, 45, 3))
    with pytest.raises(ValueError, match=r"expected \(N, T, 3\)"):
        CNN1D()(torch.randn(2, 3, 100))


def test_random_backbone_is_seeded_and_standardises():
    x = torch.randn(4, 100, 3)
    a, b, c = random_init_backbone(7), random_init_backbone(7), random_init_backbone(8)
    assert not a.training
    torch.testing.assert_close(a(x), b(x))
    assert not torch.allclose(a(x), c(x))
    shifted = random_init_backbone(7, mean=(1.0, 2.0, 3.0), std=(2.0, 2.0, 2.0))
    torch.testing.assert_close(shifted(x), a((x - torch.tensor([1.0, 2.0, 3.0])) / 2.0))
    with pytest.raises(ValueError, match="seed=-1"):
        random_init_backbone(-1)


def test_random_backbone_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    random_init_backbone(3)
    CNN1D()  # the default init does draw from it; random_init_backbone redraws from its own seed
    torch.random.set_rng_state(state)
    first = random_init_backbone(3)[1].blocks[0].weight
    torch.manual_seed(123)
    second = random_init_backbone(3)[1].blocks[0].weight
    torch.testing.assert_close(first, second)


def test_limu_bert_shares_one_layer_and_keeps_time():
    encoder = LimuBertEncoder().eval()
    layers = [m for m in encoder.modules() if isinstance(m, nn.TransformerEncoderLayer)]
    assert len(layers) == 1 and encoder.layers == 4
    assert encoder.block.self_attn.num_heads == 4 and encoder.block.linear1.out_features == 144
    for t in (100, 250, 500):
        assert encoder(torch.randn(2, t, 3)).shape == (2, t, 72)
    with pytest.raises(ValueError, match="T=501 samples.*1..500"):
        encoder(torch.randn(1, 501, 3))
