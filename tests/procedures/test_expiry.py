"""Drafts that expire, with one reminder before (moncompte.procedures.expiry, ``manage.py
procedures_expire``), on a frozen clock: every run is given its ``now``."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from moncompte.audit.models import JournalEntry
from moncompte.core.errors import NotAllowed
from moncompte.notifications.models import Message
from moncompte.procedures.expiry import drafts_remind_and_expire
from moncompte.procedures.models import Procedure, ProcedureEvent
from moncompte.procedures.services import (
    procedure_for,
    procedure_start,
    procedure_submit,
    procedures_of,
    reminder_before,
    step_save,
)
from moncompte.procedures.summary import date_text
from tests.factories import ContactFactory, PersonFactory, make_household
from tests.procedures.helpers import HOUSING, acting, visitor

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)


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


def draft_of(member, *slugs):
    actor = acting(member.person)
    return fill(actor, procedure_start(actor=actor, type_code="aide-au-logement").procedure, *slugs)


def validated(*members) -> set[str]:
    return {c.value for m in members for c in m.account.contacts.filter(verified_at__isnull=False)}


def recipients() -> list[str]:
    return sorted(Message.objects.filter(template="procedure_draft_reminder").values_list("recipient", flat=True))


def reminder_window(procedure) -> datetime.datetime:
    """A moment inside the reminder's window: the reminder is due, the draft not yet expired."""
    return procedure.expires_at - reminder_before() + MINUTE


# The reminder -----------------------------------------------------------------------------------


def test_the_reminder_goes_once_to_the_validated_contacts_of_those_who_may_continue_it():
    family = make_household(delegated=True)
    phone = ContactFactory(account=family.responsible.account, phone=True)  # a second validated contact of R
    ContactFactory(account=family.spouse.account, unverified=True)  # never validated: not told
    procedure = draft_of(family.responsible, "logement")
    # Before the window: nothing.
    assert drafts_remind_and_expire(now=reminder_window(procedure) - 2 * MINUTE).reminded == 0
    assert recipients() == []
    run = drafts_remind_and_expire(now=reminder_window(procedure))
    assert (run.reminded, run.expired) == (1, 0)
    # R and S+ (the household's draft, whoever started it); not the child of 17, who has an account.
    assert recipients() == sorted(validated(family.responsible, family.spouse))
    assert phone.value in recipients() and family.child.account.contacts.exists()
    local_expiry = timezone.localtime(procedure.expires_at).date()
    reminders = Message.objects.filter(template="procedure_draft_reminder")
    for email in reminders.filter(channel="email"):
        body = email.get_body()
        assert "Demande d'aide au logement" in body and date_text(local_expiry) in body
    assert f"{local_expiry:%d/%m/%Y}" in reminders.get(channel="sms").get_body()
    # Once: a second run in the window, or a day later, sends nothing more.
    assert drafts_remind_and_expire(now=reminder_window(procedure)).reminded == 0
    assert drafts_remind_and_expire(now=reminder_window(procedure) + datetime.timedelta(days=1)).reminded == 0
    assert len(recipients()) == 3
    procedure.refresh_from_db()
    assert procedure.reminded_at == reminder_window(procedure) and procedure.is_draft
    event = procedure.events.get(kind=ProcedureEvent.Kind.REMINDED)
    assert event.person is None and event.detail == {"told": 3}
    entry = JournalEntry.objects.get(action="procedure.reminded")
    assert entry.dossier == family.dossier and entry.detail["procedure"] == procedure.pk
    assert "12 rue des Lilas" not in str(entry.detail)


def test_a_spouse_without_delegation_is_not_reminded_of_the_households_draft():
    family = make_household()  # S has an account, no delegation
    procedure = draft_of(family.responsible, "logement")
    drafts_remind_and_expire(now=reminder_window(procedure))
    assert recipients() == sorted(validated(family.responsible))


def test_a_person_without_an_account_is_not_reminded():
    newcomer = PersonFactory()  # a request outside any file, by a person with no account
    procedure = draft_of(type("M", (), {"person": newcomer}), "logement")
    run = drafts_remind_and_expire(now=reminder_window(procedure))
    assert run.reminded == 1 and recipients() == []
    assert procedure.events.get(kind=ProcedureEvent.Kind.REMINDED).detail == {"told": 0}


