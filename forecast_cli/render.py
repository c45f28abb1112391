"""Everything the user sees besides data and charts (charts.py): messages, training
progress, tables and the reports on a model, drawn with rich.

All of it goes to stderr, except the tables `predict` and `evaluate` print when stdout is a
terminal.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from .charts import loss_curve

err = Console(stderr=True, highlight=False)


def set_quiet(value: bool) -> None:
    err.quiet = value


def error(message: str) -> None:
    """One line on stderr, even with --quiet: the reason for a non-zero exit."""
    Console(stderr=True, highlight=False).print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


def warn(message: str) -> None:
    err.print(Text("warning: ", style="yellow") + Text(message), soft_wrap=True)


def info(message: str) -> None:
    err.print(Text(message, style="dim"), soft_wrap=True)


def show(renderable) -> None:
    err.print(renderable)


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

LOG_SECONDS = 10.0   # in a log, a run's progress line at most this often between its first and last


def epochs_left(report) -> int:
    """Epochs a run has left at most unless its validation loss improves again: early stopping
    ends it `patience` epochs after its best one (or the epoch limit comes first)."""
    end = report.epochs if report.patience is None else min(report.epochs, report.best_epoch + report.patience)
    return max(end - report.epoch, 0)


def duration(seconds: float) -> str:
    """A short duration: <1s, 7s, 3m05s, 2h10m."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s" if seconds >= 1 else "<1s"
    return f"{s // 60}m{s % 60:02d}s" if s < 3600 else f"{s // 3600}h{s % 3600 // 60:02d}m"


@dataclass
class _Run:
    """What TrainingProgress knows of one training run."""

    label: str
    last: object = None              # the latest EpochReport
    seconds: float = 0.0             # wall time of the epochs reported
    epochs_seen: int = 0
    logged_at: float = float("-inf")
    task: object = None              # its bar, on a terminal

    def status(self) -> str:
        """The time left at the mean epoch time so far, or how the run ended."""
        r = self.last
        if epochs_left(r) == 0:
            return f"done (best {r.best_epoch})" if r.epoch >= r.epochs else f"stopped early (best {r.best_epoch})"
        return f"~{duration(epochs_left(r) * self.seconds / self.epochs_seen)} left"

    def losses(self, both: bool = True) -> str:
        """The losses of the latest epoch: train and validation (or only the one early
        stopping watches, beside a bar: 80 columns hold no more)."""
        r = self.last
        val = f"val {r.val_loss:.4f}" if r.val_loss is not None else ""
        return f"train {r.train_loss:.4f} {val}".strip() if both or not val else val


