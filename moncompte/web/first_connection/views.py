"""Pages of the first connection of an existing allocataire (/premiere-connexion/).

The steps' state lives in the server-side session only: which file was proved by its legacy
code, then which person by their NIR. Each step refuses to run without the previous one, and
the state dies 30 minutes after the file was proved. The account itself is created by
moncompte.accounts.first_connection, which re-checks everything.

Before the first step the state may hold a numéro allocataire typed on the sign-in page
(``keep_numero``): the first step shows it filled in. It is never put in a URL, and the old code
typed with it is not kept anywhere (the person types it again here).

A refusal's page gets the refusal's code (``refusal``): web/first_connection/_refusal_links.html
shows the ways out that go with it (the invitation request, the account creation, the sign-in).
"""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.accounts.first_connection import (
    FirstConnectionError,
    first_connection_complete,
    first_connection_person,
    legacy_code_verify,
)
from moncompte.accounts.passwords import password_min_length
from moncompte.audit.actions import JournalAction
from moncompte.households.models import Dossier
from moncompte.households.places import PlaceError, caf_for_place
from moncompte.identity.models import Person
from moncompte.web.actors import actor_of
from moncompte.web.first_connection.forms import LegacyCodeForm, NirForm
from moncompte.web.flows import FlowState, render_step
from moncompte.web.forms import NewPasswordForm
from moncompte.web.signin.session import open_web_session

FLOW = FlowState("moncompte_first_connection", max_age=30 * 60)

STEPS = ["Votre dossier", "Votre numéro de sécurité sociale", "Votre mot de passe", "Vos coordonnées"]


def keep_numero(request, numero: str) -> None:
    """Keep a numéro allocataire for the first step (a new state: any earlier one is dropped)."""
    FLOW.start(request, numero=numero)


@login_not_required
@require_GET
def intro_view(request):
    return render(request, "web/first_connection/intro.html")


@login_not_required
@require_http_methods(["GET", "POST"])
def file_view(request):
    if request.method == "POST":
        form = LegacyCodeForm(request.POST)
    else:
        # Only a GET reads the kept numéro: a try does the same work whatever the session holds.
        kept = FLOW.get(request).get("numero", "")
        form = LegacyCodeForm(initial={"numero": kept} if kept else None)
    status = 200
    refusal = ""
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                caf = caf_for_place(form.cleaned_data["place"])
                dossier = legacy_code_verify(
                    actor=actor_of(request),
                    caf=caf,
                    numero=form.cleaned_data["numero"],
                    code=form.cleaned_data["code"],
                )
            except PlaceError as error:
                form.add_error("place", error.message)
            except FirstConnectionError as error:
                form.add_error(error.field, error.message)
                status = error.status
                refusal = error.code
            else:
                # A new session key once the file is proved: a key planted earlier is worthless.
                request.session.cycle_key()
                FLOW.start(request, dossier_id=dossier.id)
                return redirect("web:first_connection_nir")
    return render_step(request, "web/first_connection/file.html", STEPS, 1, {"form": form, "refusal": refusal}, status)


@login_not_required
@require_http_methods(["GET", "POST"])
def nir_view(request):
    state = FLOW.get(request)
    if "dossier_id" not in state:
        return redirect("web:first_connection_file")
    form = NirForm(request.POST or None)
    status = 200
    refusal = ""
    if request.method == "POST":
        status = 400
        if form.is_valid():
            dossier = Dossier.objects.get(pk=state["dossier_id"])
            try:
                person = first_connection_person(
                    actor=actor_of(request), dossier=dossier, identifier=form.cleaned_data["identifier"]
                )
            except FirstConnectionError as error:
                form.add_error(error.field or "identifier", error.message)
                refusal = error.code
            else:
                FLOW.save(request, {**state, "person_id": person.id})
                return redirect("web:first_connection_password")
    return render_step(request, "web/first_connection/nir.html", STEPS, 2, {"form": form, "refusal": refusal}, status)


@login_not_required
@require_http_methods(["GET", "POST"])
def password_view(request):
    state = FLOW.get(request)
    if "person_id" not in state:
        return redirect("web:first_connection_file")
    person = Person.objects.get(pk=state["person_id"])
    form = NewPasswordForm(request.POST or None, person=person)
    status = 200
    refusal = ""
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                account = first_connection_complete(
                    actor=actor_of(request),
                    dossier_id=state["dossier_id"],
                    person_id=person.id,
                    password=form.cleaned_data["password"],
                )
            except FirstConnectionError as error:
                form.add_error(error.field, error.message)
                refusal = error.code
            else:
                FLOW.clear(request)
                open_web_session(request, account, JournalAction.FIRST_CONNECTION_SIGNED_IN)
                return redirect("web:contact_validate")
    return render_step(
        request,
        "web/first_connection/password.html",
        STEPS,
        3,
        {"form": form, "person": person, "min_length": password_min_length(), "refusal": refusal},
        status,
    )