def test_a_save_after_the_reminder_sets_it_off_again():
    family = make_household()
    procedure = draft_of(family.responsible, "logement")
    # Saved 50 days ago (the clock of the runs is theirs; the save's is the real one).
    ago = datetime.timedelta(days=50)
    Procedure.objects.filter(pk=procedure.pk).update(
        updated_at=procedure.updated_at - ago, expires_at=procedure.expires_at - ago
    )
    procedure.refresh_from_db()
    first_expiry = procedure.expires_at
    drafts_remind_and_expire(now=reminder_window(procedure))
    assert len(recipients()) == 1
    procedure = fill(acting(family.responsible.person), Procedure.objects.get(pk=procedure.pk), "loyer")
    assert procedure.reminded_at is None and procedure.expires_at > first_expiry + datetime.timedelta(days=49)
    # The old window is no longer one: the draft lives from its last save.
    assert drafts_remind_and_expire(now=first_expiry - reminder_before() + 2 * MINUTE).reminded == 0
    assert drafts_remind_and_expire(now=first_expiry + MINUTE).expired == 0
    assert drafts_remind_and_expire(now=reminder_window(procedure)).reminded == 1
    assert len(recipients()) == 2


# The expiry -------------------------------------------------------------------------------------


def test_an_expired_draft_loses_its_values_and_is_listed_no_more():
    family = make_household(delegated=True)
    claire = acting(family.responsible.person)
    procedure = draft_of(family.responsible, "logement", "loyer")
    procedure.partner_data = {"impots": {"data": {"revenu_fiscal_de_reference": "21000"}, "label": "Impôts"}}
    procedure.corrections = {"reference_income": {"source": "impots", "partner": "21000.00", "typed": "20000.00"}}
    procedure.save(update_fields=["partner_data", "corrections"])
    # Not a minute before its time.
    assert drafts_remind_and_expire(now=procedure.expires_at - MINUTE).expired == 0
    run = drafts_remind_and_expire(now=procedure.expires_at)
    assert run.expired == 1
    procedure.refresh_from_db()
    assert procedure.state == Procedure.State.EXPIRED
    assert (procedure.data, procedure.partner_data, procedure.corrections) == ({}, {}, {})
    # The history keeps who did what, not what was typed.
    saves = procedure.events.filter(kind=ProcedureEvent.Kind.STEP_SAVED)
    assert saves.count() == 2 and all(event.values == {} for event in saves)
    assert procedure.events.filter(kind=ProcedureEvent.Kind.EXPIRED).count() == 1
    assert JournalEntry.objects.filter(action="procedure.expired", dossier=family.dossier).count() == 1
    # Gone from the lists and the pages of R and S+; a new request starts afresh.
    for member in (family.responsible, family.spouse):
        assert procedures_of(actor=acting(member.person)) == []
        with pytest.raises(NotAllowed):
            procedure_for(actor=acting(member.person), procedure_id=procedure.pk)
    # A second run finds nothing more.
    assert drafts_remind_and_expire(now=procedure.expires_at + datetime.timedelta(days=30)).expired == 0
    again = procedure_start(actor=claire, type_code="aide-au-logement")
    assert not again.resumed and again.procedure.pk != procedure.pk


def test_a_submitted_request_never_expires():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = draft_of(family.responsible, "logement", "loyer", "identite", "ressources")
    submitted = procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version, attested=True)
    far = submitted.expires_at + datetime.timedelta(days=3650)
    assert drafts_remind_and_expire(now=reminder_window(submitted)) == drafts_remind_and_expire(now=far)
    submitted.refresh_from_db()
    assert submitted.state == Procedure.State.SUBMITTED and submitted.data["loyer"]["clean"]["landlord"]
    assert recipients() == [] and not submitted.events.filter(kind__in=["reminded", "expired"]).exists()


def test_a_visitors_draft_expires_after_its_hours_without_a_reminder(settings):
    settings.MONCOMPTE_PROCEDURE_VISITOR_DRAFT_HOURS = 3
    started = procedure_start(actor=visitor(), type_code="aide-au-logement")
    procedure = fill(visitor(), started.procedure, "logement", token=started.visitor_token)
    assert procedure.expires_at == procedure.updated_at + datetime.timedelta(hours=3)
    run = drafts_remind_and_expire(now=procedure.updated_at + datetime.timedelta(hours=3) - MINUTE)
    assert run == type(run)(reminded=0, expired=0)  # nobody to remind: no account yet
    assert drafts_remind_and_expire(now=procedure.updated_at + datetime.timedelta(hours=3)).expired == 1
    procedure.refresh_from_db()
    assert procedure.state == Procedure.State.EXPIRED and procedure.data == {}
    with pytest.raises(NotAllowed):
        procedure_for(actor=visitor(), procedure_id=procedure.pk, visitor_token=started.visitor_token)
    assert procedures_of(actor=visitor(), visitor_token=started.visitor_token) == []


