"""The suites' shared options: which database they run on (see tests/databases.py).

A test marked `postgresql` needs a PostgreSQL server (several replicas on one database): it
skips where none is given. One marked `sqlite(reason=...)` is about SQLite itself (its
file, its URLs): under `--database postgresql` it skips, saying why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import READER, Databases, server_url


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the database the storage, services, reliability and scenario suites use",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: needs a PostgreSQL server (several replicas on one database)"
    )
    config.addinivalue_line(
        "markers", "sqlite(reason): about SQLite itself; skipped under --database postgresql"
    )
    config.addinivalue_line(
        "markers",
        "once(reason): the database plays no part; runs in the default pass only",
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    READER.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Markers, not keywords: a parametrized id such as `sqlite` is a keyword too.
    on_postgresql = config.getoption("--database") == "postgresql"
    no_server = pytest.mark.skip(reason="no PostgreSQL server: set READINESS_TEST_POSTGRES_URL")
    elsewhere = pytest.mark.skip(reason="several replicas on PostgreSQL: --database postgresql")
    for item in items:
        if item.get_closest_marker("postgresql"):
            if server_url() is None:
                item.add_marker(no_server)
            elif not on_postgresql:  # they run once, in the PostgreSQL pass
                item.add_marker(elsewhere)
        for name, said in (("sqlite", "SQLite only"), ("once", "in the default pass only")):
            only = item.get_closest_marker(name)
            if on_postgresql and only is not None:
                why = only.kwargs.get("reason") or (only.args[0] if only.args else "")
                item.add_marker(pytest.mark.skip(reason=f"{said}: {why}"))


@pytest.fixture
def databases(request: pytest.FixtureRequest) -> Iterator[Databases]:
    """Database URLs of the run's kind, each test its own; PostgreSQL ones dropped after."""
    made = Databases(str(request.config.getoption("--database")))
    yield made
    made.drop()


@pytest.fixture(scope="module")
def module_databases(request: pytest.FixtureRequest) -> Iterator[Databases]:
    made = Databases(str(request.config.getoption("--database")))
    yield made
    made.drop()
