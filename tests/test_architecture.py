"""The architecture's import contracts (``[tool.importlinter]`` in pyproject.toml) hold.

They say the layers (wiring over the apps over the shared app), that the ledger never imports the
projections, that the catalog and accounts never import the ledger or the projections, and that
no product module imports the benchmark or the demo.
"""
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


def test_the_import_contracts_are_kept(capsys):
    kept = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert kept == 0, capsys.readouterr().out


def test_an_import_that_breaks_a_contract_is_reported(tmp_path, capsys):
    """The check sees the project's imports: a contract the code breaks (the ledger reads the
    catalog) fails, naming the import."""
    config = tmp_path / ".importlinter"
    config.write_text(
        "[importlinter]\nroot_packages =\n    ledger\n    catalog\n\n"
        "[importlinter:contract:broken]\nname = ledger without catalog\ntype = forbidden\n"
        "source_modules = ledger\nforbidden_modules = catalog\n"
    )
    assert lint_imports(config_filename=str(config), no_cache=True, no_logo=True) == 1
    assert "ledger.services -> catalog.selectors" in capsys.readouterr().out
