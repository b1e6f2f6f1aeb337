"""The sessions page: every open session of the account, end one or all."""

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from moncompte.accounts.sessions import session_end, sessions_active, sessions_end_all
from moncompte.web.actors import actor_of


@require_GET
def sessions_view(request):
    current_key = request.session.session_key
    sessions = sessions_active(actor=actor_of(request))
    return render(request, "web/sessions.html", {"sessions": sessions, "current_key": current_key})


@require_POST
def session_end_view(request, session_id: int):
    ended = session_end(actor=actor_of(request), session_id=session_id)
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
        actor=actor_of(request), except_session_key=None if include_current else current_key, reason="ended_by_person"
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
