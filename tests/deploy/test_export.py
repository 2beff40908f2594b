"""The exported bundle computes what the library computes: images, logits, predictions; int8 stays close.

Tolerances: SpectrogramModule runs the library's operations, so it matches to 1e-5. ONNX images match
to 1e-4 on white-noise windows; on real windows float32 rounding of the weakest bins dominates, so they
match to deploy.IMAGE_ATOL (one 8-bit grey level) and are no farther from a float64 reference than the
library's own float32 images are (x 1.5). classify.onnx matches the eager model to deploy.LOGIT_ATOL.
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from img2imu_lib.deploy import export as deploy
from img2imu_lib.images import spectrogram as conversion
from img2imu_lib.datasets.daphnet import read_daphnet_file
from img2imu_lib.datasets.protocol import resample
from img2imu_lib.datasets.windows import sliding_windows

from tests.conftest import SHARED_DATA

FS = 50.0  # Hz
CLASSES = ("no freeze", "freeze")


@pytest.fixture(scope="module")
def daphnet() -> np.ndarray:
    """Real windows (91, 250, 3) in g: one Daphnet recording, 5 s at 50 Hz, ankle."""
    if not (SHARED_DATA / "daphnet").is_dir():
        pytest.skip(f"{SHARED_DATA / 'daphnet'} is not present (real data for checks is only on CI and dev machines)")
    windows, _ = sliding_windows(resample(read_daphnet_file(SHARED_DATA / "daphnet" / "S03R02.txt"), FS), seconds=5.0)
    return windows


def tiny_model() -> nn.Module:
    """Images (N, 3, H, W) -> logits (N, 2): a seeded linear layer over channel means."""
    torch.manual_seed(0)
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))


@pytest.fixture(scope="module")
def resnet(daphnet) -> nn.Module:
    """A seeded ResNet18 whose bias puts half of the Daphnet windows in each class (a hard case for int8)."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=2).eval()
    with torch.no_grad():
        logits = model(conversion.spectrogram_images(daphnet, fs=FS))
        model.fc.bias[1] -= (logits[:, 1] - logits[:, 0]).median()
    return model


@pytest.fixture(scope="module")
def bundles(resnet, daphnet, tmp_path_factory):
    """fp32 and int8 (ARM data types, calibrated on 32 windows) bundles of ``resnet``."""
    folder = tmp_path_factory.mktemp("bundles")
    fp32 = deploy.export_bundle(resnet, folder / "fp32", window_samples=250, fs=FS, nfft=128, noverlap=116,
                                classes=CLASSES)
    int8 = deploy.quantize_bundle(fp32, folder / "int8", calibration_windows=daphnet[::2][:32])
    return fp32, int8


