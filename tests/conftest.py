"""The suites' shared options: which database they run on (see tests/databases.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import Databases, server_url


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if server_url() is not None:
        return
    skip = pytest.mark.skip(reason="no PostgreSQL server: set READINESS_TEST_POSTGRES_URL")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


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
