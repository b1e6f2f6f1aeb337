"""The Caf's agents: accounts apart from the usagers', each attached to a Caf, with roles, a
password and a mandatory second factor (TOTP, with single-use recovery codes).

Not ``accounts.Account``: an agent is no person of a file, signs in elsewhere (``/agents/``) with
other rules (second factor, short sessions), and no agent session can ever be taken for a
usager's (docs/agents.md). What each role may do is moncompte.access.agents.
"""

from django.db import models
from django.utils import timezone
from django_otp.models import ThrottlingMixin

from moncompte.access.agents import AgentRole


class Agent(models.Model):
    caf = models.ForeignKey("households.Caf", on_delete=models.PROTECT, related_name="agents")
    # The professional address: the agent's sign-in identifier and where their messages go.
    email = models.EmailField("adresse électronique professionnelle", unique=True)
    first_names = models.CharField("prénoms", max_length=200)
    last_name = models.CharField("nom", max_length=200)
    # AgentRole values (moncompte.access.agents decides what they allow).
    roles = models.JSONField("rôles", default=list, blank=True)
    # Django's hasher format (Argon2id); "" until the agent sets it at activation: no default password.
    password = models.CharField(max_length=128, blank=True, editable=False)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # The activation: a single-use code given by the command or the administrator (its keyed
    # hash only), with which the agent sets their password and enrols their second factor.
    activation_digest = models.CharField(max_length=64, blank=True, editable=False)
    activation_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deactivated_at = models.DateTimeField(null=True, blank=True)
    last_signin_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "agent"
        ordering = ["last_name", "first_names", "id"]

    def __str__(self) -> str:
        return f"Agent {self.pk}"

    @property
    def display_name(self) -> str:
        return f"{self.first_names} {self.last_name}"

    @property
    def role_labels(self) -> list[str]:
        labels = dict(AgentRole.choices)
        return [labels[r] for r in self.roles if r in labels]


class _VerifyAllowedBase:
    """What django-otp's ``Device.verify_is_allowed`` answers when nothing throttles: the
    ThrottlingMixin ends its own check with ``super()``, and this device is no ``Device`` (its
    owner is an agent, not AUTH_USER_MODEL), so without this base an allowed check raised."""

    def verify_is_allowed(self):
        return True, None


class AgentTOTPDevice(ThrottlingMixin, _VerifyAllowedBase, models.Model):
    """The agent's authenticator app (RFC 6238, through django_otp.oath), one per agent.

    django-otp's own TOTPDevice belongs to AUTH_USER_MODEL (the usagers' accounts): this is
    the same device for an agent, with django-otp's throttling (growing waits after failures)
    and its replay guard (``last_t``: a code is accepted once). Confirmed once the agent typed
    a first code at enrolment."""

    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="totp_device")
    key = models.CharField(max_length=80, editable=False)  # hex, 20 random bytes
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "application d'authentification"

    def __str__(self) -> str:
        return f"TOTP {self.pk}"

    # django-otp's waits double without bound (factor × 2^(n-1) seconds): whoever knows an
    # agent's password could then lock their second factor for days. Counting at most this many
    # failures bounds the wait at factor × 2048 seconds (34 minutes at factor 1): at most about
    # 42 guesses a day, each journaled, against 3 valid codes in 10^6.
    MAX_COUNTED_FAILURES = 12

    def throttle_increment(self, commit=True):
        super().throttle_increment(commit=False)
        self.throttling_failure_count = min(self.throttling_failure_count, self.MAX_COUNTED_FAILURES)
        if commit:
            self.save()

    def get_throttle_factor(self) -> int:
        from django.conf import settings

        return settings.MONCOMPTE_AGENT_TOTP_THROTTLE_FACTOR


class AgentRecoveryCode(models.Model):
    """A single-use recovery code (when the phone with the authenticator is lost): its keyed
    hash only; shown once to the agent when generated."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="recovery_codes")
    code_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "code de secours"

    def __str__(self) -> str:
        return f"Code de secours {self.pk}"


class AgentSession(models.Model):
    """A signed-in agent session (moncompte.agents.sessions): the cookie holds a random token,
    the database its SHA-256 only. ``second_factor_at`` is set once the TOTP or a recovery code
    was given: until then the session reaches the second-factor page only."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="sessions")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    second_factor_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = "session d'agent"
        indexes = [models.Index(fields=["agent", "ended_at"])]

    def __str__(self) -> str:
        return f"Session d'agent {self.pk}"
