"""Accounts of usagers: one per person, signed in with the person's identifier."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from moncompte.core.actors import Channel, ContactChannel


class AccountManager(BaseUserManager):
    def get_by_natural_key(self, username):
        return self.get(person_id=username)


class Account(AbstractBaseUser):
    person = models.OneToOneField("identity.Person", on_delete=models.PROTECT, related_name="account")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # When the account's first contact was validated: the account is usable only from then on
    # (moncompte.accounts.services.account_usable). Set by the contact services only; contacts
    # are replaced, never removed, so it cannot go back to None.
    contact_validated_at = models.DateTimeField(null=True, blank=True)
    # The version of the first-connection screens (MONCOMPTE_ONBOARDING_VERSION) last shown to
    # the person: 0 for none yet. Written by moncompte.accounts.onboarding only.
    onboarding_version_seen = models.PositiveSmallIntegerField("présentation vue (version)", default=0)

    USERNAME_FIELD = "person"
    REQUIRED_FIELDS: list[str] = []

    objects = AccountManager()

    class Meta:
        verbose_name = "compte"

    def __str__(self) -> str:
        return f"Compte {self.pk}"


class Contact(models.Model):
    """A contact channel of an account; usable for codes and notices once verified."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=8, choices=ContactChannel.choices)
    value = models.CharField(max_length=254)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "moyen de contact"
        ordering = ["kind", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "value"], name="contact_once_per_account"),
        ]

    def __str__(self) -> str:
        return f"Contact {self.pk} ({self.kind})"


class LegacyCredential(models.Model):
    """The old 8-digit code of a file, from the legacy system, retired channel by channel.

    Stored as a keyed hash (moncompte.accounts.legacy): a slow hash cannot protect 10^8 values,
    the secret key and throttling do. The web retires it once, at the file's first connection
    (``retired_on_web_at``); the phone keeps accepting it until MONCOMPTE_LEGACY_CODE_PHONE_UNTIL
    for every file, unless it was retired for that file on the phone (``retired_on_phone_at``).
    """

    dossier = models.OneToOneField("households.Dossier", on_delete=models.CASCADE, related_name="legacy_credential")
    code_digest = models.CharField(max_length=64)
    retired_on_web_at = models.DateTimeField("retiré sur le site le", null=True, blank=True)
    retired_on_phone_at = models.DateTimeField("retiré au téléphone le", null=True, blank=True)

    class Meta:
        verbose_name = "ancien code confidentiel"

    def __str__(self) -> str:
        return f"Ancien code {self.pk}"


class AccountSession(models.Model):
    """A signed-in session of an account, for "my connected devices" and ending sessions.

    ``session_key`` is, for the web, the key of Django's session store, kept to delete that
    session when the person (or a password change, or the security team) ends it; for the API,
    the family of the OAuth tokens issued to one app sign-in (moncompte.accounts.tokens), revoked
    with it. ``ended_at`` marks it ended.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, unique=True)
    channel = models.CharField("canal", max_length=16, choices=Channel.choices, default=Channel.WEB)
    device = models.CharField("appareil", max_length=200, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    place = models.CharField("lieu approximatif", max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = "session"
        indexes = [models.Index(fields=["account", "ended_at"])]

    def __str__(self) -> str:
        return f"Session {self.pk}"


class LegacyCodeAttempt(models.Model):
    """One try of an old code, on the web or the phone, **whether or not the file exists**.

    The caps of moncompte.accounts.legacy count these rows: per file by ``file_key``, a keyed hash
    of the Caf and the numéro allocataire (never the numéro itself), so that an unknown numéro is
    counted exactly as a known one and answers the same; per client and file by ``client_key``, a
    keyed hash of the client's address (an IPv6 /64), empty on the phone. ``outcome``: the code
    was right, wrong, or not checked at all (``refused``: the client's cap or the file's wait);
    only wrong codes count. Rows older than a week count for nothing.
    """

    class Outcome(models.TextChoices):
        RIGHT = "right", "Code exact"
        WRONG = "wrong", "Code erroné ou dossier inconnu"
        REFUSED = "refused", "Essai refusé avant vérification"

    file_key = models.CharField(max_length=64)
    client_key = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "essai d'ancien code"
        indexes = [models.Index(fields=["file_key", "at"], name="accounts_legacy_attempt_file")]

    def __str__(self) -> str:
        return f"Essai {self.pk}"


class ThrottleCounter(models.Model):
    """One counter of moncompte.accounts.throttling: failed attempts on one key (a digest of an
    identifier, an address or an account, never the value itself), the last one's time, and
    when the counter lapses (``MONCOMPTE_THROTTLE_WINDOW_SECONDS`` after its last failure).

    In the database rather than in the cache, so that a Redis outage, restart or eviction gives
    nobody fresh attempts (docs/decisions.md). Written by one upsert per key; a lapsed row counts
    for nothing and is removed by the next failure anywhere.
    """

    key = models.CharField(max_length=150, primary_key=True)
    failures = models.PositiveIntegerField()
    last_failure_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "compteur de tentatives"

    def __str__(self) -> str:
        return f"Compteur {self.key[:24]}…"


# ASSISTED (issue 12): the assisted first connection at the counter, moncompte.accounts.assisted.
class AssistedFirstConnection(models.Model):
    """A first connection started by an agent for a person at the counter, identified there
    with an identity document; the person then types the handoff code and their own password
    on a screen of their own (moncompte.accounts.assisted).

    The handoff code is kept as two keyed hashes only: of its first characters
    (``handoff_lookup``, which finds the flow, so that wrong tries are counted on it) and of the
    whole code (``handoff_digest``). Nothing the person types is kept here.
    """

    class CancelReason(models.TextChoices):
        REPLACED = "replaced", "Remplacée par une nouvelle première connexion accompagnée"
        ATTEMPTS = "attempts", "Trop de codes incorrects"
        DECLINED = "declined", "La personne ne s'est pas reconnue"

    service = models.ForeignKey("counter.CounterService", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("identity.Person", on_delete=models.PROTECT, related_name="+")
    dossier = models.ForeignKey("households.Dossier", on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="+")
    handoff_lookup = models.CharField(max_length=32)
    handoff_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    # The code was typed by the person (single use): the flow belongs to that browser from then on.
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=16, choices=CancelReason.choices, blank=True)

    class Meta:
        verbose_name = "première connexion accompagnée"
        indexes = [
            models.Index(fields=["handoff_lookup", "created_at"], name="accounts_assisted_lookup"),
            models.Index(fields=["service", "created_at"], name="accounts_assisted_service"),
            models.Index(fields=["person", "created_at"], name="accounts_assisted_person"),
        ]

    def __str__(self) -> str:
        return f"Première connexion accompagnée {self.pk}"
