"""The acting person: who acts, through which channel, from where, and for whom.

Every channel (web pages, the REST API, the agent console, the telephony API) turns its request
into one ``Actor`` and passes it to the services and selectors; nothing below the channels sees a
request. The journal records what the actor says (moncompte.audit.services.journal_record).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from moncompte.accounts.models import Account
    from moncompte.agents.models import Agent
    from moncompte.identity.models import Person


class Channel(models.TextChoices):
    """Through which channel an action comes. The one list: the journal and the rules use it."""

    WEB = "web", "Site internet"
    API = "api", "Application mobile"
    COUNTER = "counter", "Accueil en Caf"
    PHONE = "phone", "Téléphone"
    SYSTEM = "system", "Traitement automatique"


class ContactChannel(models.TextChoices):
    """A way to reach a person: the one list for contacts, codes, invitations and messages."""

    EMAIL = "email", "Adresse électronique"
    PHONE = "phone", "Téléphone mobile"


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who acts. ``person`` and ``account`` are None for a visitor not signed in (sign-in, first
    connection, password reset), for the system and for an agent; ``agent`` is the Caf's agent
    acting (the counter, the phone, the queues: moncompte.agents), ``on_behalf_of`` the person
    an agent serves, None when people act for themselves."""

    channel: Channel
    person: Person | None = None
    account: Account | None = None
    session_key: str | None = None
    client_address: str | None = None
    on_behalf_of: Person | None = None
    agent: Agent | None = None

    def __post_init__(self):
        if self.agent is not None and self.account is not None:
            raise ValueError("An agent acts as an agent, never through a usager's account.")
        if self.account is not None:
            if self.person is None:
                object.__setattr__(self, "person", self.account.person)
            elif self.account.person_id != self.person.pk:
                raise ValueError("The account of an actor is the account of its person.")

    @classmethod
    def visitor(cls, *, channel: Channel, client_address: str | None = None, session_key: str | None = None) -> Actor:
        """Someone not signed in (yet)."""
        return cls(channel=channel, client_address=client_address, session_key=session_key)

    @classmethod
    def system(cls) -> Actor:
        """A command or a background task acting on nobody's behalf."""
        return cls(channel=Channel.SYSTEM)

    @property
    def is_signed_in(self) -> bool:
        return self.account is not None

    @property
    def is_agent(self) -> bool:
        return self.agent is not None

    @property
    def subject(self) -> Person | None:
        """The person the action concerns: the one acted for, else the actor."""
        return self.on_behalf_of or self.person

    def signed_in_as(self, account: Account, *, session_key: str | None) -> Actor:
        """The same visitor, now signed in to ``account`` in a new session."""
        return dataclasses.replace(self, account=account, person=account.person, session_key=session_key)
