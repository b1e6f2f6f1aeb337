"""The whole FranceConnect sign-in against the local provider (panva's oidc-provider on Node).

The Django test client plays our side; the fixture ``franceconnect_provider``
(tests/support/franceconnect_provider.py) runs the provider and plays the browser at it
(``authorize``, ``end_session``). The identities come from the factories: each test tells the
provider who signs in (``next_identity``) with the claims of a person it built.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils.html import escape
from joserfc import jws

from moncompte.accounts.models import Account
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.franceconnect.models import FranceConnectLink
from moncompte.identity.matching import FRANCE
from moncompte.web.franceconnect.state import ID_TOKEN
from tests.conftest import sign_in
from tests.factories import (
    AccountFactory,
    DossierFactory,
    MemberFactory,
    PersonFactory,
    birth_date_for_age,
    make_household,
    nir_for,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

FAILED = "La connexion avec FranceConnect n'a pas abouti"
CALLBACK = "http://testserver/franceconnect/retour/"
# No run of letters a name could contain (the password may not hold the person's random names).
PASSWORD = "Zx7qWv-9kPm-Jt4h-Rb2"


def claims_of(person, **overrides) -> dict:
    """What FranceConnect gives for this person: every first name, the birth name, the pivot data."""
    claims = {
        "given_name": person.first_names,
        "family_name": person.birth_name,
        "birthdate": person.birth_date.isoformat(),
        "gender": "female" if person.sex == "F" else "male",
        "birthplace": person.birth_place_code if person.birth_country_code == FRANCE else "",
        "birthcountry": person.birth_country_code,
        "email": "personne@example.fr",
    }
    claims.update(overrides)
    return claims


def start(client, provider, **data) -> str:
    """Press the button; the browser goes through the provider; the callback URL it comes back with."""
    response = client.post("/franceconnect/connexion/", data)
    assert response.status_code == 302
    assert response["Location"].startswith(provider.issuer + "/authorize?")
    callback = provider.authorize(response["Location"])
    assert callback.startswith(CALLBACK), callback
    return callback


def through_franceconnect(client, provider, **data):
    return client.get(start(client, provider, **data))


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def reasons(action: JournalAction) -> list[str]:
    return [e.detail.get("reason") for e in JournalEntry.objects.filter(action=action).order_by("id")]


@pytest.fixture
def claire(db):
    """A responsible person with an account (a validated contact), as in the brief's "Claire"."""
    return make_household().responsible


# The first time, then the next ones ------------------------------------------------------------


def test_claire_confirms_the_link_once_then_lands_on_her_page(franceconnect_provider, claire):
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    client = Client()
    response = through_franceconnect(client, franceconnect_provider)
    assert response.status_code == 302 and response["Location"] == "/franceconnect/confirmation/"
    assert not signed_in(client)

    page = client.get("/franceconnect/confirmation/")
    body = page.content.decode()
    assert page.status_code == 200
    first_name = claire.person.first_names.split()[0]
    assert (
        f"Nous vous avons reconnu(e) : <strong>{escape(first_name)} {escape(claire.person.birth_name)}</strong>" in body
    )
    # Nothing of the file before the confirmation.
    assert claire.member.dossier.numero not in body
    assert client.get("/mon-compte/").status_code == 302
    assert not FranceConnectLink.objects.exists()

    response = client.post("/franceconnect/confirmation/")
    assert response.status_code == 302 and response["Location"] == "/mon-compte/"
    home = client.get("/mon-compte/").content.decode()
    assert escape(claire.person.display_name) in home and claire.member.dossier.numero in home
    link = FranceConnectLink.objects.get()
    assert (link.sub, link.person) == (sub, claire.person)
    assert JournalEntry.objects.filter(action=JournalAction.FRANCECONNECT_LINK_CONFIRMED).count() == 1
    # The id_token is kept for the logout (server-side).
    assert client.session[ID_TOKEN]

    # The next time: no confirmation, signed in at once.
    later = Client()
    response = through_franceconnect(later, franceconnect_provider)
    assert response.status_code == 302 and response["Location"] == "/mon-compte/"
    assert claire.member.dossier.numero in later.get("/mon-compte/").content.decode()
    assert FranceConnectLink.objects.count() == 1
    assert JournalEntry.objects.filter(action=JournalAction.FRANCECONNECT_SIGNIN).count() == 2


