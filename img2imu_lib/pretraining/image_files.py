"""Image files as the corpora read them: which files of a folder are images, and each one as RGB pixels.

* Which files. ``find_images`` takes the files below a folder named like images (``EXTENSIONS``:
  JPEG, PNG, BMP, GIF, WEBP, TIFF, any case), sorted. Other files (``.txt``, ``Thumbs.db``,
  ``.heic``) and hidden files and folders (``.DS_Store``, macOS's ``._photo.jpg``,
  ``.thumbnails/``) are left out and counted by extension. Links are followed, each folder once,
  so a link back up the tree is no loop.
* What is read. ``read_rgb`` decodes a file with Pillow, whatever its name says: the first frame
  (of an animated GIF or WEBP, a multi-page TIFF), turned upright by its EXIF orientation, as
  uint8 (3, H, W) RGB.
* Which modes. ``to_rgb`` converts every mode whose RGB meaning is clear: bilevel, grey, palette,
  RGB, CMYK, YCbCr, HSV by Pillow's conversion; 16-bit grey (``I;16*``, and ``I`` with values
  0..65535) and float grey (``F`` in [0, 1]) scaled to 0..255, never clipped (Pillow's own
  conversion turns them white or black); transparency composited over white. Other modes (LAB,
  whose Pillow conversion is not colorimetric) and values outside those ranges are refused.
* What is refused, and why. ``UnreadableImage`` names the file and the reason: an empty file;
  bytes that are no image Pillow recognises (a text or HTML page saved under an image's name);
  a file cut short or damaged; pixels with no RGB meaning; too many pixels. The file system's
  errors (no such file, a broken link, permission denied) are raised as they are. ``check_image``
  decodes a file this way once and gives its size, modification time, SHA-256 and pixel count,
  so that a corpus leaves out, before training, every file it could not read.
* PIL's decompression-bomb limit. An image over ``PIL.Image.MAX_IMAGE_PIXELS`` (89.5 million by
  default) is refused, whether Pillow would only warn (``DecompressionBombWarning``, up to twice
  the limit) or refuse (``DecompressionBombError``): the warning is never raised, so
  warnings-as-errors changes nothing. Raise the limit (or set it to None) to read such images.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections import Counter
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
import torch
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from torchvision.transforms.v2 import functional as TF

from ..store import first_line

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # grey modes Pillow reads 16-bit PNG and TIFF files as
TRANSPARENT = ("RGBA", "RGBa", "LA", "PA")  # modes with an alpha channel
CONVERTIBLE = ("1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr", "HSV")  # Pillow's convert("RGB") is right for these


class UnreadableImage(ValueError):
    """An image file that cannot be read as RGB: not an image, damaged, too large, or pixels with no RGB meaning."""


def read_rgb(source: str | Path | BinaryIO) -> torch.Tensor:
    """An image file (a path or a file opened in binary mode) as uint8 (3, H, W) RGB.

    Its first frame (of an animated GIF or WEBP, a multi-page TIFF), turned upright by its EXIF
    orientation, its pixels by ``to_rgb``. Images over ``PIL.Image.MAX_IMAGE_PIXELS`` are refused.
    ``UnreadableImage`` names the file and what was wrong; the file system's errors (no such
    file, permission denied) are raised as they are.
    """
    name = getattr(source, "name", source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below, whatever the filters
            with Image.open(source) as image:
                check_pixel_count(image)
                return TF.pil_to_tensor(to_rgb(upright(image)))
    except UnreadableImage as err:
        raise UnreadableImage(f"{name}: {err}") from None
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Image.DecompressionBombError as err:
        raise UnreadableImage(f"{name}: too large: {err} (raise PIL.Image.MAX_IMAGE_PIXELS to read it)") from err
    except UnidentifiedImageError as err:
        raise UnreadableImage(f"{name}: not an image: its bytes are no JPEG, PNG, BMP, GIF, WEBP or TIFF "
                              f"that Pillow recognises, whatever its name says") from err
    except Exception as err:  # Pillow's decoders raise many types (OSError, SyntaxError, struct.error, ...)
        raise UnreadableImage(f"{name}: cut short or damaged ({type(err).__name__}: {first_line(err)})") from err


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF orientation says (a phone's portrait photo), or itself if it has none."""
    if image.getexif().get(ExifTags.Base.Orientation, 1) in (0, 1):  # 0: not a valid orientation, left as stored
        return image
    return ImageOps.exif_transpose(image)


def check_pixel_count(image: Image.Image) -> None:
    """UnreadableImage if ``image`` has more pixels than ``PIL.Image.MAX_IMAGE_PIXELS`` (None: no limit)."""
    limit, (w, h) = Image.MAX_IMAGE_PIXELS, image.size
    if limit and w * h > limit:
        raise UnreadableImage(f"too large: {w} x {h} = {w * h:,} pixels, over PIL.Image.MAX_IMAGE_PIXELS = {limit:,} "
                              f"(raise it to read this image)")


