"""French writing in templates: dates ("1er décembre 2026"), elision ("qu'enfant"), place names.

A builtin library (config/settings.py, TEMPLATES builtins): every template, the messages' too,
uses these filters without loading them.
"""

from __future__ import annotations

import datetime
import unicodedata

from django import template
from django.template.defaultfilters import date as django_date

from moncompte.identity.geography import birth_country_label, birth_place_label

register = template.Library()

# Words that lose their last vowel before a vowel sound ("que enfant" -> "qu'enfant"). A word
# starting with "h" keeps them: "h aspiré" or not is a matter of the word, not of the letter.
_ELIDED = {"que", "de", "le", "la", "je", "me", "te", "se", "ne", "ce", "jusque", "lorsque", "puisque"}
_VOWELS = set("aeiouy")


def _day_first(value: datetime.date | datetime.datetime, date_format: str) -> str:
    """The format with its day ("j") written "1er" on the first of the month (unescaped "j" only)."""
    if value.day != 1:
        return date_format
    out, escaped = [], False
    for char in date_format:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "j":
            out.append(r"1\e\r")
        else:
            out.append(char)
    return "".join(out)


@register.filter(expects_localtime=True, is_safe=False)
def date_fr(value, date_format: str = "j F Y") -> str:
    """Django's ``date`` filter, with the French ordinal of the first day: "1er décembre 2026"."""
    if not isinstance(value, datetime.date):
        return django_date(value, date_format)
    return django_date(value, _day_first(value, date_format))


def _starts_with_vowel(text: str) -> bool:
    first = unicodedata.normalize("NFKD", text.lstrip()[:1].casefold())[:1]
    return first in _VOWELS


@register.filter(is_safe=False)
def elide(text, word: str) -> str:
    """``word`` then ``text``, elided when French wants it: "enfant"|elide:"que" -> "qu'enfant",
    "responsable"|elide:"que" -> "que responsable"."""
    text = str(text or "")
    if word.casefold() in _ELIDED and _starts_with_vowel(text):
        return f"{word[:-1]}'{text.lstrip()}"
    return f"{word} {text}"


@register.filter
def commune_name(code) -> str:
    """A birth commune's INSEE code shown by name: "75115" -> "Paris 15e Arrondissement (75)"."""
    return birth_place_label(code)


@register.filter
def country_name(code) -> str:
    """A birth country's INSEE code shown by name: "99350" -> "Maroc"."""
    return birth_country_label(code)
