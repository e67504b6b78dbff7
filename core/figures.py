"""What every plot module shares (synthesis/plots.py, grading/plots.py): reading numbers out of summaries, and
writing a matplotlib Figure as byte-stable, accessible SVG or as PNG. Pure: no Django.

SVG output sets matplotlib's global `svg.fonttype` and `svg.hashsalt` while it saves, so every module must save
under this one lock: two locks would let one plot's settings leak into another's file."""

import io
import math
import re
import threading
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from matplotlib.figure import Figure

SVG_FONT_FAMILY = "'DejaVu Sans', Arial, sans-serif"
_SVG_LOCK = threading.Lock()


def number(value: Any) -> float | None:
    """A finite float, or None for None, NaN, infinities, booleans and anything that is not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if math.isfinite(found) else None


def bound(value: Any) -> float | None:
    """Like `number` but keeps infinities: a CI bound at infinity still runs off the axis."""
    if value is None or isinstance(value, bool):
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(found) else found


def svg_bytes(fig: Figure, *, title: str, desc: str, salt: str) -> bytes:
    """The figure as SVG: text kept as text, no date, element ids fixed by `salt` (the same input gives the same
    bytes), marked as an image with its <title> and <desc>."""
    buffer = io.StringIO()
    with _SVG_LOCK, matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        # No "Title" here: matplotlib would write a second <title>; ours goes first, beside <desc>.
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Description": desc})
    svg = buffer.getvalue().replace("font-family: 'DejaVu Sans'", f"font-family: {SVG_FONT_FAMILY}")
    svg = re.sub(r"<svg\b[^>]*>", lambda match: _open_tag(match.group(0), title, desc), svg, count=1)
    return svg.encode("utf-8")


def _open_tag(tag: str, title: str, desc: str) -> str:
    """The <svg> tag marked as an image, followed by its accessible name and description."""
    return f'{tag[:-1]} role="img">\n <title>{escape(title)}</title>\n <desc>{escape(desc)}</desc>'


def png_bytes(fig: Figure, *, title: str, desc: str, dpi: int) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Title": title, "Description": desc, "Software": None})
    return buffer.getvalue()
