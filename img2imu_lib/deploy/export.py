"""A fine-tuned IMG2IMU classifier as ONNX files for a phone runtime (the on-device cost of paper Table III).

A bundle is a folder of three files:

- ``visualize.onnx``: windows (N, T, 3) float32 in g, axes x, y, z -> normalised spectrogram images
  (N, 3, 96, 128), the same computation as ``images.spectrogram.spectrogram_images``;
- ``classify.onnx``: images -> logits (N, C);
- ``manifest.json``: the spectrogram parameters, the class names, the versions, and the sha256 of
  both model files.

ONNX Runtime runs them on Android, iOS and Linux boards; ``ondevice.py`` (no torch) measures them
there. ``quantize_bundle`` writes an int8 ``classify.onnx`` with ONNX Runtime's static quantization.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime import quantization as oq
from torch import nn

from ..checks import check_field_types
from ..images import spectrogram as conversion
from ..images.parameters import check_spectrogram_params
from ..datasets.windows import check_windows
from .ondevice import MODEL_FILES, file_sha256, read_manifest, session

# ONNX images vs the library's, in normalised units: one grey level of an 8-bit image (the authors' app
# stores 0..255), 1 / (255 * 0.229) = 0.017. Both are float32: beside gravity's 0 Hz bin the weakest
# bins are rounding noise, which moves the library's own images by up to 8e-3 from a float64
# computation; ORT's DFT rounds differently, and the two differ by up to 1.5e-2 over all Daphnet
# windows at nfft 32..256 (by 3e-5 on white-noise windows).
IMAGE_ATOL = 1.0 / (255 * max(conversion.IMAGENET_STD))
LOGIT_ATOL = 1e-3  # classify.onnx (fp32) vs the eager model on the same images; ResNet18 differs by ~1e-5


@dataclass(frozen=True)
class OnDeviceSizes:
    """How long the on-device chapter measures, per profile."""

    repeats: int  # timed runs of one window per measurement
    warmup: int  # untimed runs before them
    calibration_windows: int  # training-subject windows calibrating the int8 activation ranges

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.repeats < 1 or self.warmup < 0 or self.calibration_windows < 1:
            raise ValueError(f"repeats={self.repeats}, warmup={self.warmup}, calibration_windows="
                             f"{self.calibration_windows}: expected at least one timed run and one window, warmup >= 0")


class SpectrogramModule(nn.Module):
    """``images.spectrogram.spectrogram_images`` for one window length, as an exportable module (Section IV-A).

    forward: windows (N, T, 3) float32 in g -> normalised images (N, 3, H, W), equal to
    ``spectrogram_images(windows, fs=fs, nfft=nfft, noverlap=noverlap)`` (the same operations, in order).
    """

    def __init__(self, *, window_samples: int, fs: float, nfft: int, noverlap: int,
                 size: tuple[int, int] = conversion.IMAGE_SIZE) -> None:
        super().__init__()
        check_spectrogram_params(window_samples, fs, nfft, noverlap)
        self.window_samples, self.fs, self.nfft, self.noverlap = window_samples, float(fs), nfft, noverlap
        grid = (nfft // 2 + 1, conversion.segment_count(window_samples, nfft=nfft, noverlap=noverlap))  # (F, M)
        rows, cols = conversion.resize_matrices(grid, tuple(size))
        scale, shift = conversion.image_affine(normalize=True)
        self.register_buffer("rows", rows.flip(1).clone())  # (H, F), low frequencies at the bottom
        self.register_buffer("cols", cols.clone())  # (M, W)
        self.register_buffer("scale", scale)  # (3, 1, 1)
        self.register_buffer("shift", shift)  # (3, 1, 1)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        if tuple(windows.shape[1:]) != (self.window_samples, 3):
            raise ValueError(f"windows have shape {tuple(windows.shape)}; expected (N, {self.window_samples}, 3)")
        small = conversion.scaled_log_grid(windows, fs=self.fs, nfft=self.nfft, noverlap=self.noverlap,
                                           scale=self.scale, shift=self.shift)  # (N, 3, F, M)
        return self.rows @ small @ self.cols  # (N, 3, H, W)


def _to_onnx(module: nn.Module, example: torch.Tensor, path: Path, *, names: tuple[str, str], strict: bool,
             opset: int | None) -> None:
    """Export ``module`` with a dynamic batch axis to ONE .onnx file, silently.

    ``strict=True`` (TorchDynamo) is used for the spectrogram: the spectrogram core turns the Hann
    window's energy into a Python float, which non-strict tracing sees as an unknown value; its
    failure would print the partial graph to stderr before the exporter fell back to strict mode.
    ``verbose=False`` silences the exporter's progress lines; ``external_data=False`` keeps the
    weights inside the file (ResNet18 is 45 MB, far below protobuf's 2 GB limit).
    """
    program = torch.export.export(module, (example,), dynamic_shapes=({0: torch.export.Dim("batch")},), strict=strict)
    torch.onnx.export(program, (example,), str(path), input_names=[names[0]], output_names=[names[1]],
                      dynamic_shapes=({0: "batch"},), opset_version=opset, external_data=False, verbose=False,
                      report=False, optimize=True)


def export_bundle(model: nn.Module, folder: str | Path, *, window_samples: int, fs: float, nfft: int, noverlap: int,
                  classes: Sequence[str], opset: int | None = None) -> Path:
    """Write ``visualize.onnx``, ``classify.onnx`` and ``manifest.json`` to ``folder``; return it.

    Args:
        model: normalised images (N, 3, 96, 128) -> logits (N, C), C = len(classes); not modified.
        window_samples: samples per window T (the windows are (N, T, 3) float32 in g).
        fs: sampling rate in Hz; nfft, noverlap: the spectrogram's FFT length and overlap in samples.
        classes: class names, in the order of the logits.
        opset: ONNX opset, 18 or later (torch's exporter has no older one); None for its default (20 in
            torch 2.14). Check the phone's ONNX Runtime supports it.
    """
    classes = [str(c) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes={classes}; expected at least one name, no repeats")
    if not isinstance(window_samples, int) or window_samples < 1:
        raise ValueError(f"window_samples={window_samples!r}; expected a positive int")
    if opset is not None and opset < 18:
        raise ValueError(f"opset={opset}; expected 18 or later (torch's ONNX exporter implements no older opset)")
    spectrogram = SpectrogramModule(window_samples=window_samples, fs=fs, nfft=nfft, noverlap=noverlap).eval()
    classifier = copy.deepcopy(model).cpu().eval()
    windows = torch.randn(2, window_samples, 3, generator=torch.Generator().manual_seed(0))  # (2, T, 3)
    with torch.no_grad():
        images = spectrogram(windows)  # (2, 3, H, W)
        logits = classifier(images)
    if logits.ndim != 2 or logits.shape[1] != len(classes):
        raise ValueError(f"model maps images {tuple(images.shape)} to {tuple(logits.shape)}; expected "
                         f"(2, {len(classes)}): one logit per class of {classes}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _to_onnx(spectrogram, windows, folder / "visualize.onnx", names=("windows", "images"), strict=True, opset=opset)
    _to_onnx(classifier, images, folder / "classify.onnx", names=("images", "logits"), strict=False, opset=opset)
    proto = onnx.load(str(folder / "classify.onnx"), load_external_data=False)
    written = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    if opset is not None and written != opset:
        raise RuntimeError(f"the exporter wrote opset {written}; opset={opset} was asked for")
    manifest = {
        "input": f"windows: (N, {window_samples}, 3) float32, acceleration in g, axes x, y, z (last axis), "
                 f"{window_samples} samples at {float(fs)} Hz",
        "window_samples": window_samples, "fs": float(fs), "nfft": nfft, "noverlap": noverlap,
        "image_size": list(conversion.IMAGE_SIZE), "classes": classes, "precision": "fp32",
        "opset": written, "torch": torch.__version__, "onnx": onnx.__version__,
        "sha256": {name: file_sha256(folder / name) for name in MODEL_FILES},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


class OnnxClassifier:
    """A bundle's two ONNX Runtime sessions (CPU, ``threads`` intra-op threads), as a phone app uses them."""

    def __init__(self, folder: str | Path, *, threads: int = 1, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}; expected a positive int")
        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)  # raises naming a changed or missing file
        self.classes: list[str] = self.manifest["classes"]
        self.batch_size = batch_size
        self._visualize = session(self.folder / "visualize.onnx", threads=threads)
        self._classify = session(self.folder / "classify.onnx", threads=threads)

    def _run(self, sess: ort.InferenceSession, name: str, x: np.ndarray) -> np.ndarray:
        return np.concatenate([sess.run(None, {name: x[i:i + self.batch_size]})[0]
                               for i in range(0, max(len(x), 1), self.batch_size)])

    def images(self, windows: np.ndarray) -> np.ndarray:
        """Windows (N, T, 3) float32 in g -> normalised images (N, 3, H, W) float32."""
        windows = check_windows(windows, samples=self.manifest["window_samples"]).numpy()
        return self._run(self._visualize, "windows", windows)

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Normalised images (N, 3, H, W) -> logits (N, C) float32."""
        images = np.asarray(images, dtype=np.float32)
        expected = (3, *self.manifest["image_size"])
        if images.ndim != 4 or images.shape[1:] != expected or len(images) == 0:
            raise ValueError(f"images have shape {images.shape}; expected (N, {', '.join(map(str, expected))}) "
                             f"with N >= 1")
        return self._run(self._classify, "images", np.ascontiguousarray(images))

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """Windows (N, T, 3) float32 in g -> class indices (N,) int64 into ``self.classes``."""
        return self.logits(self.images(windows)).argmax(axis=1)


class _Images(oq.CalibrationDataReader):
    """Feeds calibration images (N, 3, H, W) to the quantizer, 16 at a time."""

    def __init__(self, images: np.ndarray) -> None:
        self._batches = iter([{"images": images[i:i + 16]} for i in range(0, len(images), 16)])

    def get_next(self) -> dict | None:
        return next(self._batches, None)


def quantize_bundle(folder: str | Path, out_folder: str | Path, *, calibration_windows: np.ndarray,
                    target: str = "arm") -> Path:
    """An int8 copy of a bundle: ``classify.onnx`` statically quantized, ``visualize.onnx`` as is.

    Args:
        calibration_windows: (N, T, 3) float32 in g, T = the bundle's window_samples; turned into images
            by the bundle's own ``visualize.onnx`` to calibrate the activation ranges (min-max).
        target: "arm" (phones, boards) or "x86": picks ONNX Runtime's recommended data types (below).
    """
    folder, out_folder = Path(folder), Path(out_folder)
    if out_folder.resolve() == folder.resolve():
        raise ValueError(f"out_folder={out_folder} is the source bundle; expected another folder")
    if target not in ("arm", "x86"):
        raise ValueError(f"target={target!r}; expected 'arm' or 'x86'")
    source = OnnxClassifier(folder)  # checks the files
    manifest, images = source.manifest, source.images(calibration_windows)  # images: (N, 3, H, W)
    out_folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "visualize.onnx", out_folder / "visualize.onnx")
    # ONNX Runtime's advice for CPUs (quantize_static's docstring, ORT 1.31): QDQ format; QInt8 weights, per
    # channel (ResNet convolutions' ranges differ between channels). Activations: QInt8 on ARM, whose
    # kernels prefer signed int8; QUInt8 on x86 with 7-bit weights (reduce_range) against the saturation
    # of int8 dot products on CPUs without VNNI. Activation ranges stay asymmetric (min-max): after a ReLU
    # they are all positive, and a symmetric range would waste half the codes (the logit error of a seeded
    # ResNet18 on Daphnet windows grew ~4x with it).
    arm = target == "arm"
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        oq.quant_pre_process(str(folder / "classify.onnx"), str(prepared))  # shape inference, fusions: ORT's advice
        oq.quantize_static(str(prepared), str(out_folder / "classify.onnx"), _Images(images),
                           quant_format=oq.QuantFormat.QDQ, per_channel=True, reduce_range=not arm,
                           activation_type=oq.QuantType.QInt8 if arm else oq.QuantType.QUInt8,
                           weight_type=oq.QuantType.QInt8)
    manifest.update(precision="int8", calibration_windows=len(images),
                    quantization={"format": "QDQ", "weights": "QInt8 per channel", "target": target,
                                  "activations": "QInt8" if arm else "QUInt8", "reduce_range": not arm,
                                  "calibration": "MinMax", "onnxruntime": ort.__version__})
    manifest["sha256"] = {name: file_sha256(out_folder / name) for name in MODEL_FILES}
    (out_folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out_folder


@torch.no_grad()
def round_trip(model: nn.Module, bundle_folder: str | Path, windows: np.ndarray, *, fs: float, nfft: int,
               noverlap: int, atol: float = LOGIT_ATOL) -> dict:
    """Eager PyTorch (``spectrogram_images`` + ``model``) against the bundle on the same windows (N, T, 3) in g.

    Returns
        max_image_diff: visualize.onnx vs ``spectrogram_images``, max absolute, normalised units;
        max_logit_diff: classify.onnx vs ``model`` on the same (library) images, max absolute;
        agreement: fraction of windows whose predicted class is the same end to end;
        windows: N; ok: images within IMAGE_ATOL (0.017) and logits within ``atol``
        (default 1e-3 for fp32 bundles; an int8 bundle needs a looser one, or a check on agreement).
    """
    onnx_model = OnnxClassifier(bundle_folder)
    manifest = onnx_model.manifest
    if (float(fs), nfft, noverlap) != (manifest["fs"], manifest["nfft"], manifest["noverlap"]):
        raise ValueError(f"fs={fs}, nfft={nfft}, noverlap={noverlap}; the bundle was exported with "
                         f"fs={manifest['fs']}, nfft={manifest['nfft']}, noverlap={manifest['noverlap']}")
    x = check_windows(windows, samples=manifest["window_samples"]).numpy()
    images = conversion.spectrogram_images(x, fs=fs, nfft=nfft, noverlap=noverlap)  # (N, 3, H, W)
    model = copy.deepcopy(model).cpu().eval()
    logits = torch.cat([model(part) for part in images.split(64)]).numpy()  # (N, C)
    onnx_images = onnx_model.images(x)  # (N, 3, H, W)
    image_diff = float(np.abs(onnx_images - images.numpy()).max())
    logit_diff = float(np.abs(onnx_model.logits(images.numpy()) - logits).max())
    predicted = onnx_model.logits(onnx_images).argmax(axis=1)  # end to end: windows -> class
    return {"max_image_diff": image_diff, "max_logit_diff": logit_diff, "windows": len(x),
            "agreement": float((predicted == logits.argmax(axis=1)).mean()),
            "ok": image_diff <= IMAGE_ATOL and logit_diff <= atol}
