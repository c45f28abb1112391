"""Training progress on stderr (render.TrainingProgress): plain lines when stderr is not a
terminal (a log, cron, CI), bars on one; the time left from early stopping's patience, not the
epoch limit; an honest state after a stop; evaluate --folds names the fold."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys

import pytest
from rich.console import Console
from typer.testing import CliRunner

from forecast_cli import render
from forecast_cli.cli import app
from forecast_cli.train import EpochReport

from conftest import AIR, TINY, wait_until


def report(epoch, best, epochs=100, patience=10, member=0, members=1, seconds=2.0, run=""):
    return EpochReport(member, members, epoch, epochs, 0.5, 0.25, 1e-3, seconds, best, patience, run=run)


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def plain_progress():
    out, clock = io.StringIO(), Clock()
    console = Console(file=out, width=80, color_system=None)
    return render.TrainingProgress(console=console, live=False, clock=clock), out, clock


def live_progress():
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    return render.TrainingProgress(console=console, live=True), out


def test_epochs_left_comes_from_patience_not_the_epoch_limit():
    assert render.epochs_left(report(epoch=5, best=4)) == 9            # best + patience − epoch
    assert render.epochs_left(report(epoch=95, best=94)) == 5          # the limit comes first
    assert render.epochs_left(report(epoch=14, best=4)) == 0           # early stopping ends it now
    assert render.epochs_left(report(epoch=5, best=4, patience=None)) == 95   # no validation: the limit


def test_time_left_uses_the_mean_epoch_time_and_patience():
    progress, out, _ = plain_progress()
    with progress:
        progress(report(epoch=1, best=1, seconds=3.0))
    assert "~30s left" in out.getvalue()            # 10 epochs of patience at 3 s; not 99 × 3 s


def test_plain_lines_at_first_and_last_epoch_and_every_few_seconds():
    progress, out, clock = plain_progress()
    with progress:
        for epoch in range(1, 13):
            clock.now = epoch * 1.0                 # 1 s an epoch: a line at 1, then after LOG_SECONDS
            progress(report(epoch=epoch, best=min(epoch, 2), patience=10))
    lines = out.getvalue().splitlines()
    assert [re.search(r"epoch (\d+)/100", line).group(1) for line in lines] == ["1", "11", "12"]
    assert lines[-1].endswith("stopped early (best 2)")
    assert all("━" not in line and "\x1b" not in line for line in lines)


def test_bars_do_not_read_full_after_a_stop():
    progress, out = live_progress()
    with progress:
        for epoch in (1, 2, 3):
            progress(report(epoch=epoch, best=epoch, members=2))
            progress(report(epoch=epoch, best=1, members=2, member=1, patience=2))
    unfinished, early = progress.bars.tasks
    assert unfinished.completed == 3 and unfinished.percentage < 100
    assert early.percentage == 100                  # it did stop early: full is the truth
    text = out.getvalue()
    assert "stopped at epoch 3" in text and "stopped early (best 1)" in text


def test_plain_line_after_a_stop_says_where():
    progress, out, _ = plain_progress()
    with progress:
        progress(report(epoch=1, best=1))
        progress(report(epoch=2, best=2))
    assert out.getvalue().splitlines()[-1].endswith("stopped at epoch 2")


def test_train_with_stderr_not_a_terminal_prints_progress_lines(tmp_path):
    result = CliRunner().invoke(app, ["train", str(AIR), *TINY, "-o", str(tmp_path / "m.npz")])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    for member in ("model 1/2", "model 2/2"):
        assert any(line.startswith(f"{member}  epoch 1/3  train ") for line in lines), result.stderr
        assert any(line.startswith(f"{member}  epoch 3/3  train ") and "done (best" in line for line in lines)
    assert "\x1b[" not in result.stderr and "100%" not in result.stderr   # no redrawn bars


def test_evaluate_folds_names_the_fold_in_progress():
    result = CliRunner().invoke(app, ["evaluate", str(AIR), *TINY, "--folds", "2", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    for fold in ("fold 1/2", "fold 2/2"):
        assert f"{fold} model 1/2  epoch 1/3" in result.stderr, result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals")
def test_ctrl_c_logs_stopped_at_epoch(tmp_path, monkeypatch):
    """A real run with stderr to a file, interrupted after its first epoch."""
    log = tmp_path / "train.log"
    endless = ["--epochs", "100000", "--patience", "100000", "--hidden-size", "4", "--ensemble", "1"]
    with open(log, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "forecast_cli", "train", str(AIR), *endless, "-o",
                                 str(tmp_path / "m.npz")], stdout=subprocess.DEVNULL, stderr=stderr,
                                env=dict(os.environ, NO_COLOR="1"))
        wait_until(lambda: "epoch 1/100000" in log.read_text(), proc, "the first progress line", 120,
                   output=log.read_text)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 130
    text = log.read_text()
    assert re.search(r"^training  epoch (\d+)/100000  .*stopped at epoch \1$", text, re.M), text
