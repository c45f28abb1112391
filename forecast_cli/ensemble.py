"""Training the members of an ensemble: one after another, or side by side in worker processes.

Member k always starts from its own generator, seeded (seed, k), so the weights it ends with do
not depend on how many members train at once or in which order: `workers` changes the wall
time, never the model.  NumPy's step loop runs on one core, so on a machine with two cores two
members trained at once take about the time of one.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from . import network
from .errors import TrainingError
from .train import LoopState, TrainSettings, fit_network
from .windows import Panel, WindowMaker


@dataclass
class BatchSource:
    """Draws mini-batches of training windows uniformly at random (picklable, for workers)."""

    panel: Panel
    pairs: np.ndarray
    maker: WindowMaker
    batch_size: int

    def __call__(self, rng: np.random.Generator):
        pick = rng.integers(0, len(self.pairs), size=min(self.batch_size, len(self.pairs)))
        return self.maker.batch(self.panel, self.pairs[pick])


@dataclass
class MemberJob:
    """Everything needed to train any member of the ensemble."""

    batches: BatchSource
    val: Optional[tuple]
    settings: TrainSettings
    shape: network.Shape
    dtype: np.dtype
    seed: int
    members: int
    zero_head: bool


def train_member(job: MemberJob, k: int, state: LoopState | None, on_epoch=None, on_state=None,
                 should_stop=None) -> LoopState:
    """Train member k from scratch, or on from `state`; returns its final LoopState."""
    rng = np.random.default_rng([job.seed, k])
    params = network.init_params(job.shape, rng, job.dtype, zero_head=job.zero_head)
    return fit_network(params, job.batches, job.val, job.settings, rng, on_epoch, k, job.members,
                       state=state, on_state=on_state, should_stop=should_stop)


def train_members(job: MemberJob, loops: list, workers: int, on_epoch=None,
                  on_state: Callable[[int, LoopState], None] | None = None, should_stop=None) -> list:
    """Bring every member's loop to its end; `loops[k]` is None (not started) or a LoopState.

    Returns the list of LoopStates; when should_stop() turns true, members stop after their
    current mini-batch and come back unfinished (members not yet started come back None).
    on_state(k, snapshot) sees a copy of member k's state after each of its epochs.
    """
    loops = list(loops)
    todo = [k for k, loop in enumerate(loops) if not (loop and loop.finished)]
    if workers <= 1 or len(todo) <= 1:
        for k in todo:
            report = (lambda state, k=k: on_state(k, copy.deepcopy(state))) if on_state else None
            loops[k] = train_member(job, k, loops[k], on_epoch, report, should_stop)
            if not loops[k].finished:
                break
        return loops
    return _train_in_processes(job, loops, todo, workers, on_epoch, on_state, should_stop)


# ------------------------------------------------------------------------------------------
# worker processes

def _worker(job: MemberJob, k: int, state: LoopState | None, send_states: bool, messages, stop, parent: int) -> None:
    """Train member k in a child process; everything goes back through `messages`:
    ("epoch", report), ("state", (k, snapshot)), then ("done", (k, loop)) or ("error", exc)."""
    # Ctrl-C and SIGTERM are the parent's to handle: it stops the workers through `stop`
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    # a copy: the queue pickles in a background thread, while training goes on changing `s`
    on_state = (lambda s: messages.put(("state", (k, copy.deepcopy(s))))) if send_states else None
    try:
        loop = train_member(job, k, state, lambda report: messages.put(("epoch", report)), on_state, stop.is_set)
        messages.put(("done", (k, loop)))
    except Exception as exc:
        messages.put(("error", exc))


def _exit_with_parent(parent: int) -> None:
    """End this worker when its parent dies (killed with SIGKILL, it cannot say so).  The
    parent's pid comes from the parent, so one that died while this worker started up is
    noticed too (by then getppid() is already another process)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _train_in_processes(job, loops, todo, workers, on_epoch, on_state, should_stop) -> list:
    """Run at most `workers` members at once, each in its own process; on any way out
    (done, error, a second Ctrl-C) no worker is left running."""
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe with threaded BLAS libraries
    messages, stop = ctx.Queue(), ctx.Event()
    waiting, running = list(todo), {}
    try:
        while waiting or running:
            while waiting and len(running) < workers and not stop.is_set():
                k = waiting.pop(0)
                running[k] = ctx.Process(target=_worker, daemon=True, args=(
                    job, k, loops[k], on_state is not None, messages, stop, os.getpid()))
                with _one_blas_thread_in_children():
                    running[k].start()
            if stop.is_set():
                waiting.clear()                      # a member never started stays None
            if should_stop and should_stop():
                stop.set()
            for k, loop in _deliver(messages, on_epoch, on_state, running):
                loops[k] = loop
                running.pop(k).join()
    finally:
        for process in running.values():
            if process.pid is not None:              # None: start() itself failed
                process.kill()
                process.join()
    return loops


def _deliver(messages, on_epoch, on_state, running: dict, timeout: float = 0.1) -> list:
    """Hand the workers' reports and states to the callbacks, in arrival order; return the
    (k, final loop) of members that finished.  A worker's error is raised here."""
    finished, wait = [], timeout
    while True:
        try:
            kind, payload = messages.get(timeout=wait)
        except queue.Empty:
            break
        wait = 0.001
        if kind == "epoch" and on_epoch:
            on_epoch(payload)
        elif kind == "state" and on_state:
            on_state(*payload)
        elif kind == "done":
            finished.append(payload)
        elif kind == "error":
            raise payload
    done = {k for k, _ in finished}
    ended = [k for k, process in running.items() if k not in done and process.exitcode is not None]
    if ended and timeout < 2:  # its last message may still be on the way: wait for it once
        return finished + _deliver(messages, on_epoch, on_state, {k: running[k] for k in ended}, timeout=2)
    if ended:
        raise TrainingError(f"the process training model {ended[0] + 1} ended unexpectedly "
                            f"(exit code {running[ended[0]].exitcode})")
    return finished


class _one_blas_thread_in_children:
    """Spawned workers read these at start-up: each runs its step loop on one core."""

    NAMES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

    def __enter__(self):
        self.saved = {name: os.environ.get(name) for name in self.NAMES}
        os.environ.update({name: "1" for name in self.NAMES})

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
