"""Risk-of-bias plots in the style of robvis (McGuinness & Higgins 2021, Res Synth Methods 12:55-61).

Pure module (no Django). Two plots, each as SVG and PNG:

* the traffic-light plot: one row per study, one coloured circle with a symbol per domain and overall, the
  domain names and the judgement key below;
* the summary plot: one horizontal 100%-stacked bar per domain and overall, the share of studies (or of the
  analysis weight, when weights are given, as robvis does with `weighted = TRUE`) at each judgement.

Every call builds its own ``matplotlib.figure.Figure`` and never touches pyplot. The whole figure is one axes in
inches (origin top left), so the layout is worked out from measured text widths, not left to matplotlib.
Colours are robvis's "cochrane" palette, except that "no information" is grey (robvis uses blue) so that the
five colours still read in greyscale together with the symbols.

A row is ``(study_label, {domain: judgement}, overall)``; domains are "D1", "D2", ... as in robvis, with names
per tool (RoB 2, Sterne et al. 2019 BMJ 366:l4898; RoB 1, Higgins et al. 2011 BMJ 343:d5928; ROBINS-I, Sterne et
al. 2016 BMJ 355:i4919). A domain missing from a row is drawn as an empty cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, Rectangle
from matplotlib.textpath import TextToPath

from core.figures import png_bytes, svg_bytes

__all__ = [
    "COLOURS",
    "DOMAINS",
    "summary_bar_figure",
    "summary_bar_png",
    "summary_bar_svg",
    "traffic_light_figure",
    "traffic_light_png",
    "traffic_light_svg",
]

Row = tuple[str, Mapping[str, str], str]

_FONT = "DejaVu Sans"
_SIZE = 8.0
_TITLE_SIZE = 10.0
_PT = 1 / 72  # inches per point
_MARGIN = 0.15
_CELL = 0.32
_RADIUS = 0.13
_LINE = 0.17  # legend line pitch, inches
_MAX_LABEL = 200.0  # points
_BAR_WIDTH = 4.0  # inches for 100%
_BAR_PITCH = 0.3
_BAR_HEIGHT = 0.2
_GRID = "#d9d9d9"

# robvis "cochrane" colours (robvis R/rob_colours.R); grey for no information.
COLOURS = {
    "low": "#02c100",
    "some_concerns": "#e2df07",
    "high": "#bf0000",
    "critical": "#820000",
    "no_information": "#9e9e9e",
}


@dataclass(frozen=True)
class _Judgement:
    key: str  # as normalised from the input
    label: str
    colour: str
    symbol: str
    rank: int  # order in the key and in the bars


_JUDGEMENTS: dict[str, dict[str, _Judgement]] = {
    "rob2": {
        "low": _Judgement("low", "Low", COLOURS["low"], "+", 0),
        "some_concerns": _Judgement("some_concerns", "Some concerns", COLOURS["some_concerns"], "−", 1),
        "high": _Judgement("high", "High", COLOURS["high"], "×", 2),
        "no_information": _Judgement("no_information", "No information", COLOURS["no_information"], "?", 4),
    },
    "rob1": {
        "low": _Judgement("low", "Low", COLOURS["low"], "+", 0),
        "unclear": _Judgement("unclear", "Unclear", COLOURS["some_concerns"], "?", 1),
        "high": _Judgement("high", "High", COLOURS["high"], "×", 2),
        "no_information": _Judgement("no_information", "No information", COLOURS["no_information"], "?", 4),
    },
    "robins": {
        "low": _Judgement("low", "Low", COLOURS["low"], "+", 0),
        "moderate": _Judgement("moderate", "Moderate", COLOURS["some_concerns"], "−", 1),
        "serious": _Judgement("serious", "Serious", COLOURS["high"], "×", 2),
        "critical": _Judgement("critical", "Critical", COLOURS["critical"], "!", 3),
        "no_information": _Judgement("no_information", "No information", COLOURS["no_information"], "?", 4),
    },
}
# Spellings accepted for each tool's judgements (RoB 1 "unclear" in a RoB 2 row means some concerns, etc.).
_ALIASES: dict[str, dict[str, str]] = {
    "rob2": {"unclear": "some_concerns", "moderate": "some_concerns", "serious": "high", "ni": "no_information"},
    "rob1": {"some_concerns": "unclear", "moderate": "unclear", "serious": "high", "ni": "no_information"},
    "robins": {"some_concerns": "moderate", "unclear": "moderate", "high": "serious", "ni": "no_information"},
}

DOMAINS: dict[str, tuple[str, ...]] = {
    "rob2": (
        "Bias arising from the randomisation process",
        "Bias due to deviations from intended intervention",
        "Bias due to missing outcome data",
        "Bias in measurement of the outcome",
        "Bias in selection of the reported result",
    ),
    "rob1": (
        "Random sequence generation (selection bias)",
        "Allocation concealment (selection bias)",
        "Blinding of participants and personnel (performance bias)",
        "Blinding of outcome assessment (detection bias)",
        "Incomplete outcome data (attrition bias)",
        "Selective reporting (reporting bias)",
        "Other sources of bias",
    ),
    "robins": (
        "Bias due to confounding",
        "Bias in selection of participants into the study",
        "Bias in classification of interventions",
        "Bias due to deviations from intended interventions",
        "Bias due to missing data",
        "Bias in measurement of outcomes",
        "Bias in selection of the reported result",
    ),
}
ANALYSIS_WEIGHTS = "the analysis weights"
_TOOL_NAMES = {"rob2": "RoB 2", "rob1": "Cochrane RoB 1", "robins": "ROBINS-I"}

# See synthesis/plots.py: the SVG backend reads these from the global rcParams while it writes; the lock keeps
# one thread's rc_context from being undone by another's in the middle of a save.
_SALT = "sieve-grading-plots"  # fixes the SVG element ids, so the same input gives the same bytes


# ---------------------------------------------------------------------------------------------------------------
# Public API


def traffic_light_svg(rows: Sequence[Row], *, tool: str, title: str) -> bytes:
    """The traffic-light plot as a standalone SVG document (UTF-8) with <title> and <desc>."""
    fig = traffic_light_figure(rows, tool=tool, title=title)
    return svg_bytes(fig, salt=_SALT, title=title, desc=traffic_light_description(rows, tool=tool))


def traffic_light_png(rows: Sequence[Row], *, tool: str, title: str, dpi: int = 150) -> bytes:
    fig = traffic_light_figure(rows, tool=tool, title=title)
    return png_bytes(fig, title=title, desc=traffic_light_description(rows, tool=tool), dpi=dpi)


def summary_bar_svg(
    rows: Sequence[Row],
    *,
    weights: Mapping[str, float] | None = None,
    tool: str,
    title: str,
    weighted_by: str = ANALYSIS_WEIGHTS,
) -> bytes:
    """The summary plot as SVG; bars weighted by `weights` when given (`weighted_by` says what they are)."""
    fig = summary_bar_figure(rows, weights=weights, tool=tool, title=title, weighted_by=weighted_by)
    desc = summary_bar_description(rows, weights=weights, tool=tool, weighted_by=weighted_by)
    return svg_bytes(fig, salt=_SALT, title=title, desc=desc)


def summary_bar_png(
    rows: Sequence[Row],
    *,
    weights: Mapping[str, float] | None = None,
    tool: str,
    title: str,
    dpi: int = 150,
    weighted_by: str = ANALYSIS_WEIGHTS,
) -> bytes:
    fig = summary_bar_figure(rows, weights=weights, tool=tool, title=title, weighted_by=weighted_by)
    desc = summary_bar_description(rows, weights=weights, tool=tool, weighted_by=weighted_by)
    return png_bytes(fig, title=title, desc=desc, dpi=dpi)


# ---------------------------------------------------------------------------------------------------------------
# Input


def _domain_codes(tool: str) -> list[str]:
    if tool not in DOMAINS:
        raise ValueError(f"tool must be one of {', '.join(DOMAINS)}, not {tool!r}")
    return [f"D{i}" for i in range(1, len(DOMAINS[tool]) + 1)]


def _judgement(value: str, tool: str, where: str) -> _Judgement:
    key = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    key = _ALIASES[tool].get(key, key)
    if key not in _JUDGEMENTS[tool]:
        allowed = ", ".join(j.label.lower() for j in _JUDGEMENTS[tool].values())
        raise ValueError(f"{where}: unknown {_TOOL_NAMES[tool]} judgement {value!r}; expected {allowed}")
    return _JUDGEMENTS[tool][key]


@dataclass(frozen=True)
class _Study:
    label: str
    cells: dict[str, _Judgement | None]  # domain code (and "Overall") to judgement


def _parse(rows: Sequence[Row], tool: str) -> tuple[list[str], list[_Study]]:
    codes = _domain_codes(tool)
    studies: list[_Study] = []
    for label, domains, overall in rows:
        unknown = sorted(set(domains) - set(codes))
        if unknown:
            raise ValueError(
                f"{label}: unknown domain {', '.join(unknown)}; {_TOOL_NAMES[tool]} has {codes[0]}-{codes[-1]}"
            )
        cells: dict[str, _Judgement | None] = {
            code: _judgement(domains[code], tool, f"{label} {code}") if domains.get(code) else None for code in codes
        }
        cells["Overall"] = _judgement(overall, tool, f"{label} overall") if overall else None
        studies.append(_Study(str(label), cells))
    if not studies:
        raise ValueError("no studies to plot")
    return codes, studies


# ---------------------------------------------------------------------------------------------------------------
# Descriptions (the SVG <desc>)


def _counts(studies: list[_Study], column: str, weights: Mapping[str, float] | None, tool: str) -> dict[str, float]:
    shares = dict.fromkeys(_JUDGEMENTS[tool], 0.0)
    for study in studies:
        judgement = study.cells[column]
        if judgement is not None:
            shares[judgement.key] += 1.0 if weights is None else float(weights.get(study.label, 0.0))
    return shares


def traffic_light_description(rows: Sequence[Row], *, tool: str) -> str:
    codes, studies = _parse(rows, tool)
    counts = _counts(studies, "Overall", None, tool)
    parts = [f"{int(n)} {_JUDGEMENTS[tool][key].label.lower()}" for key, n in counts.items() if n]
    overall = ", ".join(parts) if parts else "no overall judgements"
    return (
        f"Traffic-light plot of {_TOOL_NAMES[tool]} judgements for {len(studies)} "
        f"{'study' if len(studies) == 1 else 'studies'} across {len(codes)} domains. Overall: {overall}."
    )


def summary_bar_description(
    rows: Sequence[Row], *, weights: Mapping[str, float] | None, tool: str, weighted_by: str = ANALYSIS_WEIGHTS
) -> str:
    codes, studies = _parse(rows, tool)
    basis = f"weighted by {weighted_by}" if weights is not None else "as a share of studies"
    lines = []
    for code in [*codes, "Overall"]:
        shares = _shares(studies, code, weights, tool)
        text = ", ".join(f"{_JUDGEMENTS[tool][k].label.lower()} {100 * v:.0f}%" for k, v in shares.items() if v)
        lines.append(f"{code}: {text or 'no judgements'}")
    return f"Summary of {_TOOL_NAMES[tool]} judgements {basis}, per domain. " + "; ".join(lines) + "."


def _shares(studies: list[_Study], column: str, weights: Mapping[str, float] | None, tool: str) -> dict[str, float]:
    counts = _counts(studies, column, weights, tool)
    total = sum(counts.values())
    return {key: (value / total if total > 0 else 0.0) for key, value in counts.items()}


# ---------------------------------------------------------------------------------------------------------------
# Text measuring


_TEXT_TO_PATH = TextToPath()


@lru_cache(maxsize=4096)
def _text_width(text: str, size: float = _SIZE, bold: bool = False) -> float:
    """Width of `text` in points, measured from the glyph outlines of DejaVu Sans."""
    if not text:
        return 0.0
    # The advance width from FreeType's layout (as the SVG writer lays the text out): a hundred times faster than
    # the extents of the glyph outlines, which made a plot of 300 studies take seconds.
    prop = FontProperties(family=_FONT, weight="bold" if bold else "normal", size=size)
    width, _, _ = _TEXT_TO_PATH.get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def _truncate(text: str, max_width: float) -> str:
    if _text_width(text) <= max_width:
        return text
    while text and _text_width(text + "…") > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure of width × height inches with one axes in inches, y pointing down."""
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    return fig, ax


