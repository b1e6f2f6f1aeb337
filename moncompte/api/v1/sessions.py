"""/api/v1/sessions/: my connected devices, web and app, as the page /mon-compte/appareils/ shows
them; end one, or all but this one.

The same functions as the page (moncompte.accounts.sessions): the account's own open sessions
only, a session of anyone else answers 404. The current session is the app's sign-in the token
belongs to (its token family); ending an app's session revokes its tokens, ending a browser's
deletes it from the session store. Session keys are never shown.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from moncompte.accounts.sessions import session_end, sessions_active, sessions_end_all
from moncompte.api.base import ApiGenericView, ApiView
from moncompte.api.v1.serializers import JSON, StrictBooleanField
from moncompte.core.actors import Channel
from moncompte.core.errors import NotAllowed

TAG = "Mes appareils connectés"


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.ChoiceField(choices=Channel.choices, help_text="web (navigateur) ou api (application).")
    channel_label = serializers.CharField(source="get_channel_display")
    device = serializers.CharField(help_text="L'appareil, tel qu'il se décrit (vide s'il est inconnu).")
    place = serializers.CharField(help_text="Lieu approximatif (vide s'il est inconnu).")
    created_at = serializers.DateTimeField(help_text="Connexion.")
    last_seen_at = serializers.DateTimeField(help_text="Dernière activité.")
    current = serializers.BooleanField(help_text="La session de cette application.")


class EndAllSerializer(serializers.Serializer):
    include_current = StrictBooleanField(
        default=False, help_text="Fermer aussi cette session (« me déconnecter partout »)."
    )


class EndAllResultSerializer(serializers.Serializer):
    ended = serializers.IntegerField(help_text="Nombre de sessions fermées.")
    message = serializers.CharField()


def _ended_message(count: int, include_current: bool) -> str:
    if include_current:
        return "Vous êtes déconnecté(e) partout."
    plural = "s" if count > 1 else ""
    if not count:
        return "Aucune autre session n'était ouverte."
    return f"{count} autre{plural} session{plural} fermée{plural}."


class SessionsView(ApiGenericView):
    serializer_class = SessionSerializer

    @extend_schema(
        operation_id="sessions_list",
        summary="Mes appareils connectés",
        description="Les sessions ouvertes sur votre compte (navigateurs et applications), la plus récente d'abord.",
        responses={200: SessionSerializer(many=True)},
        tags=[TAG],
    )
    def get(self, request):
        current = self.actor.session_key
        sessions = sessions_active(actor=self.actor)
        for record in sessions:
            record.current = current is not None and record.session_key == current
        page = self.paginate_queryset(sessions)
        return self.get_paginated_response(SessionSerializer(page, many=True).data)


class SessionView(ApiView):
    @extend_schema(
        operation_id="sessions_end",
        summary="Fermer une session",
        description="Fermer la session de cette application la déconnecte : ses jetons ne sont plus valables.",
        request=None,
        responses={204: OpenApiResponse(description="Fermée.")},
        tags=[TAG],
    )
    def delete(self, request, session_id: int):
        if session_end(actor=self.actor, session_id=session_id) is None:
            raise NotAllowed()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionsEndAllView(ApiView):
    @extend_schema(
        operation_id="sessions_end_all",
        summary="Fermer toutes les autres sessions",
        request={JSON: EndAllSerializer},
        responses={200: EndAllResultSerializer},
        tags=[TAG],
    )
    def post(self, request):
        form = EndAllSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        include_current = form.validated_data["include_current"]
        count = sessions_end_all(
            actor=self.actor,
            except_session_key=None if include_current else self.actor.session_key,
            reason="ended_by_person",
        )
        body = {"ended": count, "message": _ended_message(count, include_current)}
        return Response(EndAllResultSerializer(body).data)


urlpatterns = [
    path("sessions/", SessionsView.as_view(), name="sessions"),
    path("sessions/end-all/", SessionsEndAllView.as_view(), name="sessions_end_all"),
    path("sessions/<int:session_id>/", SessionView.as_view(), name="session"),
]
