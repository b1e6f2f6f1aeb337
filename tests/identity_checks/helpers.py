"""Helpers of the identity checks' tests: a console client, sign-ups, documents."""

import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.accounts.signup import signup_document_send
from moncompte.core.actors import Actor, Channel
from tests.accounts.test_signup import PASSWORD, _png, complete, identity
from tests.factories import sign_in_agent

__all__ = ["PASSWORD", "console", "document_for", "owner", "signup"]

_addresses = itertools.count(1)


def console(agent) -> Client:
    """A test client signed in to the console as ``agent`` (password and second factor given)."""
    client = Client()
    sign_in_agent(client, agent)
    return client


def signup(identifier=None, email=None, **declared):
    """A sign-up by a new beneficiary (tests.accounts.test_signup), each from its own address
    (the sign-ups of one address are throttled). Lyon 3e by default: the Caf of the Rhône."""
    n = next(_addresses)
    return complete(
        ident=identity(**declared),
        identifier=identifier,
        client_address=f"198.51.100.{n % 250 + 1}",
        contact_destination=email or f"personne{n}@example.fr",
    )


def owner(check) -> Actor:
    """The checked person, signed in on the web."""
    return Actor(channel=Channel.WEB, account=Account.objects.get(person=check.person), session_key="k" * 32)


def document_for(check, kind="identity_card"):
    """An identity document sent by the person (parsed and re-encoded as on the page)."""
    return signup_document_send(
        actor=owner(check), check=check, uploaded_file=SimpleUploadedFile("carte.png", _png()), kind=kind
    )
