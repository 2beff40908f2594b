"""A trained spectrogram classifier on a device: ONNX export of the conversion and the classifier, int8
copies, the ONNX Runtime classifier, and ``ondevice``, the torch-free worker that measures their cost
(it imports nothing of this package, so it can be copied alone to a board)."""

from .export import OnnxClassifier
from .export import SpectrogramModule
from .export import export_bundle
from .export import quantize_bundle
from .export import round_trip
