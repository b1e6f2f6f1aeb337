"""The web session store (moncompte.web.session_store): one write per sign-in, and the session
fixation protection of Django's own stores."""

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from moncompte.web.session_store import SessionStore
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _session_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "django_session" in q["sql"]]


def test_the_project_uses_this_store():
    assert settings.SESSION_ENGINE == "moncompte.web.session_store"


def test_a_first_sign_in_writes_its_session_once(client, family):
    with CaptureQueriesContext(connection) as context:
        response = sign_in(client, *family.responsible.credentials)
    assert response.status_code == 302
    statements = _session_statements(context.captured_queries)
    assert len(statements) == 1 and statements[0].startswith("INSERT"), statements
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=key).exists()
    assert client.get("/mon-compte/").status_code == 200


def test_a_planted_session_is_replaced_at_sign_in(client, family):
    # An attacker's own session, its key planted in the victim's browser.
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    sign_in(client, *family.responsible.credentials)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key != planted.session_key
    assert not Session.objects.filter(session_key=planted.session_key).exists()
    assert not SessionStore().exists(planted.session_key)
    assert client.get("/mon-compte/").status_code == 200


def test_a_key_naming_no_session_is_not_taken_at_sign_in(client, family):
    invented = "a" * 32
    client.cookies[settings.SESSION_COOKIE_NAME] = invented
    sign_in(client, *family.responsible.credentials)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != invented
    assert not Session.objects.filter(session_key=invented).exists()


def test_cycle_key_of_a_new_session_writes_nothing_until_saved():
    store = SessionStore()
    store["x"] = 1
    with CaptureQueriesContext(connection) as context:
        store.cycle_key()
    assert store.session_key and not context.captured_queries
    store.save()
    assert SessionStore(store.session_key).load() == {"x": 1}


def test_a_drawn_key_already_taken_is_drawn_again(monkeypatch):
    taken = SessionStore()
    taken["owner"] = "someone else"
    taken.create()
    store = SessionStore()
    store["owner"] = "me"
    keys = iter([taken.session_key, "b" * 32])
    monkeypatch.setattr(store, "_get_new_session_key", lambda: next(keys))
    store.cycle_key()
    assert store.session_key == taken.session_key
    store.save()
    assert store.session_key == "b" * 32
    assert SessionStore(taken.session_key).load() == {"owner": "someone else"}
    assert SessionStore("b" * 32).load() == {"owner": "me"}
    with pytest.raises(CreateError):
        SessionStore(taken.session_key).save(must_create=True)