class TrainingProgress:
    """The progress of each training run — an ensemble member, then any member of the twin
    that calibrates the intervals; per fold with evaluate --folds — on stderr.

    On a terminal a bar each, ending where early stopping would end the run unless it
    improves (best epoch + patience, or the epoch limit).  Otherwise (a log file, cron, CI)
    a plain line per run at its first and last epoch and at most every LOG_SECONDS between.
    A run that ends before it is done (Ctrl-C, an error) reads "stopped at epoch k".
    """

    def __init__(self, console: Console | None = None, live: bool | None = None, clock=time.monotonic):
        """live: bars (default: when the console is a terminal that can redraw them)."""
        self.console, self.clock = console or err, clock
        self.live = self.console.is_terminal and not self.console.is_dumb_terminal if live is None else live
        self.runs: dict = {}
        self.bars: Progress | None = None

    def __enter__(self):
        return self   # the display starts with the first report: a run that fails before prints nothing

    def __exit__(self, *exc):
        for run in self.runs.values():
            if epochs_left(run.last):
                self._show(run, f"stopped at epoch {run.last.epoch}")
        if self.bars is not None:
            self.bars.stop()
        return False

    def __call__(self, report) -> None:
        run = self._run(report)
        run.last, run.seconds, run.epochs_seen = report, run.seconds + report.seconds, run.epochs_seen + 1
        now, first, last = self.clock(), run.epochs_seen == 1, epochs_left(report) == 0
        if self.live or first or last or now - run.logged_at >= LOG_SECONDS:
            run.logged_at = now
            self._show(run, run.status())

    def _run(self, report) -> _Run:
        key = (report.run, report.stage, report.member)
        if key not in self.runs:
            name = "model" if report.stage == "training" else report.stage
            label = f"{name} {report.member + 1}/{report.members}" if report.members > 1 else report.stage
            self.runs[key] = _Run(f"{report.run} {label}".strip())
        return self.runs[key]

    def _show(self, run: _Run, status: str) -> None:
        r = run.last
        if not self.live:
            self.console.print(Text(f"{run.label}  epoch {r.epoch}/{r.epochs}  {run.losses()}  {status}"), soft_wrap=True)
            return
        if self.bars is None:
            self.bars = Progress(TextColumn("[bold]{task.description}"), BarColumn(bar_width=10),
                                 TextColumn("epoch {task.fields[epoch]}"), TextColumn("{task.fields[losses]}"),
                                 TextColumn("{task.fields[status]}"), console=self.console, disable=self.console.quiet)
            self.bars.start()
        if run.task is None:
            run.task = self.bars.add_task(run.label, epoch="", losses="", status="")
        # the bar's end is where the run stops unless it improves: full only when it is done
        self.bars.update(run.task, completed=r.epoch, total=r.epoch + epochs_left(r),
                         epoch=f"{r.epoch}/{r.epochs}", losses=run.losses(both=False), status=status)


# ------------------------------------------------------------------------------------------
# tables


def key_value_table(title: str, rows) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(str(key), str(value))
    return table


SHORT_HEADERS = (("forecast-lo-", "lo-"), ("forecast-hi-", "hi-"), ("coverage-", "cov-"))  # (prefix, shorter)


def short_header(name: str) -> str:
    """A column's header in a table: interval columns shortened, the level kept (lo-80, cov-95)."""
    for prefix, shorter in SHORT_HEADERS:
        if name.startswith(prefix):
            return shorter + name[len(prefix):]
    return name


class FrameTable:
    """A pandas DataFrame as rich tables that fit the console's width without cutting a cell:
    the columns that do not fit go on to a further table, which repeats the key columns (those
    before the first column of floats: id, time, fold, method); shortened headers are spelled
    out below.  (Any cell still too wide is wrapped, never cut.)"""

    def __init__(self, frame, title: str | None = None, float_format: str = "{:.4f}"):
        self.title = title
        self.cells = {str(col): [("" if math.isnan(v) else float_format.format(v)) if isinstance(v, float) else str(v)
                                 for v in frame[col].tolist()] for col in frame.columns}
        self.numeric = {str(col) for col in frame.columns if frame[col].dtype.kind in "fiu"}
        names = list(self.cells)
        self.keys = names[:next((k for k, n in enumerate(names) if frame[n].dtype.kind == "f"), len(names))]

    def _table(self, columns: list, title: str | None) -> Table:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for name in columns:
            table.add_column(short_header(name), justify="right" if name in self.numeric else "left", overflow="fold")
        for row in zip(*(self.cells[name] for name in columns)):
            table.add_row(*row)
        return table

    def _parts(self, console: Console, options) -> list:
        """The columns of each table: as many as fit, the keys in each."""
        parts, current, unbounded = [], list(self.keys), options.update_width(1 << 20)
        for name in self.cells:
            if name in self.keys:
                continue
            wider = current + [name]
            width = Measurement.get(console, unbounded, self._table(wider, None)).maximum
            if len(current) > len(self.keys) and width > options.max_width:
                parts.append(current)
                wider = list(self.keys) + [name]
            current = wider
        return parts + [current]

    def __rich_console__(self, console: Console, options):
        for k, columns in enumerate(self._parts(console, options)):
            if k:
                yield Text()
            yield self._table(columns, self.title if k == 0 else None)
        shortened = [f"{short_header(name)} = {name}" for name in self.cells if short_header(name) != name]
        if shortened:
            yield Text(", ".join(shortened), style="dim")


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