def test_the_draft_lifetime_and_the_reminder_follow_the_settings(settings):
    settings.MONCOMPTE_PROCEDURE_DRAFT_DAYS = 10
    settings.MONCOMPTE_PROCEDURE_REMINDER_DAYS = 2
    family = make_household()
    procedure = draft_of(family.responsible, "logement")
    assert procedure.expires_at == procedure.updated_at + datetime.timedelta(days=10)
    assert drafts_remind_and_expire(now=procedure.updated_at + datetime.timedelta(days=8) - MINUTE).reminded == 0
    assert drafts_remind_and_expire(now=procedure.updated_at + datetime.timedelta(days=8)).reminded == 1


def test_the_daily_command_reminds_and_expires():
    family = make_household()
    due = draft_of(family.responsible, "logement")
    ended = draft_of(type("M", (), {"person": PersonFactory()}), "logement")
    now = timezone.now()
    Procedure.objects.filter(pk=due.pk).update(expires_at=now + datetime.timedelta(days=1))
    Procedure.objects.filter(pk=ended.pk).update(expires_at=now - MINUTE)
    out = io.StringIO()
    call_command("procedures_expire", stdout=out)
    assert out.getvalue().strip() == "reminded 1, expired 1"
    assert Procedure.objects.get(pk=ended.pk).state == Procedure.State.EXPIRED
    assert Procedure.objects.get(pk=due.pk).reminded_at is not None


# The purge of ended procedures (moncompte.core.retention, ``manage.py purge_expired``) ----------


def test_expired_and_abandoned_procedures_are_deleted_after_the_retention_with_their_history(settings):
    settings.MONCOMPTE_RETENTION_PROCEDURE_DAYS = 90
    family = make_household()
    claire = acting(family.responsible.person)
    now = timezone.now()
    day = datetime.timedelta(days=1)

    def made(state, **dates):
        procedure = Procedure.objects.create(
            type_code="aide-au-logement", dossier=family.dossier, person=family.responsible.person, state=state, **dates
        )
        ProcedureEvent.objects.create(procedure=procedure, kind="started", channel="web", version=1)
        return procedure

    # Submitted long ago (before the old draft below is made: a start would resume that one).
    sent = draft_of(family.responsible, "logement", "loyer", "identite", "ressources")
    sent = procedure_submit(actor=claire, procedure=sent, base_version=sent.version, attested=True)
    Procedure.objects.filter(pk=sent.pk).update(expires_at=now - 400 * day, updated_at=now - 400 * day)
    gone = [
        made(Procedure.State.EXPIRED, expires_at=now - 91 * day),
        made(Procedure.State.CANCELLED, expires_at=now + day, updated_at=now - 91 * day),
    ]
    kept = [
        made(Procedure.State.EXPIRED, expires_at=now - 89 * day),
        made(Procedure.State.CANCELLED, expires_at=now - 200 * day, updated_at=now - 89 * day),
        # A draft past its time that the daily expiry has not ended yet: still a draft, kept.
        made(Procedure.State.DRAFT, expires_at=now - 200 * day),
    ]
    kept.append(sent)

    from moncompte.core import retention

    assert retention.purge_expired(now=now, dry_run=True)["procedures"] == 2
    assert Procedure.objects.count() == 6
    assert retention.purge_expired(now=now)["procedures"] == 2
    assert set(Procedure.objects.values_list("pk", flat=True)) == {p.pk for p in kept}
    assert not ProcedureEvent.objects.filter(procedure_id__in=[p.pk for p in gone]).exists()
    assert retention.purge_expired(now=now)["procedures"] == 0


def test_more_drafts_due_than_a_batch_are_all_handled_in_one_run():
    import datetime

    from django.utils import timezone

    from moncompte.procedures.expiry import drafts_remind_and_expire
    from moncompte.procedures.models import Procedure
    from moncompte.procedures.services import procedure_start
    from tests.factories import PersonFactory
    from tests.procedures.helpers import acting

    drafts = [procedure_start(actor=acting(PersonFactory()), type_code="aide-au-logement").procedure for _ in range(5)]
    later = timezone.now() + datetime.timedelta(days=400)
    run = drafts_remind_and_expire(now=later, batch_size=2)
    assert run.expired == 5
    assert set(Procedure.objects.filter(pk__in=[d.pk for d in drafts]).values_list("state", flat=True)) == {"expired"}
