"""/api/v1/files/ (moncompte.api.v1.files): the files as the home page shows them (the whole file
to R and S+, only the membership to S and M), one file, its payments (paginated, whole history)
and its members as the household page shows them; every other id answers 404; each read of a
file's content journaled as on the pages. The whole role matrix: tests/api/test_access_matrix_api.py."""

import datetime
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.households.invitations import invitation_send
from moncompte.households.models import Invitation, Member, Payment, Role
from tests.api.api_clients import api_client, assert_error, json_of
from tests.conftest import sign_in
from tests.factories import AccountFactory, PaymentFactory, PersonFactory, make_household

pytestmark = pytest.mark.django_db

FILES = "/api/v1/files/"


def _file(family) -> str:
    return f"{FILES}{family.dossier.pk}/"


def test_the_responsible_person_sees_the_whole_file_as_on_the_home_page(family):
    dossier = family.dossier
    response = api_client(family.responsible.account).get(FILES)
    assert response.status_code == 200
    body = json_of(response)
    assert body["count"] == 1 and body["next"] is None
    (entry,) = body["results"]
    assert entry["id"] == dossier.pk and entry["visible"] is True and entry["numero"] == dossier.numero
    assert entry["caf"] == {"code": dossier.caf.code, "name": dossier.caf.name}
    assert entry["role"] == "responsable" and entry["can_separate"] is True
    assert entry["address"] == {
        "line1": dossier.address_line1,
        "line2": dossier.address_line2,
        "postal_code": dossier.postal_code,
        "city": dossier.city,
    }
    assert [m["display_name"] for m in entry["members"]] == [p.person.display_name for p in family.people]
    benefit = dossier.benefits.get()
    assert entry["benefits"] == [
        {"code": benefit.code, "label": benefit.label, "monthly_amount_cents": benefit.monthly_amount_cents}
    ]
    payments = list(Payment.objects.filter(dossier=dossier).order_by("-paid_on"))
    assert [(p["paid_on"], p["amount_cents"]) for p in entry["payments"]] == [
        (p.paid_on.isoformat(), p.amount_cents) for p in payments
    ]
    # The same as the home page, which shows these amounts and this address.
    web = Client()
    sign_in(web, *family.responsible.credentials)
    home = web.get("/mon-compte/").content.decode()
    assert dossier.address_line1 in home or dossier.address_line1.replace("'", "&#x27;") in home
    # One file: the same entry; journaled as the home page's read, then as a file's read.
    assert json_of(api_client(family.responsible.account).get(_file(family))) == entry
    channels = set(JournalEntry.objects.filter(action="home.view", dossier=dossier).values_list("channel", flat=True))
    assert channels == {"api", "web"}
    assert JournalEntry.objects.filter(action="file.view", dossier=dossier, channel="api").count() == 1


def test_the_spouse_without_delegation_sees_only_that_she_belongs_to_a_file_of_that_caf(family):
    api = api_client(family.spouse.account)
    (entry,) = json_of(api.get(FILES))["results"]
    assert entry["visible"] is False and entry["role"] == "conjoint"
    assert entry["caf"]["name"] == family.caf.name
    assert entry["can_separate"] is True  # as the home page's link
    for key in ("id", "numero", "address", "members", "benefits", "payments"):
        assert entry[key] is None, key
    for path in (_file(family), f"{_file(family)}payments/", f"{_file(family)}members/"):
        assert_error(api.get(path), 404, "not_found")
    # The child: the same, without the separation.
    (entry,) = json_of(api_client(family.child.account).get(FILES))["results"]
    assert entry["visible"] is False and entry["can_separate"] is False and entry["id"] is None


def test_the_spouse_with_the_delegation_sees_the_file_and_loses_it_on_the_next_request(delegated_family):
    family = delegated_family
    api = api_client(family.spouse.account)
    (entry,) = json_of(api.get(FILES))["results"]
    assert entry["visible"] is True and entry["id"] == family.dossier.pk
    assert api.get(_file(family)).status_code == 200
    Member.objects.filter(pk=family.spouse.member.pk).update(delegation_granted_at=None)
    assert json_of(api.get(FILES))["results"][0]["visible"] is False
    assert_error(api.get(_file(family)), 404, "not_found")


