"""command: real processes; a timed-out or cancelled command dies with everything it started."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError
from standins import REGISTRY, run_one

from checks import CheckContext, Status
from checks.command import run


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def dead(pid: int) -> bool:
    """Gone, or a zombie: killed, waiting for init to collect it (this sandbox's PID 1 doesn't)."""
    if gone(pid):
        return True
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


async def until(condition: Callable[[int], bool], pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def spawner(tmp_path: Path) -> str:
    """A shell that starts a background child, writes both pids, and waits a minute."""
    return (
        f"sleep 60 & echo $! > {tmp_path}/child; echo $$ > {tmp_path}/shell; echo started; sleep 60"
    )


async def pids(tmp_path: Path) -> tuple[int, int]:
    """Both pids, once the shell has written them (a file exists before its text is in it)."""
    files = [tmp_path / "shell", tmp_path / "child"]
    deadline = time.monotonic() + 30  # a loaded machine may be slow to start a shell
    while not all(f.exists() and f.read_text().endswith("\n") for f in files):
        assert time.monotonic() < deadline, "the shell never wrote both pids"
        await asyncio.sleep(0.01)
    shell, child = (int(f.read_text()) for f in files)
    return shell, child


async def test_exit_zero_passes_with_its_last_line(ctx: CheckContext) -> None:
    result = await run_one(ctx, type="command", run="echo checking; echo all 12 migrations applied")
    assert result.status is Status.PASS
    assert result.reason == (
        "`echo checking; echo all 12 migrations applied` exited 0: all 12 migrations applied"
    )
    assert result.values == {
        "exit_status": 0,
        "output": "checking\nall 12 migrations applied\n",
    }


async def test_nonzero_exit_fails_with_stderr_in_the_reason(ctx: CheckContext) -> None:
    script = "echo 'smoke: cart 500' >&2; exit 3"
    result = await run_one(ctx, type="command", run=["sh", "-c", script])
    assert result.status is Status.FAIL
    assert result.reason.endswith("exited with status 3: smoke: cart 500")
    assert result.values["exit_status"] == 3
    killed = await run_one(ctx, type="command", run="kill -TERM $$")
    assert killed.reason == "`kill -TERM $$` was killed by SIGTERM"


async def test_cwd_and_env(ctx: CheckContext, tmp_path: Path) -> None:
    result = await run_one(
        ctx, type="command", run="pwd; echo $GREETING", cwd=str(tmp_path), env={"GREETING": "hi"}
    )
    assert result.status is Status.PASS
    assert result.values["output"] == f"{tmp_path}\nhi\n"
    # env adds to the bot's own environment rather than replacing it
    path = await run_one(ctx, type="command", run='test -n "$PATH"', env={"X": "1"})
    assert path.status is Status.PASS


async def test_unstartable_command_is_an_error(ctx: CheckContext, tmp_path: Path) -> None:
    result = await run_one(ctx, type="command", run=["no-such-program", "--check"])
    assert result.status is Status.ERROR
    assert result.reason == "cannot run `no-such-program --check`: No such file or directory"
    nowhere = await run_one(ctx, type="command", run="true", cwd=str(tmp_path / "nope"))
    assert nowhere.status is Status.ERROR


async def test_output_is_bounded_to_its_tail(ctx: CheckContext) -> None:
    result = await run_one(ctx, type="command", run="seq 1 1000000")
    assert result.status is Status.PASS
    assert len(result.values["output"]) == 4096
    assert result.reason == "`seq 1 1000000` exited 0: 1000000"


async def test_timeout_kills_the_whole_process_group(ctx: CheckContext, tmp_path: Path) -> None:
    result = await run_one(ctx, type="command", run=spawner(tmp_path), timeout="500ms")
    assert result.status is Status.ERROR
    assert result.reason == "no result within the 500ms timeout"
    shell, child = await pids(tmp_path)
    assert gone(shell)  # killed and reaped by the check
    assert await until(dead, child)  # killed; its reaper is init


async def test_cancellation_kills_and_propagates(ctx: CheckContext, tmp_path: Path) -> None:
    params = REGISTRY.parse({"type": "command", "run": spawner(tmp_path)})
    task = asyncio.ensure_future(run(params, ctx))  # type: ignore[arg-type]
    shell, child = await pids(tmp_path)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gone(shell)
    assert await until(dead, child)


async def test_background_leftovers_do_not_hold_the_check(
    ctx: CheckContext, tmp_path: Path
) -> None:
    result = await run_one(
        ctx, type="command", run=f"sleep 60 & echo $! > {tmp_path}/child; echo spawned"
    )
    assert result.status is Status.PASS  # not held until the timeout by the child's open output
    assert result.reason.endswith("exited 0: spawned")
    assert await until(dead, int((tmp_path / "child").read_text()))


@pytest.mark.parametrize(
    ("raw", "field"),
    [({"run": ""}, "run"), ({"run": []}, "run"), ({"run": "true", "shell": True}, "shell")],
)
def test_bad_parameters(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse({"type": "command", **raw})
    assert all(error["loc"][0] == field for error in raised.value.errors())