def test_the_authorization_asks_for_eidas1_and_the_pivot_identity_with_fresh_state_and_nonce(
    franceconnect_provider, claire
):
    franceconnect_provider.next_identity(claims_of(claire.person))
    through_franceconnect(Client(), franceconnect_provider)
    through_franceconnect(Client(), franceconnect_provider)
    first, second = franceconnect_provider.calls()["authorize"][-2:]
    assert first["acr_values"] == "eidas1" and first["response_type"] == "code"
    assert set(first["scope"].split()) >= {"openid", "given_name", "family_name", "birthdate", "gender", "birthplace"}
    assert len(first["state"]) >= 32 and len(first["nonce"]) >= 32
    assert first["state"] != second["state"] and first["nonce"] != second["nonce"]


def test_the_next_path_survives_the_round_trip(franceconnect_provider, claire):
    franceconnect_provider.next_identity(claims_of(claire.person))
    client = Client()
    through_franceconnect(client, franceconnect_provider)
    client.post("/franceconnect/confirmation/")
    client.post("/deconnexion/")
    response = through_franceconnect(Client(), franceconnect_provider, next="/mon-compte/coordonnees/")
    assert response["Location"] == "/mon-compte/coordonnees/"


def test_a_person_without_account_gets_one_validates_a_contact_and_may_choose_a_password(franceconnect_provider):
    household = make_household(accounts=False)
    person = household.responsible.person
    franceconnect_provider.next_identity(claims_of(person))
    client = Client()
    assert through_franceconnect(client, franceconnect_provider)["Location"] == "/franceconnect/confirmation/"
    assert "nous créons votre compte" in client.get("/franceconnect/confirmation/").content.decode()
    response = client.post("/franceconnect/confirmation/")
    assert response["Location"] == "/franceconnect/mot-de-passe/"
    account = Account.objects.get(person=person)
    assert not account.has_usable_password()
    # Not usable before a contact is validated: the file stays hidden.
    assert client.get("/mon-compte/")["Location"] == "/mon-compte/coordonnees/valider/"

    page = client.get("/franceconnect/mot-de-passe/").content.decode()
    assert "un mot de passe : facultatif" in page
    response = client.post("/franceconnect/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response["Location"] == "/mon-compte/coordonnees/valider/"
    client.post("/mon-compte/coordonnees/valider/", {"action": "envoyer", "channel": "email", "email": "p@example.fr"})
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    response = client.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": code})
    assert response.status_code == 302
    assert household.dossier.numero in client.get("/mon-compte/").content.decode()
    # The password chosen signs in too.
    assert sign_in(Client(), household.responsible.identifier, PASSWORD)["Location"] == "/mon-compte/"


def test_the_password_can_be_skipped(franceconnect_provider):
    person = make_household(accounts=False).responsible.person
    franceconnect_provider.next_identity(claims_of(person))
    client = Client()
    through_franceconnect(client, franceconnect_provider)
    client.post("/franceconnect/confirmation/")
    response = client.post("/franceconnect/mot-de-passe/", {"action": "passer"})
    assert response["Location"] == "/mon-compte/coordonnees/valider/"
    assert not Account.objects.get(person=person).has_usable_password()
    # Offered once only.
    assert client.get("/franceconnect/mot-de-passe/")["Location"] == "/mon-compte/coordonnees/valider/"


def test_a_second_confirmation_is_refused_and_makes_no_second_link(franceconnect_provider, claire):
    franceconnect_provider.next_identity(claims_of(claire.person))
    client = Client()
    through_franceconnect(client, franceconnect_provider)
    session_key = client.cookies["moncompte_session"].value
    other_tab = Client()
    other_tab.cookies["moncompte_session"] = session_key  # the same browser, before the first answer
    assert client.post("/franceconnect/confirmation/")["Location"] == "/mon-compte/"
    response = other_tab.post("/franceconnect/confirmation/")
    assert response.status_code == 400
    assert FranceConnectLink.objects.count() == 1


# Nobody recognised: the identity check path ----------------------------------------------------


def test_an_unknown_identity_goes_to_the_identity_check_with_the_fields_filled_in(franceconnect_provider):
    claims = franceconnect_provider.identity("inconnu")
    franceconnect_provider.next_identity(claims)
    client = Client()
    response = through_franceconnect(client, franceconnect_provider)
    assert response["Location"] == "/franceconnect/non-reconnu/"
    page = client.get("/franceconnect/non-reconnu/").content.decode()
    assert "Nous n'avons pas pu vous reconnaître avec certitude" in page
    assert not signed_in(client)
    form = client.get("/creer-mon-compte/").context["form"]
    born = claims["birthdate"].split("-")
    assert form["first_names"].value() == claims["given_name"]
    assert form["birth_name"].value() == claims["family_name"]
    assert (form["birth_year"].value(), form["birth_month"].value(), form["birth_day"].value()) == tuple(born)
    assert form["sex"].value() == ("F" if claims["gender"] == "female" else "M")
    assert form["birth_country"].value() == claims["birthcountry"]
    assert reasons(JournalAction.FRANCECONNECT_NO_MATCH) == ["no_match"]


def test_a_french_birth_place_is_prefilled_as_its_code(franceconnect_provider):
    stranger = PersonFactory.build(sex="M", age=30, birth_place_code="69383")  # never saved: unknown here
    franceconnect_provider.next_identity(claims_of(stranger))
    client = Client()
    through_franceconnect(client, franceconnect_provider)
    form = client.get("/creer-mon-compte/").context["form"]
    assert (form["birth_place"].value(), form["birth_country"].value()) == ("69383", FRANCE)


def _comparable(page: bytes) -> str:
    """A page without what differs from one answer to the next (CSP nonces, CSRF tokens)."""
    text = page.decode()
    text = re.sub(r'nonce="[^"]+"', 'nonce=""', text)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_two_people_with_the_same_identity_sign_nobody_in_and_see_the_no_match_page(franceconnect_provider, claire):
    person = claire.person
    twin = PersonFactory(
        first_names=person.first_names,
        birth_name=person.birth_name,
        birth_date=person.birth_date,
        sex=person.sex,
        birth_place_code=person.birth_place_code,
    )
    MemberFactory(dossier=DossierFactory(), person=twin)
    franceconnect_provider.next_identity(claims_of(person))
    client = Client()
    assert through_franceconnect(client, franceconnect_provider)["Location"] == "/franceconnect/non-reconnu/"
    several = client.get("/franceconnect/non-reconnu/")
    assert not signed_in(client) and not FranceConnectLink.objects.exists()
    assert reasons(JournalAction.FRANCECONNECT_SEVERAL) == ["several"]

    franceconnect_provider.next_identity(franceconnect_provider.identity("inconnu"))
    nobody = Client()
    assert through_franceconnect(nobody, franceconnect_provider)["Location"] == "/franceconnect/non-reconnu/"
    assert _comparable(nobody.get("/franceconnect/non-reconnu/").content) == _comparable(several.content)


def test_a_person_whose_nir_contradicts_the_identity_is_not_recognised(franceconnect_provider):
    # The file says born in Paris 15e; the NIR's place digits say Lyon 3e.
    born = birth_date_for_age(40)
    person = PersonFactory(
        sex="F",
        birth_date=born,
        birth_place_code="75115",
        identifier=nir_for(sex="F", birth_date=born, birth_place_code="69383"),
    )
    franceconnect_provider.next_identity(claims_of(person))
    client = Client()
    assert through_franceconnect(client, franceconnect_provider)["Location"] == "/franceconnect/non-reconnu/"
    assert not signed_in(client)
    assert reasons(JournalAction.FRANCECONNECT_NO_MATCH) == ["nir_cross_check"]


# Refusals --------------------------------------------------------------------------------------


def test_a_person_of_13_is_refused(franceconnect_provider):
    household = make_household(accounts=False)
    child = PersonFactory(age=13)
    MemberFactory(dossier=household.dossier, person=child, child=True)
    franceconnect_provider.next_identity(claims_of(child))
    client = Client()
    response = through_franceconnect(client, franceconnect_provider)
    assert response.status_code == 403
    assert "Un compte personnel peut être créé à partir de 16 ans." in response.content.decode()
    assert not signed_in(client) and not FranceConnectLink.objects.exists()
    assert not Account.objects.filter(person=child).exists()
    assert reasons(JournalAction.FRANCECONNECT_REFUSED) == ["too_young"]


def test_a_linked_person_whose_identity_no_longer_matches_is_refused(franceconnect_provider, claire):
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    FranceConnectLink.objects.create(sub=sub, person=claire.person)
    claire.person.birth_name = "AUTRE" + claire.person.birth_name
    claire.person.save(update_fields=["birth_name"])
    client = Client()
    response = through_franceconnect(client, franceconnect_provider)
    assert response.status_code == 403
    assert "Nous ne pouvons pas vous connecter avec FranceConnect" in response.content.decode()
    assert not signed_in(client)
    assert reasons(JournalAction.FRANCECONNECT_REFUSED) == ["link_mismatch"]


MISBEHAVIOURS = {
    # mode: (status, reason journaled)
    "wrong_nonce": (502, "id_token_wrong_nonce"),
    "wrong_audience": (502, "id_token_wrong_aud"),
    "expired": (502, "id_token_expired"),
    "unknown_key": (502, "id_token_unknown_key"),
    "bad_signature": (502, "id_token_bad_signature"),
    "wrong_issuer": (502, "id_token_wrong_iss"),
    "wrong_acr": (502, "id_token_wrong_acr"),
    "missing_acr": (502, "id_token_missing_claim"),
    "userinfo_bad_signature": (502, "userinfo_bad_signature"),
    "userinfo_unknown_key": (502, "userinfo_unknown_key"),
    "userinfo_wrong_issuer": (502, "userinfo_wrong_iss"),
    "userinfo_wrong_audience": (502, "userinfo_wrong_aud"),
    "server_error": (502, "provider_error"),
}


@pytest.mark.parametrize("mode", list(MISBEHAVIOURS))
def test_each_misbehaviour_of_the_provider_is_refused(franceconnect_provider, claire, mode):
    status, reason = MISBEHAVIOURS[mode]
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    FranceConnectLink.objects.create(sub=sub, person=claire.person)  # it would sign her in at once
    franceconnect_provider.misbehave(mode)
    client = Client()
    response = through_franceconnect(client, franceconnect_provider)
    assert response.status_code == status
    body = response.content.decode()
    assert FAILED in body and 'href="/connexion/"' in body
    assert not signed_in(client)
    assert client.get("/mon-compte/").status_code == 302
    assert reasons(JournalAction.FRANCECONNECT_FAILED) == [reason]
    assert not JournalEntry.objects.filter(action=JournalAction.FRANCECONNECT_SIGNIN).exists()


def test_a_cancelled_sign_in_says_so(franceconnect_provider, claire):
    franceconnect_provider.next_identity(claims_of(claire.person))
    franceconnect_provider.misbehave("access_denied")
    client = Client()
    response = through_franceconnect(client, franceconnect_provider)
    assert response.status_code == 400
    assert "Vous avez annulé la connexion avec FranceConnect" in response.content.decode()
    assert not signed_in(client)
    assert reasons(JournalAction.FRANCECONNECT_FAILED) == ["access_denied"]


def test_an_unknown_key_is_looked_for_once_more_then_refused(franceconnect_provider, claire):
    franceconnect_provider.next_identity(claims_of(claire.person))
    franceconnect_provider.misbehave("unknown_key")
    through_franceconnect(Client(), franceconnect_provider)
    assert len(franceconnect_provider.calls()["jwks"]) == 2  # cached, then fetched once again


def test_a_replayed_callback_is_refused(franceconnect_provider, claire):
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    FranceConnectLink.objects.create(sub=sub, person=claire.person)
    client = Client()
    callback = start(client, franceconnect_provider)
    assert client.get(callback)["Location"] == "/mon-compte/"
    # The same browser (its session kept through the sign-in) brings the same callback again:
    # refused on its state, before FranceConnect is even asked about the code.
    replayed = client.get(callback)
    assert replayed.status_code == 400
    assert FAILED in replayed.content.decode()
    assert reasons(JournalAction.FRANCECONNECT_FAILED) == ["unknown_state"]
    assert len(franceconnect_provider.calls()["token"]) == 1
    assert JournalEntry.objects.filter(action=JournalAction.FRANCECONNECT_SIGNIN).count() == 1


def test_a_callback_in_another_browser_is_refused(franceconnect_provider, claire):
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    FranceConnectLink.objects.create(sub=sub, person=claire.person)
    callback = start(Client(), franceconnect_provider)
    other = Client()
    assert other.get(callback).status_code == 400
    assert not signed_in(other)


def test_a_wrong_iss_parameter_is_refused(franceconnect_provider, claire):
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    FranceConnectLink.objects.create(sub=sub, person=claire.person)
    client = Client()
    callback = start(client, franceconnect_provider)
    forged = callback.replace("iss=", "iss=https%3A%2F%2Fautre.example%2F&ignored=")
    assert client.get(forged).status_code == 400
    assert not signed_in(client)
    assert reasons(JournalAction.FRANCECONNECT_FAILED) == ["wrong_iss_parameter"]


# Algorithms and keys ---------------------------------------------------------------------------


def test_the_rs256_client_works_too(franceconnect_provider, claire, settings):
    settings.MONCOMPTE_FRANCECONNECT_CLIENT_ID = franceconnect_provider.rs256_client_id
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    FranceConnectLink.objects.create(sub=sub, person=claire.person)
    client = Client()
    assert through_franceconnect(client, franceconnect_provider)["Location"] == "/mon-compte/"
    assert jws.extract_compact(client.session[ID_TOKEN].encode()).headers()["alg"] == "RS256"


def test_rotated_keys_are_picked_up(franceconnect_provider, claire):
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    FranceConnectLink.objects.create(sub=sub, person=claire.person)
    assert through_franceconnect(Client(), franceconnect_provider)["Location"] == "/mon-compte/"
    fetched = len(franceconnect_provider.calls()["jwks"])
    franceconnect_provider.rotate_keys()
    assert through_franceconnect(Client(), franceconnect_provider)["Location"] == "/mon-compte/"
    assert len(franceconnect_provider.calls()["jwks"]) == fetched + 1


# The logout ------------------------------------------------------------------------------------


def test_the_logout_goes_through_the_session_end_and_checks_its_state(franceconnect_provider, claire):
    sub = franceconnect_provider.next_identity(claims_of(claire.person))
    FranceConnectLink.objects.create(sub=sub, person=claire.person)
    client = Client()
    through_franceconnect(client, franceconnect_provider)
    id_token = client.session[ID_TOKEN]

    response = client.post("/deconnexion/")
    assert response.status_code == 302
    to_provider = response["Location"]
    assert to_provider.startswith(franceconnect_provider.issuer + "/session/end?")
    query = parse_qs(urlsplit(to_provider).query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://testserver/franceconnect/deconnexion/retour/"]
    assert len(query["state"][0]) >= 32
    assert not signed_in(client)  # ours ended before going there

    back = franceconnect_provider.end_session(to_provider)
    assert back.status_code in (302, 303)
    ended = franceconnect_provider.calls()["session_end"][-1]
    assert ended["id_token_hint_valid"] and ended["state"] == query["state"][0]
    landing = client.get(back.headers["Location"])
    assert landing.status_code == 302 and landing["Location"] == "/connexion/?deconnecte=1"
    assert "Vous êtes déconnecté(e)" in client.get(landing["Location"]).content.decode()
    # The same return again (or a state this browser never started): a French page, no error.
    again = client.get(back.headers["Location"])
    assert again.status_code == 400
    assert "Ce retour de FranceConnect n'est pas valable" in again.content.decode()


def test_a_password_session_signs_out_without_franceconnect(franceconnect_provider, claire):
    client = Client()
    sign_in(client, *claire.credentials)
    assert client.post("/deconnexion/")["Location"] == "/connexion/?deconnecte=1"
    assert franceconnect_provider.calls()["session_end"] == []


# The button ------------------------------------------------------------------------------------


def test_the_button_posts_to_the_start_and_carries_next(franceconnect_provider):
    page = Client().get("/connexion/?next=/mon-compte/foyer/").content.decode()
    assert 'action="/franceconnect/connexion/"' in page
    assert '<input type="hidden" name="next" value="/mon-compte/foyer/">' in page
    assert page.index("fr-connect") < page.index('action="/connexion/"')


def test_an_existing_account_keeps_its_password(franceconnect_provider):
    account = AccountFactory()
    franceconnect_provider.next_identity(claims_of(account.person))
    client = Client()
    through_franceconnect(client, franceconnect_provider)
    assert client.post("/franceconnect/confirmation/")["Location"] == "/mon-compte/"
    account.refresh_from_db()
    assert account.check_password(account.raw_password)
