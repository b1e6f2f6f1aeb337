"""Contact channels: parsing, normalization and masking of email addresses and mobile numbers.

Errors are ``ValueError`` with a French sentence that can be shown as it is.
"""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from moncompte.core.actors import ContactChannel

MASK = "•"

# How a message reaches each contact channel (moncompte.notifications' channel names).
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s.\-()/]{4,30}$")

EMAIL_INVALID = "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."
PHONE_INVALID = "Ce numéro de téléphone n'est pas valide. Saisissez un numéro de mobile, par exemple 06 12 34 56 78."
PHONE_LANDLINE = (
    "Ce numéro est celui d'un téléphone fixe, qui ne peut pas recevoir de SMS. Saisissez un numéro de téléphone mobile."
)
PHONE_NOT_MOBILE = "Ce numéro ne peut pas recevoir de SMS. Saisissez un numéro de téléphone mobile."
PHONE_AMBIGUOUS = (
    "Ce numéro peut appartenir à plusieurs territoires. Saisissez-le avec son indicatif, par exemple +687 75 12 34."
)
PHONE_FOREIGN = "Seuls les numéros de mobile de France (métropole et outre-mer) sont acceptés."


def normalize_email(value: str) -> str:
    """A plain address, the domain lower-cased (the local part is kept: it may be case-sensitive)."""
    value = (value or "").strip()
    if not value or len(value) > 254 or value.count("@") != 1:
        raise ValueError(EMAIL_INVALID)
    local, domain = value.split("@")
    candidate = f"{local}@{domain.lower()}"
    try:
        EmailValidator()(candidate)
    except ValidationError:
        raise ValueError(EMAIL_INVALID) from None
    return candidate


def _regions() -> list[str]:
    return list(settings.MONCOMPTE_SMS_REGIONS)


def _candidates(value: str) -> list[phonenumbers.PhoneNumber]:
    """Every valid reading of the input: one if international, one per region that reads it if local."""
    if value.startswith(("+", "00")):
        regions = ["FR"]  # "00" is France's international prefix; "+" needs no region
    else:
        regions = _regions()
    found = []
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found.append(number)
    if not found and value.startswith(("+33", "0033")):
        # An overseas mobile written with +33 (+33 690..., a common mistake): read it locally.
        national = "0" + str(phonenumbers.parse(value, "FR").national_number)
        found = [n for n in _candidates(national) if phonenumbers.region_code_for_number(n) != "FR"]
    return found


def parse_mobile(value: str) -> str:
    """A mobile number of France or its overseas territories, as E.164 (+33612345678).

    Accepts "06 12 34 56 78", "+33 6 12 34 56 78", "0033 6 ...", and overseas numbers with their
    own prefix ("0690 12 34 56" is Guadeloupe, "0692 ..." La Réunion, "+687 75 12 34" ...).
    A landline, a foreign number or a number several territories could own is refused.
    """
    value = (value or "").strip()
    if not _PHONE_CHARACTERS.match(value):
        raise ValueError(PHONE_INVALID)
    try:
        candidates = _candidates(value)
    except phonenumbers.NumberParseException:
        raise ValueError(PHONE_INVALID) from None
    if not candidates:
        raise ValueError(PHONE_INVALID)
    allowed = set(_regions())
    local = [n for n in candidates if phonenumbers.region_code_for_number(n) in allowed]
    if not local:
        raise ValueError(PHONE_FOREIGN)
    mobiles = [n for n in local if phonenumbers.number_type(n) in _MOBILE_TYPES]
    if not mobiles:
        if any(phonenumbers.number_type(n) == PhoneNumberType.FIXED_LINE for n in local):
            raise ValueError(PHONE_LANDLINE)
        raise ValueError(PHONE_NOT_MOBILE)
    numbers = {phonenumbers.format_number(n, PhoneNumberFormat.E164) for n in mobiles}
    if len(numbers) > 1:
        raise ValueError(PHONE_AMBIGUOUS)
    return numbers.pop()


def mask_email(value: str, mask: str = MASK) -> str:
    """ "claire.martin@example.fr" -> "c•••@e•••.fr": enough to recognize, not to read.

    ``mask``: another hiding character where "•" cannot go (an SMS keeps to the GSM alphabet)."""
    local, _, domain = value.rpartition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    masked_domain = f"{name[:1]}{mask * 3}" + (f".{tld}" if tld else "")
    return f"{local[:1]}{mask * 3}@{masked_domain}"


def mask_phone(value: str, mask: str = MASK) -> str:
    """ "+33611223344" -> "06 •• •• •• 44"; "+590690123456" -> "0690 •• •• 56"."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return mask * 4 + value[-2:]
    if phonenumbers.region_code_for_number(number) in set(_regions()):
        formatted = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    else:
        formatted = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    groups = [group for group in re.split(r"[^\d+]+", formatted) if group]
    if len(groups) < 3:
        digits = "".join(groups)
        return digits[:2] + mask * max(len(digits) - 4, 1) + digits[-2:]
    first, middle, last = groups[0], groups[1:-1], groups[-1]
    masked = [first, *(mask * len(group) for group in middle), mask * (len(last) - 2) + last[-2:]]
    if first.startswith("+") and len(middle) > 1:
        # International format: keep the country and the first group, mask the rest.
        masked[1] = middle[0]
    return " ".join(masked)


def mask_destination(channel: str, value: str, mask: str = MASK) -> str:
    return mask_email(value, mask) if channel == ContactChannel.EMAIL else mask_phone(value, mask)
