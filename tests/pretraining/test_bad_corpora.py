"""Image folders and corpus caches as users hand them over: every bad input gets a clear error or a
counted, named skip, never a silently wrong image.

Each test is named for the input it tries. Pixel values are exact (8-bit, or float to 1e-6)
unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms.v2 import functional as TF

from img2imu_lib.pretraining.corpora import ImageFolderCorpus, fit
from img2imu_lib.pretraining.image_files import UnreadableImage, read_rgb, to_rgb
from img2imu_lib.pretraining.corpus_cache import CachedCorpus, cache_key, dequantize, quantize
from img2imu_lib.pretraining.folder_checks import check_cache_path
from img2imu_lib.pretraining.config import PretrainConfig
from img2imu_lib.pretraining.moco import MoCoConfig
from img2imu_lib.pretraining.trainer import pretrain
from img2imu_lib.store import UnreadableFile, cache_dir

# the smallest pre-training run: one MoCo step of 8 images
CONFIG = PretrainConfig(batch_size=8, epochs=1, warmup_epochs=0, moco=MoCoConfig(queue_size=32), max_steps=1,
                        lr_peak=1e-3, lr_end=1e-4)


def save(path: Path, image: Image.Image, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def photo(path: Path, colour=(200, 30, 60), size=(60, 40)) -> Path:
    return save(path, Image.new("RGB", size, colour))


def noise_photo(path: Path, seed: int, size=(60, 40)) -> Path:
    """A JPEG of random pixels: big enough that cutting it short leaves a header and no whole image."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return save(path, Image.fromarray(pixels), quality=95)


def only_image(folder: Path) -> torch.Tensor:
    """The one image of a folder, through the corpus: float (3, 96, 128)."""
    corpus = ImageFolderCorpus(folder)
    assert len(corpus) == 1 and not corpus.skipped, corpus.skipped
    return corpus[0]


# --- pixels of every mode come out as the RGB image they show ----------------------------------------


def test_16_bit_grey_png_mid_grey_comes_out_mid_grey(tmp_path):
    path = save(tmp_path / "g16.png", Image.fromarray(np.full((40, 60), 32768, np.uint16)))
    assert Image.open(path).mode in ("I;16", "I")  # PIL's own convert("RGB") makes this 255: white
    image = only_image(tmp_path)
    assert torch.allclose(image, torch.full_like(image, 128 / 255), atol=1e-6)  # round(32768 * 255 / 65535) = 128


def test_16_bit_grey_tiff_keeps_black_white_and_the_steps_between(tmp_path):
    values = np.array([[0, 257, 32767, 65535]], np.uint16).repeat(4, axis=0)  # 257 is one 8-bit step
    save(tmp_path / "g16.tif", Image.fromarray(values))
    assert read_rgb(tmp_path / "g16.tif")[0, 0].tolist() == [0, 1, 127, 255]


def test_32_bit_integer_tiff_with_16_bit_values_is_scaled(tmp_path):
    save(tmp_path / "i32.tif", Image.fromarray(np.full((4, 4), 32768, np.int32)))
    assert Image.open(tmp_path / "i32.tif").mode == "I" and read_rgb(tmp_path / "i32.tif").unique().tolist() == [128]


@pytest.mark.parametrize("value", [-1, 70_000])
def test_32_bit_integer_tiff_outside_16_bits_is_refused(tmp_path, value):
    save(tmp_path / "i32.tif", Image.fromarray(np.full((4, 4), value, np.int32)))
    with pytest.raises(UnreadableImage, match=rf"i32.tif: mode I .*pixels from {value} to {value}; expected values in \[0, 65535\]"):
        read_rgb(tmp_path / "i32.tif")


def test_float_tiff_in_0_1_is_scaled_not_clipped(tmp_path):
    save(tmp_path / "f.tif", Image.fromarray(np.full((4, 4), 0.5, np.float32)))
    assert Image.open(tmp_path / "f.tif").mode == "F"  # PIL's convert("RGB") makes this 0: black
    assert read_rgb(tmp_path / "f.tif").unique().tolist() == [128]


