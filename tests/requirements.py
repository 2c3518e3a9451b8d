"""Outside services and assets the tests need: fail under CI, skip elsewhere with the reason."""
import os
from pathlib import Path

import pytest
import redis

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_ADMIN_URL = os.environ.get("GRIDPATROL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("GRIDPATROL_TEST_REDIS", "redis://127.0.0.1:6379/15")
SHARED_DIR = Path(os.environ.get("GRIDPATROL_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def missing(what: str) -> None:
    """Fail (CI) or skip (elsewhere) because `what` is not available."""
    message = f"{what} is not available"
    if IN_CI:
        pytest.fail(f"{message}; CI=true forbids skipping", pytrace=False)
    pytest.skip(f"{message} (set CI=true to make this a failure)")


def shared_path(relative: str) -> Path:
    """A path under ../shared, or fail/skip when it is absent."""
    path = SHARED_DIR / relative
    if not path.exists():
        missing(f"shared asset {path}")
    return path


def redis_available() -> str:
    """The test Redis URL, or fail/skip when that Redis does not answer."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        missing(f"Redis at {REDIS_TEST_URL} ({exc.__class__.__name__})")
    finally:
        client.close()
    return REDIS_TEST_URL
