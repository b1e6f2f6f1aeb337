"""The home page of a signed-in person: at the top, what they can do now (the procedures in
progress, the Caf's requests waiting for an answer, the last payment, a button to start a
procedure); then their own data and what the policy lets them see of their files.

The most requested page of the service: every read is one selector of a domain app, each a
query or two, none growing with the household or the history (tests/web/test_home_dashboard.py
counts them).
"""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.caf_requests.selectors import caf_requests_waiting
from moncompte.households.selectors import home_files, separation_notices
from moncompte.procedures.selectors import drafts_in_progress
from moncompte.web.actors import actor_of
from moncompte.web.errors import refusals_as_404

# How many drafts and Caf's requests the dashboard lists (the rest: "Voir toutes...").
DASHBOARD_ITEMS = 3


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
    drafts, drafts_count = drafts_in_progress(actor=actor, limit=DASHBOARD_ITEMS)
    waiting = caf_requests_waiting(actor=actor)
    context = {
        "person": actor.person,
        "files": files,
        "contacts": contacts,
        "separations": separations,
        "drafts": drafts,
        "drafts_count": drafts_count,
        "caf_requests": waiting[:DASHBOARD_ITEMS],
        "caf_requests_count": len(waiting),
        "last_payment": _last_payment(files),
    }
    return render(request, "web/home.html", context)


def _last_payment(files):
    """The latest payment of the files the person may see (SEE_DOSSIER: the overview is there
    only then), already read by ``home_files``: no query of its own."""
    payments = [f.overview.payments[0] for f in files if f.overview is not None and f.overview.payments]
    return max(payments, key=lambda p: (p.paid_on, p.pk), default=None)
