"""Tests of MoCo's loss, momentum update, queue and forward pass on the CPU."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from img2imu_lib.pretraining.backbones import image_backbone
from img2imu_lib.pretraining.moco import AdamRecipe, MoCo, MoCoConfig, info_nce, moco_encoder, top1_accuracy, without_head


def test_equal_logits_give_log_one_plus_k():
    d, k = 8, 31
    q = F.normalize(torch.ones(4, d), dim=1)
    queue = q[:1].expand(k, d)  # every negative equals the positive: all logits the same
    loss, logits = info_nce(q, q, queue, temperature=0.2)
    assert logits.shape == (4, 1 + k)
    assert loss.item() == pytest.approx(math.log(1 + k), rel=1e-6)


def test_info_nce_matches_equation_1_loop(generator):
    q = F.normalize(torch.randn(5, 16, generator=generator), dim=1)
    k = F.normalize(torch.randn(5, 16, generator=generator), dim=1)
    queue = F.normalize(torch.randn(40, 16, generator=generator), dim=1)
    tau = 0.07
    loss, _ = info_nce(q, k, queue, temperature=tau)
    qn, kn, qu = (x.double().numpy() for x in (q, k, queue))
    losses = []
    for i in range(5):  # Eq. 1, one query at a time
        positive = np.exp(qn[i] @ kn[i] / tau)
        denominator = positive + sum(np.exp(qn[i] @ qu[j] / tau) for j in range(len(qu)))
        losses.append(-np.log(positive / denominator))
    assert loss.item() == pytest.approx(float(np.mean(losses)), rel=1e-5)


def tiny_encoder(dim: int = 8) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, dim))


def test_momentum_update_is_an_exponential_average():
    model = MoCo(MoCoConfig(dim=8, queue_size=16, momentum=0.9), encoder=tiny_encoder())
    with torch.no_grad():
        for p in model.encoder_q.parameters():
            p.add_(1.0)
    before_k = [p.clone() for p in model.encoder_k.parameters()]
    q_params = [p.clone() for p in model.encoder_q.parameters()]
    model.momentum_update()
    for p_k, old_k, p_q in zip(model.encoder_k.parameters(), before_k, q_params):
        torch.testing.assert_close(p_k, 0.9 * old_k + 0.1 * p_q)
    assert not any(p.requires_grad for p in model.encoder_k.parameters())


def test_queue_wraps_around():
    model = MoCo(MoCoConfig(dim=2, queue_size=6), encoder=tiny_encoder(2))
    first = torch.arange(8.0).view(4, 2)
    model.enqueue(first)
    assert model.queue_ptr.item() == 4
    model.enqueue(-first)
    assert model.queue_ptr.item() == 2
    torch.testing.assert_close(model.queue[[4, 5, 0, 1]], -first)  # the oldest entries were replaced
    torch.testing.assert_close(model.queue[[2, 3]], first[2:])
    with pytest.raises(ValueError, match="a batch of 7 keys does not fit a queue of 6"):
        model.enqueue(torch.zeros(7, 2))


def test_forward_backward_on_resnet18_cpu(generator):
    torch.manual_seed(0)
    model = MoCo(MoCoConfig(dim=64, queue_size=32))
    x = torch.rand(4, 3, 96, 128, generator=generator)
    loss, logits = model(x, x.flip(-1))
    assert logits.shape == (4, 33) and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in model.encoder_q.parameters())
    assert all(p.grad is None for p in model.encoder_k.parameters())
    assert model.queue_ptr.item() == 4
    state = model.state_dict()
    assert "queue" in state and "queue_ptr" in state  # saved with the weights
    assert model.backbone()(x).shape == (4, 512)


def test_mlp_head_and_config_checks():
    assert isinstance(moco_encoder(64).fc, nn.Sequential)
    assert isinstance(moco_encoder(64, mlp_head=False).fc, nn.Linear)
    with pytest.raises(ValueError, match="momentum=1.0; expected 0 <= m < 1"):
        MoCoConfig(momentum=1.0)
    with pytest.raises(ValueError, match="temperature=0; expected > 0"):
        MoCoConfig(temperature=0)


def test_moco_is_optimised_by_adam_over_the_query_encoder_on_the_papers_schedule():
    recipe = AdamRecipe(warmup_epochs=1, start=0.0, peak=1e-3, end=1e-4, weight_decay=0.1)
    model = MoCo(MoCoConfig(dim=8, queue_size=16), encoder=tiny_encoder(), recipe=recipe)
    optimizer = model.optimizer(batch_size=8)
    (group,) = optimizer.param_groups
    assert isinstance(optimizer, torch.optim.Adam) and group["lr"] == 0.0 and group["weight_decay"] == 0.1
    assert [id(p) for p in group["params"]] == [id(p) for p in model.encoder_q.parameters()]  # never the key encoder
    assert model.learning_rate(0.5, epochs=2, batch_size=8) == pytest.approx(5e-4)  # half-way up the linear warm-up
    assert model.learning_rate(1.0, epochs=2, batch_size=8) == pytest.approx(1e-3)
    assert model.learning_rate(2.0, epochs=2, batch_size=8) == pytest.approx(1e-4)  # the end of the cosine


def test_top1_accuracy_by_hand():
    logits = torch.tensor([[3.0, 1.0, 2.0],  # the positive is highest: a hit
                           [2.0, 2.0, 1.0],  # tied with a negative: a miss
                           [0.5, 0.1, -4.0],  # a hit
                           [1.0, 1.5, 0.0]])  # a negative is higher: a miss
    assert top1_accuracy(logits).item() == 0.5
    assert top1_accuracy(torch.zeros(4, 33)).item() == 0.0  # every logit equal: nothing is told apart
    assert top1_accuracy(torch.eye(5, 9)[:1]).item() == 1.0


def test_top1_accuracy_matches_a_loop_and_does_not_touch_its_input(generator):
    logits = torch.randn(64, 17, generator=generator)
    logits[::3, 0] += 2.0  # make hits common enough to count
    before = logits.clone()
    hits = [all(row[0] > row[j] for j in range(1, len(row))) for row in logits.tolist()]
    assert top1_accuracy(logits).item() == pytest.approx(sum(hits) / len(hits), abs=1e-7)
    assert 0 < sum(hits) < len(hits) and torch.equal(logits, before)


def test_forward_keeps_the_accuracy_of_its_logits_outside_the_graph(generator):
    torch.manual_seed(0)
    model = MoCo(MoCoConfig(dim=8, queue_size=16), encoder=tiny_encoder())
    assert model.last_accuracy is None
    x = torch.rand(8, 3, 16, 16, generator=generator)
    loss, logits = model(x, x.flip(-1))
    assert model.last_accuracy.ndim == 0 and not model.last_accuracy.requires_grad
    assert model.last_accuracy.item() == top1_accuracy(logits).item()
    assert (model.last_accuracy * 8).item() == round((model.last_accuracy * 8).item())  # k of 8 queries
    assert "last_accuracy" not in model.state_dict()  # not a buffer: checkpoints keep their keys


def test_resnet18_encoder_is_drawn_as_before_arch_existed():
    """The runs cached before ``arch`` keep computing what they computed: ResNet18 with num_classes=dim, then
    the hidden layer of the head, from the caller's stream."""
    torch.manual_seed(5)
    new = moco_encoder(64)
    torch.manual_seed(5)
    old = torchvision.models.resnet18(weights=None, num_classes=64)
    old.fc = nn.Sequential(nn.Linear(512, 512), nn.ReLU(inplace=True), old.fc)
    a, b = new.state_dict(), old.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_mobilenet_v2_encoder_is_the_backbone_with_a_1280_wide_head():
    torch.manual_seed(0)
    encoder = moco_encoder(64, arch="mobilenet_v2", seed=3)
    hidden, _, projection = encoder.classifier
    assert (hidden.in_features, hidden.out_features, projection.in_features, projection.out_features) == (1280, 1280, 1280, 64)
    assert encoder.training  # a fresh model trains, as any nn.Module starts
    trunk, reference = without_head(encoder).state_dict(), image_backbone("mobilenet_v2", "random", 3).state_dict()
    assert trunk.keys() == reference.keys() and all(torch.equal(trunk[k], reference[k]) for k in trunk)
    assert isinstance(moco_encoder(8, mlp_head=False, arch="mobilenet_v2").classifier, nn.Linear)


