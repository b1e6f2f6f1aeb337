"""Identifiers and secrets never reach the logs: the configured handlers mask them, whatever a
message was built from (docs/security.md, "Identifiers"). Fails if the filter is removed from the
logging configuration or stops rewriting the record."""

import datetime
import io
import logging
import logging.config

import pytest
from django.conf import settings

from tests.factories import nir_for, typed


@pytest.fixture
def logged():
    """What the project's console handler writes, as text."""
    config = {**settings.LOGGING, "handlers": {name: dict(h) for name, h in settings.LOGGING["handlers"].items()}}
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        logging.config.dictConfig(settings.LOGGING)


def test_a_nir_in_a_log_message_is_masked(logged):
    identifier = nir_for(sex="F", birth_date=datetime.date(1985, 5, 4), birth_place_code="75115")
    for shown in (identifier.value, typed(identifier)):
        logging.getLogger("moncompte.guard").warning("sign-in of %s refused", shown)
    text = logged.getvalue()
    assert text.count("[NIR masqué]") == 2
    assert identifier.value not in text and typed(identifier) not in text
    assert identifier.value[:13] not in text.replace(" ", "")


def test_passwords_codes_and_tokens_in_a_log_message_are_masked(logged):
    logging.getLogger("django.request").warning("POST /x?password=%s&code=%s&token=%s", "S3cret!x", "482913", "abc.def")
    text = logged.getvalue()
    assert "S3cret!x" not in text and "482913" not in text and "abc.def" not in text
    assert "password=[masqué]" in text
