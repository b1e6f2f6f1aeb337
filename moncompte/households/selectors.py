"""Reads of a file's content. Callers must have asked moncompte.access first."""

from dataclasses import dataclass

from moncompte.households.models import Benefit, Dossier, Member, Payment


@dataclass(frozen=True)
class DossierOverview:
    dossier: Dossier
    members: list[Member]
    benefits: list[Benefit]
    payments: list[Payment]


def dossier_overview(dossier: Dossier, *, payments_limit: int = 12) -> DossierOverview:
    """The file's members, current benefits and latest payments, in three queries."""
    members = list(Member.objects.current().filter(dossier=dossier).select_related("person").order_by("id"))
    benefits = list(Benefit.objects.filter(dossier=dossier, ended_on__isnull=True).order_by("code"))
    payments = list(
        Payment.objects.filter(dossier=dossier)
        .select_related("benefit")
        .order_by("-paid_on", "benefit__code")[:payments_limit]
    )
    return DossierOverview(dossier=dossier, members=members, benefits=benefits, payments=payments)
