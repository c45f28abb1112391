"""The command line: parse options, call the core, render.  Nothing else lives here.

    lstm-forecast train data.csv                       → model.npz
    lstm-forecast predict [-m model.npz] [data.csv|-]  → CSV / JSON / table on stdout
    lstm-forecast info model.npz

Errors the user can cause (ForecastError, bad flags) end in one line on stderr and a named
exit code; see errors.ExitCode.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, List, Optional

import numpy as np
import typer
from typer.core import TyperGroup

try:  # typer ≥ 0.20 ships its own copy of click; older versions use click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_errors

from . import __version__, charts, intervals, modelfile, render
from .config import FIELDS, build_config, help_text, load_yaml
from .data import SeriesData, load_series
from .errors import ConfigError, ExitCode, ForecastError
from .evaluate import CONTEXT, LSTM, backtest, fold_holdout, test_set_scores
from .forecaster import Forecaster
from .output import forecast_frame, write_frame
from .stopping import Aborted, GracefulStop


class OneLineErrors(TyperGroup):
    """Usage errors as one line ('error: …') with exit status 2, instead of a framed box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.UsageError as exc:
            message = exc.format_message().strip().replace("\n", " ")
            if message:  # none after no arguments at all: the help is shown instead
                hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
                render.error(message + hint)
            sys.exit(ExitCode.USAGE)
        except typer.Abort:
            render.error("interrupted")
            sys.exit(ExitCode.INTERRUPTED)
        except click_errors.ClickException as exc:
            render.error(exc.format_message())
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    name="lstm-forecast",
    help="Forecast time series from CSV files with an LSTM written in NumPy.\n\n"
         "Example:  lstm-forecast train sales.csv && lstm-forecast predict > forecast.csv",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def handles_errors(command):
    """Turn the project's own errors into one line on stderr and their exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ForecastError as exc:
            render.error(str(exc))
            raise typer.Exit(exc.exit_code)
        except KeyboardInterrupt:
            render.error("interrupted")
            raise typer.Exit(ExitCode.INTERRUPTED)
        except Aborted as exc:
            render.error(f"aborted ({exc}); nothing was written")
            raise typer.Exit(exc.exit_code)

    return wrapper


def _version(value: bool):
    if value:
        print(f"lstm-forecast {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
):
    """Forecast time series from CSV files with an LSTM written in NumPy."""


# ------------------------------------------------------------------------------------------
# options shared by commands

DATA, MODEL, TRAINING = "Reading the data", "Model", "Training"


def _option(name: str, kind, panel: str, *flags: str):
    """A flag for config field `name`: its help text and choices come from config.py; None
    means 'not given', so the config file or the default applies."""
    return Annotated[Optional[kind], typer.Option(*flags, help=help_text(name), rich_help_panel=panel, show_default=False)]


IdCol = _option("id_col", str, DATA, "--id-col")
TimeCol = _option("time_col", str, DATA, "--time-col")
TargetCol = _option("target_col", str, DATA, "--target-col")
Missing = _option("missing", str, DATA, "--missing")
# how the file is written (dialect.py, dates.py): flags of `train`, `evaluate` and `predict` alike
READING_FLAGS = (("sep", ("--sep",)), ("decimal", ("--decimal",)), ("thousands", ("--thousands",)),
                 ("encoding", ("--encoding",)), ("date_format", ("--date-format",)), ("dayfirst", ("--dayfirst/--no-dayfirst",)),
                 ("wide", ("--wide/--no-wide",)), ("long", ("--long/--no-long",)))
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on stderr but errors.")]
ConfigFile = Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML file of options (see config.example.yaml); flags win over it.",
                                                   show_default=False, rich_help_panel=TRAINING)]

INTERVALS, CHARTS = "Prediction intervals", "Charts"
Levels = Annotated[Optional[List[int]], typer.Option(
    "--level", "-l", min=1, max=99, show_default=False, rich_help_panel=INTERVALS,
    help="Prediction interval at this level in percent (repeat for several), calibrated on the model's "
         "validation windows; see docs/intervals.md.")]
Plot = Annotated[bool, typer.Option("--plot", rich_help_panel=CHARTS, help="Draw a chart per series on stderr (stdout stays data).")]
PlotSeries = Annotated[Optional[int], typer.Option("--plot-series", min=1, show_default=False, rich_help_panel=CHARTS,
                                                   help="Chart only the first N series (default: all; at most 100 in an image).")]
PlotFile = Annotated[Optional[Path], typer.Option("--plot-file", show_default=False, rich_help_panel=CHARTS,
                                                  help="Also write the charts to an image: .png, .svg or .pdf (needs matplotlib: pip install matplotlib).")]

# (config field, flags, panel) of every option that shapes training, shared by train and evaluate
TRAINING_FLAGS = (
    ("horizon", ("--horizon", "-H"), MODEL), ("input_size", ("--input-size",), MODEL),
    ("season", ("--season",), MODEL), ("cell", ("--cell",), MODEL), ("hidden_size", ("--hidden-size",), MODEL),
    ("num_layers", ("--num-layers",), MODEL), ("dropout", ("--dropout",), MODEL),
    ("patch", ("--patch",), MODEL), ("skip", ("--skip/--no-skip",), MODEL),
    ("season_features", ("--season-features/--no-season-features",), MODEL), ("scaling", ("--scaling",), MODEL),
    ("epochs", ("--epochs", "-e"), TRAINING), ("batch_size", ("--batch-size",), TRAINING),
    ("batches_per_epoch", ("--batches-per-epoch",), TRAINING), ("learning_rate", ("--learning-rate", "--lr"), TRAINING),
    ("optimizer", ("--optimizer",), TRAINING), ("lr_schedule", ("--lr-schedule",), TRAINING),
    ("weight_decay", ("--weight-decay",), TRAINING), ("clip_norm", ("--clip-norm",), TRAINING),
    ("loss", ("--loss",), TRAINING), ("val_size", ("--val-size",), TRAINING), ("patience", ("--patience",), TRAINING),
    ("blend", ("--blend",), MODEL), ("ensemble", ("--ensemble",), TRAINING), ("workers", ("--workers",), TRAINING), ("seed", ("--seed",), TRAINING), ("dtype", ("--dtype",), TRAINING),
    ("id_col", ("--id-col",), DATA), ("time_col", ("--time-col",), DATA), ("target_col", ("--target-col",), DATA),
    ("missing", ("--missing",), DATA), *((name, flags, DATA) for name, flags in READING_FLAGS),
)


DATA_OPTIONS = ("id_col", "time_col", "target_col", "missing", *(name for name, _ in READING_FLAGS))


def _kind(name: str) -> type:
    """The Python type of config field `name` (config._opt's `kind`)."""
    return FIELDS[name].metadata["kind"]


def with_training_options(command):
    """Add a flag for every training option to `command`'s signature; the command receives
    them as one dict, `flags` (None where not given)."""
    names = [name for name, _, _ in TRAINING_FLAGS]

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        flags = {name: kwargs.pop(name) for name in names}
        return command(*args, flags=flags, **kwargs)

    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "flags"]
    kind = inspect.Parameter.KEYWORD_ONLY
    added = [inspect.Parameter(name, kind, default=None, annotation=_option(name, _kind(name), panel, *flags))
             for name, flags, panel in TRAINING_FLAGS]
    wrapper.__signature__ = inspect.Signature(
        [p.replace(kind=kind) if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is not p.empty else p for p in own] + added)
    return wrapper


