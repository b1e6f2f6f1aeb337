"""/api/v1/delegation/: the autorisation de gestion, as the household and delegation pages show
and change it.

The file is the one of the delegation page: the person's oldest membership on which a delegation
action is allowed (``membership_for``), no file id in any URL. What the person may do is what the
pages offer (``allowed_on_whole_file`` on their standing, as the delegation as it stands allows);
the changes are the same services (moncompte.households.services: the policy asked first, the
password checked by the one re-authentication, the policy asked again on the locked rows, both
spouses told). A person the policy refuses gets 404 (S, M, X, O; R renouncing; S+ granting).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from moncompte.access.policy import Action, allowed_on_whole_file
from moncompte.api.base import ApiView
from moncompte.api.v1.serializers import JSON, PasswordSerializer
from moncompte.core.errors import NotAllowed
from moncompte.households.selectors import Membership, couple_of, membership_for
from moncompte.households.services import (
    DelegationChange,
    delegation_grant,
    delegation_renounce,
    delegation_revoke,
)

TAG = "Autorisation de gestion"
_DELEGATION_ACTIONS = (Action.GRANT_DELEGATION, Action.REVOKE_DELEGATION, Action.RENOUNCE_DELEGATION)


# Serializers ------------------------------------------------------------------------------


class SpouseSerializer(serializers.Serializer):
    display_name = serializers.CharField()
    is_me = serializers.BooleanField()


class DelegationSerializer(serializers.Serializer):
    file_id = serializers.IntegerField(help_text="Le dossier concerné (voir /api/v1/files/).")
    spouse = SpouseSerializer(help_text="Le conjoint ou la conjointe du dossier.")
    granted = serializers.BooleanField(help_text="L'autorisation de gestion est accordée.")
    granted_at = serializers.DateTimeField(allow_null=True, help_text="Depuis quand (null si elle ne l'est pas).")
    can_grant = serializers.BooleanField()
    can_revoke = serializers.BooleanField()
    can_renounce = serializers.BooleanField()


class DelegationChangeSerializer(serializers.Serializer):
    change = serializers.ChoiceField(
        choices=[("granted", "Accordée"), ("revoked", "Retirée"), ("renounced", "Abandonnée")],
        help_text="Ce qui a été fait.",
    )
    at = serializers.DateTimeField()
    message = serializers.CharField()


# What the answers hold --------------------------------------------------------------------


def _state(actor, mine: Membership) -> dict:
    """The delegation as it stands and what the person may do to it; 404 without a spouse, as
    the delegation page."""
    _, spouse = couple_of(actor=actor, membership=mine, action=_DELEGATION_ACTIONS)
    if spouse is None:
        raise NotAllowed()
    granted = spouse.delegation_granted_at is not None

    def may(action: Action) -> bool:
        return allowed_on_whole_file(mine.standing, action)

    return {
        "file_id": mine.dossier.pk,
        "spouse": {"display_name": spouse.person.display_name, "is_me": spouse.person_id == actor.subject.pk},
        "granted": granted,
        "granted_at": spouse.delegation_granted_at,
        # What the household page offers (moncompte.web.household.views).
        "can_grant": may(Action.GRANT_DELEGATION) and not granted,
        "can_revoke": may(Action.REVOKE_DELEGATION) and granted,
        "can_renounce": may(Action.RENOUNCE_DELEGATION),
    }


def _change_data(change: DelegationChange) -> dict:
    name = change.spouse.person.display_name
    messages = {
        "granted": f"{name} est maintenant autorisé(e) à gérer le dossier.",
        "revoked": f"L'autorisation de gestion de {name} a été retirée.",
        "renounced": "Vous avez renoncé à l'autorisation de gérer le dossier.",
    }
    return {"change": change.action, "at": change.at, "message": messages[change.action]}


# Views ------------------------------------------------------------------------------------


class DelegationView(ApiView):
    @extend_schema(
        operation_id="delegation_read",
        summary="L'autorisation de gestion de mon dossier",
        description=(
            "Pour la personne responsable du dossier et le conjoint ou la conjointe autorisé(e), quand le "
            "dossier a un conjoint ou une conjointe ; 404 sinon, comme la page."
        ),
        responses={200: DelegationSerializer},
        tags=[TAG],
    )
    def get(self, request):
        mine = membership_for(actor=self.actor, action=_DELEGATION_ACTIONS)
        return Response(DelegationSerializer(_state(self.actor, mine)).data)


class _DelegationChangeView(ApiView):
    action: Action
    service = None  # the service of moncompte.households.services (a staticmethod)

    def post(self, request):
        mine = membership_for(actor=self.actor, action=self.action)  # not allowed: 404 before the password
        form = PasswordSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        change = self.service(actor=self.actor, dossier=mine.dossier, password=form.validated_data["password"])
        return Response(DelegationChangeSerializer(_change_data(change)).data)


_CHANGE_ERRORS = (
    "Refus : « no_spouse » (aucun conjoint), « already_granted », « not_granted » (400) ; mot de passe "
    "incorrect « wrong_password » (400) ; trop d'essais « throttled » (429)."
)


class DelegationGrantView(_DelegationChangeView):
    action = Action.GRANT_DELEGATION
    service = staticmethod(delegation_grant)

    @extend_schema(
        operation_id="delegation_grant",
        summary="Autoriser mon conjoint ou ma conjointe à gérer le dossier",
        description=f"Pour la personne responsable du dossier ; votre mot de passe est demandé. {_CHANGE_ERRORS}",
        request={JSON: PasswordSerializer},
        responses={200: DelegationChangeSerializer},
        tags=[TAG],
    )
    def post(self, request):
        return super().post(request)


class DelegationRevokeView(_DelegationChangeView):
    action = Action.REVOKE_DELEGATION
    service = staticmethod(delegation_revoke)

    @extend_schema(
        operation_id="delegation_revoke",
        summary="Retirer l'autorisation de gestion",
        description=f"Pour la personne responsable du dossier ; votre mot de passe est demandé. {_CHANGE_ERRORS}",
        request={JSON: PasswordSerializer},
        responses={200: DelegationChangeSerializer},
        tags=[TAG],
    )
    def post(self, request):
        return super().post(request)


class DelegationRenounceView(_DelegationChangeView):
    action = Action.RENOUNCE_DELEGATION
    service = staticmethod(delegation_renounce)

    @extend_schema(
        operation_id="delegation_renounce",
        summary="Renoncer à l'autorisation de gérer le dossier",
        description=(
            f"Pour le conjoint ou la conjointe autorisé(e) ; votre mot de passe est demandé. {_CHANGE_ERRORS}"
        ),
        request={JSON: PasswordSerializer},
        responses={200: DelegationChangeSerializer},
        tags=[TAG],
    )
    def post(self, request):
        return super().post(request)


urlpatterns = [
    path("delegation/", DelegationView.as_view(), name="delegation"),
    path("delegation/grant/", DelegationGrantView.as_view(), name="delegation_grant"),
    path("delegation/revoke/", DelegationRevokeView.as_view(), name="delegation_revoke"),
    path("delegation/renounce/", DelegationRenounceView.as_view(), name="delegation_renounce"),
]