def float64_images(windows: np.ndarray, *, nfft: int, noverlap: int) -> np.ndarray:
    """The slow, obvious reference: the paper's recipe in float64, step by step."""
    x = torch.as_tensor(windows, dtype=torch.float64).transpose(1, 2)  # (N, 3, T)
    window = torch.hann_window(nfft, periodic=True, dtype=torch.float64)
    power = torch.fft.rfft(x.unfold(-1, nfft, nfft - noverlap) * window, n=nfft).abs() ** 2  # (N, 3, M, F)
    weight = torch.full((nfft // 2 + 1,), 2.0 / (FS * float((window**2).sum())), dtype=torch.float64)
    weight[0] /= 2
    weight[-1] /= 2
    log_power = (power * weight).clamp_min(conversion.POWER_FLOOR).log10().transpose(2, 3)  # (N, 3, F, M)
    low, high = log_power.amin((-2, -1), keepdim=True), log_power.amax((-2, -1), keepdim=True)
    rows, cols = conversion.resize_matrices(tuple(log_power.shape[-2:]), conversion.IMAGE_SIZE)
    unit = rows.flip(1).double() @ ((log_power - low) / (high - low)) @ cols.double()  # (N, 3, H, W)
    mean = torch.tensor(conversion.IMAGENET_MEAN, dtype=torch.float64).view(3, 1, 1)
    std = torch.tensor(conversion.IMAGENET_STD, dtype=torch.float64).view(3, 1, 1)
    return ((unit - mean) / std).numpy()


@pytest.mark.parametrize(("samples", "nfft", "noverlap"), [(250, 128, 116), (250, 64, 56), (250, 32, 30),
                                                           (100, 128, 120), (40, 64, 60)])
def test_module_equals_library_on_random_windows(samples, nfft, noverlap, generator):
    windows = torch.randn(5, samples, 3, generator=generator) * 0.5 + torch.tensor([0.0, 1.0, 0.0])  # g
    module = deploy.SpectrogramModule(window_samples=samples, fs=FS, nfft=nfft, noverlap=noverlap)
    expected = conversion.spectrogram_images(windows, fs=FS, nfft=nfft, noverlap=noverlap)
    before = windows.clone()
    torch.testing.assert_close(module(windows), expected, atol=1e-5, rtol=0)
    assert torch.equal(windows, before)  # the input is not mutated


@pytest.mark.parametrize(("nfft", "noverlap"), [(128, 116), (64, 60), (256, 248)])  # 256 > T: one short segment
def test_module_equals_library_on_daphnet(daphnet, nfft, noverlap):
    module = deploy.SpectrogramModule(window_samples=250, fs=FS, nfft=nfft, noverlap=noverlap)
    expected = conversion.spectrogram_images(daphnet, fs=FS, nfft=nfft, noverlap=noverlap)
    torch.testing.assert_close(module(torch.as_tensor(daphnet)), expected, atol=1e-5, rtol=0)


def test_module_rejects_other_window_lengths():
    module = deploy.SpectrogramModule(window_samples=250, fs=FS, nfft=128, noverlap=116)
    with pytest.raises(ValueError, match=r"\(2, 200, 3\); expected \(N, 250, 3\)"):
        module(torch.zeros(2, 200, 3))
    with pytest.raises(ValueError, match="nfft=128 needs at least 64"):
        deploy.SpectrogramModule(window_samples=40, fs=FS, nfft=128, noverlap=116)


@pytest.mark.parametrize(("samples", "nfft", "noverlap"), [(250, 64, 56), (40, 64, 60)])  # 40 < nfft: one segment
def test_export_is_silent_and_onnx_images_match_on_random_windows(tmp_path, samples, nfft, noverlap, rng, capfd):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folder = deploy.export_bundle(tiny_model(), tmp_path / "b", window_samples=samples, fs=FS, nfft=nfft,
                                      noverlap=noverlap, classes=CLASSES)
    out, err = capfd.readouterr()
    assert (out, err, [str(w.message) for w in caught]) == ("", "", [])
    assert sorted(p.name for p in folder.iterdir()) == ["classify.onnx", "manifest.json", "visualize.onnx"]
    windows = rng.normal(0.0, 0.5, (7, samples, 3)).astype(np.float32)  # 7: the batch axis is dynamic
    expected = conversion.spectrogram_images(windows, fs=FS, nfft=nfft, noverlap=noverlap).numpy()
    np.testing.assert_allclose(deploy.OnnxClassifier(folder).images(windows), expected, atol=1e-4, rtol=0)


def test_onnx_images_on_daphnet_are_as_accurate_as_the_library(bundles, daphnet):
    expected = conversion.spectrogram_images(daphnet, fs=FS, nfft=128, noverlap=116).numpy()
    images = deploy.OnnxClassifier(bundles[0]).images(daphnet)
    reference = float64_images(daphnet, nfft=128, noverlap=116)
    assert np.abs(images - expected).max() <= deploy.IMAGE_ATOL
    assert np.abs(images - reference).max() <= 1.5 * np.abs(expected - reference).max()


def test_round_trip_fp32(bundles, resnet, daphnet):
    result = deploy.round_trip(resnet, bundles[0], daphnet, fs=FS, nfft=128, noverlap=116)
    assert result["ok"] and result["windows"] == len(daphnet)
    assert result["max_logit_diff"] <= deploy.LOGIT_ATOL and result["max_image_diff"] <= deploy.IMAGE_ATOL
    assert result["agreement"] >= 0.95  # a window within ~1e-3 of the boundary may flip with the image rounding
    with torch.no_grad():
        eager = resnet(conversion.spectrogram_images(daphnet, fs=FS)).argmax(1).numpy()
    predicted = deploy.OnnxClassifier(bundles[0], batch_size=16).predict(daphnet)  # chunks of 16
    assert predicted.shape == (len(daphnet),) and 0.3 <= predicted.mean() <= 0.7  # both classes occur
    assert (predicted == eager).mean() >= 0.95
    with pytest.raises(ValueError, match="nfft=64.*exported with fs=50.0, nfft=128"):
        deploy.round_trip(resnet, bundles[0], daphnet, fs=FS, nfft=64, noverlap=56)


def test_manifest(bundles):
    manifest = json.loads((bundles[0] / "manifest.json").read_text())
    assert manifest["classes"] == list(CLASSES) and manifest["precision"] == "fp32"
    assert (manifest["window_samples"], manifest["fs"], manifest["nfft"], manifest["noverlap"]) == (250, 50.0, 128, 116)
    assert manifest["image_size"] == [96, 128] and manifest["opset"] >= 17  # DFT needs opset 17
    assert manifest["torch"] == torch.__version__ and "in g" in manifest["input"] and "x, y, z" in manifest["input"]
    assert set(manifest["sha256"]) == {"visualize.onnx", "classify.onnx"}


def test_changed_or_missing_file_is_named(bundles, tmp_path):
    copy = shutil.copytree(bundles[0], tmp_path / "copy")
    data = bytearray((copy / "classify.onnx").read_bytes())
    data[-1] ^= 1
    (copy / "classify.onnx").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="classify.onnx has sha256 .* the file was changed"):
        deploy.OnnxClassifier(copy)
    (copy / "visualize.onnx").unlink()
    with pytest.raises(FileNotFoundError, match="visualize.onnx is missing"):
        deploy.OnnxClassifier(copy)


def test_wrong_windows_are_named(bundles):
    model = deploy.OnnxClassifier(bundles[0])
    with pytest.raises(ValueError, match=r"shape \(2, 200, 3\); expected \(N, 250, 3\)"):
        model.predict(np.zeros((2, 200, 3), np.float32))
    with pytest.raises(ValueError, match=r"shape \(250, 3\); expected \(N, 250, 3\)"):
        model.predict(np.zeros((250, 3), np.float32))
    with pytest.raises(ValueError, match=r"images have shape \(1, 3, 64, 64\); expected \(N, 3, 96, 128\)"):
        model.logits(np.zeros((1, 3, 64, 64), np.float32))


def test_export_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"to \(2, 2\); expected \(2, 3\): one logit per class"):
        deploy.export_bundle(tiny_model(), tmp_path, window_samples=250, fs=FS, nfft=128, noverlap=116,
                             classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="no repeats"):
        deploy.export_bundle(tiny_model(), tmp_path, window_samples=250, fs=FS, nfft=128, noverlap=116,
                             classes=["a", "a"])
    with pytest.raises(ValueError, match="noverlap=128; expected 0 <= noverlap < nfft=128"):
        deploy.export_bundle(tiny_model(), tmp_path, window_samples=250, fs=FS, nfft=128, noverlap=128,
                             classes=CLASSES)
    with pytest.raises(ValueError, match="opset=17; expected 18 or later"):
        deploy.export_bundle(tiny_model(), tmp_path, window_samples=250, fs=FS, nfft=128, noverlap=116,
                             classes=CLASSES, opset=17)
    assert not list(tmp_path.iterdir())  # nothing written