def with_reading_options(command):
    """Add a flag for every READING_FLAGS option to `command`'s signature; the command
    receives them as one dict, `reading` (None where not given)."""
    names = [name for name, _ in READING_FLAGS]

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        return command(*args, reading={name: kwargs.pop(name) for name in names}, **kwargs)

    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "reading"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                               annotation=_option(name, _kind(name), DATA, *flags)) for name, flags in READING_FLAGS]
    wrapper.__signature__ = inspect.Signature(own + added)
    return wrapper


def _start(quiet: bool) -> None:
    render.set_quiet(quiet)
    render.install_log_handler()


# ------------------------------------------------------------------------------------------
# train


@app.command()
@handles_errors
@with_training_options
def train(
    data: Annotated[str, typer.Argument(help="CSV file of one or many series, or - for standard input.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the model file.")] = Path("model.npz"),
    config: ConfigFile = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(
        "--checkpoint-every", min=1, show_default=False, rich_help_panel=TRAINING,
        help="Write a checkpoint every N epochs (weights, optimiser and random state, history).")] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(
        "--checkpoint", show_default=False, rich_help_panel=TRAINING,
        help="Where checkpoints go (default: the output with .ckpt.npz).")] = None,
    resume: Annotated[Optional[Path], typer.Option(
        "--resume", show_default=False, rich_help_panel=TRAINING,
        help="Continue the training run saved in this checkpoint (same data; its options are used).")] = None,
    quiet: Quiet = False,
    flags: dict = None,
):
    """Train a model on DATA and write it to a model file.

    Progress and the loss curve go to stderr. The model file holds everything needed to
    forecast, including the end of each training series, so `predict` can continue them.
    Ctrl-C (or SIGTERM) stops after the current mini-batch and saves the best model so far
    (exit 130, or 143); a second Ctrl-C aborts without writing anything.

    Examples:

      lstm-forecast train sample_data/air_passengers.csv

      lstm-forecast train sales.csv --horizon 12 --epochs 50 -o sales.npz

      lstm-forecast train hourly.csv --config config.yaml --seed 7

      lstm-forecast train big.csv --checkpoint-every 5    # then, after a crash: --resume model.ckpt.npz
    """
    _start(quiet)
    file_values = load_yaml(str(config)) if config else {}
    cfg = build_config(file_values, flags)
    modelfile.check_writable(str(output))
    if checkpoint_every:
        modelfile.check_writable(str(checkpoint or output.with_suffix(".ckpt.npz")), "checkpoint")
    ckpt = modelfile.load_checkpoint(str(resume)) if resume else None
    if ckpt:
        _check_resume_options(cfg, ckpt.config, file_values, flags, resume, config)
    series = load_series(data, cfg)
    started = time.perf_counter()
    forecaster = Forecaster(cfg)  # resuming, it takes the checkpoint's options (but for workers)
    save_checkpoint = _checkpointer(checkpoint_every, checkpoint or output.with_suffix(".ckpt.npz"))
    with render.TrainingProgress() as progress, GracefulStop(on_first=_say_stopping) as stop:
        forecaster.fit(series.values, series.ids, series.phase0(), series.freq, on_epoch=progress,
                       on_checkpoint=save_checkpoint, resume=ckpt, should_stop=stop.requested)
    elapsed = time.perf_counter() - started
    if forecaster.interrupted and not forecaster.members:
        render.error(f"interrupted before the first epoch ended; {output} was not written")
        raise typer.Exit(stop.exit_code)
    modelfile.save(str(output), forecaster, series_info(series, forecaster))
    if forecaster.interrupted:
        epoch = forecaster.histories[-1].best_epoch
        render.error(f"interrupted: saved the best model so far (epoch {epoch}) to {output}")
        raise typer.Exit(stop.exit_code)
    if not quiet:
        render.show(charts.loss_curve(forecaster.histories[0].to_dict()))
        render.show(render.training_summary(forecaster, len(series.ids), elapsed, str(output)))


