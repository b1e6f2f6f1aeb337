"""The visitor's draft in the web session: a new beneficiary's request started without an account.

The engine gives the visitor a token (moncompte.procedures.services.procedure_start); the web
channel keeps it in the **server-side session only**, under ``VISITOR_KEY`` =
``{"token": str, "procedure": int}`` — never in a URL, a page or a cookie of ours besides the
session id. The step pages (moncompte.web.procedures) read it to open the draft; the account
creation (moncompte.web.signup) and the sign-in keep it (Django keeps the session's data when it
renews the key, at the flow's start, at the contact's proof and at a sign-in from a visitor's
session); the claim (views.claim_view) gives the draft to the account and drops the key.
"""

from __future__ import annotations

from moncompte.core.errors import NotAllowed
from moncompte.procedures.models import Procedure
from moncompte.procedures.services import procedure_for
from moncompte.web.actors import actor_of

VISITOR_KEY = "moncompte_procedure_visitor"


def held(request) -> tuple[str, int] | None:
    """The token and the draft's id kept in this session, or None (nothing, or not that shape)."""
    value = request.session.get(VISITOR_KEY)
    if not isinstance(value, dict):
        return None
    token, procedure_id = value.get("token"), value.get("procedure")
    if not isinstance(token, str) or not token or type(procedure_id) is not int:
        return None
    return token, procedure_id


def visitor_token(request) -> str | None:
    """The token to give the engine (``visitor_token=``), or None."""
    kept = held(request)
    return kept[0] if kept else None


def keep(request, *, token: str, procedure_id: int) -> None:
    request.session[VISITOR_KEY] = {"token": token, "procedure": procedure_id}


def forget(request) -> None:
    request.session.pop(VISITOR_KEY, None)


def visitor_draft(request) -> Procedure | None:
    """The visitor's draft this session holds, if it is still open (a draft, not claimed, not
    expired): what "a request in progress" means for the pages. The engine decides (the token)."""
    kept = held(request)
    if kept is None:
        return None
    token, procedure_id = kept
    try:
        procedure = procedure_for(actor=actor_of(request), procedure_id=procedure_id, visitor_token=token)
    except NotAllowed:
        return None
    if procedure.person_id is not None or not procedure.is_draft:
        return None
    return procedure


def request_in_progress(request) -> bool:
    return visitor_draft(request) is not None
