"""/api/v1/sessions/ (moncompte.api.v1.sessions): my connected devices, web and app, as the page
/mon-compte/appareils/ lists them, the app's own session flagged; ending one (a browser's is
signed out, an app's tokens stop working), ending all but this one, or all. Never a session key
in an answer; anyone else's session answers 404."""

import pytest
from django.test import Client

from moncompte.accounts.models import AccountSession
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Channel
from tests.api.api_clients import api_client, assert_error, json_of
from tests.conftest import sign_in
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"
HOME = "/mon-compte/"


@pytest.fixture
def devices(family):
    """The responsible person signed in on the web and in two sign-ins of the app."""
    responsible = family.responsible
    web = Client()
    assert sign_in(web, *responsible.credentials).status_code == 302
    return responsible, web, api_client(responsible.account), api_client(responsible.account)


def test_the_list_shows_web_and_app_sessions_and_flags_this_one(devices):
    responsible, web, app, other_app = devices
    response = app.get(SESSIONS)
    assert response.status_code == 200
    body = json_of(response)
    assert body["count"] == 3
    records = AccountSession.objects.filter(account=responsible.account)
    assert {row["id"] for row in body["results"]} == set(records.values_list("id", flat=True))
    assert sorted(row["channel"] for row in body["results"]) == ["api", "api", "web"]
    (current,) = [row for row in body["results"] if row["current"]]
    assert current["channel"] == "api" and current["channel_label"] == "Application mobile"
    # The other sign-in of the app flags its own session, not this one.
    (theirs,) = [row for row in json_of(other_app.get(SESSIONS))["results"] if row["current"]]
    assert theirs["id"] != current["id"]
    raw = response.content.decode()
    for key in records.values_list("session_key", flat=True):
        assert key not in raw and key.split(":")[-1] not in raw
    # The page lists the same sessions.
    page = web.get("/mon-compte/appareils/").content.decode()
    assert page.count("/fermer/") == 3


def test_ending_the_web_session_signs_the_browser_out(devices):
    responsible, web, app, _ = devices
    web_session = AccountSession.objects.get(account=responsible.account, channel=Channel.WEB)
    response = app.delete(f"{SESSIONS}{web_session.pk}/")
    assert response.status_code == 204 and not response.content
    assert web.get(HOME).status_code == 302  # back to the sign-in page
    assert_error(app.delete(f"{SESSIONS}{web_session.pk}/"), 404, "not_found")  # already ended
    assert JournalEntry.objects.filter(action="session.end", channel="api").count() == 1


def test_ending_an_app_session_revokes_its_tokens_even_this_one(devices):
    responsible, _, app, other_app = devices
    rows = json_of(app.get(SESSIONS))["results"]
    (others,) = [r for r in rows if r["channel"] == "api" and not r["current"]]
    (mine,) = [r for r in rows if r["current"]]
    assert app.delete(f"{SESSIONS}{others['id']}/").status_code == 204
    assert_error(other_app.get(SESSIONS), 401, "not_authenticated")
    assert app.get(SESSIONS).status_code == 200
    assert app.delete(f"{SESSIONS}{mine['id']}/").status_code == 204
    assert_error(app.get(SESSIONS), 401, "not_authenticated")


def test_end_all_keeps_this_session_unless_asked(devices):
    responsible, web, app, other_app = devices
    result = json_of(app.post(SESSIONS + "end-all/"))
    assert result == {"ended": 2, "message": "2 autres sessions fermées."}
    assert web.get(HOME).status_code == 302
    assert_error(other_app.get(SESSIONS), 401, "not_authenticated")
    assert json_of(app.get(SESSIONS))["count"] == 1
    assert json_of(app.post(SESSIONS + "end-all/", {}))["message"] == "Aucune autre session n'était ouverte."
    entry = JournalEntry.objects.filter(action="session.end_all", channel="api").order_by("id").first()
    assert entry.detail == {"reason": "ended_by_person", "ended": 2}
    result = json_of(app.post(SESSIONS + "end-all/", {"include_current": True}))
    assert result == {"ended": 1, "message": "Vous êtes déconnecté(e) partout."}
    assert_error(app.get(SESSIONS), 401, "not_authenticated")


def test_wrong_ids_bad_bodies_no_token_and_an_unusable_account(devices, family):
    responsible, web, app, _ = devices
    others = AccountSession.objects.filter(account=family.spouse.account)
    assert sign_in(Client(), *family.spouse.credentials).status_code == 302
    (their_session,) = others
    assert_error(app.delete(f"{SESSIONS}{their_session.pk}/"), 404, "not_found")
    assert AccountSession.objects.get(pk=their_session.pk).ended_at is None
    assert_error(app.delete(f"{SESSIONS}99999999999999999999/"), 404, "not_found")
    body = assert_error(
        app.post(SESSIONS + "end-all/", {"include_current": "peut-être"}), 400, "invalid", field="include_current"
    )
    assert body["errors"]["include_current"] == ["Doit être un booléen valide."]
    assert_error(app.get(SESSIONS + "end-all/"), 405, "method_not_allowed")
    assert_error(Client().get(SESSIONS), 401, "not_authenticated")
    assert_error(api_client(AccountFactory(with_contact=False)).get(SESSIONS), 403, "contact_required")
    assert web.get(HOME).status_code == 200  # nothing ended by the refusals
