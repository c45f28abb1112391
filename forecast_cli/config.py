"""Every option of the tool in one dataclass: defaults, help text, validation, YAML + flags.

The same field metadata drives the YAML loader, the CLI help texts and `config.example.yaml`
(tests check that the example file lists every field with its default), so an option is
declared exactly once.  A value of ``None`` means "auto": derived from the data at fit time.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import yaml

from .errors import ConfigError


def _opt(default, help: str, *, low=None, high=None, choices=None, auto=False, kind=None):
    """A config field: its default, one-line help, the range or choices it accepts, and its
    type (`kind`: that of the default; an auto field, default None, is a whole number unless given)."""
    kind = kind or (type(default) if default is not None else int)
    return field(default=default, metadata=dict(help=help, low=low, high=high, choices=choices, auto=auto, kind=kind))


@dataclass
class Config:
    # --- reading the CSV -------------------------------------------------------------------
    id_col: str = _opt("unique_id", "column naming the series in long format")
    time_col: str = _opt("ds", "column of timestamps (or integer steps); optional")
    target_col: str = _opt("y", "column of values to forecast")
    missing: str = _opt("interpolate", "what to do with missing values",
                        choices=("interpolate", "ffill", "error"))
    sep: str = _opt("auto", "column separator: , ; | tab …; auto: told from the file")
    decimal: str = _opt("auto", "decimal mark of the numbers, . or , (592,0); auto: told from the file")
    thousands: str = _opt("auto", "thousands separator of the numbers (4,144 or 4.144,50), or none; auto: told from the file")
    encoding: str = _opt("auto", "text encoding (utf-8, cp1252, latin-1, utf-16 …); auto: UTF-8, else cp1252")
    date_format: str = _opt("auto", "how the time column is written, as a strptime format (%d/%m/%Y, %Y-W%W-%w …); auto: told from the values")
    dayfirst: bool = _opt(False, "read dates such as 01/02/2021 day first (1 February); by default the column decides, and a column that does not is an error")
    wide: bool = _opt(False, "read a time column and one numeric column per series as many series (by default when the layout says so)")
    long: bool = _opt(False, "never read a file as wide: one target column")
    # --- the forecasting task --------------------------------------------------------------
    horizon: Optional[int] = _opt(None, "steps to forecast; auto: by frequency (48 hourly, 14 daily, 13 weekly, 18 monthly, 8 quarterly, 6 yearly, else 12)",
                                  low=1, high=10_000, auto=True)
    input_size: Optional[int] = _opt(None, "past steps the model reads; auto: a few seasons or horizons, fitted to the shortest series",
                                     low=1, high=100_000, auto=True)
    season: Optional[int] = _opt(None, "season length in steps; auto: from the frequency (24 hourly, 7 daily, 52 weekly, 12 monthly, 4 quarterly, else 1)",
                                 low=1, high=100_000, auto=True)
    # --- the network -----------------------------------------------------------------------
    cell: str = _opt("lstm", "recurrent cell of the network's layers (gru: torch.nn.GRU's equations)", choices=("lstm", "gru"))
    hidden_size: int = _opt(256, "LSTM units per layer", low=1, high=4096)
    num_layers: int = _opt(1, "stacked LSTM layers", low=1, high=16)
    dropout: float = _opt(0.0, "dropout between stacked layers during training", low=0.0, high=0.95)
    patch: Optional[int] = _opt(None, "values the network reads per step (input_size must be a multiple); auto: the season when it divides input_size, else 1",
                                low=1, high=100_000, auto=True)
    skip: bool = _opt(True, "the network learns the difference from the seasonal naive forecast (skip connection)")
    season_features: bool = _opt(True, "give the network the position within the season as extra inputs")
    scaling: str = _opt("mean", "scaling: divide each window by its mean |value|, standardise each window, or standardise globally",
                        choices=("mean", "standard", "global"))
    # --- training --------------------------------------------------------------------------
    epochs: int = _opt(100, "maximum passes of training", low=1, high=100_000)
    batch_size: int = _opt(128, "windows per mini-batch", low=1, high=1_000_000)
    batches_per_epoch: Optional[int] = _opt(None, "mini-batches per epoch; auto: one pass over the windows, at most 200",
                                            low=1, high=1_000_000, auto=True)
    learning_rate: float = _opt(1e-3, "initial learning rate", low=1e-12, high=100.0)
    optimizer: str = _opt("adam", "optimiser", choices=("adam", "sgd"))
    lr_schedule: str = _opt("cosine", "learning-rate schedule over the epochs", choices=("cosine", "step", "constant"))
    weight_decay: float = _opt(0.0, "L2 penalty on the weights", low=0.0, high=1.0)
    clip_norm: float = _opt(1.0, "clip gradients to this global norm; 0 turns clipping off", low=0.0, high=1e6)
    loss: str = _opt("mae", "training loss on scaled values", choices=("mae", "mse"))
    val_size: Optional[int] = _opt(None, "last steps of each series held out for early stopping; auto: the horizon; 0: none",
                                   low=0, high=100_000, auto=True)
    patience: int = _opt(10, "epochs without validation improvement before stopping", low=1, high=100_000)
    blend: Optional[float] = _opt(None, "weight of the LSTM in the forecast, the rest on the mean of Theta and damped exponential smoothing; auto: chosen on the validation windows (1: the LSTM alone)",
                                  low=0.0, high=1.0, auto=True, kind=float)
    ensemble: int = _opt(2, "models trained with different seeds; forecasts are their median", low=1, high=100)
    workers: Optional[int] = _opt(None, "processes training ensemble members at once (the result is the same); auto: one per core",
                                  low=1, high=256, auto=True)
    seed: int = _opt(0, "random seed; the same seed gives the same model", low=0, high=2**32 - 1)
    dtype: str = _opt("float32", "floating-point precision of the network", choices=("float32", "float64"))

    def __post_init__(self):
        for f in dataclasses.fields(self):
            setattr(self, f.name, _checked(f, getattr(self, f.name)))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)


FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def help_text(name: str) -> str:
    """The field's help, with its choices and default, for --help."""
    meta, default = FIELDS[name].metadata, FIELDS[name].default
    choices = f" [{'|'.join(meta['choices'])}]" if meta["choices"] else ""
    shown = "auto" if default is None else str(default).lower() if isinstance(default, bool) else default
    return f"{meta['help']}{choices} (default: {shown})"


