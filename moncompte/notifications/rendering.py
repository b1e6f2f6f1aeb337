"""French message templates: ``templates/notifications/<name>.{subject.txt,txt,sms.txt}``."""

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone, translation

from moncompte.notifications.models import Channel

# Each template and the context it needs: a missing value is a bug, never an empty message.
MESSAGE_TEMPLATES: dict[str, frozenset[str]] = {
    "contact_code": frozenset({"code", "minutes"}),
    "reset_code": frozenset({"code", "minutes"}),
    "unlock_code": frozenset({"code", "minutes"}),
    "password_changed": frozenset({"changed_at"}),
    "provisional_identifier": frozenset({"identifier"}),
    # Delegation and separation (moncompte.households.services).
    "delegation_granted": frozenset({"responsable", "spouse", "at"}),
    "delegation_revoked": frozenset({"responsable", "spouse", "at", "renounced"}),
    "separation_declared": frozenset({"declared_by", "separated_on", "at"}),
    "invitation": frozenset({"inviter", "member_first_name", "link", "code", "expires_at"}),
    # Account creation of new beneficiaries (moncompte.accounts.signup, moncompte.identity.checks).
    "signup_claim_received": frozenset({"identifier"}),
    "signup_claim_holder_notice": frozenset({"asked_at"}),
    "identity_check_accepted": frozenset({"bound"}),
    # Contact details (moncompte.accounts.services): notices to the contact replaced or removed.
    "contact_replaced": frozenset({"kind", "changed_at", "new_destination", "help_link"}),
    "contact_removed": frozenset({"kind", "removed_at", "help_link"}),
    # Issue 9 (STATE): a sign-up's account attached to the file member it is, at the check.
    "identity_check_attached": frozenset(),
    # Ways in (issue 9): identifier reminder, invitation request (to those who may invite).
    "identifier_reminder": frozenset({"reminders"}),
    "invitation_requested": frozenset({"member_first_name", "link", "requested_at"}),
    # Procedures (moncompte.procedures): a request sent, a draft about to expire.
    "procedure_submitted": frozenset({"label", "reference", "at"}),
    "procedure_draft_reminder": frozenset({"label", "expires_at"}),
    # The Caf's requests (moncompte.caf_requests): a request waiting, told without its content.
    "caf_request_waiting": frozenset({"title", "due_on"}),
    # The identity checks' queue (issue 12, moncompte.accounts.signup, moncompte.identity.checks_queue).
    "identity_check_rejected": frozenset({"reason"}),
    "identifier_replaced": frozenset({"valid_until"}),
    # QUEUES (issue 12): rectifications, separations, the Caf's requests, processed by an agent.
    "rectification_processed": frozenset({"field_label", "accepted", "corrected"}),
    "separation_processed": frozenset({"separated_on", "at", "outcome"}),
    "caf_request_closed": frozenset({"title", "answered"}),
    # TELEPHONY (issue 12, moncompte.telephony): the one-time phone code sent by SMS.
    "phone_code": frozenset({"code", "minutes"}),
}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


def message_render(*, channel: str, template: str, context: dict) -> RenderedMessage:
    if template not in MESSAGE_TEMPLATES:
        raise ValueError(f"Unknown message template {template!r}.")
    missing = MESSAGE_TEMPLATES[template] - context.keys()
    if missing:
        raise ValueError(f"Message template {template!r} needs {sorted(missing)}.")
    base = f"notifications/{template}"
    # The texts are French and their times are Paris times, whatever the caller activated.
    with translation.override("fr"), timezone.override("Europe/Paris"):
        if channel == Channel.EMAIL:
            subject = " ".join(render_to_string(f"{base}.subject.txt", context).split())
            body = render_to_string(f"{base}.txt", context).strip() + "\n"
            return RenderedMessage(subject=subject, body=body)
        if channel == Channel.SMS:
            return RenderedMessage(subject="", body=" ".join(render_to_string(f"{base}.sms.txt", context).split()))
    raise ValueError(f"Unknown channel {channel!r}.")
