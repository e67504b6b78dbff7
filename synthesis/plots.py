"""Forest and funnel plots of one meta-analysis, drawn with matplotlib as SVG and PNG.

Pure module (no Django). The input is the summary dict that ``synthesis.stats.analyse()`` returns; any number in
it may be None. Every call builds its own ``matplotlib.figure.Figure`` and never touches pyplot, so plots can be
drawn from several threads of a web server or a Celery worker at once.

The forest plot follows the RevMan/Cochrane layout: a table on the left (study, the data per group, weight, the
effect with its 95% CI as text) and the plot column on the right (a square per study with its CI, the line of no
effect, diamonds for the subtotals and the total, the prediction interval as a thin bar), then the heterogeneity
and overall-effect lines and the two "Favours ..." labels under the axis. Positions are worked out in points
from measured text widths before anything is drawn, so columns never overlap whatever the labels are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator
from matplotlib.transforms import Affine2D, Transform

from core.figures import bound as _bound
from core.figures import number as _number
from core.figures import png_bytes, svg_bytes

__all__ = [
    "forest_description",
    "forest_figure",
    "forest_png",
    "forest_svg",
    "format_effect",
    "format_p",
    "funnel_description",
    "funnel_figure",
    "funnel_png",
    "funnel_svg",
    "heterogeneity_text",
]

# DejaVu Sans ships inside matplotlib, so layout and PNGs are the same on every machine; the SVG names fallbacks
# for viewers that render its (selectable) text with their own fonts.
_FONT = "DejaVu Sans"
_SIZE = 8.0  # table text, points
_TITLE_SIZE = 10.0
_NOTE_SIZE = 7.0
_ROW = 13.0  # row pitch, points
_GAP = 10.0  # between table columns
_MARGIN = 10.0
_AXIS_PAD = 5.0  # between the last row and the x-axis, points
_MAX_LABEL = 240.0  # study labels are cut to this width, points
_MIN_FUNNEL_STUDIES = 10

_SQUARE_DICHOTOMOUS = "#2b5797"
_SQUARE_CONTINUOUS = "#2e7d32"
_GREY = "#555555"

_DICHOTOMOUS = {"RR", "OR", "RD"}
_CONTINUOUS = {"MD", "SMD"}
_MEASURE_TITLES = {
    "RR": "Risk Ratio",
    "OR": "Odds Ratio",
    "RD": "Risk Difference",
    "MD": "Mean Difference",
    "SMD": "Std. Mean Difference",
}
_MEASURE_PROSE = {
    "RR": "risk ratio",
    "OR": "odds ratio",
    "RD": "risk difference",
    "MD": "mean difference",
    "SMD": "standardised mean difference",
}
_FIXED_METHODS = {"MH": ("M-H", "Mantel-Haenszel"), "IV": ("IV", "inverse variance"), "PETO": ("Peto", "Peto")}
_DIRECTIONS = ("lower_is_better", "higher_is_better")

# Log-axis ranges RevMan offers, each symmetric around 1: (upper limit, ticks).
_LOG_SCALES: tuple[tuple[float, tuple[float, ...]], ...] = (
    (2.0, (0.5, 0.7, 1.0, 1.5, 2.0)),
    (5.0, (0.2, 0.5, 1.0, 2.0, 5.0)),
    (10.0, (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)),
    (20.0, (0.05, 0.2, 1.0, 5.0, 20.0)),
    (100.0, (0.01, 0.1, 1.0, 10.0, 100.0)),
    (1000.0, (0.001, 0.1, 1.0, 10.0, 1000.0)),
)

# The SVG backend reads these two settings from the global rcParams while it writes: "none" keeps text as text
# (selectable, small) and a fixed salt makes its element ids, hence the bytes, the same for the same input. The
# lock keeps one thread's rc_context from being undone by another's in the middle of a save.
_SALT = "sieve-synthesis-plots"  # fixes the SVG element ids, so the same input gives the same bytes


# ---------------------------------------------------------------------------------------------------------------
# Public API


def forest_svg(
    summary: Mapping[str, Any], *, title: str, intervention: str, control: str, direction: str, unit: str = ""
) -> bytes:
    """The forest plot as a standalone SVG document (UTF-8) with <title> and <desc>."""
    fig = forest_figure(
        summary, title=title, intervention=intervention, control=control, direction=direction, unit=unit
    )
    return svg_bytes(fig, salt=_SALT, title=title, desc=forest_description(summary))


def forest_png(
    summary: Mapping[str, Any],
    *,
    title: str,
    intervention: str,
    control: str,
    direction: str,
    unit: str = "",
    dpi: int = 150,
) -> bytes:
    """The forest plot as a PNG image."""
    fig = forest_figure(
        summary, title=title, intervention=intervention, control=control, direction=direction, unit=unit
    )
    return png_bytes(fig, title=title, desc=forest_description(summary), dpi=dpi)


def funnel_svg(summary: Mapping[str, Any], *, title: str) -> bytes:
    """The funnel plot as SVG; ValueError when fewer than 10 studies have a standard error."""
    fig = funnel_figure(summary, title=title)
    return svg_bytes(fig, salt=_SALT, title=title, desc=funnel_description(summary))


def funnel_png(summary: Mapping[str, Any], *, title: str, dpi: int = 150) -> bytes:
    """The funnel plot as PNG; ValueError when fewer than 10 studies have a standard error."""
    fig = funnel_figure(summary, title=title)
    return png_bytes(fig, title=title, desc=funnel_description(summary), dpi=dpi)


# ---------------------------------------------------------------------------------------------------------------
# Number formatting, the RevMan way


def format_p(p: float | None) -> str:
    """RevMan's P: "P < 0.00001", "P < 0.0001", "P = 0.0004", "P = 0.003", "P = 0.29"."""
    if p is None:
        return ""
    if p < 0.00001:
        return "P < 0.00001"
    if p < 0.0001:
        return "P < 0.0001"
    if p < 0.001:
        return f"P = {p:.4f}"
    if p < 0.01:
        return f"P = {p:.3f}"
    return f"P = {min(p, 1.0):.2f}"