def _checked(f: dataclasses.Field, value: Any) -> Any:
    """Return `value` coerced to the field's type, or raise ConfigError naming the key."""
    meta, default = f.metadata, f.default
    if meta["auto"] and (value is None or value == "auto"):
        return None
    kind = meta["kind"]
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{f.name}: expected true or false, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str) or value == "":
            raise ConfigError(f"{f.name}: expected text, got {value!r}")
        if meta["choices"] and value not in meta["choices"]:
            raise ConfigError(f"{f.name}: must be one of {', '.join(meta['choices'])}; got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{f.name}: expected a number, got {value!r}")
    # NaN passes every < / > range check and int(±inf) overflows: refuse both here, by name
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{f.name}: expected a finite number, got {value!r}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{f.name}: expected a whole number, got {value!r}")
        value = int(value)
    # compare before any float(): Python compares int and float exactly, and a huge int would overflow
    if (meta["low"] is not None and value < meta["low"]) or (meta["high"] is not None and value > meta["high"]):
        raise ConfigError(f"{f.name}: {value!r} is out of range [{meta['low']}, {meta['high']}]")
    return value if kind is int else float(value)


def load_yaml(path: str) -> dict:
    """Read a YAML mapping of option → value; any problem is a ConfigError."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where else ""
        raise ConfigError(f"config file {path} is not valid YAML{at}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of option: value")
    _check_file_values(data, path)
    return data


def _check_file_values(data: dict, path: str) -> None:
    """ConfigError naming the file and the key for a value the file gets wrong — checked
    here, because a flag of the same name would otherwise hide it."""
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in FIELDS:
            raise ConfigError(f"config file {path}: unknown option {key!r}")
        try:
            _checked(FIELDS[name], value)
        except ConfigError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None


def build_config(file_values: Mapping[str, Any] | None = None, flag_values: Mapping[str, Any] | None = None,
                 base: Config | None = None) -> Config:
    """Defaults (or `base`) ← config file ← flags; flags set to None were not given."""
    merged = (base or Config()).to_dict()
    for source in (file_values or {}, {k: v for k, v in (flag_values or {}).items() if v is not None}):
        for key, value in source.items():
            name = str(key).replace("-", "_")
            if name not in FIELDS:
                raise ConfigError(f"unknown option {key!r}")
            merged[name] = value
    return Config(**merged)


def example_yaml() -> str:
    """The text of config.example.yaml: every option, its default and a one-line comment."""
    lines = ["# lstm-forecast configuration: every option with its default.",
             "# Use with `lstm-forecast train --config config.yaml`; flags win over this file.",
             "# `auto` means: derived from the data when training starts.", ""]
    for name, f in FIELDS.items():
        value = "auto" if f.default is None else yaml.safe_dump(f.default, default_flow_style=True).strip().removesuffix("\n...").strip()
        lines.append(f"# {f.metadata['help']}")
        lines.append(f"{name}: {value}")
    return "\n".join(lines) + "\n"
