"""Pages of the account creation of new beneficiaries (/creer-mon-compte/, docs/signup.md).

Step 1 the identity, step 2 a contact validated with a one-time code, step 3 the password; then
moncompte.accounts.signup.signup_complete creates everything in one transaction and the person
is signed in. Every person then sees their provisional identifier once (a NIR typed waits on the
identity check: the answer is the same whoever holds it) and sends an identity document.

The flow's state lives in the server-side session only (FLOW) and dies 45 minutes after the
flow started. The NIR is kept there encrypted (moncompte.identity.protection), never in clear.
The typed NIR is looked up at no step, the last one included: every page, status and message
is the same whoever holds it (docs/signup.md).

Inside a request (issue 10, point 3): a visitor who started a request without an account comes
here from its identity step (``?depuis=demande``). Only when the flow started from a request and
the visitor's draft is still open in the session (moncompte.web.procedure_visitor.state) do the
pages promise that the request is resumed, and the pages after the creation offer "Reprendre ma
demande" (the claim) first. The draft's key survives the flow: Django keeps the session's data
when ``cycle_key()`` renews the key and when ``login()`` signs a visitor's session in.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.accounts.passwords import password_min_length
from moncompte.accounts.signup import (
    SignupError,
    SignupIdentity,
    identity_check_reopen,
    pending_identity_check,
    rejected_identity_check,
    signup_complete,
    signup_document_send,
)
from moncompte.audit.actions import JournalAction
from moncompte.core.actors import ContactChannel
from moncompte.identity.documents import (
    DocumentError,
    document_max_bytes,
    too_large_message,
)
from moncompte.identity.identifiers import Identifier, parse_identifier
from moncompte.identity.matching import FRANCE
from moncompte.identity.protection import decrypt_identifier, encrypt_identifier
from moncompte.verification.contacts import mask_destination
from moncompte.verification.models import Purpose
from moncompte.web.actors import actor_of
from moncompte.web.flows import ContactStep, FlowState, render_step
from moncompte.web.franceconnect.state import signup_initial as franceconnect_signup_initial
from moncompte.web.procedure_visitor.state import request_in_progress
from moncompte.web.signin.session import open_web_session
from moncompte.web.signup.forms import DocumentForm, IdentityForm, SignupPasswordForm
from moncompte.web.signup.uploads import SizeLimitedUploadHandler

# What the pages after the creation may still show: the provisional identifier once, the upload.
DONE_KEY = "moncompte_signup_done"
FLOW = FlowState("moncompte_signup", max_age=45 * 60)
FROM_REQUEST = "demande"

STEPS = ["Votre identité", "Vos coordonnées", "Votre mot de passe"]


def _identity(state: dict) -> SignupIdentity:
    return SignupIdentity.from_session(state["identity"])


def _identifier(state: dict) -> Identifier | None:
    token = state.get("identifier_token")
    return parse_identifier(decrypt_identifier(token)) if token else None


def _resume_request(request, from_request) -> bool:
    """A request is really in progress: the flow started from it and its draft is still open."""
    return bool(from_request) and request_in_progress(request)


def _render(request, template, step, context, status=200):
    from_request = bool(FLOW.get(request).get("from_request")) or request.GET.get("depuis") == FROM_REQUEST
    context = {**context, "from_request": from_request, "resume_request": _resume_request(request, from_request)}
    return render_step(request, template, STEPS, step, context, status)


@login_not_required
@require_http_methods(["GET", "POST"])
def identity_view(request):
    if request.user.is_authenticated:
        return redirect("web:home")
    state = FLOW.get(request)
    if request.method == "POST":
        form = IdentityForm(request.POST)
    elif state.get("identity"):
        form = IdentityForm(initial=IdentityForm.initial_from(_identity(state), _identifier(state)))
    else:
        # Sent here by FranceConnect (nobody recognised): its identity fills the form in.
        form = IdentityForm(initial=franceconnect_signup_initial(request) or {"birth_country": FRANCE})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            if not state.get("identity"):
                # A new session key as the flow starts: a key planted earlier is worthless.
                request.session.cycle_key()
            identity = form.cleaned_data["identity"]
            identifier = form.cleaned_data["parsed_identifier"]
            state = {
                **state,
                "identity": identity.to_session(),
                "identifier_token": encrypt_identifier(identifier.value) if identifier else "",
            }
            if request.POST.get("depuis") == FROM_REQUEST:
                state["from_request"] = True
            FLOW.save(request, state)
            return redirect("web:signup_contact")
    elif request.GET.get("depuis") == FROM_REQUEST:
        FLOW.save(request, {**state, "from_request": True})
    return _render(request, "web/signup/identity.html", 1, {"form": form}, status)


def _contact_summary(contact: dict) -> str:
    return mask_destination(contact["channel"], contact["destination"])


class _SignupContact(ContactStep):
    """Step 2: the contact is validated before anything is created; it is kept in the flow's state."""

    purpose = Purpose.SIGNUP
    url_name = "web:signup_contact"
    choice_template = "web/signup/contact_choice.html"
    code_template = "web/signup/contact_code.html"
    pending_name = "contact"

    def __init__(self, request, state: dict):
        super().__init__(request)
        self.state = state

    def pending(self) -> dict:
        return self.state.get("contact") or {}

    def keep(self, pending: dict) -> None:
        FLOW.save(self.request, {**self.state, "contact": pending})

    def done(self, pending: dict):
        if not pending.get("validated"):
            return None
        return self.render("web/signup/contact_done.html", {"masked": _contact_summary(pending), "contact": pending})

    def validated(self, pending: dict):
        self.request.session.cycle_key()
        self.keep({**pending, "validated": True})
        return redirect("web:signup_password")

    def render(self, template: str, context: dict, status: int = 200):
        return _render(self.request, template, 2, context, status)


