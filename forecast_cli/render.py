"""Everything the user sees besides data: progress, warnings, errors, tables and charts (rich).

All of it goes to stderr, except the forecast table `predict` prints when stdout is a
terminal.  Charts are drawn with braille characters (2×4 dots a cell), so a 60-column chart
has 120×(4·rows) points of resolution without any plotting dependency.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

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
    """A progress bar per ensemble member: epoch, losses, learning rate, ETA (on stderr)."""

    def __init__(self):
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=24), TaskProgressColumn(),
            TextColumn("epoch {task.completed}/{task.total}"), TextColumn("{task.fields[losses]}"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=err, transient=False, disable=quiet)
        self.tasks = {}
        self.started = time.perf_counter()

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        for task in self.progress.tasks:  # a run that stopped early ends with a full bar
            self.progress.update(task.id, total=task.completed)
        return self.progress.__exit__(*exc)

    def __call__(self, report) -> None:
        if report.member not in self.tasks:
            label = f"model {report.member + 1}/{report.members}" if report.members > 1 else "training"
            self.tasks[report.member] = self.progress.add_task(label, total=report.epochs, losses="")
        val = f"  val {report.val_loss:.4f}" if report.val_loss is not None else ""
        losses = f"train {report.train_loss:.4f}{val}  lr {report.lr:.2g}"
        self.progress.update(self.tasks[report.member], completed=report.epoch, losses=losses)


# ------------------------------------------------------------------------------------------
# charts

_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # braille dot bits by (row, col)


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

    def band(self, xs, lo, hi, style: str) -> None:
        """Fill vertically between lo and hi at each x."""
        for x, a, b in zip(xs, lo, hi):
            top, bottom = self._dot(x, max(a, b)), self._dot(x, min(a, b))
            if top and bottom:
                for r in range(top[0], bottom[0] + 1):
                    self._set(r, top[1], style)

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


def chart(series: list[tuple], title: str = "", width: int = 60, height: int = 10, bands: list[tuple] = (),
          x_label: str = "") -> Text:
    """A line chart as rich Text.

    series: [(label, xs, ys, style)], drawn in order; bands: [(xs, lo, hi, style)] drawn first.
    """
    xs_all = np.concatenate([np.asarray(s[1], float) for s in series] + [np.asarray(b[0], float) for b in bands])
    ys_all = np.concatenate([np.asarray(s[2], float) for s in series] +
                            [np.asarray(v, float) for b in bands for v in (b[1], b[2])])
    ys_all = ys_all[np.isfinite(ys_all)]
    lo, hi = (float(ys_all.min()), float(ys_all.max())) if ys_all.size else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    canvas = Canvas(width, height, (float(xs_all.min()), float(xs_all.max())), (lo, hi))
    for xs, blo, bhi, style in bands:
        canvas.band(xs, blo, bhi, style)
    for _, xs, ys, style in series:
        canvas.line(xs, ys, style)
    labels = [_tick(hi)] + [""] * (height - 2) + [_tick(lo)]
    pad = max(len(s) for s in labels)
    text = Text()
    if title:
        text.append(title + "\n", style="bold")
    for label, row in zip(labels, canvas.rows()):
        text.append(label.rjust(pad) + " ┤")
        text.append_text(row)
        text.append("\n")
    text.append(" " * pad + " └" + "─" * width + "\n")
    x0, x1 = _tick(float(xs_all.min())), _tick(float(xs_all.max()))
    text.append(" " * (pad + 2) + x0 + x_label.center(width - len(x0) - len(x1)) + x1 + "\n", style="dim")
    legend = Text(" " * (pad + 2))
    for label, _, _, style in series:
        legend.append("━━ ", style=style)
        legend.append(label + "   ")
    text.append_text(legend)
    return text


def loss_curve(history: dict, title: str = "loss per epoch") -> Text:
    """Train (and validation) loss against epoch."""
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    series = [("train", epochs, history["train_loss"], "cyan")]
    if any(v is not None for v in history["val_loss"]):
        series.append(("validation", epochs, [np.nan if v is None else v for v in history["val_loss"]], "magenta"))
    return chart(series, title=title, x_label="epoch")


def show(renderable) -> None:
    err.print(renderable)


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
        table.add_row(*[float_format.format(v) if isinstance(v, float) else str(v) for v in row])
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
        ("network", f"{c['num_layers']}×LSTM({c['hidden_size']}) + dense → {c['horizon']}, "
                    f"{facts['parameters_per_model']:,} parameters × {c['ensemble']} model(s), {c['dtype']}"),
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
    """Scores as a table: one row per method (means over windows), or per series/fold/method."""
    import pandas as pd
    if not per_series:
        summary = scores.summary()
        return pd.DataFrame([{"method": m, **{k: v[k] for k in ("MAE", "RMSE", "sMAPE", "MASE", "OWA")}}
                             for m, v in summary.items()])
    rows = []
    for method, by_metric in scores.by_method.items():
        for k, (series, fold) in enumerate(zip(scores.series, scores.fold)):
            rows.append({"unique_id": series, "fold": fold, "method": method,
                         **{name: values[k] for name, values in by_metric.items()}})
    return pd.DataFrame(rows)
