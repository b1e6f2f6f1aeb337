"""Procedures (démarches): a draft ("en instance") kept at every saved step, then a submitted
request, read-only, with its reference; and their history (who did what, at which version).

The types are declared in code (moncompte/procedures/types/); a row keeps its type's code. The
values of each step are kept twice: as typed (``raw``, to show the same form again anywhere and
to validate it again at submission) and clean (``clean``, JSON: what the summary, the receipt,
the conflicts and the submission read).
"""

from django.db import models
from django.utils import timezone

from moncompte.core.actors import Channel


class ProcedureQuerySet(models.QuerySet):
    def drafts(self) -> "ProcedureQuerySet":
        return self.filter(state=Procedure.State.DRAFT)


class Procedure(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "En instance"
        SUBMITTED = "submitted", "Envoyée"
        EXPIRED = "expired", "Expirée"
        CANCELLED = "cancelled", "Abandonnée"

    type_code = models.CharField(max_length=40)
    # The file it is made for (household and individual procedures of a member); None for a new
    # beneficiary's request, which belongs to ``person`` (or, before the account, to a visitor).
    dossier = models.ForeignKey(
        "households.Dossier", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures"
    )
    # Its author, whom an individual procedure belongs to (None while a visitor has no account).
    person = models.ForeignKey(
        "identity.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures"
    )
    # A visitor's draft: the SHA-256 of the token kept in their session only.
    visitor_digest = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    data = models.JSONField(default=dict, blank=True)  # step slug -> {"raw": {...}, "clean": {...}}
    # Partner data shown in the draft: source -> {"data": {...}, "fetched_at": ISO, "label": ...}
    partner_data = models.JSONField(default=dict, blank=True)
    # Fields where the person typed another value than the partner's: field -> {source, partner, typed, at, by}
    corrections = models.JSONField(default=dict, blank=True)
    step_reached = models.CharField(max_length=40, blank=True)  # the step to resume at
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        "identity.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures_submitted"
    )
    reference = models.CharField(max_length=24, unique=True, null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)  # what the submission produced (ids)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        verbose_name = "démarche"
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["dossier", "state"], name="procedure_dossier_state"),
            models.Index(fields=["person", "state"], name="procedure_person_state"),
            models.Index(fields=["state", "expires_at"], name="procedure_state_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) | ~models.Q(visitor_digest=""),
                name="procedure_has_an_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(state="submitted", reference__isnull=False, submitted_at__isnull=False)
                | ~models.Q(state="submitted"),
                name="procedure_submitted_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"Démarche {self.pk} ({self.type_code}, {self.state})"

    @property
    def type(self):
        from moncompte.procedures.registry import procedure_type

        return procedure_type(self.type_code)

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    def clean_values(self) -> dict[str, dict]:
        return {slug: entry.get("clean", {}) for slug, entry in self.data.items()}

    def raw_values(self, slug: str) -> dict | None:
        entry = self.data.get(slug)
        return entry.get("raw") if entry else None

    def saved_steps(self) -> set[str]:
        return set(self.data)


class ProcedureEvent(models.Model):
    """One thing done on a procedure, by whom: the history the person and the agents read."""

    class Kind(models.TextChoices):
        STARTED = "started", "Démarche commencée"
        STEP_SAVED = "step_saved", "Étape enregistrée"
        CONFLICT_RESOLVED = "conflict_resolved", "Modification faite sur un autre appareil : choix des valeurs"
        CORRECTED = "corrected", "Donnée d'un partenaire corrigée"
        CLAIMED = "claimed", "Compte créé pendant la démarche"
        SUBMITTED = "submitted", "Demande envoyée"
        REMINDED = "reminded", "Rappel avant expiration envoyé"
        EXPIRED = "expired", "Brouillon expiré"
        CANCELLED = "cancelled", "Démarche abandonnée"

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    person = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    step = models.CharField(max_length=40, blank=True)
    version = models.PositiveIntegerField()  # the procedure's version after this event
    # A step save keeps the step's clean values: the base a later save from a stale page is compared with.
    values = models.JSONField(default=dict, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "événement d'une démarche"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["procedure", "step", "version"], name="procedure_event_step")]

    def __str__(self) -> str:
        return f"Événement {self.pk} ({self.kind})"
