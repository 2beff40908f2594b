"""Downloads against a local HTTP server on 127.0.0.1 serving archives in the publishers' formats."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from img2imu_lib.datasets import download as dl
from img2imu_lib.datasets import registry
from img2imu_lib.datasets.registry import load_dataset

DAPHNET_ROWS = "".join(f"{15 * i} 40 29 -960 0 0 0 0 0 0 {1 + (i >= 600)}\n" for i in range(1300))
WISDM_ROWS = "".join(f"7,Walking,{1_000_000_000 + 50_000_000 * i},0.1,9.8,0.2;\n" for i in range(400))


def daphnet_zip() -> bytes:
    """The UCI layout: dataset_fog_release/dataset/SxxRyy.txt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("dataset_fog_release/dataset/S01R01.txt", DAPHNET_ROWS)
        z.writestr("dataset_fog_release/dataset/S02R01.txt", DAPHNET_ROWS)
        z.writestr("dataset_fog_release/doc/documentation.html", "<html></html>")
    return buffer.getvalue()


def wisdm_tar() -> bytes:
    """The Fordham layout: WISDM_ar_v1.1/WISDM_ar_v1.1_raw.txt in a .tar.gz."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as t:
        data = WISDM_ROWS.encode()
        member = tarfile.TarInfo("WISDM_ar_v1.1/WISDM_ar_v1.1_raw.txt")
        member.size = len(data)
        t.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


class Server:
    """Serves ``files`` (path -> bytes); paths in ``truncate`` send half the body and hang up."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests += 1
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if self.path in server.truncate else body)
                if self.path in server.truncate:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()  # a listening socket left open warns when collected, perhaps inside another test


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("IMG2IMU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("IMG2IMU_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(registry, "find_data", lambda folder, extra=(): None)  # ignore ../shared/data
    return tmp_path / "cache"


def point(monkeypatch, name: str, url: str, sha256: str | None) -> None:
    info = registry.DATASETS[name]
    new = dl.Download(url, info.download.filename, sha256)
    monkeypatch.setitem(registry.DATASETS, name, registry.DatasetInfo(**{**info.__dict__, "download": new}))


def test_daphnet_download_checked_unpacked_and_reused(server, cache, monkeypatch):
    body = daphnet_zip()
    server.files["/daphnet.zip"] = body
    point(monkeypatch, "daphnet", server.url + "/daphnet.zip", hashlib.sha256(body).hexdigest())
    data = load_dataset("daphnet", download=True)
    assert [(r.subject, r.session) for r in data.recordings] == [(1, 1), (2, 1)]
    assert (cache / "daphnet" / "dataset_fog_release" / "dataset" / "S01R01.txt").exists()
    again = load_dataset("daphnet")  # from the cache, no new request
    assert len(again.recordings) == 2 and server.requests == 1


def test_wisdm_tar_download(server, cache, monkeypatch):
    body = wisdm_tar()
    server.files["/wisdm.tar.gz"] = body
    point(monkeypatch, "wisdm", server.url + "/wisdm.tar.gz", hashlib.sha256(body).hexdigest())
    data = load_dataset("wisdm", download=True)
    assert len(data.recordings) == 1 and data.recordings[0].subject == 7
    windows, labels, _ = data.windows()
    assert windows.shape[1:] == (500, 3) and set(labels) == {0}  # 10 s at 50 Hz


def test_checksum_mismatch_discards_the_file(server, cache, monkeypatch):
    server.files["/daphnet.zip"] = daphnet_zip()
    point(monkeypatch, "daphnet", server.url + "/daphnet.zip", "0" * 64)
    with pytest.raises(ValueError, match=r"SHA-256 of the download does not match 0{64} \(published\); the file was discarded"):
        load_dataset("daphnet", download=True)
    assert not any(p.suffix == ".zip" for p in cache.rglob("*")), "a bad download was kept"


def test_interrupted_download_leaves_nothing(server, cache, monkeypatch):
    server.files["/daphnet.zip"] = daphnet_zip()
    server.truncate.add("/daphnet.zip")
    point(monkeypatch, "daphnet", server.url + "/daphnet.zip", None)
    with pytest.raises(Exception):
        load_dataset("daphnet", download=True)
    assert [p.name for p in cache.rglob("*") if p.is_file()] == []


def test_unpublished_checksum_is_recorded_then_enforced(server, cache, monkeypatch):
    body = daphnet_zip()
    server.files["/daphnet.zip"] = body
    point(monkeypatch, "daphnet", server.url + "/daphnet.zip", None)
    load_dataset("daphnet", download=True)
    record = cache / "daphnet_freezing_of_gait.zip.sha256"
    assert record.read_text().strip() == hashlib.sha256(body).hexdigest()
    # the publisher's file changes: the next fetch notices
    (cache / "daphnet_freezing_of_gait.zip").write_bytes(b"tampered")
    server.files["/daphnet.zip"] = b"another archive"
    with pytest.raises(ValueError, match="recorded at first download"):
        dl.fetch(registry.DATASETS["daphnet"].download, progress=False)


def test_missing_dataset_says_where_and_how(cache):
    with pytest.raises(FileNotFoundError, match=r"dataset 'wisdm' not found: put its files in a folder named 'wisdm'.*download=True"):
        load_dataset("wisdm")
    with pytest.raises(FileNotFoundError, match=r"dataset 'goat' not found.*get it from DANS EASY"):
        load_dataset("goat")
    with pytest.raises(ValueError, match=r"dataset 'imu9'; expected one of"):
        load_dataset("imu9")


def test_unpack_refuses_other_files(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="neither a zip nor a tar archive"):
        dl.unpack(junk, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial-*"))


def test_capture24_zip_download(server, cache, monkeypatch):
    """The ORA layout: capture24/P001.csv.gz ... plus metadata.csv, in a zip."""
    rows = "time,x,y,z,annotation\n" + "".join(f"2016-10-17 03:53:00.{i:06d},0.0,0.0,1.0,7030 sleeping;MET 0.95\n" for i in range(1000))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("capture24/P001.csv.gz", gzip.compress(rows.encode()))
        z.writestr("capture24/metadata.csv", "pid,age,sex\nP001,30-37,F\n")
    body = buffer.getvalue()
    server.files["/capture24.zip"] = body
    point(monkeypatch, "capture24", server.url + "/capture24.zip", hashlib.sha256(body).hexdigest())
    data = load_dataset("capture24", download=True)
    assert [(r.subject, r.fs, len(r.signal)) for r in data.recordings] == [(1, 50.0, 500)]