def test_a_separated_spouse_and_a_person_of_no_file_get_an_empty_list(family):
    Member.objects.filter(pk=family.spouse.member.pk).update(ended_on=datetime.date.today())
    body = json_of(api_client(family.spouse.account).get(FILES))
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    assert json_of(api_client(AccountFactory()).get(FILES))["count"] == 0


def test_the_payments_are_the_whole_history_paginated_newest_first(family):
    dossier = family.dossier
    benefit = dossier.benefits.get()
    start = datetime.date(2015, 1, 5)
    for month in range(30):
        PaymentFactory(dossier=dossier, benefit=benefit, paid_on=start + datetime.timedelta(days=31 * month))
    api = api_client(family.responsible.account)
    expected = list(Payment.objects.filter(dossier=dossier).order_by("-paid_on", "-id"))
    first = json_of(api.get(f"{_file(family)}payments/"))
    assert first["count"] == len(expected) == 32 and len(first["results"]) == 20 and first["next"]
    second = json_of(api.get(f"{_file(family)}payments/?page=2"))
    dates = [p["paid_on"] for p in first["results"] + second["results"]]
    assert dates == [p.paid_on.isoformat() for p in expected]
    assert second["next"] is None
    assert len(json_of(api.get(f"{_file(family)}payments/?taille=5"))["results"]) == 5
    assert_error(api.get(f"{_file(family)}payments/?page=9"), 404, "not_found")
    assert_error(api.get(f"{_file(family)}payments/?page=abc"), 404, "not_found")
    # The list of files keeps the latest twelve, as the home page.
    assert len(json_of(api.get(FILES))["results"][0]["payments"]) == 12


def test_the_members_as_the_household_page_shows_them(family):
    adult = Member.objects.create(
        dossier=family.dossier, person=PersonFactory(age=20), role=Role.AUTRE, joined_on=datetime.date(2020, 1, 1)
    )
    invitation_send(
        actor=Actor(channel=Channel.WEB, account=family.responsible.account),
        member=adult,
        channel="email",
        destination="invitee@example.org",
    )
    Member.objects.filter(pk=family.spouse.member.pk).update(delegation_granted_at=timezone.now())
    body = json_of(api_client(family.responsible.account).get(f"{_file(family)}members/"))
    # In the household page's order (the memberships' order), the people the page shows.
    members = [*family.people, SimpleNamespace(person=adult.person, member=adult)]
    assert body["count"] == 5
    assert [(r["display_name"], r["role"]) for r in body["results"]] == [
        (m.person.display_name, m.member.role) for m in members
    ]
    me, spouse, child, young_child, invited = body["results"]
    assert [r["is_me"] for r in body["results"]] == [True, False, False, False, False]
    assert [r["has_account"] for r in body["results"]] == [True, True, True, False, False]
    assert spouse["delegation_granted_at"] is not None and me["delegation_granted_at"] is None
    expires = Invitation.objects.get(member=adult).expires_at
    assert datetime.datetime.fromisoformat(invited["invitation_expires_at"]) == expires
    assert young_child["invitation_expires_at"] is None
    assert JournalEntry.objects.filter(action="household.view", dossier=family.dossier, channel="api").exists()


def test_wrong_ids_no_token_and_an_unusable_account(family):
    stranger = make_household(caf=family.caf, birth_name=family.responsible.person.birth_name)
    api = api_client(stranger.responsible.account)
    for path in (_file(family), f"{_file(family)}payments/", f"{_file(family)}members/", f"{FILES}0/"):
        body = assert_error(api.get(path), 404, "not_found")
        assert body["message"] == "Cette page n'existe pas ou vous n'y avez pas accès."
    assert_error(api.get(f"{FILES}99999999999999999999/"), 404, "not_found")
    assert_error(api.get(f"{FILES}abc/"), 404, "not_found")
    assert_error(Client().get(FILES), 401, "not_authenticated")
    assert_error(api_client(AccountFactory(with_contact=False)).get(FILES), 403, "contact_required")
    assert_error(api.post(FILES, {}), 405, "method_not_allowed")
