"""Charts: one description (Chart) of lines and interval bands, drawn in the terminal with
braille characters (`draw`, rich Text for stderr) or to an image with matplotlib (`save_charts`).

Braille cells hold 2×4 dots, so a 60-column chart has 120×(4·rows) points of resolution
without any plotting dependency.  Nothing here prints: the CLI shows what it gets back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.text import Text

from .errors import ConfigError, ForecastError

_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # braille dot bits by (row, col)


@dataclass
class Chart:
    """What a chart shows, whatever draws it.

    lines: [(label, xs, ys, colour)], drawn in order over the bands;
    bands: [(label, xs, lo, hi, colour)], shaded from lo to hi, the first (the widest) at the bottom;
    colour: a name rich and MPL_COLOURS both know.
    """

    title: str
    lines: list
    bands: list = field(default_factory=list)
    x_label: str = ""


class Canvas:
    """A braille canvas of width×height cells mapping data coordinates to dots."""

    def __init__(self, width: int, height: int, x_range, y_range):
        self.width, self.height = width, height
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.bits = np.zeros((height, width), dtype=np.int32)
        self.style = np.full((height, width), "", dtype=object)

    def _dot(self, x: float, y: float):
        fx = (x - self.x0) / ((self.x1 - self.x0) or 1.0) * (2 * self.width - 1)
        fy = (self.y1 - y) / ((self.y1 - self.y0) or 1.0) * (4 * self.height - 1)
        if not (math.isfinite(fx) and math.isfinite(fy)):
            return None
        return int(round(min(max(fy, 0), 4 * self.height - 1))), int(round(min(max(fx, 0), 2 * self.width - 1)))

    def line(self, xs, ys, style: str) -> None:
        """Connect consecutive points with dots (enough steps to leave no holes)."""
        pts = [self._dot(x, y) for x, y in zip(xs, ys)]
        pts = [p for p in pts if p is not None]
        for (r0, c0), (r1, c1) in zip(pts, pts[1:] or pts):
            steps = max(abs(r1 - r0), abs(c1 - c0), 1)
            for k in range(steps + 1):
                self._set(round(r0 + (r1 - r0) * k / steps), round(c0 + (c1 - c0) * k / steps), style)

    def band(self, xs, lo, hi, style: str, dense: bool = True) -> None:
        """Shade between lo and hi, linear between the given points: every other dot (dense),
        or every fourth, so that a line drawn over it, and a band under it, stay visible."""
        pts = [(self._dot(x, a), self._dot(x, b)) for x, a, b in zip(xs, lo, hi)]
        pts = [(p, q) for p, q in pts if p and q]
        if not pts:
            return
        cols = [p[1] for p, _ in pts]
        tops, bottoms = [min(p[0], q[0]) for p, q in pts], [max(p[0], q[0]) for p, q in pts]
        for c in range(cols[0], cols[-1] + 1):
            top, bottom = round(np.interp(c, cols, tops)), round(np.interp(c, cols, bottoms))
            for r in range(top, bottom + 1):
                if ((r + c) % 2 == 0) if dense else (r % 2 == 0 and c % 2 == 0):
                    self._set(r, c, style)

    def _set(self, r: int, c: int, style: str) -> None:
        cell_r, cell_c = r // 4, c // 2
        self.bits[cell_r, cell_c] |= _DOTS[r % 4][c % 2]
        self.style[cell_r, cell_c] = style

    def rows(self) -> list[Text]:
        out = []
        for r in range(self.height):
            line = Text()
            for c in range(self.width):
                bits = self.bits[r, c]
                line.append(chr(0x2800 + bits) if bits else " ", style=self.style[r, c] or None)
            out.append(line)
        return out


def _tick(v: float) -> str:
    return f"{v:.4g}"


def _ranges(spec: Chart):
    """(x0, x1), (y0, y1) covering every finite value of the chart's lines and bands."""
    xs = np.concatenate([np.asarray(s[1], float) for s in spec.lines] + [np.asarray(b[1], float) for b in spec.bands])
    ys = np.concatenate([np.asarray(s[2], float) for s in spec.lines] +
                        [np.asarray(v, float) for b in spec.bands for v in (b[2], b[3])])
    ys = ys[np.isfinite(ys)]
    lo, hi = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    return (float(xs.min()), float(xs.max())), (lo, hi)


def draw(spec: Chart, width: int = 60, height: int = 10) -> Text:
    """The chart in braille characters (2×4 dots a cell), with y ticks, x range and legend."""
    (x0, x1), (lo, hi) = _ranges(spec)
    canvas = Canvas(width, height, (x0, x1), (lo, hi))
    for k, (_, xs, blo, bhi, style) in enumerate(spec.bands):
        canvas.band(xs, blo, bhi, style, dense=k > 0 or len(spec.bands) == 1)  # the widest band lightest
    for _, xs, ys, style in spec.lines:
        canvas.line(xs, ys, style)
    labels = [_tick(hi)] + [""] * (height - 2) + [_tick(lo)]
    pad = max(len(s) for s in labels)
    text = Text()
    if spec.title:
        text.append(spec.title + "\n", style="bold")
    for label, row in zip(labels, canvas.rows()):
        text.append(label.rjust(pad) + " ┤")
        text.append_text(row)
        text.append("\n")
    text.append(" " * pad + " └" + "─" * width + "\n")
    left, right = _tick(x0), _tick(x1)
    text.append(" " * (pad + 2) + left + spec.x_label.center(width - len(left) - len(right)) + right + "\n", style="dim")
    legend = Text(" " * (pad + 2))
    for label, *_, style in spec.lines:
        legend.append("━━ ", style=style)
        legend.append(label + "   ")
    for label, *_, style in spec.bands:
        legend.append("⣿⣿ ", style=style)
        legend.append(label + "   ")
    text.append_text(legend)
    return text


