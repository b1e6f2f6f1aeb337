"""Files (dossiers allocataires), their members, benefits and payments.

A file belongs to one Caf and is identified by its 7-digit numéro allocataire, unique only
within that Caf. Reads of a file's content go through moncompte.access, never straight from a
request parameter.
"""

import datetime

from django.core.validators import RegexValidator
from django.db import models


class Caf(models.Model):
    code = models.CharField(max_length=3, unique=True, validators=[RegexValidator(r"^\d{3}$")])
    name = models.CharField(max_length=200)
    departement = models.CharField(max_length=3)

    class Meta:
        verbose_name = "Caf"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


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
        on = on or datetime.date.today()
        return self.filter(models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=on))


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
