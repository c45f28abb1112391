"""--resume continues a run with the checkpoint's options: any other option given (flag or
config file) that differs from them is a one-line usage error listing them, never ignored;
the same values, reading options and --workers are fine."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.errors import ExitCode

from conftest import AIR, one_error_line

RUN = ["--epochs", "2", "--hidden-size", "8", "--ensemble", "1", "--workers", "1"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    where = tmp_path_factory.mktemp("resume")
    model, ckpt = where / "m.npz", where / "m.ckpt.npz"
    result = CliRunner().invoke(app, ["train", str(AIR), *RUN, "-o", str(model), "--checkpoint-every", "1", "-q"])
    assert result.exit_code == 0, result.stderr
    return ckpt


def resume(checkpoint, *args):
    out = checkpoint.parent / "resumed.npz"
    return CliRunner().invoke(app, ["train", str(AIR), "-o", str(out), "--resume", str(checkpoint), "-q", *args])


def test_differing_flags_are_an_error_listing_each(checkpoint):
    result = resume(checkpoint, "--epochs", "5", "--hidden-size", "16", "--seed", "0")
    assert result.exit_code == ExitCode.USAGE
    line = one_error_line(result.stderr)
    assert "--epochs 5 (checkpoint: 2)" in line and "--hidden-size 16 (checkpoint: 8)" in line
    assert "--seed" not in line   # the same value as the checkpoint's


def test_a_differing_config_file_value_names_the_file(checkpoint, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("learning_rate: 0.01\n", encoding="utf-8")
    result = resume(checkpoint, "--config", str(config))
    assert result.exit_code == ExitCode.USAGE
    assert f"learning_rate 0.01 in {config} (checkpoint: 0.001)" in one_error_line(result.stderr)


def test_equal_options_and_workers_resume(checkpoint):
    result = resume(checkpoint, "--epochs", "2", "--hidden-size", "8", "--workers", "2", "--target-col", "passengers")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
