"""The table of methods: every entry builds, trains a step and gives a backbone; everything asks the table."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from img2imu_lib.pretraining.config import PretrainConfig
from img2imu_lib.pretraining.methods import IMAGE_METHODS, METHODS, SENSOR_METHODS, MethodSpec, build, method_kind
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.simsiam import SimSiamConfig
from img2imu_lib.pretraining.trainer import descend, initial_method
from tests.pretraining.sensor.conftest import make_windows

SMALL = {"batch_size": 4, "epochs": 1, "warmup_epochs": 0, "moco": MoCoConfig(queue_size=8),
         "simsiam": SimSiamConfig(dim=32, pred_dim=8)}
CORPUS = {  # what each kind of corpus gives build (class names, sensor statistics) and one batch of it
    "images": (None, lambda g: torch.rand(4, 3, 96, 128, generator=g)),
    "labelled images": (SimpleNamespace(classes=["a", "b", "c"]),
                        lambda g: (torch.rand(4, 3, 96, 128, generator=g), torch.tensor([0, 1, 2, 1]))),
    "sensor windows": (SimpleNamespace(mean=[0.0, 0.0, 1.0], std=[0.5, 0.5, 0.5]), lambda g: make_windows(4, 100)),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_builds_trains_a_step_and_has_a_backbone(name):
    config = PretrainConfig(method=name, **SMALL)
    corpus, batch = CORPUS[METHODS[name].corpus]
    method = initial_method(config, corpus, torch.device("cpu"))
    optimizer = method.optimizer(config.batch_size)
    before = [p.detach().clone() for p in method.parameters() if p.requires_grad]
    assert method.learning_rate(0.5, epochs=1, batch_size=config.batch_size) >= 0
    loss = method(batch(torch.Generator().manual_seed(0)), generators=[torch.Generator().manual_seed(1)])
    assert loss.ndim == 0 and math.isfinite(loss.item())
    descend(optimizer, loss)
    after = [p for p in method.parameters() if p.requires_grad]
    assert any(not torch.equal(a, b) for a, b in zip(after, before)), f"{name}: one step changed no weight"
    inputs = torch.rand(2, 3, 96, 128) if METHODS[name].kind == "image" else make_windows(2, 100)
    features = method.backbone().eval()(inputs)
    assert features.ndim == 2 and len(features) == 2 and torch.isfinite(features).all()


def test_each_method_owns_its_optimiser_and_schedule():
    small = {"moco": SMALL["moco"], "simsiam": SMALL["simsiam"]}  # the paper's schedule: 10 of 40 epochs warm-up
    moco, simsiam = (build(PretrainConfig(method=m, **small)) for m in ("img2imu", "simsiam"))
    assert isinstance(moco.optimizer(4), torch.optim.Adam) and isinstance(simsiam.optimizer(4), torch.optim.SGD)
    assert moco.optimizer(4).param_groups[0]["lr"] == pytest.approx(1e-8)  # the paper's lr_start
    assert moco.learning_rate(0.0, epochs=40, batch_size=4) == pytest.approx(1e-8)
    assert moco.learning_rate(10.0, epochs=40, batch_size=4) == pytest.approx(1e-5)  # the peak after the warm-up
    assert simsiam.learning_rate(0.0, epochs=40, batch_size=256) == pytest.approx(0.05)  # SimSiam's base rate


def test_the_table_names_table_twos_rows_and_a_kind_for_every_method():
    assert {name: spec.row for name, spec in METHODS.items()} == {
        "img2imu": "img2imu", "moco_default": "moco_default", "moco_all": "moco_all_aug", "simsiam": "simsiam",
        "supervised": "supervised_sample", "simclr_har": "simclr_har", "multitask_har": "multitask_har",
        "cpc_har": "cpc_har", "limu_bert": "limu_bert"}
    assert IMAGE_METHODS + SENSOR_METHODS == tuple(METHODS)  # derived from the table, nothing listed twice
    assert [method_kind(m) for m in SENSOR_METHODS] == ["sensor"] * 4 and method_kind("simsiam") == "image"


def test_sensor_methods_read_windows_and_image_methods_images():
    assert {METHODS[m].corpus for m in SENSOR_METHODS} == {"sensor windows"}
    assert METHODS["supervised"].corpus == "labelled images" and METHODS["img2imu"].corpus == "images"


def test_a_name_missing_from_the_table_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"method='byol'; expected one of \('img2imu', 'moco_default'.*'limu_bert'\)"):
        PretrainConfig(method="byol")
    with pytest.raises(ValueError, match="method='byol'; expected one of"):
        method_kind("byol")


def test_a_spec_of_an_unknown_kind_or_corpus_is_refused():
    with pytest.raises(ValueError, match=r"kind='audio', corpus='images'; expected one of \('image', 'sensor'\)"):
        MethodSpec(kind="audio", build=METHODS["img2imu"].build, row="x", corpus="images")
    with pytest.raises(ValueError, match="corpus='videos'"):
        MethodSpec(kind="image", build=METHODS["img2imu"].build, row="x", corpus="videos")
