"""`command`: a command that must exit with status 0, run in a process group of its own.

However the check ends (exit, timeout, cancellation) the whole group is killed and the
command reaped, so neither it nor anything it started outlives the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from asyncio.subprocess import DEVNULL, PIPE, STDOUT
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from checks.base import CheckContext, CheckParams, CheckType, Outcome

TAIL_BYTES = 4096  # how much of the end of the output is kept


class CommandParams(CheckParams):
    type: Literal["command"] = "command"
    run: Annotated[str, Field(min_length=1)] | Annotated[list[str], Field(min_length=1)]
    # a string goes through the shell; a list is the program and its arguments
    cwd: str | None = Field(default=None, min_length=1)
    env: dict[str, str] = Field(default_factory=dict)  # added to the bot's environment

    @property
    def shown(self) -> str:
        text = self.run if isinstance(self.run, str) else shlex.join(self.run)
        return text if len(text) <= 60 else text[:59] + "…"


class _Capture(asyncio.SubprocessProtocol):
    """Keeps the last TAIL_BYTES of the output; tells when the process exits and when all is done.

    Exit is told apart from the end of output because whatever the command left running
    may hold its output open: that is killed once the command itself has exited.
    """

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.tail = bytearray()
        self.exited: asyncio.Future[None] = loop.create_future()
        self.finished: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.tail += data
        del self.tail[:-TAIL_BYTES]

    def process_exited(self) -> None:
        self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.finished.set_result(None)


async def _start(
    params: CommandParams, environ: Mapping[str, str]
) -> tuple[asyncio.SubprocessTransport, _Capture]:
    loop = asyncio.get_running_loop()
    options: dict[str, Any] = {
        "stdin": DEVNULL,
        "stdout": PIPE,
        "stderr": STDOUT,
        "cwd": params.cwd,
        # added to the environment the bot was configured from; else it is inherited
        "env": {**environ, **params.env} if params.env else None,
        "start_new_session": True,  # its own process group, killed whole at the timeout
    }
    if isinstance(params.run, str):
        return await loop.subprocess_shell(_Capture, params.run, **options)
    return await loop.subprocess_exec(_Capture, *params.run, **options)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


async def run(params: CommandParams, ctx: CheckContext) -> Outcome:
    try:
        transport, capture = await _start(params, ctx.environ)
    except OSError as exc:
        return Outcome.errored(f"cannot run `{params.shown}`: {exc.strerror or exc}")
    try:
        await capture.exited
    finally:
        # After an exit this ends what the command left running; on timeout or cancellation
        # it ends the command itself, and the cancellation then goes on.
        _kill_group(transport.get_pid())
        try:
            await asyncio.shield(capture.finished)
        finally:
            transport.close()
    output = capture.tail.decode("utf-8", errors="replace")
    code = transport.get_returncode()
    last = _last_line(output)
    values = {"exit_status": code, "output": output}
    said = f": {last}" if last else ""
    if code == 0:
        return Outcome.passed(f"`{params.shown}` exited 0{said}", **values)
    if code is not None and code < 0:
        how = f"was killed by {signal.Signals(-code).name}"
    else:
        how = f"exited with status {code}"
    return Outcome.failed(f"`{params.shown}` {how}{said}", **values)


CHECK = CheckType("command", CommandParams, run)
