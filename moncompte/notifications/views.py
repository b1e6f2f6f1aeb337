"""The development outbox page: what would have been sent, for demos and local testing."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from moncompte.notifications.crypto import UnsealError
from moncompte.notifications.models import Message, OutboxEntry

PAGE_SIZE = 50


def outbox_enabled() -> bool:
    """Only with DEBUG or the demo mode on (make run), never in production, checked at each
    request (not at URL loading)."""
    return (bool(settings.DEBUG) or bool(settings.MONCOMPTE_DEMO)) and not settings.PRODUCTION


# Reading codes sent to anyone is the point of this page on a laptop: no sign-in, DEBUG only.
# The answer is private and never stored (PersonalResponseHeadersMiddleware).
@login_not_required
@require_GET
def dev_messages_view(request):
    if not outbox_enabled():
        raise Http404
    entries = []
    for entry in OutboxEntry.objects.order_by("-created_at", "-id")[:PAGE_SIZE]:
        try:
            body = entry.get_body()
        except UnsealError:
            body = "(illisible : la clé MONCOMPTE_MESSAGE_KEY a changé)"
        entries.append({"entry": entry, "body": body})
    messages = Message.objects.order_by("-created_at", "-id")[:PAGE_SIZE]
    return render(request, "notifications/dev_messages.html", {"entries": entries, "messages_sent": messages})
