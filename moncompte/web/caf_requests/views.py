"""The Caf's requests: the list (/mon-compte/demandes-de-la-caf/), one request with its history
and the answer form, and the files of the answers (docs/caf-requests.md).

Every read goes through moncompte.caf_requests.selectors with the signed-in person: a request
they may not see answers 404, whatever its number. The answer's files are cut off while they
arrive (each past MONCOMPTE_CAF_REQUEST_MAX_BYTES, the sixth at all), which needs the upload
handler in place before anything reads the body: CSRF is checked after it, as on the identity
document page (moncompte.web.signup.views).
"""

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.caf_requests.models import CafRequest
from moncompte.caf_requests.selectors import caf_request_history, caf_requests_for
from moncompte.caf_requests.services import (
    MAX_FILES,
    MESSAGE_TOO_MANY,
    CafRequestError,
    caf_request_answer,
    caf_request_attachment_open,
    caf_request_max_bytes,
    caf_request_viewed,
    too_large_message,
)
from moncompte.core.errors import NotAllowed
from moncompte.web.actors import actor_of
from moncompte.web.caf_requests.forms import AnswerForm
from moncompte.web.caf_requests.uploads import AnswerUploadHandler
from moncompte.web.errors import add_domain_error, refusals_as_404


@require_GET
def caf_requests_view(request):
    actor = actor_of(request)
    rows = caf_requests_for(actor=actor)
    return render(
        request,
        "web/caf_requests/list.html",
        {
            "waiting": [r for r in rows if r.state == CafRequest.State.WAITING],
            "done": [r for r in rows if r.state != CafRequest.State.WAITING],
            "me": actor.subject,
        },
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def caf_request_view(request, pk: int):
    handler = AnswerUploadHandler(request, limit=caf_request_max_bytes(), max_files=MAX_FILES)
    request.upload_handlers.insert(0, handler)
    return _caf_request_view(request, pk, handler)


@csrf_protect
@refusals_as_404
def _caf_request_view(request, pk: int, handler: AnswerUploadHandler):
    actor = actor_of(request)
    # Read before the form: a request the person may not see is not found, posted to or not.
    history = caf_request_history(actor=actor, request_id=pk)
    caf_request = history.request
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST, request.FILES)
        status = 400
        if handler.exceeded:
            form.add_error("files", too_large_message())
        elif handler.too_many:
            form.add_error("files", MESSAGE_TOO_MANY)
        elif form.is_valid():
            try:
                caf_request_answer(
                    actor=actor,
                    request=caf_request,
                    text=form.cleaned_data["text"],
                    files=form.cleaned_data["files"],
                )
            except NotAllowed:
                raise
            except CafRequestError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, "Votre réponse a bien été envoyée à la Caf.")
                return redirect("web:caf_request", pk=caf_request.pk)
    else:
        form = AnswerForm()
        caf_request_viewed(actor=actor, request=caf_request)
    return render(
        request,
        "web/caf_requests/detail.html",
        {
            "caf_request": caf_request,
            "answers": history.answers,
            "form": form,
            "me": actor.subject,
        },
        status=status,
    )


@require_GET
@refusals_as_404
def caf_request_attachment_view(request, pk: int, attachment_id: int):
    attachment, handle = caf_request_attachment_open(
        actor=actor_of(request), request_id=pk, attachment_id=attachment_id
    )
    return FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
