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


def test_workers_end_when_the_parent_is_killed(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["unique_id,ds,y"] + [f"s{k},{t},{10 + np.sin(t / 3) + rng.normal(0, .1):.3f}" for k in range(3) for t in range(200)]
    data = tmp_path / "data.csv"
    data.write_text("\n".join(rows) + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "forecast_cli", "train", str(data), "--horizon", "6", "--season", "6",
                             "--hidden-size", "8", "--epochs", "100000", "--patience", "100000", "--ensemble", "2",
                             "--workers", "2", "-o", str(tmp_path / "m.npz"), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers = []
    while len(workers) < 2 and time.monotonic() < deadline:   # the pool's two workers (and a resource tracker)
        workers = [p for p in children_of(proc.pid) if b"spawn_main" in open(f"/proc/{p}/cmdline", "rb").read()
                   and b"resource_tracker" not in open(f"/proc/{p}/cmdline", "rb").read()]
        time.sleep(0.1)
    assert len(workers) == 2, "the workers did not start"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in workers), "worker processes outlived their killed parent"
