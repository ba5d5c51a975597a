"""Start-up: from launching the process to the first 200 from GET /healthz, Readiness next
to a bare Bolt app.

    cd /work/main && .venv/bin/python bench/startup.py [--runs 15] [--imports] [--against DIR]

Starts `readiness serve` (`python -m bot serve`: the shipped app.yaml, SQLite, the fake
Slack Web API) and bench/bare_bolt.py (the same aiohttp adapter, nothing else) RUNS times
each, interleaved, polling /healthz every 5 ms from the moment each process is launched.
Readiness is timed on a database it has already migrated (a restart, as a replica comes
back) and on a new file (its first start, migrations included). Every process reads its
modules' bytecode from a cache the warm-up run wrote, as an installed package does (pip
compiles at install; PYTHONDONTWRITEBYTECODE is overridden for them). Reports the median
and the fastest, each median as a ratio to bare Bolt's, and the CPU time each process had
used by then (from /proc: Linux), which other work on the machine disturbs far less.

`--against DIR` (repeatable) times another checkout's `readiness serve` too (`git
worktree add DIR REV`, or `git archive REV bot checks migrations | tar -x -C DIR`),
interleaved with the rest: a change next to what it changed, on the same machine at the
same moments. `--imports` then starts Readiness (a restart) five times under `python -X
importtime` and prints where its start-up goes: the imports, grouped by what they are
for, and the rest (medians).
Speed is measured, never asserted: exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.fake_slack import FakeSlackThread  # noqa: E402

SECRET = "bench-signing-secret"
POLL = 0.005
BARE = "bare Bolt (bench/bare_bolt.py)"
KINDS = {"kept": "restart (database migrated)", "new": "first start (migrates)"}
GROUPS = {  # what a top-level package is imported for
    "HTTP server and Slack (aiohttp, slack_bolt, slack_sdk)": "aiohttp aiohappyeyeballs "
    "aiosignal frozenlist multidict yarl propcache attr slack_bolt slack_sdk",
    "database (sqlalchemy, aiosqlite)": "sqlalchemy aiosqlite asyncpg greenlet _sqlite3 sqlite3",
    "migrations (alembic, mako)": "alembic mako",
    "the checks' HTTP client (httpx, and rich and pygments for its CLI)": "httpx httpcore h11 "
    "anyio sniffio certifi idna rich pygments markdown_it mdurl",
    "config and command line (pydantic, yaml, click)": "pydantic pydantic_core annotated_types "
    "typing_inspection yaml _yaml click",
    "scheduler, metrics, logs (apscheduler, prometheus_client)": "apscheduler tzlocal "
    "prometheus_client pythonjsonlogger defusedxml",
    "Readiness's own modules (bot, checks)": "bot checks migrations",
}
GROUP_OF = {package: group for group, names in GROUPS.items() for package in names.split()}
OTHER = "the standard library and the rest"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds from launch to the first 200
    cpu: float  # of which the process spent on a CPU (not waiting for one)


@dataclass
class Start:
    """A process to time: what runs, where, with what, and the port it serves."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int


