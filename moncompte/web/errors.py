"""Error pages, and how the web maps the domain's refusals (moncompte.core.errors).

A ``DomainError`` becomes an error of the form it concerns (its field, else the whole form);
``NotAllowed`` becomes "not found" (404, never 403: a refusal does not tell that the thing
exists), by ``refusals_as_404`` on a view or by ``NotAllowedMiddleware`` for every view.
"""

import functools

from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render

from moncompte.core.errors import DomainError, NotAllowed


def add_domain_error(form, error: DomainError) -> None:
    """Show a service's refusal in ``form``: on its field when the form has it, else on top."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def http404_for(error: NotAllowed) -> Http404:
    return Http404(error.message)


def refusals_as_404(view):
    """The view answers 404 where the policy says no (a NotAllowed from a service or selector)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotAllowed as error:
            raise http404_for(error) from None

    return wrapped


def not_found(request, exception=None):
    return render(request, "web/error.html", {"title": "Page non trouvée", "code": 404}, status=404)


def bad_request(request, exception=None):
    return render(request, "web/error.html", {"title": "Demande incorrecte", "code": 400}, status=400)


def forbidden(request, exception=None):
    return render(request, "web/error.html", {"title": "Accès refusé", "code": 403}, status=403)


def server_error(request):
    return render(request, "web/error.html", {"title": "Erreur inattendue", "code": 500}, status=500)


@login_not_required
def csrf_failure(request, reason=""):
    return render(request, "web/csrf_failure.html", status=403)
