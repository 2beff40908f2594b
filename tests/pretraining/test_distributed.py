"""torchrun on the CPU (gloo): two processes train as one process with the same BatchNorm groups.

Two processes each hold half of every batch, normalise it with their own BatchNorm statistics,
shuffle MoCo's keys across each other and average their gradients. One process with
``groups=2`` computes the same thing, so the losses and the final weights must agree to
floating-point rounding; one process with ``groups=1`` (whole-batch BatchNorm) must not.

Both runs train in float64 (``precision="fp64"``). The two computations are equal in exact arithmetic but not in
float: a weight gradient is a sum over the batch, which the two runs add in different orders
(one process with two threads, two processes with one thread each and an all-reduce), and
BatchNorm over groups of four images amplifies such rounding differences quickly. Measured
here in float32, weights one unit in the last place apart after the first step (7e-9) were
4e-4 apart after the third, a growth of about 5e4; the size of that growth depends on the
CPU's kernels, which is why a float32 check passed on some machines and failed on others. In
float64 the unit roundoff is u = 2**-53 = 1.1e-16, so even a growth of 1e8 keeps the runs within
1.1e-8 relative of each other: the weights are compared with rtol=1e-7, atol=1e-10 (they are
measured about 1e-15 apart), and the groups=1 run must be outside that same tolerance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from img2imu_lib.pretraining.distributed import World, current
from img2imu_lib.pretraining.config import PretrainConfig, read_checkpoint
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.trainer import pretrain

from tests.conftest import ROOT

CONFIG = dict(batch_size=8, epochs=1, warmup_epochs=0, lr_start=1e-3, lr_peak=1e-3, lr_end=1e-3, max_steps=3,
              corpus_size=32, checkpoint_every=3, moco=MoCoConfig(queue_size=16), precision="fp64")

SCRIPT = """
import sys
from img2imu_lib.pretraining import distributed
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.config import PretrainConfig, read_checkpoint
from img2imu_lib.pretraining.trainer import pretrain

world = distributed.init_from_env()
config = PretrainConfig(method=sys.argv[2], {config})
record = pretrain(config, sys.argv[1], progress=False)
assert record["processes"] == world.size == 2 and record["config"]["groups"] == 2
distributed.shutdown()
"""


def torchrun(tmp_path, method: str) -> dict:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT.format(config=_literal(CONFIG))))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             str(script), str(tmp_path / "two"), method], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr[:3000]
    return json.loads((tmp_path / "two" / "record.json").read_text())


def _literal(config: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items())


def weights(folder) -> dict[str, torch.Tensor]:
    return read_checkpoint(folder / "checkpoint.pt")["model"]


def differing(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    """Floating-point entries of two state dicts beyond rtol=1e-7, atol=1e-10 (BatchNorm's running statistics
    aside: a process keeps its own group's, one process the groups' in turn)."""
    assert a.keys() == b.keys()
    return [name for name in a if a[name].is_floating_point() and "running" not in name
            and not torch.allclose(a[name], b[name], rtol=1e-7, atol=1e-10)]


@pytest.mark.parametrize("method", ["img2imu", "simsiam"])
def test_two_processes_equal_one_process_with_two_batchnorm_groups(tmp_path, method):
    two = torchrun(tmp_path, method)
    one = pretrain(PretrainConfig(method=method, groups=2, **CONFIG), tmp_path / "one", progress=False)
    whole = pretrain(PretrainConfig(method=method, groups=1, **CONFIG), tmp_path / "whole", progress=False)
    assert two["config_key"] == one["config_key"] and two["steps"] == one["steps"] == 3
    # the recorded losses are float32 means over the processes: equal to float32 rounding
    assert two["losses"] == pytest.approx(one["losses"], rel=1e-6, abs=1e-9)
    assert whole["losses"][1:] != pytest.approx(one["losses"][1:], rel=1e-4, abs=1e-5)  # BatchNorm over the whole batch differs
    a, b = weights(tmp_path / "two"), weights(tmp_path / "one")
    assert {v.dtype for v in a.values() if v.is_floating_point()} == {torch.float64}
    assert differing(a, b) == []  # MoCo's queue and key encoder included
    assert differing(weights(tmp_path / "whole"), b)  # the check can tell whole-batch BatchNorm apart


def test_one_process_is_a_world_of_one():
    world = current()
    assert world == World() and world.main and not world.distributed
    x = torch.arange(6.0).reshape(3, 2)
    assert world.gather(x) is x and world.gather_objects("a") == ["a"]


def test_groups_must_divide_the_batch():
    with pytest.raises(ValueError, match="groups=3 does not divide batch_size=8"):
        PretrainConfig(batch_size=8, groups=3)
