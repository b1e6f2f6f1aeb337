"""manage.py caf_request_create: a request to the household or to a member chosen by role."""

import io

import pytest
from django.core.management import CommandError, call_command

from moncompte.audit.models import JournalEntry
from moncompte.caf_requests.models import CafRequest
from moncompte.notifications.models import Message
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def run(family, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "caf_request_create",
        "--caf",
        family.caf.code,
        "--numero",
        family.dossier.numero,
        "--kind",
        "document",
        "--title",
        "Avis d'imposition 2025",
        "--body",
        "Envoyez-nous votre avis d'imposition 2025, toutes les pages.",
        "--due",
        "2099-12-31",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def test_a_request_to_the_household(family):
    out = run(family, "--household")
    request = CafRequest.objects.get()
    assert (request.dossier, request.addressed_to, request.kind, str(request.due_on)) == (
        family.dossier,
        None,
        "document",
        "2099-12-31",
    )
    assert request.title == "Avis d'imposition 2025" and request.created_by_label == family.caf.name
    assert f"Demande n° {request.pk} créée" in out and "au foyer" in out and "31/12/2099" in out
    assert JournalEntry.objects.filter(action="caf_request.created", actor_person=None, channel="system").count() == 1
    assert Message.objects.count() == 1  # the responsible person's contact


def test_a_request_to_a_member_by_role_and_first_name(family):
    run(family, "--member-role", "conjoint", "--from", "Caf de Paris, service des aides au logement")
    request = CafRequest.objects.get()
    assert request.addressed_to == family.spouse.person
    assert request.created_by_label == "Caf de Paris, service des aides au logement"
    # Two children: the first name says which one.
    with pytest.raises(CommandError, match="précisez --first-name"):
        run(family, "--member-role", "enfant")
    run(family, "--member-role", "enfant", "--first-name", family.child.person.first_names.split()[0].lower())
    assert CafRequest.objects.order_by("-id").first().addressed_to == family.child.person


def test_no_member_of_that_role_or_no_such_file_is_an_error(family):
    with pytest.raises(CommandError, match="Aucun membre actuel"):
        run(family, "--member-role", "autre")
    MemberFactory(dossier=family.dossier, other=True, ended=True)  # a member who left
    with pytest.raises(CommandError, match="Aucun membre actuel"):
        run(family, "--member-role", "autre")
    with pytest.raises(CommandError, match="Aucun dossier"):
        call_command(
            "caf_request_create", "--caf", "999", "--numero", "0000000", "--household", "--kind", "document",
            "--title", "x", "--body", "x", "--due", "2099-01-01",
        )  # fmt: skip
    assert not CafRequest.objects.exists()


def test_a_refusal_of_the_service_is_told_as_an_error(family):
    with pytest.raises(CommandError, match="déjà passée"):
        call_command(
            "caf_request_create", "--caf", family.caf.code, "--numero", family.dossier.numero, "--household",
            "--kind", "information", "--title", "x", "--body", "x", "--due", "2001-01-01",
        )  # fmt: skip


def test_the_addressee_and_a_date_are_required(family):
    with pytest.raises(CommandError):
        run(family)  # neither --household nor --member-role
    with pytest.raises(CommandError):
        call_command(
            "caf_request_create", "--caf", family.caf.code, "--numero", family.dossier.numero, "--household",
            "--kind", "document", "--title", "x", "--body", "x", "--due", "31/12/2099",
        )  # fmt: skip
