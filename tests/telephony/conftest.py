"""Fixtures of the telephony tests."""

import pytest
from django.core import signals
from django.db import close_old_connections


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI application itself (``from_wsgi``): keep the test's database
    connection as Django's test client does, or a request's end closes it
    (``close_old_connections``), on PostgreSQL in the middle of the test's transaction
    (tests/api/conftest.py does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
