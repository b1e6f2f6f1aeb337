"""Pages for usagers. Thin: parse the request, call a service or the policy, render."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moncompte.access.policy import Action, Standing, decide_for_standing, memberships_with_standing
from moncompte.accounts.sessions import session_end, sessions_active, sessions_end_all
from moncompte.accounts.signin import client_address, remember_device, signin, signout
from moncompte.audit.services import journal_record
from moncompte.households.selectors import dossier_overview
from moncompte.web.forms import SigninForm

logger = logging.getLogger(__name__)


def _wait_message(seconds: int) -> str:
    if seconds < 60:
        return f"Trop de tentatives de connexion. Réessayez dans {seconds} seconde{'s' if seconds > 1 else ''}."
    minutes = (seconds + 59) // 60
    return f"Trop de tentatives de connexion. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."


@login_not_required
@require_http_methods(["GET", "POST"])
def signin_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)

    form = SigninForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            outcome = signin(request=request, identifier=identifier, password=form.cleaned_data["password"])
            if outcome.succeeded:
                response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
                remember_device(response, identifier)
                return response
            if outcome.new_identifier is not None:
                form.add_error(
                    None,
                    "Votre identifiant a changé : un numéro de sécurité sociale vous a été attribué. "
                    f"Connectez-vous désormais avec le numéro {outcome.new_identifier.display()}.",
                )
                status = 400
            elif outcome.wait_seconds:
                form.add_error(None, _wait_message(outcome.wait_seconds))
                status = 429
            else:
                form.add_error(
                    None,
                    "Numéro de sécurité sociale, identifiant provisoire ou mot de passe incorrect.",
                )
                status = 401
        else:
            status = 400
    return render(request, "web/signin.html", {"form": form, "next": next_url}, status=status)


@login_not_required
@require_POST
def signout_view(request):
    signout(request=request)
    response = redirect(reverse("web:signin") + "?deconnecte=1")
    return response


@require_GET
def home_view(request):
    person = request.user.person
    files = []
    for member, standing in memberships_with_standing(person):
        if standing in (Standing.FORMER_SPOUSE, Standing.STRANGER):
            # A membership that has ended gives nothing to see on the file.
            continue
        overview = dossier_overview(member.dossier) if decide_for_standing(standing, Action.SEE_DOSSIER) else None
        files.append(
            {
                "member": member,
                "overview": overview,
                "can_separate": decide_for_standing(standing, Action.DECLARE_SEPARATION).allowed,
            }
        )
    shown = [f["member"].dossier for f in files if f["overview"] is not None]
    for dossier in shown or [None]:
        journal_record(
            action="home.view",
            actor_person=person,
            subject_person=person,
            dossier=dossier,
            session_key=request.session.session_key,
            client_address=client_address(request),
        )
    contacts = list(request.user.contacts.all())
    return render(request, "web/home.html", {"person": person, "files": files, "contacts": contacts})


@login_not_required
@require_GET
def root_view(request):
    return redirect("web:home" if request.user.is_authenticated else "web:signin")


@login_not_required
def csrf_failure(request, reason=""):
    return render(request, "web/csrf_failure.html", status=403)


@require_GET
def sessions_view(request):
    current_key = request.session.session_key
    sessions = sessions_active(request.user)
    return render(request, "web/sessions.html", {"sessions": sessions, "current_key": current_key})


@require_POST
def session_end_view(request, session_id: int):
    ended = session_end(account=request.user, session_id=session_id, actor_session_key=request.session.session_key)
    if ended is None:
        raise Http404
    if ended.session_key == request.session.session_key:
        logout(request)
        return redirect(reverse("web:signin") + "?deconnecte=1")
    messages.success(request, "La session a été fermée.")
    return redirect("web:sessions")


@require_POST
def sessions_end_all_view(request):
    include_current = request.POST.get("inclure_cet_appareil") == "1"
    current_key = request.session.session_key
    count = sessions_end_all(
        account=request.user, except_session_key=None if include_current else current_key, reason="ended_by_person"
    )
    if include_current:
        logout(request)
        return redirect(reverse("web:signin") + "?deconnecte=1")
    plural = "s" if count > 1 else ""
    messages.success(
        request,
        f"{count} autre{plural} session{plural} fermée{plural}." if count else "Aucune autre session n'était ouverte.",
    )
    return redirect("web:sessions")