def _check_resume_options(cfg, saved, file_values: dict, flags: dict, resume: Path, config: Optional[Path]) -> None:
    """ConfigError listing the options given (flags or config file) that differ from the
    checkpoint's: a resumed run keeps its own options, so these could only be ignored.
    Reading options and --workers may differ (they do not change the model)."""
    given = {str(k).replace("-", "_") for k in file_values} | {k for k, v in flags.items() if v is not None}
    differ = [name for name in FIELDS if name in given and name not in DATA_OPTIONS + ("workers",)
              and getattr(cfg, name) is not None and getattr(cfg, name) != getattr(saved, name)]
    if differ:
        said = {n: f"--{n.replace('_', '-')} {getattr(cfg, n)}" if flags.get(n) is not None
                else f"{n} {getattr(cfg, n)} in {config}" for n in differ}
        listed = ", ".join(f"{said[n]} (checkpoint: {getattr(saved, n)})" for n in differ)
        raise ConfigError(f"--resume {resume} continues a run with its own options; these differ: {listed}; "
                          "drop them, or train anew")


def _say_stopping(signum: int) -> None:
    render.warn("stopping after this mini-batch to save the best model so far; press Ctrl-C again to abort")


def _checkpointer(every: Optional[int], path: Path):
    """A callback that writes a checkpoint after every `every`-th epoch and the last one."""
    if not every:
        return None

    def save(ckpt) -> None:
        if ckpt.loop.epoch % every == 0 or ckpt.loop.finished:
            modelfile.save_checkpoint(str(path), ckpt)

    return save


