"""Interruption (issue 5.2), with real processes and real signals.

Contract:
  * the first SIGINT (Ctrl-C) or SIGTERM during training stops it after the current mini-batch,
    writes the best model so far to the output path (atomically), says so on stderr and exits
    130 (SIGINT) or 143 (SIGTERM);
  * a second one aborts at once: nothing written, the previous model file untouched, exit 130;
  * stopped before any epoch finished: nothing written, the previous file untouched;
  * SIGKILL at any moment leaves the previous model file or a new complete one, never a broken
    one; the same holds for the checkpoint.

Temporary files: a write goes to a hidden temporary file beside the target (`.NAME.XXXX.tmp`)
that is renamed over it when complete.  After SIGKILL nothing can remove such a file, so one may
remain; the tests accept that — they assert that a leftover is only ever such a hidden .tmp
file, never the model or checkpoint name, and that after an orderly exit (signals 2 and 15)
none remains.

Markers, not sleeps, say when to signal: the checkpoint file (after an epoch ended) or, for
"training has begun", the process catching SIGTERM (`SigCgt` in /proc/PID/status), which only
happens while train's GracefulStop is installed.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from forecast_cli import modelfile
from forecast_cli.errors import ModelFileError
from forecast_cli.stopping import ECHO_SECONDS, Aborted, GracefulStop

from conftest import wait_until


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc: Linux only")

TIMEOUT = 120.0                  # generous: the machine may be busy

# tiny mini-batches (a millisecond or so); with many epochs, a run lasts "forever": the test decides when training ends
FAST = ["--horizon", "4", "--input-size", "12", "--season", "6", "--hidden-size", "4", "--batch-size", "16",
        "--patience", "100000", "--ensemble", "1"]
# slow mini-batches (about a second each: 96 steps, one value a step, 256 units, 512 of the
# data's 1,600 windows):
# room for a second signal to land inside the batch the first one lets finish
SLOW = ["--horizon", "4", "--input-size", "96", "--patch", "1", "--season", "6", "--hidden-size", "256",
        "--batch-size", "512", "--patience", "100000", "--ensemble", "1"]
TEMP = re.compile(r"^\.(model\.npz|model\.ckpt\.npz)\..+\.tmp$")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    rng = np.random.default_rng(2)
    lines = ["unique_id,ds,y"] + [f"s{s},{t},{10 + 3 * np.sin(2 * np.pi * t / 6) + rng.normal(0, 0.3):.4f}"
                                  for s in range(4) for t in range(600)]
    path = tmp_path_factory.mktemp("data") / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def previous(tmp_path, trained_model) -> tuple[Path, bytes]:
    """A folder holding an older, valid model.npz: (its path, its bytes)."""
    path = tmp_path / "model.npz"
    shutil.copyfile(trained_model, path)
    return path, path.read_bytes()


class Train:
    """`python -m forecast_cli train …` in the background; stderr collected line by line."""

    def __init__(self, data: Path, output: Path, *flags):
        self.output = output
        self.ckpt = output.with_suffix(".ckpt.npz")
        self.proc = subprocess.Popen([sys.executable, "-m", "forecast_cli", "train", str(data), "-o", str(output),
                                      *map(str, flags)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=dict(os.environ, COLUMNS="200", NO_COLOR="1"))
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, condition, what: str) -> None:
        wait_until(condition, self.proc, what, TIMEOUT, output=self._stderr_so_far, kill=self.kill)

    def _stderr_so_far(self) -> str:
        if self.proc.poll() is not None:
            self.reader.join(5)
        return self.stderr

    def wait_for_first_epochs(self, members: int) -> None:
        """Until the checkpoint shows every member's first epoch ended (a first signal now saves)."""
        self.wait_for(lambda: len(epochs_done(self.ckpt)) == members and min(epochs_done(self.ckpt)) >= 1,
                      "a checkpoint after every member's first epoch")

    def catches_sigterm(self) -> bool:
        """True while train's signal handlers are installed (Python leaves SIGTERM alone otherwise)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return False
        caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M).group(1), 16)
        return bool(caught >> (signal.SIGTERM - 1) & 1)

    def signal(self, signum) -> None:
        self.proc.send_signal(signum)

    def finish(self) -> int:
        code = self.proc.wait(timeout=TIMEOUT)
        self.reader.join(TIMEOUT)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.finish()


def leftovers(folder: Path, *keep: str) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name not in keep)


def epochs_done(ckpt) -> list:
    """Epochs each member has ended, per the checkpoint (atomic: never read half-written)."""
    try:
        return [loop.epoch if loop else 0 for loop in modelfile.load_checkpoint(str(ckpt)).loops]
    except ModelFileError:
        return []


@pytest.mark.parametrize("signum, code, members", [(signal.SIGINT, 130, 1), (signal.SIGTERM, 143, 1),
                                                   (signal.SIGINT, 130, 2)],
                         ids=["SIGINT", "SIGTERM", "SIGINT-2-workers"])
def test_first_signal_saves_the_best_model_so_far(data, previous, signum, code, members):
    """With two members training side by side in two worker processes, both stop and both are
    saved (each with its best epoch so far)."""
    path, old = previous
    run = Train(data, path, *FAST, "--batches-per-epoch", "5", "--epochs", "100000", "--checkpoint-every", "1",
                "--ensemble", members, "--workers", members)
    try:
        run.wait_for_first_epochs(members)
        run.signal(signum)
        assert run.finish() == code, run.stderr
    finally:
        run.kill()
    assert "interrupted: saved the best model so far" in run.stderr and str(path) in run.stderr
    assert path.read_bytes() != old
    forecaster, _ = modelfile.load(str(path))
    history = forecaster.histories[0]
    assert len(forecaster.members) == forecaster.config.ensemble == members
    assert all(1 <= h.best_epoch <= len(h.train_loss) for h in forecaster.histories)
    assert forecaster.config.epochs == 100000 and not history.stopped_early
    assert leftovers(path.parent) == ["model.ckpt.npz", "model.npz"]


@pytest.mark.parametrize("members", [1, 2], ids=["1-member", "2-workers"])
def test_second_sigint_aborts_without_writing(data, previous, members):
    path, old = previous
    run = Train(data, path, *SLOW, "--batches-per-epoch", "1", "--epochs", "1000", "--checkpoint-every", "1",
                "--ensemble", members, "--workers", members)
    try:
        run.wait_for_first_epochs(members)             # and epoch 2's batch has begun
        run.signal(signal.SIGINT)
        run.wait_for(lambda: "press Ctrl-C again to abort" in run.stderr, "the first signal's warning")
        time.sleep(ECHO_SECONDS)                  # sooner, it would count as the first one again
        run.signal(signal.SIGINT)
        assert run.finish() == 130, run.stderr
    finally:
        run.kill()
    assert any("aborted" in line and "nothing was written" in line for line in run.lines), run.stderr
    assert path.read_bytes() == old
    assert leftovers(path.parent) == ["model.ckpt.npz", "model.npz"]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_signal_before_the_first_epoch_ends_writes_nothing(data, previous, signum, code):
    path, old = previous
    run = Train(data, path, *SLOW, "--batches-per-epoch", "1000", "--epochs", "5", "--checkpoint-every", "1")
    try:
        run.wait_for(run.catches_sigterm, "training to begin")
        run.signal(signum)
        assert run.finish() == code, run.stderr
    finally:
        run.kill()
    assert "interrupted before the first epoch ended" in run.stderr and "was not written" in run.stderr
    assert path.read_bytes() == old
    assert leftovers(path.parent) == ["model.npz"]


def checkpoint_epoch(ckpt) -> int:
    try:
        return modelfile.load_checkpoint(str(ckpt)).loop.epoch
    except ModelFileError:
        return -1


def folder_state(folder: Path):
    """Names, sizes and times of the files in `folder`: any write shows as a change."""
    try:
        return sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in os.scandir(folder))
    except FileNotFoundError:                  # a file went away between listing and stat
        return None


def kill_when_a_write_starts(run: Train, folder: Path) -> None:
    """SIGKILL at the first sign of the next write (a temporary file, or the target itself
    changing), polling without pause: the kill lands inside that write."""
    before, deadline = folder_state(folder), time.monotonic() + TIMEOUT
    while folder_state(folder) == before and run.proc.poll() is None and time.monotonic() < deadline:
        pass
    run.kill()


def test_sigkill_at_any_moment_leaves_a_valid_model_and_checkpoint(data, previous):
    """Kill runs at random epochs — between writes, or as soon as a checkpoint write begins —
    and as the model is written; check what is on disk after each kill.  Kill points are
    events (epochs reached, writes begun), not times: robust to a slow machine.  (A model
    write is quick: the kill usually arrives just after it, so the checkpoint writes are
    where kills land inside a write; both go through the same atomic_path.)"""
    path, old = previous
    # one mini-batch an epoch and a checkpoint after each (16 units make it worth writing)
    flags = ["--horizon", "4", "--input-size", "12", "--season", "6", "--hidden-size", "16", "--batch-size", "16",
             "--patience", "100000", "--ensemble", "1", "--batches-per-epoch", "1", "--epochs", "120",
             "--checkpoint-every", "1", "--quiet"]
    run = Train(data, path, *flags)
    assert run.finish() == 0, run.stderr
    new = path.read_bytes()
    assert new != old
    draw = random.Random(5)
    plan = [(draw.randint(1, 110), when) for when in ["between writes"] * 3 + ["in a checkpoint write"] * 4]
    plan += [(120, "as the model is written")]
    seen = []
    for epoch, when in plan:
        path.write_bytes(old)
        run.ckpt.unlink()
        run = Train(data, path, *flags)
        run.wait_for(lambda: checkpoint_epoch(run.ckpt) >= epoch, f"epoch {epoch}")
        if when == "between writes":
            run.kill()
        else:
            kill_when_a_write_starts(run, path.parent)
        content = path.read_bytes()
        assert content in (old, new), f"killed after epoch {epoch}, {when}: model.npz is neither old nor new"
        modelfile.load(str(path))
        assert 1 <= modelfile.load_checkpoint(str(run.ckpt)).loop.epoch <= 120
        others = leftovers(path.parent, "model.npz", "model.ckpt.npz")
        assert all(TEMP.match(name) for name in others), others
        for name in others:
            (path.parent / name).unlink()
        seen.append(("old" if content == old else "new", len(others)))
    print(f"(model, temporary files left) after each kill: {seen}")


def test_the_same_signal_twice_at_once_is_one_request_a_later_one_aborts():
    """`timeout` sends SIGINT to the process and again to its group: that must not abort."""
    with GracefulStop() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)                          # handlers run between bytecodes
        assert stop.requested() and stop.exit_code == 130
        time.sleep(ECHO_SECONDS)
        with pytest.raises(Aborted):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
