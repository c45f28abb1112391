"""The model file: one .npz holding the weights and everything needed to forecast.

Layout (docs/model-file.md has the full description):

    meta                    uint8 — UTF-8 JSON: format, format_version, package version, the
                            resolved config, scaler, per-array shapes, training histories and
                            `info` (columns, frequency, last timestamps … from the data layer)
    member{k}/lstm.{l}.Wx   (n_inputs or H, 4H)   gate order i, f, g, o
    member{k}/lstm.{l}.Wh   (H, 4H)
    member{k}/lstm.{l}.b    (4H,)
    member{k}/gru.{l}.…     instead, with config.cell "gru": Wx (n_inputs or H, 3H), Wh (H, 3H),
                            bx (3H,), bh (3H,); gate order r, z, n
    member{k}/head.W        (H, horizon)
    member{k}/head.b        (horizon,)
    tails/values            (n_series, input_size) float64: each training series' last values
    tails/phase0            (n_series,) int64: clock position of each tail's first value
    calibration/…           prediction intervals (intervals.Calibration), when meta.intervals
                            is "conformal": halfwidth (99, horizon), count (horizon,) int64,
                            ratio (), series_scale (n_series,)
    classical/forecast      (n_series, horizon) float64: the classical forecast of each training
                            series (blend.py), when config.blend < 1

Writing is atomic (temporary file in the same folder, fsync, rename): a failed or killed run
leaves the previous file untouched.  The temporary file is hidden (`.NAME.XXXXXXXX.tmp`) and
removed on any error; only a process killed outright (SIGKILL, power loss) can leave one behind,
never under the target's name.  Reading never unpickles (`allow_pickle=False`), accepts only
uncompressed members, checks every array's shape and dtype against the metadata from its
header before reading its data, and checks the metadata itself (histories, the data facts
`predict` uses, a checkpoint's loop states), so any defect is a ModelFileError on load.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile

import numpy as np

from . import __version__, network
from .config import Config
from .errors import ConfigError, ModelFileError, TrainingError
from .forecaster import Checkpoint, Forecaster
from .intervals import Calibration
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


def portable(config: Config) -> dict:
    """The options as stored: without `workers`, which changes how fast a model trains on this
    machine, never the model (so the same run gives the same bytes with any worker count)."""
    return config.replace(workers=None).to_dict()


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
    if forecaster.calibration is not None:
        arrays.update(forecaster.calibration.arrays())
    if forecaster.classical_ahead is not None:
        arrays["classical/forecast"] = np.asarray(forecaster.classical_ahead, dtype=np.float64)
    return arrays


def _refuse_non_finite(path: str, arrays: dict[str, np.ndarray], scaler: Scaler) -> None:
    """Never write what `load` would refuse: weights or tails with NaN or infinite values (a
    diverged training run) or unusable scaling statistics."""
    for name, a in arrays.items():
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise TrainingError(f"not writing {path}: {name} holds NaN or infinite values (training diverged; "
                                "try a lower --learning-rate)")
    if not (np.isfinite(scaler.mu) and np.isfinite(scaler.sigma) and scaler.sigma > 0):
        raise TrainingError(f"not writing {path}: the scaling statistics are not finite (mu {scaler.mu}, "
                            f"sigma {scaler.sigma}); the data's values are too large")


def save(path: str, forecaster: Forecaster, info: dict | None = None) -> None:
    """Write the model atomically; `info` is JSON-able data-layer metadata kept alongside.
    Non-finite weights are refused (TrainingError) and the previous file is left as it was."""
    arrays = _arrays(forecaster)
    _refuse_non_finite(path, arrays, forecaster.scaler)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "config": portable(forecaster.config),
        "scaler": _scaler_meta(forecaster.scaler),
        "series_ids": forecaster.series_ids,
        "histories": [h.to_dict() for h in forecaster.histories],
        "arrays": {name: [list(a.shape), a.dtype.str] for name, a in arrays.items()},
        "info": info or {},
        "intervals": "conformal" if forecaster.calibration is not None else None,
    }
    _write(path, arrays, meta, "model file")


def check_writable(path: str, what: str = "model file") -> None:
    """ModelFileError now if `path` could not be written later — no such folder, no permission,
    a directory in the way — so that a long training run does not end in that error."""
    if os.path.isdir(path):
        raise ModelFileError(f"cannot write {what} {path}: it is a directory")
    folder, name = os.path.split(os.path.abspath(path))
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", suffix=".check"):
            pass
    except OSError as exc:
        raise ModelFileError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


def _write(path: str, arrays: dict, meta: dict, what: str) -> None:
    """Arrays plus the JSON metadata, atomically; an OS error becomes a ModelFileError."""
    arrays = {**arrays, "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)}
    try:
        with atomic_path(path) as tmp:
            write_npz(tmp, arrays)
    except OSError as exc:
        raise ModelFileError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


def _scaler_meta(scaler: Scaler) -> dict:
    return {"method": scaler.method, "mu": scaler.mu, "sigma": scaler.sigma}


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
    """Stand-ins with the names, shapes and dtype network.init_params gives for `config`:
    read-only broadcast views that take no memory, so a hostile file claiming a huge network
    costs nothing before its arrays are found not to match (tests check these against
    init_params)."""
    H, n_in = config.hidden_size, n_features(config.season, config.season_features, config.patch)
    cell, G = config.cell, network.CELLS[config.cell].gates
    shapes = {}
    for k in range(config.num_layers):
        shapes.update({f"{cell}.{k}.Wx": (n_in if k == 0 else H, G * H), f"{cell}.{k}.Wh": (H, G * H)})
        shapes.update({f"{cell}.{k}.{b}": (G * H,) for b in network.CELLS[cell].names[2:]})
    shapes.update({"head.W": (H, config.horizon), "head.b": (config.horizon,)})
    zero = np.zeros((), dtype=np.dtype(config.dtype))
    return {name: np.broadcast_to(zero, shape) for name, shape in shapes.items()}


def _member_shapes(config: Config, members: int) -> dict[str, tuple]:
    template = _param_template(config)
    return {f"member{k}/{name}": (a.shape, a.dtype) for k in range(members) for name, a in template.items()}


def _expected_shapes(config: Config, n_series: int, calibrated: bool = False) -> dict[str, tuple]:
    expected = _member_shapes(config, config.ensemble)
    expected["tails/values"] = ((n_series, config.input_size), np.dtype(np.float64))
    expected["tails/phase0"] = ((n_series,), np.dtype(np.int64))
    if calibrated:
        expected.update(Calibration.shapes(config.horizon, n_series))
    if config.blend is not None and config.blend < 1:
        expected["classical/forecast"] = ((n_series, config.horizon), np.dtype(np.float64))
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
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, TypeError, RecursionError,
            OverflowError, NotImplementedError) as exc:
        raise ModelFileError(f"{path} is not a readable {what} ({type(exc).__name__}: {exc})".splitlines()[0]) from None


def load(path: str) -> tuple[Forecaster, dict]:
    """Read a model file; returns (forecaster, info).  Any defect is a ModelFileError."""
    return _read(path, _from_npz)


def _config_scaler_histories(meta: dict, path: str):
    try:
        config = Config(**meta["config"])
        scaler = Scaler(str(meta["scaler"]["method"]), float(meta["scaler"]["mu"]), float(meta["scaler"]["sigma"]))
        histories = [_history(h) for h in meta["histories"]]
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has invalid metadata ({exc})") from None
    if None in (config.input_size, config.horizon, config.season, config.val_size):
        raise ModelFileError(f"{path} has invalid metadata (unresolved config)")
    # the scaler is fitted with config.scaling
    if scaler.method != config.scaling or not (np.isfinite(scaler.mu) and np.isfinite(scaler.sigma) and scaler.sigma > 0):
        raise ModelFileError(f"{path} has invalid metadata (scaler)")
    return config, scaler, histories


def _array_header(npz, name: str):
    """(shape, dtype) from an array's .npy header, read before any of its data.  Members must be
    stored uncompressed, as this package writes them: then no array can take more memory than
    the file has bytes (a compressed one could be a "zip bomb")."""
    member = npz.zip.getinfo(f"{name}.npy")
    if member.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"array {name} is compressed")
    if member.flag_bits & 0x1:  # zipfile would ask for a password (RuntimeError)
        raise ValueError(f"array {name} is encrypted")
    with npz.zip.open(member) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"array {name} has .npy format version {version}")
    return shape, dtype


def _numbers(values, what: str, optional: bool = False) -> list:
    """A list of finite numbers (None allowed where `optional`) as floats; ValueError if not."""
    if not isinstance(values, list):
        raise ValueError(f"{what} is not a list")
    for v in values:
        if not ((v is None and optional) or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                             and math.isfinite(v))):
            raise ValueError(f"{what} holds {v!r}")
    return [None if v is None else float(v) for v in values]


def _history(h, at_least: int = 1) -> History:
    """A training history as `info` and the reports read it: equally long lists of losses and
    rates, a best epoch among them (at least `at_least` epochs); ValueError if not."""
    if not isinstance(h, dict):
        raise ValueError("a training history is not a mapping")
    history = History(**h)
    history.train_loss = _numbers(history.train_loss, "train_loss")
    history.val_loss = _numbers(history.val_loss, "val_loss", optional=True)
    history.lr = _numbers(history.lr, "lr")
    epochs = len(history.train_loss)
    best = history.best_epoch
    if not (len(history.val_loss) == len(history.lr) == epochs >= at_least):
        raise ValueError("training history lists of different lengths")
    if isinstance(best, bool) or not isinstance(best, int) or not (min(at_least, 1) <= best <= epochs):
        raise ValueError(f"best epoch {best!r} of {epochs}")
    if not isinstance(history.stopped_early, bool):
        raise ValueError("stopped_early is not true or false")
    return history


COLUMN_KEYS = ("id_col", "time_col", "target_col")


def _info(info, n_series: int, horizon: int) -> dict:
    """The data-layer facts `predict` uses to put timestamps on forecasts, checked and with the
    defaults of a model saved without them (integer steps 1, 2, … after the end) filled in."""
    from .timeline import future_times  # pandas, only when reading a model
    if info is None:
        info = {}
    if not isinstance(info, dict):
        raise ValueError("info is not a mapping")
    info = dict(info)
    columns = info.setdefault("columns", {})
    if not (isinstance(columns, dict) and set(columns) <= set(COLUMN_KEYS)
            and all(v is None or (isinstance(v, str) and v) for v in columns.values())):
        raise ValueError("bad column names")
    kind, step = info.setdefault("time_kind", "integer"), info.setdefault("step", 1)
    if kind not in ("datetime", "integer") or isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise ValueError(f"time kind {kind!r}, step {step!r}")
    freqs = info.setdefault("freqs", [None] * n_series)
    last_times = info.setdefault("last_times", [None] * n_series)
    info.setdefault("freq", None)
    if not (isinstance(freqs, list) and isinstance(last_times, list) and len(freqs) == len(last_times) == n_series):
        raise ValueError(f"frequencies and last times of {n_series} series expected")
    for freq in {info["freq"], *freqs} - {None}:
        if not isinstance(freq, str):
            raise ValueError(f"frequency {freq!r}")
    if kind == "integer":
        if not all(t is None or (isinstance(t, int) and not isinstance(t, bool)) for t in last_times):
            raise ValueError("last times are not whole numbers")
        return info
    if not all(isinstance(t, str) for t in last_times):
        raise ValueError("last times are not dates")
    latest = {}
    for t, freq in zip(last_times, freqs):   # each distinct frequency: does its latest series go on?
        latest[freq] = max(latest.get(freq, t), t)
    for freq, t in latest.items():
        try:
            future_times(t, kind, freq, step, horizon)
        except (ValueError, TypeError, OverflowError, NotImplementedError) as exc:
            raise ValueError(f"no timestamps after {t!r} at frequency {freq!r} ({exc})".splitlines()[0]) from None
    return info


def _checked_arrays(npz, expected: dict, path: str) -> dict[str, np.ndarray]:
    """Exactly the expected arrays, each of the expected shape and dtype (checked from its
    header, before its data is read), all finite."""
    if set(npz.files) - {"meta"} != set(expected):
        raise ModelFileError(f"{path} does not hold the arrays its metadata describes")
    arrays = {}
    for name, (shape, dtype) in expected.items():
        found_shape, found_dtype = _array_header(npz, name)
        if found_shape != shape or found_dtype != dtype:
            raise ModelFileError(f"{path}: array {name} is {found_dtype}{list(found_shape)}, expected {dtype}{list(shape)}")
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
        ids = meta["series_ids"]
        if not (isinstance(ids, list) and all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in ids)):
            raise ValueError("series ids are not a list of names")
        ids = [str(i) for i in ids]
        info = _info(meta.get("info"), len(ids), config.horizon)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has invalid metadata ({exc})".splitlines()[0]) from None
    if len(histories) != config.ensemble:  # every member has its history (`info` reads them)
        raise ModelFileError(f"{path} has invalid metadata ({len(histories)} training histories for "
                             f"{config.ensemble} models)")
    calibrated = meta.get("intervals") == "conformal"  # files without intervals still load
    arrays = _checked_arrays(npz, _expected_shapes(config, len(ids), calibrated), path)
    forecaster = Forecaster(config, _members(arrays, config.ensemble), scaler, histories, ids,
                            list(arrays["tails/values"]), [int(p) for p in arrays["tails/phase0"]],
                            classical_ahead=arrays.get("classical/forecast"))
    if calibrated:
        try:
            forecaster.calibration = Calibration.from_arrays(arrays)
        except ValueError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
    return forecaster, info


# ------------------------------------------------------------------------------------------
# checkpoints: a model file's members so far, plus the state of the member in training

CHECKPOINT_FORMAT = "lstm-forecast-checkpoint"


def save_checkpoint(path: str, ckpt: Checkpoint) -> None:
    """Write a checkpoint atomically (same container and guarantees as a model file).

    For every started member k: loop{k}/params/…, loop{k}/best/… and loop{k}/opt/… arrays,
    and meta.loops[k] with its epoch, best loss, patience count, history and random state."""
    arrays, loops = {}, []
    for k, loop in enumerate(ckpt.loops):
        loops.append(None if loop is None else {
            "epoch": loop.epoch, "best_loss": loop.best_loss, "waited": loop.waited, "finished": loop.finished,
            "history": loop.history.to_dict(), "rng": loop.rng})
        if loop is not None:
            arrays.update({f"loop{k}/params/{n}": a for n, a in loop.params.items()})
            arrays.update({f"loop{k}/best/{n}": a for n, a in loop.best_params.items()})
            arrays.update({f"loop{k}/opt/{n}": np.asarray(a) for n, a in loop.optimizer.items()})
    _refuse_non_finite(path, arrays, ckpt.scaler)
    meta = {
        "format": CHECKPOINT_FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
        "config": portable(ckpt.config),
        "scaler": _scaler_meta(ckpt.scaler),
        "histories": [], "loops": loops, "data_digest": ckpt.data_digest,
    }
    _write(path, arrays, meta, "checkpoint")


def load_checkpoint(path: str) -> Checkpoint:
    return _read(path, _checkpoint_from_npz, what="checkpoint")


def _loop_shapes(config: Config, k: int) -> dict[str, tuple]:
    """The arrays of one started member's loop state."""
    template = _param_template(config)
    expected = {f"loop{k}/{group}/{n}": (a.shape, a.dtype) for group in ("params", "best") for n, a in template.items()}
    expected[f"loop{k}/opt/step"] = ((), np.dtype(np.int64))
    if config.optimizer == "adam":
        expected.update({f"loop{k}/opt/{mv}.{n}": (a.shape, a.dtype) for n, a in template.items() for mv in "mv"})
    return expected


