"""Supervised pre-training: the labelled folder (both layouts, bad files, errors) and the model's contract."""

from __future__ import annotations

import math

import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from img2imu_lib.images.baselines import moco_v2_augmentations
from img2imu_lib.images.spectrogram import normalize_images
from img2imu_lib.pretraining.labelled import LabelledImageFolder
from img2imu_lib.pretraining.supervised import Supervised, SupervisedConfig

COLOURS = {"n03": (0, 0, 255), "n01": (255, 0, 0), "n02": (0, 255, 0)}  # class -> colour, deliberately unsorted


def save_photo(path, colour, size=(60, 40)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_class_folders_are_numbered_in_sorted_order(tmp_path):
    for name, colour in COLOURS.items():
        save_photo(tmp_path / name / "a.png", colour)
        save_photo(tmp_path / name / "deeper" / "b.png", colour)  # any depth below the class folder
    folder = LabelledImageFolder(tmp_path)
    assert folder.classes == ["n01", "n02", "n03"] and folder.layout == "class folders"
    for i in range(len(folder)):
        image, label = folder[i]
        assert image.shape == (3, 96, 128) and image.dtype == torch.float32
        red, green, blue = image.mean(dim=(1, 2))
        assert label == int(torch.stack([red, green, blue]).argmax())  # n01 red -> 0, n02 green -> 1, n03 blue -> 2
    assert folder.describe()["classes"] == 3


def test_flat_folder_takes_the_class_from_the_prefix(tmp_path):
    save_photo(tmp_path / "n02_two_words.jpg", (0, 255, 0))
    save_photo(tmp_path / "n01_a.jpg", (255, 0, 0))
    save_photo(tmp_path / "n01_b.jpg", (255, 0, 0))
    folder = LabelledImageFolder(tmp_path)
    assert folder.layout == "flat" and folder.classes == ["n01", "n02"]
    assert [folder[i][1] for i in range(3)] == [0, 0, 1]  # files sorted: n01_a, n01_b, n02_two_words
    images, labels = next(iter(DataLoader(folder, batch_size=3)))
    assert images.shape == (3, 3, 96, 128) and labels.dtype == torch.long and labels.tolist() == [0, 0, 1]


def test_unreadable_file_is_skipped_counted_and_keeps_its_replacements_label(tmp_path):
    save_photo(tmp_path / "a" / "1.png", (255, 0, 0))
    (tmp_path / "a" / "2.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    save_photo(tmp_path / "b" / "1.png", (0, 0, 255))
    folder = LabelledImageFolder(tmp_path)
    image, label = folder[1]  # a/2.jpg is unreadable: replaced by the next file, b/1.png, with ITS label
    assert label == 1 and image[2].mean() > 0.95
    assert folder.describe()["skipped"] == 1


def test_folder_errors(tmp_path):
    save_photo(tmp_path / "one" / "n01_a.png", (1, 2, 3))
    save_photo(tmp_path / "one" / "n01_b.png", (1, 2, 3))
    with pytest.raises(ValueError, match="all in class 'n01'.*at least 2 classes"):
        LabelledImageFolder(tmp_path / "one")
    save_photo(tmp_path / "one" / "noprefix.png", (1, 2, 3))
    with pytest.raises(ValueError, match="'noprefix.png'.*no class prefix"):
        LabelledImageFolder(tmp_path / "one")
    save_photo(tmp_path / "one" / "sub" / "x.png", (1, 2, 3))
    with pytest.raises(ValueError, match="both image files directly inside"):
        LabelledImageFolder(tmp_path / "one")
    save_photo(tmp_path / "single" / "only" / "x.png", (1, 2, 3))
    with pytest.raises(ValueError, match="all in class 'only'"):
        LabelledImageFolder(tmp_path / "single")


def test_imagenet_sample_labels_are_imagenet_class_indices(shared_data):
    folder = LabelledImageFolder(shared_data / "imagenet-sample")
    assert folder.layout == "flat" and len(folder.classes) == 1000 and len(folder) == 1000
    assert folder.classes[0] == "n01440764" and folder.classes[-1] == "n15075141"  # tench ... toilet tissue
    assert folder.labels == list(range(1000))  # one photo per class
    image, label = folder[0]
    assert label == 0 and image.shape == (3, 96, 128)


def tiny_batch(n: int = 8, classes: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 3, 96, 128, generator=g), torch.arange(n) % classes


def test_loss_is_log_c_when_every_logit_is_equal():
    model = Supervised(SupervisedConfig(num_classes=4))
    torch.nn.init.zeros_(model.network.fc.weight)
    torch.nn.init.zeros_(model.network.fc.bias)
    loss = model.loss(tiny_batch(), generator=torch.Generator().manual_seed(1))
    assert abs(loss.item() - math.log(4)) < 1e-6


def test_loss_matches_the_obvious_computation_and_is_seeded():
    model = Supervised(SupervisedConfig(num_classes=4)).eval()  # eval: BatchNorm does not update between calls
    images, labels = tiny_batch(2)
    before = images.clone()
    loss = model.loss((images, labels), generator=torch.Generator().manual_seed(3))
    views = moco_v2_augmentations((96, 128))(images, generator=torch.Generator().manual_seed(3))
    reference = torch.nn.functional.cross_entropy(model.network(normalize_images(views)), labels)
    assert torch.allclose(loss, reference, atol=1e-6)  # float32, same operations
    assert torch.equal(images, before)  # the batch is not mutated
    assert loss.item() != model.loss((images, labels), generator=torch.Generator().manual_seed(4)).item()


def test_loss_decreases_on_a_tiny_labelled_folder(tmp_path):
    for name, colour in COLOURS.items():
        save_photo(tmp_path / name / "0.png", colour)
    batch = next(iter(DataLoader(LabelledImageFolder(tmp_path), batch_size=3)))
    torch.manual_seed(0)
    model = Supervised(SupervisedConfig(num_classes=3))
    optimizer = model.optimizer(batch_size=6)  # lr 0.1 x 6 / 256: a larger one is unstable with BatchNorm on 3 images
    losses = []
    for _ in range(3):  # the same augmented views each step: pure optimisation of a fixed batch
        loss = model.loss(batch, generator=torch.Generator().manual_seed(0))
        assert torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.9 * losses[0], losses


def test_bad_labels_are_named():
    model = Supervised(SupervisedConfig(num_classes=4))
    images, _ = tiny_batch(2)
    with pytest.raises(ValueError, match=r"labels span \[0, 7\]; expected \[0, 3\]"):
        model.loss((images, torch.tensor([0, 7])), generator=torch.Generator())
    with pytest.raises(ValueError, match="expected \\(N, 3, H, W\\) and \\(N,\\)"):
        model.loss((images, torch.tensor([0, 1, 2])), generator=torch.Generator())
    with pytest.raises(ValueError, match="num_classes=1"):
        SupervisedConfig(num_classes=1)


def test_optimizer_follows_torchvisions_reference_recipe():
    model = Supervised(SupervisedConfig(num_classes=10))
    group = model.optimizer(batch_size=512).param_groups[0]
    assert isinstance(model.optimizer(1), torch.optim.SGD)
    assert group["lr"] == pytest.approx(0.2) and group["momentum"] == 0.9 and group["weight_decay"] == 1e-4
    assert sum(p.numel() for p in group["params"]) == sum(p.numel() for p in model.parameters())


def test_learning_rate_is_torchs_cosine_annealing():
    model = Supervised(SupervisedConfig(num_classes=10))
    assert model.learning_rate(0, epochs=10, batch_size=128) == pytest.approx(0.05)  # 0.1 x 128 / 256
    assert model.learning_rate(5, epochs=10, batch_size=128) == pytest.approx(0.025)  # half-way: half
    assert model.learning_rate(10, epochs=10, batch_size=128) == pytest.approx(0.0, abs=1e-15)
    optimizer = model.optimizer(batch_size=128)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)  # the reference
    for epoch in range(10):
        assert model.learning_rate(epoch, epochs=10, batch_size=128) == pytest.approx(scheduler.get_last_lr()[0], rel=1e-9)
        optimizer.step()
        scheduler.step()
    with pytest.raises(ValueError, match="epoch=11"):
        model.learning_rate(11, epochs=10, batch_size=128)


def test_backbone_is_a_headless_copy():
    model = Supervised(SupervisedConfig(num_classes=5)).eval()
    trunk = model.backbone().eval()
    with torch.no_grad():
        assert trunk(torch.rand(2, 3, 96, 128)).shape == (2, 512)
        trunk.conv1.weight.zero_()
    assert model.network.conv1.weight.abs().sum() > 0 and model.network.fc.out_features == 5


def test_the_trainer_pre_trains_on_a_labelled_folder(tmp_path):
    from img2imu_lib.pretraining.config import PretrainConfig
    from img2imu_lib.pretraining.trainer import pretrain

    for name, colour in COLOURS.items():
        for i in range(4):
            save_photo(tmp_path / "images" / name / f"{i}.png", tuple(max(0, c - 20 * i) for c in colour))
    config = PretrainConfig(method="supervised", corpus=str(tmp_path / "images"), batch_size=4, epochs=1, warmup_epochs=0,
                            max_steps=2)
    record = pretrain(config, tmp_path / "run", progress=False)
    assert record["steps"] == 2 and record["corpus"]["classes"] == 3 and math.isfinite(record["final_loss"])
    with pytest.raises(ValueError, match="supervised pre-training needs labelled images: corpus 'offline'"):
        pretrain(PretrainConfig(method="supervised", batch_size=4), tmp_path / "offline", progress=False)
