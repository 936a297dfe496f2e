"""The package boundaries in .importlinter hold, cover every package, and catch a crossing."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
NOT_PACKAGES = {"tests", "bench", "migrations", "scripts", "docs", "deploy", "examples", "web"}


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", ".importlinter"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    return parser


def _root_packages() -> set[str]:
    return set(_contracts()["importlinter"]["root_packages"].split())


def _service_packages() -> set[str]:
    """Top-level folders holding Python modules of the service (not tests or tooling)."""
    return {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and p.name not in NOT_PACKAGES
        and any(p.glob("*.py"))
    }


def test_the_import_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_package_of_the_service_is_under_contract():
    missing = _service_packages() - _root_packages()
    assert not missing, f"add {sorted(missing)} to root_packages and a layer in .importlinter"


def _listed(contract: str, field: str) -> set[str]:
    text = _contracts()[f"importlinter:contract:{contract}"][field]
    return {name.strip("() ") for line in text.split() for name in line.split("|")} - {""}


@pytest.mark.parametrize(
    ("contract", "field", "except_"),
    [
        ("layers", "layers", set()),
        ("twilio", "source_modules", {"telephony"}),
        ("engine", "forbidden_modules", {"core", "ivr"}),
        ("core", "forbidden_modules", {"core"}),
        ("acyclic", "ancestors", set()),
    ],
)
def test_every_contract_covers_every_package(contract, field, except_):
    missing = _root_packages() - except_ - _listed(contract, field)
    assert not missing, f"add {sorted(missing)} to {field} of [{contract}] in .importlinter"


def _copy_tree(dest: Path) -> Path:
    shutil.copy(ROOT / ".importlinter", dest / ".importlinter")
    for name in _root_packages():
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/calendar.py", "import tickets.service", "core is the bottom"),
        ("tickets/numbering.py", "from callbacks import policy", "Pages and tools on top"),
        ("speech/audio.py", "from twilio.twiml.voice_response import VoiceResponse", "twilio"),
        ("ivr/flows/graph.py", "import flask", "The flow engine knows nothing"),
        ("tickets/kb.py", "from tickets import api", "No import cycles"),
        # telephony may use the engine's vocabulary (events), not the engine itself
        ("telephony/base.py", "from ivr.flows import engine", "Pages and tools on top"),
        ("accounts/models.py", "from tickets.models import Department", "Pages and tools on top"),
    ],
)
def test_a_crossing_import_breaks_its_contract(tmp_path, module, line, contract):
    tree = _copy_tree(tmp_path)
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = _lint(tree)
    assert result.returncode == 1, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
