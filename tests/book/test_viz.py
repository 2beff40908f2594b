"""Tests of the book's figure helpers and the kernel-free explorer."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from img2imu_lib.book.viz import figure_png, precomputed_explorer, show_image  # noqa: E402


def test_explorer_renders_every_combination_and_links_sliders():
    calls = []

    def render(a, b):
        calls.append((a, b))
        fig, ax = plt.subplots(figsize=(1, 1))
        return figure_png(fig, dpi=20)

    box = precomputed_explorer({"a": [1, 2, 3], "b": ["x", "y"]}, render)
    assert sorted(calls) == [(a, b) for a in (1, 2, 3) for b in ("x", "y")]
    sliders, outer = box.children[:2], box.children[2]
    assert [s.description for s in sliders] == ["a", "b"]
    assert isinstance(outer, widgets.Stack) and len(outer.children) == 3
    inner = outer.children[2]
    assert isinstance(inner, widgets.Stack) and len(inner.children) == 2
    assert all(isinstance(leaf, widgets.Image) and bytes(leaf.value).startswith(b"\x89PNG") for leaf in inner.children)
    sources = {(link.source[0].model_id, link.target[0].model_id) for link in box.links}
    assert all(link.source[1] == "index" and link.target[1] == "selected_index" for link in box.links)
    assert (sliders[0].model_id, outer.model_id) in sources
    assert all((sliders[1].model_id, stack.model_id) in sources for stack in outer.children)


def test_show_image_labels_axes():
    fig, ax = plt.subplots()
    show_image(ax, torch.rand(3, 96, 128), fs=50.0, seconds=10.0, title="t")
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "frequency (Hz)"
    assert ax.get_xlim() == (0.0, 10.0) and ax.get_ylim() == (0.0, 25.0)
    plt.close(fig)
