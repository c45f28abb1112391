"""The model file: a faithful round trip, atomic writes, and a ModelFileError for every defect."""

from __future__ import annotations

import io
import json
import os
import pickle
import tracemalloc
import zipfile

import numpy as np
import pytest

from forecast_cli import Config, Forecaster, load_model, modelfile, network
from forecast_cli.errors import ModelFileError


def pattern(n, start=0, level=10.0):
    k = np.arange(start, start + n)
    return level * (1 + 0.3 * np.sin(2 * np.pi * k / 12))


@pytest.fixture(scope="module")
def fitted() -> Forecaster:
    config = Config(horizon=6, input_size=24, season=12, hidden_size=8, num_layers=2, epochs=2, batch_size=16,
                    batches_per_epoch=2, ensemble=2, scaling="standard", seed=3)
    return Forecaster(config).fit([pattern(60), pattern(50, 5, 40.0)], ids=["a", "b"], phase0=[0, 5])


INFO = {"columns": {"id_col": "unique_id", "time_col": "ds", "target_col": "y"}, "time_kind": "datetime",
        "freq": "MS", "step": 1, "freqs": ["MS", "MS"], "last_times": ["2020-12-01", "2021-03-01"]}


@pytest.fixture
def saved(tmp_path, fitted):
    path = tmp_path / "model.npz"
    modelfile.save(str(path), fitted, INFO)
    return path


def test_round_trip_gives_identical_forecasts(saved, fitted):
    loaded, info = modelfile.load(str(saved))
    assert info == INFO
    assert loaded.config == fitted.config
    assert loaded.scaler == fitted.scaler
    assert loaded.series_ids == ["a", "b"]
    assert loaded.tail_phase0 == fitted.tail_phase0
    assert [h.to_dict() for h in loaded.histories] == [h.to_dict() for h in fitted.histories]
    for mine, theirs in zip(loaded.members, fitted.members):
        assert mine.keys() == theirs.keys()
        for name in mine:
            assert mine[name].dtype == theirs[name].dtype
            np.testing.assert_array_equal(mine[name], theirs[name])
    np.testing.assert_array_equal(loaded.predict(), fitted.predict())
    new = [pattern(30, 2, 7.0)]
    np.testing.assert_array_equal(loaded.predict(new, phase0=[2]), fitted.predict(new, phase0=[2]))
    np.testing.assert_array_equal(load_model(str(saved)).predict(), fitted.predict())


def test_save_leaves_no_temporary_files(saved):
    assert sorted(os.listdir(saved.parent)) == ["model.npz"]


def test_save_replaces_an_existing_file(saved, fitted):
    other = Forecaster(fitted.config.replace(seed=99), fitted.members[::-1], fitted.scaler, fitted.histories,
                       fitted.series_ids, fitted.tails, fitted.tail_phase0)
    modelfile.save(str(saved), other)
    np.testing.assert_array_equal(modelfile.load(str(saved))[0].members[0]["head.W"], fitted.members[1]["head.W"])
    assert sorted(os.listdir(saved.parent)) == ["model.npz"]


def failing_write(error):
    """A stand-in for modelfile.write_npz that writes part of a file, then fails."""
    def write(path, arrays):
        with open(path, "wb") as fh:
            fh.write(b"PK\x03\x04 half a model")
        raise error
    return write


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), RuntimeError("killed")])
def test_failed_save_leaves_the_old_file_intact(saved, fitted, monkeypatch, error):
    before = saved.read_bytes()
    monkeypatch.setattr(modelfile, "write_npz", failing_write(error))
    with pytest.raises(ModelFileError if isinstance(error, OSError) else RuntimeError) as exc:
        modelfile.save(str(saved), fitted)
    if isinstance(error, OSError):
        assert "No space left" in str(exc.value) and "\n" not in str(exc.value)
    assert saved.read_bytes() == before
    assert sorted(os.listdir(saved.parent)) == ["model.npz"]      # the temporary file is gone


def test_failed_first_save_leaves_nothing(tmp_path, fitted, monkeypatch):
    monkeypatch.setattr(modelfile, "write_npz", failing_write(OSError(5, "Input/output error")))
    with pytest.raises(ModelFileError):
        modelfile.save(str(tmp_path / "new.npz"), fitted)
    assert os.listdir(tmp_path) == []