def _fmt_value(value: float, ratio: bool) -> str:
    if ratio and 0 < value < 0.01:
        return f"{value:.2g}"  # "0.00" would read as no risk at all
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def format_effect(effect: float | None, low: float | None, high: float | None, *, ratio: bool) -> str:
    """ "0.49 [0.34, 0.70]"; "Not estimable" without an effect."""
    if effect is None:
        return "Not estimable"
    text = _fmt_value(effect, ratio)
    if low is None or high is None:
        return text
    return f"{text} [{_fmt_bound(low, ratio)}, {_fmt_bound(high, ratio)}]"


def _fmt_bound(value: float, ratio: bool) -> str:
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return _fmt_value(value, ratio)


def _fmt_data(value: Any) -> str:
    """A count or a mean/SD as entered: integers without decimals, others to at most two."""
    number = _number(value)
    if number is None:
        return ""
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _fmt_tau2(tau2: float) -> str:
    if 0 < tau2 < 0.01:
        return f"{tau2:.2g}"
    return f"{tau2:.2f}"


def _fmt_tick(value: float) -> str:
    text = f"{value:g}"
    return "0" if text == "-0" else text


def heterogeneity_text(
    *, tau2: float | None, q: float | None, df: float | None, p: float | None, i2: float | None, random: bool
) -> str | None:
    """ "Heterogeneity: Tau² = 0.31; Chi² = 152.23, df = 12 (P < 0.00001); I² = 92%" or None without numbers."""
    if df is not None and df < 1:
        return "Heterogeneity: Not applicable"
    parts: list[str] = []
    if random and tau2 is not None:
        parts.append(f"Tau² = {_fmt_tau2(tau2)}")
    if q is not None:
        chi = f"Chi² = {q:.2f}"
        if df is not None:
            chi += f", df = {_fmt_data(df)}"
        if p is not None:
            chi += f" ({format_p(p)})"
        parts.append(chi)
    if i2 is not None:
        parts.append(f"I² = {i2:.0f}%")
    if not parts or (q is None and i2 is None):
        return None
    return "Heterogeneity: " + "; ".join(parts)


def _overall_effect_text(summary: Mapping[str, Any]) -> str | None:
    z = _number(summary.get("z"))
    if z is None:
        return None
    p = _number(summary.get("p"))
    t_df = _number(summary.get("t_df"))
    if summary.get("hksj") and t_df is not None:
        text = f"Test for overall effect: t = {abs(z):.2f}, df = {_fmt_data(t_df)}"
    else:
        text = f"Test for overall effect: Z = {abs(z):.2f}"
    return f"{text} ({format_p(p)})" if p is not None else text


def _subgroup_test_text(test: Any) -> str | None:
    if not isinstance(test, Mapping):
        return None
    q = _number(test.get("q"))
    if q is None:
        return None
    text = f"Test for subgroup differences: Chi² = {q:.2f}"
    df = _number(test.get("df"))
    if df is not None:
        text += f", df = {_fmt_data(df)}"
    p = _number(test.get("p"))
    if p is not None:
        text += f" ({format_p(p)})"
    i2 = _number(test.get("i2"))
    if i2 is not None:
        text += f", I² = {i2:.0f}%"
    return text


# ---------------------------------------------------------------------------------------------------------------
# What the summary says about itself


@dataclass(frozen=True)
class _Analysis:
    measure: str
    ratio: bool
    pooled: bool
    random: bool
    method: str
    hksj: bool

    @property
    def kind(self) -> str:
        if self.measure in _DICHOTOMOUS:
            return "dichotomous"
        if self.measure in _CONTINUOUS:
            return "continuous"
        return "giv"

    @property
    def title(self) -> str:
        return _MEASURE_TITLES.get(self.measure, "Ratio" if self.ratio else "Difference")

    @property
    def prose(self) -> str:
        return _MEASURE_PROSE.get(self.measure, "ratio" if self.ratio else "difference")

    @property
    def method_line(self) -> str:
        """RevMan's column heading: "M-H, Random, 95% CI"."""
        if not self.pooled:
            return "95% CI"
        if self.random:
            return "IV, Random, 95% CI"
        short = _FIXED_METHODS.get(self.method, ("IV", ""))[0]
        return f"{short}, Fixed, 95% CI"

    @property
    def model_text(self) -> str:
        """ "Random effects (REML) with HKSJ", "Fixed effect (Mantel-Haenszel)"."""
        if self.random:
            text = f"Random effects ({self.method})" if self.method else "Random effects"
            return text + " with HKSJ" if self.hksj else text
        long = _FIXED_METHODS.get(self.method, ("", self.method))[1]
        return f"Fixed effect ({long})" if long else "Fixed effect"


def _analysis(summary: Mapping[str, Any]) -> _Analysis:
    measure = str(summary.get("measure") or "").upper()
    ratio_value = summary.get("ratio")
    ratio = bool(ratio_value) if ratio_value is not None else measure in {"RR", "OR"}
    estimate = _number(summary.get("estimate"))
    pooled = bool(summary.get("pooled")) and estimate is not None
    return _Analysis(
        measure=measure,
        ratio=ratio,
        pooled=pooled,
        random=str(summary.get("model") or "").lower() == "random",
        method=str(summary.get("method") or "").upper(),
        hksj=bool(summary.get("hksj")),
    )


