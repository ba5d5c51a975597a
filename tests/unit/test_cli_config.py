"""`readiness config validate`: every problem of the file in one run, exit 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]

BROKEN = """
    product: P
    roles:
      eng: {title: Eng, members: [U1]}
      cto: {title: CTO, members: [U9]}
    sections:
      - id: infra
        title: Infra
        items:
          - {id: a, title: A, check: {type: http, url: "http://x", timeout: fast}}
          - {id: a, title: A again}
"""


def validate(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["config", "validate", *args])
    return done.exit_code, done.stdout, done.stderr


def test_every_kind_of_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(textwrap.dedent(BROKEN))
    code, out, err = validate(str(path))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}: sections.0.items.0.check.timeout: bad duration 'fast'")
    assert lines[1:] == [
        f"{path}: roles: no role has `final: true` (the final approver)",
        f"{path}: sections.0.items.0.id: duplicate item id 'a'",
        f"{path}: sections.0.items.1.id: duplicate item id 'a'",
    ]


def test_the_shipped_file_is_valid() -> None:
    code, out, err = validate(str(ROOT / "app.yaml"))
    assert code == 0, err
    assert out.startswith(f"{ROOT / 'app.yaml'}: OK: 8 sections, ")