def series_info(series: SeriesData, forecaster: Forecaster) -> dict:
    """The data-layer facts the model file keeps, for the series the model remembers."""
    info = series.info()
    keep = [series.ids.index(i) for i in forecaster.series_ids]
    info["last_times"] = [info["last_times"][k] for k in keep]
    info["freqs"] = [info["freqs"][k] for k in keep]
    return info


# ------------------------------------------------------------------------------------------
# predict


def columns_used(columns: dict) -> dict:
    """The column options a data set or model was read with (id/time may be absent: None),
    as config values, so other files are read the same way."""
    return {key: name for key, name in columns.items() if name}


def _output_format(fmt: Optional[Format], output: Optional[Path]) -> str:
    if fmt:
        return fmt.value
    if output is not None:
        return "json" if output.suffix.lower() == ".json" else "csv"
    return "table" if sys.stdout.isatty() else "csv"


class Format(str, Enum):
    csv = "csv"
    json = "json"
    table = "table"


class InfoFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
@handles_errors
@with_reading_options
def predict(
    data: Annotated[Optional[str], typer.Argument(
        help="CSV of series to forecast, or - for standard input. Without it, the model's training series are continued.",
        show_default=False)] = None,
    model: Annotated[Path, typer.Option("--model", "-m", help="Model file written by `train`.")] = Path("model.npz"),
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", show_default=False,
                                               help="csv, json or table. Default: table on a terminal, csv when piped or with --output.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", show_default=False,
                                                   help="Write the forecasts to this file (atomically) instead of stdout.")] = None,
    id_col: IdCol = None, time_col: TimeCol = None, target_col: TargetCol = None, missing: Missing = None,
    level: Levels = None, plot: Plot = False, plot_series: PlotSeries = None, plot_file: PlotFile = None,
    quiet: Quiet = False,
    reading: dict = None,
):
    """Forecast the next `horizon` steps of each series.

    Output columns: unique_id, ds (the future timestamps), forecast, and with --level L
    forecast-lo-L and forecast-hi-L: the central L% prediction interval.

    Examples:

      lstm-forecast predict                                  # continue the training series

      lstm-forecast predict -m model.npz new.csv > forecast.csv

      lstm-forecast predict --level 80 --level 95 --plot     # intervals, and charts on stderr

      cat new.csv | lstm-forecast predict -m model.npz - | head
    """
    _start(quiet)
    if plot_file:
        charts.require_matplotlib(plot_file)
    levels = sorted(set(level or []))
    forecaster, info = modelfile.load(str(model))
    if data is None:
        ids, last_times, freqs = forecaster.series_ids, info.get("last_times", []), info.get("freqs", [])
        values, phase0 = None, None
        kind, step = info.get("time_kind", "integer"), info.get("step", 1)
    else:
        series = _read_for_model(data, forecaster, info, dict(id_col=id_col, time_col=time_col, target_col=target_col,
                                                                missing=missing, **reading), str(model))
        values, phase0 = series.values, series.phase0()
        ids, freqs, kind, step = series.ids, series.freqs, series.time_kind, series.step
        last_times = series.info()["last_times"]
    forecasts, bounds = _forecast(forecaster, levels, values, phase0)
    extra = {f"forecast-{side}-{lv}": b for lv in levels for side, b in zip(("lo", "hi"), bounds[lv])}
    style = info.get("time_style") if data is None else series.style
    frame = forecast_frame(ids, last_times, freqs, kind, step, forecasts, extra, style)
    _emit(frame, _output_format(fmt, output), output, title=f"forecast ({forecaster.config.horizon} steps)")
    if plot or plot_file:
        history = forecaster.tails if values is None else values
        figures = [charts.forecast_chart(ids[k], history[k][-CONTEXT * forecaster.config.horizon:], forecasts[k],
                                         {lv: (lo[k], hi[k]) for lv, (lo, hi) in bounds.items()}, last_times[k] if last_times else "the end")
                   for k in range(min(plot_series or len(ids), len(ids)))]
        _draw(figures, plot, plot_file)