def test_forward_backward_on_mobilenet_v2_cpu(generator):
    torch.manual_seed(0)
    model = MoCo(MoCoConfig(dim=64, queue_size=32), moco_encoder(64, arch="mobilenet_v2", seed=1))
    q, k = model.encoder_q.state_dict(), model.encoder_k.state_dict()
    assert all(torch.equal(q[name], k[name]) for name in q)  # both encoders start from the same weights
    optimizer = model.optimizer(batch_size=4)
    for group in optimizer.param_groups:
        group["lr"] = 1e-3
    x = torch.rand(4, 3, 96, 128, generator=generator)
    before = model.encoder_q.features[0][0].weight.detach().clone()
    for step in range(3):
        loss, logits = model(x, x.flip(-1))
        assert logits.shape == (4, 33) and torch.isfinite(loss) and 0.0 <= model.last_accuracy.item() <= 1.0
        optimizer.zero_grad()
        loss.backward()
        assert all(p.grad is not None for p in model.encoder_q.parameters())
        assert all(p.grad is None for p in model.encoder_k.parameters())
        optimizer.step()
    assert not torch.equal(model.encoder_q.features[0][0].weight, before)
    assert model.queue_ptr.item() == 12 % 32
    assert model.backbone().eval()(x).shape == (4, 1280)
