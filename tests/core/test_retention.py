"""Retention (moncompte.core.retention, ``manage.py purge_expired``): each kind's old records go,
what is recent or still in use stays, the command prints its counts and ``--dry-run`` deletes nothing.

Timestamps are set on the rows (no clock library in requirements-dev.txt) and the purge is given
``now``; the command runs at the real clock, so its rows are dated relative to it.
"""

import datetime
import io
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from moncompte.accounts.models import AccountSession, LegacyCodeAttempt, ThrottleCounter
from moncompte.core import retention
from moncompte.core.actors import Channel, ContactChannel
from moncompte.households.models import Invitation
from moncompte.identity.models import IdentityCheck, IdentityCheckState, IdentityDocument
from moncompte.notifications.models import Message, MessageStatus
from moncompte.verification.models import ContactChallenge, Purpose
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = datetime.timedelta(days=1)


def _ago(days: float) -> datetime.datetime:
    return NOW - days * DAY


def _purged(kind: str) -> int:
    return next(k for k in retention.KINDS if k.name == kind).purge(now=NOW)


# --- Sessions -------------------------------------------------------------------------------------


def _session_row(account, key: str, *, last_seen_days: float, ended_days: float | None) -> AccountSession:
    row = AccountSession.objects.create(
        account=account,
        session_key=key,
        last_seen_at=_ago(last_seen_days),
        ended_at=None if ended_days is None else _ago(ended_days),
    )
    AccountSession.objects.filter(pk=row.pk).update(created_at=_ago(last_seen_days))
    return row


def test_ended_and_dead_sessions_go_after_the_retention_live_and_recent_ones_stay(family, client, settings):
    settings.MONCOMPTE_RETENTION_SESSION_DAYS = 30
    account = family.responsible.account
    old_ended = _session_row(account, "old-ended", last_seen_days=40, ended_days=31)
    recent_ended = _session_row(account, "recent-ended", last_seen_days=40, ended_days=29)
    never_ended_dead = _session_row(account, "never-ended", last_seen_days=31, ended_days=None)
    # A signed-in session whose record is old on paper: its stored session is live, so it stays.
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    live = AccountSession.objects.get(session_key=client.session.session_key)
    AccountSession.objects.filter(pk=live.pk).update(created_at=_ago(400), last_seen_at=_ago(400))
    Session.objects.filter(session_key=live.session_key).update(expire_date=NOW + DAY)
    expired_store = Session.objects.create(session_key="x" * 32, session_data="", expire_date=_ago(0.01))

    assert _purged("sessions") == 1
    assert _purged("account_sessions") == 2
    left = set(AccountSession.objects.values_list("pk", flat=True))
    assert left == {recent_ended.pk, live.pk}
    assert old_ended.pk not in left and never_ended_dead.pk not in left
    assert not Session.objects.filter(pk=expired_store.pk).exists()
    assert client.get("/mon-compte/").status_code == 200  # still signed in


# --- Codes, old-code tries, throttle counters -----------------------------------------------------


def _challenge(expired_days: float) -> ContactChallenge:
    return ContactChallenge.objects.create(
        purpose=Purpose.SIGNUP,
        channel=ContactChannel.EMAIL,
        destination="a@example.org",
        code_digest="d",
        flow_ref="f",
        created_at=_ago(expired_days) - datetime.timedelta(minutes=10),
        expires_at=_ago(expired_days),
        next_send_at=_ago(expired_days),
    )