def chart(series: list[tuple], title: str = "", width: int = 60, height: int = 10, x_label: str = "") -> Text:
    """Lines [(label, xs, ys, colour)] drawn as braille Text (a Chart without bands)."""
    return draw(Chart(title, series, x_label=x_label), width, height)


def loss_curve(history: dict, title: str = "loss per epoch") -> Text:
    """Train (and validation) loss against epoch."""
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    series = [("train", epochs, history["train_loss"], "cyan")]
    if any(v is not None for v in history["val_loss"]):
        series.append(("validation", epochs, [np.nan if v is None else v for v in history["val_loss"]], "magenta"))
    return chart(series, title=title, x_label="epoch")


BAND_COLOURS = ("blue", "cyan", "green")  # widest band first


def _bands(xs, bounds: dict) -> list:
    """Bands for {level: (lo, hi)}, the highest level (widest) first."""
    return [(f"{level}% interval", xs, lo, hi, BAND_COLOURS[k % len(BAND_COLOURS)])
            for k, (level, (lo, hi)) in enumerate(sorted(bounds.items(), reverse=True))]


def forecast_chart(name: str, history, forecast, bounds: dict, origin) -> Chart:
    """The end of a series, its forecast and intervals ({level: (lo, hi)}), against steps from
    the forecast origin (the series' last value is step 0, the first forecast step 1)."""
    history = np.asarray(history, float)
    past = np.arange(1 - len(history), 1)
    ahead = np.arange(0, len(forecast) + 1)  # the forecast line starts at the last value
    levels = ", ".join(f"{level}%" for level in sorted(bounds))
    return Chart(f"{name}: forecast" + (f" with {levels} intervals" if levels else ""),
                 [("history", past, history, "default"), ("forecast", ahead, np.r_[history[-1], forecast], "magenta")],
                 _bands(ahead[1:], bounds), x_label=f"steps after {origin}")


def backtest_chart(name: str, context, actual, forecast, bounds: dict, origin) -> Chart:
    """A held-out window: the history before it, the actuals and the forecast (with intervals)."""
    context = np.asarray(context, float)
    past, ahead = np.arange(1 - len(context), 1), np.arange(1, len(actual) + 1)
    return Chart(f"{name}: actuals against the forecast",
                 [("history", past, context, "default"), ("actual", np.r_[0, ahead], np.r_[context[-1], actual], "cyan"),
                  ("forecast", ahead, forecast, "magenta")],
                 _bands(ahead, bounds), x_label=f"steps after {origin}")


def backtest_charts(scores, method: str, limit: int | None = None) -> list:
    """A backtest_chart for each of the first `limit` windows scored (all by default)."""
    folds = len(set(scores.fold)) > 1
    bounds = scores.bounds.get(method, {})
    return [backtest_chart(f"{name} (fold {fold})" if folds else str(name), scores.context[k], scores.actuals[k],
                           scores.forecasts[method][k], {lv: b[k] for lv, b in bounds.items()},
                           f"the cut ({cutoff} values in)")
            for k, (name, fold, cutoff) in enumerate(zip(scores.series[:limit], scores.fold, scores.cutoff))]


# colours of Chart for matplotlib (rich's names mostly differ)
MPL_COLOURS = {"default": "0.25", "cyan": "tab:blue", "magenta": "tab:red", "blue": "tab:blue",
               "green": "tab:green", "yellow": "tab:orange"}
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def require_matplotlib(path) -> None:
    """Refuse early (before any output) what save_charts could not write."""
    if Path(path).suffix.lower() not in PLOT_SUFFIXES:
        raise ConfigError(f"--plot-file {path}: use a .png, .svg or .pdf name")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ForecastError("--plot-file needs matplotlib: pip install matplotlib") from None


def save_charts(charts: list, path) -> None:
    """Draw the charts one below the other with matplotlib and write them (atomically) to `path`,
    as PNG, SVG or PDF by its suffix."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state
    from .modelfile import atomic_path
    fig = Figure(figsize=(9, 2.8 * len(charts)), layout="constrained")
    for ax, spec in zip(np.atleast_1d(fig.subplots(len(charts), 1)), charts):
        for k, (label, xs, lo, hi, colour) in enumerate(spec.bands):
            ax.fill_between(xs, lo, hi, color=MPL_COLOURS.get(colour, colour), alpha=0.15 + 0.15 * k, linewidth=0, label=label)
        for label, xs, ys, colour in spec.lines:
            ax.plot(xs, ys, color=MPL_COLOURS.get(colour, colour), linewidth=1.2, label=label)
        ax.set_title(spec.title, loc="left", fontsize=10)
        ax.set_xlabel(spec.x_label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fmt = Path(path).suffix.lower().lstrip(".")
    try:
        with atomic_path(str(path)) as tmp:
            fig.savefig(tmp, format=fmt, dpi=110)
    except OSError as exc:
        raise ForecastError(f"cannot write {path}: {exc.strerror or exc}") from None
