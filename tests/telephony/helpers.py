"""Shared helpers of the telephony tests (tests/telephony, tests/phone)."""

import datetime
import re
from zoneinfo import ZoneInfo

from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel

PARIS = ZoneInfo("Europe/Paris")
# The default end date (config/settings.py): the old code is accepted through 31 March 2022.
BEFORE_END = datetime.datetime(2022, 3, 31, 23, 58, tzinfo=PARIS)
AFTER_END = datetime.datetime(2022, 4, 1, 0, 1, tzinfo=PARIS)
LEGACY_CODE = "31415926"
LINE = "+33612345678"
UNKNOWN_NUMERO = "1999999"


def phone_actor(address: str = "192.0.2.10") -> Actor:
    return Actor.visitor(channel=Channel.PHONE, client_address=address)


def web_actor(account) -> Actor:
    return Actor(channel=Channel.WEB, account=account, session_key="test-session", client_address="203.0.113.5")


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def journal_details() -> str:
    """Every journal entry's details, as one text (to look for what must never be there)."""
    return " ".join(str(detail) for detail in JournalEntry.objects.values_list("detail", flat=True))
