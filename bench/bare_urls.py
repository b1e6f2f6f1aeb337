"""Django's stock LoginView and a minimal home page, for the benchmark's "bare" server."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path


def healthz(request):
    return JsonResponse({"status": "ok"})


@login_required
def home(request):
    # The only personal datum the benchmark's client checks: the person's name.
    return render(request, "bare/home.html", {"person": request.user.person})


urlpatterns = [
    path("healthz", healthz),
    path("bench/connexion-nue/", LoginView.as_view(template_name="bare/signin.html"), name="bench_bare_signin"),
    path("mon-compte/", home, name="bench_bare_home"),
]
