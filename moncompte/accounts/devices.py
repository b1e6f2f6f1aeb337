"""Human descriptions of where a session comes from: device from the User-Agent, country from
the address (an offline country database shipped with geoip2fast; no request leaves the service).
"""

import functools
import gettext
import ipaddress
import re

_BROWSERS = [
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("Safari", re.compile(r"Safari/")),
]
_SYSTEMS = [
    ("Android", re.compile(r"Android")),
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
]


def describe_device(user_agent: str) -> str:
    """'Firefox sur Windows', or 'Appareil inconnu'."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), None)
    if browser and system:
        return f"{browser} sur {system}"
    return browser or system or "Appareil inconnu"


@functools.cache
def _geoip():
    from geoip2fast import GeoIP2Fast

    return GeoIP2Fast()


@functools.cache
def _french_country_names():
    import pycountry

    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"], fallback=True)


def describe_place(address: str | None) -> str:
    """The country of an address in French, 'Réseau local' for private ones, '' if unknown."""
    if not address:
        return ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if parsed.is_private or parsed.is_loopback or parsed.is_link_local:
        return "Réseau local"
    result = _geoip().lookup(address)
    code = getattr(result, "country_code", "") or ""
    if len(code) != 2 or not code.isalpha():
        return ""
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    return _french_country_names().gettext(country.name) if country else ""
