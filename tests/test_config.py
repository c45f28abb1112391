"""Options: validation names the offending key; defaults ← YAML file ← flags; the example file."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from forecast_cli.config import FIELDS, Config, build_config, example_yaml, help_text, load_yaml
from forecast_cli.errors import ConfigError, ExitCode

from conftest import REPO


def config_error(**values) -> str:
    with pytest.raises(ConfigError) as exc:
        Config(**values)
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_defaults_are_valid_and_auto_is_none():
    c = Config()
    assert c.hidden_size == 256 and c.ensemble == 2 and c.epochs == 100 and c.scaling == "mean"
    assert c.horizon is None and c.input_size is None and c.season is None and c.val_size is None and c.patch is None and c.skip is True
    assert Config(horizon="auto").horizon is None


@pytest.mark.parametrize("key,value", [
    ("epochs", 0), ("horizon", -1), ("hidden_size", 0), ("num_layers", 17), ("dropout", 0.99),
    ("learning_rate", 0.0), ("batch_size", 0), ("ensemble", 0), ("seed", -1), ("val_size", -1),
])
def test_out_of_range_names_the_key(key, value):
    message = config_error(**{key: value})
    assert message.startswith(f"{key}:") and "range" in message


@pytest.mark.parametrize("key,value", [
    ("epochs", "10"), ("epochs", 2.5), ("hidden_size", True), ("learning_rate", "fast"),
    ("season_features", 1), ("season_features", "yes"), ("scaling", 3), ("id_col", ""), ("horizon", [12]),
])
def test_wrong_type_names_the_key(key, value):
    assert config_error(**{key: value}).startswith(f"{key}:")


@pytest.mark.parametrize("key,value", [("scaling", "foo"), ("loss", "huber"), ("optimizer", "rmsprop"),
                                       ("missing", "drop"), ("dtype", "float16"), ("lr_schedule", "linear")])
def test_unknown_choice_names_the_key_and_the_choices(key, value):
    message = config_error(**{key: value})
    assert message.startswith(f"{key}:") and repr(value) in message
    assert all(choice in message for choice in FIELDS[key].metadata["choices"])


@pytest.mark.parametrize("key,value", [
    ("learning_rate", float("nan")), ("dropout", float("nan")), ("weight_decay", float("inf")),
    ("epochs", float("inf")), ("epochs", float("nan")), ("horizon", float("nan")), ("clip_norm", float("-inf")),
])
def test_non_finite_numbers_are_config_errors(key, value):
    """NaN slips through `<`/`>` range checks and int(inf) overflows: both must be ConfigErrors."""
    assert config_error(**{key: value}).startswith(f"{key}:")


def test_huge_integers_are_out_of_range_not_a_crash():
    assert config_error(seed=10 ** 400).startswith("seed:")
    assert config_error(learning_rate=10 ** 400).startswith("learning_rate:")


def test_whole_floats_are_accepted_for_integers():
    c = Config(epochs=5.0, horizon=12.0, learning_rate=1)
    assert c.epochs == 5 and type(c.epochs) is int
    assert c.horizon == 12 and type(c.horizon) is int
    assert c.learning_rate == 1.0 and type(c.learning_rate) is float


def test_config_error_is_a_usage_error():
    assert ConfigError.exit_code == ExitCode.USAGE == 2


def test_unknown_key_names_it():
    with pytest.raises(ConfigError, match="hiden_size"):
        build_config({"hiden_size": 8})
    with pytest.raises(ConfigError, match="bogus"):
        build_config({}, {"bogus": 1})


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_yaml_file_then_flags_precedence(tmp_path):
    values = load_yaml(write(tmp_path / "c.yaml", "epochs: 7\nhidden-size: 16\nhorizon: auto\nscaling: standard\n"))
    c = build_config(values, {"epochs": 3, "hidden_size": None, "seed": 5})
    assert c.epochs == 3                    # flag beats file
    assert c.hidden_size == 16              # file beats default; a flag of None was not given
    assert c.scaling == "standard"
    assert c.seed == 5                      # flag beats default
    assert c.horizon is None
    assert c.num_layers == Config().num_layers


def test_yaml_value_errors_name_the_file_and_key(tmp_path):
    with pytest.raises(ConfigError, match=r"^config file .*c\.yaml: epochs:"):
        load_yaml(write(tmp_path / "c.yaml", "epochs: 0\n"))
    with pytest.raises(ConfigError, match=r"^config file .*d\.yaml: learning_rate:"):
        load_yaml(write(tmp_path / "d.yaml", "learning_rate: .nan\n"))


@pytest.mark.parametrize("text,match", [
    ("epochs: [1, 2\n", "not valid YAML"),
    ("- epochs\n- 3\n", "mapping"),
    ("just a string\n", "mapping"),
])
def test_bad_yaml_files(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_yaml(write(tmp_path / "c.yaml", text))


def test_missing_or_empty_yaml_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_yaml(str(tmp_path / "nope.yaml"))
    assert load_yaml(write(tmp_path / "empty.yaml", "")) == {}


def test_example_yaml_lists_every_option_with_its_default():
    parsed = yaml.safe_load(example_yaml())
    assert list(parsed) == [f.name for f in dataclasses.fields(Config)]
    assert build_config(parsed) == Config()
    for name, f in FIELDS.items():
        assert parsed[name] == ("auto" if f.default is None else f.default), name
        assert f"# {f.metadata['help']}\n{name}:" in example_yaml()


def test_config_example_file_in_repo_is_up_to_date():
    """The shipped file is exactly what example_yaml() writes, so it cannot go stale."""
    on_disk = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    assert on_disk == example_yaml(), "regenerate config.example.yaml from config.example_yaml()"


def test_help_text_shows_choices_and_default():
    assert help_text("scaling").endswith("[mean|standard|global] (default: mean)")
    assert help_text("horizon").endswith("(default: auto)")
    assert help_text("season_features").endswith("(default: true)")


def test_round_trip_through_dict():
    c = Config(horizon=12, hidden_size=8, scaling="global", season_features=False)
    assert Config(**c.to_dict()) == c
    assert c.replace(epochs=9).epochs == 9 and c.epochs == 100


# ------------------------------------------------------------------------------------------
# a config file's values are checked even when a flag of the same name overrides them


@pytest.mark.parametrize("text,key", [("epochs: many\n", "epochs"), ("hidden-size: 2.5\n", "hidden-size"),
                                      ("scaling: foo\n", "scaling"), ("skip: maybe\n", "skip")])
def test_load_yaml_checks_every_value_naming_the_file_and_key(tmp_path, text, key):
    path = write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError) as exc:
        load_yaml(path)
    message = str(exc.value)
    assert path in message and f"{key.replace('-', '_')}:" in message and "\n" not in message


def test_load_yaml_names_the_file_for_an_unknown_key(tmp_path):
    path = write(tmp_path / "c.yaml", "hiden_size: 8\n")
    with pytest.raises(ConfigError, match="hiden_size") as exc:
        load_yaml(path)
    assert path in str(exc.value)


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_flag_does_not_hide_a_bad_file_value(tmp_path, command):
    """`epochs: many` in the file and --epochs 5 on the line: still a one-line usage error."""
    from typer.testing import CliRunner

    from forecast_cli.cli import app

    from conftest import AIR, one_error_line

    path = write(tmp_path / "c.yaml", "epochs: many\nhidden_size: 8\n")
    result = CliRunner().invoke(app, [command, str(AIR), "--config", path, "--epochs", "5", "-q"])
    assert result.exit_code == ExitCode.USAGE, (result.stdout, result.stderr)
    line = one_error_line(result.stderr)
    assert path in line and "epochs:" in line and "'many'" in line
