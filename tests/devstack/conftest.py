"""Fixtures for the devstack tests.

The moto server itself is the session-wide ``moto_endpoint`` of
``tests/conftest.py``; these tests only create resources under random names
because moto's state is shared by the whole session.
"""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def unique() -> str:
    """A short random suffix for table, queue and bucket names."""
    return uuid.uuid4().hex[:8]
