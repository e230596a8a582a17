"""The core never imports the UI: policy, db, services, settings and domain load without Textual.

Checked in a fresh interpreter (as Harlequin's test_import_hygiene does), because the test
process itself may already have Textual loaded by other tests. Modules are discovered by
walking the package folders, so a new module is covered the day it is added.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anchor_tui

PACKAGE_DIR = Path(anchor_tui.__file__).parent
CORE_PACKAGES = ("policy", "db", "services")
CORE_MODULES = (
    "anchor_tui.settings",
    "anchor_tui.domain",
    "anchor_tui.errors",
    "anchor_tui.yamldoc",
    "anchor_tui.safe_text",
)
# Alembic's env.py and the revision scripts only run inside Alembic (they need its
# context); they are checked by the migration tests instead.
NOT_IMPORTABLE_ALONE = ("anchor_tui.db.migrations.",)


def core_modules() -> list[str]:
    """Every module under the core packages, found on disk (no import needed)."""
    found: list[str] = []
    for package in CORE_PACKAGES:
        root = PACKAGE_DIR / package
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(("anchor_tui", *parts))
            if name.startswith(NOT_IMPORTABLE_ALONE):
                continue
            found.append(name)
    return found + list(CORE_MODULES)


# Imports each module in turn; reports the first one after which Textual is loaded.
_PROBE = """
import json, sys
def ui_loaded():
    return sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
result = {"culprit": None, "ui": [], "error": None}
for name in json.loads(sys.argv[1]):
    try:
        __import__(name)
    except Exception as exc:
        result["error"] = f"{name}: {exc.__class__.__name__}: {exc}"
        break
    if ui_loaded():
        result["culprit"] = name
        result["ui"] = ui_loaded()[:5]
        break
print(json.dumps(result))
"""


def test_discovery_finds_the_core_modules() -> None:
    modules = core_modules()
    for expected in (
        "anchor_tui.policy",
        "anchor_tui.db.models",
        "anchor_tui.db.session",
        "anchor_tui.db.engine",
        "anchor_tui.db.schema",
        "anchor_tui.services.backend",
        "anchor_tui.services.passphrase",
        "anchor_tui.settings",
        "anchor_tui.domain",
    ):
        assert expected in modules
    assert not any(m.startswith("anchor_tui.db.migrations.") for m in modules)


def test_core_imports_without_textual() -> None:
    modules = core_modules()
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(modules)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["error"] is None, f"a core module does not import: {result['error']}"
    assert result["culprit"] is None, (
        f"importing {result['culprit']} loaded Textual ({', '.join(result['ui'])}); "
        "policy/, db/, services/, settings and domain must never import the UI"
    )


def test_probe_detects_textual() -> None:
    """The check above can fail: importing Textual itself is caught by the same probe."""
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(["anchor_tui.domain", "textual.app"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["culprit"] == "textual.app"