def test_codes_go_days_after_their_expiry(settings):
    settings.MONCOMPTE_RETENTION_CODE_DAYS = 7
    old, recent, live = _challenge(8), _challenge(6), _challenge(-0.001)
    assert _purged("codes") == 1
    assert set(ContactChallenge.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert old.pk not in set(ContactChallenge.objects.values_list("pk", flat=True))


def test_old_code_tries_live_at_least_the_week_the_caps_count(settings):
    def attempt(days):
        return LegacyCodeAttempt.objects.create(
            file_key="k", channel=Channel.WEB, outcome=LegacyCodeAttempt.Outcome.WRONG, at=_ago(days)
        )

    old, in_week = attempt(7.01), attempt(6.99)
    # Even a duration below the week (forced past the setting's bound) keeps the counted tries.
    settings.MONCOMPTE_RETENTION_LEGACY_ATTEMPT_DAYS = 1
    assert _purged("legacy_code_attempts") == 1
    assert list(LegacyCodeAttempt.objects.values_list("pk", flat=True)) == [in_week.pk]
    assert not LegacyCodeAttempt.objects.filter(pk=old.pk).exists()


def test_throttle_counters_go_once_lapsed_never_in_their_window(settings):
    settings.MONCOMPTE_RETENTION_THROTTLE_DAYS = 0

    def counter(key, expires):
        return ThrottleCounter.objects.create(key=key, failures=3, last_failure_at=_ago(1), expires_at=expires)

    counter("lapsed", NOW - datetime.timedelta(seconds=1))
    counter("in-window", NOW + datetime.timedelta(hours=1))
    assert _purged("throttle_counters") == 1
    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["in-window"]


# --- Messages, invitations ------------------------------------------------------------------------


def test_sent_and_failed_messages_go_after_the_retention_pending_ones_never(settings):
    settings.MONCOMPTE_RETENTION_MESSAGE_DAYS = 90
    made = {}
    for name, status, days in (
        ("old-sent", MessageStatus.SENT, 91),
        ("old-failed", MessageStatus.FAILED, 91),
        ("old-pending", MessageStatus.PENDING, 400),
        ("recent-sent", MessageStatus.SENT, 89),
    ):
        message = Message.objects.create(channel="email", recipient="a@example.org", template="t", status=status)
        Message.objects.filter(pk=message.pk).update(created_at=_ago(days))
        made[name] = message.pk
    assert _purged("messages") == 2
    assert set(Message.objects.values_list("pk", flat=True)) == {made["old-pending"], made["recent-sent"]}


def _invitation(family, member, token, **dates) -> Invitation:
    return Invitation.objects.create(
        dossier=family.dossier,
        member=member,
        invited_by=family.responsible.person,
        channel=ContactChannel.EMAIL,
        destination="m@example.org",
        token_digest=token,
        created_at=_ago(200),
        **dates,
    )


def test_closed_and_expired_invitations_go_after_the_retention_open_ones_stay(family, settings):
    settings.MONCOMPTE_RETENTION_INVITATION_DAYS = 90
    child, spouse, young = family.child.member, family.spouse.member, family.young_child.member
    gone = {
        _invitation(family, child, "a", expires_at=_ago(190), accepted_at=_ago(91)).pk,
        _invitation(family, child, "b", expires_at=_ago(190), cancelled_at=_ago(91)).pk,
        _invitation(family, spouse, "c", expires_at=_ago(91)).pk,  # open, expired long ago
    }
    kept = {
        _invitation(family, child, "d", expires_at=_ago(190), cancelled_at=_ago(89)).pk,
        # Open and unexpired, made long ago: still usable, whatever the durations.
        _invitation(family, young, "e", expires_at=NOW + DAY).pk,
    }
    assert _purged("invitations") == 3
    assert set(Invitation.objects.values_list("pk", flat=True)) == kept
    assert not Invitation.objects.filter(pk__in=gone).exists()


# --- Identity checks: documents and claimed numbers -----------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _check(person, state, decided_days=None, claim="sealed") -> IdentityCheck:
    check = IdentityCheck.objects.create(
        person=person,
        state=state,
        decided_at=None if decided_days is None else _ago(decided_days),
        claimed_identifier_type="nir",
        claimed_identifier_digest="digest" if claim else "",
        claimed_identifier_encrypted=claim,
    )
    document = IdentityDocument(
        identity_check=check, kind="passport", content_type="application/pdf", size=3, sha256="0" * 64
    )
    document.file.save("scan.pdf", ContentFile(b"%PDF"), save=True)
    return check


def test_documents_and_claims_of_decided_checks_go_after_the_retention_undecided_ones_stay(family, media, settings):
    settings.MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS = 60
    settings.MONCOMPTE_RETENTION_SIGNUP_CLAIM_DAYS = 60
    refused = _check(family.responsible.person, IdentityCheckState.REJECTED, decided_days=61)
    accepted = _check(family.spouse.person, IdentityCheckState.VERIFIED, decided_days=61)
    recent = _check(family.child.person, IdentityCheckState.REJECTED, decided_days=59)
    # Undecided for a year: the agent has not looked yet, nothing of it may go.
    pending = _check(family.young_child.person, IdentityCheckState.TO_VERIFY)
    IdentityCheck.objects.filter(pk=pending.pk).update(created_at=_ago(365))
    gone_files = [media / d.file.name for d in IdentityDocument.objects.filter(identity_check__in=[refused, accepted])]
    assert all(path.exists() for path in gone_files)

    assert _purged("identity_documents") == 2
    assert _purged("signup_claims") == 2
    assert set(IdentityDocument.objects.values_list("identity_check", flat=True)) == {recent.pk, pending.pk}
    assert not any(path.exists() for path in gone_files)
    assert all((media / d.file.name).exists() for d in IdentityDocument.objects.all())
    claims = dict(IdentityCheck.objects.values_list("pk", "claimed_identifier_encrypted"))
    assert claims == {refused.pk: "", accepted.pk: "", recent.pk: "sealed", pending.pk: "sealed"}
    # The checks and their decisions stay; only the sealed number went.
    assert IdentityCheck.objects.get(pk=refused.pk).state == IdentityCheckState.REJECTED


# --- All at once: batches, idempotence, the command -----------------------------------------------


def test_batches_delete_everything_and_a_second_run_finds_nothing(settings):
    settings.MONCOMPTE_RETENTION_BATCH_SIZE = 2
    settings.MONCOMPTE_RETENTION_CODE_DAYS = 1
    for _ in range(5):
        _challenge(3)
    assert retention.purge_expired(now=NOW)["codes"] == 5
    assert set(retention.purge_expired(now=NOW).values()) == {0}


def test_the_command_prints_its_counts_and_the_dry_run_deletes_nothing(settings):
    settings.MONCOMPTE_RETENTION_CODE_DAYS = 1
    for days in (3, 3, 0.5):
        _challenge(days)
    out = io.StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    assert "codes: would delete 2" in lines and "invitations: would delete 0" in lines
    assert {line.split(":")[0] for line in lines} == {kind.name for kind in retention.KINDS}
    assert ContactChallenge.objects.count() == 3

    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert "codes: deleted 2" in out.getvalue().splitlines()
    assert ContactChallenge.objects.count() == 1
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert "codes: deleted 0" in out.getvalue().splitlines()


def test_the_command_also_deletes_the_expired_api_tokens():
    """Our provider's expired tokens go with the rest (django-oauth-toolkit's clear_expired); a
    live token stays."""
    from django.test import Client
    from oauth2_provider.models import get_access_token_model

    from tests.factories import AccountFactory, api_application, api_token_for, bearer

    account = AccountFactory()
    live = api_token_for(account)
    get_access_token_model().objects.create(
        user=account,
        application=api_application(),
        token="expire-sans-jeton-de-rafraichissement",
        scope="openid",
        expires=timezone.now() - datetime.timedelta(minutes=1),
    )
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert "api_tokens: deleted 1" in out.getvalue().splitlines()
    assert get_access_token_model().objects.count() == 1
    assert Client().get("/api/v1/me/", **bearer(live)).status_code == 200
