"""The procedure engine (moncompte.procedures.services): who may start, see and continue a
procedure, the drafts' versions and conflicts, the visitor's draft, the submission."""

import pytest

from moncompte.audit.models import JournalEntry
from moncompte.core.errors import NotAllowed
from moncompte.households.services import separation_declare
from moncompte.procedures.models import Procedure, ProcedureEvent
from moncompte.procedures.services import (
    AccountRequired,
    DraftConflict,
    Incomplete,
    ProcedureError,
    ReadOnly,
    StepInvalid,
    StepNotReached,
    procedure_cancel,
    procedure_claim,
    procedure_for,
    procedure_start,
    procedure_submit,
    procedures_of,
    resume_step,
    step_save,
)
from tests.factories import MemberFactory, PersonFactory, make_household
from tests.procedures.helpers import HOUSING, acting, visitor

pytestmark = pytest.mark.django_db


def fill(actor, procedure, *slugs, token=None):
    for slug in slugs:
        procedure = step_save(
            actor=actor,
            procedure=procedure,
            slug=slug,
            data=HOUSING[slug],
            base_version=procedure.version,
            visitor_token=token,
        ).procedure
    return procedure


def test_a_household_draft_is_the_files_the_responsible_and_delegated_spouse_continue_it():
    family = make_household(delegated=True)
    claire, marc = acting(family.responsible.person), acting(family.spouse.person)
    started = procedure_start(actor=claire, type_code="aide-au-logement")
    assert started.procedure.dossier == family.dossier and not started.resumed
    procedure = fill(claire, started.procedure, "logement")
    # The spouse with the delegation gets the same draft, continues it in his own name.
    again = procedure_start(actor=marc, type_code="aide-au-logement")
    assert again.resumed and again.procedure.pk == procedure.pk
    procedure = fill(marc, procedure_for(actor=marc, procedure_id=procedure.pk), "loyer")
    saves = procedure.events.filter(kind=ProcedureEvent.Kind.STEP_SAVED).order_by("version")
    assert [(e.step, e.person) for e in saves] == [
        ("logement", family.responsible.person),
        ("loyer", family.spouse.person),
    ]
    assert resume_step(procedure).slug == "identite"


def test_who_may_not_see_a_household_draft_finds_nothing():
    family = make_household()  # the spouse has no delegation
    other = make_household(delegated=True)
    procedure = fill(
        acting(family.responsible.person),
        procedure_start(actor=acting(family.responsible.person), type_code="aide-au-logement").procedure,
        "logement",
    )
    for person in [family.spouse.person, family.child.person, other.responsible.person, other.spouse.person]:
        with pytest.raises(NotAllowed):
            procedure_for(actor=acting(person), procedure_id=procedure.pk)
        assert procedure.pk not in [p.pk for p in procedures_of(actor=acting(person))]
        with pytest.raises(NotAllowed):
            step_save(actor=acting(person), procedure=procedure, slug="loyer", data=HOUSING["loyer"], base_version=2)
    # Nothing was written by the refused saves.
    procedure.refresh_from_db()
    assert set(procedure.data) == {"logement"}
    # A spouse without delegation may not start one for the household either.
    with pytest.raises(NotAllowed):
        procedure_start(actor=acting(family.spouse.person), type_code="aide-au-logement")


def test_the_delegation_withdrawn_or_a_separation_ends_access_to_the_households_drafts():
    family = make_household(delegated=True)
    marc = acting(family.spouse.person)
    procedure = fill(marc, procedure_start(actor=marc, type_code="aide-au-logement").procedure, "logement")
    assert procedure_for(actor=marc, procedure_id=procedure.pk)
    import datetime

    separation_declare(
        actor=acting(family.responsible.person),
        dossier=family.dossier,
        separated_on=datetime.date.today(),
        leaving_person=family.spouse.person,
        new_address={"address_line1": "1 rue Neuve", "postal_code": "69001", "city": "Lyon"},
    )
    with pytest.raises(NotAllowed):
        procedure_for(actor=marc, procedure_id=procedure.pk)
    assert procedures_of(actor=marc) == []
    # The draft stays the household's: the responsible person still continues it.
    assert procedure_for(actor=acting(family.responsible.person), procedure_id=procedure.pk)


