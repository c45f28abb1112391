"""Worker processes for ensemble members: same model as training in turn (tests/test_forecaster.py),
and never left behind — not even when the parent is killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import time

import numpy as np


def children_of(pid: int) -> list:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for_workers(pid: int, count: int, timeout: float = 120.0) -> list:
    """The pool's worker processes (not its resource tracker), once `count` have started."""
    deadline, workers = time.monotonic() + timeout, []
    while len(workers) < count and time.monotonic() < deadline:
        workers = []
        for child in children_of(pid):
            try:
                cmdline = open(f"/proc/{child}/cmdline", "rb").read()
            except OSError:
                continue
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                workers.append(child)
        time.sleep(0.1)
    return workers


def test_workers_end_when_the_parent_is_killed(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["unique_id,ds,y"] + [f"s{k},{t},{10 + np.sin(t / 3) + rng.normal(0, .1):.3f}" for k in range(3) for t in range(200)]
    data = tmp_path / "data.csv"
    data.write_text("\n".join(rows) + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "forecast_cli", "train", str(data), "--horizon", "6", "--season", "6",
                             "--hidden-size", "8", "--epochs", "100000", "--patience", "100000", "--ensemble", "2",
                             "--workers", "2", "-o", str(tmp_path / "m.npz"), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers = wait_for_workers(proc.pid, 2)
    finally:
        proc.send_signal(signal.SIGKILL)   # even when the test fails: never leave a 100,000-epoch run behind
        proc.wait(timeout=30)
    assert len(workers) == 2, "the workers did not start"
    deadline = time.monotonic() + 30
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in workers), "worker processes outlived their killed parent"


def test_an_error_in_a_worker_is_raised_in_the_parent_and_no_worker_is_left():
    """Divergence in a worker process surfaces as the usual TrainingError; the other worker,
    still training, is stopped (a parent waiting on it forever was a real bug)."""
    import multiprocessing

    import pytest

    from forecast_cli.config import Config
    from forecast_cli.errors import TrainingError
    from forecast_cli.forecaster import Forecaster

    t = np.arange(300)
    series = [10 + np.sin(t / 3), 20 + np.cos(t / 5)]
    config = Config(horizon=6, season=6, input_size=12, hidden_size=8, epochs=50, ensemble=2, workers=2,
                    learning_rate=100.0, clip_norm=0.0, optimizer="sgd", loss="mse")
    with pytest.raises(TrainingError, match="diverged"):
        Forecaster(config).fit(series)
    assert multiprocessing.active_children() == []


def test_a_worker_that_cannot_start_raises_its_own_error(monkeypatch):
    """The clean-up must not hide why a worker failed to start (it once raised AttributeError)."""
    import multiprocessing.context

    from forecast_cli.ensemble import train_members

    def refuse(self):
        raise RuntimeError("cannot start a process here")

    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start", refuse)
    try:
        train_members(job=None, loops=[None, None], workers=2)
    except RuntimeError as error:
        assert "cannot start" in str(error)
    else:
        raise AssertionError("no error raised")
