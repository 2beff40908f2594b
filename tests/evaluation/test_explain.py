"""Grad-CAM maps (shape, range, determinism, two known answers), their similarity and their frequency bands."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from img2imu_lib.evaluation.explain import band_share, classifier, coarse_grad_cam, grad_cam, rank_similarity, row_frequencies


def linear_cam_model(channels: int = 5, classes: int = 3, *, seed: int = 0) -> nn.Module:
    """1x1 convolution ('layer4'), global average pool, linear: Grad-CAM has a closed form for it."""
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict(layer4=nn.Conv2d(3, channels, 1), pool=nn.AdaptiveAvgPool2d(1),
                                     flat=nn.Flatten(), fc=nn.Linear(channels, classes))).eval()


def test_matches_the_closed_form_of_a_linear_model():
    # y_c = sum_k V[c, k] mean_ij A_k[i, j] + b_c, so alpha_k = V[c, k] / (h w) and the map is ReLU(sum_k alpha_k A_k)
    model = linear_cam_model()
    images = torch.randn(4, 3, 6, 8, generator=torch.Generator().manual_seed(1))
    targets = torch.tensor([0, 1, 2, 1])
    maps = coarse_grad_cam(model, images, targets)
    activations = model.layer4(images)  # (4, 5, 6, 8)
    alpha = model.fc.weight[targets] / (6 * 8)  # (4, 5)
    expected = torch.relu(torch.einsum("nk,nkhw->nhw", alpha, activations)).detach()
    torch.testing.assert_close(maps, expected, rtol=1e-5, atol=1e-7)


def test_a_model_that_reads_one_region_is_explained_by_that_region_only():
    mask = torch.zeros(1, 1, 12, 16)
    mask[..., 2:5, 9:14] = 1.0  # the only pixels the output depends on

    class RegionModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer4 = nn.Conv2d(3, 4, 1, bias=False)
            nn.init.constant_(self.layer4.weight, 0.5)
            self.fc = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.layer4(x * mask).mean(dim=(2, 3)))

    model = RegionModel().eval()
    with torch.no_grad():
        model.fc.weight.copy_(torch.tensor([[1.0, 1.0, 1.0, 1.0], [-1.0, -1.0, -1.0, -1.0]]))
    images = torch.rand(3, 3, 12, 16, generator=torch.Generator().manual_seed(2)) + 0.1  # positive everywhere
    maps = coarse_grad_cam(model, images, [0, 0, 0])
    assert (maps[:, mask[0, 0] == 0] == 0).all()
    assert (maps[:, mask[0, 0] == 1] > 0).all()
    # the class that the region speaks against gets an empty map (the ReLU of Grad-CAM)
    assert (coarse_grad_cam(model, images, [1, 1, 1]) == 0).all()


@pytest.fixture(scope="module")
def resnet_classifier() -> nn.Module:
    torch.manual_seed(0)
    backbone = torchvision.models.resnet18(weights=None)
    backbone.fc = nn.Identity()
    return classifier(backbone, nn.Linear(512, 4))


def test_resnet_maps_have_the_image_shape_a_unit_range_and_repeat_exactly(resnet_classifier):
    images = torch.randn(5, 3, 96, 128, generator=torch.Generator().manual_seed(3))
    before = {k: v.clone() for k, v in resnet_classifier.state_dict().items()}
    first = grad_cam(resnet_classifier, images, [0, 1, 2, 3, 0])
    second = grad_cam(resnet_classifier, images, [0, 1, 2, 3, 0])
    assert first.shape == (5, 96, 128)
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, second)
    peaks = first.amax(dim=(1, 2))
    assert ((peaks == 1) | (peaks == 0)).all()
    assert coarse_grad_cam(resnet_classifier, images, [0] * 5).shape == (5, 3, 4)  # layer4: 1/32 of 96 x 128
    assert coarse_grad_cam(resnet_classifier, images, [0] * 5, layer="layer3").shape == (5, 6, 8)
    assert all(torch.equal(before[k], v) for k, v in resnet_classifier.state_dict().items())


def test_bad_layer_and_mismatched_targets_are_named(resnet_classifier):
    images = torch.zeros(2, 3, 96, 128)
    with pytest.raises(ValueError, match="layer 'layer9'"):
        grad_cam(resnet_classifier, images, [0, 1], layer="layer9")
    with pytest.raises(ValueError, match="targets"):
        grad_cam(resnet_classifier, images, [0])


def test_classifier_needs_a_headless_resnet():
    with pytest.raises(ValueError, match="fc is nn.Identity"):
        classifier(torchvision.models.resnet18(weights=None), nn.Linear(512, 2))


def test_rank_similarity_known_values():
    rng = np.random.default_rng(0)
    a = rng.random((3, 4, 5))
    b = np.stack([a[0], 1 - a[1], np.full((4, 5), 0.3)])
    similarity = rank_similarity(a, b)
    assert similarity[0] == pytest.approx(1.0)
    assert similarity[1] == pytest.approx(-1.0)
    assert np.isnan(similarity[2])  # a constant map has no ranks
    assert rank_similarity(a, a ** 3)[0] == pytest.approx(1.0)  # ranks ignore monotone changes
    with pytest.raises(ValueError, match="one shape"):
        rank_similarity(a, a[:, :3])


def test_rows_run_from_nyquist_at_the_top_to_zero_hz_at_the_bottom():
    # one row per frequency bin: the row centres are the bin frequencies, highest first
    np.testing.assert_allclose(row_frequencies(33, fs=50.0, nfft=64), np.arange(33)[::-1] * 50.0 / 64, atol=1e-9)
    rows = row_frequencies(96, fs=50.0, nfft=64)
    assert rows[0] > rows[-1] and np.all(np.diff(rows) < 0)


def test_band_share_of_a_map_on_the_bottom_rows():
    maps = np.zeros((2, 96, 128))
    maps[0, -10:] = 1.0  # the lowest rows only
    maps[1] = 1.0  # even
    share, area = band_share(maps, fs=50.0, nfft=64, below_hz=5.0)
    assert share[0] == pytest.approx(1.0)
    assert share[1] == pytest.approx(area)
    assert 0.15 < area < 0.25  # 5 Hz of 25 Hz, give or take half a bin
    assert np.isnan(band_share(np.zeros((1, 96, 128)), fs=50.0, nfft=64, below_hz=5.0)[0][0])
