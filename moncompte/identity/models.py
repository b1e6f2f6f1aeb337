"""Persons known to the Caf and their primary identifier.

The identifier (NIR, NIA, NNP or a provisional identifier of ours) is never stored in clear:
``identifier_digest`` is a keyed hash used for look-ups, ``identifier_encrypted`` an authenticated
encryption used to show it back to its holder (moncompte.identity.protection).
"""

from django.db import models


class IdentifierType(models.TextChoices):
    NIR = "nir", "Numéro de sécurité sociale (NIR)"
    NIA = "nia", "Numéro d'identification d'attente (NIA)"
    NNP = "nnp", "Numéro provisoire (7 ou 8)"
    PROVISIONAL = "provisional", "Identifiant provisoire Mon Compte"


class Sex(models.TextChoices):
    FEMALE = "F", "Femme"
    MALE = "M", "Homme"


class PersonQuerySet(models.QuerySet):
    def with_identifier(self, value: str) -> "PersonQuerySet":
        """Persons whose canonical identifier is ``value``, under any configured HMAC key."""
        from moncompte.identity.protection import identifier_digests

        return self.filter(identifier_digest__in=identifier_digests(value))


class Person(models.Model):
    identifier_type = models.CharField(max_length=16, choices=IdentifierType.choices)
    identifier_digest = models.CharField(max_length=64, unique=True, editable=False)
    identifier_encrypted = models.TextField(editable=False)
    first_names = models.CharField("prénoms", max_length=200)
    birth_name = models.CharField("nom de naissance", max_length=200)
    usage_name = models.CharField("nom d'usage", max_length=200, blank=True)
    birth_date = models.DateField("date de naissance")
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices)
    birth_place_code = models.CharField("commune de naissance (code INSEE)", max_length=5, blank=True)
    birth_country_code = models.CharField("pays de naissance (code INSEE)", max_length=5, default="99100")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "personne"

    def __str__(self) -> str:
        return f"Personne {self.pk}"

    @property
    def display_name(self) -> str:
        first = self.first_names.split()[0] if self.first_names else ""
        return f"{first} {self.usage_name or self.birth_name}".strip()

    @property
    def identifier(self):
        """The clear identifier, decrypted on demand for its holder's own pages."""
        from moncompte.identity.identifiers import parse_identifier
        from moncompte.identity.protection import decrypt_identifier

        return parse_identifier(decrypt_identifier(self.identifier_encrypted))


class FormerIdentifier(models.Model):
    """An identifier a person held before being re-keyed (a provisional one replaced by a NIR).

    Kept for a transition period only, to tell whoever signs in with it what the new identifier
    is; it never signs anyone in.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="former_identifiers")
    identifier_type = models.CharField(max_length=16, choices=IdentifierType.choices)
    identifier_digest = models.CharField(max_length=64, unique=True, editable=False)
    identifier_encrypted = models.TextField(editable=False)
    replaced_at = models.DateTimeField()
    valid_until = models.DateTimeField()

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "ancien identifiant"

    def __str__(self) -> str:
        return f"Ancien identifiant {self.pk}"


# Identity checks of people who created their account without matching a known person ----------
# (moncompte.accounts.signup, docs/signup.md). An agent decides each check later.


class IdentityCheckState(models.TextChoices):
    TO_VERIFY = "to_verify", "À vérifier"
    VERIFIED = "verified", "Vérifiée"
    REJECTED = "rejected", "Refusée"


class IdentityCheckQuerySet(models.QuerySet):
    def pending(self) -> "IdentityCheckQuerySet":
        return self.filter(state=IdentityCheckState.TO_VERIFY)

    def claiming(self, value: str) -> "IdentityCheckQuerySet":
        """Checks whose claimed identifier is the canonical ``value``, under any configured HMAC key."""
        from moncompte.identity.protection import identifier_digests

        return self.filter(claimed_identifier_digest__in=identifier_digests(value))


class IdentityCheck(models.Model):
    """A person's declared identity waiting for (or having had) an agent's decision.

    The account exists meanwhile and shows only the person's own page. What the person declared
    beyond the Person record (birth place as typed, address) is kept here for the agent.

    **The claimed identifier**: a NIR (or NNP) typed at the sign-up is *not* the person's
    identifier until the check is accepted (the person holds a provisional identifier meanwhile):
    it is kept here as a claim, sealed like every identifier (``claimed_identifier_digest``, a
    keyed hash for look-ups, not unique: several people may claim one number and only the check
    decides; ``claimed_identifier_encrypted``, AES-GCM), and bound to the person by
    ``moncompte.accounts.signup.identity_check_accept`` only if nobody holds it by then.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identity_checks")
    state = models.CharField(max_length=16, choices=IdentityCheckState.choices, default=IdentityCheckState.TO_VERIFY)
    # The result of matching the declared identity (without NIR) against known persons: "none",
    # or "one"/"many" when possible duplicates exist for the agent to look at.
    match_outcome = models.CharField(max_length=8, blank=True)
    candidate_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="doublon possible"
    )
    birth_place_label = models.CharField("lieu de naissance déclaré", max_length=200, blank=True)
    address_line1 = models.CharField("adresse", max_length=200, blank=True)
    address_line2 = models.CharField("complément d'adresse", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("commune", max_length=200, blank=True)
    # The NIR or NNP the person typed, bound only when the check is accepted (see the docstring).
    claimed_identifier_type = models.CharField(
        "type du numéro déclaré", max_length=16, choices=IdentifierType.choices, blank=True
    )
    claimed_identifier_digest = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    claimed_identifier_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Who decided: the agent (issue 12), and their name as shown then (kept if the agent goes).
    decided_by = models.CharField(max_length=200, blank=True)
    decided_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="agent"
    )
    reason = models.TextField(blank=True)

    objects = IdentityCheckQuerySet.as_manager()

    class Meta:
        verbose_name = "vérification d'identité"
        verbose_name_plural = "vérifications d'identité"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(state="to_verify"), name="one_pending_identity_check_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"Vérification d'identité {self.pk} ({self.state})"

    @property
    def claimed_identifier(self):
        """The clear claimed identifier (an ``Identifier``), decrypted on demand; None without a claim."""
        if not self.claimed_identifier_encrypted:
            return None
        from moncompte.identity.identifiers import parse_identifier
        from moncompte.identity.protection import decrypt_identifier

        return parse_identifier(decrypt_identifier(self.claimed_identifier_encrypted))


