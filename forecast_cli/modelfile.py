"""The model file: one .npz holding the weights and everything needed to forecast.

Layout (docs/model-file.md has the full description):

    meta                    uint8 — UTF-8 JSON: format, format_version, package version, the
                            resolved config, scaler, per-array shapes, training histories and
                            `info` (columns, frequency, last timestamps … from the data layer)
    member{k}/lstm.{l}.Wx   (n_inputs or H, 4H)   gate order i, f, g, o
    member{k}/lstm.{l}.Wh   (H, 4H)
    member{k}/lstm.{l}.b    (4H,)
    member{k}/head.W        (H, horizon)
    member{k}/head.b        (horizon,)
    tails/values            (n_series, input_size) float64: each training series' last values
    tails/phase0            (n_series,) int64: clock position of each tail's first value

Writing is atomic (temporary file in the same folder, fsync, rename): a failed or killed run
leaves the previous file untouched.  Reading never unpickles (`allow_pickle=False`) and checks
every array's shape and dtype against the metadata before use.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile

import numpy as np

from . import __version__
from .config import Config
from .errors import ConfigError, ModelFileError
from .forecaster import Forecaster
from .network import Shape, init_params
from .train import History
from .windows import Scaler, n_features

FORMAT = "lstm-forecast-model"
FORMAT_VERSION = 1


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path beside `path`; on success fsync it and rename it over `path`,
    on failure remove it.  Readers see the old file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _arrays(forecaster: Forecaster) -> dict[str, np.ndarray]:
    arrays = {f"member{k}/{name}": value for k, params in enumerate(forecaster.members) for name, value in params.items()}
    n = forecaster.config.input_size
    arrays["tails/values"] = np.array(forecaster.tails, dtype=np.float64).reshape(len(forecaster.tails), n)
    arrays["tails/phase0"] = np.array(forecaster.tail_phase0, dtype=np.int64)
    return arrays


def save(path: str, forecaster: Forecaster, info: dict | None = None) -> None:
    """Write the model atomically; `info` is JSON-able data-layer metadata kept alongside."""
    arrays = _arrays(forecaster)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "config": forecaster.config.to_dict(),
        "scaler": {"method": forecaster.scaler.method, "mu": forecaster.scaler.mu, "sigma": forecaster.scaler.sigma},
        "series_ids": forecaster.series_ids,
        "histories": [h.to_dict() for h in forecaster.histories],
        "arrays": {name: [list(a.shape), a.dtype.str] for name, a in arrays.items()},
        "info": info or {},
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
    except OSError as exc:
        raise ModelFileError(f"cannot write model file {path}: {exc.strerror or exc}") from None


def read_meta(npz, path: str) -> dict:
    if "meta" not in npz.files:
        raise ModelFileError(f"{path} is not an lstm-forecast model file (no metadata)")
    raw = npz["meta"]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(f"{path} has malformed metadata")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ModelFileError(f"{path} has malformed metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an lstm-forecast model file")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{path} has model format version {version!r}; this lstm-forecast "
                             f"({__version__}) reads version {FORMAT_VERSION}")
    return meta


def _expected_shapes(config: Config, n_series: int) -> dict[str, tuple]:
    shape = Shape(n_features(config.season, config.season_features), config.hidden_size, config.num_layers, config.horizon)
    template = init_params(shape, np.random.default_rng(0), np.dtype(config.dtype))
    expected = {f"member{k}/{name}": (a.shape, a.dtype) for k in range(config.ensemble) for name, a in template.items()}
    expected["tails/values"] = ((n_series, config.input_size), np.dtype(np.float64))
    expected["tails/phase0"] = ((n_series,), np.dtype(np.int64))
    return expected


def load(path: str) -> tuple[Forecaster, dict]:
    """Read a model file; returns (forecaster, info).  Any defect is a ModelFileError."""
    try:
        # np.load takes anything that is not a zip for a pickle (and says to allow pickles):
        # a model file is always a zip, so anything else is refused before np.load sees it
        with open(path, "rb") as fh:
            if not zipfile.is_zipfile(fh):
                raise ModelFileError(f"{path} is not an lstm-forecast model file (not a .npz archive)")
        with np.load(path, allow_pickle=False) as npz:
            return _from_npz(npz, path)
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"model file {path} does not exist (train one with `lstm-forecast train`)") from None
    except IsADirectoryError:
        raise ModelFileError(f"model file {path} is a directory") from None
    except PermissionError:
        raise ModelFileError(f"cannot read model file {path}: permission denied") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path} is not a readable model file ({type(exc).__name__}: {exc})".splitlines()[0]) from None


def _from_npz(npz, path: str) -> tuple[Forecaster, dict]:
    meta = read_meta(npz, path)
    try:
        config = Config(**meta["config"])
        scaler = Scaler(str(meta["scaler"]["method"]), float(meta["scaler"]["mu"]), float(meta["scaler"]["sigma"]))
        ids = [str(i) for i in meta["series_ids"]]
        histories = [History(**h) for h in meta["histories"]]
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has invalid metadata ({exc})") from None
    if None in (config.input_size, config.horizon, config.season, config.val_size):
        raise ModelFileError(f"{path} has invalid metadata (unresolved config)")
    # the scaler is fitted with config.scaling, and every member has its history (`info` reads them)
    if scaler.method != config.scaling or not (np.isfinite(scaler.mu) and np.isfinite(scaler.sigma) and scaler.sigma > 0):
        raise ModelFileError(f"{path} has invalid metadata (scaler)")
    if len(histories) != config.ensemble:
        raise ModelFileError(f"{path} has invalid metadata ({len(histories)} training histories for "
                             f"{config.ensemble} models)")
    expected = _expected_shapes(config, len(ids))
    if set(npz.files) - {"meta"} != set(expected):
        raise ModelFileError(f"{path} does not hold the arrays its metadata describes")
    arrays = {}
    for name, (shape, dtype) in expected.items():
        a = npz[name]
        if a.shape != shape or a.dtype != dtype:
            raise ModelFileError(f"{path}: array {name} is {a.dtype}{list(a.shape)}, expected {dtype}{list(shape)}")
        if not np.all(np.isfinite(a)):
            raise ModelFileError(f"{path}: array {name} holds NaN or infinite values")
        arrays[name] = a
    members = [{name.split("/", 1)[1]: a for name, a in arrays.items() if name.startswith(f"member{k}/")}
               for k in range(config.ensemble)]
    forecaster = Forecaster(config, members, scaler, histories, ids,
                            list(arrays["tails/values"]), [int(p) for p in arrays["tails/phase0"]])
    return forecaster, meta.get("info", {})
