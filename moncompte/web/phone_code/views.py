"""/mon-compte/code-telephone/: the phone code that identifies the person when they call the Caf.

"Afficher un code" shows a new code once, in the answer to the POST (it is never stored in
clear, so it cannot be shown again: the page offers a new one); "Recevoir le code par SMS"
sends it to the account's validated mobile only (moncompte.telephony.services)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from moncompte.core.errors import DomainError, Throttled
from moncompte.telephony.selectors import phone_code_sms_destination
from moncompte.telephony.services import phone_code_issue
from moncompte.web.actors import actor_of
from moncompte.web.phone_code.forms import SMS, PhoneCodeForm


def _page(request, actor, *, status: int = 200, **context):
    return render(
        request,
        "web/phone_code/page.html",
        {
            "sms_destination": phone_code_sms_destination(actor=actor),
            "minutes": settings.MONCOMPTE_PHONE_CODE_MINUTES,
            "code": None,
            "expires_at": None,
            "error": None,
            **context,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def phone_code_view(request):
    actor = actor_of(request)
    if request.method == "GET":
        return _page(request, actor)
    form = PhoneCodeForm(request.POST)
    if not form.is_valid():
        return _page(
            request, actor, status=400, error="Choisissez « Afficher un code » ou « Recevoir le code par SMS »."
        )
    by_sms = form.cleaned_data["envoi"] == SMS
    destination = phone_code_sms_destination(actor=actor) if by_sms else None
    try:
        phone_code, code = phone_code_issue(actor=actor, by_sms=by_sms)
    except DomainError as error:
        return _page(request, actor, status=429 if isinstance(error, Throttled) else 400, error=error.message)
    if by_sms:
        messages.success(
            request,
            f"Un code téléphone a été envoyé par SMS au {destination}. "
            f"Il est valable {settings.MONCOMPTE_PHONE_CODE_MINUTES} minutes.",
        )
        return redirect("web:phone_code")
    # Shown in this answer only (the page is private and never stored: PersonalResponseHeadersMiddleware).
    return _page(request, actor, code=f"{code[:3]} {code[3:]}", expires_at=phone_code.expires_at)