@pytest.mark.parametrize("value", [2.0, float("nan"), -0.5])
def test_float_tiff_outside_0_1_or_nan_is_refused(tmp_path, value):
    save(tmp_path / "f.tif", Image.fromarray(np.full((4, 4), value, np.float32)))
    with pytest.raises(UnreadableImage, match=r"f.tif: mode F .*expected values in \[0, 1\]"):
        read_rgb(tmp_path / "f.tif")


def test_grey_l_and_bilevel_1_images(tmp_path):
    save(tmp_path / "l.png", Image.new("L", (8, 8), 100))
    assert read_rgb(tmp_path / "l.png").unique().tolist() == [100]
    bilevel = Image.new("1", (8, 8), 0)
    bilevel.putpixel((0, 0), 1)
    save(tmp_path / "one.png", bilevel)
    rgb = read_rgb(tmp_path / "one.png")
    assert rgb[:, 0, 0].tolist() == [255, 255, 255] and rgb[:, 1, 1].tolist() == [0, 0, 0]


def test_rgba_png_transparent_pixels_come_out_white_not_their_hidden_colour(tmp_path):
    rgba = Image.new("RGBA", (3, 1))
    rgba.putdata([(255, 0, 0, 0), (255, 0, 0, 255), (255, 0, 0, 128)])  # transparent red, opaque red, half
    save(tmp_path / "rgba.png", rgba)
    pixels = read_rgb(tmp_path / "rgba.png")[:, 0].T.tolist()
    assert pixels[0] == [255, 255, 255] and pixels[1] == [255, 0, 0]
    assert pixels[2][0] == 255 and abs(pixels[2][1] - 127) <= 1  # half red over white: (255, 127, 127)


def test_la_png_grey_with_alpha(tmp_path):
    la = Image.new("LA", (2, 1))
    la.putdata([(100, 0), (100, 255)])
    save(tmp_path / "la.png", la)
    assert read_rgb(tmp_path / "la.png")[:, 0].T.tolist() == [[255, 255, 255], [100, 100, 100]]


def test_palette_png_with_a_transparent_entry(tmp_path):
    palette = Image.new("P", (2, 1))
    palette.putpalette([255, 0, 0, 0, 255, 0])  # entry 0 red, 1 green
    palette.putdata([0, 1])
    save(tmp_path / "p.png", palette, transparency=0)
    assert Image.open(tmp_path / "p.png").mode == "P"
    assert read_rgb(tmp_path / "p.png")[:, 0].T.tolist() == [[255, 255, 255], [0, 255, 0]]


def test_rgb_png_with_a_transparent_colour_key(tmp_path):
    rgb = Image.new("RGB", (2, 1))
    rgb.putdata([(1, 2, 3), (9, 9, 9)])
    save(tmp_path / "key.png", rgb, transparency=(1, 2, 3))
    assert read_rgb(tmp_path / "key.png")[:, 0].T.tolist() == [[255, 255, 255], [9, 9, 9]]


def test_cmyk_tiff(tmp_path):
    cmyk = Image.new("CMYK", (3, 1))
    cmyk.putdata([(255, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 255)])  # cyan, white (no ink), black
    save(tmp_path / "cmyk.tif", cmyk)
    assert read_rgb(tmp_path / "cmyk.tif")[:, 0].T.tolist() == [[0, 255, 255], [255, 255, 255], [0, 0, 0]]


def test_lab_tiff_is_skipped_not_converted_wrongly(tmp_path):
    assert Image.new("LAB", (1, 1), (255, 128, 128)).convert("RGB").getpixel((0, 0)) != (255, 255, 255)  # PIL's
    with pytest.raises(UnreadableImage, match="pixels of mode LAB; expected one of"):
        to_rgb(Image.new("LAB", (4, 4), (255, 128, 128)))
    photo(tmp_path / "a.png")
    save(tmp_path / "lab.tif", Image.new("LAB", (4, 4), (255, 128, 128)))
    corpus = ImageFolderCorpus(tmp_path)
    assert len(corpus) == 1 and "lab.tif: pixels of mode LAB" in corpus.skipped[tmp_path / "lab.tif"]


