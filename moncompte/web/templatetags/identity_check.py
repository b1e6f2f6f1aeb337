"""The delay of an identity check as announced to the person (MONCOMPTE_IDENTITY_CHECK_WORKING_DAYS)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def identity_check_working_days() -> int:
    return settings.MONCOMPTE_IDENTITY_CHECK_WORKING_DAYS
