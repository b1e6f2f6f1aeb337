"""The access journal: append-only and tamper-evident.

Each entry carries ``chain_digest`` = HMAC(key, previous entry's digest + this entry's content),
the previous entry being the last one of the same ``chain``: changing, removing or inserting an
entry breaks its chain from there on (``manage.py audit_verify``). Several chains (settings
MONCOMPTE_AUDIT_CHAINS) let appends proceed in parallel: each chain has its own lock.
The application can only add entries: ``save()`` refuses
updates, deletes raise, and on PostgreSQL a trigger refuses UPDATE and DELETE whatever the
client.
"""

from django.db import models


class AppendOnlyError(Exception):
    pass


class JournalQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The journal is append-only.")

    def delete(self):
        raise AppendOnlyError("The journal is append-only.")

    def about_person(self, person) -> "JournalQuerySet":
        return self.filter(models.Q(subject_person=person) | models.Q(actor_person=person))


class JournalEntry(models.Model):
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=64)
    # Through which channel (moncompte.core.actors.Channel); empty on entries older than that.
    channel = models.CharField(max_length=16, blank=True, default="")
    actor_person = models.ForeignKey(
        "identity.Person", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    # The Caf's agent who acted (moncompte.agents), None when a person or the system did.
    actor_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    subject_person = models.ForeignKey(
        "identity.Person", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    dossier = models.ForeignKey(
        "households.Dossier", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    # A keyed digest of the session key: lets the security team follow one session without
    # the journal holding a bearer token.
    session_ref = models.CharField(max_length=32, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    chain = models.PositiveSmallIntegerField(default=0)
    chain_digest = models.CharField(max_length=64, editable=False)

    objects = JournalQuerySet.as_manager()

    class Meta:
        verbose_name = "entrée du journal"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["subject_person", "at"]),
            models.Index(fields=["dossier", "at"]),
            models.Index(fields=["chain", "-id"]),
            models.Index(fields=["actor_agent", "at"]),
        ]

    def __str__(self) -> str:
        return f"Journal {self.pk} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("The journal is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The journal is append-only.")
