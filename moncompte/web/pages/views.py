"""The public pages of information: help, accessibility statement, legal notice, personal data,
cookies and site map. Open to everyone, signed in or not, GET only.

The durations and cookie names they state are read from the settings and the code that enforce
them, so that the pages cannot drift from what the service does.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.messages.storage.cookie import CookieStorage
from django.shortcuts import render
from django.views.decorators.http import require_GET

from moncompte.access.policy import Action
from moncompte.accounts.throttling import DEVICE_COOKIE_NAME
from moncompte.core.errors import NotAllowed
from moncompte.households.selectors import membership_for
from moncompte.web.actors import actor_of
from moncompte.web.signin.session import DEVICE_COOKIE_DAYS

# The date the accessibility statement was drawn up (RGAA: "établissement de la déclaration").
ACCESSIBILITY_STATEMENT_DATE = "2 décembre 2026"


def _minutes(seconds: int) -> int:
    return seconds // 60


def _hours(seconds: int) -> int:
    return seconds // 3600


def _days(seconds: int) -> int:
    return seconds // (24 * 3600)


@login_not_required
@require_GET
def help_view(request):
    context = {
        "account_min_age": settings.MONCOMPTE_ACCOUNT_MIN_AGE,
        "password_min_length": settings.MONCOMPTE_PASSWORD_MIN_LENGTH,
    }
    return render(request, "web/pages/help.html", context)


@login_not_required
@require_GET
def accessibility_view(request):
    return render(request, "web/pages/accessibility.html", {"statement_date": ACCESSIBILITY_STATEMENT_DATE})


@login_not_required
@require_GET
def legal_notice_view(request):
    return render(
        request,
        "web/pages/legal_notice.html",
        {
            "publisher": settings.MONCOMPTE_LEGAL_PUBLISHER,
            "publisher_address": settings.MONCOMPTE_LEGAL_PUBLISHER_ADDRESS,
            "publication_director": settings.MONCOMPTE_LEGAL_PUBLICATION_DIRECTOR,
            "host": settings.MONCOMPTE_LEGAL_HOST,
        },
    )


@login_not_required
@require_GET
def personal_data_view(request):
    return render(
        request,
        "web/pages/personal_data.html",
        {
            "session_idle_minutes": _minutes(settings.MONCOMPTE_SESSION_IDLE_SECONDS),
            "session_absolute_hours": _hours(settings.MONCOMPTE_SESSION_ABSOLUTE_SECONDS),
            "code_minutes": _minutes(settings.MONCOMPTE_CODE_TTL_SECONDS),
            "invitation_days": settings.MONCOMPTE_INVITATION_DAYS,
            "former_identifier_days": settings.MONCOMPTE_FORMER_IDENTIFIER_DAYS,
            "throttle_hours": _hours(settings.MONCOMPTE_THROTTLE_WINDOW_SECONDS),
            "device_cookie_days": DEVICE_COOKIE_DAYS,
            "dpo_contact": settings.MONCOMPTE_LEGAL_DPO_CONTACT,
            # What manage.py purge_expired applies (moncompte.core.retention), and the journal's.
            "retention": {
                "sessions": settings.MONCOMPTE_RETENTION_SESSION_DAYS,
                "codes": settings.MONCOMPTE_RETENTION_CODE_DAYS,
                "legacy_attempts": settings.MONCOMPTE_RETENTION_LEGACY_ATTEMPT_DAYS,
                "messages": settings.MONCOMPTE_RETENTION_MESSAGE_DAYS,
                "invitations": settings.MONCOMPTE_RETENTION_INVITATION_DAYS,
                "identity_documents": settings.MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS,
                "signup_claims": settings.MONCOMPTE_RETENTION_SIGNUP_CLAIM_DAYS,
                "drafts": settings.MONCOMPTE_PROCEDURE_DRAFT_DAYS,
                "visitor_drafts": settings.MONCOMPTE_PROCEDURE_VISITOR_DRAFT_HOURS,
                "procedures": settings.MONCOMPTE_RETENTION_PROCEDURE_DAYS,
                "journal": settings.MONCOMPTE_RETENTION_JOURNAL_DAYS,
            },
        },
    )


def cookies_in_use() -> list[dict]:
    """Every cookie the service sets, with what it is for and how long it lives."""
    return [
        {
            "name": settings.SESSION_COOKIE_NAME,
            "purpose": "garder votre connexion ouverte d'une page à l'autre",
            "lifetime": (
                "jusqu'à la fermeture du navigateur ; la connexion se ferme d'elle-même après "
                f"{_minutes(settings.MONCOMPTE_SESSION_IDLE_SECONDS)} minutes sans activité "
                f"et au plus tard {_hours(settings.MONCOMPTE_SESSION_ABSOLUTE_SECONDS)} heures après la connexion ; "
                "la session enregistrée sur le serveur est alors effacée, l'historique de la connexion "
                f"(appareil, adresse IP, lieu approximatif) est gardé {settings.MONCOMPTE_RETENTION_SESSION_DAYS} jours"
            ),
        },
        {
            "name": settings.CSRF_COOKIE_NAME,
            "purpose": "protéger vos formulaires : vérifier qu'ils sont bien envoyés depuis ce site",
            "lifetime": f"{_days(settings.CSRF_COOKIE_AGE)} jours",
        },
        {
            "name": DEVICE_COOKIE_NAME,
            "purpose": (
                "reconnaître un navigateur où vous vous êtes déjà connecté : si quelqu'un d'autre essaie "
                "trop de mots de passe sur votre compte, vous pouvez toujours vous connecter depuis cet appareil"
            ),
            "lifetime": f"{DEVICE_COOKIE_DAYS} jours",
        },
        {
            "name": CookieStorage.cookie_name,
            "purpose": "afficher un message d'information à la page suivante (par exemple « Votre session a expiré »)",
            "lifetime": "effacé dès que le message est affiché",
        },
        {
            # Set for the Caf's agents only, on the console's pages (/agents/).
            "name": settings.MONCOMPTE_AGENT_SESSION_COOKIE,
            "purpose": "pour les agents de la Caf seulement : garder ouverte leur connexion à l'espace agents",
            "lifetime": (
                "jusqu'à la fermeture du navigateur ; la connexion se ferme d'elle-même après "
                f"{_minutes(settings.MONCOMPTE_AGENT_SESSION_IDLE_SECONDS)} minutes sans activité "
                f"et au plus tard {_hours(settings.MONCOMPTE_AGENT_SESSION_ABSOLUTE_SECONDS)} heures après la connexion"
            ),
        },
    ]


@login_not_required
@require_GET
def cookies_view(request):
    return render(request, "web/pages/cookies.html", {"cookies": cookies_in_use()})


def _sees_household(request) -> bool:
    # The policy decides who has a household page (docs/access.md); the map links only to pages that open.
    try:
        membership_for(actor=actor_of(request), action=Action.SEE_HOUSEHOLD)
    except NotAllowed:
        return False
    return True


@login_not_required
@require_GET
def sitemap_view(request):
    signed_in = request.user.is_authenticated
    return render(
        request,
        "web/pages/sitemap.html",
        {"signed_in": signed_in, "sees_household": signed_in and _sees_household(request)},
    )
