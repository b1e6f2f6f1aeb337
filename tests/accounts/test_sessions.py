import pytest
from django.test import Client

from moncompte.accounts.devices import describe_device, describe_place
from moncompte.accounts.models import AccountSession
from moncompte.audit.models import JournalEntry
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)


def _two_devices(family):
    """The responsible person signed in on a laptop and on a phone."""
    laptop = Client(HTTP_USER_AGENT=FIREFOX_WINDOWS, REMOTE_ADDR="90.84.0.1")
    phone = Client(HTTP_USER_AGENT=SAFARI_IPHONE, REMOTE_ADDR="10.0.0.5")
    assert sign_in(laptop, *family.responsible.credentials).status_code == 302
    assert sign_in(phone, *family.responsible.credentials).status_code == 302
    return laptop, phone


def test_sessions_page_lists_devices_places_and_this_device(family):
    laptop, _ = _two_devices(family)
    body = laptop.get("/mon-compte/appareils/").content.decode()
    assert "Firefox sur Windows" in body
    assert "Safari sur iPhone" in body
    assert "France" in body
    assert "Réseau local" in body
    assert body.count("cet appareil") == 1


def test_ending_another_session_signs_that_device_out(family):
    laptop, phone = _two_devices(family)
    phone_session = AccountSession.objects.get(session_key=phone.session.session_key)
    response = laptop.post(f"/mon-compte/appareils/{phone_session.id}/fermer/")
    assert response.status_code == 302
    assert phone.get("/mon-compte/").status_code == 302  # back to sign-in
    assert laptop.get("/mon-compte/").status_code == 200
    assert JournalEntry.objects.filter(action="session.end").exists()


def test_someone_elses_session_id_answers_404(family):
    laptop, _ = _two_devices(family)
    spouse = Client()
    sign_in(spouse, *family.spouse.credentials)
    spouse_session = AccountSession.objects.filter(account=family.spouse.account).get()
    assert laptop.post(f"/mon-compte/appareils/{spouse_session.id}/fermer/").status_code == 404
    assert spouse.get("/mon-compte/").status_code == 200


def test_end_all_other_sessions_keeps_this_one(family):
    laptop, phone = _two_devices(family)
    laptop.post("/mon-compte/appareils/fermer-tout/")
    assert phone.get("/mon-compte/").status_code == 302
    assert laptop.get("/mon-compte/").status_code == 200


def test_sign_out_everywhere(family):
    laptop, phone = _two_devices(family)
    response = laptop.post("/mon-compte/appareils/fermer-tout/", {"inclure_cet_appareil": "1"})
    assert response.status_code == 302
    assert phone.get("/mon-compte/").status_code == 302
    assert laptop.get("/mon-compte/").status_code == 302
    assert not AccountSession.objects.filter(ended_at__isnull=True).exists()


def test_sign_out_marks_the_session_ended(client, family):
    sign_in(client, *family.responsible.credentials)
    key = client.session.session_key
    client.post("/deconnexion/")
    assert AccountSession.objects.get(session_key=key).end_reason == "signed_out"


@pytest.mark.parametrize(
    "agent, expected",
    [
        (FIREFOX_WINDOWS, "Firefox sur Windows"),
        (SAFARI_IPHONE, "Safari sur iPhone"),
        ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36", "Chrome sur Android"),
        ("", "Appareil inconnu"),
    ],
)
def test_describe_device(agent, expected):
    assert describe_device(agent) == expected


def test_describe_place():
    assert describe_place("127.0.0.1") == "Réseau local"
    assert describe_place("90.84.0.1") == "France"
    assert describe_place("not an address") == ""
    assert describe_place(None) == ""


def test_ending_this_very_session_signs_out(client, family):
    sign_in(client, *family.responsible.credentials)
    own = AccountSession.objects.get(session_key=client.session.session_key)
    response = client.post(f"/mon-compte/appareils/{own.id}/fermer/")
    assert response.status_code == 302
    assert client.get("/mon-compte/").status_code == 302


def test_a_deactivated_account_loses_every_session(family):
    from importlib import import_module

    from django.conf import settings

    from moncompte.accounts.models import Account
    from moncompte.accounts.services import account_deactivate
    from moncompte.core.actors import Actor

    laptop, phone = _two_devices(family)
    keys = [laptop.session.session_key, phone.session.session_key]
    account = Account.objects.get(pk=family.responsible.account.pk)
    assert account_deactivate(actor=Actor.system(), account=account) == 2
    # Ended in the store itself (not only refused by the backend) and in the list.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    assert not any(store().exists(key) for key in keys)
    assert set(AccountSession.objects.filter(account=account).values_list("end_reason", flat=True)) == {
        "account_deactivated"
    }
    assert not AccountSession.objects.filter(account=account, ended_at__isnull=True).exists()
    assert laptop.get("/mon-compte/").status_code == 302
    assert phone.get("/mon-compte/").status_code == 302
    entry = JournalEntry.objects.get(action="account.deactivated")
    assert entry.subject_person == account.person and entry.detail == {"sessions_ended": 2}
    assert not Account.objects.get(pk=account.pk).is_active
    assert sign_in(Client(), *family.responsible.credentials).status_code == 401


def test_a_session_of_an_account_made_inactive_otherwise_is_refused(family):
    """Deactivated without the service (the admin, a script): the backend refuses its sessions."""
    from moncompte.accounts.models import Account

    laptop, _ = _two_devices(family)
    Account.objects.filter(pk=family.responsible.account.pk).update(is_active=False)
    response = laptop.get("/mon-compte/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
