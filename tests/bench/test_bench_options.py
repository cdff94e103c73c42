"""The bench's command line: ``--only`` picks scenarios by the names its table prints."""
import pytest

from bench.__main__ import parse


def test_only_names_the_scenarios_to_run():
    assert parse(["--large", "--only", "load, rebuild,as-of"]).only == {"load", "rebuild", "as-of"}
    assert parse([]).only is None  # every scenario


@pytest.mark.parametrize("given", ["lode", "", "load,nope"])
def test_only_refuses_a_name_the_bench_does_not_know(given, capsys):
    with pytest.raises(SystemExit):
        parse(["--only", given])
    assert "known: posting" in capsys.readouterr().err
