"""``{% franceconnect_button here="signin" %}``: the FranceConnect button, first on the sign-in and
account-creation pages, followed by the "ou" separator (web/franceconnect/_button.html).

Nothing is shown when FranceConnect is off. On the account-creation page reached from
FranceConnect (nobody recognised), the button gives way to a notice: the form was prefilled from
what FranceConnect gave. The ``next`` of the page (a local path) goes along with the button.
"""

from django import template

from moncompte.franceconnect.client import is_enabled
from moncompte.web.franceconnect.state import prefill_identity
from moncompte.web.signin.targets import local_path

register = template.Library()


@register.inclusion_tag("web/franceconnect/_button.html", takes_context=True)
def franceconnect_button(context, here: str = "signin") -> dict:
    request = context.get("request")
    enabled = is_enabled()
    return {
        "enabled": enabled,
        "here": here,
        "next": local_path(context.get("next")),
        "prefilled": bool(enabled and request is not None and prefill_identity(request) is not None),
    }
