"""Tests of the image corpora: folders with bad files, the offline corpus, torchvision's CIFAR-10."""

from __future__ import annotations

import hashlib
import http.server
import io
import pickle
import tarfile
import threading

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from img2imu_lib.corpora import ImageFolderCorpus, OfflineCorpus, dead_leaves, fit, load_corpus, package_photos, torchvision_corpus


def save_photo(path, colour, size=(60, 40)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_folder_with_class_subfolders_and_a_corrupt_file(tmp_path):
    save_photo(tmp_path / "n01" / "a.jpg", (255, 0, 0))
    save_photo(tmp_path / "n02" / "b.png", (0, 0, 255), size=(300, 100))
    (tmp_path / "n02" / "c.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    corpus = ImageFolderCorpus(tmp_path)
    assert len(corpus) == 3
    images = [corpus[i] for i in range(3)]
    assert all(x.shape == (3, 96, 128) and x.dtype == torch.float32 for x in images)
    assert images[0][0].mean() > 0.95 and images[0][2].mean() < 0.05  # red
    assert torch.equal(images[2], images[0])  # the corrupt c.jpg (last) was replaced by the next readable one, a.jpg
    assert corpus.describe()["skipped"] == 1 and corpus.skipped == {tmp_path / "n02" / "c.jpg"}


def test_flat_folder_and_errors(tmp_path):
    save_photo(tmp_path / "x.jpg", (0, 255, 0))
    assert len(ImageFolderCorpus(tmp_path)) == 1
    with pytest.raises(FileNotFoundError, match="no image files"):
        ImageFolderCorpus(tmp_path / "empty")
    (tmp_path / "x.jpg").write_bytes(b"broken")
    with pytest.raises(RuntimeError, match="none of the 1 image files could be decoded"):
        ImageFolderCorpus(tmp_path)[0]


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

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
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


def test_load_corpus_by_name(tmp_path, shared_data):
    assert load_corpus("offline", length=10).describe()["size"] == 10
    sample = load_corpus("imagenet-sample", data_dir=(shared_data,))
    assert len(sample) == 1000 and sample[0].shape == (3, 96, 128)
    save_photo(tmp_path / "a.jpg", (1, 2, 3))
    assert len(load_corpus(str(tmp_path))) == 1
    with pytest.raises(ValueError, match="expected offline, imagenet-sample, cifar10, stl10 or an image folder"):
        load_corpus("laion")
