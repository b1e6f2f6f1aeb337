"""Files (dossiers allocataires), their members, benefits and payments.

A file belongs to one Caf and is identified by its 7-digit numéro allocataire, unique only
within that Caf. Reads of a file's content go through moncompte.access, never straight from a
request parameter.
"""

import datetime

from django.core.validators import RegexValidator
from django.db import models

from moncompte.core.actors import ContactChannel


class Caf(models.Model):
    code = models.CharField(max_length=3, unique=True, validators=[RegexValidator(r"^\d{3}$")])
    name = models.CharField(max_length=200)
    departement = models.CharField(max_length=3)

    class Meta:
        verbose_name = "Caf"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DossierQuerySet(models.QuerySet):
    def visible_to(self, person, action) -> "DossierQuerySet":
        """The files on which ``person`` may take ``action`` (a moncompte.access.policy.Action) on
        the whole household: the condition is built from the policy's rule table."""
        from moncompte.access.policy import dossier_condition  # the policy imports this module

        if person is None:
            return self.none()
        return self.filter(dossier_condition(person, action))


class Dossier(models.Model):
    caf = models.ForeignKey(Caf, on_delete=models.PROTECT, related_name="dossiers")
    numero = models.CharField(
        "numéro allocataire", max_length=7, validators=[RegexValidator(r"^\d{7}$", "7 chiffres attendus.")]
    )
    address_line1 = models.CharField("adresse", max_length=200)
    address_line2 = models.CharField("complément d'adresse", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=5)
    city = models.CharField("commune", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DossierQuerySet.as_manager()

    class Meta:
        verbose_name = "dossier allocataire"
        constraints = [models.UniqueConstraint(fields=["caf", "numero"], name="dossier_numero_unique_per_caf")]

    def __str__(self) -> str:
        return f"Dossier {self.pk}"


class Role(models.TextChoices):
    RESPONSABLE = "responsable", "Responsable du dossier"
    CONJOINT = "conjoint", "Conjoint ou conjointe"
    ENFANT = "enfant", "Enfant"
    AUTRE = "autre", "Autre personne à charge"


class MemberQuerySet(models.QuerySet):
    def current(self, on: datetime.date | None = None) -> "MemberQuerySet":
        """Memberships not ended (a separated spouse's membership has an end date)."""
        return self.filter(Member.current_condition(on))


class Member(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey("identity.Person", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    # Autorisation de gestion: granted by the responsible person to the spouse only.
    delegation_granted_at = models.DateTimeField(null=True, blank=True)
    joined_on = models.DateField(default=datetime.date.today)
    ended_on = models.DateField(null=True, blank=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "membre du foyer"
        constraints = [
            models.UniqueConstraint(fields=["dossier", "person"], name="member_once_per_dossier"),
            models.UniqueConstraint(
                fields=["dossier"],
                condition=models.Q(role="responsable", ended_on__isnull=True),
                name="one_current_responsable_per_dossier",
            ),
            models.CheckConstraint(
                condition=models.Q(delegation_granted_at__isnull=True) | models.Q(role="conjoint"),
                name="delegation_only_to_spouse",
            ),
        ]

    def __str__(self) -> str:
        return f"Membre {self.pk} ({self.role})"

    # THE definition of a current membership, in its two forms side by side: as a condition on
    # rows (querysets, the policy's scoped reads) and on a row already read (the policy's
    # standing). A membership ended on a day is over from that day on.
    @staticmethod
    def current_condition(on: datetime.date | None = None) -> models.Q:
        on = on or datetime.date.today()
        return models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=on)

    @staticmethod
    def ended_on_is_current(ended_on: datetime.date | None, on: datetime.date | None = None) -> bool:
        return ended_on is None or ended_on > (on or datetime.date.today())

    def is_current(self, on: datetime.date | None = None) -> bool:
        return Member.ended_on_is_current(self.ended_on, on)


class Benefit(models.Model):
    """A benefit being paid on a file (allocations familiales, aide au logement, ...)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="benefits")
    code = models.CharField(max_length=16)
    label = models.CharField(max_length=200)
    monthly_amount_cents = models.PositiveIntegerField()
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "prestation"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label


class Payment(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="payments")
    benefit = models.ForeignKey(Benefit, on_delete=models.CASCADE, related_name="payments")
    paid_on = models.DateField()
    amount_cents = models.PositiveIntegerField()

    class Meta:
        verbose_name = "paiement"
        ordering = ["-paid_on", "benefit__code"]
        indexes = [models.Index(fields=["dossier", "-paid_on"])]

    def __str__(self) -> str:
        return f"Paiement {self.pk}"


def _now() -> datetime.datetime:
    from django.utils import timezone

    return timezone.now()


class InvitationQuerySet(models.QuerySet):
    def open(self) -> "InvitationQuerySet":
        """Neither accepted nor cancelled (an open invitation may still have expired)."""
        return self.filter(accepted_at__isnull=True, cancelled_at__isnull=True)

    def live(self, now: datetime.datetime | None = None) -> "InvitationQuerySet":
        """Open, not expired, and its member still without an account: the link still works.

        The account is looked at on every read, so that an invitation is never shown "en cours"
        once the member has an account, whichever way it was created and even before the
        invitation is closed in the database."""
        return self.open().filter(expires_at__gt=now or _now(), member__person__account__isnull=True)


class Invitation(models.Model):
    """An invitation sent to a member over 15 to create their own account (moncompte.households.invitations).

    Only the HMAC of the invitation code is stored. Single use (accepted_at), cancellable
    (cancelled_at), expires; at most one open invitation per member.
    """

    class CancelReason(models.TextChoices):
        BY_INVITER = "inviter", "Annulée par la personne qui l'a envoyée"
        REPLACED = "replaced", "Remplacée par une nouvelle invitation"
        ATTEMPTS = "attempts", "Trop d'erreurs de vérification d'identité"
        MEMBER_LEFT = "member_left", "Le membre ne fait plus partie du dossier"
        # However the account was created (first connection, sign-up and identity check, another
        # invitation): moncompte.households.invitations.invitations_close_for.
        ACCOUNT_EXISTS = "account_exists", "Le membre a créé son compte"

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey("identity.Person", on_delete=models.PROTECT, related_name="invitations_sent")
    channel = models.CharField(max_length=8, choices=ContactChannel.choices)
    destination = models.CharField(max_length=254)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=_now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=16, choices=CancelReason.choices, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "invitation à créer un compte"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(accepted_at__isnull=True, cancelled_at__isnull=True),
                name="one_open_invitation_per_member",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(cancelled_at__isnull=True),
                name="invitation_accepted_or_cancelled_not_both",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation {self.pk}"


class SituationChange(models.Model):
    """A change of situation declared by a person, for the Caf's agents to process.

    A separation ends the former spouse's access to the file at once (moncompte.households.services);
    who keeps the file, and the rights that follow, are decided by an agent from this record.
    """

    class Kind(models.TextChoices):
        SEPARATION = "separation", "Séparation"
        # Declared through the procedures (moncompte.procedures.types.situation_changes).
        ADDRESS = "address", "Changement d'adresse"
        RESOURCES = "resources", "Changement de ressources"
        BIRTH = "birth", "Naissance d'un enfant"

    class State(models.TextChoices):
        TO_PROCESS = "to_process", "À traiter"
        PROCESSED = "processed", "Traité"

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="situation_changes")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    declared_by = models.ForeignKey(
        "identity.Person", on_delete=models.PROTECT, related_name="declared_situation_changes"
    )
    declared_at = models.DateTimeField()
    # The date the person declared (the access itself ends on the day of the declaration).
    effective_on = models.DateField()
    data = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.TO_PROCESS)
    # The agent's processing (issue 12): when, by whom, and what was decided (for a separation:
    # who keeps the file, the new file of the one who leaves).
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="agent"
    )
    decision = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "changement de situation"
        ordering = ["-declared_at"]
        indexes = [models.Index(fields=["state", "declared_at"])]

    def __str__(self) -> str:
        return f"Changement de situation {self.pk} ({self.kind})"