class Launcher:
    def __init__(self, fake: FakeSlackThread, tmp: Path) -> None:
        self.fake, self.tmp = fake, tmp
        self.log = tmp / "processes.log"

    def _env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cache = str(self.tmp / "pycache")
        return {**env, "PYTHONPYCACHEPREFIX": cache, "SLACK_SIGNING_SECRET": SECRET, **extra}

    def readiness(self, database: Path, tree: Path = ROOT) -> Start:
        """`python -m bot serve` run in TREE: it imports TREE's bot, checks and migrations."""
        port = free_port()
        env = self._env(
            SLACK_BOT_TOKEN=self.fake.bot_token,
            SLACK_API_URL=self.fake.api_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{database}",
            READINESS_CONFIG=str(ROOT / "app.yaml"),
            PORT=str(port),
        )
        return Start([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"], env, tree, port)

    def bare(self) -> Start:
        port = free_port()
        script = str(ROOT / "bench" / "bare_bolt.py")
        argv = [sys.executable, script, str(port), self.fake.api_url, "0"]
        return Start(argv, self._env(), ROOT, port)

    def time(self, start: Start, stderr: Path | None = None) -> Sample:
        """From launching START to its first 200 from /healthz; then it is stopped. Its
        output goes to the log (its stderr to STDERR if given)."""
        url = f"http://127.0.0.1:{start.port}/healthz"
        with (
            self.log.open("ab") as out,
            (stderr or self.log).open("ab") as err,
            httpx.Client(timeout=1) as client,
        ):
            began = time.perf_counter()
            process = subprocess.Popen(
                start.argv, env=start.env, cwd=start.cwd, stdout=out, stderr=err
            )
            try:
                while time.perf_counter() - began < 60:
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(url).status_code == 200:
                            return Sample(time.perf_counter() - began, cpu_seconds(process.pid))
                    if process.poll() is not None:
                        raise RuntimeError(f"{start.argv[1:3]} exited: see {self.log}")
                    time.sleep(POLL)
                raise RuntimeError(f"{start.argv[1:3]} not healthy within 60 s")
            finally:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:  # not what is timed here: said, then killed
                    print(f"{start.argv[1:3]} in {start.cwd} ignored SIGTERM", file=sys.stderr)
                    process.kill()
                    process.wait(15)


def cpu_seconds(pid: int) -> float:
    """The CPU time process PID has used so far, all its threads (Linux: /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def breakdown(launch: Launcher, database: Path, starts: int = 5) -> str:
    """Readiness started STARTS times under -X importtime: the medians of its imports by
    group, of all of them, and of the rest."""
    line = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")
    runs: list[dict[str, float]] = []  # ms of the modules' own time, by group
    for number in range(starts):
        start, trace = launch.readiness(database), launch.tmp / f"importtime-{number}.txt"
        start.argv[1:1] = ["-X", "importtime"]
        spent: dict[str, float] = defaultdict(float, took=launch.time(start, trace).wall * 1000)
        for found in map(line.match, trace.read_text().splitlines()):
            if found is not None:
                spent[GROUP_OF.get(found[2].split(".")[0], OTHER)] += int(found[1]) / 1000
        spent["imports"] = sum(ms for group, ms in spent.items() if group != "took")
        spent["rest"] = spent["took"] - spent["imports"]
        runs.append(spent)

    def median(group: str) -> float:
        return statistics.median(run[group] for run in runs)

    took = median("took")
    rows = ["| imported for | ms | share |", "|---|---:|---:|"]
    for group in sorted({*GROUPS, OTHER}, key=median, reverse=True):
        rows.append(f"| {group} | {median(group):.0f} | {median(group) / took:.0%} |")
    rows += [
        f"| **all imports** | **{median('imports'):.0f}** | **{median('imports') / took:.0%}** |",
        f"| the rest: interpreter, config, database, the app, the bind | {median('rest'):.0f} | "
        f"{median('rest') / took:.0%} |",
    ]
    head = (
        f"Under -X importtime (which slows imports a little), medians of {starts} starts, "
        f"healthy after {took:.0f} ms:"
    )
    return "\n".join([head, "", *rows])


def summary(label: str, samples: list[Sample], base: list[Sample]) -> str:
    wall, cpu = (
        statistics.median(s.wall for s in samples) * 1000,
        statistics.median(s.cpu for s in samples) * 1000,
    )
    base_wall, base_cpu = (
        statistics.median(s.wall for s in base) * 1000,
        statistics.median(s.cpu for s in base) * 1000,
    )
    fastest = min(s.wall for s in samples) * 1000
    return (
        f"| {label} | {len(samples)} | {wall:.0f} | {fastest:.0f} | {wall / base_wall:.2f}x | "
        f"{cpu:.0f} | {cpu / base_cpu:.2f}x |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--imports", action="store_true", help="where the start-up goes")
    parser.add_argument(
        "--against",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="another checkout to time (repeatable)",
    )
    args = parser.parse_args()
    began = time.monotonic()
    trees = {"`readiness serve`": ROOT}
    trees.update({f"`readiness serve` of {tree}": tree.resolve() for tree in args.against})
    samples: dict[str, list[Sample]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp, FakeSlackThread() as fake:
        launch = Launcher(fake, Path(tmp))
        for run in range(args.runs + 1):  # run 0 writes the bytecode, migrates the kept files
            timings = {BARE: launch.time(launch.bare())}
            for number, (name, tree) in enumerate(trees.items()):
                for kind, what in KINDS.items():
                    file = Path(tmp) / f"{kind}-{number}-{0 if kind == 'kept' else run}.db"
                    timings[f"{name}, {what}"] = launch.time(launch.readiness(file, tree))
            if run:
                for label, sample in timings.items():
                    samples[label].append(sample)
        imports = breakdown(launch, Path(tmp) / "kept-0-0.db") if args.imports else None
    lines = [
        "| to the first 200 from /healthz | runs | median ms | fastest ms | ratio | CPU ms "
        "(median) | CPU ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(summary(label, taken, samples[BARE]) for label, taken in samples.items()),
    ]
    if imports:
        lines += ["", imports]
    lines.append(
        f"\nMachine: nproc={os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.machine()}); {args.runs} runs of each after a warm-up run, interleaved; "
        f"/healthz polled every {POLL * 1000:.0f} ms; took {time.monotonic() - began:.0f}s."
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