def _text(ax: Axes, x: float, y: float, text: str, **kwargs: Any) -> None:
    kwargs.setdefault("fontsize", _SIZE)
    kwargs.setdefault("va", "center")
    kwargs.setdefault("parse_math", False)  # a "$" in a study label or outcome name is text, not mathtext
    ax.text(x, y, text, family=_FONT, **kwargs)


def _key(ax: Axes, x: float, y: float, tool: str) -> None:
    """The judgement key: a small circle with its symbol and the label, in one line."""
    _text(ax, x, y, "Judgement", fontweight="bold")
    x += _text_width("Judgement", bold=True) * _PT + 0.15
    for judgement in _JUDGEMENTS[tool].values():
        _circle(ax, x + 0.07, y, judgement, radius=0.07, size=6.5)
        _text(ax, x + 0.18, y, judgement.label)
        x += 0.18 + _text_width(judgement.label) * _PT + 0.18


def _key_width(tool: str) -> float:
    width = _text_width("Judgement", bold=True) * _PT + 0.15
    return width + sum(0.36 + _text_width(j.label) * _PT for j in _JUDGEMENTS[tool].values())


def _circle(ax: Axes, x: float, y: float, judgement: _Judgement, *, radius: float, size: float) -> None:
    # add_artist, not add_patch: the axes limits are fixed, and add_patch's update of the data limits from every
    # circle's Bezier outline cost most of the drawing time of a large plot.
    ax.add_artist(
        Circle(
            (x, y), radius, facecolor=judgement.colour, edgecolor="#333333", linewidth=0.5, gid=f"rob-{judgement.key}"
        )
    )
    # White on the dark colours, black on yellow and grey, as robvis does.
    colour = "white" if judgement.rank in (0, 2, 3) else "black"
    _text(ax, x, y, judgement.symbol, ha="center", fontsize=size, fontweight="bold", color=colour)


