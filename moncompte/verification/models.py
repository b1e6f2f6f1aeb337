"""One-time codes sent to a contact channel (email or mobile) to prove the person holds it."""

from django.db import models

from moncompte.core.actors import ContactChannel


class Purpose(models.TextChoices):
    CONTACT_VALIDATION = "contact_validation", "Validation d'un moyen de contact"
    PASSWORD_RESET = "password_reset", "Nouveau mot de passe"
    FIRST_CONNECTION = "first_connection", "Première connexion"
    SIGNUP = "signup", "Création de compte"
    CONTACT_CHANGE = "contact_change", "Changement de moyen de contact"
    SIGNIN_UNLOCK = "signin_unlock", "Connexion sans attendre"


class ContactChallenge(models.Model):
    """One code, sent once. A resend makes a new challenge and supersedes this one.

    Only a keyed hash of the code is stored (``code_digest``). ``flow_ref`` is a random token the
    web flow keeps in its session to find its challenge again.
    """

    purpose = models.CharField(max_length=24, choices=Purpose.choices)
    channel = models.CharField(max_length=8, choices=ContactChannel.choices)
    destination = models.CharField(max_length=254)
    code_digest = models.CharField(max_length=64, editable=False)
    flow_ref = models.CharField(max_length=64, db_index=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="contact_challenges"
    )
    message = models.ForeignKey(
        "notifications.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    # Set when a newer challenge of the same flow and purpose replaced this one.
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Codes sent in this flow for this purpose so far (this one included), and when the next may go.
    sends = models.PositiveSmallIntegerField(default=1)
    next_send_at = models.DateTimeField()

    class Meta:
        verbose_name = "code de validation"
        verbose_name_plural = "codes de validation"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["destination", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Code {self.pk} ({self.purpose}, {self.channel})"
