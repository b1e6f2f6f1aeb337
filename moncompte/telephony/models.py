"""The telephony platform's clients, the phone codes and the phone authentications (issue 12).

Only keyed hashes (HMAC-SHA256 with ``MONCOMPTE_PHONE_KEY``) are stored: of the clients'
secrets, of the phone codes (keyed with the person's id too), of the calling lines and of the
references an agent redeems. docs/telephony.md has the design.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class TelephonyClient(models.Model):
    """The telephony platform (its voice server), authenticated by HTTP Basic ``client_id:secret``."""

    client_id = models.CharField("identifiant", max_length=64, unique=True)
    name = models.CharField("nom", max_length=200)
    secret_digest = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "client de la plateforme téléphonique"

    def __str__(self) -> str:
        return f"Client téléphonique {self.client_id}"


class PhoneCode(models.Model):
    """A one-time 6-digit code the person gets in Mon Compte (page or app) or by SMS, to be
    identified on the phone with their NIR. Single use (``used_at``), superseded by the next one
    (``superseded_at``), valid until ``expires_at``."""

    class DeliveredBy(models.TextChoices):
        WEB = "web", "Affiché dans Mon Compte (site)"
        API = "api", "Affiché dans l'application Mon Compte"
        SMS = "sms", "Envoyé par SMS"

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="phone_codes")
    code_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.CharField(max_length=8, choices=DeliveredBy.choices)

    class Meta:
        verbose_name = "code téléphone"
        indexes = [models.Index(fields=["person", "created_at"], name="telephony_code_person")]

    def __str__(self) -> str:
        return f"Code téléphone {self.pk}"


class PhoneAttempt(models.Model):
    """One phone authentication try, **whether or not the file or the NIR exists**.

    ``line_key``: keyed hash of the calling line (one key for every hidden line; an agent's id
    when the caller reads their code to an agent); ``target_key``: keyed hash of the (Caf,
    numéro) or of the NIR. The hard caps count the wrong ones of the last 24 hours; the partial
    indexes hold the wrong ones only, so that a line or a file with many successes costs nothing
    more to check."""

    class Method(models.TextChoices):
        LEGACY_CODE = "legacy_code", "Numéro allocataire et ancien code confidentiel"
        PHONE_CODE = "phone_code", "Numéro de sécurité sociale et code téléphone"

    class Outcome(models.TextChoices):
        RIGHT = "right", "Identification réussie"
        WRONG = "wrong", "Code erroné, expiré ou inconnu"
        REFUSED = "refused", "Essai refusé avant vérification (plafond atteint)"

    line_key = models.CharField(max_length=64)
    target_key = models.CharField(max_length=64)
    method = models.CharField(max_length=16, choices=Method.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "essai d'identification téléphonique"
        indexes = [
            models.Index(fields=["line_key", "at"], name="telephony_attempt_line", condition=Q(outcome="wrong")),
            models.Index(fields=["target_key", "at"], name="telephony_attempt_target", condition=Q(outcome="wrong")),
        ]

    def __str__(self) -> str:
        return f"Essai téléphonique {self.pk}"


class PhoneAuthentication(models.Model):
    """A caller identified by the telephony platform: the reference (``TEL-XXXX-XXXX``, its
    keyed hash only) that the agent taking the call types in the console, once, before
    ``expires_at``."""

    class Method(models.TextChoices):
        LEGACY_CODE = "legacy_code", "Numéro allocataire et ancien code confidentiel"
        PHONE_CODE = "phone_code", "Numéro de sécurité sociale et code téléphone"

    # Not unique: 40 random bits may meet an old reference again; only a live one is redeemed.
    reference_digest = models.CharField(max_length=64, db_index=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.PROTECT, related_name="+")
    # The file proven by its old code; None for a phone code (it proves the person, not a file).
    dossier = models.ForeignKey("households.Dossier", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=16, choices=Method.choices)
    client = models.ForeignKey(TelephonyClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="phone_authentications"
    )

    class Meta:
        verbose_name = "identification téléphonique"

    def __str__(self) -> str:
        return f"Identification téléphonique {self.pk}"
