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
