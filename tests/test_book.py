"""A smoke build of the whole book: papermill + Jupyter Book with -W, then offline checks of the HTML."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

EXTERNAL = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"((?:https?:)?//[^\"]+)\"", re.I)
LOCAL_ASSET = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"#?]+)", re.I)


@pytest.fixture(scope="module")
def html(smoke_book) -> Path:
    return smoke_book / "_build" / "html"


def pages(html: Path) -> list[Path]:
    """The book's pages (not the theme's templates under _static/)."""
    return sorted(p for p in html.rglob("*.html") if "_static" not in p.relative_to(html).parts)


def test_every_chapter_is_built(html):
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        page = html / "notebooks" / f"{notebook.stem}.html"
        assert page.exists(), f"{page} missing"
        assert "<img" in page.read_text(), f"{page.name} has no figure"
    assert (html / "book" / "bibliography.html").exists()


def test_no_script_or_stylesheet_from_another_host(html):
    found = {(p.name, m) for p in pages(html) for m in EXTERNAL.findall(p.read_text())}
    assert not found, f"pages load from external hosts: {sorted(found)[:5]}"


def test_local_assets_exist(html):
    for page in pages(html):
        for asset in LOCAL_ASSET.findall(page.read_text()):
            assert (page.parent / asset).resolve().exists(), f"{page.name} loads {asset}, which is not in the build"


def test_math_and_widgets_are_served_locally(html):
    page = (html / "notebooks" / "02_conversion.html").read_text()
    assert "vendor/mathjax/tex-chtml.js" in page
    assert "vendor/requirejs/require.js" in page and "vendor/html-manager/embed-amd.js" in page
    # widget state saved at execution: the explorer's image stacks and their browser-side links
    assert "application/vnd.jupyter.widget-state+json" in page
    assert '"StackModel"' in page and '"LinkModel"' in page and '"ImageModel"' in page
    assert (html / "vendor" / "mathjax" / "output" / "chtml" / "fonts").is_dir()


def test_equations_are_labelled(html):
    page = (html / "notebooks" / "02_conversion.html").read_text()
    assert 'id="equation-eq-stft"' in page and 'id="equation-eq-minmax"' in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian package chromium); .ci/run installs it")
def test_math_and_widgets_render_offline_in_a_browser(html, tmp_path):
    """Open the built page from disk in headless Chromium and read the DOM after scripts ran."""
    page = html / "notebooks" / "02_conversion.html"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
               "--virtual-time-budget=15000", "--dump-dom", page.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<mjx-container") >= 5, "MathJax did not typeset the equations"
    assert dom.count("noUi-handle") >= 3, "the explorer's sliders were not drawn"
    assert "widget-image" in dom, "the explorer's image was not drawn"
