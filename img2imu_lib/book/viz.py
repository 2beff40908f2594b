"""Figures and precomputed widgets for the book: spectrogram plots with labelled axes, and
explorers that work in the static HTML (every state rendered at execution, switched in the browser)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch


def show_image(ax: plt.Axes, image: torch.Tensor | np.ndarray, *, fs: float, seconds: float, title: str | None = None) -> None:
    """Draw a spectrogram image (3, H, W) in [0, 1] with time (s) and frequency (Hz) axes."""
    rgb = torch.as_tensor(image).clamp(0, 1).permute(1, 2, 0).numpy()  # (H, W, 3)
    ax.imshow(rgb, extent=(0.0, seconds, 0.0, fs / 2), aspect="auto", interpolation="nearest")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    if title:
        ax.set_title(title)


def figure_png(fig: plt.Figure, *, dpi: int = 90) -> bytes:
    """Render a figure to PNG bytes and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def precomputed_explorer(
    controls: dict[str, Sequence[object]],
    render: Callable[..., bytes],
    *,
    progress: Callable[[int], None] | None = None,
) -> widgets.VBox:
    """Sliders over every combination of ``controls``, each combination rendered now by
    ``render(**values) -> PNG bytes``.

    The images sit in nested ``Stack`` widgets whose ``selected_index`` is linked to the
    sliders with ``jslink``, so the explorer needs no kernel: it works the same in Jupyter and
    in the book's static HTML. Cost: one render per combination.
    """
    names = list(controls)
    sliders = [
        widgets.SelectionSlider(options=[(str(v), v) for v in controls[name]], description=name,
                                continuous_update=True, style={"description_width": "initial"})
        for name in names
    ]
    counter = itertools.count(1)
    links: list[widgets.widget_link.Link] = []

    def build(level: int, chosen: dict[str, object]) -> widgets.Widget:
        if level == len(names):
            image = widgets.Image(value=render(**chosen), format="png")
            if progress is not None:
                progress(next(counter))
            return image
        name = names[level]
        children = [build(level + 1, {**chosen, name: v}) for v in controls[name]]
        stack = widgets.Stack(children, selected_index=0)
        links.append(widgets.jslink((sliders[level], "index"), (stack, "selected_index")))
        return stack

    box = widgets.VBox([*sliders, build(0, {})])
    box.links = links  # the browser-side links, kept for inspection
    return box
