"""« Identifiant oublié » (/identifiant-oublie/). The rules are in
moncompte.accounts.identifier_reminder.

A valid request is answered by the same page whatever was typed (the typed contact is not even
shown again), no sooner than the minimum duration of a request; only a malformed contact or a
throttled client gets the form again, which tells nothing about any account either.
"""

import time

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from moncompte.accounts.identifier_reminder import identifier_reminder_request, reminder_min_seconds
from moncompte.web.actors import actor_of
from moncompte.web.flows import answer_no_sooner
from moncompte.web.identifier_reminder.forms import ReminderForm


@login_not_required
@require_http_methods(["GET", "POST"])
def identifier_reminder_view(request):
    form = ReminderForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            started = time.monotonic()
            channel, destination = form.cleaned_data["contact"]
            result = identifier_reminder_request(actor=actor_of(request), channel=channel, destination=destination)
            if result.throttled:
                # The same for every contact, and nothing was done: no need to wait.
                form.add_error(None, result.wait_message())
                return render(request, "web/identifier_reminder/request.html", {"form": form}, status=429)
            answer_no_sooner(started, reminder_min_seconds())
            return render(request, "web/identifier_reminder/sent.html")
    return render(request, "web/identifier_reminder/request.html", {"form": form}, status=status)
