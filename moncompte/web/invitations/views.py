"""Invitations of household members: sending them (/mon-compte/foyer/inviter/) and accepting
them (/invitation/, then /invitation/mot-de-passe/).

The invitation code never travels in a URL: the message's link is /invitation/#CODE, whose
fragment the browser keeps to itself; the page's script (web/invitation-code.js) copies it into
the form and takes it out of the address bar, and without JavaScript the person types it. The
code is posted with the identity proof (NIR and birth date); once both hold, the session (with
a renewed key) keeps the invitation's id for the password step, so the code is needed no more.
Paths under /invitation/ that old links carried (/invitation/<token>/) answer that the link no
longer works, without reading it. The rules are in moncompte.households.invitations, which
re-checks everything.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.access.policy import Action
from moncompte.accounts.passwords import password_min_length
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import ContactChannel
from moncompte.households.invitations import (
    InvitationError,
    accounts_created_after_invitation,
    invitable_members,
    invitation_accept,
    invitation_cancel,
    invitation_live,
    invitation_open,
    invitation_prove,
    invitation_send,
    live_invitations,
)
from moncompte.households.selectors import memberships_for
from moncompte.verification.contacts import mask_destination
from moncompte.web.actors import actor_of
from moncompte.web.errors import add_domain_error
from moncompte.web.flows import FlowState, render_step
from moncompte.web.forms import NewPasswordForm
from moncompte.web.invitations.forms import InvitationIdentityForm, InvitationSendForm
from moncompte.web.signin.session import open_web_session
from moncompte.web.templatetags.french import date_fr

FLOW = FlowState("moncompte_invitation", max_age=30 * 60)
STEPS = ["Votre identité", "Votre mot de passe", "Vos coordonnées"]
NO_FLOW = (
    "Pour créer votre compte, ouvrez le lien de l'invitation que vous avez reçue par courriel ou par SMS, "
    "ou saisissez son code sur la page « Créer mon compte sur invitation ». Une fois votre identité "
    "confirmée, vous avez 30 minutes pour choisir votre mot de passe : recommencez si besoin."
)
OLD_LINK = (
    "Ce lien d'invitation n'est plus valable. Ouvrez le lien du dernier message d'invitation reçu, "
    "ou demandez une nouvelle invitation à la personne qui vous l'a envoyée."
)


# --- Sending (responsible person, spouse with delegation) ------------------------------------


def _files_to_invite_on(actor) -> list:
    return [mine.dossier for mine in memberships_for(actor=actor, action=Action.INVITE_MEMBER)]


def _prefix(member) -> str:
    return f"membre-{member.pk}"


def _invite_post(request, actor, files):
    """Handle one POST of the page; a response, or the bound form to show again with its errors."""
    action = request.POST.get("action")
    if action == "annuler":
        try:
            invitation = invitation_cancel(actor=actor, invitation_id=int(request.POST.get("invitation", "")))
        except (ValueError, InvitationError):
            raise Http404 from None
        messages.success(request, f"L'invitation de {invitation.member.person.display_name} est annulée.")
        return redirect("web:household_invite"), None
    if action != "inviter":
        raise Http404
    try:
        member_id = int(request.POST.get("membre", ""))
    except ValueError:
        raise Http404 from None
    member = next(
        (m for dossier in files for m in invitable_members(actor=actor, dossier=dossier) if m.pk == member_id), None
    )
    if member is None:
        raise Http404
    form = InvitationSendForm(request.POST, prefix=_prefix(member))
    if form.is_valid():
        try:
            sent = invitation_send(
                actor=actor,
                member=member,
                channel=form.cleaned_data["channel"],
                destination=form.cleaned_data["destination"],
            )
        except InvitationError as error:
            add_domain_error(form, error)
        else:
            invitation = sent.invitation
            how = "par courriel" if invitation.channel == ContactChannel.EMAIL else "par SMS"
            until = date_fr(timezone.localtime(invitation.expires_at))  # "1er décembre 2026"
            messages.success(
                request,
                f"Invitation envoyée à {member.person.display_name} {how} "
                f"({mask_destination(invitation.channel, invitation.destination)}). "
                f"Le lien est valable jusqu'au {until}.",
            )
            return redirect("web:household_invite"), None
    return None, (member.pk, form)


@require_http_methods(["GET", "POST"])
def invite_view(request):
    actor = actor_of(request)
    files = _files_to_invite_on(actor)
    if not files:
        raise Http404
    bound = None
    status = 200
    if request.method == "POST":
        response, bound = _invite_post(request, actor, files)
        if response is not None:
            return response
        status = 400
    sections = []
    for dossier in files:
        members = []
        for member in invitable_members(actor=actor, dossier=dossier):
            if bound is not None and bound[0] == member.pk:
                form = bound[1]
            else:
                form = InvitationSendForm(prefix=_prefix(member))
            members.append({"member": member, "form": form})
        invitations = [
            {"invitation": i, "masked": mask_destination(i.channel, i.destination)}
            for i in live_invitations(actor=actor, dossier=dossier)
        ]
        # Computed on read: whichever way the member's account was created, never "en cours".
        created = accounts_created_after_invitation(actor=actor, dossier=dossier)
        sections.append(
            {"dossier": dossier, "members": members, "invitations": invitations, "accounts_created": created}
        )
        journal_record(action=JournalAction.INVITATION_PAGE_VIEW, actor=actor, subject_person=None, dossier=dossier)
    return render(request, "web/invitation/invite.html", {"sections": sections}, status=status)


# --- Accepting (the invited member, not signed in) --------------------------------------------


def _refused(request, message: str, status: int, *, account_exists: bool = False):
    FLOW.clear(request)
    context = {"message": message, "account_exists": account_exists}
    return render(request, "web/invitation/invalid.html", context, status=status)


def _flow(request):
    """The invitation of this session's flow, live; else the page that says why not."""
    state = FLOW.get(request)
    if not state:
        return state, None, _refused(request, NO_FLOW, 400)
    try:
        invitation = invitation_live(invitation_id=state["invitation_id"])
    except InvitationError as error:
        status = {"expired": 410, "account_exists": 409}.get(error.code, 404)
        return state, None, _refused(request, error.message, status, account_exists=error.code == "account_exists")
    return state, invitation, None


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_view(request):
    """The code (filled in from the link's fragment, or typed), the NIR and the birth date."""
    form = InvitationIdentityForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            actor = actor_of(request)
            try:
                invitation = invitation_open(actor=actor, code=form.cleaned_data["code"])
                invitation_prove(
                    actor=actor,
                    invitation=invitation,
                    identifier=form.cleaned_data["identifier"],
                    birth_date=form.cleaned_data["birth_date"],
                )
            except InvitationError as error:
                if error.code == "too_many_attempts":
                    return _refused(request, error.message, 403)
                if error.code == "account_exists":
                    # The code is real: its holder is told plainly that the account exists.
                    return _refused(request, error.message, 409, account_exists=True)
                status = {"throttled": 429, "expired": 410}.get(error.code, 400)
                add_domain_error(form, error)
            else:
                # A new session key once the invitation is proved; the session holds it from now on.
                request.session.cycle_key()
                FLOW.start(request, invitation_id=invitation.pk, proved=True)
                return redirect("web:invitation_password")
    return render_step(request, "web/invitation/identity.html", STEPS, 1, {"form": form}, status)


