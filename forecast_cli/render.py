"""Everything the user sees besides data: progress, warnings, errors, tables and charts (rich).

All of it goes to stderr, except the forecast table `predict` prints when stdout is a
terminal.  Charts are drawn with braille characters (2×4 dots a cell), so a 60-column chart
has 120×(4·rows) points of resolution without any plotting dependency.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .errors import ConfigError, ForecastError

err = Console(stderr=True, highlight=False)
quiet = False


def set_quiet(value: bool) -> None:
    global quiet
    quiet = value
    err.quiet = value


def error(message: str) -> None:
    """One line on stderr, even with --quiet: the reason for a non-zero exit."""
    Console(stderr=True, highlight=False).print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


def warn(message: str) -> None:
    err.print(Text("warning: ", style="yellow") + Text(message), soft_wrap=True)


def info(message: str) -> None:
    err.print(Text(message, style="dim"), soft_wrap=True)


class WarningHandler(logging.Handler):
    """Routes the core's logging warnings to `warn`."""

    def emit(self, record: logging.LogRecord) -> None:
        warn(record.getMessage())


def install_log_handler() -> None:
    logger = logging.getLogger("forecast_cli")
    if not any(isinstance(h, WarningHandler) for h in logger.handlers):
        logger.addHandler(WarningHandler())
    logger.setLevel(logging.WARNING)
    logger.propagate = False


# ------------------------------------------------------------------------------------------
# training progress


class TrainingProgress:
    """A progress bar per ensemble member: epoch, losses, ETA (on stderr); then,
    when the intervals need one, a bar per member of the twin that calibrates them."""

    def __init__(self):
        self.progress = Progress(
            # fits 80 columns: the learning rate and the elapsed time are in the summary and `info`
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=12), TaskProgressColumn(),
            TextColumn("epoch {task.completed}/{task.total}"), TextColumn("{task.fields[losses]}"),
            TextColumn("eta"), TimeRemainingColumn(),
            console=err, transient=False, disable=quiet)
        self.tasks = {}
        self.started = time.perf_counter()

    def __enter__(self):
        return self   # the display starts with the first report: a run that fails before prints nothing

    def __exit__(self, *exc):
        if not self.tasks:
            return False
        for task in self.progress.tasks:  # a run that stopped early ends with a full bar
            self.progress.update(task.id, total=task.completed)
        return self.progress.__exit__(*exc)

    def __call__(self, report) -> None:
        if not self.tasks:
            self.progress.__enter__()
        key = (report.stage, report.member)
        if key not in self.tasks:
            name = "model" if report.stage == "training" else report.stage
            label = f"{name} {report.member + 1}/{report.members}" if report.members > 1 else report.stage
            self.tasks[key] = self.progress.add_task(label, total=report.epochs, losses="")
        val = f"  val {report.val_loss:.4f}" if report.val_loss is not None else ""
        losses = f"train {report.train_loss:.4f}{val}"
        self.progress.update(self.tasks[key], completed=report.epoch, losses=losses)


# ------------------------------------------------------------------------------------------
# charts: one description (Chart), drawn in the terminal (`draw`) or to an image (`save_charts`)

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


def show(renderable) -> None:
    err.print(renderable)


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
    info(f"wrote {len(charts)} chart(s) to {path}")


# ------------------------------------------------------------------------------------------
# tables


def key_value_table(title: str, rows) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(str(key), str(value))
    return table


def frame_table(frame, title: str | None = None, float_format: str = "{:.4f}") -> Table:
    """A pandas DataFrame as a rich table (numbers right-aligned)."""
    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        numeric = frame[col].dtype.kind in "fi"
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*[("" if math.isnan(v) else float_format.format(v)) if isinstance(v, float) else str(v) for v in row])
    return table


def print_to_stdout(renderable) -> None:
    Console(highlight=False).print(renderable)


# ------------------------------------------------------------------------------------------
# reports on a model


def _n_params(forecaster) -> int:
    return int(sum(a.size for a in forecaster.members[0].values()))