def test_a_save_from_an_older_page_with_other_values_is_a_conflict_and_writes_nothing():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, procedure_start(actor=claire, type_code="aide-au-logement").procedure, "logement")
    page_version = procedure.version  # two devices open the rent step at this version
    first = step_save(actor=claire, procedure=procedure, slug="loyer", data=HOUSING["loyer"], base_version=page_version)
    other_values = {**HOUSING["loyer"], "rent": "700"}
    with pytest.raises(DraftConflict) as conflict:
        step_save(actor=claire, procedure=procedure, slug="loyer", data=other_values, base_version=page_version)
    # Only the field the two pages typed differently; the other device's values are not "changes".
    assert [(c.name, c.theirs, c.mine) for c in conflict.value.conflicts] == [("rent", "650.00", "700.00")]
    assert conflict.value.current_version == first.procedure.version
    procedure.refresh_from_db()
    assert procedure.data["loyer"]["clean"]["rent"] == "650.00"  # the first save is kept
    # The person chose 700 on the conflict page: saved against the current version.
    chosen = step_save(
        actor=claire,
        procedure=procedure,
        slug="loyer",
        data=other_values,
        base_version=conflict.value.current_version,
        resolved=True,
    )
    assert chosen.procedure.data["loyer"]["clean"]["rent"] == "700.00"
    assert chosen.procedure.events.filter(kind=ProcedureEvent.Kind.CONFLICT_RESOLVED).count() == 1


def test_only_the_fields_changed_elsewhere_and_sent_otherwise_are_in_conflict():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, procedure_start(actor=claire, type_code="aide-au-logement").procedure, "logement", "loyer")
    page_version = procedure.version
    step_save(
        actor=claire,
        procedure=procedure,
        slug="loyer",
        data={**HOUSING["loyer"], "rent": "700"},
        base_version=page_version,
    )
    with pytest.raises(DraftConflict) as conflict:
        step_save(
            actor=claire,
            procedure=procedure,
            slug="loyer",
            data={**HOUSING["loyer"], "rent": "720", "landlord": "Autre bailleur"},
            base_version=page_version,
        )
    # The landlord was changed only by this page: not a conflict; the rent by both: a conflict.
    assert [(c.name, c.theirs, c.mine) for c in conflict.value.conflicts] == [("rent", "700.00", "720.00")]


def test_a_save_from_an_older_page_of_another_step_merges_without_asking():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, procedure_start(actor=claire, type_code="aide-au-logement").procedure, "logement", "loyer")
    old = procedure.version
    step_save(
        actor=claire, procedure=procedure, slug="loyer", data={**HOUSING["loyer"], "rent": "700"}, base_version=old
    )
    saved = step_save(
        actor=claire,
        procedure=procedure,
        slug="logement",
        data={**HOUSING["logement"], "kind": "maison"},
        base_version=old,
    )
    assert saved.merged
    assert saved.procedure.data["loyer"]["clean"]["rent"] == "700.00"
    assert saved.procedure.data["logement"]["clean"]["kind"] == "maison"


def test_a_step_is_validated_on_the_server_and_steps_are_taken_in_order():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = procedure_start(actor=claire, type_code="aide-au-logement").procedure
    with pytest.raises(StepNotReached) as not_reached:
        step_save(actor=claire, procedure=procedure, slug="loyer", data=HOUSING["loyer"], base_version=1)
    assert not_reached.value.step == "logement"
    with pytest.raises(StepInvalid) as invalid:
        step_save(
            actor=claire,
            procedure=procedure,
            slug="logement",
            data={**HOUSING["logement"], "entered_year": "2999"},
            base_version=1,
        )
    assert "entered_year" in invalid.value.form.errors
    procedure.refresh_from_db()
    assert procedure.data == {} and procedure.version == 1
    with pytest.raises(NotAllowed):  # no such step
        step_save(actor=claire, procedure=procedure, slug="nope", data={}, base_version=1)


def test_a_visitor_starts_a_request_creates_the_account_inside_it_and_keeps_what_was_typed():
    started = procedure_start(actor=visitor(), type_code="aide-au-logement")
    token = started.visitor_token
    procedure = fill(visitor(), started.procedure, "logement", "loyer", token=token)
    # Without the token of the visitor's session, nobody finds it.
    with pytest.raises(NotAllowed):
        procedure_for(actor=visitor(), procedure_id=procedure.pk)
    with pytest.raises(NotAllowed):
        procedure_for(actor=visitor(), procedure_id=procedure.pk, visitor_token="x" * 43)
    assert procedure_for(actor=visitor(), procedure_id=procedure.pk, visitor_token=token)
    # The identity step needs an account.
    with pytest.raises(AccountRequired):
        step_save(
            actor=visitor(),
            procedure=procedure,
            slug="identite",
            data=HOUSING["identite"],
            base_version=procedure.version,
            visitor_token=token,
        )
    newcomer = PersonFactory()
    with pytest.raises(NotAllowed):  # the token is needed to claim it too
        procedure_claim(actor=acting(newcomer), visitor_token="nope", procedure_id=procedure.pk)
    claimed = procedure_claim(actor=acting(newcomer), visitor_token=token, procedure_id=procedure.pk)
    assert claimed.person == newcomer and claimed.dossier is None and claimed.visitor_digest == ""
    assert claimed.data["loyer"]["clean"]["landlord"] == "Paris Habitat"
    assert resume_step(claimed).slug == "identite"
    claimed = fill(acting(newcomer), claimed, "identite", "ressources")
    submitted = procedure_submit(actor=acting(newcomer), procedure=claimed, base_version=claimed.version, attested=True)
    assert submitted.state == Procedure.State.SUBMITTED and submitted.reference.startswith("AL-")
    # Now the token opens nothing any more.
    with pytest.raises(NotAllowed):
        procedure_for(actor=visitor(), procedure_id=procedure.pk, visitor_token=token)