def _checkpoint_from_npz(npz, path: str) -> Checkpoint:
    meta = read_meta(npz, path, CHECKPOINT_FORMAT)
    config, scaler, _ = _config_scaler_histories(meta, path)
    try:
        digest, loop_metas = str(meta["data_digest"]), list(meta["loops"])
        histories = [None if m is None else _history(m["history"], at_least=0) for m in loop_metas]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has invalid metadata ({exc})".splitlines()[0]) from None
    if len(loop_metas) != config.ensemble:
        raise ModelFileError(f"{path} has invalid metadata ({len(loop_metas)} loop states for {config.ensemble} models)")
    expected = {}
    for k, m in enumerate(loop_metas):
        if m is not None:
            expected.update(_loop_shapes(config, k))
    arrays = _checked_arrays(npz, expected, path)
    try:
        loops = [None if m is None else _loop_state(arrays, k, m, histories[k], config)
                 for k, m in enumerate(loop_metas)]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path} has invalid metadata ({exc})".splitlines()[0]) from None
    return Checkpoint(config, scaler, loops, digest)


def _whole(value, what: str, low: int = 0, high: float = math.inf) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} {value!r}")
    return value


def _loop_state(arrays: dict, k: int, m: dict, history: History, config: Config) -> LoopState:
    """Member k's loop state, consistent with itself and the options: an epoch count within the
    run and matching its history, `finished` as the loop would have set it, and a random state
    the generator accepts (a resume would otherwise fail half-way, or never end)."""
    def group(prefix):
        return {n[len(prefix):]: arrays[n].copy() for n in arrays if n.startswith(prefix)}
    if not isinstance(m, dict):
        raise ValueError(f"loop state {k} is not a mapping")
    epoch = _whole(m["epoch"], "epoch", 0, config.epochs)
    if epoch != len(history.train_loss):
        raise ValueError(f"epoch {epoch} with a history of {len(history.train_loss)}")
    finished = m["finished"]
    if finished is not (history.stopped_early or epoch >= config.epochs):
        raise ValueError(f"finished {finished!r} at epoch {epoch} of {config.epochs}")
    best_loss = m["best_loss"]
    if isinstance(best_loss, bool) or not isinstance(best_loss, (int, float)) or math.isnan(best_loss):
        raise ValueError(f"best loss {best_loss!r}")
    rng = m["rng"]
    generator = np.random.PCG64()
    generator.state = rng                      # the generator's own check (TypeError, ValueError)
    if not isinstance(rng, dict) or generator.state != rng:
        raise ValueError("random state")
    return LoopState(group(f"loop{k}/params/"), group(f"loop{k}/opt/"), dict(rng), epoch,
                     group(f"loop{k}/best/"), float(best_loss), _whole(m["waited"], "waited"), history, finished)
