"""/creer-mon-compte/ tells nothing about the NIR typed (issue 8), and no typed birth date reaches a 500."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.households.models import Role
from moncompte.identity.models import IdentityCheck, Person
from moncompte.identity.services import person_create
from tests.accounts.test_signup import NEW_NIR, nir
from tests.factories import AccountFactory, DossierFactory, MemberFactory
from tests.web.test_signup_pages import PASSWORD, _last_code, identity_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

PROVISIONAL = re.compile(r"P-[0-9A-Z]{5}-[0-9A-Z]{5}")


def _normalised(body: str) -> str:
    """The page without what differs from one request to the next whatever the data: the CSRF
    token, nonces, and the provisional identifier drawn at random."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="…"', body)
    body = re.sub(r'nonce="[^"]+"', 'nonce="…"', body)
    return PROVISIONAL.sub("P-•", body)


def _through_the_flow(email: str) -> dict:
    """The three steps in a new browser, the same typed data every time; what the person sees and gets."""
    client = Client()
    assert client.post("/creer-mon-compte/", identity_data()).status_code == 302
    client.post("/creer-mon-compte/coordonnees/", {"action": "envoyer", "channel": "email", "email": email})
    client.post("/creer-mon-compte/coordonnees/", {"action": "valider", "code": _last_code()})
    outbox = len(mail.outbox)
    final = client.post("/creer-mon-compte/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    page = client.get(final.get("Location", "/creer-mon-compte/mot-de-passe/"))
    document = client.get("/creer-mon-compte/justificatif/")
    return {
        "final": (final.status_code, final.get("Location")),
        "signed_in": "_auth_user_id" in client.session,
        "page": (page.status_code, _normalised(page.content.decode())),
        "document": (document.status_code, _normalised(document.content.decode())),
        "messages": [(m.subject, PROVISIONAL.sub("P-•", m.body)) for m in mail.outbox[outbox:] if m.to == [email]],
    }


def _holder(**overrides) -> Person:
    """The holder of NEW_NIR, of the identity identity_data() types unless overridden."""
    values = {
        "first_names": "INES MARIE",
        "birth_name": "LEFEVRE",
        "birth_place_code": "69383",
        **overrides,
    }
    return person_create(identifier=nir(NEW_NIR), birth_date=datetime.date(1991, 5, 17), sex="F", **values)


def test_the_final_step_answers_the_same_for_known_and_unknown_numbers(family):
    """Same status, same redirect, same pages (normalised), same messages to the asker, signed in
    the same way: for a number nobody holds, and held by a person with an account, by the
    responsible person of a file without one, by a child of a file without one, by a person of
    another identity. Each browser uses an address masked the same way (i•••@e•••.fr)."""
    answers = {"unknown": _through_the_flow("ines.a@example.fr")}
    # Nobody holds the number after the first sign-up: it is a claim.
    assert not Person.objects.with_identifier(nir(NEW_NIR).value).exists()
    cases = {
        "with_account": lambda p: AccountFactory(person=p, password="Autre mot de passe 2024"),
        "responsible_without_account": lambda p: MemberFactory(
            dossier=DossierFactory(caf=family.caf), person=p, role=Role.RESPONSABLE
        ),
        "child_without_account": lambda p: MemberFactory(
            dossier=DossierFactory(caf=family.caf), person=p, role=Role.ENFANT
        ),
        "another_identity": None,
    }
    for index, (name, attach) in enumerate(cases.items()):
        holder = _holder(first_names="Autreprénom") if attach is None else _holder()
        if attach is not None:
            attach(holder)
        answers[name] = _through_the_flow(f"ines.{index}@example.fr")
        # The holder keeps the number, and is the only one holding it.
        assert list(Person.objects.with_identifier(nir(NEW_NIR).value)) == [holder], name
        Account.objects.filter(person=holder).delete()
        holder.memberships.all().delete()
        holder.delete()

    reference = answers.pop("unknown")
    assert reference["final"] == (302, "/creer-mon-compte/identifiant/")
    assert reference["signed_in"] and reference["page"][0] == 200
    assert "sera rattaché à votre compte quand un agent" in reference["page"][1]
    assert [subject for subject, _ in reference["messages"]] == ["Votre demande de création de compte Mon Compte"]
    for name, answer in answers.items():
        assert answer == reference, name
    assert IdentityCheck.objects.claiming(nir(NEW_NIR).value).count() == 5


# Birth dates: a French message, never a 500 -------------------------------------------------------


@pytest.mark.parametrize(
    "changes, message",
    [
        # Over 2^31: an OverflowError in datetime.date() was a 500.
        ({"birth_day": "2147483648"}, "le jour et le mois en 2 chiffres"),
        ({"birth_month": "9999999999"}, "le jour et le mois en 2 chiffres"),
        ({"birth_day": "9 999 999 999"}, "le jour et le mois en 2 chiffres"),  # spaces are dropped first
        ({"birth_day": "99999999999999999999"}, "le jour et le mois en 2 chiffres"),  # longer than the field
        ({"birth_year": "99999999"}, "L&#x27;année de naissance s&#x27;écrit avec 4 chiffres"),
        ({"birth_day": "-1"}, "ne s&#x27;écrit qu&#x27;avec des chiffres"),
        ({"birth_month": "-12"}, "ne s&#x27;écrit qu&#x27;avec des chiffres"),
        ({"birth_year": "-1991"}, "ne s&#x27;écrit qu&#x27;avec des chiffres"),
        ({"birth_day": "1e3"}, "ne s&#x27;écrit qu&#x27;avec des chiffres"),
        ({"birth_day": "douze"}, "ne s&#x27;écrit qu&#x27;avec des chiffres"),
        ({"birth_day": "١٢"}, "ne s&#x27;écrit qu&#x27;avec des chiffres"),  # Arabic-Indic digits
        ({"birth_day": "0"}, "Cette date n&#x27;existe pas"),
        ({"birth_month": "13"}, "Cette date n&#x27;existe pas"),
        ({"birth_year": "0000"}, "Cette date n&#x27;existe pas"),
        ({"birth_day": "017"}, "le jour et le mois en 2 chiffres"),
    ],
)
def test_birth_fields_out_of_range_get_a_french_message_never_a_500(client, changes, message):
    response = client.post("/creer-mon-compte/", identity_data(has_nir="non", identifier="", **changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body, body[body.find("erreur") : body.find("erreur") + 500]
    assert "Le formulaire contient des erreurs" in body


def test_full_width_digits_are_read_as_digits(client):
    response = client.post(
        "/creer-mon-compte/", identity_data(birth_day="１７", birth_month="０５", birth_year="１９９１")
    )
    assert response.status_code == 302 and response["Location"] == "/creer-mon-compte/coordonnees/"