# ---------------------------------------------------------------------------------------------------------------
# Traffic-light plot


def traffic_light_figure(rows: Sequence[Row], *, tool: str, title: str) -> Figure:
    codes, studies = _parse(rows, tool)
    columns = [*codes, "Overall"]
    labels = [_truncate(study.label, _MAX_LABEL) for study in studies]
    label_width = max([_text_width(label) for label in labels] + [_text_width("Study", bold=True)]) * _PT + 0.15
    legend = [f"{code}: {name}" for code, name in zip(codes, DOMAINS[tool], strict=True)]
    grid_width = _CELL * len(columns)
    content = max(
        label_width + grid_width,
        max(_text_width(line, _SIZE) for line in legend) * _PT,
        _key_width(tool),
        _text_width(title, _TITLE_SIZE, bold=True) * _PT,
    )
    width = 2 * _MARGIN + content
    title_height = 0.35
    grid_height = _CELL * (len(studies) + 1)
    legend_height = 0.15 + _LINE * (len(legend) + 1) + 0.2
    height = 2 * _MARGIN + title_height + grid_height + legend_height
    fig, ax = _canvas(width, height)

    x0, y0 = _MARGIN, _MARGIN
    _text(ax, x0, y0 + 0.12, title, fontsize=_TITLE_SIZE, fontweight="bold")
    top = y0 + title_height
    grid_left = x0 + label_width
    # Header band and one band per row, as robvis's light grid.
    ax.add_patch(Rectangle((grid_left, top), grid_width, _CELL, facecolor="#eeeeee", edgecolor="none"))
    _text(ax, x0, top + _CELL / 2, "Study", fontweight="bold")
    for j, column in enumerate(columns):
        cx = grid_left + _CELL * (j + 0.5)
        _text(ax, cx, top + _CELL / 2, column if column != "Overall" else "All", ha="center", fontweight="bold")
    ax.add_patch(
        Rectangle(
            (grid_left + _CELL * len(codes), top), _CELL, grid_height, facecolor="none", edgecolor="#666666", lw=0.6
        )
    )
    for i, (study, label) in enumerate(zip(studies, labels, strict=True)):
        cy = top + _CELL * (i + 1.5)
        ax.plot([x0, grid_left + grid_width], [cy + _CELL / 2] * 2, color=_GRID, linewidth=0.5)
        _text(ax, x0, cy, label)
        for j, column in enumerate(columns):
            judgement = study.cells[column]
            if judgement is not None:
                _circle(ax, grid_left + _CELL * (j + 0.5), cy, judgement, radius=_RADIUS, size=_SIZE)

    y = top + grid_height + 0.15 + _LINE / 2
    _text(ax, x0, y, "Domains (All = overall judgement)", fontweight="bold")
    for line in legend:
        y += _LINE
        _text(ax, x0, y, line)
    _key(ax, x0, y + _LINE + 0.06, tool)
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Summary plot