def test_save_into_a_missing_folder(tmp_path, fitted):
    with pytest.raises(ModelFileError, match="cannot write"):
        modelfile.save(str(tmp_path / "no" / "such" / "m.npz"), fitted)


# --------------------------------------------------------------------------------------------
# defects on load


def load_error(path) -> str:
    with pytest.raises(ModelFileError) as exc:
        modelfile.load(str(path))
    message = str(exc.value)
    assert "\n" not in message and str(path) in message
    return message


def arrays_and_meta(path):
    with np.load(str(path)) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return arrays, json.loads(arrays.pop("meta").tobytes())


def write_npz(path, arrays, meta):
    np.savez(str(path), meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8), **arrays)
    return path


def test_missing_file_and_directory(tmp_path):
    assert "does not exist" in load_error(tmp_path / "nope.npz")
    assert "directory" in load_error(tmp_path)


@pytest.mark.parametrize("content", [b"unique_id,ds,y\na,1,2\n", b"", b"\x93NUMPY garbage", b"\x00" * 100],
                         ids=["csv", "empty", "npy-magic", "zeros"])
def test_not_a_zip(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    message = load_error(path)
    assert "model file" in message
    assert "pickle" not in message.lower()      # never advise unpickling an unknown file


def test_a_plain_npy_file(tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as fh:
        np.save(fh, np.zeros(3))
    assert "model file" in load_error(path)


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95, 0.999])
def test_truncated_file(saved, fraction):
    data = saved.read_bytes()
    saved.write_bytes(data[:int(len(data) * fraction)])
    load_error(saved)