def test_jpeg_with_exif_orientation_comes_out_upright(tmp_path):
    halves = np.zeros((40, 60, 3), np.uint8)
    halves[:, :30] = (255, 0, 0)  # left red, right blue as stored
    halves[:, 30:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 3  # orientation: rotate 180 degrees to show
    save(tmp_path / "rotated.jpg", Image.fromarray(halves), exif=exif, quality=95)
    rgb = read_rgb(tmp_path / "rotated.jpg").float()
    assert rgb[2, :, :25].mean() > 240 and rgb[0, :, 35:].mean() > 240  # shown: left blue, right red


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    save(tmp_path / "anim.gif", frames[0], save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(tmp_path / "anim.gif").n_frames == 2
    assert read_rgb(tmp_path / "anim.gif")[:, 0, 0].tolist() == [255, 0, 0]


def test_multi_page_tiff_gives_its_first_page(tmp_path):
    pages = [Image.new("RGB", (20, 20), colour) for colour in ((0, 255, 0), (255, 0, 0))]
    save(tmp_path / "pages.tif", pages[0], save_all=True, append_images=pages[1:])
    assert read_rgb(tmp_path / "pages.tif")[:, 0, 0].tolist() == [0, 255, 0]


@pytest.mark.parametrize("name, options", [("a.webp", {"lossless": True}), ("a.tiff", {}), ("a.bmp", {}),
                                           ("png_named.jpg", {"format": "PNG"})])
def test_webp_tiff_bmp_and_a_png_named_jpg(tmp_path, name, options):
    save(tmp_path / name, Image.new("RGB", (128, 96), (10, 200, 30)), **options)
    image = only_image(tmp_path)
    assert torch.allclose(image[:, 0, 0], torch.tensor([10, 200, 30]) / 255, atol=1e-6)


def test_one_pixel_image_fills_the_frame(tmp_path):
    photo(tmp_path / "dot.png", (10, 200, 30), size=(1, 1))
    image = only_image(tmp_path)
    assert torch.allclose(image, (torch.tensor([10, 200, 30]) / 255).reshape(3, 1, 1).expand(3, 96, 128), atol=1e-6)


def smooth(h: int, w: int) -> torch.Tensor:
    """float (3, h, w) in [0, 1]: ramps across and down, and a slow wave."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    return torch.stack([xx, yy, (torch.sin(xx * 40) + 1) / 2])


@pytest.mark.parametrize("shape", [(50, 3000), (3000, 500), (7, 1001)])
def test_very_wide_or_tall_image_fits_as_if_resized_whole(shape):
    image = smooth(*shape)
    h, w = shape
    scale = max(96 / h, 128 / w)  # the slow, obvious reference: resize all of it, then crop the middle
    whole = torch.nn.functional.interpolate(image[None], size=(max(96, math.ceil(h * scale)), max(128, math.ceil(w * scale))),
                                            mode="bilinear", antialias=True, align_corners=False)[0]
    top, left = round((whole.shape[1] - 96) / 2), round((whole.shape[2] - 128) / 2)
    reference = whole[:, top:top + 96, left:left + 128].clamp(0, 1)
    assert (fit(image) - reference).abs().max() < 0.01  # the middle is cut out first, to within the filter's placement


def test_panorama_of_4_by_200000_pixels_fits_without_a_huge_intermediate(tmp_path, monkeypatch):
    strip = np.zeros((4, 200_000, 3), np.uint8)
    strip[:, 100_000 - 1:100_000 + 1] = 255  # a white band in the middle, 2 pixels wide: 48 once scaled 24 times
    save(tmp_path / "panorama.png", Image.fromarray(strip))
    resize, sizes = TF.resize, []
    monkeypatch.setattr(TF, "resize", lambda image, size, **kw: sizes.append(size) or resize(image, size, **kw))
    image = only_image(tmp_path)  # resized whole it would be 96 x 4.8 million pixels (1.4 GB) before the crop
    assert sizes and max(h * w for h, w in sizes) <= 4 * 96 * 128
    assert image.shape == (3, 96, 128) and image[:, :, 52:76].min() > 0.9
    assert image[:, :, :16].max() == 0 and image[:, :, -16:].max() == 0


# --- images over PIL's decompression-bomb limit -----------------------------------------------------


def test_image_over_the_pixel_limit_is_skipped_even_under_warnings_as_errors(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    photo(tmp_path / "ok.png", size=(20, 20))  # 400 pixels
    photo(tmp_path / "warned.png", size=(40, 30))  # 1,200: PIL only warns (DecompressionBombWarning)
    photo(tmp_path / "refused.png", size=(50, 50))  # 2,500, over twice the limit: PIL refuses
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under python -W error or pytest -W error
        corpus = ImageFolderCorpus(tmp_path)
        images = [corpus[i] for i in range(len(corpus))]
    assert len(images) == 1 and corpus.describe()["skipped"] == 2
    assert "warned.png: too large: 40 x 30 = 1,200 pixels, over PIL.Image.MAX_IMAGE_PIXELS = 1,000" in \
        corpus.skipped[tmp_path / "warned.png"]
    assert "refused.png: too large" in corpus.skipped[tmp_path / "refused.png"]
    assert "2500 pixels" in corpus.skipped[tmp_path / "refused.png"]
    assert "skipped 2 of 3 image files" in caplog.text and "warned.png" in caplog.text  # logged, not a warning


def test_image_over_the_pixel_limit_is_kept_once_the_limit_is_raised(tmp_path, monkeypatch):
    photo(tmp_path / "big.png", size=(40, 30))
    photo(tmp_path / "small.png", size=(4, 3))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert list(ImageFolderCorpus(tmp_path).skipped) == [tmp_path / "big.png"]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)
    assert len(ImageFolderCorpus(tmp_path)) == 2


# --- files that are not images, or not whole -------------------------------------------------------

BAD_FILES = {
    "zero-byte jpg": ("empty.jpg", lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    "text named jpg": ("notes.jpg", lambda p: p.write_text("not a picture"), "not an image"),
    "html named png": ("page.png", lambda p: p.write_text("<html>403 Forbidden</html>"), "not an image"),
    "truncated jpeg": ("cut.jpg", lambda p: p.write_bytes(noise_photo(p, 1).read_bytes()[:700]), "cut short or damaged"),
    "truncated png": ("cut.png", lambda p: p.write_bytes(save(p, Image.fromarray(
        np.random.default_rng(2).integers(0, 256, (40, 60, 3), dtype=np.uint8))).read_bytes()[:900]), "cut short or damaged"),
    "jpeg header only": ("head.jpg", lambda p: p.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "cut short"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_is_skipped_counted_and_named_when_the_corpus_is_made(tmp_path, kind):
    name, write, reason = BAD_FILES[kind]
    photo(tmp_path / "a.png", (255, 0, 0))
    photo(tmp_path / "z.png", (0, 0, 255))
    write(tmp_path / name)
    corpus = ImageFolderCorpus(tmp_path)
    assert corpus.files == [tmp_path / "a.png", tmp_path / "z.png"]  # left out: no image stands in for it
    assert list(corpus.skipped) == [tmp_path / name] and corpus.describe()["skipped"] == 1
    assert corpus.skipped[tmp_path / name].startswith(f"{tmp_path / name}: ")
    assert reason in corpus.skipped[tmp_path / name]
    assert [corpus[i][:, 0, 0].argmax().item() for i in range(2)] == [0, 2]  # red, blue


def test_file_without_read_permission(tmp_path, monkeypatch):
    from img2imu_lib.pretraining import image_files

    photo(tmp_path / "a.png")
    locked = photo(tmp_path / "locked.png")

    def refusing_open(path, *args, **kwargs):  # as the file system answers a file of mode 000 (root reads any)
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(image_files, "open", refusing_open, raising=False)
    corpus = ImageFolderCorpus(tmp_path)
    assert corpus.files == [tmp_path / "a.png"] and corpus.skipped[locked] == f"{locked}: cannot be opened (Permission denied)"


def test_folder_with_junk_hidden_files_and_subfolders(tmp_path):
    photo(tmp_path / "a.jpg")
    photo(tmp_path / "sub" / "deeper" / "b.png")
    for name in ("notes.txt", "Thumbs.db", "desktop.ini", "README"):
        (tmp_path / name).write_text("junk")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "._a.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble resource fork")  # macOS's copy of metadata
    photo(tmp_path / ".thumbnails" / "a.jpg")  # a hidden folder of thumbnails: not training data
    (tmp_path / "photos.jpg").mkdir()  # a folder named like an image
    photo(tmp_path / "photos.jpg" / "c.png")
    corpus = ImageFolderCorpus(tmp_path)
    assert corpus.files == [tmp_path / "a.jpg", tmp_path / "photos.jpg" / "c.png", tmp_path / "sub" / "deeper" / "b.png"]
    assert not corpus.skipped and corpus.describe()["ignored"] == 7
    assert dict(corpus.ignored) == {"hidden": 3, ".txt": 1, ".db": 1, ".ini": 1, "no extension": 1}


def test_links_to_files_and_folders_a_loop_and_a_broken_link(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    photo(root / "real" / "a.png")
    photo(outside / "b.png")
    photo(outside / "folder" / "c.png")
    (root / "link_to_file.png").symlink_to(outside / "b.png")
    (root / "linked_folder").symlink_to(outside / "folder")
    (root / "real" / "up").symlink_to(root)  # a loop back to the top
    (root / "again").symlink_to(root / "real")  # a second way to a folder: its images are taken once
    (root / "broken.jpg").symlink_to(tmp_path / "nowhere.jpg")
    corpus = ImageFolderCorpus(root)
    assert corpus.files == [root / "link_to_file.png", root / "linked_folder" / "c.png", root / "real" / "a.png"]
    assert list(corpus.skipped) == [root / "broken.jpg"] and "a broken link?" in corpus.skipped[root / "broken.jpg"]


def test_empty_folder_and_a_folder_of_junk_only(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty: no image files \(.jpg, .jpeg"):
        ImageFolderCorpus(tmp_path / "empty")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "IMG_0001.HEIC").write_bytes(b"....ftypheic")
    (tmp_path / "junk" / ".DS_Store").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match=r"junk: no image files .*found; ignored 2 files \((.heic: 1, hidden: 1|hidden: 1, .heic: 1)\)"):
        ImageFolderCorpus(tmp_path / "junk")


def test_missing_folder_and_a_file_given_as_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing: no such folder of images"):
        ImageFolderCorpus(tmp_path / "missing")
    with pytest.raises(NotADirectoryError, match="a.png: no such folder of images"):
        ImageFolderCorpus(photo(tmp_path / "a.png"))


def test_folder_where_every_file_is_bad_is_an_error_when_it_is_made(tmp_path):
    (tmp_path / "a.jpg").write_text("text")
    (tmp_path / "b.png").write_bytes(b"")
    (tmp_path / "c.jpg").write_bytes(noise_photo(tmp_path / "c.jpg", 3).read_bytes()[:600])
    (tmp_path / "d.gif").write_text("GIF89a")
    with pytest.raises(ValueError, match=r"none of its 4 image files can be read: .*a.jpg: not an image.*; "
                                         r".*b.png: empty file.*; .*c.jpg: cut short or damaged .* \.\.\."):
        ImageFolderCorpus(tmp_path)


# --- skipped counts reach the main process and the run record ----------------------------------------


def folder_with_bad_files(root: Path, good: int = 6) -> Path:
    for i in range(good):
        noise_photo(root / f"{i:02d}.jpg", seed=i)
    (root / "03a.jpg").write_text("not an image")
    (root / "04a.png").write_bytes(b"")
    (root / "05a.jpg").write_bytes(noise_photo(root / "05a.jpg", 99).read_bytes()[:700])
    return root


def test_corrupt_files_are_counted_with_dataloader_workers(tmp_path):
    corpus = ImageFolderCorpus(folder_with_bad_files(tmp_path))
    batches = list(DataLoader(corpus, batch_size=2, num_workers=2))  # each worker reads its own copy
    assert sum(len(b) for b in batches) == 6 and corpus.describe()["skipped"] == 3
    assert sorted(p.name for p in corpus.skipped) == ["03a.jpg", "04a.png", "05a.jpg"]


def test_files_that_change_or_vanish_after_the_check_are_counted_across_workers(tmp_path):
    corpus = ImageFolderCorpus(folder_with_bad_files(tmp_path))
    expected = [corpus[i] for i in range(6)]
    noise_photo(corpus.files[2], seed=50, size=(61, 40))  # replaced by another picture
    corpus.files[4].unlink()
    images = torch.cat(list(DataLoader(corpus, batch_size=2, num_workers=2)))
    assert corpus.describe()["skipped"] == 3 + 2 and corpus.unreadable == [tmp_path / "02.jpg", tmp_path / "04.jpg"]
    assert torch.equal(images[2], expected[3]) and torch.equal(images[4], expected[5])  # the next readable ones
    assert torch.equal(images[0], expected[0])


def test_pretraining_record_counts_skipped_files_with_workers(tmp_path):
    folder = tmp_path / "photos"
    for i in range(8):
        noise_photo(folder / f"{i}.jpg", seed=i)
    (folder / "bad.jpg").write_text("not an image")
    (folder / "cut.jpg").write_bytes(noise_photo(folder / "cut.jpg", 9).read_bytes()[:700])
    config = dataclasses.replace(CONFIG, corpus=str(folder), num_workers=2)
    record = pretrain(config, tmp_path / "run", progress=False)
    assert record["steps"] == 1 and record["corpus"]["skipped"] == 2 and record["corpus"]["size"] == 8


# --- the check's results, kept per folder -----------------------------------------------------------

LONG_AGO_NS = 1_600_000_000 * 10**9  # September 2020


def backdated(folder: Path, ns: int = LONG_AGO_NS) -> Path:
    """Every file below ``folder`` last modified at ``ns``: long enough ago for its check to be kept."""
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(ns, ns))
    return folder


def counting_decoder(monkeypatch) -> list[str]:
    """The names of the files that the check decodes from now on, in order."""
    from img2imu_lib.pretraining import image_files

    decoded, read_rgb = [], image_files.read_rgb
    def counting(source):
        decoded.append(Path(source.name).name)
        return read_rgb(source)

    monkeypatch.setattr(image_files, "read_rgb", counting)
    return decoded


def assert_same_corpus(a: ImageFolderCorpus, b: ImageFolderCorpus) -> None:
    assert a.files == b.files and a.skipped == b.skipped and a.fingerprint == b.fingerprint
    assert a.describe() == b.describe() and np.array_equal(a._stats, b._stats)


def fresh(folder: Path) -> ImageFolderCorpus:
    """The corpus of ``folder`` from a full check: its kept results removed first."""
    check_cache_path(folder, cache_dir() / "corpora").unlink(missing_ok=True)
    return ImageFolderCorpus(folder)


def test_folder_made_again_decodes_nothing_and_gives_the_same_corpus(tmp_path, monkeypatch):
    folder = backdated(folder_with_bad_files(tmp_path / "photos"))
    decoded = counting_decoder(monkeypatch)
    first = fresh(folder)
    assert len(decoded) == 8  # 6 photos and 2 bad files (the empty one is refused before decoding)
    again = ImageFolderCorpus(folder)
    assert decoded[8:] == [] and len(again) == 6 and len(again.skipped) == 3
    assert_same_corpus(again, first)
    assert torch.equal(again[5], first[5])
    kept = json.loads(check_cache_path(folder, cache_dir() / "corpora").read_text())
    assert len(kept["files"]) == 9  # by name relative to the folder: [size, mtime, sha256, pixels] or why skipped
    assert kept["files"]["04a.png"][2:] == [None, "empty file (0 bytes)", Image.MAX_IMAGE_PIXELS]


def test_touched_or_rewritten_file_is_checked_again(tmp_path, monkeypatch):
    folder = backdated(folder_with_bad_files(tmp_path / "photos"))
    first = fresh(folder)
    decoded = counting_decoder(monkeypatch)
    later = LONG_AGO_NS + 10**9
    os.utime(folder / "01.jpg", ns=(later, later))  # touched: the same bytes
    touched = ImageFolderCorpus(folder)
    assert decoded == ["01.jpg"]
    assert (touched.files, touched.skipped, touched.fingerprint) == (first.files, first.skipped, first.fingerprint)
    noise_photo(folder / "02.jpg", seed=77)  # other bytes, and a bad file mended
    noise_photo(folder / "03a.jpg", seed=78)
    for name in ("02.jpg", "03a.jpg"):
        os.utime(folder / name, ns=(later, later))
    decoded.clear()
    rewritten = ImageFolderCorpus(folder)
    assert sorted(decoded) == ["02.jpg", "03a.jpg"]
    assert rewritten.fingerprint != first.fingerprint and len(rewritten) == 7
    assert folder / "03a.jpg" in rewritten.files
    assert_same_corpus(rewritten, fresh(folder))


def test_file_of_the_same_size_and_time_but_other_bytes_is_checked_again_only_when_recent(tmp_path, monkeypatch):
    photo(tmp_path / "a.png", (255, 0, 0))
    decoded = counting_decoder(monkeypatch)
    ImageFolderCorpus(tmp_path)
    ImageFolderCorpus(tmp_path)  # modified just now, so it could change again within the same time stamp
    assert decoded == ["a.png", "a.png"]


@pytest.mark.parametrize("garbage", ["not JSON", "empty", "cut short", "a JSON list", "another folder",
                                     "another format", "entries of the wrong kind"])
def test_garbage_check_cache_is_ignored_and_replaced(tmp_path, monkeypatch, garbage):
    folder = backdated(folder_with_bad_files(tmp_path / "photos"))
    first = fresh(folder)
    cache = check_cache_path(folder, cache_dir() / "corpora")
    valid = json.loads(cache.read_text())
    cache.write_text({"not JSON": "\x00\ufffd{garbage", "empty": "", "cut short": cache.read_text()[:200],
                      "a JSON list": "[1, 2, 3]",
                      "another folder": json.dumps({**valid, "root": str(tmp_path)}),
                      "another format": json.dumps({**valid, "format": 0}),
                      "entries of the wrong kind": json.dumps({**valid, "files": {
                          name: ["x", entry[1], "not a sha", True] for name, entry in valid["files"].items()}}),
                      }[garbage])
    decoded = counting_decoder(monkeypatch)
    again = ImageFolderCorpus(folder)
    assert len(decoded) == 8  # all checked again
    assert_same_corpus(again, first)
    assert json.loads(cache.read_text()) == valid  # and written anew


def test_kept_checks_follow_the_pixel_limit(tmp_path, monkeypatch):
    photo(tmp_path / "big.png", size=(40, 30))  # 1,200 pixels
    photo(tmp_path / "small.png", size=(4, 3))
    backdated(tmp_path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)
    assert len(fresh(tmp_path)) == 2
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # kept as readable, but now over the limit
    lowered = ImageFolderCorpus(tmp_path)
    assert list(lowered.skipped) == [tmp_path / "big.png"] and lowered.skipped == fresh(tmp_path).skipped
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # kept as too large, but there is no limit now
    assert len(ImageFolderCorpus(tmp_path)) == 2


def test_file_that_could_not_be_opened_is_tried_again(tmp_path, monkeypatch):
    from img2imu_lib.pretraining import image_files

    photo(tmp_path / "a.png")
    locked = photo(tmp_path / "locked.png")
    backdated(tmp_path)

    def refusing(path, *args, **kwargs):  # as the file system answers a file of mode 000
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(image_files, "open", refusing, raising=False)
    assert list(fresh(tmp_path).skipped) == [locked]
    monkeypatch.undo()
    assert len(ImageFolderCorpus(tmp_path)) == 2  # its permissions mended: no kept "skipped" stands in the way


# --- the corpus cache --------------------------------------------------------------------------------


class Ramp(Dataset):
    """A deterministic corpus of 6 small images; image ``i`` is ``i / 10`` everywhere, or NaN at ``nan_at``."""

    def __init__(self, nan_at: int | None = None) -> None:
        self.nan_at = nan_at

    def __len__(self) -> int:
        return 6

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.full((3, 8, 8), float("nan") if index == self.nan_at else index / 10)

    def describe(self) -> dict:
        return {"name": "ramp", "size": 6}


def test_folder_that_changes_while_the_cache_is_built(tmp_path):
    folder = tmp_path / "photos"
    for i in range(5):
        noise_photo(folder / f"{i}.jpg", seed=i)
    corpus = ImageFolderCorpus(folder)
    noise_photo(folder / "3.jpg", seed=30, size=(70, 40))  # changed after the check, before the cache is built
    with pytest.raises(ValueError, match=r"\{'skipped': 0, 'ignored': 0\} became \{'skipped': 1.*while it was cached.*"
                                         r"nothing was cached"):
        CachedCorpus(corpus, tmp_path / "cache", progress=False)
    assert not list((tmp_path / "cache").glob("*.npy"))
    again = ImageFolderCorpus(folder)  # made anew, it sees the new file: another fingerprint, another cache
    assert again.fingerprint != corpus.fingerprint and cache_key(again) != cache_key(corpus)
    cached = CachedCorpus(again, tmp_path / "cache", progress=False)
    assert torch.equal(cached[3], again[3]) and cached.describe()["skipped"] == 0


def test_cache_of_a_folder_reports_its_skipped_files(tmp_path):
    corpus = ImageFolderCorpus(folder_with_bad_files(tmp_path / "photos"))
    cached = CachedCorpus(corpus, tmp_path / "cache", progress=False, workers=2)
    assert cached.describe()["skipped"] == 3 and cached.describe()["fingerprint"] == corpus.fingerprint
    assert all(torch.equal(cached[i], corpus[i]) for i in range(6))


class Planted:
    """Unpickled, it makes the folder ``marker``: the proof that reading the file ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def pickled_object_npy(path: Path, marker: Path) -> None:
    np.save(path, np.array([Planted(marker)], dtype=object), allow_pickle=True)


def npz_archive(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        buffer = io.BytesIO()
        np.save(buffer, np.zeros((6, 3, 8, 8), np.uint8))
        archive.writestr("arr_0.npy", buffer.getvalue())


DAMAGED_CACHES = {
    "truncated": lambda p, m: p.write_bytes(p.read_bytes()[:300]),
    "header only": lambda p, m: p.write_bytes(p.read_bytes()[:128]),
    "zero bytes": lambda p, m: p.write_bytes(b""),
    "another shape": lambda p, m: np.save(p, np.zeros((2, 3, 8, 8), np.uint8)),
    "another dtype": lambda p, m: np.save(p, np.zeros((6, 3, 8, 8), np.float32)),
    "pickled object": pickled_object_npy,
    "raw pickle": lambda p, m: p.write_bytes(pickle.dumps(Planted(m))),
    "not numpy at all": lambda p, m: p.write_text("hello"),
    "npz archive": lambda p, m: npz_archive(p),
}


@pytest.mark.parametrize("damage", list(DAMAGED_CACHES))
def test_damaged_or_planted_cache_file_is_removed_and_built_again(tmp_path, damage):
    marker = tmp_path / "the planted pickle ran"
    cached = CachedCorpus(Ramp(), tmp_path / "cache", progress=False)
    DAMAGED_CACHES[damage](cached.path, marker)
    with pytest.warns(RuntimeWarning, match=r"cache.*\.npy: (not a readable corpus cache|holds .*expected a corpus "
                                            r"cache of uint8 \(6, 3, 8, 8\)).*; removed it, building it again"):
        again = CachedCorpus(Ramp(), tmp_path / "cache", progress=False)
    assert again.path == cached.path and not marker.exists()
    assert all(torch.equal(again[i], dequantize(quantize(Ramp()[i]))) for i in range(6))


def test_cache_file_replaced_after_it_was_opened_is_refused_where_it_is_read(tmp_path):
    cached = CachedCorpus(Ramp(), tmp_path, progress=False)
    np.save(cached.path, np.zeros((2, 3, 8, 8), np.uint8))
    worker_copy = pickle.loads(pickle.dumps(cached))  # as a DataLoader worker gets it: it opens the file itself
    with pytest.raises(UnreadableFile, match=r"holds uint8 \(2, 3, 8, 8\), expected a corpus cache of uint8 \(6, 3, 8, 8\)"):
        worker_copy[0]


def test_cache_on_a_disk_without_room_fails_before_rendering(tmp_path, monkeypatch):
    from img2imu_lib.pretraining import corpus_cache

    monkeypatch.setattr(corpus_cache.shutil, "disk_usage", lambda path: type("Usage", (), {"free": 100})())
    with pytest.raises(OSError, match=r"0.00 GiB free; the corpus cache ramp-.*\.npy needs"):
        CachedCorpus(Ramp(), tmp_path / "cache", progress=False)
    assert not list((tmp_path / "cache").iterdir())


def test_corpus_giving_a_nan_image_is_not_cached(tmp_path):
    with pytest.raises(ValueError, match=r"images 0 to 5 of ramp-.*with NaN or infinity.*nothing was cached"):
        CachedCorpus(Ramp(nan_at=4), tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_index_past_the_end_of_a_folder_is_an_error_not_another_image(tmp_path):
    photo(tmp_path / "a.png")
    corpus = ImageFolderCorpus(tmp_path)
    for index in (1, -1):
        with pytest.raises(IndexError, match=f"index {index} out of range for 1 images"):
            corpus[index]
