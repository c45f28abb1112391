"""Checkpoints and resume (issue 5.1).

Contract: a training run stopped at any moment and resumed from its last checkpoint ends with
the same model as a run never stopped — array for array, and byte for byte in the model file —
for every ensemble member; a checkpoint only resumes the data it was made on.

Library level, the stop is `should_stop` turning true after the n-th mini-batch (fit ends
after that batch, as after Ctrl-C); at the command line it is SIGKILL, the one signal nothing
can clean up after.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest

from forecast_cli import Config, Forecaster, modelfile
from forecast_cli.errors import DataError

from conftest import one_error_line, run_cli, wait_until

# 2 members × 4 epochs × 3 mini-batches: 24 batches in all; validation on, early stopping off
CONFIG = Config(horizon=4, input_size=12, season=6, hidden_size=6, epochs=4, batch_size=16,
                batches_per_epoch=3, ensemble=2, workers=1, seed=11, patience=1000, dropout=0.0)
BATCHES = CONFIG.ensemble * CONFIG.epochs * CONFIG.batches_per_epoch


def make_series(seed: int = 0):
    rng = np.random.default_rng(seed)
    k = np.arange(70)
    return [level * (1 + 0.3 * np.sin(2 * np.pi * k / 6)) + rng.normal(0, 0.3, len(k)) for level in (10.0, 40.0)]


SERIES, IDS, PHASE0 = make_series(), ["a", "b"], [0, 3]


def fit(config=CONFIG, **kwargs) -> Forecaster:
    return Forecaster(config).fit(SERIES, IDS, PHASE0, **kwargs)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """(forecaster, model file bytes) of the run never stopped."""
    forecaster = fit()
    path = tmp_path_factory.mktemp("ref") / "ref.npz"
    modelfile.save(str(path), forecaster, {"k": 1})
    return forecaster, path.read_bytes()


def stop_after(n_batches: int):
    """A should_stop that turns true after the n-th mini-batch."""
    count = [0]

    def should_stop() -> bool:
        count[0] += 1
        return count[0] >= n_batches

    return should_stop


def interrupted_run(path, n_batches: int) -> Forecaster:
    """A fit stopped after n mini-batches, writing a checkpoint to `path` after every epoch."""
    saver = lambda ckpt: modelfile.save_checkpoint(str(path), ckpt)  # noqa: E731
    forecaster = fit(on_checkpoint=saver, should_stop=stop_after(n_batches))
    assert forecaster.interrupted
    return forecaster


def resumed(path, stop=None) -> Forecaster:
    """Continue from the checkpoint file with a forecaster that knows nothing of the options."""
    return Forecaster(Config(workers=1)).fit(SERIES, IDS, PHASE0, resume=modelfile.load_checkpoint(str(path)),
                                    on_checkpoint=lambda c: modelfile.save_checkpoint(str(path), c),
                                    should_stop=stop)


def assert_same_model(mine: Forecaster, reference: Forecaster):
    assert mine.config.replace(workers=None) == reference.config.replace(workers=None) and not mine.interrupted
    assert len(mine.members) == len(reference.members) == CONFIG.ensemble
    for k, (a, b) in enumerate(zip(mine.members, reference.members)):
        assert a.keys() == b.keys()
        for name in a:
            assert a[name].dtype == b[name].dtype
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"member {k} {name}")
    assert [h.to_dict() for h in mine.histories] == [h.to_dict() for h in reference.histories]


# the mini-batch after which the run stops (12 a member, 3 an epoch): in member 1 (early in epoch
# 2; the last batch of epoch 3, before that epoch's end is recorded; member 1's last batch), then
# in member 2 (its first batch; mid-run; the very last batch of the whole run)
STOPS = [4, 9, 12, 13, 17, 24]


@pytest.mark.parametrize("n_batches", STOPS)
def test_stop_and_resume_equals_the_uninterrupted_fit(tmp_path, uninterrupted, n_batches):
    reference, reference_bytes = uninterrupted
    path = tmp_path / "run.ckpt.npz"
    interrupted_run(path, n_batches)
    ckpt = modelfile.load_checkpoint(str(path))
    per_member = CONFIG.epochs * CONFIG.batches_per_epoch
    assert ckpt.member == (n_batches - 1) // per_member or (ckpt.member == 0 and ckpt.loop.finished)
    result = resumed(path)
    assert_same_model(result, reference)
    out = tmp_path / "resumed.npz"
    modelfile.save(str(out), result, {"k": 1})
    assert out.read_bytes() == reference_bytes


def test_stopped_and_resumed_several_times(tmp_path, uninterrupted):
    """Four interruptions on the way (each resume itself stopped) still end in the same model."""
    path = tmp_path / "run.ckpt.npz"
    interrupted_run(path, 5)
    for n in (4, 7, 3):
        assert resumed(path, stop=stop_after(n)).interrupted
    assert_same_model(resumed(path), uninterrupted[0])


def test_resume_from_the_final_checkpoint_changes_nothing(tmp_path, uninterrupted):
    path = tmp_path / "done.ckpt.npz"
    fit(on_checkpoint=lambda c: modelfile.save_checkpoint(str(path), c))
    ckpt = modelfile.load_checkpoint(str(path))
    assert ckpt.member == CONFIG.ensemble - 1 and ckpt.loop.finished
    assert_same_model(resumed(path), uninterrupted[0])


def test_checkpoint_holds_optimizer_and_random_state(tmp_path):
    """The parts of the state a resume cannot re-derive survive the file round trip exactly."""
    path, seen = tmp_path / "c.npz", []

    def save_and_keep(ckpt):
        modelfile.save_checkpoint(str(path), ckpt)
        seen.append((ckpt.loop.rng, {k: v.copy() for k, v in ckpt.loop.optimizer.items()}, ckpt.loop.epoch))

    fit(on_checkpoint=save_and_keep, should_stop=stop_after(7))
    loaded = modelfile.load_checkpoint(str(path))
    rng, optimizer, epoch = seen[-1]
    assert loaded.loop.epoch == epoch == 2 and loaded.loop.rng == rng
    assert loaded.loop.optimizer.keys() == optimizer.keys()
    for name in optimizer:
        np.testing.assert_array_equal(loaded.loop.optimizer[name], optimizer[name])


def test_resume_on_different_data_is_a_data_error(tmp_path):
    path = tmp_path / "c.npz"
    interrupted_run(path, 5)
    other = [s.copy() for s in SERIES]
    other[1][-1] += 1e-9                                      # one value in the last place
    for series, phase0 in ((other, PHASE0), (SERIES, [0, 4]), (SERIES[:1], PHASE0[:1])):
        with pytest.raises(DataError, match="different data") as exc:
            Forecaster(Config()).fit(series, IDS[:len(series)], phase0, resume=modelfile.load_checkpoint(str(path)))
        assert "\n" not in str(exc.value)


def test_a_checkpoint_kept_in_memory_resumes_like_one_read_from_disk(uninterrupted):
    kept = []
    fit(on_checkpoint=kept.append, should_stop=stop_after(5))    # mid-epoch 2 of member 1
    result = Forecaster(Config(workers=1)).fit(SERIES, IDS, PHASE0, resume=kept[-1])
    assert_same_model(result, uninterrupted[0])


# ------------------------------------------------------------------------------------------
# the command line: SIGKILL, then --resume


def train_flags(epochs: int = 150, ensemble: int = 2) -> list:
    """Tiny, fast epochs (10 mini-batches of 16 windows, 4 hidden units); long enough in all to be killed."""
    return ["--horizon", "4", "--input-size", "12", "--season", "6", "--hidden-size", "4", "--batch-size", "16",
            "--batches-per-epoch", "10", "--epochs", str(epochs), "--patience", "100000", "--ensemble", str(ensemble),
            "--seed", "5"]


TRAIN = train_flags()


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(1)
    lines = ["unique_id,ds,y"]
    for sid in ("s0", "s1"):
        for t in range(80):
            lines.append(f"{sid},{t},{10 + 3 * np.sin(2 * np.pi * t / 6) + rng.normal(0, 0.3):.4f}")
    data = folder / "data.csv"
    data.write_text("\n".join(lines) + "\n")
    reference = folder / "reference.npz"
    result = run_cli("train", data, *TRAIN, "-o", reference, "--quiet")
    assert result.returncode == 0, result.stderr
    return data, reference


def checkpoint_member(path) -> int:
    try:
        return modelfile.load_checkpoint(str(path)).member
    except Exception:            # not there yet (a reader never sees half a file: writes are atomic)
        return -1


def started_epochs(path) -> int:
    try:
        return sum(loop.epoch for loop in modelfile.load_checkpoint(str(path)).loops if loop is not None)
    except Exception:
        return -1


@pytest.mark.parametrize("member,workers", [(0, 1), (1, 1), (None, 2)],
                         ids=["in-member-1", "in-member-2", "members-side-by-side"])
def test_sigkill_then_resume_gives_the_byte_identical_model(tmp_path, cli_data, member, workers):
    """Killed while training member 1 or 2 in turn, or both at once in two worker processes."""
    data, reference = cli_data
    model, ckpt = tmp_path / "model.npz", tmp_path / "model.ckpt.npz"
    proc = subprocess.Popen([sys.executable, "-m", "forecast_cli", "train", str(data), *TRAIN, "-o", str(model),
                             "--checkpoint-every", "1", "--workers", str(workers), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if member is None:
            wait_until(lambda: started_epochs(ckpt) >= 3, proc, "checkpoints of both members", 120.0, proc.stderr.read)
        else:
            wait_until(lambda: checkpoint_member(ckpt) >= member, proc, f"a checkpoint of member {member + 1}", 120.0,
                       proc.stderr.read)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "train finished before it was killed: make TRAIN longer"
    assert not model.exists()
    at = modelfile.load_checkpoint(str(ckpt))
    if member is not None:
        assert at.member == member and 0 < at.loop.epoch < 150
    result = run_cli("train", data, "-o", model, "--resume", ckpt, "--quiet")
    assert result.returncode == 0, result.stderr
    assert model.read_bytes() == reference.read_bytes()


def test_resume_with_different_data_exits_1(tmp_path, cli_data):
    data, _ = cli_data
    model, ckpt = tmp_path / "model.npz", tmp_path / "c.npz"
    assert run_cli("train", data, *train_flags(epochs=2, ensemble=1), "-o", model, "--checkpoint-every", "1", "--checkpoint", ckpt,
                   "--quiet").returncode == 0
    before = model.read_bytes()
    other = tmp_path / "other.csv"
    text = data.read_text().splitlines()
    text[5] = text[5].rsplit(",", 1)[0] + ",99.5"               # one value changed
    other.write_text("\n".join(text) + "\n")
    result = run_cli("train", other, "-o", model, "--resume", ckpt, "--quiet")
    assert result.returncode == 1, result.stderr
    assert "different data" in one_error_line(result.stderr)
    assert model.read_bytes() == before
