"""Shared fixtures: sample-data paths, a tiny trained model, and helpers to run the CLI.

Every CLI run here uses a tiny network (hidden size 8, 3 epochs) so the whole suite stays fast.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

# The networks here are tiny: BLAS threads only add contention (several times slower on 2 busy
# cores).  Set before NumPy is first imported; subprocesses inherit it.  A user's setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data"
AIR = SAMPLE / "air_passengers.csv"            # month,passengers — 144 monthly points, 1949-01 .. 1960-12
MACRO = SAMPLE / "us_macro_quarterly.csv"      # unique_id,ds,y — 6 quarterly series of 203 points
M4 = SAMPLE / "m4_hourly_sample.csv"           # unique_id,ds,y — 8 series, integer steps

TINY = ["--epochs", "3", "--hidden-size", "8"]


@pytest.fixture
def core_log(caplog, monkeypatch):
    """caplog that sees the package's warnings even after a CLI run in this process has set
    propagate=False on the 'forecast_cli' logger (the CLI routes them to its own handler)."""
    monkeypatch.setattr(logging.getLogger("forecast_cli"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="forecast_cli")
    return caplog


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """A model trained once on air_passengers through the CLI (horizon auto = 18 for monthly)."""
    from typer.testing import CliRunner

    from forecast_cli.cli import app

    path = tmp_path_factory.mktemp("model") / "air.npz"
    result = CliRunner().invoke(app, ["train", str(AIR), *TINY, "--output", str(path), "--quiet"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert path.is_file()
    return path


def run_cli(*args, input: str | bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m forecast_cli ARGS` in a real process, stdout and stderr piped (not a terminal)."""
    env = dict(os.environ, COLUMNS="100", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "forecast_cli", *map(str, args)], input=input,
                          capture_output=True, text=not isinstance(input, bytes), cwd=cwd, env=env, timeout=120)


def one_error_line(stderr: str) -> str:
    """Assert stderr is exactly one non-empty line starting 'error: ' and return it."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def wait_until(condition, proc: subprocess.Popen, what: str, timeout: float, output=lambda: "", kill=None) -> None:
    """Poll condition() until it holds; fail the test if `proc` ends first or `timeout` seconds
    pass (then kill it: `kill`, or proc.kill).  output() is shown with the failure."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"train ended (status {proc.returncode}) before {what}:\n{output()}")
        if time.monotonic() > deadline:
            (kill or proc.kill)()
            pytest.fail(f"timed out waiting for {what}:\n{output()}")
        time.sleep(0.005)
