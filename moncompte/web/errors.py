"""Error pages, and how the web maps the domain's refusals (moncompte.core.errors).

A ``DomainError`` becomes an error of the form it concerns (its field, else the whole form);
``NotAllowed`` becomes "not found" (404, never 403: a refusal does not tell that the thing
exists), by ``refusals_as_404`` on a view or by ``NotAllowedMiddleware`` for every view.

The error pages never read the request's session or user: a 500 may be answered precisely
because the session could not be read (a database or cache outage, a broken cookie), and an
error page that then read it again would fail in turn, leaving the client with the WSGI server's
bare 500. They are rendered without the request (no context processor runs) from
``web/error_base.html``, which names nobody.
"""

import functools

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string

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


def _error_page(template: str, status: int, context: dict | None = None) -> HttpResponse:
    # No request given to the template: neither the session, nor the user, nor the messages are read.
    return HttpResponse(render_to_string(template, context), status=status)


def not_found(request, exception=None):
    return _error_page("web/error.html", 404, {"title": "Page non trouvée", "code": 404})


def bad_request(request, exception=None):
    return _error_page("web/error.html", 400, {"title": "Demande incorrecte", "code": 400})


def forbidden(request, exception=None):
    return _error_page("web/error.html", 403, {"title": "Accès refusé", "code": 403})


def method_not_allowed_page() -> bytes:
    """The body of a 405 (Django's ``require_POST`` and friends answer an empty one, a blank page)."""
    return render_to_string("web/error.html", {"title": "Adresse à ne pas ouvrir directement", "code": 405}).encode()


def server_error(request):
    return _error_page("web/error.html", 500, {"title": "Erreur inattendue", "code": 500})


@login_not_required
def csrf_failure(request, reason=""):
    return _error_page("web/csrf_failure.html", 403)
