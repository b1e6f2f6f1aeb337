"""The home page of a signed-in person: their own data and what the policy lets them see of their files."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from moncompte.access.policy import Action, Standing, decide_for_standing, memberships_with_standing
from moncompte.accounts.signin import client_address
from moncompte.audit.services import journal_record
from moncompte.households.selectors import dossier_overview


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