@login_not_required
@require_GET
def old_link_view(request, rest):
    """/invitation/<anything>: what the links of before carried in their path. Never read."""
    return _refused(request, OLD_LINK, 410)


@login_not_required
@require_http_methods(["GET", "POST"])
def password_view(request):
    state, invitation, refused = _flow(request)
    if refused is not None:
        return refused
    if not state.get("proved"):
        return redirect("web:invitation")
    person = invitation.member.person
    form = NewPasswordForm(request.POST or None, person=person)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                account = invitation_accept(
                    actor=actor_of(request), invitation=invitation, password=form.cleaned_data["password"]
                )
            except InvitationError as error:
                if error.code in ("invalid", "expired"):
                    return _refused(request, error.message, 410 if error.code == "expired" else 404)
                form.add_error(None, error.message)
            else:
                FLOW.clear(request)
                # The invitation's destination was typed by someone else: the member validates
                # a contact of their own before using anything.
                open_web_session(request, account, JournalAction.INVITATION_SIGNED_IN)
                return redirect("web:contact_validate")
    return render_step(
        request,
        "web/invitation/password.html",
        STEPS,
        2,
        {
            "form": form,
            "person": person,
            "inviter": invitation.invited_by.display_name,
            "min_length": password_min_length(),
        },
        status,
    )
