"""/api/v1/files/: the files the person belongs to, with what the policy lets them see.

The home page's read, the same selector (moncompte.households.selectors.home_files): for each of
the person's current memberships, the file's address, members, benefits and latest payments when
the policy lets them see the whole file (SEE_DOSSIER: R and S+); otherwise only that they belong
to a file of that Caf, in what role (S, M), exactly what the home page shows. A file the person
may not see has no id here, and every URL with a file id answers 404 for it (NotAllowed).

One file (``/files/{id}/``), its payments (paginated, the whole history) and its members as the
household page shows them (``household_members``) are read from the person's own memberships
that allow the action, never from the id alone. Each read of a file's content is journaled, as
on the pages.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from moncompte.access.policy import Action, allowed_on_whole_file
from moncompte.accounts.models import Account
from moncompte.api.base import ApiGenericView
from moncompte.api.v1.serializers import CafSerializer
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.errors import NotAllowed
from moncompte.households.invitations import live_invitations
from moncompte.households.models import Role
from moncompte.households.selectors import (
    DossierOverview,
    Membership,
    dossier_overview,
    dossier_payments,
    home_files,
    household_members,
    memberships_for,
)

TAG = "Mes dossiers"


# Serializers ------------------------------------------------------------------------------


class AddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(source="address_line1")
    line2 = serializers.CharField(source="address_line2", help_text="Vide s'il n'y en a pas.")
    postal_code = serializers.CharField()
    city = serializers.CharField()


class FileMemberSerializer(serializers.Serializer):
    display_name = serializers.CharField(source="person.display_name")
    role = serializers.ChoiceField(choices=Role.choices)
    role_label = serializers.CharField(source="get_role_display")


class BenefitSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    monthly_amount_cents = serializers.IntegerField(help_text="Montant mensuel, en centimes d'euro.")


class PaymentSerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    amount_cents = serializers.IntegerField(help_text="Montant versé, en centimes d'euro.")
    benefit_code = serializers.CharField(source="benefit.code")
    benefit_label = serializers.CharField(source="benefit.label")


class FileSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="L'identifiant du dossier ; null si vous ne pouvez pas voir le dossier."
    )
    visible = serializers.BooleanField(
        help_text=(
            "Vrai si vous pouvez voir tout le dossier (responsable, conjoint ou conjointe autorisé(e) à le "
            "gérer) ; sinon, seul votre rattachement est indiqué."
        )
    )
    caf = CafSerializer()
    role = serializers.ChoiceField(choices=Role.choices, help_text="Votre rôle dans le dossier.")
    role_label = serializers.CharField()
    can_separate = serializers.BooleanField(help_text="Vous pouvez déclarer une séparation sur ce dossier.")
    numero = serializers.CharField(
        allow_null=True, help_text="Numéro allocataire (null si le dossier n'est pas visible)."
    )
    address = AddressSerializer(allow_null=True)
    members = FileMemberSerializer(many=True, allow_null=True)
    benefits = BenefitSerializer(many=True, allow_null=True, help_text="Prestations en cours.")
    payments = PaymentSerializer(
        many=True, allow_null=True, help_text="Derniers paiements, du plus récent au plus ancien."
    )


class HouseholdMemberSerializer(serializers.Serializer):
    display_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    role_label = serializers.CharField()
    is_me = serializers.BooleanField()
    delegation_granted_at = serializers.DateTimeField(
        allow_null=True, help_text="Depuis quand ce conjoint ou cette conjointe est autorisé(e) à gérer le dossier."
    )
    has_account = serializers.BooleanField(help_text="A un compte Mon Compte.")
    invitation_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Invitation à créer son compte en cours, valable jusqu'à cette date."
    )


# What the answers hold --------------------------------------------------------------------


def file_data(membership: Membership, overview: DossierOverview | None) -> dict:
    """One file as the home page shows it: all of it with its overview, else the membership only."""
    member, dossier = membership.member, membership.dossier
    entry = {
        "id": None,
        "visible": overview is not None,
        "caf": dossier.caf,
        "role": member.role,
        "role_label": member.get_role_display(),
        "can_separate": allowed_on_whole_file(membership.standing, Action.DECLARE_SEPARATION),
        "numero": None,
        "address": None,
        "members": None,
        "benefits": None,
        "payments": None,
    }
    if overview is not None:
        entry.update(
            id=dossier.pk,
            numero=dossier.numero,
            address=dossier,
            members=overview.members,
            benefits=overview.benefits,
            payments=overview.payments,
        )
    return entry


def _own_membership(view, file_id: int, action: Action) -> Membership:
    """The actor's membership on the file ``file_id`` if it allows ``action`` on the whole file."""
    for membership in memberships_for(actor=view.actor, action=action):
        if membership.dossier.pk == file_id:
            return membership
    raise NotAllowed()


