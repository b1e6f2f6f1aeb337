"""The Caf's requests (sollicitations) and the answers to them (docs/caf-requests.md).

A request asks a file's household, or one of its members personally, for a document or a piece
of information, with a due date. Who sees and answers it is decided by the policy
(moncompte.access.policy, ``Action.ANSWER_CAF_REQUEST``), read through
moncompte.caf_requests.selectors; the writes are in moncompte.caf_requests.services.
"""

import datetime

from django.db import models
from django.utils import timezone

from moncompte.core.actors import Channel


class CafRequest(models.Model):
    class Kind(models.TextChoices):
        DOCUMENT = "document", "Document à envoyer"
        INFORMATION = "information", "Information à donner"

    class State(models.TextChoices):
        WAITING = "waiting", "En attente de votre réponse"
        ANSWERED = "answered", "Répondue"
        CLOSED = "closed", "Close"

    dossier = models.ForeignKey("households.Dossier", on_delete=models.PROTECT, related_name="caf_requests")
    # None: the household (answered by whoever may act on the whole file); a person: that member
    # personally (also by them, when their standing allows them their own part only).
    addressed_to = models.ForeignKey(
        "identity.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="caf_requests"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField("objet", max_length=200)
    body = models.TextField("demande", max_length=5000)
    due_on = models.DateField("à rendre avant le")
    created_at = models.DateTimeField(default=timezone.now)
    # Who at the Caf asks ("Caf de Paris"); the agents of issue 12 will be named here.
    created_by_label = models.CharField(max_length=200)
    # The agent who asked (issue 12), None for requests made by a command or before agents.
    created_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="agent"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "demande de la Caf"
        verbose_name_plural = "demandes de la Caf"
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["dossier", "state", "due_on"])]

    def __str__(self) -> str:
        return f"Demande de la Caf {self.pk}"

    def is_late(self, today: datetime.date | None = None) -> bool:
        """Past its due date and still waiting (it can still be answered)."""
        return self.state == self.State.WAITING and (today or timezone.localdate()) > self.due_on

    @property
    def late(self) -> bool:
        return self.is_late()

    @property
    def is_open(self) -> bool:
        """Answers are still taken (waiting, or answered and completed later); not once closed."""
        return self.state != self.State.CLOSED


class CafRequestAnswer(models.Model):
    request = models.ForeignKey(CafRequest, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey("identity.Person", on_delete=models.PROTECT, related_name="caf_request_answers")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    text = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "réponse à une demande de la Caf"
        verbose_name_plural = "réponses aux demandes de la Caf"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Réponse {self.pk}"


class ScanState(models.TextChoices):
    """What the virus scan said of a stored file (an infected one is never stored)."""

    CLEAN = "clean", "Analysé, sans virus"
    NOT_SCANNED = "not_scanned", "Non analysé (aucun antivirus configuré)"


class CafRequestAttachment(models.Model):
    """A file sent with an answer: the copy rewritten by moncompte.identity.documents, stored by
    the default storage under a random name (never served publicly)."""

    answer = models.ForeignKey(CafRequestAnswer, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="caf-requests/", max_length=200)
    content_type = models.CharField(max_length=32)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The name the person's file had, sanitised (moncompte.caf_requests.services.sanitise_name):
    # shown in the history, never used as a path.
    original_name = models.CharField(max_length=120)
    scan_state = models.CharField(max_length=16, choices=ScanState.choices)
    # The scanner's own words ("ClamAV 1.3.1"), for the agents; empty when nothing scanned it.
    scan_detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "fichier joint à une réponse"
        verbose_name_plural = "fichiers joints aux réponses"
        ordering = ["answer_id", "id"]

    def __str__(self) -> str:
        return f"Fichier {self.pk}"