def test_a_member_of_a_file_cannot_claim_a_visitors_draft_outside_the_file():
    family = make_household()
    started = procedure_start(actor=visitor(), type_code="aide-au-logement")
    # Claire belongs to a file: her housing aid is the household's (R), and she may claim it.
    claimed = procedure_claim(
        actor=acting(family.responsible.person), visitor_token=started.visitor_token, procedure_id=started.procedure.pk
    )
    assert claimed.dossier == family.dossier
    # A spouse without delegation may not make a household procedure: refused.
    again = procedure_start(actor=visitor(), type_code="aide-au-logement")
    with pytest.raises(NotAllowed):
        procedure_claim(
            actor=acting(family.spouse.person), visitor_token=again.visitor_token, procedure_id=again.procedure.pk
        )


def test_submission_checks_every_step_gives_a_reference_and_is_then_read_only():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, procedure_start(actor=claire, type_code="aide-au-logement").procedure, "logement", "loyer")
    with pytest.raises(Incomplete) as incomplete:
        procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version, attested=True)
    assert incomplete.value.step == "identite"
    procedure = fill(claire, procedure, "identite", "ressources")
    with pytest.raises(ProcedureError) as not_attested:
        procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version, attested=False)
    assert not_attested.value.field == "attestation"
    with pytest.raises(DraftConflict):
        procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version - 1, attested=True)
    submitted = procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version, attested=True)
    assert submitted.submitted_by == family.responsible.person
    with pytest.raises(ReadOnly):
        step_save(
            actor=claire, procedure=submitted, slug="loyer", data=HOUSING["loyer"], base_version=submitted.version
        )
    with pytest.raises(ReadOnly):
        procedure_submit(actor=claire, procedure=submitted, base_version=submitted.version, attested=True)
    # Journaled without the values typed.
    entries = JournalEntry.objects.filter(action__startswith="procedure.", dossier=family.dossier)
    assert entries.filter(action="procedure.submitted").count() == 1
    for entry in entries:
        assert "Paris Habitat" not in str(entry.detail) and "650" not in str(entry.detail)
    # A new request of that type starts a new draft.
    assert not procedure_start(actor=claire, type_code="aide-au-logement").resumed


def test_a_former_spouse_or_a_stranger_makes_the_housing_aid_as_a_newcomer_on_no_file():
    stranger = PersonFactory()
    started = procedure_start(actor=acting(stranger), type_code="aide-au-logement")
    assert started.procedure.dossier is None and started.procedure.person == stranger
    former = MemberFactory(spouse=True, ended=True)
    assert procedure_start(actor=acting(former.person), type_code="aide-au-logement").procedure.dossier is None
    # Nobody else sees them.
    assert procedures_of(actor=acting(PersonFactory())) == []
    with pytest.raises(NotAllowed):
        procedure_for(actor=acting(former.person), procedure_id=started.procedure.pk)


def test_an_unknown_type_is_not_found():
    family = make_household()
    with pytest.raises(NotAllowed):
        procedure_start(actor=acting(family.responsible.person), type_code="nope")


def test_a_draft_is_abandoned_by_who_may_continue_it_and_its_values_go():
    family = make_household(delegated=True)
    claire, marc = acting(family.responsible.person), acting(family.spouse.person)
    procedure = fill(claire, procedure_start(actor=claire, type_code="aide-au-logement").procedure, "logement")
    with pytest.raises(NotAllowed):
        procedure_cancel(actor=acting(family.child.person), procedure=procedure)
    cancelled = procedure_cancel(actor=marc, procedure=procedure)
    assert cancelled.state == Procedure.State.CANCELLED and cancelled.data == {}
    assert not cancelled.events.exclude(values={}).exists()
    assert procedures_of(actor=claire) == []
    with pytest.raises(NotAllowed):
        procedure_for(actor=claire, procedure_id=procedure.pk)
    assert not procedure_start(actor=claire, type_code="aide-au-logement").resumed
