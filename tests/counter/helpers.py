"""Driving the counter's pages as an agent does, and reading what they journal."""

import html
import json
import re

from django.urls import reverse

from moncompte.audit.models import JournalEntry
from moncompte.counter.models import CounterService, Proof
from moncompte.identity.models import DocumentKind

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def search(client, *, channel="counter", numero="", identifier="", caf_code="", dossier=None):
    data = {"channel": channel, "numero": numero, "identifier": identifier, "caf_code": caf_code}
    if dossier is not None:
        data["dossier"] = dossier
    return client.post(reverse("backoffice:counter_search"), data)


def open_service(client, dossier, *, channel="counter") -> CounterService:
    response = search(client, channel=channel, numero=dossier.numero)
    assert response.status_code == 302, response.content.decode()
    return CounterService.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))


def identify_with_document(client, service, person, kind=DocumentKind.IDENTITY_CARD):
    return client.post(
        reverse("backoffice:counter_identify", args=[service.pk]),
        {"person": person.pk if person else "", "proof": Proof.IDENTITY_DOCUMENT, "document_kind": kind},
    )


def page(client, service):
    return client.get(reverse("backoffice:counter_service", args=[service.pk]))


def without_csrf(html: str) -> str:
    return _CSRF.sub("", html)


def entries(action):
    return list(JournalEntry.objects.filter(action=action).order_by("id"))


def all_details_text() -> str:
    return " ".join(json.dumps(d) for d in JournalEntry.objects.order_by("id").values_list("detail", flat=True))


def text(response) -> str:
    """The page as a person reads it (entities decoded: "n'est", not "n&#x27;est")."""
    return html.unescape(response.content.decode())