def _has_account(person) -> bool:
    try:
        return person.account is not None
    except Account.DoesNotExist:
        return False


# Views ------------------------------------------------------------------------------------


class FilesView(ApiGenericView):
    serializer_class = FileSerializer

    @extend_schema(
        operation_id="files_list",
        summary="Mes dossiers",
        description=(
            "Ce que montre la page d'accueil : pour chaque dossier auquel vous êtes rattaché(e), tout le "
            "dossier si vous pouvez le voir, sinon seulement votre rattachement."
        ),
        responses={200: FileSerializer(many=True)},
        tags=[TAG],
    )
    def get(self, request):
        actor = self.actor
        files = home_files(actor=actor)
        shown = [f.overview.dossier for f in files if f.overview is not None]
        for dossier in shown or [None]:
            journal_record(action=JournalAction.HOME_VIEW, actor=actor, dossier=dossier)
        page = self.paginate_queryset([file_data(f.membership, f.overview) for f in files])
        return self.get_paginated_response(FileSerializer(page, many=True).data)


class FileView(ApiGenericView):
    serializer_class = FileSerializer
    pagination_class = None

    @extend_schema(
        operation_id="files_read",
        summary="Un de mes dossiers",
        description="Un dossier que vous pouvez voir en entier ; 404 sinon.",
        responses={200: FileSerializer},
        tags=[TAG],
    )
    def get(self, request, file_id: int):
        actor = self.actor
        membership = _own_membership(self, file_id, Action.SEE_DOSSIER)
        overview = dossier_overview(actor=actor, dossier=membership.dossier)
        journal_record(action=JournalAction.FILE_VIEW, actor=actor, dossier=membership.dossier)
        return Response(FileSerializer(file_data(membership, overview)).data)


class FilePaymentsView(ApiGenericView):
    serializer_class = PaymentSerializer

    @extend_schema(
        operation_id="files_payments",
        summary="Les paiements d'un de mes dossiers",
        description="Tous les paiements, du plus récent au plus ancien ; 404 si vous ne pouvez pas voir le dossier.",
        responses={200: PaymentSerializer(many=True)},
        tags=[TAG],
    )
    def get(self, request, file_id: int):
        actor = self.actor
        dossier, payments = dossier_payments(actor=actor, dossier_id=file_id)
        page = self.paginate_queryset(payments)
        journal_record(action=JournalAction.FILE_VIEW, actor=actor, dossier=dossier)
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)


class FileMembersView(ApiGenericView):
    serializer_class = HouseholdMemberSerializer

    @extend_schema(
        operation_id="files_members",
        summary="Les membres du foyer d'un de mes dossiers",
        description="Comme la page « Mon foyer » ; 404 si vous ne pouvez pas voir le foyer.",
        responses={200: HouseholdMemberSerializer(many=True)},
        tags=[TAG],
    )
    def get(self, request, file_id: int):
        actor = self.actor
        membership = _own_membership(self, file_id, Action.SEE_HOUSEHOLD)
        dossier = membership.dossier
        members = household_members(actor=actor, membership=membership)
        invited = {i.member_id: i for i in live_invitations(actor=actor, dossier=dossier)}
        rows = [
            {
                "display_name": m.person.display_name,
                "role": m.role,
                "role_label": m.get_role_display(),
                "is_me": m.person_id == actor.subject.pk,
                "delegation_granted_at": m.delegation_granted_at,
                "has_account": _has_account(m.person),
                "invitation_expires_at": invited[m.pk].expires_at if m.pk in invited else None,
            }
            for m in members
        ]
        journal_record(action=JournalAction.HOUSEHOLD_VIEW, actor=actor, dossier=dossier)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(HouseholdMemberSerializer(page, many=True).data)


urlpatterns = [
    path("files/", FilesView.as_view(), name="files"),
    path("files/<int:file_id>/", FileView.as_view(), name="file"),
    path("files/<int:file_id>/payments/", FilePaymentsView.as_view(), name="file_payments"),
    path("files/<int:file_id>/members/", FileMembersView.as_view(), name="file_members"),
]
