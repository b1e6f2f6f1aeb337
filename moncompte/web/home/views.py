"""The home page of a signed-in person: their own data and what the policy lets them see of their files."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.households.selectors import home_files, separation_notices
from moncompte.web.actors import actor_of
from moncompte.web.errors import refusals_as_404


@require_GET
@refusals_as_404
def home_view(request):
    actor = actor_of(request)
    # The files' content comes only from the selector, where the policy decides on each file.
    files = home_files(actor=actor)
    shown = [f.overview.dossier for f in files if f.overview is not None]
    for dossier in shown or [None]:
        journal_record(action=JournalAction.HOME_VIEW, actor=actor, dossier=dossier)
    contacts = list(request.user.contacts.all())
    # Issue 9: a spouse who left is told of their separation (their own data, nothing else of the file).
    separations = separation_notices(actor=actor, former_only=True)
    context = {"person": actor.person, "files": files, "contacts": contacts, "separations": separations}
    return render(request, "web/home.html", context)