def model_facts(forecaster, data_info: dict, path: str) -> dict:
    """What `info` shows, as plain data (also the JSON output of `info --format json`)."""
    from . import modelfile
    histories = [h.to_dict() for h in forecaster.histories]
    return {
        "path": path,
        "format_version": modelfile.FORMAT_VERSION,
        "config": forecaster.config.to_dict(),
        "parameters_per_model": _n_params(forecaster),
        "series": {"count": len(forecaster.series_ids), "ids": forecaster.series_ids,
                   "last_times": data_info.get("last_times", [])},
        "data": {k: data_info.get(k) for k in ("columns", "time_kind", "freq", "step")},
        "training": [{"epochs_run": len(h["train_loss"]), "best_epoch": h["best_epoch"],
                      "stopped_early": h["stopped_early"],
                      "best_val_loss": h["val_loss"][h["best_epoch"] - 1] if h["best_epoch"] else None}
                     for h in histories],
        "histories": histories,
        "intervals": None if forecaster.calibration is None else {
            "method": "conformal", "residuals_per_step": int(forecaster.calibration.count.min())},
    }


def model_report(forecaster, data_info: dict, path: str):
    from rich.console import Group
    facts = model_facts(forecaster, data_info, path)
    c = facts["config"]
    ids = facts["series"]["ids"]
    shown = ", ".join(ids[:8]) + (f" … ({len(ids)} in all)" if len(ids) > 8 else "")
    about = key_value_table(f"model {path}", [
        ("series", shown or "none"),
        ("data", f"target {facts['data']['columns'].get('target_col')}, frequency {facts['data']['freq'] or 'none'}"),
        ("task", f"horizon {c['horizon']}, input_size {c['input_size']}, season {c['season']}"),
        ("network", f"{c['num_layers']}×{c['cell'].upper()}({c['hidden_size']}) + dense → {c['horizon']}, "
                    f"{facts['parameters_per_model']:,} parameters × {c['ensemble']} model(s), {c['dtype']}"),
        ("intervals", f"conformal, {facts['intervals']['residuals_per_step']}+ calibration residuals per step (docs/intervals.md)"
                      if facts["intervals"] else "none (trained with val_size 0, or by an older version)"),
        ("training", "; ".join(f"{t['epochs_run']} epochs, best {t['best_epoch']}"
                               + (f" (val {t['best_val_loss']:.4f})" if t['best_val_loss'] is not None else "")
                               for t in facts["training"])),
    ])
    options = key_value_table("options", [(k, v) for k, v in c.items()])
    return Group(about, Text(), options, Text(), loss_curve(facts["histories"][0]))


def training_summary(forecaster, n_series: int, seconds: float, path: str) -> Table:
    c = forecaster.config
    best = [h.best_epoch for h in forecaster.histories]
    runs = [len(h.train_loss) for h in forecaster.histories]
    vals = [h.val_loss[h.best_epoch - 1] for h in forecaster.histories if h.best_epoch and h.val_loss[h.best_epoch - 1] is not None]
    rows = [
        ("series", f"{len(forecaster.series_ids)} of {n_series}"),
        ("task", f"horizon {c.horizon}, input_size {c.input_size}, season {c.season}"),
        ("epochs", ", ".join(f"{r} (best {b})" for r, b in zip(runs, best))),
    ]
    if vals:
        rows.append(("validation loss", ", ".join(f"{v:.4f}" for v in vals)))
    rows += [("time", f"{seconds:.1f} s"), ("model", path)]
    return key_value_table("trained", rows)


def scores_frame(scores, per_series: bool):
    """Scores as a table: one row per method (means over windows), or per series/fold/method;
    with interval levels also coverage-L, MSIS-L and ACD-L (blank for methods without intervals)."""
    import pandas as pd
    interval = [f"{name}-{level}" for level in scores.levels for name in ("coverage", "MSIS", "ACD")]
    if not per_series:
        summary = scores.summary()
        return pd.DataFrame([{"method": m, **{k: v.get(k, float("nan")) for k in ("MAE", "RMSE", "sMAPE", "MASE", "OWA", *interval)}}
                             for m, v in summary.items()])
    rows = []
    for method, by_metric in scores.by_method.items():
        for k, (series, fold) in enumerate(zip(scores.series, scores.fold)):
            rows.append({"unique_id": series, "fold": fold, "method": method,
                         **{name: values[k] for name, values in by_metric.items()}})
    return pd.DataFrame(rows)
