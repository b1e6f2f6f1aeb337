"""The link between a FranceConnect identity and a person of ours.

FranceConnect's ``sub`` is stable for one person and one service (ours); it is not an
identifier of the person elsewhere, holds nothing about them and is never shown or journaled.
One link per ``sub`` and one per person: both are unique, so a second confirmation (a double
submission, two tabs, a race) fails on the constraint and never makes two links.
"""

from django.db import models


class FranceConnectLink(models.Model):
    sub = models.CharField("identifiant FranceConnect (sub)", max_length=255, unique=True)
    person = models.OneToOneField("identity.Person", on_delete=models.CASCADE, related_name="franceconnect_link")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField("dernière connexion", null=True, blank=True)

    class Meta:
        verbose_name = "lien FranceConnect"
        verbose_name_plural = "liens FranceConnect"

    def __str__(self) -> str:
        return f"Lien FranceConnect {self.pk}"