def test_corrupted_bytes(saved):
    data = bytearray(saved.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    saved.write_bytes(bytes(data))
    load_error(saved)


def test_npz_without_meta(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(str(path), weights=np.zeros(3))
    assert "no metadata" in load_error(path)


def test_npz_of_another_program(saved, tmp_path):
    arrays, meta = arrays_and_meta(saved)
    meta["format"] = "something-else"
    assert "not an lstm-forecast model" in load_error(write_npz(tmp_path / "x.npz", arrays, meta))


def test_wrong_format_version_names_both_versions(saved, tmp_path):
    arrays, meta = arrays_and_meta(saved)
    meta["format_version"] = 99
    message = load_error(write_npz(tmp_path / "v99.npz", arrays, meta))
    assert "99" in message and str(modelfile.FORMAT_VERSION) in message


def test_array_with_the_wrong_shape(saved, tmp_path):
    arrays, meta = arrays_and_meta(saved)
    arrays["member1/lstm.0.Wh"] = np.zeros((3, 32), np.float32)
    message = load_error(write_npz(tmp_path / "shape.npz", arrays, meta))
    assert "member1/lstm.0.Wh" in message and "[3, 32]" in message and "[8, 32]" in message


def test_array_with_the_wrong_dtype(saved, tmp_path):
    arrays, meta = arrays_and_meta(saved)
    arrays["member0/head.W"] = arrays["member0/head.W"].astype(np.float64)
    assert "member0/head.W" in load_error(write_npz(tmp_path / "dtype.npz", arrays, meta))


def test_missing_and_extra_arrays(saved, tmp_path):
    arrays, meta = arrays_and_meta(saved)
    fewer = {k: v for k, v in arrays.items() if k != "member1/head.b"}
    load_error(write_npz(tmp_path / "fewer.npz", fewer, meta))
    load_error(write_npz(tmp_path / "more.npz", dict(arrays, extra=np.zeros(2)), meta))


def test_non_finite_weights(saved, tmp_path):
    arrays, meta = arrays_and_meta(saved)
    arrays["member0/head.b"] = np.full_like(arrays["member0/head.b"], np.nan)
    assert "NaN" in load_error(write_npz(tmp_path / "nan.npz", arrays, meta))


@pytest.mark.parametrize("break_meta", [
    lambda m: m.pop("config"),
    lambda m: m["config"].update(hidden_size=0),
    lambda m: m["config"].update(bogus=1),
    lambda m: m["config"].update(horizon=None),
    lambda m: m.update(histories=[{"nope": 1}]),
    lambda m: m.update(histories=[]),                          # an ensemble of 2 needs 2 histories
    lambda m: m["scaler"].update(method="bogus"),
    lambda m: m["scaler"].update(sigma=0.0),
], ids=["no-config", "bad-value", "unknown-option", "unresolved", "bad-history", "histories-missing",
        "bad-scaler", "zero-sigma"])
def test_invalid_metadata(saved, tmp_path, break_meta):
    arrays, meta = arrays_and_meta(saved)
    break_meta(meta)
    load_error(write_npz(tmp_path / "meta.npz", arrays, meta))


def test_malformed_meta_bytes(saved, tmp_path):
    arrays, _ = arrays_and_meta(saved)
    path = tmp_path / "m.npz"
    np.savez(str(path), meta=np.frombuffer(b"\xff{not json", dtype=np.uint8), **arrays)
    assert "malformed" in load_error(path)


class Boom:
    """Unpickling this would run code; a model file must never get that far."""

    def __reduce__(self):
        return (os.system, ("echo unpickled > /dev/null",))


@pytest.mark.parametrize("where", ["meta", "member0/head.b"])
def test_object_arrays_are_refused_without_unpickling(saved, tmp_path, monkeypatch, where):
    arrays, meta = arrays_and_meta(saved)
    bad = np.empty(1, dtype=object)
    bad[0] = Boom()
    path = tmp_path / "pickled.npz"
    if where == "meta":
        np.savez(str(path), meta=bad, **arrays)
    else:
        write_npz(path, dict(arrays, **{where: bad}), meta)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("the model file was unpickled")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    load_error(path)


def test_same_model_gives_byte_identical_files(tmp_path, fitted):
    """No timestamps inside: the same weights and metadata give the same bytes."""
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    modelfile.save(str(first), fitted, {"freq": "MS"})
    modelfile.save(str(second), fitted, {"freq": "MS"})
    assert first.read_bytes() == second.read_bytes()


# --------------------------------------------------------------------------------------------
# hostile files: nothing is allocated or unpickled before the metadata and headers agree


def npz_member(name: str, header_shape, data: bytes = b"", compress=zipfile.ZIP_STORED):
    """(zip member name, bytes) of a .npy whose header claims `header_shape` float64."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": header_shape})
    return f"{name}.npy", buffer.getvalue() + data, compress


def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, compress in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=compress)
    return path


def meta_member(meta):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    return "meta.npy", buffer.getvalue(), zipfile.ZIP_STORED


def test_a_header_claiming_a_huge_array_is_refused_before_reading(saved, tmp_path):
    arrays, meta = arrays_and_meta(saved)
    members = [meta_member(meta)]
    for name, a in arrays.items():
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, a)
        members.append((f"{name}.npy", buffer.getvalue(), zipfile.ZIP_STORED))
    members[1] = npz_member(members[1][0][:-4], (10**6, 10**6), b"\0" * 64)      # 8 TB, if anyone believed it
    message = load_error(write_zip(tmp_path / "claims.npz", members))
    assert "[1000000, 1000000]" in message


def test_a_compressed_member_is_refused(saved, tmp_path):
    arrays, meta = arrays_and_meta(saved)
    path = tmp_path / "compressed.npz"
    np.savez_compressed(str(path), meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    assert "compressed" in load_error(path)


def test_metadata_claiming_a_huge_network_costs_no_memory(saved, tmp_path):
    """16 layers of 4,096 units would be gigabytes of weights: refused without building them."""
    arrays, meta = arrays_and_meta(saved)
    meta["config"].update(hidden_size=4096, num_layers=16)
    tracemalloc.start()
    try:
        load_error(write_npz(tmp_path / "huge.npz", arrays, meta))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_deeply_nested_metadata(saved, tmp_path):
    arrays, _ = arrays_and_meta(saved)
    path = tmp_path / "deep.npz"
    np.savez(str(path), meta=np.frombuffer(b"[" * 100_000 + b"]" * 100_000, dtype=np.uint8), **arrays)
    load_error(path)


@pytest.mark.parametrize("edit", [
    lambda m: m.update(info=["not", "a", "mapping"]),
    lambda m: m["info"].update(last_times=["2020-12-01"]),               # 2 series, 1 last time
    lambda m: m["info"].update(freqs=["MS", "no such frequency"]),
    lambda m: m["info"].update(last_times=["9999-10-01", "2021-03-01"]),  # no 6 months after it fit the calendar
    lambda m: m["info"].update(time_kind="integer"),                     # ISO dates are not integer steps
    lambda m: m["info"].update(columns={"bogus": "x"}),
    lambda m: m["histories"][0].update(train_loss=[1.0, "x"]),
    lambda m: m["histories"][0].update(best_epoch=7),
    lambda m: m["histories"][1].update(val_loss=[]),
    lambda m: m.update(series_ids="ab"),
], ids=["info-not-a-mapping", "last-times-short", "bad-frequency", "beyond-9999", "kind-mismatch",
        "unknown-column-key", "text-in-losses", "best-epoch-beyond", "lists-of-different-lengths", "ids-not-a-list"])
def test_metadata_the_cli_would_trip_on(saved, tmp_path, edit):
    """Metadata `predict` and `info` read must be usable, or the file is refused when loaded."""
    arrays, meta = arrays_and_meta(saved)
    edit(meta)
    load_error(write_npz(tmp_path / "m.npz", arrays, meta))


def test_a_model_saved_without_data_facts_predicts_through_the_cli(tmp_path, fitted):
    """Library users may save without `info`: forecasts are then numbered 1, 2, … after the end."""
    from conftest import run_cli
    path = tmp_path / "lib.npz"
    modelfile.save(str(path), fitted)
    result = run_cli("predict", "-m", path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "unique_id,ds,forecast" and len(lines) == 1 + 2 * fitted.config.horizon
    assert [line.split(",")[1] for line in lines[1:1 + fitted.config.horizon]] == \
        [str(k) for k in range(1, fitted.config.horizon + 1)]


# --------------------------------------------------------------------------------------------
# checkpoints: what a resume relies on is checked when the file is read


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "c.npz"
    config = Config(horizon=6, input_size=24, season=12, hidden_size=4, epochs=3, batch_size=16,
                    batches_per_epoch=2, ensemble=1, patience=10)
    Forecaster(config).fit([pattern(60), pattern(50, 5, 40.0)],
                           on_checkpoint=lambda c: c.loop.epoch == 2 and modelfile.save_checkpoint(str(path), c))
    return path


@pytest.mark.parametrize("edit", [
    lambda loop: loop.update(rng={"bit_generator": "PCG64", "state": "garbage"}),
    lambda loop: loop.update(rng=[1, 2]),
    lambda loop: loop.update(epoch=-1_000_000),        # would train a million epochs
    lambda loop: loop.update(epoch=1),                 # a history of 2 epochs
    lambda loop: loop.update(finished=True),           # not finished at epoch 2 of 3
    lambda loop: loop.update(waited="x"),
    lambda loop: loop.update(best_loss=None),
], ids=["rng-state", "rng-type", "negative-epoch", "epoch-vs-history", "finished-early", "waited", "best-loss"])
def test_checkpoint_loop_state_is_checked(checkpoint, tmp_path, edit):
    arrays, meta = arrays_and_meta(checkpoint)
    edit(meta["loops"][0])
    path = write_npz(tmp_path / "c.npz", arrays, meta)
    with pytest.raises(ModelFileError) as exc:
        modelfile.load_checkpoint(str(path))
    assert "\n" not in str(exc.value)


def test_parameter_stand_ins_match_the_network(fitted):
    """The loader's zero-memory stand-ins have the names, shapes and dtype of real weights."""
    for config in (fitted.config, fitted.config.replace(num_layers=3, hidden_size=5, dtype="float64"),
                   fitted.config.replace(season=1, patch=None), fitted.config.replace(season_features=False)):
        config = config.replace(patch=config.patch or 1)
        real = Forecaster(config).window_maker.n_features
        params = network.init_params(network.Shape(real, config.hidden_size, config.num_layers, config.horizon),
                                     np.random.default_rng(0), np.dtype(config.dtype))
        stand_ins = modelfile._param_template(config)
        assert {k: (v.shape, v.dtype) for k, v in stand_ins.items()} == {k: (v.shape, v.dtype) for k, v in params.items()}


def test_a_member_flagged_as_encrypted(saved):
    """A flipped bit can mark a zip member encrypted; zipfile would then ask for a password."""
    with open(saved, "r+b") as fh:
        data = bytearray(fh.read())
        for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):   # local header, central directory
            at = data.find(signature)
            data[at + flags_at] |= 0x1
        fh.seek(0)
        fh.write(data)
    assert "encrypted" in load_error(saved)