def _studies(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = summary.get("per_study") or []
    return [row for row in rows if isinstance(row, Mapping)]


def _count_text(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def forest_description(summary: Mapping[str, Any]) -> str:
    """One sentence for the SVG <desc>: what the plot shows and, when pooled, the pooled result."""
    analysis = _analysis(summary)
    studies = _number(summary.get("studies"))
    k = int(studies) if studies is not None else len(_studies(summary))
    head = f"Forest plot of {_count_text(k, 'study').replace('studys', 'studies')}"
    estimate = _number(summary.get("estimate"))
    if not analysis.pooled or estimate is None:
        return f"{head}; pooled estimate not estimable." if summary.get("pooled") else f"{head}; not pooled."
    low, high = _number(summary.get("ci_low")), _number(summary.get("ci_high"))
    text = f"{head}: pooled {analysis.prose} {_fmt_value(estimate, analysis.ratio)}"
    if low is not None and high is not None:
        text += f" (95% CI {_fmt_value(low, analysis.ratio)} to {_fmt_value(high, analysis.ratio)})"
    model = analysis.model_text
    text += f", {model[0].lower()}{model[1:]}"
    i2 = _number(summary.get("i2"))
    if i2 is not None:
        text += f"; I² = {i2:.0f}%"
    return text + "."


# ---------------------------------------------------------------------------------------------------------------
# Text measurement


class _Widths:
    """Advance widths of DejaVu Sans in points, summed per character (kerning is ignored; padding covers it).

    Cheaper than laying the string out with FreeType each time, which matters with hundreds of cells.
    """

    _cache: dict[tuple[bool, bool, str], float] = {}

    def __call__(self, text: str, size: float = _SIZE, *, bold: bool = False, italic: bool = False) -> float:
        return max((self._line(line, bold, italic) for line in text.split("\n")), default=0.0) * size / 100.0

    def _line(self, line: str, bold: bool, italic: bool) -> float:
        total = 0.0
        font = None
        for char in line:
            key = (bold, italic, char)
            advance = self._cache.get(key)
            if advance is None:
                if font is None:
                    prop = FontProperties(
                        family=_FONT, weight="bold" if bold else "normal", style="italic" if italic else "normal"
                    )
                    font = get_font(findfont(prop))
                    font.set_size(100.0, 72)
                advance = font.load_char(ord(char), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536.0
                self._cache[key] = advance
            total += advance
        return total


_width = _Widths()


def _truncate(text: str, max_width: float, *, size: float = _SIZE, bold: bool = False, italic: bool = False) -> str:
    if _width(text, size, bold=bold, italic=italic) <= max_width:
        return text
    while text and _width(text + "…", size, bold=bold, italic=italic) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, max_width: float, *, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap to a width in points; a single over-long word is truncated."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and _width(candidate, size, bold=bold) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return [_truncate(line, max_width, size=size, bold=bold) for line in lines] or [""]


# ---------------------------------------------------------------------------------------------------------------
# Forest plot: rows


@dataclass
class _Row:
    label: str = ""
    cells: dict[str, str] = field(default_factory=dict)
    bold: bool = False
    italic_effect: bool = False
    span: str = ""  # a line of text across the table columns (a subgroup's heterogeneity)
    square: tuple[float | None, float | None, float | None, float | None] | None = None  # effect, low, high, weight
    diamond: tuple[float, float, float] | None = None  # estimate, low, high (natural scale)
    diamond_gid: str = ""
    bar: tuple[float, float] | None = None  # prediction interval
    values: dict[str, float] = field(default_factory=dict)  # numbers still to be formatted, see _DECIMAL_COLUMNS


@dataclass
class _Column:
    key: str
    heading: str
    align: str  # "left" or "right"
    width: float = 0.0
    x: float = 0.0  # left edge, points


@dataclass
class _Group:
    name: str
    keys: list[str]


def _data_columns(analysis: _Analysis, intervention: str, control: str) -> tuple[list[_Column], list[_Group]]:
    if analysis.kind == "dichotomous":
        columns = [_Column("e1", "Events", "right"), _Column("n1", "Total", "right")]
        columns += [_Column("e2", "Events", "right"), _Column("n2", "Total", "right")]
        return columns, [_Group(intervention, ["e1", "n1"]), _Group(control, ["e2", "n2"])]
    if analysis.kind == "continuous":
        columns = [_Column("m1", "Mean", "right"), _Column("s1", "SD", "right"), _Column("n1", "Total", "right")]
        columns += [_Column("m2", "Mean", "right"), _Column("s2", "SD", "right"), _Column("n2", "Total", "right")]
        return columns, [_Group(intervention, ["m1", "s1", "n1"]), _Group(control, ["m2", "s2", "n2"])]
    # A generic inverse-variance estimate is given on the analysis scale: the log for ratios (as in RevMan).
    estimate = f"log[{analysis.title}]" if analysis.ratio else "Estimate"
    return [_Column("est", estimate, "right"), _Column("se", "SE", "right")], []


# Columns whose numbers are shown with one number of decimals per column (the most any of its values needs).
_DECIMAL_COLUMNS = {"m1": 2, "s1": 2, "m2": 2, "s2": 2, "est": 3, "se": 3}


def _study_cells(study: Mapping[str, Any], kind: str) -> tuple[dict[str, str], dict[str, float]]:
    """Text of the count columns, and the numbers of the columns formatted per column (_DECIMAL_COLUMNS)."""
    if kind == "dichotomous":
        keys = {"e1": "events_1", "n1": "total_1", "e2": "events_2", "n2": "total_2"}
    elif kind == "continuous":
        keys = {"m1": "mean_1", "s1": "sd_1", "n1": "total_1", "m2": "mean_2", "s2": "sd_2", "n2": "total_2"}
    else:
        keys = {"est": "estimate", "se": "se_given"}
    cells: dict[str, str] = {}
    values: dict[str, float] = {}
    for column, name in keys.items():
        number = _number(study.get(name))
        if column in _DECIMAL_COLUMNS:
            if number is not None:
                values[column] = number
        else:
            cells[column] = _fmt_data(number)
    return cells, values


def _decimals(value: float, most: int) -> int:
    for places in range(most):
        if abs(round(value, places) - value) <= 1e-9 * max(1.0, abs(value)):
            return places
    return most


def _weight_text(weight: float | None) -> str:
    return "" if weight is None else f"{weight:.1f}%"


def _sum(values: Iterable[Any]) -> float | None:
    numbers = [n for n in (_number(v) for v in values) if n is not None]
    return sum(numbers) if numbers else None


class _RowBuilder:
    def __init__(self, summary: Mapping[str, Any], analysis: _Analysis) -> None:
        self.summary = summary
        self.analysis = analysis
        self.rows: list[_Row] = []
        self.footnotes: list[str] = []
        self.any_corrected = False

    def build(self) -> list[_Row]:
        studies = _studies(self.summary)
        subgroups = [s for s in (self.summary.get("subgroups") or []) if isinstance(s, Mapping)]
        if subgroups:
            for index, (name, members, result) in enumerate(self._grouped(studies, subgroups), start=1):
                self._subgroup(index, name, members, result)
        else:
            # No subgroup sections (e.g. not pooled): a study's rows are told apart by their subgroup in the label.
            for study in studies:
                self._study(study, with_subgroup=True)
            self.rows.append(_Row())
        self._total(studies)
        if self.any_corrected:
            self.footnotes.insert(0, "* Zero cell: 0.5 added to each cell for the study's own estimate.")
        for column, most in _DECIMAL_COLUMNS.items():
            numbers = [row.values[column] for row in self.rows if column in row.values]
            places = max((_decimals(n, most) for n in numbers), default=0)
            for row in self.rows:
                if column in row.values:
                    text = f"{row.values[column]:.{places}f}"
                    row.cells[column] = text[1:] if text.startswith("-") and float(text) == 0 else text
        return self.rows

    @staticmethod
    def _grouped(
        studies: list[Mapping[str, Any]], subgroups: list[Mapping[str, Any]]
    ) -> list[tuple[str, list[Mapping[str, Any]], Mapping[str, Any] | None]]:
        """Subgroups in the summary's order, then any a study names that the summary does not ("" or None: none)."""
        results = {str(s.get("name") or ""): s for s in subgroups}
        order = list(results)
        members: dict[str, list[Mapping[str, Any]]] = {name: [] for name in order}
        for study in studies:
            name = str(study.get("subgroup") or "")
            members.setdefault(name, []).append(study)
            if name not in order:
                order.append(name)
        return [
            (name or "(No subgroup)", members[name], results.get(name))
            for name in order
            if members[name] or name in results
        ]

    def _study(self, study: Mapping[str, Any], with_subgroup: bool = False) -> None:
        label = str(study.get("label") or "Unnamed study")
        if with_subgroup and study.get("subgroup"):
            label = f"{label} ({study['subgroup']})"
        label = _truncate(label, _MAX_LABEL)
        if study.get("corrected"):
            label += " *"
            self.any_corrected = True
        cells, values = _study_cells(study, self.analysis.kind)
        excluded = study.get("excluded")
        if excluded:
            reason = str(excluded)
            reason = reason[:1].upper() + reason[1:]
            shown = _truncate(reason, 190.0, italic=True)
            if shown != reason:
                self.footnotes.append(f"{label}: {reason}")
            cells["effect"] = shown
            self.rows.append(_Row(label=label, cells=cells, italic_effect=True, values=values))
            return
        effect, low, high = _number(study.get("effect")), _bound(study.get("ci_low")), _bound(study.get("ci_high"))
        weight = _number(study.get("weight"))
        if self.analysis.ratio and effect is not None and effect <= 0:
            effect = None
        cells["weight"] = _weight_text(weight) if effect is not None else ""
        cells["effect"] = format_effect(effect, low, high, ratio=self.analysis.ratio)
        has_se = _number(study.get("se")) is not None
        square = (effect, low, high, weight) if effect is not None and has_se else None
        self.rows.append(_Row(label=label, cells=cells, square=square, values=values))

    def _totals_cells(self, studies: Sequence[Mapping[str, Any]], source: Mapping[str, Any] | None) -> dict[str, str]:
        """Participants per group; from the summary when it has them, else summed over the studies."""
        cells: dict[str, str] = {}
        if self.analysis.kind in ("dichotomous", "continuous"):
            for column, key in (("n1", "total_1"), ("n2", "total_2")):
                value = _number(source.get(key)) if source is not None else None
                if value is None:
                    value = _sum(s.get(key) for s in studies)
                cells[column] = _fmt_data(value)
        return cells

    def _events_row(self, studies: Sequence[Mapping[str, Any]], source: Mapping[str, Any] | None) -> None:
        if self.analysis.kind != "dichotomous":
            return
        cells: dict[str, str] = {}
        for column, key in (("e1", "events_1"), ("e2", "events_2")):
            value = _number(source.get(key)) if source is not None else None
            if value is None:
                value = _sum(s.get(key) for s in studies)
            cells[column] = _fmt_data(value)
        self.rows.append(_Row(label="Total events", cells=cells))

    def _subgroup(
        self, index: int, name: str, members: list[Mapping[str, Any]], result: Mapping[str, Any] | None
    ) -> None:
        self.rows.append(_Row(label=_truncate(name, _MAX_LABEL, bold=True), bold=True))
        for study in members:
            self._study(study)
        included = [s for s in members if not s.get("excluded")]
        cells = self._totals_cells(included, None)
        row = _Row(label="Subtotal (95% CI)", cells=cells, bold=True)
        estimate = _number(result.get("estimate")) if result else None
        if result is not None and estimate is not None and self.analysis.pooled:
            low, high = _number(result.get("ci_low")), _number(result.get("ci_high"))
            weight = _sum(s.get("weight") for s in included)
            row.cells["weight"] = _weight_text(weight)
            row.cells["effect"] = format_effect(estimate, low, high, ratio=self.analysis.ratio)
            if low is not None and high is not None and (not self.analysis.ratio or min(estimate, low) > 0):
                row.diamond = (estimate, low, high)
                row.diamond_gid = f"subtotal-diamond-{index}"
        else:
            row.cells["effect"] = "Not estimable" if result is not None and self.analysis.pooled else "Not pooled"
        self.rows.append(row)
        self._events_row(included, None)
        if result is not None:
            heterogeneity = heterogeneity_text(
                tau2=_number(result.get("tau2")),
                q=_number(result.get("q")),
                df=_number(result.get("df")),
                p=_number(result.get("p_heterogeneity")),
                i2=_number(result.get("i2")),
                random=self.analysis.random,
            )
            if heterogeneity:
                self.rows.append(_Row(span=heterogeneity))
            # A Z test from the subgroup's own estimate and SE; under HKSJ the subgroup's t df is not known here.
            log_estimate, se = _number(result.get("log_estimate")), _number(result.get("se"))
            if self.analysis.pooled and not self.analysis.hksj and log_estimate is not None and se:
                z = log_estimate / se
                p = math.erfc(abs(z) / math.sqrt(2.0))
                self.rows.append(_Row(span=f"Test for overall effect: Z = {abs(z):.2f} ({format_p(p)})"))
        self.rows.append(_Row())

    def _total(self, studies: list[Mapping[str, Any]]) -> None:
        summary, analysis = self.summary, self.analysis
        included = [s for s in studies if not s.get("excluded")]
        row = _Row(label="Total (95% CI)", cells=self._totals_cells(included, summary), bold=True)
        if analysis.pooled:
            estimate = _number(summary.get("estimate"))
            low, high = _number(summary.get("ci_low")), _number(summary.get("ci_high"))
            row.cells["weight"] = "100.0%" if any(_number(s.get("weight")) is not None for s in included) else ""
            row.cells["effect"] = format_effect(estimate, low, high, ratio=analysis.ratio)
            if estimate is not None and low is not None and high is not None:
                if not analysis.ratio or min(estimate, low) > 0:
                    row.diamond = (estimate, low, high)
                    row.diamond_gid = "pooled-diamond"
        else:
            # Pooling asked for but not possible (stats.py explains why in the notes) differs from pooling judged
            # inappropriate.
            row.cells["effect"] = "Not estimable" if summary.get("pooled") else "Not pooled"
        self.rows.append(row)
        pi_low, pi_high = _number(summary.get("prediction_low")), _number(summary.get("prediction_high"))
        if analysis.pooled and pi_low is not None and pi_high is not None:
            if not analysis.ratio or min(pi_low, pi_high) > 0:
                text = f"[{_fmt_value(pi_low, analysis.ratio)}, {_fmt_value(pi_high, analysis.ratio)}]"
                self.rows.append(_Row(label="Prediction interval", cells={"effect": text}, bar=(pi_low, pi_high)))
        self._events_row(included, summary)

    def footer_lines(self) -> list[str]:
        summary, analysis = self.summary, self.analysis
        lines: list[str] = []
        if analysis.pooled:
            lines.append(analysis.model_text)
        heterogeneity = heterogeneity_text(
            tau2=_number(summary.get("tau2")),
            q=_number(summary.get("q")),
            df=_number(summary.get("df")),
            p=_number(summary.get("p_heterogeneity")),
            i2=_number(summary.get("i2")),
            random=analysis.random,
        )
        if heterogeneity:
            lines.append(heterogeneity)
        if analysis.pooled:
            overall = _overall_effect_text(summary)
            if overall:
                lines.append(overall)
        subgroup_test = _subgroup_test_text(summary.get("subgroup_test"))
        if subgroup_test:
            lines.append(subgroup_test)
        return lines


# ---------------------------------------------------------------------------------------------------------------
# Forest plot: the x-axis


@dataclass(frozen=True)
class _Axis:
    """The plot column's x-axis, worked in "u": the log of the effect for ratios, the effect itself otherwise."""

    ratio: bool
    limit: float  # the axis runs from -limit to +limit in u
    ticks: tuple[float, ...]  # natural scale

    @property
    def null(self) -> float:
        return 1.0 if self.ratio else 0.0

    def u(self, value: float | None) -> float | None:
        if value is None or math.isnan(value):
            return None
        if self.ratio:
            if value <= 0:
                return -math.inf
            return math.log(value) if math.isfinite(value) else math.inf
        return value

    def natural(self, u: float) -> float:
        return math.exp(u) if self.ratio else u

    @property
    def lim(self) -> tuple[float, float]:
        return self.natural(-self.limit), self.natural(self.limit)


def _choose_axis(ratio: bool, points: Iterable[float | None], intervals: Iterable[float | None]) -> _Axis:
    """The smallest symmetric range that holds every point estimate and pooled interval, and the studies' CIs
    as far as is reasonable; a CI beyond it is clipped with an arrow, as RevMan does."""
    probe = _Axis(ratio, 1.0, ())
    point_us = [abs(u) for u in (probe.u(v) for v in points) if u is not None and math.isfinite(u)]
    ci_us = [abs(u) for u in (probe.u(v) for v in intervals) if u is not None and math.isfinite(u)]
    base = max(point_us, default=0.0) * 1.05
    spread = max(ci_us, default=0.0)
    if ratio:
        target = max(base, min(spread, math.log(100.0)))
        for upper, ticks in _LOG_SCALES:
            if math.log(upper) >= target:
                return _Axis(True, math.log(upper), ticks)
        decades = math.ceil(target / math.log(10.0))
        return _Axis(True, decades * math.log(10.0), (10.0**-decades, 1.0, 10.0**decades))
    target = max(base, min(spread, 3.0 * base)) if base > 0 else spread
    if target <= 0:
        target = 1.0
    exponent = math.floor(math.log10(target))
    limit = 10.0 ** (exponent + 1)
    for mantissa in (1.0, 2.0, 4.0, 5.0):
        if mantissa * 10.0**exponent >= target * (1 - 1e-12):
            limit = mantissa * 10.0**exponent
            break
    limit = float(f"{limit:.12g}")
    half = float(f"{limit / 2:.12g}")
    return _Axis(False, limit, (-limit, -half, 0.0, half, limit))


def _axis_label(analysis: _Analysis, unit: str) -> str:
    text = analysis.title
    if analysis.ratio:
        return f"{text} (log scale)"
    if unit and analysis.measure != "SMD":
        return f"{text} ({unit})"
    return text


# ---------------------------------------------------------------------------------------------------------------
# Forest plot: layout and drawing


def forest_figure(
    summary: Mapping[str, Any], *, title: str, intervention: str, control: str, direction: str, unit: str = ""
) -> Figure:
    """The forest plot as a Figure (no canvas state shared with anything else); forest_svg/forest_png save it."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(_DIRECTIONS)}, not {direction!r}.")
    analysis = _analysis(summary)
    intervention = _truncate(intervention.strip() or "Intervention", 160.0)
    control = _truncate(control.strip() or "Control", 160.0)
    builder = _RowBuilder(summary, analysis)
    rows = builder.build()
    footer = builder.footer_lines()
    return _ForestLayout(analysis, rows, footer, builder.footnotes, summary.get("notes") or []).draw(
        title=title, intervention=intervention, control=control, direction=direction, unit=unit
    )


class _ForestLayout:
    def __init__(
        self, analysis: _Analysis, rows: list[_Row], footer: list[str], footnotes: list[str], notes: Iterable[Any]
    ) -> None:
        self.analysis = analysis
        self.rows = rows
        self.footer = footer
        self.notes = [str(note) for note in notes if note] + footnotes

    def _measure_columns(self, columns: list[_Column], groups: list[_Group]) -> None:
        for column in columns:
            widths = [_width(column.heading, bold=True)]
            for row in self.rows:
                text = row.cells.get(column.key, "")
                if text:
                    italic = column.key == "effect" and row.italic_effect
                    widths.append(_width(text, bold=row.bold, italic=italic))
            column.width = max(widths)
        by_key = {column.key: column for column in columns}
        for group in groups:
            members = [by_key[key] for key in group.keys]
            span = sum(c.width for c in members) + _GAP * (len(members) - 1)
            extra = _width(group.name, bold=True) - span
            if extra > 0:
                for member in members:
                    member.width += extra / len(members)

    def draw(self, *, title: str, intervention: str, control: str, direction: str, unit: str) -> Figure:
        analysis, rows = self.analysis, self.rows

        # Columns, left to right, in points.
        label = _Column("label", "Study or Subgroup", "left")
        data, groups = _data_columns(analysis, intervention, control)
        columns = [label, *data]
        if any(row.cells.get("weight") for row in rows):
            columns.append(_Column("weight", "Weight", "right"))
        effect = _Column("effect", analysis.title, "left")
        columns.append(effect)
        label_widths = [_width(row.label, bold=row.bold) for row in rows]
        self._measure_columns(columns, groups)
        label.width = max([label.width, *label_widths])
        effect.width = max(effect.width, _width(analysis.method_line, bold=True))
        left_part = sum(c.width for c in columns) + _GAP * (len(columns) - 1)
        # The heterogeneity lines run under the table columns; the table must be at least as wide as they are.
        spans = [_width(row.span) for row in rows if row.span] + [_width(line) for line in self.footer]
        if max(spans, default=0.0) > left_part:
            label.width += max(spans) - left_part
            left_part = max(spans)
        x = _MARGIN
        for column in columns:
            column.x = x
            x += column.width + _GAP

        # The plot column: wide enough for both "Favours" labels side by side.
        favours_low, favours_high = f"Favours {intervention}", f"Favours {control}"
        if direction == "higher_is_better":
            favours_low, favours_high = favours_high, favours_low
        favours_width = max(_width(favours_low), _width(favours_high))
        axis = _choose_axis(analysis.ratio, *self._axis_values())
        tick_labels = [_fmt_tick(t) for t in axis.ticks]
        tick_half = max(_width(t) for t in tick_labels) / 2
        plot_gap = max(2 * _GAP, tick_half + 6)
        plot_x0 = _MARGIN + left_part + plot_gap
        plot_w = max(190.0, 2 * favours_width + 24.0, _width(_axis_label(analysis, unit)) + 10)
        heading_w = max(_width(analysis.title, bold=True), _width(analysis.method_line, bold=True))
        plot_w = max(plot_w, heading_w)
        fig_w = plot_x0 + plot_w + max(_MARGIN, tick_half + 6)

        # Rows, top to bottom, in points.
        title_lines = _wrap(title, fig_w - 2 * _MARGIN, size=_TITLE_SIZE, bold=True) if title.strip() else []
        note_lines = [line for note in self.notes for line in _wrap(note, fig_w - 2 * _MARGIN, size=_NOTE_SIZE)]
        y = _MARGIN
        title_top = y
        y += len(title_lines) * _TITLE_SIZE * 1.3 + (6 if title_lines else 0)
        heading_top = y
        y = heading_top + 2 * _ROW
        rule_y = y + 1
        body_top = y + 3
        body_bottom = body_top + len(rows) * _ROW
        axis_y = body_bottom + _AXIS_PAD
        axis_band = 5 + _SIZE * 1.25 + 3 + _SIZE * 1.25 + 4 + _SIZE * 1.25
        bottom = body_bottom + max(_AXIS_PAD + axis_band, len(self.footer) * _ROW) + 6
        notes_top = bottom
        fig_h = bottom + len(note_lines) * _NOTE_SIZE * 1.35 + _MARGIN

        fig = Figure(figsize=(fig_w / 72, fig_h / 72), dpi=72, facecolor="white")
        points = Affine2D().scale(1 / 72) + fig.dpi_scale_trans
        canvas = _Canvas(fig, points, fig_h)

        for i, line in enumerate(title_lines):
            canvas.text(_MARGIN, title_top + i * _TITLE_SIZE * 1.3, line, size=_TITLE_SIZE, bold=True, va="top")

        # Headings: group names over their columns with a rule under each; column headings; measure and method.
        by_key = {c.key: c for c in columns}
        for group in groups:
            first, last = by_key[group.keys[0]], by_key[group.keys[-1]]
            centre = (first.x + last.x + last.width) / 2
            canvas.text(centre, heading_top + _ROW / 2, group.name, ha="center", bold=True)
            canvas.hline(first.x, last.x + last.width, heading_top + _ROW + 1, width=0.5)
        for column in columns:
            if column is effect:
                canvas.text(column.x, heading_top + _ROW / 2, analysis.title, bold=True)
                canvas.text(column.x, heading_top + 1.5 * _ROW, analysis.method_line, bold=True)
                continue
            anchor = column.x + column.width if column.align == "right" else column.x
            canvas.text(anchor, heading_top + 1.5 * _ROW, column.heading, ha=column.align, bold=True)
        plot_centre = plot_x0 + plot_w / 2
        canvas.text(plot_centre, heading_top + _ROW / 2, analysis.title, ha="center", bold=True)
        canvas.text(plot_centre, heading_top + 1.5 * _ROW, analysis.method_line, ha="center", bold=True)
        canvas.hline(_MARGIN, plot_x0 + plot_w, rule_y, width=0.6)

        # The table.
        for index, row in enumerate(rows):
            centre = body_top + (index + 0.5) * _ROW
            if row.span:
                canvas.text(_MARGIN, centre, row.span)
                continue
            if row.label:
                canvas.text(label.x, centre, row.label, bold=row.bold)
            for column in columns[1:]:
                text = row.cells.get(column.key, "")
                if not text:
                    continue
                italic = column is effect and row.italic_effect
                anchor = column.x + column.width if column.align == "right" else column.x
                colour = _GREY if italic else "black"
                canvas.text(anchor, centre, text, ha=column.align, bold=row.bold, italic=italic, color=colour)

        # The plot column: an axes whose y data are row numbers, so row i's centre is at y = i + 0.5.
        ax = fig.add_axes((plot_x0 / fig_w, (fig_h - axis_y) / fig_h, plot_w / fig_w, (axis_y - body_top) / fig_h))
        self._draw_plot(ax, axis)

        # Ticks and their labels, the axis label and the Favours labels, under the plot column.
        def to_x(value: float) -> float:
            u = axis.u(value) or 0.0  # ticks are finite, and positive on a log axis
            return plot_x0 + plot_w * (u + axis.limit) / (2 * axis.limit)

        y = axis_y + 5
        for tick, text in zip(axis.ticks, tick_labels, strict=True):
            canvas.text(to_x(tick), y, text, ha="center", va="top")
        y += _SIZE * 1.25 + 3
        canvas.text(plot_centre, y, _axis_label(analysis, unit), ha="center", va="top", color=_GREY)
        y += _SIZE * 1.25 + 4
        canvas.text(plot_centre - 6, y, favours_low, ha="right", va="top")
        canvas.text(plot_centre + 6, y, favours_high, ha="left", va="top")

        for i, line in enumerate(self.footer):
            canvas.text(_MARGIN, body_bottom + (i + 0.5) * _ROW, line)
        for i, line in enumerate(note_lines):
            canvas.text(_MARGIN, notes_top + i * _NOTE_SIZE * 1.35, line, size=_NOTE_SIZE, va="top", color=_GREY)
        return fig

    def _axis_values(self) -> tuple[list[float | None], list[float | None]]:
        points: list[float | None] = []
        intervals: list[float | None] = []
        for row in self.rows:
            if row.square is not None:
                effect, low, high, _ = row.square
                points.append(effect)
                intervals += [low, high]
            if row.diamond is not None:
                points += list(row.diamond)
            if row.bar is not None:
                points += list(row.bar)
        return points, intervals

    def _draw_plot(self, ax: Any, axis: _Axis) -> None:
        rows = self.rows
        ax.set_ylim(len(rows) + _AXIS_PAD / _ROW, 0)
        if axis.ratio:
            ax.set_xscale("log")
        ax.set_xlim(*axis.lim)
        ax.patch.set_visible(False)
        for spine in ("top", "left", "right"):
            ax.spines[spine].set_visible(False)
        ax.spines["bottom"].set_linewidth(0.8)
        ax.set_yticks([])
        ax.set_xticks(axis.ticks)
        ax.xaxis.set_major_formatter(NullFormatter())
        ax.xaxis.set_minor_locator(NullLocator())
        ax.tick_params(axis="x", length=3, width=0.8)
        ax.axvline(axis.null, color="black", linewidth=0.7, zorder=1, gid="line-of-no-effect")

        colour = _SQUARE_CONTINUOUS if self.analysis.kind != "dichotomous" and not self.analysis.ratio else None
        colour = colour or _SQUARE_DICHOTOMOUS
        weights = [row.square[3] for row in rows if row.square is not None and row.square[3] is not None]
        max_weight = max(weights, default=0.0)
        segments: list[list[tuple[float, float]]] = []
        squares_x: list[float] = []
        squares_y: list[float] = []
        squares_s: list[float] = []
        arrows: dict[str, tuple[list[float], list[float]]] = {">": ([], []), "<": ([], [])}
        low_edge, high_edge = axis.lim
        largest = 0.8 * _ROW  # side of the heaviest study's square, points
        for index, row in enumerate(rows):
            y = index + 0.5
            if row.square is not None:
                effect, low, high, weight = row.square
                if low is not None and high is not None:
                    u_low, u_high = axis.u(low), axis.u(high)
                    if u_low is not None and u_high is not None and u_high >= -axis.limit and u_low <= axis.limit:
                        start = max(u_low, -axis.limit)
                        end = min(u_high, axis.limit)
                        segments.append([(axis.natural(start), y), (axis.natural(end), y)])
                        if u_low < -axis.limit:
                            arrows["<"][0].append(low_edge)
                            arrows["<"][1].append(y)
                        if u_high > axis.limit:
                            arrows[">"][0].append(high_edge)
                            arrows[">"][1].append(y)
                u_effect = axis.u(effect)
                if effect is not None and u_effect is not None and abs(u_effect) <= axis.limit:
                    if max_weight > 0 and weight is not None:
                        side = max(3.0, largest * math.sqrt(weight / max_weight))
                    else:
                        side = 6.0 if max_weight == 0 else 3.0
                    squares_x.append(effect)
                    squares_y.append(y)
                    squares_s.append(side * side)
            if row.diamond is not None:
                estimate, low, high = row.diamond
                half = 0.36
                ax.add_patch(
                    Polygon(
                        [(low, y), (estimate, y - half), (high, y), (estimate, y + half)],
                        closed=True,
                        facecolor="black",
                        edgecolor="black",
                        linewidth=0.5,
                        zorder=4,
                        gid=row.diamond_gid,
                    )
                )
            if row.bar is not None:
                bar_low, bar_high = row.bar
                ax.plot(
                    [bar_low, bar_high],
                    [y, y],
                    color="black",
                    linewidth=1.5,
                    solid_capstyle="butt",
                    zorder=4,
                    gid="prediction-interval",
                )
        if segments:
            ax.add_collection(LineCollection(segments, colors="black", linewidths=0.9, zorder=2, gid="study-cis"))
        if squares_x:
            ax.scatter(
                squares_x, squares_y, s=squares_s, marker="s", color=colour, linewidths=0, zorder=3, gid="study-squares"
            )
        for marker, (xs, ys) in arrows.items():
            if xs:
                ax.scatter(xs, ys, s=14, marker=marker, color="black", linewidths=0, clip_on=False, zorder=3)


class _Canvas:
    """Text and rules placed in points from the figure's top-left corner."""

    def __init__(self, fig: Figure, transform: Transform, height: float) -> None:
        self.fig = fig
        self.transform = transform
        self.height = height

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        ha: str = "left",
        va: str = "center_baseline",
        size: float = _SIZE,
        bold: bool = False,
        italic: bool = False,
        color: str = "black",
    ) -> Text:
        return self.fig.text(
            x,
            self.height - y,
            text,
            transform=self.transform,
            ha=ha,
            va=va,
            fontsize=size,
            fontfamily=_FONT,
            fontweight="bold" if bold else "normal",
            fontstyle="italic" if italic else "normal",
            color=color,
            parse_math=False,
        )

    def hline(self, x0: float, x1: float, y: float, *, width: float) -> None:
        self.fig.add_artist(
            Line2D(
                [x0, x1], [self.height - y, self.height - y], transform=self.transform, color="black", linewidth=width
            )
        )


# ---------------------------------------------------------------------------------------------------------------
# Funnel plot

_SUBGROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_SUBGROUP_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _funnel_points(summary: Mapping[str, Any]) -> list[tuple[float, float, str | None]]:
    points: list[tuple[float, float, str | None]] = []
    for study in _studies(summary):
        yi, se = _number(study.get("yi")), _number(study.get("se"))
        if study.get("excluded") or yi is None or se is None or se <= 0:
            continue
        subgroup = study.get("subgroup")
        points.append((yi, se, None if subgroup is None else str(subgroup)))
    return points


def _funnel_centre(summary: Mapping[str, Any], points: Sequence[tuple[float, float, str | None]]) -> tuple[float, str]:
    """The pooled estimate on the analysis scale, or the inverse-variance fixed-effect one when not pooled."""
    analysis = _analysis(summary)
    if analysis.pooled:
        centre = _number(summary.get("log_estimate"))
        if centre is None:
            estimate = _number(summary.get("estimate"))
            if estimate is not None and (not analysis.ratio or estimate > 0):
                centre = math.log(estimate) if analysis.ratio else estimate
        if centre is not None:
            return centre, f"Pooled estimate, {analysis.model_text[0].lower()}{analysis.model_text[1:]}"
    weights = [1 / (se * se) for _, se, _ in points]
    centre = sum(w * yi for w, (yi, _, _) in zip(weights, points, strict=True)) / sum(weights)
    return centre, "Fixed-effect estimate (inverse variance)"


def funnel_description(summary: Mapping[str, Any]) -> str:
    points = _funnel_points(summary)
    analysis = _analysis(summary)
    if not points:
        return "Funnel plot with no studies."
    centre, label = _funnel_centre(summary, points)
    value = math.exp(centre) if analysis.ratio else centre
    return (
        f"Funnel plot of {_count_text(len(points), 'study').replace('studys', 'studies')}: each study's "
        f"{analysis.prose} against its standard error, with pseudo 95% confidence limits around the "
        f"{label[0].lower()}{label[1:]} of {_fmt_value(value, analysis.ratio)}."
    )


def funnel_figure(summary: Mapping[str, Any], *, title: str) -> Figure:
    """The funnel plot as a Figure. Raises ValueError when fewer than 10 studies have a standard error: with fewer,
    a funnel plot cannot tell asymmetry from chance (Cochrane Handbook 13.3.5.4)."""
    points = _funnel_points(summary)
    if len(points) < _MIN_FUNNEL_STUDIES:
        raise ValueError(
            f"A funnel plot needs at least {_MIN_FUNNEL_STUDIES} studies with a standard error; "
            f"this analysis has {len(points)}."
        )
    analysis = _analysis(summary)
    centre, centre_label = _funnel_centre(summary, points)
    groups = list(dict.fromkeys(subgroup for _, _, subgroup in points))
    legend_columns = 3 if len(groups) > 1 else 2
    legend_rows = math.ceil((2 + (len(groups) if len(groups) > 1 else 0)) / legend_columns)
    # Layout in points: title, axes, tick and axis labels, legend.
    width, left, right = 460.0, 58.0, 18.0
    title_lines = _wrap(title, width - left - right, size=_TITLE_SIZE, bold=True) if title.strip() else []
    top = _MARGIN + len(title_lines) * _TITLE_SIZE * 1.3 + 10
    plot_height = 280.0
    below = 44.0 + legend_rows * 12.0 + _MARGIN
    height = top + plot_height + below
    fig = Figure(figsize=(width / 72, height / 72), dpi=72, facecolor="white")
    ax = fig.add_axes((left / width, below / height, (width - left - right) / width, plot_height / height))

    def natural(u: float) -> float:
        return math.exp(u) if analysis.ratio else u

    se_max = max(se for _, se, _ in points) * 1.08
    lows = [centre - 1.96 * se_max] + [yi for yi, _, _ in points]
    highs = [centre + 1.96 * se_max] + [yi for yi, _, _ in points]
    pad = (max(highs) - min(lows)) * 0.04
    if analysis.ratio:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: _fmt_tick(value)))
    ax.set_xlim(natural(min(lows) - pad), natural(max(highs) + pad))
    ax.set_ylim(se_max, 0)

    ax.plot([natural(centre), natural(centre)], [0, se_max], color="black", linewidth=0.9, label=centre_label)
    edge = [natural(centre - 1.96 * se_max), natural(centre), natural(centre + 1.96 * se_max)]
    ax.plot(
        edge,
        [se_max, 0, se_max],
        color="black",
        linewidth=0.8,
        linestyle=(0, (4, 3)),
        label="Pseudo 95% confidence limits",
        gid="pseudo-confidence-limits",
    )
    if len(groups) > 1:
        for index, group in enumerate(groups):
            xs = [natural(yi) for yi, _, g in points if g == group]
            ys = [se for _, se, g in points if g == group]
            ax.scatter(
                xs,
                ys,
                s=26,
                marker=_SUBGROUP_MARKERS[index % len(_SUBGROUP_MARKERS)],
                color=_SUBGROUP_COLOURS[index % len(_SUBGROUP_COLOURS)],
                edgecolors="white",
                linewidths=0.5,
                zorder=3,
                label=group if group is not None else "(No subgroup)",
            )
    else:
        ax.scatter(
            [natural(yi) for yi, _, _ in points],
            [se for _, se, _ in points],
            s=26,
            color=_SQUARE_DICHOTOMOUS,
            edgecolors="white",
            linewidths=0.5,
            zorder=3,
            gid="studies",
        )

    ax.tick_params(labelfontfamily=_FONT, labelsize=8, length=3, width=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    x_label = f"{analysis.title} (log scale)" if analysis.ratio else analysis.title
    y_label = f"SE(log[{analysis.measure or 'Ratio'}])" if analysis.ratio else f"SE({analysis.measure or 'effect'})"
    ax.set_xlabel(x_label, fontfamily=_FONT, fontsize=9)
    ax.set_ylabel(y_label, fontfamily=_FONT, fontsize=9)
    for i, line in enumerate(title_lines):
        fig.text(
            left / width,
            1 - (_MARGIN + i * _TITLE_SIZE * 1.3) / height,
            line,
            ha="left",
            va="top",
            fontsize=_TITLE_SIZE,
            fontweight="bold",
            fontfamily=_FONT,
            parse_math=False,
        )
    fig.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, _MARGIN / height),
        ncol=legend_columns,
        frameon=False,
        prop=FontProperties(family=_FONT, size=7.5),
    )
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Output
