"""What the FranceConnect pages keep, in the server-side session only (never in a page or a cookie).

- the sign-ins started from this browser: ``state`` -> nonce, where to go next and until when;
  a few at once (several tabs), each **popped once** at the callback, so a replayed or unknown
  state finds nothing;
- the identity recognised at the callback, until the person confirms it (``PENDING``);
- the id_token of a session opened through FranceConnect, for the logout's ``id_token_hint``
  (it dies with the session);
- the ``state`` of a logout through FranceConnect, popped once on the way back;
- the identity given by FranceConnect when nobody was recognised: the identity check's form
  starts from it (``signup_initial``);
- that the account was just created through FranceConnect: the optional password is offered.
"""

from __future__ import annotations

import time

from django.conf import settings

from moncompte.franceconnect.identity import PivotIdentity
from moncompte.web.flows import FlowState

AUTHORIZATIONS = "moncompte_franceconnect_authorizations"
LOGOUTS = "moncompte_franceconnect_logouts"
ID_TOKEN = "moncompte_franceconnect_id_token"  # noqa: S105 (a session key)
PREFILL = "moncompte_franceconnect_prefill"
NEW_ACCOUNT = "moncompte_franceconnect_new_account"
# Sign-ins (or logouts) started and not come back yet, kept at once: the newest ones.
MAX_STARTED = 5


def _pending_flow() -> FlowState:
    return FlowState("moncompte_franceconnect_pending", max_age=settings.MONCOMPTE_FRANCECONNECT_PENDING_SECONDS)


def _remember(request, key: str, state: str, values: dict) -> None:
    now = time.time()
    started = {s: v for s, v in (request.session.get(key) or {}).items() if v.get("until", 0) > now}
    started[state] = {**values, "until": now + settings.MONCOMPTE_FRANCECONNECT_PENDING_SECONDS}
    newest = sorted(started.items(), key=lambda item: item[1]["until"])[-MAX_STARTED:]
    request.session[key] = dict(newest)


def _pop(request, key: str, state: object) -> dict | None:
    started = request.session.get(key) or {}
    if not isinstance(state, str) or state not in started:
        return None
    found = started.pop(state)
    request.session[key] = started  # written back: the state is gone, whatever happens next
    if found.get("until", 0) <= time.time():
        return None
    return found


# The sign-in started, until its callback --------------------------------------------------------


def authorization_remember(request, *, state: str, nonce: str, next_url: str) -> None:
    _remember(request, AUTHORIZATIONS, state, {"nonce": nonce, "next": next_url})


def authorization_pop(request, state: object) -> dict | None:
    """The nonce and next path of the sign-in ``state`` started here, once; None if unknown or expired."""
    return _pop(request, AUTHORIZATIONS, state)


# The identity recognised, until the person confirms it ------------------------------------------


def pending_start(request, *, sub: str, identity: PivotIdentity, person_id: int, id_token: str, next_url: str):
    _pending_flow().start(
        request, sub=sub, identity=identity.to_session(), person_id=person_id, id_token=id_token, next=next_url
    )


def pending_get(request) -> dict:
    return _pending_flow().get(request)


def pending_clear(request) -> None:
    _pending_flow().clear(request)


# A session opened through FranceConnect, and its logout -------------------------------------------


def signed_in_through_franceconnect(request, id_token: str) -> None:
    """After the session opened (its key renewed): the id_token for the logout; the flow's leftovers go."""
    request.session[ID_TOKEN] = id_token
    request.session.pop(PREFILL, None)
    pending_clear(request)


def id_token_of(request) -> str | None:
    token = request.session.get(ID_TOKEN)
    return token if isinstance(token, str) and token else None


def logout_remember(request, state: str) -> None:
    _remember(request, LOGOUTS, state, {})


def logout_pop(request, state: object) -> bool:
    return _pop(request, LOGOUTS, state) is not None


# Nobody recognised: the identity check starts from what FranceConnect gave -------------------------


def prefill_keep(request, identity: PivotIdentity) -> None:
    request.session[PREFILL] = identity.to_session()


def prefill_identity(request) -> PivotIdentity | None:
    data = request.session.get(PREFILL)
    if not isinstance(data, dict):
        return None
    try:
        return PivotIdentity.from_session(data)
    except (KeyError, TypeError, ValueError):
        request.session.pop(PREFILL, None)
        return None


def signup_initial(request) -> dict | None:
    """The initial data of the identity check's first step (moncompte.web.signup), from what
    FranceConnect gave; None when nothing was kept. The NIR question is left to the person."""
    identity = prefill_identity(request)
    if identity is None:
        return None
    return {
        "first_names": identity.first_names,
        "birth_name": identity.birth_name,
        "usage_name": identity.usage_name,
        "birth_day": f"{identity.birth_date.day:02d}",
        "birth_month": f"{identity.birth_date.month:02d}",
        "birth_year": f"{identity.birth_date.year:04d}",
        "sex": identity.sex,
        "birth_country": identity.birth_country_code,
        # The INSEE code, which the field accepts as typed (its help says so).
        "birth_place": identity.birth_place_code,
    }
