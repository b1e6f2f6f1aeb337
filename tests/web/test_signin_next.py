"""The sign-in's ``next`` parameter: followed only as a path of this site, never a 500; and a
sign-in that fails once the credentials are checked leaves no session record open."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import DatabaseError, connection
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from moncompte.accounts.models import AccountSession
from moncompte.audit.models import JournalEntry
from moncompte.web.signin.targets import after_signin, local_path
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

HOME = "/mon-compte/"

HOSTILE = {
    "a-view-name": "mon-compte",  # issue 8: redirect() took it for a view name (NoReverseMatch, 500)
    "a-namespaced-view-name": "web:home",
    "relative": "mon-compte/appareils/",
    "protocol-relative": "//evil.example",
    "triple-slash": "///evil.example/",
    "absolute": "https://evil.example/",
    "absolute-http": "http://evil.example/mon-compte/",
    "scheme-without-slashes": "https:evil.example",
    "javascript": "javascript:alert(1)",
    "backslash-host": "/\\evil.example",
    "backslashes": "\\\\evil.example",
    "backslash-later": "/mon-compte/\\\\evil.example",
    "leading-space": " /mon-compte/",
    "tab-in-host": "/\t/evil.example",
    "nul": "/mon-compte/\x00",
    "header-injection": "/mon-compte/\r\nSet-Cookie: pris=1",
    "line-separator": "/mon-compte/\u2028",
    "bidi-override": "/\u202eelpmaxe.live//",
    "delete-character": "/\x7f/evil.example",
    "too-long": "/" + "a" * 5000,
}

ACCEPTED = ["/mon-compte/", "/mon-compte/appareils/", "/mon-compte/appareils/?onglet=1#fin", "/"]


def _post_sign_in(client, family, next_value, url="/connexion/"):
    identifier, password = family.responsible.credentials
    return client.post(url, {"identifier": identifier, "password": password, "next": next_value})


def _is_local(location: str) -> bool:
    parts = urlsplit(location)
    return location.startswith("/") and location[1:2] not in ("/", "\\") and not parts.scheme and not parts.netloc


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_next_is_ignored_and_the_sign_in_goes_home(family, name):
    client = Client(raise_request_exception=False)
    response = _post_sign_in(client, family, HOSTILE[name])
    assert response.status_code == 302, response.status_code
    assert response["Location"] == HOME
    # Signed in for real: the session works, and its record is the one open session.
    assert client.get(HOME).status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert list(AccountSession.objects.filter(ended_at__isnull=True).values_list("session_key", flat=True)) == [key]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_next_in_the_query_string_is_ignored_too(family, name):
    client = Client(raise_request_exception=False)
    page = client.get("/connexion/", {"next": HOSTILE[name]})
    assert page.status_code == 200
    assert 'name="next"' not in page.content.decode()  # not carried into the form
    identifier, password = family.responsible.credentials
    response = client.post("/connexion/?" + _query(HOSTILE[name]), {"identifier": identifier, "password": password})
    assert response.status_code == 302 and response["Location"] == HOME
    # Already signed in: /connexion/?next=... goes home as well.
    again = client.get("/connexion/", {"next": HOSTILE[name]})
    assert again.status_code == 302 and again["Location"] == HOME


def _query(value: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": value})


@pytest.mark.parametrize("target", ACCEPTED)
def test_a_local_path_is_followed(family, target):
    response = _post_sign_in(Client(), family, target)
    assert response.status_code == 302
    assert response["Location"] == target


def test_a_hostile_next_never_reaches_the_code_sign_in_either(family):
    # The form of the code sign-in carries ``next`` the same way: refused there too.
    client = Client(raise_request_exception=False)
    identifier, password = family.responsible.credentials
    page = client.post("/connexion/code/", {"depuis_connexion": "1", "identifier": identifier, "next": "mon-compte"})
    assert page.status_code == 200
    assert 'name="next"' not in page.content.decode()


# No example database: nothing written into the repository (.hypothesis/).
@hypothesis_settings(database=None, deadline=None)
@given(st.text(max_size=60))
def test_whatever_the_text_the_target_is_a_path_of_this_site(text):
    target = after_signin(text)
    assert _is_local(target), target
    assert target.isprintable() and not any(c.isspace() for c in target)


@hypothesis_settings(database=None, deadline=None)
@given(st.text(alphabet=st.sampled_from("/\\:.@ %a\t\r\n\x00"), max_size=12))
def test_slashes_and_separators_never_make_a_host(text):
    value = local_path(text)
    assert value == "" or _is_local(value)


# A failure once the credentials are checked -------------------------------------------------


def _refuse_journal_action(action: str) -> None:
    """Make the database itself refuse to journal ``action`` (no mock: a trigger, rolled back
    with the test's transaction)."""
    table = JournalEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse_action() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused by the test'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER test_refuse_action BEFORE INSERT ON {table} FOR EACH ROW "  # noqa: S608
                f"WHEN (NEW.action = '{action}') EXECUTE FUNCTION test_refuse_action()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refuse_action BEFORE INSERT ON {table} "  # noqa: S608
                f"WHEN NEW.action = '{action}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


def test_a_failure_after_the_credentials_leaves_no_session_open_and_nobody_signed_in(family):
    # The session's record is written, then its journal entry fails: all of it is undone.
    _refuse_journal_action("signin.success")
    client = Client(raise_request_exception=False)
    response = _post_sign_in(client, family, "/mon-compte/appareils/")
    assert response.status_code == 503
    assert "incident technique" in response.content.decode()
    assert not AccountSession.objects.filter(ended_at__isnull=True).exists()
    assert not AccountSession.objects.exists()
    assert not JournalEntry.objects.filter(action="signin.success").exists()
    # The browser is not signed in: no session says so, the personal pages send to sign-in.
    assert "_auth_user_id" not in client.session
    follow = client.get(HOME)
    assert follow.status_code == 302 and follow["Location"].startswith("/connexion/")


def test_a_failed_session_opening_leaves_the_request_signed_out(family, rf):
    """Whatever the caller answers after the failure, the request's session does not say
    signed in: the record that would list it was rolled back."""
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.middleware import SessionMiddleware

    from moncompte.web.signin.session import open_web_session

    _refuse_journal_action("signin.success")
    request = rf.post("/connexion/", REMOTE_ADDR="198.51.100.7")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = AnonymousUser()
    with pytest.raises(DatabaseError):
        open_web_session(request, family.responsible.account, "signin.success")
    assert "_auth_user_id" not in request.session
    assert not request.user.is_authenticated
    assert not AccountSession.objects.exists()


def test_the_view_name_next_of_issue_8_signs_in_with_one_session_record(family):
    """``/connexion/?next=mon-compte``: the sign-in failed with a 500 after recording a session
    that no browser held. Now: signed in, home, one record, the browser's."""
    client = Client(raise_request_exception=False)
    identifier, password = family.responsible.credentials
    response = client.post("/connexion/?next=mon-compte", {"identifier": identifier, "password": password})
    assert response.status_code == 302 and response["Location"] == HOME
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert list(AccountSession.objects.values_list("session_key", "ended_at")) == [(key, None)]
    assert client.get(HOME).status_code == 200


def test_a_sign_in_over_a_signed_in_session_replaces_it(client, family):
    """A second sign-in in the same browser (another tab, the back button) opens a new session
    and ends the old one with its record; it once answered 503 (the record's key taken twice)."""
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    first_key = client.session.session_key
    response = sign_in(client, *family.responsible.credentials)
    assert response.status_code == 302
    assert client.session.session_key != first_key
    records = AccountSession.objects.filter(account=family.responsible.account)
    assert records.get(session_key=first_key).end_reason == "replaced"
    assert records.filter(ended_at__isnull=True).count() == 1
    assert client.get("/mon-compte/").status_code == 200
