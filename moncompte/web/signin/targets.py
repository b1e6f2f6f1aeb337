"""Where a sign-in goes next: the ``next`` parameter, accepted only as a path of this site.

``next`` comes from the query string or the form, so from anyone (a link in a phishing mail,
say). It is followed only when it is a local path: one leading "/", not "//" nor "/\\" (which
browsers read as another host), no backslash at all, no scheme, no host, nothing but printable
characters (no control characters, no spaces, no line breaks), at most MAX_LENGTH characters.
Anything else is ignored, and the person goes to their home page. The answer is built as a
plain redirect to that path: never ``redirect()``, which would take a word without a slash
("mon-compte") for a view name and raise NoReverseMatch.
"""

from django.conf import settings
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

MAX_LENGTH = 1000


def local_path(value: object) -> str:
    """``value`` when it is a local path as above, else ""."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return ""
    if not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value:
        return ""
    # isprintable() is False for control and format characters, line and paragraph separators.
    if not value.isprintable() or any(c.isspace() for c in value):
        return ""
    # Belt and braces: no scheme and no host, as Django itself reads URLs.
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return ""
    return value


def home_path() -> str:
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def after_signin(value: object) -> str:
    """The path to go to once signed in: ``value`` when local, else the home page."""
    return local_path(value) or home_path()
