from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render


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
