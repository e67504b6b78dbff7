"""The PRISMA flow diagram as PNG, drawn by matplotlib from the SVG that screening/prisma.py writes.

Written by hand: turning SVG into PNG needs cairo (cairosvg) or a browser, neither of which a bare machine has,
while matplotlib is already here. This is not a general SVG renderer: it draws the few elements `render_svg`
emits (rect, text with an optional rotate(-90 ...) transform, line with an arrow head), so the PNG is the same
drawing as the SVG, from one layout. One SVG pixel is one point, so font sizes carry over unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from defusedxml import ElementTree
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from core.figures import png_bytes

_NS = "{http://www.w3.org/2000/svg}"
_ROTATE = re.compile(r"rotate\(\s*(-?[\d.]+)")
_ANCHOR = {"start": "left", "middle": "center", "end": "right"}


def _num(element: ElementTree.Element, name: str, default: float = 0.0) -> float:
    return float(element.get(name, default))


def render_png(svg: str, *, dpi: int = 144) -> bytes:
    """The diagram of `svg` (the output of prisma.render_svg) as PNG at `dpi` (72 = one pixel per SVG pixel)."""
    root = ElementTree.fromstring(svg)
    width, height = _num(root, "width"), _num(root, "height")
    base_size = _num(root, "font-size", 12)
    fig = Figure(figsize=(width / 72, height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # SVG's y runs down
    ax.set_axis_off()

    def draw(element: ElementTree.Element, inherited: dict[str, str]) -> None:
        tag = element.tag.removeprefix(_NS)
        style = {**inherited, **{k: v for k, v in element.attrib.items() if k in ("font-size", "font-weight")}}
        if tag == "rect":
            x, y, w, h = (_num(element, k) for k in ("x", "y", "width", "height"))
            fill, stroke = element.get("fill", "none"), element.get("stroke", "none")
            radius = _num(element, "rx")
            common: dict[str, Any] = {
                "facecolor": fill if fill != "none" else "none",
                "edgecolor": stroke if stroke != "none" else "none",
                "linewidth": _num(element, "stroke-width", 0),
            }
            if radius:
                ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle=f"round,pad=0,rounding_size={radius}", **common))
            else:
                ax.add_patch(Rectangle((x, y), w, h, **common))
        elif tag == "text":
            rotation = _ROTATE.search(element.get("transform", ""))
            ax.text(
                _num(element, "x"),
                _num(element, "y"),
                element.text or "",
                fontsize=float(style.get("font-size", base_size)),
                fontweight=style.get("font-weight", "normal"),
                ha=_ANCHOR[element.get("text-anchor", "start")],
                va="baseline",
                rotation=-float(rotation.group(1)) if rotation else 0,
                rotation_mode="anchor",
                family="DejaVu Sans",
            )
        elif tag == "line":
            start = (_num(element, "x1"), _num(element, "y1"))
            end = (_num(element, "x2"), _num(element, "y2"))
            arrow = "-|>" if element.get("marker-end") else "-"
            ax.add_patch(
                FancyArrowPatch(
                    start,
                    end,
                    arrowstyle=arrow,
                    mutation_scale=10,
                    linewidth=_num(element, "stroke-width", 1),
                    color=element.get("stroke", "#000000"),
                    shrinkA=0,
                    shrinkB=0,
                )
            )
        if tag in ("svg", "g"):
            for child in element:
                draw(child, style)

    draw(root, {})
    title = root.findtext(f"{_NS}title") or "PRISMA 2020 flow diagram"
    desc = root.findtext(f"{_NS}desc") or ""
    return png_bytes(fig, title=title, desc=desc, dpi=dpi)