def _forecast(forecaster: Forecaster, levels: list, values, phase0):
    """(forecasts, {level: (lo, hi)}), warning where the calibration is too small for a level."""
    if not levels:
        return forecaster.predict(values, phase0), {}
    forecasts, bounds = intervals.predict(forecaster, levels, values, phase0)
    for lv in levels:
        if not forecaster.calibration.supports(lv):
            render.warn(f"the {lv}% interval rests on only {forecaster.calibration.count.min()} calibration residuals per "
                        f"step, too few to reach {lv}% (it is the widest seen); more series or a larger --val-size help")
    return forecasts, bounds


MAX_IMAGE_CHARTS = 100  # an image of more would pass matplotlib's size limit


def _draw(figures: list, plot: bool, plot_file: Optional[Path]) -> None:
    """Charts (charts.Chart) on stderr and/or to an image file."""
    if plot:
        for chart in figures:
            render.show(charts.draw(chart, width=72, height=12))
    if plot_file:
        if len(figures) > MAX_IMAGE_CHARTS:
            render.warn(f"{plot_file} shows the first {MAX_IMAGE_CHARTS} of {len(figures)} charts (see --plot-series)")
        charts.save_charts(figures[:MAX_IMAGE_CHARTS], plot_file)
        render.info(f"wrote {min(len(figures), MAX_IMAGE_CHARTS)} chart(s) to {plot_file}")


def _read_for_model(data: str, forecaster: Forecaster, info: dict, flags: dict, model_name: str) -> SeriesData:
    """Read DATA with the columns the model was trained on (flags override), keeping the
    series long enough to forecast and warning about the others."""
    trained = {**columns_used(info.get("columns", {})), **info.get("reading", {})}
    series = load_series(data, build_config(trained, flags), expected_by=None if any(flags.values()) else model_name)
    if info.get("freq") and series.freq and series.freq != info["freq"]:
        render.warn(f"the data's frequency {series.freq} differs from the model's {info['freq']}")
    need = forecaster.config.input_size
    keep = [k for k, v in enumerate(series.values) if len(v) >= need]
    for k in sorted(set(range(len(series.ids))) - set(keep)):
        render.warn(f"series {series.ids[k]} skipped: {len(series.values[k])} points, the model needs {need}")
    if not keep:
        raise ForecastError(f"no series has the {need} points the model needs to forecast")
    return series.subset(keep)


def _emit(frame, fmt: str, output: Optional[Path], title: str) -> None:
    """Data to stdout or to a file written atomically."""
    if output is not None:
        if fmt == "table":
            raise ConfigError("--format table cannot be written to a file; use csv or json")
        try:
            with modelfile.atomic_path(str(output)) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
                write_frame(frame, fmt, fh)
        except OSError as exc:
            raise ForecastError(f"cannot write {output}: {exc.strerror or exc}") from None
        render.info(f"wrote {len(frame)} rows to {output}")
    elif fmt == "table":
        render.print_to_stdout(render.FrameTable(frame, title=title))
    else:
        write_frame(frame, fmt, sys.stdout)


# ------------------------------------------------------------------------------------------
# evaluate


