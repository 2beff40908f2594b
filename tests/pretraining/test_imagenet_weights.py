"""ImageNet weights only from the torch cache: missing, present in a fake $TORCH_HOME, downloaded from 127.0.0.1."""

from __future__ import annotations

import hashlib
import io

import pytest
import torch
import torchvision

import img2imu_lib.pretraining.imagenet_weights as W

from tests.local_server import serve


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty $TORCH_HOME, so that no test sees (or writes) the real cache."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


@pytest.fixture(scope="module")
def weights_bytes() -> bytes:
    """A real-format resnet18 state_dict (seeded random weights), as torch.save writes it."""
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), buffer)
    return buffer.getvalue()


def test_missing_weights_raise_with_path_and_command(torch_home):
    expected = torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert W.weights_path() == expected and not W.imagenet_weights_available()
    with pytest.raises(W.WeightsNotCached, match=str(expected)) as err:
        W.imagenet_backbone()
    assert W.DOWNLOAD_COMMAND in str(err.value) and isinstance(err.value, FileNotFoundError)
    assert not expected.exists()  # nothing was downloaded


def test_cached_weights_load_without_head(torch_home, weights_bytes):
    W.weights_path().parent.mkdir(parents=True)
    W.weights_path().write_bytes(weights_bytes)
    assert W.imagenet_weights_available()
    model = W.imagenet_backbone().eval()
    reference = torch.load(io.BytesIO(weights_bytes), weights_only=True)
    assert torch.equal(model.conv1.weight, reference["conv1.weight"])
    assert isinstance(model.fc, torch.nn.Identity)
    with torch.no_grad():
        assert model(torch.rand(2, 3, 96, 128)).shape == (2, 512)


def test_corrupt_cached_file_names_it(torch_home):
    W.weights_path().parent.mkdir(parents=True)
    W.weights_path().write_bytes(b"truncated")
    with pytest.raises(ValueError, match="not a readable ResNet18 state dict.*delete it"):
        W.imagenet_backbone()


def test_download_from_a_local_server_checks_the_hash(torch_home, weights_bytes, monkeypatch):
    server = serve(weights_bytes)
    try:
        address = f"http://127.0.0.1:{server.server_address[1]}"
        good = f"resnet18-{hashlib.sha256(weights_bytes).hexdigest()[:8]}.pth"  # torchvision's naming: hash prefix
        monkeypatch.setattr(W, "URL", f"{address}/{good}")
        path = W.download_imagenet_weights(progress=False)
        assert path == torch_home / "hub" / "checkpoints" / good and path.read_bytes() == weights_bytes
        assert W.imagenet_backbone()(torch.rand(2, 3, 96, 128)).shape == (2, 512)

        monkeypatch.setattr(W, "URL", f"{address}/resnet18-00000000.pth")  # the served file does not match
        with pytest.raises(RuntimeError, match="invalid hash value"):
            W.download_imagenet_weights(progress=False)
        assert sorted(p.name for p in path.parent.iterdir()) == [good]  # nothing partial left behind
    finally:
        server.shutdown()
