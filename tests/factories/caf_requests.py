"""The Caf's requests and their answers (moncompte.caf_requests)."""

import datetime

import factory
from django.utils import timezone

from moncompte.caf_requests.models import CafRequest, CafRequestAnswer
from moncompte.core.actors import Channel
from tests.factories.households import DossierFactory
from tests.factories.identity import PersonFactory


class CafRequestFactory(factory.django.DjangoModelFactory):
    """A waiting request to the household of a new file, due in 30 days. ``addressed_to=person``
    for one member personally; traits ``late`` (due yesterday), ``answered``, ``closed``."""

    class Meta:
        model = CafRequest

    class Params:
        late = factory.Trait(due_on=factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1)))
        answered = factory.Trait(state=CafRequest.State.ANSWERED, answered_at=factory.LazyFunction(timezone.now))
        closed = factory.Trait(state=CafRequest.State.CLOSED)

    dossier = factory.SubFactory(DossierFactory)
    addressed_to = None
    kind = CafRequest.Kind.DOCUMENT
    title = factory.Sequence(lambda n: f"Justificatif de domicile n° {n}")
    body = "Merci de nous envoyer une facture d'électricité ou une quittance de loyer de moins de 3 mois."
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    created_by_label = factory.LazyAttribute(lambda o: o.dossier.caf.name)


class CafRequestAnswerFactory(factory.django.DjangoModelFactory):
    """An answer in text only (files go through moncompte.caf_requests.services.caf_request_answer)."""

    class Meta:
        model = CafRequestAnswer

    request = factory.SubFactory(CafRequestFactory)
    author = factory.SubFactory(PersonFactory)
    channel = Channel.WEB
    text = "Voici ma réponse."


__all__ = ["CafRequestAnswerFactory", "CafRequestFactory"]
