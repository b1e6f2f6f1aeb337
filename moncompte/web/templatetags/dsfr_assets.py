"""The DSFR's style sheets, icons and scripts, rendered once per process.

django-dsfr's ``dsfr_css``, ``dsfr_favicon`` and ``dsfr_js`` render a template and look each
file up in the static files manifest on every page (about 0.25 ms of CPU a page, measured by
bench/signin.py), although their HTML is the same for every page while the process runs. These
tags give the same HTML, rendered by django-dsfr's own templates the first time and kept.
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from dsfr.templatetags import dsfr_tags

register = template.Library()

_rendered: dict[tuple, SafeString] = {}


def _once(name: str, template_name: str, context: dict) -> SafeString:
    # Keyed on what the URLs depend on, so that a test overriding the static settings is served right.
    key = (name, settings.STATIC_URL, repr(settings.STORAGES.get("staticfiles")), settings.DEBUG)
    if key not in _rendered:
        _rendered[key] = mark_safe(render_to_string(template_name, context))  # noqa: S308 (django-dsfr's templates)
    return _rendered[key]


@register.simple_tag
def dsfr_css_once() -> SafeString:
    """``{% dsfr_css %}``, rendered once."""
    return _once("css", "dsfr/global_css.html", dsfr_tags.dsfr_css())


@register.simple_tag
def dsfr_favicon_once() -> SafeString:
    """``{% dsfr_favicon %}``, rendered once."""
    return _once("favicon", "dsfr/favicon.html", {})


@register.simple_tag
def dsfr_js_once() -> SafeString:
    """``{% dsfr_js %}`` (without a nonce: the scripts are files of our origin), rendered once."""
    return _once("js", "dsfr/global_js.html", dsfr_tags.dsfr_js(None))