class DocumentKind(models.TextChoices):
    IDENTITY_CARD = "identity_card", "Carte nationale d'identité"
    PASSPORT = "passport", "Passeport"
    RESIDENCE_PERMIT = "residence_permit", "Titre de séjour"
    OTHER = "other", "Autre document d'identité"


class DocumentContentType(models.TextChoices):
    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", "JPEG"
    PNG = "image/png", "PNG"


class IdentityDocument(models.Model):
    """An identity document sent for a check (moncompte.identity.documents.document_store).

    The file lives in the default storage under a random name, never served publicly; its type
    is the one read from its content, never the name or type the browser gave.
    """

    # Not "check": Model.check() is Django's system check.
    identity_check = models.ForeignKey(IdentityCheck, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=24, choices=DocumentKind.choices)
    file = models.FileField(upload_to="identity-documents/", max_length=200)
    content_type = models.CharField(max_length=32, choices=DocumentContentType.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "justificatif d'identité"
        verbose_name_plural = "justificatifs d'identité"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"Justificatif {self.pk} ({self.kind})"


# Rectification requests (moncompte.identity.own_data): a person reports an error in their own ---
# data; an agent handles it later. The person sees each request and its state in their history.


class RectificationField(models.TextChoices):
    FIRST_NAMES = "first_names", "Prénoms"
    BIRTH_NAME = "birth_name", "Nom de naissance"
    USAGE_NAME = "usage_name", "Nom d'usage"
    BIRTH_DATE = "birth_date", "Date de naissance"
    BIRTH_PLACE = "birth_place", "Lieu de naissance"
    SEX = "sex", "Sexe"
    IDENTIFIER = "identifier", "Numéro de sécurité sociale"
    ADDRESS = "address", "Adresse"
    OTHER = "other", "Autre"


class RectificationState(models.TextChoices):
    TO_PROCESS = "to_process", "À traiter"
    PROCESSED = "processed", "Traitée"
    REJECTED = "rejected", "Refusée"


class RectificationRequestQuerySet(models.QuerySet):
    def pending(self) -> "RectificationRequestQuerySet":
        return self.filter(state=RectificationState.TO_PROCESS)


class RectificationRequest(models.Model):
    """A person's report of an error in their own data, waiting for (or having had) an agent."""

    MESSAGE_MAX_LENGTH = 2000

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="rectification_requests")
    field = models.CharField("donnée concernée", max_length=16, choices=RectificationField.choices)
    message = models.TextField("message", max_length=MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=RectificationState.choices, default=RectificationState.TO_PROCESS)
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="agent"
    )
    # The agent's answer, shown to the person.
    answer = models.TextField("réponse", blank=True)

    objects = RectificationRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "demande de rectification"
        verbose_name_plural = "demandes de rectification"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-created_at"]),
            models.Index(fields=["state", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Demande de rectification {self.pk} ({self.state})"