@login_not_required
@require_http_methods(["GET", "POST"])
def contact_view(request):
    if request.user.is_authenticated:
        return redirect("web:home")
    state = FLOW.get(request)
    if "identity" not in state:
        return redirect("web:signup")
    return _SignupContact(request, state).respond()


@login_not_required
@require_http_methods(["GET", "POST"])
def password_view(request):
    if request.user.is_authenticated:
        return redirect("web:home")
    state = FLOW.get(request)
    if "identity" not in state:
        return redirect("web:signup")
    contact = state.get("contact") or {}
    if not contact.get("validated"):
        return redirect("web:signup_contact")
    identity, identifier = _identity(state), _identifier(state)
    form = SignupPasswordForm(request.POST or None, identity=identity, identifier=identifier)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = signup_complete(
                    actor=actor_of(request),
                    identity=identity,
                    identifier=identifier,
                    password=form.cleaned_data["password"],
                    contact_channel=contact["channel"],
                    contact_destination=contact["destination"],
                )
            except SignupError as error:
                for message in error.messages:
                    form.add_error(error.field, message)
                status = error.status
            else:
                from_request = bool(state.get("from_request"))
                FLOW.clear(request)
                # The contact was validated during the flow: the account is usable. The same
                # answer for every sign-up: the provisional identifier, once, then the document.
                open_web_session(request, result.account, JournalAction.SIGNUP_SIGNED_IN)
                request.session[DONE_KEY] = {"show_identifier": True, "from_request": from_request}
                return redirect("web:signup_provisional")
    return _render(
        request,
        "web/signup/password.html",
        3,
        {
            "form": form,
            "identity": identity,
            "min_length": password_min_length(),
            "masked": _contact_summary(contact),
        },
        status,
    )


@require_GET
def provisional_view(request):
    """The provisional identifier, shown once right after the creation."""
    done = request.session.get(DONE_KEY) or {}
    person = request.user.person
    resume_request = _resume_request(request, done.get("from_request"))
    if not done.get("show_identifier"):
        if resume_request:
            return redirect("web:procedure_claim")
        return redirect("web:signup_document" if pending_identity_check(person) else "web:home")
    request.session[DONE_KEY] = {**done, "show_identifier": False}
    contacts = list(request.user.contacts.filter(verified_at__isnull=False).order_by("kind", "created_at", "id"))
    check = pending_identity_check(person)
    return render(
        request,
        "web/signup/provisional.html",
        {
            "identifier": person.identifier.display(),
            "contacts": [
                ("à l'adresse " if c.kind == ContactChannel.EMAIL else "par SMS au ")
                + mask_destination(c.kind, c.value)
                for c in contacts
            ],
            "pending": check is not None,
            # A NIR typed at step 1: the same page whoever holds it (it is bound after the check).
            "claimed": bool(check and check.claimed_identifier_type),
            # Created inside a request: back to it first, the document can wait (the home page's notice).
            "resume_request": resume_request,
        },
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def document_view(request):
    """The identity document upload. Oversized files are cut off while they arrive, which needs
    the upload handler in place before anything reads the body (so CSRF is checked below)."""
    handler = SizeLimitedUploadHandler(request, limit=document_max_bytes())
    request.upload_handlers.insert(0, handler)
    return _document_view(request, handler)


@csrf_protect
def _document_view(request, handler: SizeLimitedUploadHandler):
    person = request.user.person
    check = pending_identity_check(person)
    # After an agent's refusal, a new document opens a new check (issue 12); the page says why.
    rejected = rejected_identity_check(person) if check is None else None
    if check is None and rejected is None:
        return redirect("web:home")
    form = DocumentForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            uploaded = form.cleaned_data.get("document")
            if handler.exceeded:
                form.add_error("document", too_large_message())
            elif uploaded is None:
                form.add_error("document", "Ajoutez le fichier de votre justificatif.")
            else:
                try:
                    if check is None:
                        check = identity_check_reopen(actor=actor_of(request), person=person)
                        rejected = None
                    signup_document_send(
                        actor=actor_of(request), check=check, uploaded_file=uploaded, kind=form.cleaned_data["kind"]
                    )
                except DocumentError as error:
                    form.add_error(error.field, error.message)
                    status = 429 if error.code == "throttled" else 400
                else:
                    return redirect("web:signup_document_done")
        elif handler.exceeded:
            form.add_error("document", too_large_message())
    done = request.session.get(DONE_KEY) or {}
    return render(
        request,
        "web/signup/document.html",
        {
            "form": form,
            "check": check,
            "rejected": rejected,
            "documents": list(check.documents.all()) if check is not None else [],
            "from_request": done.get("from_request"),
            "resume_request": _resume_request(request, done.get("from_request")),
        },
        status=status,
    )


@require_GET
def document_done_view(request):
    check = pending_identity_check(request.user.person)
    if check is None:
        return redirect("web:home")
    done = request.session.get(DONE_KEY) or {}
    return render(
        request,
        "web/signup/document_done.html",
        {
            "check": check,
            "documents": list(check.documents.all()),
            "from_request": done.get("from_request"),
            "resume_request": _resume_request(request, done.get("from_request")),
        },
    )
