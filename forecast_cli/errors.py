"""The errors a user can cause, and the exit codes the CLI turns them into.

Every error raised on purpose by the package derives from `ForecastError` and carries a
one-line message meant for a person. The CLI prints that line and exits with `exit_code`;
anything else escaping is a bug in the package.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit statuses, named (httpie style)."""

    OK = 0
    ERROR = 1  # bad data, bad model file, failed training: the user's input is at fault
    USAGE = 2  # bad flags or config values (the same status click uses for usage errors)
    INTERRUPTED = 130  # SIGINT: 128 + 2
    TERMINATED = 143  # SIGTERM: 128 + 15


class ForecastError(Exception):
    """Base class: a problem with the user's input, reported as one line."""

    exit_code = ExitCode.ERROR


class ConfigError(ForecastError):
    """An option or config-file value is unknown, of the wrong type or out of range."""

    exit_code = ExitCode.USAGE


class DataError(ForecastError):
    """The CSV cannot be turned into usable series."""


class ModelFileError(ForecastError):
    """A model file is missing, not a model, truncated, or of an unknown format."""


class TrainingError(ForecastError):
    """Training could not produce a usable model (e.g. the loss diverged)."""
