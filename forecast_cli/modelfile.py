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
from .forecaster import Checkpoint, Forecaster
from .network import Shape, init_params
from .train import History, LoopState
from .windows import Scaler, n_features

FORMAT = "lstm-forecast-model"
FORMAT_VERSION = 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path beside `path`; on success fsync it and rename it over `path`,
    on failure remove it.  Readers see the old file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the result should look like any new file
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    """An .npz that np.load reads, written byte-for-byte reproducibly: np.savez stamps each
    member with the current time, which would make two identical models differ."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(member, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asarray(array, order="C"), allow_pickle=False)


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
            write_npz(tmp, arrays)
    except OSError as exc:
        raise ModelFileError(f"cannot write model file {path}: {exc.strerror or exc}") from None


def read_meta(npz, path: str, fmt: str = FORMAT) -> dict:
    """The JSON metadata, checked to be of format `fmt` and of the version this code reads."""
    what = "model file" if fmt == FORMAT else "checkpoint"
    if "meta" not in npz.files:
        raise ModelFileError(f"{path} is not an lstm-forecast {what} (no metadata)")
    raw = npz["meta"]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(f"{path} has malformed metadata")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ModelFileError(f"{path} has malformed metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise ModelFileError(f"{path} is not an lstm-forecast {what}")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{path} has {what} format version {version!r}; this lstm-forecast "
                             f"({__version__}) reads version {FORMAT_VERSION}")
    return meta


def _param_template(config: Config) -> dict[str, np.ndarray]:
    shape = Shape(n_features(config.season, config.season_features), config.hidden_size, config.num_layers, config.horizon)
    return init_params(shape, np.random.default_rng(0), np.dtype(config.dtype))


def _member_shapes(config: Config, members: int) -> dict[str, tuple]:
    template = _param_template(config)
    return {f"member{k}/{name}": (a.shape, a.dtype) for k in range(members) for name, a in template.items()}


def _expected_shapes(config: Config, n_series: int) -> dict[str, tuple]:
    expected = _member_shapes(config, config.ensemble)
    expected["tails/values"] = ((n_series, config.input_size), np.dtype(np.float64))
    expected["tails/phase0"] = ((n_series,), np.dtype(np.int64))
    return expected


def _read(path: str, reader, what: str = "model file"):
    """Open `path` as an .npz and hand it to reader(npz); any defect is a ModelFileError."""
    try:
        # np.load takes anything that is not a zip for a pickle (and says to allow pickles):
        # our files are always zips, so anything else is refused before np.load sees it
        with open(path, "rb") as fh:
            if not zipfile.is_zipfile(fh):
                raise ModelFileError(f"{path} is not an lstm-forecast {what} (not a .npz archive)")
        with np.load(path, allow_pickle=False) as npz:
            return reader(npz, path)
    except ModelFileError:
        raise
    except FileNotFoundError:
        hint = " (train one with `lstm-forecast train`)" if what == "model file" else ""
        raise ModelFileError(f"{what} {path} does not exist{hint}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{what} {path} is a directory") from None
    except PermissionError:
        raise ModelFileError(f"cannot read {what} {path}: permission denied") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path} is not a readable {what} ({type(exc).__name__}: {exc})".splitlines()[0]) from None


def load(path: str) -> tuple[Forecaster, dict]:
    """Read a model file; returns (forecaster, info).  Any defect is a ModelFileError."""
    return _read(path, _from_npz)


def _config_scaler_histories(meta: dict, path: str):
    try:
        config = Config(**meta["config"])
        scaler = Scaler(str(meta["scaler"]["method"]), float(meta["scaler"]["mu"]), float(meta["scaler"]["sigma"]))
        histories = [History(**h) for h in meta["histories"]]
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has invalid metadata ({exc})") from None
    if None in (config.input_size, config.horizon, config.season, config.val_size):
        raise ModelFileError(f"{path} has invalid metadata (unresolved config)")
    # the scaler is fitted with config.scaling
    if scaler.method != config.scaling or not (np.isfinite(scaler.mu) and np.isfinite(scaler.sigma) and scaler.sigma > 0):
        raise ModelFileError(f"{path} has invalid metadata (scaler)")
    return config, scaler, histories


def _checked_arrays(npz, expected: dict, path: str) -> dict[str, np.ndarray]:
    """Exactly the expected arrays, each of the expected shape and dtype, all finite."""
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
    return arrays


def _members(arrays: dict, count: int) -> list[dict]:
    return [{name.split("/", 1)[1]: a for name, a in arrays.items() if name.startswith(f"member{k}/")}
            for k in range(count)]


def _from_npz(npz, path: str) -> tuple[Forecaster, dict]:
    meta = read_meta(npz, path)
    config, scaler, histories = _config_scaler_histories(meta, path)
    try:
        ids = [str(i) for i in meta["series_ids"]]
    except (KeyError, TypeError) as exc:
        raise ModelFileError(f"{path} has invalid metadata ({exc})") from None
    if len(histories) != config.ensemble:  # every member has its history (`info` reads them)
        raise ModelFileError(f"{path} has invalid metadata ({len(histories)} training histories for "
                             f"{config.ensemble} models)")
    arrays = _checked_arrays(npz, _expected_shapes(config, len(ids)), path)
    forecaster = Forecaster(config, _members(arrays, config.ensemble), scaler, histories, ids,
                            list(arrays["tails/values"]), [int(p) for p in arrays["tails/phase0"]])
    return forecaster, meta.get("info", {})


# ------------------------------------------------------------------------------------------
# checkpoints: a model file's members so far, plus the state of the member in training

CHECKPOINT_FORMAT = "lstm-forecast-checkpoint"


def save_checkpoint(path: str, ckpt: Checkpoint) -> None:
    """Write a checkpoint atomically (same container and guarantees as a model file)."""
    loop = ckpt.loop
    arrays = {f"member{k}/{name}": a for k, params in enumerate(ckpt.members) for name, a in params.items()}
    arrays.update({f"loop/params/{n}": a for n, a in loop.params.items()})
    arrays.update({f"loop/best/{n}": a for n, a in loop.best_params.items()})
    arrays.update({f"loop/opt/{n}": np.asarray(a) for n, a in loop.optimizer.items()})
    meta = {
        "format": CHECKPOINT_FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
        "config": ckpt.config.to_dict(),
        "scaler": {"method": ckpt.scaler.method, "mu": ckpt.scaler.mu, "sigma": ckpt.scaler.sigma},
        "histories": [h.to_dict() for h in ckpt.histories],
        "member": ckpt.member, "data_digest": ckpt.data_digest,
        "loop": {"epoch": loop.epoch, "best_loss": loop.best_loss, "waited": loop.waited,
                 "finished": loop.finished, "history": loop.history.to_dict(), "rng": loop.rng},
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    try:
        with atomic_path(path) as tmp:
            write_npz(tmp, arrays)
    except OSError as exc:
        raise ModelFileError(f"cannot write checkpoint {path}: {exc.strerror or exc}") from None


def load_checkpoint(path: str) -> Checkpoint:
    return _read(path, _checkpoint_from_npz, what="checkpoint")


def _checkpoint_from_npz(npz, path: str) -> Checkpoint:
    meta = read_meta(npz, path, CHECKPOINT_FORMAT)
    config, scaler, histories = _config_scaler_histories(meta, path)
    try:
        member, loop_meta, digest = int(meta["member"]), meta["loop"], str(meta["data_digest"])
        history = History(**loop_meta["history"])
        opt_names = [n[len("loop/opt/"):] for n in npz.files if n.startswith("loop/opt/")]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has invalid metadata ({exc})") from None
    if not (0 <= member < config.ensemble and len(histories) == member):
        raise ModelFileError(f"{path} has invalid metadata (member {member})")
    template = _param_template(config)
    expected = _member_shapes(config, member)
    for group in ("params", "best"):
        expected.update({f"loop/{group}/{n}": (a.shape, a.dtype) for n, a in template.items()})
    expected["loop/opt/step"] = ((), np.dtype(np.int64))
    if config.optimizer == "adam":
        expected.update({f"loop/opt/{mv}.{n}": (a.shape, a.dtype) for n, a in template.items() for mv in "mv"})
    arrays = _checked_arrays(npz, expected, path)
    group = lambda prefix: {n[len(prefix):]: arrays[n].copy() for n in arrays if n.startswith(prefix)}  # noqa: E731
    loop = LoopState(group("loop/params/"), {n: arrays[f"loop/opt/{n}"].copy() for n in opt_names}, loop_meta["rng"],
                     int(loop_meta["epoch"]), group("loop/best/"), float(loop_meta["best_loss"]),
                     int(loop_meta["waited"]), history, bool(loop_meta["finished"]))
    return Checkpoint(config, scaler, _members(arrays, member), histories, member, loop, digest)
