"""What `readiness serve` imports to start leaves out what only other commands, or a
database behind the newest migration, need (bench/startup.py measures the start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Migrations (bot/db/migrate.py loads Alembic only for a database behind), `readiness db
# copy`, the terminal report of `readiness check`, the demo and its browser, the GitHub
# App's JWTs (PyJWT and cryptography, loaded to sign the first).
NOT_AT_START = (
    "alembic",
    "bot.db.copy",
    "bot.documents.report",
    "bot.demo",
    "playwright",
    "jwt",
    "cryptography",
)


def test_what_serve_imports_to_start_leaves_out_what_it_does_not_need() -> None:
    program = (
        "import sys, bot.cli, bot.cli.serve, bot.runtime.wiring\n"
        f"print(sorted(name for name in sys.modules if name.startswith({NOT_AT_START!r})))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"
