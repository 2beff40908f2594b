"""Tests of the image corpora: folders with bad files, the offline corpus, torchvision's CIFAR-10."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from img2imu_lib.pretraining.corpora import ImageFolderCorpus, OfflineCorpus, dead_leaves, fit, load_corpus, package_photos, torchvision_corpus
from img2imu_lib.pretraining.corpus_cache import CachedCorpus, cache_key, dequantize, quantize
from img2imu_lib.pretraining.labelled import LabelledImageFolder

from tests.local_server import serve


def save_photo(path, colour, size=(60, 40)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_folder_with_class_subfolders_and_a_corrupt_file(tmp_path):
    save_photo(tmp_path / "n01" / "a.jpg", (255, 0, 0))
    save_photo(tmp_path / "n02" / "b.png", (0, 0, 255), size=(300, 100))
    (tmp_path / "n02" / "c.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    corpus = ImageFolderCorpus(tmp_path)
    assert len(corpus) == 2  # the corrupt c.jpg is found when the corpus is made, and left out
    images = [corpus[i] for i in range(2)]
    assert all(x.shape == (3, 96, 128) and x.dtype == torch.float32 for x in images)
    assert images[0][0].mean() > 0.95 and images[0][2].mean() < 0.05  # red
    assert corpus.describe()["skipped"] == 1 and set(corpus.skipped) == {tmp_path / "n02" / "c.jpg"}
    assert "c.jpg: not an image" in corpus.skipped[tmp_path / "n02" / "c.jpg"] and corpus.describe()["ignored"] == 1


def test_flat_folder_and_errors(tmp_path):
    save_photo(tmp_path / "x.jpg", (0, 255, 0))
    assert len(ImageFolderCorpus(tmp_path)) == 1
    with pytest.raises(FileNotFoundError, match="empty: no such folder"):
        ImageFolderCorpus(tmp_path / "empty")
    (tmp_path / "x.jpg").write_bytes(b"broken")
    with pytest.raises(ValueError, match="none of its 1 image files can be read: .*x.jpg: not an image"):
        ImageFolderCorpus(tmp_path)


def test_fit_covers_then_crops():
    wide = torch.zeros(3, 50, 400, dtype=torch.uint8)
    wide[:, :, 190:210] = 255  # a bright vertical band in the middle survives the centre crop
    out = fit(wide)
    assert out.shape == (3, 96, 128) and out[:, :, 60:68].mean() > 0.9 and out[:, :, :20].max() == 0


def test_dead_leaves_are_seeded_and_in_range():
    a, b, c = dead_leaves(1), dead_leaves(1), dead_leaves(2)
    assert a.shape == (3, 96, 128) and 0 <= a.min() and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert len(torch.unique(a.reshape(3, -1), dim=1).T) > 20  # many distinct leaves


def test_offline_corpus(tmp_path):
    assert len(package_photos()) >= 20  # scikit-image, matplotlib and scikit-learn sample photographs
    corpus = OfflineCorpus(50, seed=3)
    first = [corpus[i] for i in range(6)]
    assert all(x.shape == (3, 96, 128) for x in first)
    assert torch.equal(OfflineCorpus(50, seed=3)[4], first[4])
    assert not torch.equal(OfflineCorpus(50, seed=4)[4], first[4])
    assert corpus.describe()["size"] == 50
    with pytest.raises(IndexError):
        corpus[50]


def tiny_cifar_archive() -> tuple[bytes, dict[str, str]]:
    """cifar-10-python.tar.gz in the published layout, 2 images per batch file; md5 of each member."""
    rng = np.random.default_rng(0)
    members, md5 = {}, {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        members[name] = pickle.dumps({"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "labels": [0, 1]})
    members["batches.meta"] = pickle.dumps({"label_names": ["airplane", "automobile"]})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
            md5[name] = hashlib.md5(data).hexdigest()
    return buffer.getvalue(), md5


def test_cifar10_download_from_a_local_server(tmp_path, monkeypatch):
    body, md5 = tiny_cifar_archive()

    server = serve(body)
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "url", f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz")
    monkeypatch.setattr(cls, "tgz_md5", hashlib.md5(body).hexdigest())
    monkeypatch.setattr(cls, "train_list", [[f"data_batch_{i}", md5[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(cls, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(cls, "meta", {"filename": "batches.meta", "key": "label_names", "md5": md5["batches.meta"]})
    try:
        corpus = torchvision_corpus("cifar10", tmp_path, download=True)
    finally:
        server.shutdown()
    assert len(corpus) == 10 and corpus[3].shape == (3, 96, 128)
    assert corpus.describe()["name"] == "cifar10"
    with pytest.raises(ValueError, match="expected 'cifar10' or 'stl10'"):
        torchvision_corpus("mnist", tmp_path)


def test_load_corpus_by_name(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("IMG2IMU_CACHE", str(tmp_path / "cache"))
    assert load_corpus("offline", length=10, progress=False).describe()["size"] == 10
    sample = load_corpus("imagenet-sample", data_dir=(shared_data,))
    assert len(sample) == 1000 and sample[0].shape == (3, 96, 128)
    save_photo(tmp_path / "a.jpg", (1, 2, 3))
    assert len(load_corpus(str(tmp_path))) == 1
    with pytest.raises(ValueError, match="expected offline, imagenet-sample, cifar10, stl10 or an image folder"):
        load_corpus("laion")


class Counting(torch.utils.data.Dataset):
    """A deterministic float corpus that counts the images it renders."""

    def __init__(self, length=10, seed=0):
        self.length, self.seed, self.reads, self.skipped = length, seed, 0, 0

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        self.reads += 1
        return torch.rand(3, 96, 128, generator=torch.Generator().manual_seed(self.seed * 1000 + index))

    def describe(self):
        return {"name": "counting test", "size": self.length, "seed": self.seed, "skipped": self.skipped}


def test_cache_returns_the_quantised_images_and_is_written_once(tmp_path):
    base = Counting()
    cached = CachedCorpus(base, tmp_path, progress=False)
    assert cached.path.parent == tmp_path and cached.path.name.startswith("counting_test-")
    assert [p.name for p in tmp_path.iterdir()] == [cached.path.name]  # atomic: no temporary file left
    assert np.load(cached.path).dtype == np.uint8 and np.load(cached.path).shape == (10, 3, 96, 128)
    for i in range(10):
        original = Counting()[i]
        assert torch.equal(cached[i], dequantize(quantize(original)))  # exactly round(255 x) / 255
        assert (cached[i] - original).abs().max() <= 0.5 / 255 + 1e-6  # so within half a grey level
    reads, stamp = base.reads, cached.path.stat().st_mtime_ns
    base.skipped = 3  # a count that changes while a corpus is read is not part of the key
    again = CachedCorpus(base, tmp_path, progress=False)
    assert base.reads - reads == 2 and cached.path.stat().st_mtime_ns == stamp  # only the key's 2 images rendered
    assert torch.equal(again[3], cached[3])
    assert cached.describe() == {"name": "counting test", "size": 10, "seed": 0, "skipped": 0, "cache": str(cached.path)}
    assert again.describe()["skipped"] == 3  # the count as it was when the cache was opened
    with pytest.raises(IndexError, match="index 10 out of range for 10"):
        cached[10]


def test_cache_key_follows_description_and_content(tmp_path):
    keys = {cache_key(Counting(10, 0)), cache_key(Counting(12, 0)), cache_key(Counting(10, 1))}
    assert len(keys) == 3 and cache_key(Counting(10, 0)) == cache_key(Counting(10, 0))

    class Halved(Counting):  # the same description, other images: as after a change to the rendering code
        def __getitem__(self, index):
            return super().__getitem__(index) * 0.5

    assert Halved().describe() == Counting().describe() and cache_key(Halved()) != cache_key(Counting())
    offline = {cache_key(OfflineCorpus(4, seed=0)), cache_key(OfflineCorpus(4, seed=1)), cache_key(OfflineCorpus(6, seed=0))}
    assert len(offline) == 3
    size = OfflineCorpus(4, seed=0, size=(48, 64))
    assert cache_key(size) not in offline and size.describe()["image_size"] == [48, 64]


def test_cache_build_failure_leaves_nothing(tmp_path):
    class Failing(Counting):
        def __getitem__(self, index):
            if index == 7:
                raise OSError("disk on fire")
            return super().__getitem__(index)

    with pytest.raises(OSError, match="disk on fire"):
        CachedCorpus(Failing(), tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_cached_offline_corpus_in_worker_processes(tmp_path):
    corpus = OfflineCorpus(8, seed=5)
    cached = CachedCorpus(corpus, tmp_path, progress=False, workers=2)  # built by 2 workers, in order
    loader = torch.utils.data.DataLoader(cached, batch_size=4, num_workers=2)
    batches = torch.cat(list(loader))
    assert torch.equal(batches, torch.stack([dequantize(quantize(corpus[i])) for i in range(8)]))
    copy = pickle.loads(pickle.dumps(cached))  # as a worker receives it: the memory map is not pickled
    assert copy._array is None and len(pickle.dumps(cached)) < 10_000 and torch.equal(copy[7], batches[7])
    assert cached.describe()["seed"] == 5 and cached.describe()["name"] == "offline"


def test_image_folders_come_back_exactly_and_labels_are_refused(tmp_path):
    save_photo(tmp_path / "photos" / "a.jpg", (10, 200, 30), size=(300, 200))
    save_photo(tmp_path / "photos" / "b.png", (250, 0, 3))
    folder = ImageFolderCorpus(tmp_path / "photos")
    cached = CachedCorpus(folder, tmp_path / "cache", progress=False)
    assert all(torch.equal(cached[i], folder[i]) for i in range(2))  # 8-bit photos: no loss at all
    save_photo(tmp_path / "labelled" / "n01_a.png", (1, 2, 3))
    save_photo(tmp_path / "labelled" / "n02_b.png", (1, 2, 3))
    with pytest.raises(TypeError, match="item 0 of 'labelled' is not a \\(3, H, W\\) tensor.*without labels"):
        CachedCorpus(LabelledImageFolder(tmp_path / "labelled"), tmp_path)
    with pytest.raises(TypeError, match="FakeData has no describe"):
        CachedCorpus(torchvision.datasets.FakeData(2, image_size=(3, 8, 8)), tmp_path)


def test_load_corpus_caches_the_offline_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("IMG2IMU_CACHE", str(tmp_path))
    cached = load_corpus("offline", length=4, seed=2, progress=False)
    assert isinstance(cached, CachedCorpus) and cached.path.parent == tmp_path / "corpora"
    plain = load_corpus("offline", length=4, seed=2, cache=False)
    assert isinstance(plain, OfflineCorpus) and torch.equal(cached[1], dequantize(quantize(plain[1])))
