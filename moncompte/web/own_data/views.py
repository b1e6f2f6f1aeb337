"""The person's own data: the page, reporting an error, the exports (right of access).

Only the signed-in person's own data, whatever their standing on any file (Action.SEE_OWN_DATA
is given to everyone, on their own part only): nothing here reads another person.
"""

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from moncompte.identity.own_data import (
    RectificationError,
    own_data,
    own_data_export,
    own_data_exported,
    own_data_viewed,
    rectification_request,
)
from moncompte.web.actors import actor_of
from moncompte.web.errors import add_domain_error
from moncompte.web.own_data.forms import RectificationForm

EXPORT_FILENAME = "mes-donnees-mon-compte.json"


def _render_page(request, form: RectificationForm, *, status: int = 200):
    actor = actor_of(request)
    own_data_viewed(actor=actor)
    return render(
        request,
        "web/own_data/page.html",
        {"data": own_data(actor=actor), "person": actor.person, "form": form},
        status=status,
    )


@require_GET
def own_data_view(request):
    return _render_page(request, RectificationForm())


@require_POST
def rectification_view(request):
    form = RectificationForm(request.POST)
    if form.is_valid():
        try:
            rectification_request(
                actor=actor_of(request), field=form.cleaned_data["field"], message=form.cleaned_data["message"]
            )
        except RectificationError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                "Votre signalement a bien été enregistré. Un agent de la Caf va l'examiner ; "
                "vous suivrez sa réponse dans l'historique ci-dessous.",
            )
            return redirect("web:own_data")
    return _render_page(request, form, status=400)


def _export(request, export_format: str) -> dict:
    actor = actor_of(request)
    # Journaled first, so that the export lists itself.
    own_data_exported(actor=actor, export_format=export_format)
    return own_data_export(actor=actor)


@require_GET
def export_json_view(request):
    data = _export(request, "json")
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body.encode(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
    return response


@require_GET
def export_html_view(request):
    return render(request, "web/own_data/export.html", {"data": _export(request, "html")})
