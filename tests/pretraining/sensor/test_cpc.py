"""Tests of CPC's geometry (latent length, offset), causality and window-length checks."""

from __future__ import annotations

import pytest
import torch

from img2imu_lib.pretraining.sensor import CPCHAR
from img2imu_lib.pretraining.sensor.cpc import CausalConvAggregator, latent_length, receptive_offset


def test_latent_length_and_offset_by_hand():
    # (100 - 4) // 2 + 1 = 49, (49 - 4) // 2 + 1 = 23, then two kernel-1 layers keep 23
    assert latent_length(100) == 23
    assert receptive_offset() == 3  # receptive field 4 + 3 * 2 = 10 samples, jump 4: ceil(10 / 4)
    assert CPCHAR().encoder(torch.randn(2, 100, 3)).shape == (2, 256, 23)


def test_conv_aggregator_convolutions_are_causal():
    # Only the convolutions: GroupNorm(1, C), as in the enhanced code, normalises over time too, so
    # every context sees the window's overall mean and variance.
    aggregator = CausalConvAggregator().eval()
    for block in aggregator.blocks:
        block[2] = torch.nn.Identity()
    z = torch.randn(2, 256, 20)
    changed = z.clone()
    changed[:, :, 12:] += 1.0
    torch.testing.assert_close(aggregator(z)[:, :, :12], aggregator(changed)[:, :, :12])
    assert not torch.allclose(aggregator(z)[:, :, 12:], aggregator(changed)[:, :, 12:])


def test_loss_rejects_windows_too_short_to_predict():
    model = CPCHAR()
    with pytest.raises(ValueError, match=r"T=60 samples give 13 latents.*at least 15"):
        model.loss(torch.randn(2, 60, 3), generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(model.loss(torch.randn(2, 66, 3), generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="at least 10"):
        model.encoder(torch.randn(2, 9, 3))
