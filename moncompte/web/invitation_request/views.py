"""Asking for an invitation (/demander-une-invitation/). The rules are in
moncompte.households.invitation_requests.

A valid request is answered by the same page whatever was typed, no sooner than the minimum
duration of a request; the page says nothing of any file or person. Only a malformed NIR or
date, or a throttled client, gets the form again, which tells nothing either.
"""

import time

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from moncompte.households.invitation_requests import invitation_request, request_min_seconds
from moncompte.web.actors import actor_of
from moncompte.web.flows import answer_no_sooner
from moncompte.web.invitation_request.forms import InvitationRequestForm


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_request_view(request):
    form = InvitationRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            started = time.monotonic()
            result = invitation_request(
                actor=actor_of(request),
                identifier=form.cleaned_data["identifier"],
                birth_date=form.cleaned_data["birth_date"],
            )
            if result.throttled:
                form.add_error(None, result.wait_message())
                return render(request, "web/invitation_request/request.html", {"form": form}, status=429)
            answer_no_sooner(started, request_min_seconds())
            return render(request, "web/invitation_request/sent.html")
    return render(request, "web/invitation_request/request.html", {"form": form}, status=status)
