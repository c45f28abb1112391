"""Graceful stops: the first SIGINT (Ctrl-C) or SIGTERM asks training to stop after the
current mini-batch, so the best model so far can be saved; a second one aborts at once.  The
same signal again within ECHO_SECONDS counts as the first: `timeout` and some supervisors send
it to the process and once more to its process group.

    with GracefulStop(on_first=warn) as stop:
        forecaster.fit(..., should_stop=stop.requested)
    if stop.signum: ...   # save, then exit with stop.exit_code
"""

from __future__ import annotations

import signal
import threading
import time

from .errors import ExitCode

EXIT_CODES = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}
ECHO_SECONDS = 0.5   # faster than a person presses Ctrl-C twice on purpose


class Aborted(BaseException):
    """A second signal: stop now, write nothing.  (BaseException, like KeyboardInterrupt,
    so no `except Exception` on the way up swallows it.)"""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = EXIT_CODES[signum]


class GracefulStop:
    """Installs the handlers for the duration of a `with` block (main thread only)."""

    def __init__(self, on_first=None):
        self.on_first = on_first
        self.signum: int | None = None
        self._first_at = 0.0
        self._previous = {}

    def requested(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.signum]

    def _handle(self, signum, frame):
        now = time.monotonic()
        if self.signum is not None:
            if signum == self.signum and now - self._first_at < ECHO_SECONDS:
                return                                   # the first one, delivered twice
            raise Aborted(signum)
        self.signum, self._first_at = signum, now
        if self.on_first:
            self.on_first(signum)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in EXIT_CODES:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False
