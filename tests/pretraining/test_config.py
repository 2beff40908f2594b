"""PretrainConfig: its validation, its nested configs saved and read back, and keys that stay put."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
import torch

from img2imu_lib.pretraining import config as config_module
from img2imu_lib.pretraining.config import PretrainConfig, PretrainSizes, nested_configs
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.sensor import CPCHARConfig, LimuBertConfig, MultiTaskHARConfig, SimCLRHARConfig
from img2imu_lib.pretraining.supervised import SupervisedConfig

CPU = {"epochs": 2, "batch_size": 64, "corpus_size": 1280, "sensor_windows": 1280, "warmup_epochs": 1, "lr_peak": 1e-3,
       "lr_end": 1e-4, "moco": MoCoConfig(queue_size=1024), "channels_last": True}  # the cpu profile's sizes, spelled out
CHANGED = {  # one value away from the defaults in every nested config
    "supervised": SupervisedConfig(lr=0.2), "simclr_har": SimCLRHARConfig(projection=(64, 32)),
    "multitask_har": MultiTaskHARConfig(tasks=("noised", "scaled")), "cpc_har": CPCHARConfig(aggregator="gru"),
    "limu_bert": LimuBertConfig(max_span=5)}


@pytest.mark.parametrize(("config", "key"), [
    (PretrainConfig(), "50aa7e2ffb76"),
    (PretrainConfig(**CPU), "31dee7130fa9"),
    (PretrainConfig(method="simclr_har", **CPU), "e0c06d41f498"),
    (PretrainConfig(method="simsiam", **CPU), "959e15652178"),
    (PretrainConfig(method="limu_bert", epochs=1, batch_size=8, corpus_size=32, sensor_windows=32, warmup_epochs=0,
                    max_steps=2, moco=MoCoConfig(queue_size=32), channels_last=True), "af84ba90a8eb"),
], ids=["default", "cpu img2imu", "cpu simclr_har", "cpu simsiam", "smoke limu_bert"])
def test_keys_of_cached_runs_stay_what_they_were(config, key):
    """Runs are cached in <method>-<key> folders: these keys were pinned before the nested configs of the
    supervised and sensor methods became fields, which at their defaults leave the key alone."""
    assert config.key() == key


@pytest.mark.parametrize("name", list(CHANGED))
def test_a_changed_nested_config_changes_the_key(name):
    changed = PretrainConfig(method="cpc_har", **{name: CHANGED[name]})
    assert changed.key() != PretrainConfig(method="cpc_har").key()
    assert PretrainConfig(**{name: dataclasses.replace(CHANGED[name])}).key() == PretrainConfig(**{name: CHANGED[name]}).key()


def test_nested_configs_round_trip_through_as_dict_and_json():
    config = PretrainConfig(method="multitask_har", augmentations=("hue",), moco=MoCoConfig(queue_size=8), **CHANGED)
    assert PretrainConfig.from_dict(config.as_dict()) == config
    from_json = PretrainConfig.from_dict(json.loads(json.dumps(config.as_dict())))  # as record.json stores it
    assert from_json == config and from_json.key() == config.key()
    assert from_json.multitask_har.tasks == ("noised", "scaled")  # JSON's lists become tuples again
    default = PretrainConfig(method="limu_bert")
    assert PretrainConfig.from_dict(json.loads(json.dumps(default.as_dict()))).key() == default.key()


def test_every_method_config_is_nested_and_saved():
    assert set(nested_configs()) == {"moco", "simsiam", "supervised", "simclr_har", "multitask_har", "cpc_har", "limu_bert"}
    saved = PretrainConfig(cpc_har=CPCHARConfig(negatives=4)).as_dict()
    assert saved["cpc_har"]["negatives"] == 4 and saved["supervised"]["num_classes"] == 1000


def test_a_saved_config_without_the_newer_nested_configs_reads_back_with_defaults():
    saved = {k: v for k, v in PretrainConfig(method="simclr_har").as_dict().items() if k not in CHANGED}
    config = PretrainConfig.from_dict(saved)
    assert config.simclr_har == SimCLRHARConfig() and config.key() == PretrainConfig(method="simclr_har").key()


def test_unknown_fields_and_wrong_nested_types_are_refused():
    with pytest.raises(ValueError, match=r"config fields \['colour'\] are not PretrainConfig fields"):
        PretrainConfig.from_dict({**PretrainConfig().as_dict(), "colour": 1})
    with pytest.raises(ValueError, match=r"config fields \['width'\] are not CPCHARConfig fields"):
        PretrainConfig.from_dict({"cpc_har": {"width": 3}})
    with pytest.raises(ValueError, match="simclr_har=CPCHARConfig.*; expected a SimCLRHARConfig"):
        PretrainConfig(simclr_har=CPCHARConfig())


def test_auto_precision_is_bf16_only_where_the_hardware_computes_bf16(monkeypatch):
    facts = config_module.bf16_hardware("cpu")
    assert {"capability", "avx512_bf16", "amx", "native"} <= set(facts)
    assert facts["native"] == (facts["avx512_bf16"] or facts["amx"])
    for avx512_bf16, amx, expected in [(False, False, "fp32"), (True, False, "bf16"), (False, True, "bf16")]:
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v)
        assert config_module.resolve_precision("auto") == expected
        assert PretrainSizes(precision="auto").config().precision == expected
        assert PretrainSizes(precision="auto").config(method="simclr_har").precision == "fp32"  # image methods only
    assert config_module.resolve_precision("bf16") == "bf16"  # asked for by name: kept
    with pytest.raises(ValueError, match=r"precision='fp16'; expected one of \('fp32', 'bf16', 'fp64', 'auto'\)"):
        config_module.resolve_precision("fp16")
    with pytest.raises(ValueError, match="precision='auto'"):
        PretrainConfig(precision="auto")  # a run's config is always concrete, so its key says what ran


NEW_FIELDS = ("arch", "init", "snapshots")  # added after runs were cached under the keys pinned above


def key_by_the_old_rule(config: PretrainConfig) -> str:
    """The key as it was computed before the new fields: as_dict less the checkpoint interval, the workers and
    the new fields, the nested configs other than moco and simsiam only where they differ from their defaults."""
    relevant = {k: v for k, v in config.as_dict().items() if k not in ("checkpoint_every", "num_workers", *NEW_FIELDS)}
    for name, kind in nested_configs().items():
        if name not in ("moco", "simsiam") and getattr(config, name) == kind():
            del relevant[name]
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]


@pytest.mark.parametrize("config", [PretrainConfig(), PretrainConfig(**CPU), PretrainConfig(method="simclr_har", **CPU),
                                    PretrainConfig(method="supervised", seed=4, **CHANGED)],
                         ids=["default", "cpu img2imu", "cpu simclr_har", "changed nested configs"])
def test_the_new_fields_at_their_defaults_leave_the_key_as_the_old_rule_gave_it(config):
    assert set(NEW_FIELDS) <= set(config.as_dict())  # they are saved with the config all the same
    assert config.key() == key_by_the_old_rule(config)


def test_a_non_default_arch_or_init_changes_the_key_and_snapshots_never_do():
    base = PretrainConfig(**CPU)
    keys = {base.key(), dataclasses.replace(base, arch="mobilenet_v2").key(), dataclasses.replace(base, init="imagenet").key(),
            dataclasses.replace(base, arch="mobilenet_v2", init="imagenet").key()}
    assert len(keys) == 4
    # snapshots only copy weights the run computes anyway: the same run, the same folder (trainer refuses to reuse
    # a run that did not keep a snapshot asked for)
    assert dataclasses.replace(base, snapshots=(0, 5, 80)).key() == base.key()
    other = dataclasses.replace(base, arch="mobilenet_v2")
    assert dataclasses.replace(other, snapshots=(3,)).key() == other.key()
    assert dataclasses.replace(base, arch="mobilenet_v2").key() == PretrainConfig(**{**CPU, "arch": "mobilenet_v2"}).key()


def test_arch_init_and_snapshots_round_trip_through_json():
    config = PretrainConfig(arch="mobilenet_v2", init="imagenet", snapshots=(0, 4, 9))
    back = PretrainConfig.from_dict(json.loads(json.dumps(config.as_dict())))
    assert back == config and back.snapshots == (0, 4, 9) and back.key() == config.key()
    assert PretrainConfig(snapshots=[0, 2]).snapshots == (0, 2)  # a list (from JSON or papermill) becomes a tuple


def test_unknown_arch_or_init_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"arch='vgg16', init='random'; expected an arch of \('resnet18', 'mobilenet_v2'\) "
                                         r"and an init of \('random', 'imagenet'\)"):
        PretrainConfig(arch="vgg16")
    with pytest.raises(ValueError, match=r"init='imagenet21k'; expected an arch of .* and an init of \('random', 'imagenet'\)"):
        PretrainConfig(init="imagenet21k")
    with pytest.raises(ValueError, match="PretrainConfig.arch=18"):
        PretrainConfig(arch=18)


@pytest.mark.parametrize("changes", [{"arch": "mobilenet_v2"}, {"init": "imagenet"}])
@pytest.mark.parametrize("method", ["simclr_har", "limu_bert"])
def test_sensor_methods_refuse_an_image_backbone(method, changes):
    with pytest.raises(ValueError, match=f"{method} is a sensor method with an encoder of its own"):
        PretrainConfig(method=method, **changes)
    for image_method in ("img2imu", "moco_default", "moco_all", "simsiam", "supervised"):
        assert PretrainConfig(method=image_method, **changes).arch == changes.get("arch", "resnet18")


@pytest.mark.parametrize("snapshots", [(5, 0), (3, 3), (-1, 2)])
def test_snapshots_must_be_increasing_steps_from_zero(snapshots):
    with pytest.raises(ValueError, match=r"snapshots=\(.*\); expected steps >= 0 in increasing order, none repeated"):
        PretrainConfig(snapshots=snapshots)


def test_snapshot_steps_are_whole_numbers():
    with pytest.raises(ValueError, match=r"PretrainConfig.snapshots=\(1.5,\)"):
        PretrainConfig(snapshots=(1.5,))
    assert PretrainConfig(snapshots=(0,)).snapshots == (0,)
