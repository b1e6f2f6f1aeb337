"""Serving a person at the counter or on the phone (issue 12, docs/agents.md).

A ``CounterService`` is one agent serving one caller or visitor about one file: opened by an
exact search (numéro allocataire or NIR, never a list), then the person served is identified
among the file's members with a proof, and the console shows what the policy lets that person
be told (moncompte.access.policy.disclosure_for). It belongs to the agent's session that opened
it: no other agent, no later session, reaches it.
"""

from django.db import models
from django.utils import timezone

from moncompte.core.actors import Channel


class Proof(models.TextChoices):
    IDENTITY_DOCUMENT = "identity_document", "Pièce d'identité présentée à l'accueil"
    PHONE_AUTHENTICATION = "phone_authentication", "Authentification par la plateforme téléphonique"
    PHONE_CODE = "phone_code", "Code téléphone Mon Compte"


class CounterService(models.Model):
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="counter_services")
    session = models.ForeignKey("agents.AgentSession", on_delete=models.CASCADE, related_name="counter_services")
    channel = models.CharField(
        max_length=16, choices=[(Channel.COUNTER, Channel.COUNTER.label), (Channel.PHONE, Channel.PHONE.label)]
    )
    dossier = models.ForeignKey("households.Dossier", on_delete=models.PROTECT, related_name="+")
    # How the file was found: "numero" or "nir" (never the NIR itself).
    found_by = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    # The person served, once identified, and how it was proven.
    person = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proof = models.CharField(max_length=24, choices=Proof.choices, blank=True)
    # What the agent noted about the proof (the document's kind), never a number or a code.
    proof_detail = models.CharField(max_length=200, blank=True)
    identified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "accueil d'une personne"
        indexes = [models.Index(fields=["session", "created_at"])]

    def __str__(self) -> str:
        return f"Accueil {self.pk}"
