"""What the multi-step pages share: their state in the session, the stepper, the contact step.

- ``FlowState``: a flow's state in the server-side session only (never in the page or a
  cookie), under one key, that dies a fixed time after the flow started.
- ``render_step``: a step's page with the DSFR stepper (templates include web/_stepper.html).
- ``ContactStep``: choose an email address or a mobile number, receive a one-time code, type it
  back. Each flow says where its pending code lives and what happens once the code is right.
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.shortcuts import redirect, render

from moncompte.verification.contacts import mask_destination
from moncompte.verification.services import (
    CodeSendRefused,
    challenge_check,
    challenge_current,
    challenge_issue,
    challenge_resend,
    new_flow_ref,
)
from moncompte.web.forms import CodeForm, ContactChoiceForm


class FlowState:
    """A flow's state (a dict) in the session under ``key``, alive ``max_age`` seconds from its start.

    The expiry moment is stored with the state (``until``), so a stage may get its own lifetime.
    """

    def __init__(self, key: str, max_age: int):
        self.key = key
        self.max_age = max_age

    def get(self, request) -> dict:
        """The live state; ``{}`` when there is none or it has expired (then it is dropped)."""
        state = request.session.get(self.key) or {}
        if not state or time.time() > state.get("until", 0):
            self.clear(request)
            return {}
        return state

    def start(self, request, *, max_age: int | None = None, **values) -> dict:
        """A new state in place of any earlier one, alive ``max_age`` seconds (the flow's by default)."""
        state = {**values, "until": time.time() + (max_age or self.max_age)}
        request.session[self.key] = state
        return state

    def save(self, request, state: dict) -> dict:
        """Store the state a step has changed; one that had not started yet starts now."""
        state = {"until": time.time() + self.max_age, **state}
        request.session[self.key] = state
        return state

    def clear(self, request) -> None:
        request.session.pop(self.key, None)


def render_step(request, template: str, steps: list[str], step: int, context: dict, status: int = 200):
    """The page of step ``step`` (from 1) of ``steps`` (their titles), with what the stepper shows."""
    context = {
        **context,
        "step": step,
        "step_count": len(steps),
        "step_title": steps[step - 1],
        "next_step_title": steps[step] if step < len(steps) else "",
    }
    return render(request, template, context, status=status)


class ContactStep:
    """The contact step of a flow, for one request: ``ContactStep(request, ...).respond()``.

    The choice page sends a code; the code page checks it, or sends a new one ("renvoyer"), or
    goes back to the choice ("changer"). Every POST that succeeds redirects to ``url_name``. The
    pending code is ``{"flow_ref", "channel", "destination"}``; the code is checked against its
    flow reference, so only this session can use it.
    """

    purpose: str  # of the codes (moncompte.verification.models.Purpose)
    url_name: str  # this step's page
    choice_template: str
    code_template: str
    pending_name = "pending"  # the pending code's name in the code page's context
    account = None  # the account the codes are sent for, if there is one yet

    def __init__(self, request):
        self.request = request

    # What each flow says ---------------------------------------------------------------------

    def pending(self) -> dict:
        """The code sent and waiting to be checked; ``{}`` if none."""
        raise NotImplementedError

    def keep(self, pending: dict) -> None:
        """Store the pending code (``{}``: none any more)."""
        raise NotImplementedError

    def validated(self, pending: dict):
        """The code was right: record it and answer (a redirect)."""
        raise NotImplementedError

    def done(self, pending: dict):
        """The page once the step is over, if the flow shows one; else None."""
        return None

    def may_send(self) -> int | None:
        """What the flow checks before sending a code: None if it may go, else the page's status."""
        return None

    def choice_context(self) -> dict:
        return {}

    def render(self, template: str, context: dict, status: int = 200):
        return render(self.request, template, context, status=status)

    # The step ---------------------------------------------------------------------------------

    def respond(self):
        request = self.request
        pending = self.pending()
        action = request.POST.get("action", "")
        if request.method == "POST" and action == "changer":
            self.keep({})
            return redirect(self.url_name)
        done = self.done(pending)
        if done is not None:
            return done
        if pending.get("flow_ref") and action in {"valider", "renvoyer", ""}:
            return self._code_step(pending)
        return self._choice_step()

    def _choice_step(self):
        request = self.request
        form = ContactChoiceForm(request.POST or None)
        status = 200
        if request.method == "POST":
            # Checked even when the form is not valid, so that both show their errors at once.
            refused_status = self.may_send()
            status = refused_status or 400
            if form.is_valid() and refused_status is None:
                channel, destination = form.cleaned_data["channel"], form.cleaned_data["destination"]
                flow_ref = new_flow_ref()
                try:
                    challenge_issue(
                        purpose=self.purpose,
                        channel=channel,
                        destination=destination,
                        flow_ref=flow_ref,
                        account=self.account,
                    )
                except CodeSendRefused as refused:
                    form.add_error(None, refused.message)
                    status = refused.status
                else:
                    self.keep({"flow_ref": flow_ref, "channel": channel, "destination": destination})
                    return redirect(self.url_name)
        return self.render(self.choice_template, {"form": form, **self.choice_context()}, status)

    def _code_step(self, pending: dict):
        request = self.request
        action = request.POST.get("action")
        if request.method == "POST" and action == "renvoyer":
            challenge = challenge_current(flow_ref=pending["flow_ref"], purpose=self.purpose)
            if challenge is None:
                self.keep({})
                return redirect(self.url_name)
            result = challenge_resend(challenge=challenge)
            (messages.success if result.sent else messages.warning)(request, result.message)
            return redirect(self.url_name)
        form = CodeForm(request.POST if action == "valider" else None)
        status = 200
        if form.is_bound:
            status = 400
            if form.is_valid():
                result = challenge_check(
                    flow_ref=pending["flow_ref"], purpose=self.purpose, code=form.cleaned_data["code"]
                )
                if result.ok:
                    response = self.validated(pending)
                    messages.success(request, "Vos coordonnées sont validées.")
                    return response
                form.add_error("code", result.message)
        context = {
            "form": form,
            "masked": mask_destination(pending["channel"], pending["destination"]),
            self.pending_name: pending,
        }
        return self.render(self.code_template, context, status)


def answer_no_sooner(started: float, min_seconds: float) -> None:
    """Wait until ``min_seconds`` have passed since ``started`` (time.monotonic()): the pages
    that answer the same whatever was typed also take the same time, whatever work was done."""
    remaining = min_seconds - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)