def summary_bar_figure(
    rows: Sequence[Row],
    *,
    weights: Mapping[str, float] | None = None,
    tool: str,
    title: str,
    weighted_by: str = ANALYSIS_WEIGHTS,
) -> Figure:
    """One 100%-stacked bar per domain and overall. Each rectangle has gid "bar-<column>-<judgement>"."""
    codes, studies = _parse(rows, tool)
    if weights is not None:
        bad = [label for label, w in weights.items() if not w >= 0]
        if bad:
            raise ValueError(f"weights must be non-negative numbers: {', '.join(bad)}")
        if sum(float(weights.get(s.label, 0.0)) for s in studies) <= 0:
            raise ValueError("no study in the plot carries any weight")
    columns = [*codes, "Overall"]
    names = [*(f"{c}: {n}" for c, n in zip(codes, DOMAINS[tool], strict=True)), "Overall risk of bias"]
    names = [_truncate(name, 260.0) for name in names]
    label_width = max(_text_width(name) for name in names) * _PT + 0.15
    content = max(label_width + _BAR_WIDTH + 0.1, _key_width(tool), _text_width(title, _TITLE_SIZE, bold=True) * _PT)
    width = 2 * _MARGIN + content
    title_height = 0.35
    if weights is not None:
        title_height += 0.15
    bars_height = _BAR_PITCH * len(columns)
    height = 2 * _MARGIN + title_height + bars_height + 0.35 + 0.3
    fig, ax = _canvas(width, height)

    x0, y0 = _MARGIN, _MARGIN
    _text(ax, x0, y0 + 0.12, title, fontsize=_TITLE_SIZE, fontweight="bold")
    if weights is not None:
        _text(ax, x0, y0 + 0.3, f"Bars weighted by {weighted_by}", fontsize=7.0, style="italic")
    top = y0 + title_height
    left = x0 + label_width
    for i, (column, name) in enumerate(zip(columns, names, strict=True)):
        cy = top + _BAR_PITCH * (i + 0.5)
        _text(ax, x0, cy, name, fontweight="bold" if column == "Overall" else "normal")
        x = left
        for key, share in _shares(studies, column, weights, tool).items():
            if share <= 0:
                continue
            judgement = _JUDGEMENTS[tool][key]
            bar_width = _BAR_WIDTH * share
            ax.add_patch(
                Rectangle(
                    (x, cy - _BAR_HEIGHT / 2),
                    bar_width,
                    _BAR_HEIGHT,
                    facecolor=judgement.colour,
                    edgecolor="#333333",
                    linewidth=0.4,
                    gid=f"bar-{column}-{key}",
                )
            )
            x += bar_width
    axis_y = top + bars_height + 0.05
    ax.plot([left, left + _BAR_WIDTH], [axis_y, axis_y], color="#333333", linewidth=0.6)
    for tick in (0, 25, 50, 75, 100):
        tx = left + _BAR_WIDTH * tick / 100
        ax.plot([tx, tx], [axis_y, axis_y + 0.05], color="#333333", linewidth=0.6)
        _text(ax, tx, axis_y + 0.14, f"{tick}%", ha="center", fontsize=7.0)
    _key(ax, x0, axis_y + 0.45, tool)
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Output
