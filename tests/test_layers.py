"""The package's shape: imports go down the layers of STYLE.md, and every __all__ is complete."""

from __future__ import annotations

import ast
import configparser
import importlib
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "mailgun_mock"

ROOT = PACKAGE.parent
# The layers live in one place: setup.cfg's [importlinter:contract:layers], one folder a layer.


def layer_list() -> list[str]:
    """The folders of setup.cfg's layers contract, top first."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return [line.strip() for line in config["importlinter:contract:layers"]["layers"].split() if line.strip()]


def modules() -> list[tuple[str, pathlib.Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def lint_imports(root: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """import-linter's verdict on the package under ``root``, with setup.cfg's contracts."""
    linter = pathlib.Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(linter), "--no-cache", str(root / "setup.cfg")], cwd=root, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(root)})


def test_layers_contracts_are_kept() -> None:
    """import-linter finds every import going down the layers of setup.cfg, and nothing below http/ importing Flask."""
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_layers_contract_fails_on_an_upward_import(tmp_path: pathlib.Path) -> None:
    """The same check fails, naming the import, when a lower layer (mail/) imports a higher one (state/)."""
    shutil.copytree(PACKAGE, tmp_path / "mailgun_mock", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    target = tmp_path / "mailgun_mock" / "mail" / "compose.py"
    target.write_text(target.read_text() + "\nfrom ..state import store  # an upward import\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "mailgun_mock.mail is not allowed to import mailgun_mock.state" in done.stdout
    assert "mailgun_mock.mail.compose -> mailgun_mock.state.store" in done.stdout


def test_layers_every_folder_is_a_layer_with_its_rule_at_the_door() -> None:
    """Every subpackage is in the layer list, and its docstring says what it holds and what it may import."""
    folders = {f"mailgun_mock.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == set(layer_list()) - {"mailgun_mock._version"}
    for folder in folders:
        doc = ast.get_docstring(ast.parse((PACKAGE / folder.split(".")[1] / "__init__.py").read_text())) or ""
        assert "import" in doc and len(doc) > 80, f"{folder}/__init__.py lacks its rule"


def test_layers_no_module_over_450_lines() -> None:
    """No module of the package is a god module: each stays at or under 450 lines."""
    long = {name: n for name, path in modules() if (n := len(path.read_text().splitlines())) > 450}
    assert long == {}


@pytest.mark.parametrize(("name", "path"), [m for m in modules() if m[0] != "__main__"], ids=lambda v: str(v) if isinstance(v, str) else "")
def test_layers_all_is_complete(name: str, path: pathlib.Path) -> None:
    """Where a module has __all__, it lists every public class and function defined there, and only real names."""
    module = importlib.import_module("mailgun_mock" + ("." + name if name else ""))
    if not hasattr(module, "__all__"):
        return
    for exported in module.__all__:
        assert getattr(module, exported, None) is not None, f"{name}.__all__ names missing {exported}"
    tree = ast.parse(path.read_text())
    public = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")}
    assert public <= set(module.__all__), f"{name}.__all__ lacks {sorted(public - set(module.__all__))}"


def test_layers_plugin_imports_nothing_heavy() -> None:
    """Importing the pytest plugin (done in every pytest session of every user) loads neither Flask nor werkzeug."""
    import subprocess
    import sys

    code = "import sys, mailgun_mock.edges.pytest_plugin; print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'requests', 'regex')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