def to_rgb(image: Image.Image) -> Image.Image:
    """A PIL image of any common mode as 8-bit RGB, its values scaled, never clipped.

    * 16-bit grey (``I;16*``, and ``I`` with values 0..65535, as Pillow reads 16-bit PNG and TIFF):
      v * 255 / 65535, rounded (PIL's own conversion clips at 255, turning such images white);
    * 32-bit float grey (``F``) with values in [0, 1]: 255 v, rounded;
    * transparency (RGBA, LA, PA, a palette or colour key with a transparent entry): composited
      over white, as a viewer shows it on a white page (dropping alpha shows whatever colour the
      transparent pixels happen to hold);
    * ``CONVERTIBLE`` modes (bilevel, grey, palette, RGB, CMYK, YCbCr, HSV): PIL's conversion.

    UnreadableImage for any other mode (LAB, whose PIL conversion is not colorimetric) and for
    ``I`` or ``F`` values outside those ranges.
    """
    if image.mode in SIXTEEN_BIT:
        image = Image.fromarray(_scaled(np.asarray(image), 65535, f"mode {image.mode} (16-bit grey)"))
    elif image.mode == "F":
        image = Image.fromarray(_scaled(np.asarray(image), 1.0, "mode F (32-bit float grey)"))
    if image.mode in TRANSPARENT or (image.mode in ("P", "L", "RGB") and "transparency" in image.info):
        opaque = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(opaque, image.convert("RGBA")).convert("RGB")
    if image.mode not in CONVERTIBLE:
        raise UnreadableImage(f"pixels of mode {image.mode}; expected one of {CONVERTIBLE + TRANSPARENT + SIXTEEN_BIT + ('F',)}")
    return image.convert("RGB")


def _scaled(values: np.ndarray, full: float, what: str) -> np.ndarray:
    """(H, W) values in [0, full] -> uint8 (H, W), round(255 v / full); UnreadableImage for any other value."""
    low, high = float(values.min()), float(values.max())  # NaN propagates into both
    if not (0 <= low and high <= full):
        raise UnreadableImage(f"{what} pixels from {low:g} to {high:g}; expected values in [0, {full:g}]")
    if values.dtype.kind == "f":
        return np.rint(values * np.float32(255 / full)).astype(np.uint8)
    return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)  # exact rounding of v * 255 / 65535


def find_images(root: Path) -> tuple[list[Path], Counter]:
    """The files below ``root`` named like images (``EXTENSIONS``), sorted, and a count of the others.

    Hidden files and folders (names starting with ".") are left out; links are followed, each
    folder once. The count is by extension (``".txt"``, ``"no extension"``), and ``"hidden"``.
    """
    if not root.is_dir():
        raise (NotADirectoryError if root.exists() else FileNotFoundError)(f"{root}: no such folder of images")
    found, ignored, walked = [], Counter(), set()
    for folder, folders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in walked:  # a link to a folder already walked, or back up the tree
            folders.clear()
            continue
        walked.add(real)
        ignored["hidden"] += sum(name.startswith(".") for name in folders + names)
        # real folders before links, each in name order: which name a folder reached twice is walked under is fixed
        folders[:] = sorted((name for name in folders if not name.startswith(".")),
                            key=lambda name: (os.path.islink(os.path.join(folder, name)), name))
        for name in names:
            suffix = Path(name).suffix.lower()
            if name.startswith("."):
                continue
            if suffix in EXTENSIONS:
                found.append(Path(folder) / name)
            else:
                ignored[suffix or "no extension"] += 1
    return sorted(found), +ignored


class CheckedImage(NamedTuple):
    """What ``check_image`` found out about a readable file."""

    size: int  # in bytes
    mtime_ns: int  # its modification time, in ns since the epoch
    sha256: str  # of its bytes, 64 hex digits
    pixels: int  # width x height of its first frame


def check_image(path: Path) -> CheckedImage:
    """Decode ``path`` as ``read_rgb`` does: its size, modification time, SHA-256 and pixel count.

    UnreadableImage (or the file system's OSError) if it cannot be read.
    """
    with open(path, "rb") as file:
        stat = os.fstat(file.fileno())
        if stat.st_size == 0:
            raise UnreadableImage(f"{path}: empty file (0 bytes)")
        height, width = read_rgb(file).shape[1:]
        file.seek(0)
        digest = hashlib.sha256()
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
        return CheckedImage(stat.st_size, stat.st_mtime_ns, digest.hexdigest(), height * width)


def skip_reason(err: Exception, path: Path) -> str:
    """What is wrong with ``path``, for a corpus's ``skipped`` and the log: the file named, then the reason."""
    if isinstance(err, UnreadableImage):
        return str(err)
    return f"{path}: cannot be opened ({err.strerror or type(err).__name__}{'; a broken link?' if path.is_symlink() else ''})"
