"""document: local files, and files served by a real local web server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from standins import REGISTRY, run_one, serve, static_files

from checks import CheckContext, Status

RUNBOOK = "# Runbook\n\n\nRestart with `make restart`.\n   \nPage the on-call.\n"


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "runbook.md").write_text(RUNBOOK)
    monkeypatch.chdir(tmp_path)  # paths in app.yaml are relative to where the bot runs
    return tmp_path


@pytest.fixture
async def site(docs: Path) -> AsyncIterator[str]:
    async with serve(static_files(docs)) as url:
        yield url


async def test_local_document_long_enough_passes(docs: Path, ctx: CheckContext) -> None:
    result = await run_one(ctx, type="document", path="docs/runbook.md", min_lines=3)
    assert result.status is Status.PASS
    assert result.reason == "docs/runbook.md has 3 lines, at least 3"
    assert result.values == {"lines": 3, "bytes": len(RUNBOOK), "truncated": False}


async def test_short_or_missing_document_fails(docs: Path, ctx: CheckContext) -> None:
    short = await run_one(ctx, type="document", path="docs/runbook.md", min_lines=20)
    assert short.status is Status.FAIL
    assert short.reason == "docs/runbook.md has 3 lines, needs 20"
    missing = await run_one(ctx, type="document", path="docs/postmortem.md")
    assert missing.status is Status.FAIL
    assert missing.reason == "docs/postmortem.md does not exist"
    (docs / "docs" / "empty.md").write_text("\n  \n")
    empty = await run_one(ctx, type="document", path="docs/empty.md")
    assert empty.reason == "docs/empty.md has 0 lines, needs 1"


async def test_unreadable_path_is_an_error(docs: Path, ctx: CheckContext) -> None:
    result = await run_one(ctx, type="document", path="docs")
    assert result.status is Status.ERROR
    assert result.reason == "cannot read docs: Is a directory"


async def test_served_document(site: str, ctx: CheckContext) -> None:
    found = await run_one(ctx, type="document", url=f"{site}/docs/runbook.md", min_lines=2)
    assert found.status is Status.PASS
    assert found.reason == "/docs/runbook.md has 3 lines, at least 2"
    gone = await run_one(ctx, type="document", url=f"{site}/docs/postmortem.md")
    assert gone.status is Status.FAIL
    assert gone.reason == "GET /docs/postmortem.md answered 404 Not Found"
    broken = await run_one(ctx, type="document", url=f"{site}/broken")
    assert broken.status is Status.ERROR
    assert broken.reason == "GET /broken answered 500 Internal Server Error"


async def test_read_is_bounded(docs: Path, ctx: CheckContext) -> None:
    (docs / "docs" / "huge.md").write_text("line\n" * 1_000_000)  # 5 MB
    small = CheckContext(ctx.http, max_body_bytes=1000)
    result = await run_one(small, type="document", path="docs/huge.md", min_lines=10)
    assert result.status is Status.PASS
    assert result.reason == "docs/huge.md has 200+ lines, at least 10"
    assert result.values["bytes"] == 1000


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({}, None, "give exactly one of path or url"),
        ({"path": "a.md", "url": "https://x/a.md"}, None, "give exactly one of path or url"),
        ({"url": "ftp://x/a.md"}, "url", "should match pattern"),
        ({"path": "a.md", "min_lines": 0}, "min_lines", "greater than or equal to 1"),
    ],
)
def test_bad_parameters(raw: dict[str, object], field: str | None, words: str) -> None:
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse({"type": "document", **raw})
    (error,) = raised.value.errors()
    assert error["loc"] == ((field,) if field else ())
    assert words in error["msg"]
