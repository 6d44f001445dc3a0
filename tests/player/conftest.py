"""Fixtures for the player's tests: the app's SQS pump, a screen with a player key."""

from __future__ import annotations

import pytest


@pytest.fixture
def pump(aws):
    """Delivers queued messages to the app's SQS handlers as Lambda would (``pump.drain()``)."""
    from app import app
    from chalicelib.resources import queue_specs
    from chalicelib.settings import get_settings
    from devstack.sqs_pump import SqsPump

    return SqsPump(app, specs=queue_specs(get_settings()), visibility_override=0, stage="test")


@pytest.fixture
def player_key(demo):
    """NJ001 gets a player key; returns it."""
    from devstack.screens_local import enroll_screen

    return enroll_screen("NJ001")