@app.command()
@handles_errors
@with_training_options
def evaluate(
    data: Annotated[str, typer.Argument(help="CSV file of series, or - for standard input.", show_default=False)],
    model: Annotated[Optional[Path], typer.Option("--model", "-m", show_default=False,
                                                  help="Score this trained model instead of training one per fold.")] = None,
    folds: Annotated[int, typer.Option("--folds", min=1, max=1000, help="Rolling origins: hold out the last horizon steps, then move back --step and again.")] = 1,
    step: Annotated[Optional[int], typer.Option("--step", min=1, show_default=False, help="Steps between origins (default: the horizon).")] = None,
    test: Annotated[Optional[str], typer.Option("--test", show_default=False,
                                                help="CSV of actuals that follow DATA (same ids): score against it instead of a holdout.")] = None,
    per_series: Annotated[bool, typer.Option("--per-series", help="One row per series, fold and method instead of the summary.")] = False,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", show_default=False,
                                                  help="csv, json or table. Default: table on a terminal, csv when piped.")] = None,
    config: ConfigFile = None,
    level: Levels = None, plot: Plot = False, plot_series: PlotSeries = None, plot_file: PlotFile = None,
    quiet: Quiet = False,
    flags: dict = None,
):
    """Backtest: score the LSTM beside naive, seasonal naive and M4's Naive2 on the same windows.

    Holds out the last `horizon` steps of each series (K windows with --folds K), trains on
    what precedes each cut (or uses --model) and reports MAE, RMSE, sMAPE, MASE and OWA
    (relative to Naive2), as the M4 competition defines them. OWA below 1 beats Naive2.
    With --level L, also the coverage, MSIS and ACD (|coverage − L%|) of the LSTM's L%
    intervals and of seasonal naive's; --plot draws actuals against forecasts per window.

    Examples:

      lstm-forecast evaluate sample_data/air_passengers.csv

      lstm-forecast evaluate hourly.csv --level 95 --plot --plot-series 3

      lstm-forecast evaluate sales.csv --folds 3 --epochs 50 --format csv > scores.csv

      lstm-forecast evaluate history.csv --test actuals.csv -m model.npz
    """
    _start(quiet)
    if plot_file:
        charts.require_matplotlib(plot_file)
    levels = sorted(set(level or []))
    cfg = build_config(load_yaml(str(config)) if config else {}, flags)
    forecaster = None
    if model is not None:
        forecaster, info = modelfile.load(str(model))
        cfg = build_config({**columns_used(info.get("columns", {})), **info.get("reading", {})}, flags, base=forecaster.config)
    series = load_series(data, cfg)
    with render.TrainingProgress() as progress:
        if test:
            actual = load_series(test, cfg.replace(**columns_used(series.columns)))
            scores, resolved = test_set_scores(series.values, series.ids, series.phase0(), series.freq,
                                               dict(zip(actual.ids, actual.values)), cfg, forecaster, progress, levels)
        else:
            if forecaster is not None:
                _warn_if_trained_on_the_holdout(forecaster, info, series, folds, step)
            scores, resolved = backtest(series.values, series.ids, series.phase0(), series.freq, cfg, folds, step,
                                        forecaster, progress, levels)
    frame = render.scores_frame(scores, per_series)
    title = (f"{len(set(scores.series))} series, horizon {resolved.horizon}, season {resolved.season}"
             + (f", {folds} folds" if folds > 1 and not test else ""))
    _emit(frame, _output_format(fmt, None), None, title=title)
    if plot or plot_file:
        _draw(charts.backtest_charts(scores, LSTM, plot_series), plot, plot_file)


def _warn_if_trained_on_the_holdout(forecaster: Forecaster, info: dict, series: SeriesData, folds: int,
                                    step: Optional[int]) -> None:
    """A model scored on windows it was trained on looks better than it is: say so."""
    if info.get("time_kind") != series.time_kind or "last_times" not in info:
        return
    trained_until = dict(zip(forecaster.series_ids, info["last_times"]))
    back = fold_holdout(forecaster.config.horizon, folds - 1, step or forecaster.config.horizon)
    as_time = int if series.time_kind == "integer" else np.datetime64
    seen = [name for name, t in zip(series.ids, series.times)
            if name in trained_until and len(t) >= back and as_time(trained_until[name]) >= as_time(t[-back])]
    if seen:
        render.warn(f"the model was trained on the held-out windows of {len(seen)} series (e.g. {seen[0]}), so "
                    "these scores are optimistic; evaluate without --model, or with --test on data after the model's")


# ------------------------------------------------------------------------------------------
# info


@app.command()
@handles_errors
def info(
    model: Annotated[Path, typer.Argument(help="Model file to describe.")] = Path("model.npz"),
    fmt: Annotated[InfoFormat, typer.Option("--format", "-f", help="table or json.")] = InfoFormat.table,
):
    """Show what a model file holds: options, series, training history and its loss curve.

    Examples:

      lstm-forecast info model.npz

      lstm-forecast info model.npz --format json | jq .config
    """
    _start(False)
    forecaster, data_info = modelfile.load(str(model))
    if fmt == InfoFormat.json:
        print(json.dumps(render.model_facts(forecaster, data_info, str(model)), indent=2))
        return
    render.print_to_stdout(render.model_report(forecaster, data_info, str(model)))


def main() -> None:
    """Console-script entry point."""
    app()
