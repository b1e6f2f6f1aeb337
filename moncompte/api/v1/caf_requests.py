"""/api/v1/caf-requests/: the Caf's requests the acting person may see, their history, the
answer with its files, and the files' download (docs/caf-requests.md).

Every read goes through moncompte.caf_requests.selectors with the token's person: a request they
may not see is not found (404), whatever its number, listed or posted to. An answer is
the service's (moncompte.caf_requests.services.caf_request_answer: the text, 1 to 5 files, each
read from its content, rewritten and scanned; one refused file refuses the answer). As on the
page, the files are cut off while they arrive (moncompte.web.caf_requests.uploads: each past
MONCOMPTE_CAF_REQUEST_MAX_BYTES, the sixth at all), so the upload handler is put in place before
anything reads the body, which the token's check already does.
"""

from __future__ import annotations

from django.http import FileResponse
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from moncompte.api.base import ApiGenericView, ApiView
from moncompte.api.v1.caf_request_serializers import (
    AnsweredSerializer,
    AnswerInputSerializer,
    CafRequestDetailSerializer,
    CafRequestSerializer,
)
from moncompte.api.v1.procedure_serializers import error_responses
from moncompte.api.v1.procedures import JsonRefusals
from moncompte.caf_requests.models import CafRequest, CafRequestAnswer
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
from moncompte.web.caf_requests.uploads import AnswerUploadHandler

TAG = ["Demandes de la Caf"]


def _addressee(caf_request: CafRequest, me) -> dict:
    if caf_request.addressed_to_id is None:
        return {"who": "household", "name": None}
    if me is not None and caf_request.addressed_to_id == me.pk:
        return {"who": "you", "name": None}
    return {"who": "member", "name": str(caf_request.addressed_to.display_name)}


def _request(caf_request: CafRequest, me) -> dict:
    return {
        "id": caf_request.pk,
        "kind": caf_request.kind,
        "kind_label": caf_request.get_kind_display(),
        "title": caf_request.title,
        "state": caf_request.state,
        "state_label": caf_request.get_state_display(),
        "late": caf_request.is_late(),
        "open": caf_request.is_open,
        "addressed_to": _addressee(caf_request, me),
        "created_at": caf_request.created_at,
        "created_by": caf_request.created_by_label,
        "due_on": caf_request.due_on,
        "answered_at": caf_request.answered_at,
    }


def _answer(answer: CafRequestAnswer, me) -> dict:
    mine = me is not None and answer.author_id == me.pk
    return {
        "id": answer.pk,
        "author": "vous" if mine else str(answer.author.display_name),
        "by_you": mine,
        "text": answer.text,
        "created_at": answer.created_at,
        "files": [
            {
                "id": attachment.pk,
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "url": reverse(
                    "api_v1:caf_request_attachment",
                    kwargs={"pk": answer.request_id, "attachment_id": attachment.pk},
                ),
            }
            for attachment in answer.attachments.all()
        ],
    }


class CafRequestsView(ApiGenericView):
    serializer_class = CafRequestSerializer  # what OPTIONS describes (DRF's metadata)

    @extend_schema(
        tags=TAG,
        operation_id="caf_requests_list",
        summary="Les demandes de la Caf : celles qui attendent votre réponse d'abord",
        responses={200: CafRequestSerializer(many=True), **error_responses(401, 403, 404, 429)},
    )
    def get(self, request):
        me = self.actor.subject
        page = self.paginate_queryset(caf_requests_for(actor=self.actor))
        return self.get_paginated_response(CafRequestSerializer([_request(r, me) for r in page], many=True).data)


class CafRequestView(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="caf_requests_read",
        summary="Une demande de la Caf et l'historique des réponses",
        responses={200: CafRequestDetailSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, pk: int):
        actor = self.actor
        history = caf_request_history(actor=actor, request_id=pk)
        caf_request = history.request
        caf_request_viewed(actor=actor, request=caf_request)
        body = {
            **_request(caf_request, actor.subject),
            "body": caf_request.body,
            "file_number": caf_request.dossier.numero,
            "caf": str(caf_request.dossier.caf),
            "answers": [_answer(answer, actor.subject) for answer in history.answers],
        }
        return Response(CafRequestDetailSerializer(body).data)


class CafRequestAnswersView(ApiView):
    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        # Before DRF wraps the request: the token's check reads the body (request.POST) already.
        self.upload_handler = AnswerUploadHandler(request, limit=caf_request_max_bytes(), max_files=MAX_FILES)
        request.upload_handlers.insert(0, self.upload_handler)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        operation_id="caf_requests_answer",
        summary="Répondre à une demande de la Caf : un texte et/ou des fichiers",
        request={"multipart/form-data": AnswerInputSerializer},
        responses={201: AnsweredSerializer, **error_responses(400, 401, 403, 404, 413, 415, 429)},
    )
    def post(self, request, pk: int):
        actor = self.actor
        # Read before the files are looked at: a request the person may not see is not found.
        history = caf_request_history(actor=actor, request_id=pk)
        if self.upload_handler.exceeded:
            raise CafRequestError(too_large_message(), code="too_large", field="files")
        if self.upload_handler.too_many:
            raise CafRequestError(MESSAGE_TOO_MANY, code="too_many", field="files")
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = caf_request_answer(
            actor=actor,
            request=history.request,
            text=serializer.validated_data.get("text", ""),
            files=serializer.validated_data.get("files", []),
        )
        body = {"request": _request(history.request, actor.subject), "answer": _answer(answer, actor.subject)}
        return Response(AnsweredSerializer(body).data, status=status.HTTP_201_CREATED)


class CafRequestAttachmentView(ApiView):
    content_negotiation_class = JsonRefusals

    @extend_schema(
        tags=TAG,
        operation_id="caf_requests_file",
        summary="Un fichier d'une réponse, à télécharger",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request, pk: int, attachment_id: int):
        attachment, handle = caf_request_attachment_open(actor=self.actor, request_id=pk, attachment_id=attachment_id)
        return FileResponse(
            handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
        )


# The URLs (included at the marker of moncompte/api/v1/urls.py) ----------------------------------

urlpatterns = [
    path("caf-requests/", CafRequestsView.as_view(), name="caf_requests"),
    path("caf-requests/<int:pk>/", CafRequestView.as_view(), name="caf_request"),
    path("caf-requests/<int:pk>/answers/", CafRequestAnswersView.as_view(), name="caf_request_answers"),
    path(
        "caf-requests/<int:pk>/files/<int:attachment_id>/",
        CafRequestAttachmentView.as_view(),
        name="caf_request_attachment",
    ),
]
