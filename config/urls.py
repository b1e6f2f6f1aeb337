from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path


@login_not_required
def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz),
    # Development outbox: 404 unless DEBUG and not production (checked by the view).
    path("dev/messages/", include("moncompte.notifications.urls")),
    path("", include("moncompte.web.urls")),
]

handler404 = "moncompte.web.errors.not_found"
handler500 = "moncompte.web.errors.server_error"
handler400 = "moncompte.web.errors.bad_request"
handler403 = "moncompte.web.errors.forbidden"