def test_int8_bundle_is_smaller_and_agrees_with_fp32(bundles, daphnet):
    fp32, int8 = bundles
    manifest = json.loads((int8 / "manifest.json").read_text())
    assert manifest["precision"] == "int8" and manifest["calibration_windows"] == 32
    source = json.loads((fp32 / "manifest.json").read_text())
    assert manifest["sha256"]["visualize.onnx"] == source["sha256"]["visualize.onnx"]  # copied as is
    assert (int8 / "classify.onnx").stat().st_size < 0.3 * (fp32 / "classify.onnx").stat().st_size
    reference, quantized = deploy.OnnxClassifier(fp32), deploy.OnnxClassifier(int8)
    images = reference.images(daphnet)
    expected, logits = reference.logits(images), quantized.logits(images)
    margin, margin_int8 = expected[:, 1] - expected[:, 0], logits[:, 1] - logits[:, 0]  # (N,)
    # half the windows lie near the boundary by construction, so some flip; the margins must follow fp32
    assert np.corrcoef(margin, margin_int8)[0, 1] >= 0.95
    assert (expected.argmax(1) == logits.argmax(1)).mean() >= 0.8


def test_quantize_is_silent_and_checks_its_arguments(tmp_path, rng, capfd):
    folder = deploy.export_bundle(tiny_model(), tmp_path / "fp32", window_samples=100, fs=FS, nfft=64, noverlap=56,
                                  classes=CLASSES)
    capfd.readouterr()
    windows = rng.normal(0.0, 0.5, (8, 100, 3)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deploy.quantize_bundle(folder, tmp_path / "int8", calibration_windows=windows, target="x86")
    out, err = capfd.readouterr()
    assert (out, err, [str(w.message) for w in caught]) == ("", "", [])
    assert deploy.OnnxClassifier(tmp_path / "int8").predict(windows).shape == (8,)
    with pytest.raises(ValueError, match=r"shape \(8, 99, 3\); expected \(N, 100, 3\)"):
        deploy.quantize_bundle(folder, tmp_path / "other", calibration_windows=windows[:, :99])
    with pytest.raises(ValueError, match="is the source bundle"):
        deploy.quantize_bundle(folder, folder, calibration_windows=windows)
    with pytest.raises(ValueError, match="target='riscv'"):
        deploy.quantize_bundle(folder, tmp_path / "other", calibration_windows=windows, target="riscv")


def test_command_line_exports_a_checked_classifier(tmp_path, capsys):
    from img2imu_lib.__main__ import main

    path = tmp_path / "resnet.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    assert main(["export", "--checkpoint", str(path), "--dataset", "hapt", "--profile", "smoke", "--nfft", "32",
                 "--noverlap", "24", "--int8", "--out", str(tmp_path / "out")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["round_trip"]["ok"] and out["round_trip"]["agreement"] >= 0.95
    assert out["spectrogram"] == [32, 24] and len(out["classes"]) == 6
    assert 0.0 <= out["int8"]["same_class_as_fp32"] <= 1.0
    manifest = json.loads((tmp_path / "out" / "int8" / "manifest.json").read_text())
    assert manifest["precision"] == "int8" and manifest["window_samples"] == 100
