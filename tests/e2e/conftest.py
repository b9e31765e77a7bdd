"""Fixtures for the end-to-end tests: a throw-away PostgreSQL database and Redis db for a real stack."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import require_services
from tests.e2e import harness


@dataclass(frozen=True)
class Services:
    database_url: str
    broker_url: str


@pytest.fixture
def stack_services() -> Iterator[Services]:
    """A new PostgreSQL database and an empty Redis db, dropped and flushed afterwards.

    Skipped without PostgreSQL (DATABASE_URL) or Redis (CELERY_BROKER_URL); failed instead when
    GOLDSITE_REQUIRE_SERVICES=1 (CI).
    """
    try:
        postgres, redis = harness.postgres_server_url(), harness.redis_server_url()
        with harness.temporary_database(postgres) as database_url, harness.claimed_redis_db(redis) as broker_url:
            yield Services(database_url=database_url, broker_url=broker_url)
    except harness.ServiceUnavailable as exc:
        if require_services():
            pytest.fail(f"GOLDSITE_REQUIRE_SERVICES=1 but the stack test {exc}")
        pytest.skip(f"the stack test {exc}")
