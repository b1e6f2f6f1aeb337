"""Break each security rule on purpose, one at a time, and check that the tests notice.

Each mutation below removes or weakens the code enforcing one property of docs/security.md or
docs/access.md. For each one, the repository's files are copied to a fresh temporary directory
(the working tree is never touched; node_modules/ is linked in), the snippet is replaced there
(with the further edits of a rule enforced in two places, in the same file or another), and the
tests named for it run in the copy: they must fail (CAUGHT). If they pass, the rule is unguarded
(MISSED); if a snippet is not found exactly once, the mutation no longer matches the code (STALE)
and must be updated. The same tests first run on an unmodified copy (once per selection), where they must pass.

    .venv/bin/python tools/mutations.py                 # every mutation (PostgreSQL-only ones skipped)
    .venv/bin/python tools/mutations.py --postgresql    # also the PostgreSQL-only ones
    .venv/bin/python tools/mutations.py --only NAME     # one mutation (repeatable)
    .venv/bin/python tools/mutations.py --list          # the list, nothing run
    .venv/bin/python tools/mutations.py --markdown      # the list as a table for docs/testing.md

With --postgresql, DATABASE_URL and REDIS_URL come from the environment, defaulting to
postgres://postgres@127.0.0.1:5432/mutations and redis://127.0.0.1:6379/3
(pytest-django creates and drops test_mutations; the database "mutations" must exist).
Exit status: 0 when every mutation run is CAUGHT, 1 otherwise.
"""

# ruff: noqa: E501 (the snippets are code lines, kept whole to be found exactly)

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mutations"
# A database of its own: the tests clear the cache, which must not disturb anyone else.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"


@dataclass(frozen=True)
class Mutation:
    name: str
    breaks: str  # the security property this mutation breaks
    file: str
    find: str  # must occur exactly once in ``file``
    replace: str
    tests: tuple[str, ...]
    postgresql_only: bool = False
    # Further (find, replace) pairs in the same file, for a rule enforced in two places at once.
    also: tuple[tuple[str, str], ...] = ()
    # Further (file, find, replace) edits in other files, for a rule enforced in two files at once
    # (a setting of a library and our own check of the same thing).
    elsewhere: tuple[tuple[str, str, str], ...] = ()

    def edits(self) -> tuple[tuple[str, str], ...]:
        return ((self.find, self.replace), *self.also)

    def files(self) -> tuple[str, ...]:
        return (self.file, *dict.fromkeys(file for file, _, _ in self.elsewhere if file != self.file))

    def edits_by_file(self) -> dict[str, list[tuple[str, str]]]:
        by_file: dict[str, list[tuple[str, str]]] = {self.file: list(self.edits())}
        for file, find, replace in self.elsewhere:
            by_file.setdefault(file, []).append((find, replace))
        return by_file


M = Mutation

MUTATIONS: list[Mutation] = [
    # --- The policy table (docs/access.md, the matrix) ---------------------------------------
    M(
        "policy-spouse-sees-dossier",
        "A spouse without delegation (S) does not see the file",
        "moncompte/access/policy.py",
        "Action.SEE_DOSSIER: ({_R, _SP}, set()),",
        "Action.SEE_DOSSIER: ({_R, _SP, _S}, set()),",
        ("tests/access/test_policy.py",),
    ),
    M(
        "policy-member-sees-household",
        "A member (M) does not see the household page",
        "moncompte/access/policy.py",
        "Action.SEE_HOUSEHOLD: ({_R, _SP}, set()),",
        "Action.SEE_HOUSEHOLD: ({_R, _SP, _M}, set()),",
        ("tests/access/test_policy.py",),
    ),
    M(
        "policy-former-spouse-separates",
        "A former spouse (X) can do nothing on the file",
        "moncompte/access/policy.py",
        "Action.DECLARE_SEPARATION: ({_R, _SP, _S}, set()),",
        "Action.DECLARE_SEPARATION: ({_R, _SP, _S, _X}, set()),",
        ("tests/access/test_policy.py",),
    ),
    M(
        "policy-spouse-grants-delegation",
        "Only the responsible person grants the delegation",
        "moncompte/access/policy.py",
        "Action.GRANT_DELEGATION: ({_R}, set()),",
        "Action.GRANT_DELEGATION: ({_R, _SP}, set()),",
        ("tests/access/test_policy.py",),
    ),
    M(
        "policy-responsable-claims-alone",
        "A responsible person cannot create an account alone (names and NIR are not proof)",
        "moncompte/access/policy.py",
        "Action.CLAIM_ALONE: ({_M, _X, _O}, set()),",
        "Action.CLAIM_ALONE: ({_R, _M, _X, _O}, set()),",
        ("tests/access/test_policy.py",),
    ),
    M(
        "policy-ended-membership-still-current",
        "A membership ended on a day is over from that day on (standing X/O)",
        "moncompte/households/models.py",
        "return ended_on is None or ended_on > (on or datetime.date.today())",
        "return ended_on is None or ended_on >= (on or datetime.date.today())",
        ("tests/access/test_policy.py",),
    ),
    M(
        "visible-to-ignores-ended-memberships",
        "visible_to keeps only current memberships (a separated spouse sees nothing)",
        "moncompte/households/models.py",
        "return models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=on)",
        "return models.Q(ended_on__isnull=True) | models.Q(ended_on__isnull=False)",
        ("tests/access/test_policy.py",),
    ),
    M(
        "visible-to-ignores-delegation",
        "visible_to gives S+ only with a granted delegation",
        "moncompte/access/policy.py",
        "Standing.SPOUSE_DELEGATED: is_current & spouse & Q(delegation_granted_at__isnull=False),",
        "Standing.SPOUSE_DELEGATED: is_current & spouse,",
        ("tests/access/test_policy.py",),
    ),
    M(
        "visible-to-not-the-persons-rows",
        "visible_to looks at the person's own membership rows only",
        "moncompte/access/policy.py",
        'rows = Member.objects.filter(dossier=OuterRef("pk"), person=person).filter(membership_condition(action, on))',
        'rows = Member.objects.filter(dossier=OuterRef("pk")).filter(membership_condition(action, on))',
        ("tests/access/test_policy.py",),
    ),
    # --- Selectors and pages ----------------------------------------------------------------
    M(
        "selector-overview-without-check",
        "dossier_overview refuses who may not see the file (NotAllowed)",
        "moncompte/households/selectors.py",
        "    if not decide(person=actor.subject, dossier=dossier, action=Action.SEE_DOSSIER).allowed:\n        raise NotAllowed()\n",
        "",
        ("tests/access/test_selectors.py",),
    ),
    M(
        "selector-household-without-own-check",
        "household_members only from the actor's own membership allowing SEE_HOUSEHOLD",
        "moncompte/households/selectors.py",
        "    _own(actor, membership, Action.SEE_HOUSEHOLD)\n",
        "",
        ("tests/access/test_selectors.py",),
    ),
    M(
        "selector-membership-for-any-row",
        "membership_for returns only a membership where the action is allowed",
        "moncompte/households/selectors.py",
        "member = allowed_memberships(actor.subject, *actions).select_related",
        "member = Member.objects.filter(person=actor.subject).select_related",
        ("tests/access/test_selectors.py",),
    ),
    M(
        "home-lists-every-member-of-the-caf",
        "The home page lists only the members of files the person may see (not every file of the same Caf)",
        "moncompte/households/selectors.py",
        "            members[member.dossier_id].append(member)",
        "            members[ids[0]].append(member)",
        ("tests/web/test_access_matrix.py::test_nobody_reads_anything_of_a_file_they_may_not_see",),
        also=(
            (
                "    ids = [d.pk for d in dossiers]\n",
                '    ids = [d.pk for d in dossiers] + list(Dossier.objects.filter(caf__in=[d.caf_id for d in dossiers]).exclude(pk__in=[d.pk for d in dossiers]).values_list("pk", flat=True))\n',
            ),
        ),
    ),
    M(
        "home-shows-files-without-see-dossier",
        "The home page shows a file's content only where the policy gives SEE_DOSSIER",
        "moncompte/households/selectors.py",
        "    visible = [m.dossier for m in mine if allowed_on_whole_file(m.standing, Action.SEE_DOSSIER)]",
        "    visible = [m.dossier for m in mine]",
        ("tests/web/test_access_matrix.py::test_nobody_reads_anything_of_a_file_they_may_not_see",),
    ),
    M(
        "overviews-every-file-of-the-caf",
        "dossier_overviews reads only the files the actor may see (the scoped read)",
        "moncompte/households/selectors.py",
        'files = dossiers_for(actor=actor, action=Action.SEE_DOSSIER).select_related("caf").order_by("id")',
        'files = Dossier.objects.filter(caf__in=[m.dossier.caf_id for m in memberships_for(actor=actor, action=Action.SEE_DOSSIER)]).select_related("caf").order_by("id")',
        ("tests/access/test_scoped_reads_guard.py", "tests/access/test_selectors.py"),
    ),
    M(
        "not-allowed-answers-403",
        "A refusal answers 404, never 403 (a refusal does not tell that the thing exists)",
        "moncompte/web/errors.py",
        "        except NotAllowed as error:\n            raise http404_for(error) from None",
        "        except NotAllowed:\n            from django.core.exceptions import PermissionDenied\n\n            raise PermissionDenied() from None",
        ("tests/web/test_access_matrix.py", "tests/web/test_household_pages.py"),
    ),
    M(
        "not-allowed-middleware-removed",
        "A NotAllowed that reaches no view handler answers 404, not 500",
        "moncompte/web/middleware.py",
        "        if isinstance(exception, NotAllowed):\n            # Raised from here, the Http404 goes through the project's 404 handler.\n            raise http404_for(exception) from None\n",
        "",
        ("tests/web/test_not_allowed_guard.py",),
    ),
    # --- Delegation and separation ----------------------------------------------------------
    M(
        "revoke-asks-grant-policy",
        "Revoke is decided by REVOKE_DELEGATION, renounce by RENOUNCE_DELEGATION (not swapped)",
        "moncompte/households/services.py",
        "return _withdraw(actor=actor, dossier=dossier, password=password, action=Action.REVOKE_DELEGATION)",
        "return _withdraw(actor=actor, dossier=dossier, password=password, action=Action.RENOUNCE_DELEGATION)",
        ("tests/households/test_delegation.py",),
    ),
    M(
        "renounce-by-anyone-of-the-couple",
        "Only the delegated spouse renounces (R never renounces)",
        "moncompte/households/services.py",
        "    if not _may(actor, dossier, action):\n        raise DelegationNotAllowed()\n    _reauthenticate(actor, password, dossier)\n    renounced",
        "    _reauthenticate(actor, password, dossier)\n    renounced",
        ("tests/households/test_delegation.py",),
    ),
    M(
        "grant-not-rechecked-under-lock",
        "The delegation grant asks the policy again on the locked rows",
        "moncompte/households/services.py",
        "        if not decide_for_standing(standing_of(me), Action.GRANT_DELEGATION).allowed:\n            raise DelegationNotAllowed()\n",
        "",
        ("tests/households/test_delegation.py",),
    ),
    M(
        "delegation-without-reauth",
        "Changing a delegation asks for the password again",
        "moncompte/households/services.py",
        '    reauthenticate(actor=actor, password=password, purpose="delegation", dossier=dossier)',
        "    pass",
        ("tests/households/test_delegation.py",),
    ),
    M(
        "separation-keeps-spouse-access",
        "The former spouse's access ends at once (ended_on = the day of the declaration)",
        "moncompte/households/services.py",
        "        spouse.ended_on = today\n",
        "        spouse.ended_on = today + datetime.timedelta(days=1)\n",
        ("tests/households/test_delegation.py",),
    ),
    M(
        "separation-by-anyone",
        "A separation is declared by R, S+ or S only",
        "moncompte/households/services.py",
        "        if not decide_for_standing(standing_of(me), Action.DECLARE_SEPARATION).allowed:\n            raise SeparationNotAllowed()\n",
        "",
        ("tests/households/test_delegation.py",),
    ),
    # --- Re-authentication ------------------------------------------------------------------
    M(
        "reauth-not-throttled",
        "Re-authentication is throttled per account (a stolen session cannot guess the password)",
        "moncompte/accounts/reauth.py",
        "        throttling.scopes_failed(scope)\n",
        "",
        ("tests/accounts/test_reauth.py",),
    ),
    M(
        "reauth-not-journaled",
        "Each wrong re-authentication is journaled (reauth.failure)",
        "moncompte/accounts/reauth.py",
        "            journal_record(action=JournalAction.REAUTH_FAILURE, actor=actor, dossier=dossier, detail=detail)\n",
        "            pass\n",
        ("tests/accounts/test_reauth.py",),
    ),
    M(
        "reauth-throttled-answer-checks-password",
        "A throttled re-authentication checks nothing, even the right password waits",
        "moncompte/accounts/reauth.py",
        "    wait = throttling.scopes_wait(scope)\n    if wait:",
        "    wait = throttling.scopes_wait(scope)\n    if wait and not account.check_password(password):",
        ("tests/accounts/test_reauth.py",),
    ),
    M(
        "contact-change-without-reauth",
        "Changing a validated contact needs the password, through the throttled re-authentication",
        "moncompte/web/contacts/views.py",
        "        try:\n            reauthenticate(\n",
        "        try:\n            return None\n            reauthenticate(\n",
        ("tests/web/test_contact_validation.py",),
    ),
    M(
        "password-change-without-reauth",
        "Changing the password needs the current password (throttled, journaled)",
        "moncompte/accounts/recovery.py",
        '        reauthenticate(actor=actor, password=current_password, purpose="password_change")',
        "        pass",
        ("tests/accounts/test_recovery.py",),
    ),
    # --- Sign-in ----------------------------------------------------------------------------
    M(
        "signin-dummy-hash-cheap",
        "An unknown identifier costs one Argon2 verification with the production parameters",
        "moncompte/accounts/signin.py",
        '_dummy_hash_cache[key] = make_password("no account has this password")',
        # An Argon2 hash with cheap parameters: verified by the same hasher, at a fraction of the work.
        '_dummy_hash_cache[key] = make_password("no account has this password", hasher=type("Cheap", (__import__("django.contrib.auth.hashers").contrib.auth.hashers.Argon2PasswordHasher,), {"memory_cost": 8, "time_cost": 1})())',
        ("tests/accounts/test_signin.py", "-k", "argon2 or costs"),
    ),
    M(
        "signin-unknown-skips-dummy-verification",
        "A person without account costs the same work as a real verification",
        "moncompte/accounts/signin.py",
        "        check_password(password, _dummy_hash())\n",
        "",
        ("tests/accounts/test_signin.py", "-k", "argon2 or costs"),
    ),
    M(
        "signin-unknown-throttled-per-address-only",
        "Unknown identifiers are counted per identifier like known ones (same answer after N failures)",
        "moncompte/accounts/signin.py",
        "        throttling.signin_failed(identifier_digest=digest, address=address, device_token=device_token)",
        "        throttling.signin_failed(\n            identifier_digest=digest if holder is not None else __import__('secrets').token_hex(8),\n            address=address,\n            device_token=device_token,\n        )",
        ("tests/accounts/test_signin.py", "-k", "Throttl or throttl or same"),
    ),
    M(
        "signin-no-per-identifier-throttling",
        "Failures are throttled per identifier",
        "moncompte/accounts/throttling.py",
        'identifier_key = f"throttle:identifier:{_short(identifier_digest)}"',
        'identifier_key = f"throttle:identifier:{_short(identifier_digest + secrets.token_hex(8))}"',
        ("tests/accounts/test_signin.py", "-k", "Throttl or throttl or wait"),
    ),
    M(
        "signin-no-per-address-throttling",
        "Failures are throttled per client address (no spraying of identifiers)",
        "moncompte/accounts/throttling.py",
        '        f"throttle:{purpose}:address:{_short(address)}",',
        '        f"throttle:{purpose}:address:{_short(address + secrets.token_hex(8))}",',
        ("tests/accounts/test_signin.py", "-k", "address or spraying"),
    ),
    M(
        "device-token-not-checked",
        "A device token counts apart only when its HMAC holds for that identifier",
        "moncompte/accounts/throttling.py",
        "    return hmac.compare_digest(mac.encode(), _device_mac(nonce, identifier_digest).encode())",
        "    return True",
        ("tests/accounts/test_throttling_guard.py",),
    ),
    M(
        "device-token-not-bound-to-identifier",
        "A device token counts apart only for the identifier it was given for",
        "moncompte/accounts/throttling.py",
        'settings.SECRET_KEY.encode(), f"device:{nonce}:{identifier_digest}".encode(), hashlib.sha256',
        'settings.SECRET_KEY.encode(), f"device:{nonce}".encode(), hashlib.sha256',
        ("tests/accounts/test_throttling_guard.py",),
    ),
    M(
        "device-token-ignored",
        "The owner's usual browser is counted apart (a stranger cannot lock them out)",
        "moncompte/accounts/throttling.py",
        "    if device_token and device_token_matches(device_token, identifier_digest):\n        identifier_key = ",
        "    if False:\n        identifier_key = ",
        ("tests/accounts/test_signin.py", "-k", "stranger"),
    ),
    M(
        "signin-inactive-account-checked",
        "An inactive account cannot sign in",
        "moncompte/accounts/signin.py",
        "    if account is not None and account.is_active and account.has_usable_password():",
        "    if account is not None and account.has_usable_password():",
        ("tests/accounts/test_signin.py", "-k", "inactive"),
    ),
    M(
        "session-key-not-renewed",
        "The session key is renewed at sign-in (no session fixation)",
        "moncompte/web/signin/session.py",
        "        login(request, account, backend=_BACKEND)\n",
        "        request.session.cycle_key = lambda: None\n        login(request, account, backend=_BACKEND)\n",
        ("tests/accounts/test_signin.py", "-k", "renewed"),
    ),
    M(
        "session-idle-limit-ignored",
        "A session idle for too long ends",
        "moncompte/web/middleware.py",
        "                or now - seen_at > settings.MONCOMPTE_SESSION_IDLE_SECONDS\n",
        "",
        ("tests/accounts/test_signin.py", "-k", "idle"),
    ),
    M(
        "session-absolute-limit-ignored",
        "A session older than the absolute limit ends, even when active",
        "moncompte/web/middleware.py",
        "                now - auth_at > settings.MONCOMPTE_SESSION_ABSOLUTE_SECONDS\n                or ",
        "                ",
        ("tests/accounts/test_signin.py", "-k", "absolute"),
    ),
    M(
        "deactivation-keeps-sessions",
        "A deactivated account loses every session",
        "moncompte/accounts/services.py",
        '        ended = sessions_end_all(actor=actor, account=locked, reason="account_deactivated", journal=False)',
        "        ended = 0",
        ("tests/accounts/test_sessions.py", "-k", "deactivated or inactive"),
    ),
    M(
        "backend-loads-inactive-account",
        "The session of an account made inactive otherwise is refused at its next request",
        "moncompte/accounts/backends.py",
        "        return account if account.is_active else None",
        "        return account",
        ("tests/accounts/test_sessions.py", "-k", "deactivated or inactive"),
    ),
    M(
        "account-usable-without-contact",
        "An account is usable only once a contact is validated (domain rule, every channel)",
        "moncompte/accounts/services.py",
        "    return account is not None and account.is_active and account.contact_validated_at is not None",
        "    return account is not None and account.is_active",
        ("tests/web/test_contact_validation.py", "tests/accounts/test_services.py"),
    ),
    M(
        "next-open-redirect",
        "?next= is followed only to this site",
        "moncompte/web/signin/targets.py",
        '    if not value.startswith("/") or value.startswith(("//", "/\\\\")) or "\\\\" in value:',
        '    if not value.startswith("/"):',
        ("tests/web/test_signin_next.py",),
    ),
    M(
        "proxy-address-first-entry",
        "The client address is the entry MONCOMPTE_TRUSTED_PROXY_COUNT from the end of X-Forwarded-For",
        "moncompte/web/actors.py",
        "            entry = forwarded[-proxies]",
        "            entry = forwarded[0]",
        ("tests/web/test_pages.py", "-k", "proxy or proxies"),
    ),
    # --- Every page -------------------------------------------------------------------------
    M(
        "no-store-removed",
        "Every answer is Cache-Control: private, no-store",
        "moncompte/web/middleware.py",
        '        response["Cache-Control"] = "private, no-store, max-age=0"\n',
        "",
        ("tests/web/test_pages.py", "-k", "private"),
    ),
    M(
        "vary-cookie-removed",
        "Every answer varies on Cookie",
        "moncompte/web/middleware.py",
        '        patch_vary_headers(response, ("Cookie",))\n',
        "",
        ("tests/web/test_headers_guard.py",),
    ),
    M(
        "csp-inline-script-allowed",
        "Content Security Policy allows no inline script",
        "config/settings.py",
        '"script-src": [SELF, NONCE],',
        '"script-src": [SELF, NONCE, "\'unsafe-inline\'"],',
        ("tests/web/test_pages.py", "-k", "security_headers"),
    ),
    M(
        "csp-frame-ancestors-removed",
        "No page may be framed (frame-ancestors 'none', X-Frame-Options DENY)",
        "config/settings.py",
        '        "frame-ancestors": [NONE],\n',
        "",
        ("tests/web/test_pages.py", "-k", "security_headers"),
    ),
    M(
        "x-frame-options-sameorigin",
        "X-Frame-Options: DENY",
        "config/settings.py",
        'X_FRAME_OPTIONS = "DENY"',
        'X_FRAME_OPTIONS = "SAMEORIGIN"',
        ("tests/web/test_pages.py", "-k", "security_headers"),
    ),
    M(
        "hsts-removed-in-production",
        "HSTS in production",
        "config/settings.py",
        '    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 63072000, min=0)\n',
        "",
        ("tests/web/test_headers_guard.py",),
    ),
    M(
        "https-redirect-off-in-production",
        "HTTPS redirect in production",
        "config/settings.py",
        'SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)',
        'SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)',
        ("tests/web/test_headers_guard.py",),
    ),
    M(
        "session-cookie-not-secure-in-production",
        "Session cookies are Secure in production",
        "config/settings.py",
        'SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)',
        'SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)',
        ("tests/web/test_headers_guard.py",),
    ),
    M(
        "session-cookie-not-httponly",
        "Session cookies are HttpOnly and SameSite=Lax",
        "config/settings.py",
        "SESSION_COOKIE_HTTPONLY = True",
        "SESSION_COOKIE_HTTPONLY = False",
        ("tests/accounts/test_signin.py", "-k", "cookie_flags"),
    ),
    M(
        "signout-by-get",
        "Sign-out by POST only",
        "moncompte/web/signin/views.py",
        "@login_not_required\n@require_POST\ndef signout_view(request):",
        "@login_not_required\ndef signout_view(request):",
        ("tests/accounts/test_signin.py", "-k", "signout"),
    ),
    M(
        "login-required-middleware-removed",
        "Sign-in required on every page unless marked login_not_required",
        "config/settings.py",
        '    "django.contrib.auth.middleware.LoginRequiredMiddleware",\n',
        "",
        ("tests/web/test_pages.py", "-k", "need_sign_in"),
    ),
    M(
        "csrf-middleware-removed",
        "CSRF on every form",
        "config/settings.py",
        '    "django.middleware.csrf.CsrfViewMiddleware",\n',
        "",
        ("tests/web/test_pages.py", "-k", "csrf"),
    ),
    M(
        "session-end-of-another-account",
        "A person ends only their own sessions (another's session id answers 404)",
        "moncompte/accounts/sessions.py",
        "                account=actor.account, id=session_id, ended_at__isnull=True\n",
        "                id=session_id, ended_at__isnull=True\n",
        ("tests/accounts/test_sessions.py", "-k", "someone_elses"),
    ),
    M(
        "password-change-keeps-other-sessions",
        "A password change ends every other session",
        "moncompte/accounts/recovery.py",
        '        ended = sessions_end_all(actor=actor, except_session_key=actor.session_key, reason="password_changed")',
        "        ended = 0",
        ("tests/accounts/test_recovery.py",),
    ),
    # --- Journal ----------------------------------------------------------------------------
    M(
        "home-view-not-journaled",
        "Every display of personal data (home.view, with the file shown) is journaled",
        "moncompte/web/home/views.py",
        "        journal_record(action=JournalAction.HOME_VIEW, actor=actor, dossier=dossier)",
        "        pass",
        ("tests/audit/test_journal.py",),
    ),
    M(
        "signin-failure-not-journaled",
        "Every failed sign-in is journaled",
        "moncompte/accounts/signin.py",
        "        journal_record(action=JournalAction.SIGNIN_FAILURE, actor=actor, subject_person=holder)",
        "        pass",
        ("tests/audit/test_journal.py",),
    ),
    M(
        "journal-queryset-update-allowed",
        "The application cannot update or delete journal entries",
        "moncompte/audit/models.py",
        '    def update(self, **kwargs):\n        raise AppendOnlyError("The journal is append-only.")',
        "    def update(self, **kwargs):\n        return super().update(**kwargs)",
        ("tests/audit/test_journal.py",),
    ),
    M(
        "journal-save-update-allowed",
        "A journal entry once written cannot be saved again",
        "moncompte/audit/models.py",
        "        if self.pk is not None and not self._state.adding:\n            raise AppendOnlyError",
        "        if False:\n            raise AppendOnlyError",
        ("tests/audit/test_journal.py",),
    ),
    M(
        "journal-not-chained",
        "Entries are chained by HMAC: a change behind the application is detected",
        "moncompte/audit/services.py",
        'settings.MONCOMPTE_AUDIT_KEY.encode(), previous.encode() + b"|" + _content(entry), hashlib.sha256',
        "settings.MONCOMPTE_AUDIT_KEY.encode(), previous.encode(), hashlib.sha256",
        ("tests/audit/test_journal.py",),
    ),
    M(
        "journal-undeclared-action",
        "An undeclared journal action is refused",
        "moncompte/audit/services.py",
        "    action = JournalAction(action)  # an undeclared action is a programming error: ValueError",
        "    action = JournalAction(action) if action in JournalAction.values else type('A', (), {'value': action})()",
        ("tests/audit/test_journal.py",),
    ),
    M(
        "journal-session-key-in-clear",
        "The journal keeps a keyed digest of the session key, never the key",
        "moncompte/audit/services.py",
        "    return hmac.new(settings.MONCOMPTE_AUDIT_KEY.encode(), session_key.encode(), hashlib.sha256).hexdigest()[:32]",
        "    return session_key[:32]",
        ("tests/audit/test_journal.py",),
    ),
    M(
        "journal-trigger-removed",
        "On PostgreSQL a trigger refuses UPDATE and DELETE of the journal from any client",
        "moncompte/audit/migrations/0002_append_only_trigger.py",
        "        schema_editor.execute(CREATE)",
        "        pass",
        ("tests/audit/test_journal.py::test_database_refuses_updates_on_postgresql",),
        postgresql_only=True,
    ),
    # --- One-time codes ---------------------------------------------------------------------
    M(
        "code-tries-unlimited",
        "A one-time code allows 5 tries",
        "moncompte/verification/services.py",
        "        if challenge.attempts >= max_attempts:\n            return CheckResult(CheckOutcome.EXHAUSTED, challenge=challenge)\n",
        "",
        ("tests/verification/test_codes.py",),
    ),
    M(
        "code-never-expires",
        "A one-time code expires after 10 minutes",
        "moncompte/verification/services.py",
        "        if now >= challenge.expires_at:\n            return CheckResult(CheckOutcome.EXPIRED, challenge=challenge)\n",
        "",
        ("tests/verification/test_codes.py",),
    ),
    M(
        "code-reusable",
        "A one-time code is single use (both layers removed: the used check and the conditional update)",
        "moncompte/verification/services.py",
        "        if challenge.consumed_at is not None:\n            return CheckResult(CheckOutcome.USED, challenge=challenge)\n",
        "",
        ("tests/verification/test_codes.py",),
        also=(
            (
                "ContactChallenge.objects.filter(pk=challenge.pk, consumed_at__isnull=True).update(",
                "ContactChallenge.objects.filter(pk=challenge.pk).update(",
            ),
        ),
    ),
    M(
        "code-stored-in-clear",
        "Only the keyed hash of a code is stored",
        "moncompte/verification/services.py",
        "        code_digest=_digest(flow_ref=flow_ref, purpose=purpose, code=code),",
        "        code_digest=code,",
        ("tests/verification/test_codes.py",),
    ),
    M(
        "code-check-without-conditional-update",
        "Single use under concurrent checks: the conditional update consumes once",
        "moncompte/verification/services.py",
        "ContactChallenge.objects.filter(pk=challenge.pk, consumed_at__isnull=True).update(",
        "ContactChallenge.objects.filter(pk=challenge.pk).update(",
        ("tests/integration/test_code_reuse_race.py",),
        postgresql_only=True,
    ),
    M(
        "code-check-without-lock",
        "Single use under concurrent checks: the check locks the challenge row",
        "moncompte/verification/services.py",
        "        challenge = challenge_current(flow_ref=flow_ref, purpose=purpose, lock=True)\n        if challenge is None:\n            return CheckResult(CheckOutcome.NONE)",
        "        challenge = challenge_current(flow_ref=flow_ref, purpose=purpose, lock=False)\n        if challenge is None:\n            return CheckResult(CheckOutcome.NONE)",
        ("tests/integration/test_code_reuse_race.py",),
        postgresql_only=True,
    ),
    M(
        "code-destination-rate-unlimited",
        "At most 10 codes an hour to one destination (no SMS bombing)",
        "moncompte/verification/services.py",
        "    if recent.count() >= limit:",
        "    if False:",
        ("tests/verification/test_codes.py",),
    ),
    # --- First connection and the old code --------------------------------------------------
    M(
        "legacy-no-daily-cap",
        "At most 5 wrong old codes a day per client and numéro",
        "moncompte/accounts/legacy.py",
        "MAX_WRONG_CODES_PER_CLIENT_PER_DAY = 5",
        "MAX_WRONG_CODES_PER_CLIENT_PER_DAY = 50",
        ("tests/accounts/test_first_connection.py",),
    ),
    M(
        "legacy-no-weekly-cap",
        "At most 10 wrong old codes a week per client and numéro",
        "moncompte/accounts/legacy.py",
        "MAX_WRONG_CODES_PER_CLIENT_PER_WEEK = 10",
        "MAX_WRONG_CODES_PER_CLIENT_PER_WEEK = 100",
        ("tests/accounts/test_first_connection.py", "-k", "week"),
    ),
    M(
        "first-connection-nir-not-checked",
        "The NIR typed at the first connection must be a current R or spouse of that file",
        "moncompte/accounts/first_connection.py",
        "    if not _may_claim(dossier, person):\n        journal_record(",
        "    if person is None:\n        journal_record(",
        ("tests/accounts/test_first_connection.py",),
    ),
    M(
        "first-connection-not-rechecked-at-completion",
        "The first connection re-checks the NIR's standing under the lock at completion",
        "moncompte/accounts/first_connection.py",
        '        if not _may_claim(credential.dossier, person):\n            raise FirstConnectionError(NOT_ELIGIBLE, code="not_eligible")\n',
        "",
        ("tests/accounts/test_first_connection.py",),
    ),
    M(
        "first-connection-code-not-retired",
        "The web retires the old code at the first connection",
        "moncompte/accounts/first_connection.py",
        "        credential.retired_on_web_at = timezone.now()\n",
        "",
        ("tests/accounts/test_first_connection.py",),
    ),
    M(
        "first-connection-without-row-lock",
        "Two first connections of one file are serialized by the credential's row lock",
        "moncompte/accounts/first_connection.py",
        'credential = LegacyCredential.objects.select_for_update().select_related("dossier").get(dossier_id=dossier_id)',
        'credential = LegacyCredential.objects.select_related("dossier").get(dossier_id=dossier_id)',
        (
            "tests/integration/test_first_connection_race.py::test_a_second_first_connection_of_the_file_waits_then_stops",
        ),
        postgresql_only=True,
    ),
    M(
        "first-connection-no-address-throttling",
        "First connection: growing waits per client address on wrong codes",
        "moncompte/accounts/first_connection.py",
        "        throttling.scopes_failed(address_scope)\n",
        "        pass\n",
        ("tests/accounts/test_first_connection.py", "-k", "address or throttled"),
    ),
    M(
        "phone-ignores-end-date",
        "The phone refuses the old code from the end date on",
        "moncompte/accounts/legacy.py",
        "    return (today or timezone.localdate()) < legacy_code_phone_until()",
        "    return True",
        ("tests/accounts/test_first_connection.py", "-k", "phone or end_date"),
    ),
    M(
        "phone-end-date-included",
        "The end date itself is excluded (the phone refuses on that day)",
        "moncompte/accounts/legacy.py",
        "    return (today or timezone.localdate()) < legacy_code_phone_until()",
        "    return (today or timezone.localdate()) <= legacy_code_phone_until()",
        ("tests/accounts/test_first_connection.py", "-k", "phone or end_date"),
    ),
    # --- Account creation alone -------------------------------------------------------------
    M(
        "signup-claim-rechecked-at-acceptance",
        "A claimed NIR is bound at the identity check's acceptance only if nobody holds it by then, a former holder included",
        "moncompte/accounts/signup.py",
        "    if FormerIdentifier.objects.with_identifier(claimed.value).exists():\n        raise _Refused\n",
        "",
        ("tests/accounts/test_signup_claims.py", "-k", "acceptance"),
    ),
    M(
        "signup-binding-race-caught",
        "A holder written between the re-check and the binding is refused cleanly (unique digest)",
        "moncompte/accounts/signup.py",
        "    except (RekeyError, IntegrityError):\n        raise _Refused from None",
        "    except RekeyError:\n        raise _Refused from None",
        ("tests/accounts/test_signup_claims.py", "-k", "between_the_recheck"),
    ),
    # --- Invitations ------------------------------------------------------------------------
    M(
        "invitation-reusable",
        "An invitation link serves once",
        "moncompte/households/invitations.py",
        "    if invitation.accepted_at is not None or invitation.cancelled_at is not None:",
        "    if invitation.cancelled_at is not None:",
        ("tests/households/test_invitations.py",),
    ),
    M(
        "invitation-never-expires",
        "An invitation lives 7 days",
        "moncompte/households/invitations.py",
        '    if invitation.expires_at <= timezone.now():\n        raise InvitationError(EXPIRED, code="expired")',
        '    if False:\n        raise InvitationError(EXPIRED, code="expired")',
        ("tests/households/test_invitations.py",),
    ),
    M(
        "invitation-token-stored-in-clear",
        "Only the HMAC of an invitation token is stored",
        "moncompte/households/invitations.py",
        "            token_digest=token_digest(token),\n            created_at=now,",
        "            token_digest=token,\n            created_at=now,",
        ("tests/households/test_invitations.py",),
    ),
    M(
        "invitation-tries-never-cancel",
        "5 wrong identity proofs cancel the invitation",
        "moncompte/households/invitations.py",
        "            capped = locked.failed_attempts >= settings.MONCOMPTE_INVITATION_MAX_ATTEMPTS",
        "            capped = False",
        ("tests/households/test_invitations.py",),
    ),
    M(
        "invitation-by-anyone",
        "Only R and S+ invite (INVITE_MEMBER on the whole file)",
        "moncompte/households/invitations.py",
        "    return allowed_on_whole_file(standing_of(member), Action.INVITE_MEMBER)",
        "    return member is not None",
        ("tests/households/test_invitations.py",),
    ),
    M(
        "invitation-sends-uncapped",
        "At most 5 invitations sent to a member a day",
        "moncompte/households/invitations.py",
        "MAX_SENDS_PER_MEMBER_PER_DAY = 5",
        "MAX_SENDS_PER_MEMBER_PER_DAY = 50",
        ("tests/households/test_invitations_guard.py",),
    ),
    M(
        "invitation-send-cap-check-removed",
        "At most 5 invitations sent to a member a day (the check itself)",
        "moncompte/households/invitations.py",
        "        if recent >= MAX_SENDS_PER_MEMBER_PER_DAY:",
        "        if False:",
        ("tests/households/test_invitations.py", "tests/households/test_invitations_guard.py"),
    ),
    # --- Password reset ---------------------------------------------------------------------
    M(
        "reset-unknown-without-decoys",
        "A reset request answers and works the same for an unknown identifier (decoys)",
        "moncompte/accounts/recovery.py",
        "            if contact is None:\n                challenge_decoy(purpose=Purpose.PASSWORD_RESET, channel=channel, flow_ref=flow_ref)\n                continue",
        "            if contact is None:\n                continue",
        ("tests/accounts/test_recovery.py",),
    ),
    M(
        "reset-unknown-not-counted",
        "Reset requests count for known and unknown identifiers alike",
        "moncompte/accounts/recovery.py",
        "    # Every request counts, known identifier or not: each one may send messages.\n    throttling.scopes_failed(scopes)\n\n    person, former = identifier_holder(identifier)",
        "    person, former = identifier_holder(identifier)\n    if person is not None:\n        throttling.scopes_failed(scopes)",
        ("tests/accounts/test_recovery.py",),
    ),
    M(
        "reset-keeps-sessions",
        "A password reset ends every session",
        "moncompte/accounts/recovery.py",
        '        ended = sessions_end_all(actor=proven, account=account, reason="password_reset")',
        "        ended = 0",
        ("tests/accounts/test_recovery.py",),
    ),
    # --- Identifiers ------------------------------------------------------------------------
    M(
        "log-redaction-off",
        "Identifiers and secrets are never logged (RedactSecretsFilter)",
        "moncompte/logging.py",
        "        if cleaned != message:\n            record.msg, record.args = cleaned, None",
        "        if False:\n            record.msg, record.args = cleaned, None",
        ("tests/test_logging_guard.py",),
    ),
    M(
        "identifier-digest-unkeyed",
        "Identifiers are looked up by a keyed HMAC digest",
        "moncompte/identity/protection.py",
        "    return _digest(_hmac_keys()[0], _require_canonical(value))",
        "    return hashlib.sha256(_require_canonical(value)).hexdigest()",
        ("tests/identity/test_protection.py",),
    ),
    # --- Own data ---------------------------------------------------------------------------
    M(
        "export-journal-of-everyone",
        "The export holds only the person's own data (journal entries about them)",
        "moncompte/audit/models.py",
        "        return self.filter(models.Q(subject_person=person) | models.Q(actor_person=person))",
        "        return self.all()",
        ("tests/identity/test_own_data.py",),
    ),
    M(
        "export-shows-others-addresses",
        "The export leaves out another identified person's address",
        "moncompte/identity/own_data.py",
        '                "adresse_ip": entry["client_address"] if by != "autre_personne" else None,',
        '                "adresse_ip": entry["client_address"],',
        ("tests/identity/test_own_data.py",),
    ),
    M(
        "separation-address-in-journal",
        "The new address of a separation is not in the journal",
        "moncompte/households/services.py",
        '                "situation_change_id": change.pk,\n',
        '                "situation_change_id": change.pk,\n                "new_address": address,\n',
        ("tests/households/test_delegation.py", "-k", "separation"),
    ),
    # --- Issue 8: what an attacker found ----------------------------------------------------
    M(
        "legacy-file-wait-short",
        "Strangers' wrong codes on one numéro slow every client, waits doubling up to an hour (the guess budget)",
        "moncompte/accounts/legacy.py",
        "FILE_WAIT_MAX_SECONDS = 3600",
        "FILE_WAIT_MAX_SECONDS = 60",
        ("tests/accounts/test_first_connection_oracle.py", "-k", "budget"),
    ),
    M(
        "legacy-cap-per-file",
        "A client's cap on a numéro is its own: strangers cannot lock the allocataire out",
        "moncompte/accounts/legacy.py",
        "        mine_today = [at for client, at in today if client == client_key]",
        "        mine_today = [at for client, at in today]",
        ("tests/accounts/test_first_connection_oracle.py", "-k", "strangers or own"),
    ),
    M(
        "unlock-sends-without-password",
        "The sign-in unlock sends a code only after the right password",
        "moncompte/accounts/unlock.py",
        "    if not password_ok:\n        account = None\n",
        "",
        ("tests/web/test_signin_unlock.py",),
    ),
    M(
        "unlock-code-not-required",
        "The sign-in unlock needs the code sent to a validated contact",
        "moncompte/accounts/unlock.py",
        "    if proven is not None and account_id is not None and proven.challenge.account_id == account_id:",
        "    if account_id is not None:",
        ("tests/web/test_signin_unlock.py",),
    ),
    M(
        "unlock-shared-counter",
        "The unlock counts per client address, never on a counter a stranger can fill for the person",
        "moncompte/accounts/unlock.py",
        '    return [throttling.address_scope(ADDRESS_SCOPE, actor.client_address or "")]',
        '    return [throttling.address_scope(ADDRESS_SCOPE, "")]',
        ("tests/web/test_signin_unlock.py",),
    ),
    M(
        "invitation-wrong-codes-not-counted",
        "Wrong invitation codes are counted per address",
        "moncompte/households/invitations.py",
        "        throttling.scopes_failed(scope)",
        "        pass",
        ("tests/households/test_invitations.py", "tests/web/test_invitation_pages.py"),
    ),
    M(
        "invitation-code-in-path",
        "The invitation code travels in the link's fragment, never in a URL sent to the server",
        "moncompte/households/invitations.py",
        '    return settings.MONCOMPTE_PUBLIC_URL.rstrip("/") + INVITATION_PATH + "#" + code',
        '    return settings.MONCOMPTE_PUBLIC_URL.rstrip("/") + INVITATION_PATH + code + "/"',
        ("tests/households/test_invitations.py", "tests/web/test_invitation_pages.py"),
    ),
    M(
        "access-log-not-redacted",
        "The access log goes through the redaction filter",
        "moncompte/logging.py",
        '                "filters": ["redact_one_line"],',
        '                "filters": [],',
        ("tests/test_logging_guard.py",),
    ),
    M(
        "sessions-cached",
        "Sessions are read from the database, never from a cache that could bring back an ended one",
        "config/settings.py",
        'SESSION_ENGINE = "moncompte.web.session_store"',
        'SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"',
        ("tests/web/test_cache_outage.py",),
    ),
    M(
        "document-pixel-limit",
        "Uploaded images are refused above the pixel limit, read from the header before decoding",
        "moncompte/identity/document_parsing.py",
        '        if width * height > limits.max_pixels:\n            raise Refused("too_many_pixels")\n        if jpeg',
        '        if False:\n            raise Refused("too_many_pixels")\n        if jpeg',
        ("tests/identity/test_document_parsing.py",),
        also=(("    Image.MAX_IMAGE_PIXELS = limits.max_pixels\n", "    Image.MAX_IMAGE_PIXELS = None\n"),),
    ),
    M(
        "document-stored-as-sent",
        "The stored copy of an image is the decoded and re-encoded one",
        "moncompte/identity/document_parsing.py",
        "        image.load()  # the whole picture: a truncated or corrupt file raises here\n",
        "        return data\n",
        ("tests/identity/test_document_parsing.py",),
    ),
    M(
        "document-bomb-not-counted",
        "A PDF's decompressed bytes stay within the budget (decompression bombs)",
        "moncompte/identity/document_parsing.py",
        '        budget.spend("decoded", len(piece))\n',
        "        pass\n",
        ("tests/identity/test_document_parsing.py", "-k", "bomb"),
    ),
    M(
        "document-active-content",
        "PDFs with active content (JavaScript, actions, embedded files) are refused",
        "moncompte/identity/document_parsing.py",
        "                if name in _PDF_ACTIVE_KEYS:\n",
        "                if False:\n",
        ("tests/identity/test_document_parsing.py", "-k", "active"),
    ),
    M(
        "document-refusals-not-counted",
        "Refused identity documents are counted, then uploads wait before any parsing",
        "moncompte/accounts/signup.py",
        "    except DocumentError:\n        throttling.scopes_failed(scopes)\n        raise",
        "    except DocumentError:\n        raise",
        ("tests/web/test_signup_document_throttling.py",),
    ),
    M(
        "client-address-garbage-kept",
        "An unparseable forwarded address is ignored, never used as the client's",
        "moncompte/web/actors.py",
        "            entry = forwarded[-proxies]",
        "            return forwarded[-proxies]",
        ("tests/web/test_client_address.py",),
    ),
    # Issue 9: nobody gets lost.
    M(
        "invitation-live-with-account",
        "An invitation is live only while its member has no account, however it was created",
        "moncompte/households/models.py",
        "expires_at__gt=now or _now(), member__person__account__isnull=True)",
        "expires_at__gt=now or _now())",
        ("tests/households/test_invitation_state.py",),
    ),
    M(
        "contact-last-removable",
        "The last validated contact cannot be removed",
        "moncompte/accounts/services.py",
        "    if not row.removable:\n        raise LastContactRequired(row.refusal)",
        "    if False:\n        raise LastContactRequired(row.refusal)",
        ("tests/accounts/test_contacts.py", "tests/web/test_contact_pages.py"),
        also=(
            (
                "        if _is_last_validated(contact, contacts):\n            raise LastContactRequired(",
                "        if False:\n            raise LastContactRequired(",
            ),
        ),
    ),
    M(
        "contact-last-removable-in-a-race",
        "Two removals at once cannot remove the last validated contact (the check under the account's lock)",
        "moncompte/accounts/services.py",
        "        if _is_last_validated(contact, contacts):\n            raise LastContactRequired(",
        "        if False:\n            raise LastContactRequired(",
        ("tests/integration/test_contact_removal_race.py",),
        postgresql_only=True,
    ),
    M(
        "contact-replaced-not-told",
        "The replaced contact is told of the change",
        "moncompte/accounts/services.py",
        "            if old.verified_at is None:\n                continue  # never proved",
        "            if True:\n                continue  # never proved",
        ("tests/accounts/test_contacts.py", "tests/web/test_contact_pages.py"),
    ),
    M(
        "identifier-reminder-nir-in-full",
        "A NIR is never written in full in a reminder",
        "moncompte/accounts/identifier_reminder.py",
        '"shown": identifier.masked(),',
        '"shown": identifier.display(),',
        ("tests/accounts/test_identifier_reminder.py", "tests/web/test_identifier_reminder_pages.py"),
    ),
    M(
        "invitation-request-unlimited",
        "At most one invitation request notice per member per day",
        "moncompte/households/invitation_requests.py",
        "        quota_limit=settings.MONCOMPTE_INVITATION_REQUEST_MAX_PER_MEMBER,\n    )\n    if wait:",
        "        quota_limit=settings.MONCOMPTE_INVITATION_REQUEST_MAX_PER_MEMBER,\n    )\n    allowed = True\n    if wait:",
        ("tests/households/test_invitation_requests.py", "tests/web/test_invitation_request_pages.py"),
    ),
    M(
        "attach-without-claim-alone",
        "An account created alone is attached to a file member only if the policy lets them claim alone",
        "moncompte/accounts/signup.py",
        "    if not may_claim_alone(holder):",
        "    if False:",
        ("tests/accounts/test_signup_attach.py",),
    ),
    M(
        "signin-over-session-merged",
        "A sign-in over a signed-in session replaces it",
        "moncompte/web/signin/session.py",
        "        if request.user.is_authenticated:\n            # A sign-in over",
        "        if False:\n            # A sign-in over",
        ("tests/web/test_signin_next.py",),
    ),
    # Issue 10: procedures ------------------------------------------------------------------
    M(
        "procedure-household-to-every-member",
        "A household procedure is seen and continued only by whom the policy lets act on the whole file",
        "moncompte/access/policy.py",
        "    if household:\n        return allowed_on_whole_file(current, action)",
        "    if household:\n        return decide_for_standing(current, action).allowed or current != Standing.STRANGER",
        ("tests/procedures/test_engine.py",),
    ),
    M(
        "procedure-individual-to-the-file",
        "An individual procedure is its author's only",
        "moncompte/access/policy.py",
        "    return is_author and decide_for_standing(current, action).allowed",
        "    return decide_for_standing(current, action).allowed",
        ("tests/procedures/test_types.py",),
    ),
    M(
        "procedure-visitor-draft-without-token",
        "A visitor's draft opens only with the token of the visitor's session",
        "moncompte/procedures/services.py",
        "    return bool(visitor_token and procedure.visitor_digest) and hmac.compare_digest(",
        "    return True or hmac.compare_digest(",
        ("tests/procedures/test_engine.py",),
    ),
    M(
        "procedure-stale-save-overwrites",
        "A save from an older page never overwrites another device's values silently",
        "moncompte/procedures/services.py",
        "        if locked.version != base_version:\n            theirs =",
        "        if False:\n            theirs =",
        ("tests/procedures/test_engine.py",),
    ),
    M(
        "procedure-submitted-still-editable",
        "A submitted request is read-only",
        "moncompte/procedures/services.py",
        "        if not locked.is_draft:\n            raise ReadOnly()\n        merged = False",
        "        merged = False",
        ("tests/procedures/test_engine.py",),
    ),
    M(
        "procedure-identity-step-without-account",
        "The steps from the identity step on need an account",
        "moncompte/procedures/services.py",
        "    if ptype.needs_account(slug) and procedure.person_id is None:\n        raise AccountRequired()\n    missing",
        "    missing",
        ("tests/procedures/test_engine.py",),
    ),
    M(
        "procedure-claim-without-token",
        "A visitor's draft is attached to an account only with the visitor's token",
        "moncompte/procedures/services.py",
        "        if procedure is None or not procedure.is_draft or not _opens_with(procedure, visitor_token):",
        "        if procedure is None or not procedure.is_draft:",
        ("tests/procedures/test_engine.py",),
    ),
    M(
        "procedure-save-without-row-lock",
        "Two saves of one draft at once: the second one sees the first (the version is checked under the row's lock)",
        "moncompte/procedures/services.py",
        "    now = timezone.now()\n    with transaction.atomic():\n        locked = Procedure.objects.select_for_update().get(pk=procedure.pk)\n",
        "    now = timezone.now()\n    with transaction.atomic():\n        locked = Procedure.objects.get(pk=procedure.pk)\n",
        ("tests/integration/test_draft_save_race.py",),
        postgresql_only=True,
    ),
    M(
        "caf-request-own-part-to-everyone",
        "The Caf's requests addressed to one member are seen and answered by that member (and R, S+) only",
        "moncompte/access/policy.py",
        "    return decision.allowed and (concerns_me or not decision.own_only)",
        "    return decision.allowed",
        ("tests/caf_requests", "tests/web/test_caf_requests.py"),
    ),
    M(
        "caf-request-infected-file-kept",
        "A file the virus scanner flags is refused",
        "moncompte/caf_requests/services.py",
        "    if result.infected:\n        # Its own transaction",
        "    if False:\n        # Its own transaction",
        ("tests/caf_requests", "tests/web/test_caf_requests.py"),
    ),
    M(
        "partner-cache-for-another-person",
        "A partner's cached answer is given only to the person it is about",
        "moncompte/partners/services.py",
        'entry.get("who") != who or ',
        "",
        ("tests/partners",),
    ),
    M(
        "partner-budget-ignored",
        "A page never waits for the partners longer than the budget",
        "moncompte/partners/services.py",
        "        wait(waiting.values(), timeout=budget)",
        "        wait(waiting.values())",
        ("tests/partners",),
    ),
    M(
        "procedure-correction-not-recorded",
        "A partner's value changed by the person is recorded as a correction",
        "moncompte/procedures/services.py",
        "        if partner_value is None or _same(clean.get(name), partner_value):",
        "        if True:",
        ("tests/procedures", "tests/web/test_procedures.py"),
    ),
    # --- Issue 11: FranceConnect sign-in --------------------------------------------------------
    M(
        "fc-state-replayable",
        "A FranceConnect sign-in's state is popped once: a replayed callback finds nothing",
        "moncompte/web/franceconnect/state.py",
        "    found = started.pop(state)\n",
        "    found = started[state]\n",
        ("tests/integration/test_franceconnect_flow.py", "-k", "replayed"),
    ),
    M(
        "fc-callback-iss-not-checked",
        "The callback's iss parameter must be FranceConnect's issuer (mix-up defence)",
        "moncompte/web/franceconnect/views.py",
        "    if issuer is not None and issuer != client.issuer():",
        "    if False:",
        ("tests/integration/test_franceconnect_flow.py", "-k", "wrong_iss"),
    ),
    M(
        "fc-nonce-not-checked",
        "The id_token's nonce must be the one stored for this state",
        "moncompte/franceconnect/client.py",
        '        nonce={"essential": True, "value": nonce},',
        '        nonce={"essential": True},',
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-aud-not-checked",
        "The id_token's aud must be our client id",
        "moncompte/franceconnect/client.py",
        '        aud={"essential": True, "value": client_id},',
        '        aud={"essential": True},',
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-iss-not-checked",
        "The id_token's iss must be the configured issuer",
        "moncompte/franceconnect/client.py",
        '        iss={"essential": True, "value": issuer()},\n        aud={"essential": True, "value": client_id},',
        '        iss={"essential": True},\n        aud={"essential": True, "value": client_id},',
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-acr-not-checked",
        "The id_token's acr must be eidas1 or stronger",
        "moncompte/franceconnect/client.py",
        '        acr={"essential": True, "values": list(settings.MONCOMPTE_FRANCECONNECT_ACR_ACCEPTED)},',
        '        acr={"essential": True},',
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-expired-token-accepted",
        "An expired FranceConnect token is refused (exp, with a small leeway)",
        "moncompte/franceconnect/client.py",
        '    except ExpiredTokenError:\n        raise FranceConnectFailure(f"{what}_expired") from None\n',
        "    except ExpiredTokenError:\n        pass\n",
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-any-algorithm",
        "FranceConnect's tokens are accepted signed with ES256 or RS256 only (never none nor HS256)",
        "moncompte/franceconnect/client.py",
        "    if algorithm not in ALGORITHMS:\n",
        "    if not isinstance(algorithm, str):\n",
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-unknown-kid-fetched-again-and-again",
        "A token with a key id the cached keys lack fetches the keys once more, then is refused",
        "moncompte/franceconnect/client.py",
        "    for refresh in (False, True):\n",
        "    for refresh in (False, True, True):\n",
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-userinfo-unverified",
        "FranceConnect's userinfo is a JWT whose signature is verified",
        "moncompte/franceconnect/client.py",
        '    claims = _verified_claims(response.text.strip(), "userinfo")\n',
        '    claims = __import__("json").loads(jws.extract_compact(response.text.strip().encode()).payload)\n',
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-userinfo-of-another-sub",
        "FranceConnect's userinfo must be about the id_token's sub",
        "moncompte/franceconnect/client.py",
        '        sub={"essential": True, "value": tokens.sub},',
        '        sub={"essential": True},',
        ("tests/franceconnect/test_client.py",),
    ),
    M(
        "fc-matching-without-nir-cross-check",
        "The one person a FranceConnect identity matches must have NIR digits agreeing with it",
        "moncompte/franceconnect/services.py",
        "    if problems:\n        return MatchOutcome.MISMATCH, None",
        "    if False:\n        return MatchOutcome.MISMATCH, None",
        ("tests/franceconnect/test_services.py",),
    ),
    M(
        "fc-several-matches-pick-one",
        "Several persons with the FranceConnect identity: nobody is signed in",
        "moncompte/identity/matching.py",
        "    if len(matching) == 1:\n        return MatchResult(MatchOutcome.ONE, matching[0])",
        "    if matching:\n        return MatchResult(MatchOutcome.ONE, matching[0])",
        ("tests/franceconnect/test_services.py",),
    ),
    M(
        "fc-under-16-recognised",
        "FranceConnect signs in persons over 15 only",
        "moncompte/franceconnect/services.py",
        "    if not account_allowed(Person(birth_date=identity.birth_date)):",
        "    if False:",
        ("tests/franceconnect/test_services.py",),
    ),
    M(
        "fc-link-without-confirmation",
        "The first time, the person confirms the link before any sign-in through FranceConnect",
        "moncompte/franceconnect/services.py",
        "    return _with_account(actor, Recognition.TO_CONFIRM, person)",
        "    return _with_account(actor, Recognition.LINKED, person)",
        ("tests/franceconnect/test_services.py",),
    ),
    M(
        "fc-logout-state-not-checked",
        "The return from FranceConnect's session end needs the logout's state, once",
        "moncompte/web/franceconnect/state.py",
        "    return _pop(request, LOGOUTS, state) is not None",
        "    return True",
        ("tests/web/test_franceconnect_pages.py", "-k", "logout"),
    ),
    # --- Issue 11: our OpenID provider --------------------------------------------------------
    M(
        "oidc-pkce-plain-accepted",
        "Our provider accepts PKCE with S256 only (plain refused: our check and the toolkit's RFC 9700 one, broken together)",
        "moncompte/api/oidc/validators.py",
        '    if request.code_challenge_method != "S256":',
        '    if request.code_challenge_method not in ("S256", "plain"):',
        ("tests/api/test_oidc_provider.py", "-k", "pkce or challenge"),
        also=(
            (
                '    if not S256_CHALLENGE.fullmatch(request.code_challenge or ""):',
                '    if request.code_challenge_method == "S256" and not S256_CHALLENGE.fullmatch(request.code_challenge or ""):',
            ),
        ),
        elsewhere=(
            (
                "config/settings.py",
                '    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,',
                '    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": False,',
            ),
        ),
    ),
    M(
        "oidc-pkce-not-required",
        "Our provider requires PKCE of every client, public or confidential (the toolkit's PKCE_REQUIRED and our check, broken together)",
        "moncompte/api/oidc/validators.py",
        '    if request.code_challenge_method != "S256":',
        '    if request.code_challenge is None:\n        return {}\n    if request.code_challenge_method != "S256":',
        ("tests/api/test_oidc_provider.py", "-k", "pkce or challenge"),
        elsewhere=(("config/settings.py", '    "PKCE_REQUIRED": True,', '    "PKCE_REQUIRED": False,'),),
    ),
    M(
        "oidc-refresh-reuse-keeps-the-family",
        "A refresh token used twice revokes its whole family",
        "config/settings.py",
        '    "REFRESH_TOKEN_REUSE_PROTECTION": True,',
        '    "REFRESH_TOKEN_REUSE_PROTECTION": False,',
        ("tests/api/test_oidc_provider.py", "-k", "used_twice"),
    ),
    M(
        "oidc-refresh-reuse-keeps-the-session",
        "A refresh token used twice ends the app's session (journaled)",
        "moncompte/api/oidc/validators.py",
        "            self._end_session_of_reused(refresh_token, request)\n",
        "",
        ("tests/api/test_oidc_provider.py", "-k", "used_twice"),
    ),
    M(
        "api-session-end-keeps-tokens",
        "Ending an app's session (my devices, end all, password, deactivation) revokes its tokens",
        "moncompte/accounts/sessions.py",
        "    api_tokens_revoke([s.session_key for s in sessions if s.channel == Channel.API])\n",
        "",
        ("tests/api/test_sessions.py",),
    ),
    M(
        "password-change-keeps-app-tokens",
        "A password change on the site revokes the app's tokens",
        "moncompte/accounts/recovery.py",
        '        ended = sessions_end_all(actor=actor, except_session_key=actor.session_key, reason="password_changed")',
        "        ended = 0",
        ("tests/integration/test_oidc_client.py", "tests/api/test_oidc_provider.py", "-k", "password_change"),
    ),
    M(
        "oidc-sub-unkeyed",
        "The sub our provider gives is a keyed HMAC of the person, never the NIR nor an id",
        "moncompte/api/oidc/claims.py",
        "    return hmac.new(settings.MONCOMPTE_OIDC_SUBJECT_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]",
        "    return hashlib.sha256(message).hexdigest()[:32]",
        ("tests/api/test_oidc_provider.py", "-k", "sub"),
    ),
    M(
        "oidc-client-create-skips-every-consent",
        "Only a first-party client is registered without the consent page",
        "moncompte/api/management/commands/oidc_client_create.py",
        '            skip_authorization=options["first_party"],',
        "            skip_authorization=True,",
        ("tests/api/test_oidc_provider.py", "-k", "oidc_client_create"),
    ),
    M(
        "oidc-silent-authorization-for-third-party",
        "prompt=none goes through without consent for a first-party client only",
        "moncompte/api/oidc/validators.py",
        "        return bool(client is not None and client.skip_authorization)",
        "        return True",
        ("tests/api/test_oidc_provider.py", "-k", "consent"),
    ),
    # --- Issue 11: the REST API -----------------------------------------------------------------
    M(
        "api-usable-account-not-required",
        "The API serves an account only once a contact is validated (UsableAccount, the pages' rule)",
        "moncompte/api/defaults.py",
        "        if not account_usable(account):\n            raise ContactRequired()\n",
        "",
        ("tests/api/test_me.py", "-k", "unusable"),
    ),
    M(
        "api-scope-not-required",
        "The REST API serves only tokens granted its scope 'moncompte' (another Caf service's token reads nothing)",
        "moncompte/api/defaults.py",
        "        if not request.auth.allow_scopes([API_SCOPE]):\n            raise InsufficientScope()\n",
        "",
        ("tests/api/test_oidc_provider.py", "-k", "api_scope"),
    ),
    M(
        "oidc-api-scope-for-third-party",
        "Only a first-party client may be granted the REST API's scope 'moncompte'",
        "moncompte/api/oidc/validators.py",
        "        if API_SCOPE in scopes and not client.skip_authorization:\n            return False\n",
        "",
        ("tests/api/test_oidc_provider.py", "-k", "api_scope"),
    ),
    M(
        "api-token-outside-the-header",
        "The API takes the bearer token from the Authorization header only (never the query string or the body)",
        "moncompte/api/defaults.py",
        '        if not header[:7].lower() == "bearer ":\n            return None\n',
        "",
        ("tests/api/test_me.py", "-k", "header"),
    ),
    M(
        "api-not-allowed-answers-403",
        "An API refusal answers 404, never 403 (a file of another household does not exist)",
        "moncompte/api/errors.py",
        "    if isinstance(exc, DomainError):\n        return domain_error_response(exc)\n",
        '    if isinstance(exc, NotAllowed):\n        return Response(error_body("forbidden", exc.message), status=403)\n    if isinstance(exc, DomainError):\n        return domain_error_response(exc)\n',
        ("tests/api/test_files.py", "tests/api/test_access_matrix_api.py"),
    ),
    M(
        "api-payments-not-scoped",
        "/api/v1/files/{id}/payments/ reads the file through the policy's scoped read (SEE_DOSSIER)",
        "moncompte/households/selectors.py",
        "    dossier = dossiers_for(actor=actor, action=Action.SEE_DOSSIER).filter(pk=dossier_id).first()",
        "    dossier = dossiers_for(actor=actor, action=Action.SEE_DOSSIER).model.objects.filter(pk=dossier_id).first()",
        ("tests/api/test_files.py", "tests/api/test_access_matrix_api.py"),
    ),
    M(
        "api-rate-not-per-token",
        "The API's rate limits count per token, not per address (an app behind a shared address is not locked out)",
        "moncompte/api/defaults.py",
        '        ident = f"t{token.pk}" if token is not None and getattr(token, "pk", None) else self.get_ident(request)',
        "        ident = self.get_ident(request)",
        ("tests/api/test_errors.py", "-k", "rate"),
    ),
    M(
        "api-write-rate-unlimited",
        "The API's writes have their own stricter rate per token",
        "moncompte/api/base.py",
        "    throttle_classes = [TokenRateThrottle, WriteRateThrottle]",
        "    throttle_classes = [TokenRateThrottle]",
        ("tests/api/test_errors.py", "-k", "rate"),
    ),
    M(
        "api-cache-control-skipped",
        "Every API answer is Cache-Control: private, no-store (the global middleware covers /api/)",
        "moncompte/web/middleware.py",
        '        response = self.get_response(request)\n        if getattr(request, "moncompte_public_cacheable", False)',
        '        response = self.get_response(request)\n        if request.path.startswith(API_PREFIX):\n            return response\n        if getattr(request, "moncompte_public_cacheable", False)',
        ("tests/api/test_errors.py", "-k", "private"),
    ),
    # --- Issue 12: agents, counter, queues ------------------------------------------------------
    M(
        "agent-caf-scope-ignored",
        "An agent acts on the files of their own Caf only (agent_may with a caf_id)",
        "moncompte/access/agents.py",
        "    return agent.caf_id == caf_id\n",
        "    return True\n",
        ("tests/access/test_agents_policy.py",),
    ),
    M(
        "agent-caf-condition-every-caf",
        "A queue or a search keeps the rows of the agent's Caf only (agent_caf_condition)",
        "moncompte/access/agents.py",
        "    return Q(**{caf_id_field: agent.caf_id})\n",
        "    return Q()\n",
        ("tests/access/test_agents_policy.py", "tests/counter/test_search.py"),
    ),
    M(
        "agent-national-roles-widened",
        "Only the incident officers reach every Caf (a counter agent serves their own Caf's files)",
        "moncompte/access/agents.py",
        "_ALL_CAFS: frozenset[AgentRole] = frozenset({AgentRole.INCIDENT_OFFICER})",
        "_ALL_CAFS: frozenset[AgentRole] = frozenset({AgentRole.INCIDENT_OFFICER, AgentRole.COUNTER})",
        ("tests/access/test_agents_policy.py", "tests/counter/test_search.py"),
    ),
    M(
        "agent-deactivated-keeps-permissions",
        "A deactivated agent may nothing, whatever their roles",
        "moncompte/access/agents.py",
        "    if not _active(agent):\n        return frozenset()\n",
        "    if agent is None:\n        return frozenset()\n",
        ("tests/access/test_agents_policy.py",),
    ),
    M(
        "agent-manages-themselves",
        "An administrator never manages themselves (roles, deactivation, second factor: another administrator does)",
        "moncompte/access/agents.py",
        "        and manager.pk != agent.pk\n",
        "",
        ("tests/access/test_agents_policy.py", "tests/agents/test_agents_admin.py"),
    ),
    M(
        "agent-manages-national-agents",
        "A Caf's administrator cannot manage a national agent (an incident officer) of their Caf",
        "moncompte/access/agents.py",
        "        and not any(role in _ALL_CAFS for role in _roles(agent))\n",
        "",
        ("tests/access/test_agents_policy.py", "tests/agents/test_agents_admin.py"),
    ),
    M(
        "roles-grantable-national",
        "A Caf's administrator cannot grant the incident officer role (named by a command only)",
        "moncompte/access/agents.py",
        "    return [role for role in AgentRole if role not in _ALL_CAFS]",
        "    return list(AgentRole)",
        ("tests/access/test_agents_policy.py", "tests/agents/test_agents_admin.py"),
    ),
    M(
        "disclosure-spouse-told-file",
        "At the counter and on the phone a spouse without delegation (S) is told nothing of the file",
        "moncompte/access/policy.py",
        "Action.COUNTER_INFORMATION: ({_R, _SP}, set()),",
        "Action.COUNTER_INFORMATION: ({_R, _SP, _S}, set()),",
        ("tests/access/test_agents_policy.py", "tests/counter/test_disclosure_counter.py"),
    ),
    M(
        "disclosure-stranger-own-part",
        "At the counter and on the phone a stranger to the file (O) is told nothing, not even an own part",
        "moncompte/access/policy.py",
        "        own_information=current != Standing.STRANGER and decide_for_standing(current, Action.SEE_OWN_DATA).allowed,",
        "        own_information=decide_for_standing(current, Action.SEE_OWN_DATA).allowed,",
        ("tests/access/test_agents_policy.py", "tests/counter/test_disclosure_counter.py"),
    ),
    M(
        "console-second-factor-skipped",
        "The console needs the second factor: a session opened by the password alone reaches no page",
        "moncompte/backoffice/access.py",
        "            if session is None or (second_factor and session.second_factor_at is None):",
        "            if session is None:",
        (
            "tests/agents/test_signin.py",
            "tests/counter/test_service_access.py",
            "-k",
            "password_alone or second_factor",
        ),
    ),
    M(
        "console-permission-unchecked",
        "A console page needs its permission (an agent without the role gets 404)",
        "moncompte/backoffice/access.py",
        "            if permission is not None and not agent_may(session.agent, permission):\n                raise Http404\n",
        "",
        (
            "tests/counter/test_search.py",
            "tests/agents/test_agents_admin.py",
            "-k",
            "without_serve_person or without_the_role",
        ),
    ),
    M(
        "agent-session-ended-accepted",
        "An ended agent session (sign-out, deactivation, reset) opens nothing any more",
        "moncompte/agents/sessions.py",
        '    if session.ended_at is not None:\n        return session.end_reason or "ended"\n',
        "",
        ("tests/agents/test_agent_sessions.py", "tests/agents/test_mutation_guards.py", "-k", "sign_out"),
    ),
    M(
        "agent-session-deactivated-accepted",
        "A deactivated agent's session is refused, even one not ended yet",
        "moncompte/agents/sessions.py",
        '    if not session.agent.is_active:\n        return "agent_deactivated"\n',
        "",
        ("tests/agents/test_agent_sessions.py", "tests/agents/test_mutation_guards.py", "-k", "deactivat"),
    ),
    M(
        "agent-session-absolute-unlimited",
        "An agent session ends at its absolute limit, however active",
        "moncompte/agents/sessions.py",
        '    if now - session.created_at > datetime.timedelta(seconds=settings.MONCOMPTE_AGENT_SESSION_ABSOLUTE_SECONDS):\n        return "expired"\n',
        "",
        ("tests/agents/test_agent_sessions.py", "-k", "absolute"),
    ),
    M(
        "agent-session-idle-unlimited",
        "An idle agent session expires",
        "moncompte/agents/sessions.py",
        '    if now - session.last_seen_at > datetime.timedelta(seconds=settings.MONCOMPTE_AGENT_SESSION_IDLE_SECONDS):\n        return "expired"\n',
        "",
        ("tests/agents/test_agent_sessions.py", "-k", "idle"),
    ),
    M(
        "separation-moved-child-stays-in-old-file",
        "A child who goes with the leaver into the new file leaves the old one: the parent who keeps it sees nothing more of them",
        "moncompte/households/separations.py",
        '                child.ended_on = today\n                child.save(update_fields=["ended_on"])\n',
        "",
        ("tests/queues/test_separations.py", "-k", "children"),
    ),
    M(
        "separation-children-not-checked",
        "Only current children of the file can be moved at a separation, and only into a new file",
        "moncompte/households/separations.py",
        "        if len(moving) != len(children_leaving):\n",
        "        if False:\n",
        ("tests/queues/test_separations.py", "-k", "child"),
    ),
    M(
        "agent-token-kept-at-second-factor",
        "The second factor gives the agent session a new token: one seen before it opens nothing",
        "moncompte/agents/sessions.py",
        '    changes["token_digest"] = _digest(token)\n',
        "    token = None\n",
        ("tests/agents/test_signin.py", "tests/agents/test_password_change.py", "-k", "new_token"),
    ),
    M(
        "agent-password-change-keeps-token",
        "The agent session kept open at a password change continues under a new token",
        "moncompte/agents/services.py",
        "        token = agent_session_token_renew(session=session)\n",
        "        token = None\n",
        ("tests/agents/test_password_change.py", "-k", "new_token"),
    ),
    M(
        "agent-session-waits-forever-for-code",
        "A session waiting for its second factor ends after MONCOMPTE_AGENT_SECOND_FACTOR_SECONDS",
        "moncompte/agents/sessions.py",
        "    if session.second_factor_at is None and now - session.created_at > datetime.timedelta(",
        "    if False and now - session.created_at > datetime.timedelta(",
        ("tests/agents/test_agent_sessions.py", "tests/agents/test_signin.py", "-k", "waiting"),
    ),
    M(
        "agent-signin-password-only",
        "The agent's password alone never completes the sign-in (the second factor is required)",
        "moncompte/agents/services.py",
        "        session, token = agent_session_open(agent=agent, client_address=actor.client_address)\n",
        "        session, token = agent_session_open(agent=agent, client_address=actor.client_address)\n        session = agent_session_second_factor_done(session=session)\n",
        ("tests/agents/test_signin.py", "-k", "password_alone"),
    ),
    M(
        "agent-signin-without-device",
        "An agent without a confirmed authenticator app never gets a session",
        "moncompte/agents/services.py",
        "    if _confirmed_device(agent.pk) is None:\n",
        "    if False:\n",
        ("tests/agents/test_signin.py", "-k", "without_a_confirmed_device"),
    ),
    M(
        "agent-unknown-email-less-work",
        "An unknown agent email costs the same Argon2 run as a wrong password",
        "moncompte/agents/services.py",
        "    password_matches(None, password)\n    return False\n",
        "    return False\n",
        ("tests/agents/test_signin.py", "-k", "same_work"),
    ),
    M(
        "agent-deactivated-signs-in",
        "A deactivated agent's password opens no session",
        "moncompte/agents/services.py",
        "    if agent is not None and agent.is_active and agent.password:",
        "    if agent is not None and agent.password:",
        ("tests/agents/test_agent_sessions.py", "-k", "deactivation"),
    ),
    M(
        "agent-activation-code-reusable",
        "An agent's activation code is single use: dead once the device is confirmed",
        "moncompte/agents/services.py",
        '            agent.activation_digest = ""\n            agent.activation_expires_at = None\n            agent.save(update_fields=["activation_digest", "activation_expires_at"])\n',
        "",
        ("tests/agents/test_activation.py", "-k", "single_use"),
    ),
    M(
        "agent-wrong-totp-not-counted",
        "A wrong TOTP code counts on the device (django-otp's growing waits)",
        "moncompte/agents/services.py",
        "            refused = CodeRefused()\n    if isinstance(refused, CodeRefused):\n        _count_code_failure(device.pk)\n    journal_record(\n        action=JournalAction.AGENT_SECOND_FACTOR_FAILURE,\n        actor=actor,\n",
        "            refused = CodeRefused()\n    journal_record(\n        action=JournalAction.AGENT_SECOND_FACTOR_FAILURE,\n        actor=actor,\n",
        ("tests/agents/test_signin.py", "-k", "throttled_by_django_otp"),
    ),
    M(
        "agent-totp-replay",
        "A TOTP code is accepted once (last_t: only a later step is taken)",
        "moncompte/agents/totp.py",
        "min_t=device.last_t + 1",
        "min_t=None",
        ("tests/agents/test_signin.py", "-k", "accepted_once"),
    ),
    M(
        "agent-totp-tolerance-widened",
        "A TOTP code is accepted within the device's tolerance only (one step each side)",
        "moncompte/agents/totp.py",
        "tolerance=device.tolerance,",
        "tolerance=device.tolerance + 1,",
        ("tests/agents/test_signin.py", "-k", "tolerance"),
    ),
    M(
        "agent-recovery-code-reusable",
        "A recovery code works once",
        "moncompte/agents/totp.py",
        '    rows = list(AgentRecoveryCode.objects.filter(agent=agent, used_at__isnull=True).order_by("id"))',
        '    rows = list(AgentRecoveryCode.objects.filter(agent=agent).order_by("id"))',
        ("tests/agents/test_signin.py", "-k", "recovery_code_works_once"),
        also=(
            (
                "    if not AgentRecoveryCode.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=timezone.now()):",
                "    if not AgentRecoveryCode.objects.filter(pk=found.pk).update(used_at=timezone.now()):",
            ),
        ),
    ),
    M(
        "agent-totp-failures-unbounded",
        "The wait after wrong TOTP codes stays bounded (at most MAX_COUNTED_FAILURES counted)",
        "moncompte/agents/models.py",
        "        self.throttling_failure_count = min(self.throttling_failure_count, self.MAX_COUNTED_FAILURES)\n",
        "",
        ("tests/agents/test_totp_cap.py",),
    ),
    M(
        "counter-service-any-session",
        "A counter service is reached only from the agent session that opened it",
        "moncompte/counter/selectors.py",
        ".filter(pk=service_id, agent=actor.agent, session_id=agent_session_id(actor), closed_at__isnull=True)",
        ".filter(pk=service_id, agent=actor.agent, closed_at__isnull=True)",
        ("tests/counter/test_service_access.py", "-k", "another_session"),
    ),
    M(
        "counter-service-any-agent",
        "Another agent's counter service is not found (same Caf or not)",
        "moncompte/counter/selectors.py",
        ".filter(pk=service_id, agent=actor.agent, session_id=agent_session_id(actor), closed_at__isnull=True)",
        ".filter(pk=service_id, closed_at__isnull=True)",
        ("tests/counter/test_service_access.py", "-k", "another_agents"),
    ),
    M(
        "counter-service-never-expires",
        "A counter service expires after MONCOMPTE_COUNTER_SERVICE_MINUTES",
        "moncompte/counter/selectors.py",
        "    if timezone.now() - service.created_at > datetime.timedelta(minutes=settings.MONCOMPTE_COUNTER_SERVICE_MINUTES):\n        raise NotAllowed\n",
        "",
        ("tests/counter/test_service_access.py", "-k", "expired"),
    ),
    M(
        "counter-view-ignores-standing",
        "The console shows what the standing of the person served allows, nothing more (the disclosure matrix)",
        "moncompte/counter/selectors.py",
        "    disclosure = disclosure_for(standing_of(member))",
        "    disclosure = disclosure_for(type(standing_of(member)).RESPONSABLE)",
        ("tests/counter/test_disclosure_counter.py",),
    ),
    M(
        "counter-display-not-journaled",
        "Every display of a person served is journaled (agent, person served, file, what was shown)",
        "moncompte/counter/selectors.py",
        "    journal_record(\n        action=JournalAction.COUNTER_DISPLAY,",
        "    (lambda **_: None)(\n        action=JournalAction.COUNTER_DISPLAY,",
        ("tests/counter/test_disclosure_counter.py", "-k", "journaled"),
    ),
    M(
        "counter-search-numero-other-caf",
        "A numéro allocataire of another Caf (its code given) finds nothing for an agent of one Caf",
        "moncompte/counter/services.py",
        "    files = Dossier.objects.filter(agent_caf_condition(actor.agent, AgentPermission.SERVE_PERSON), numero=numero)",
        "    files = Dossier.objects.filter(numero=numero)",
        ("tests/counter/test_search.py", "-k", "caf_code_of_another_caf"),
    ),
    M(
        "counter-search-nir-other-caf",
        "A NIR finds only the files of the agent's Caf (another Caf's answers as no file)",
        "moncompte/counter/services.py",
        "        agent_caf_condition(actor.agent, AgentPermission.SERVE_PERSON),\n        pk__in=Member.objects",
        "        pk__in=Member.objects",
        ("tests/counter/test_search.py", "-k", "by_nir or several_files"),
    ),
    M(
        "counter-search-not-found-not-journaled",
        "Every counter search is journaled, found or not",
        "moncompte/counter/services.py",
        '        _journal_not_found(actor, found_by=found_by, reason="none")\n',
        "",
        ("tests/counter/test_search.py", "-k", "unknown_numero"),
    ),
    M(
        "counter-document-proof-on-phone",
        "On the phone an identity document is no proof (only the phone authentication or the phone code)",
        "moncompte/counter/services.py",
        "    Channel.PHONE: (Proof.PHONE_AUTHENTICATION, Proof.PHONE_CODE),",
        "    Channel.PHONE: (Proof.PHONE_AUTHENTICATION, Proof.PHONE_CODE, Proof.IDENTITY_DOCUMENT),",
        ("tests/counter/test_disclosure_phone.py", "-k", "identity_document_is_refused"),
    ),
    M(
        "assisted-phone-proof-accepted",
        "The assisted first connection is for a person identified at the counter with an identity document",
        "moncompte/accounts/assisted.py",
        "        or service.proof != Proof.IDENTITY_DOCUMENT\n",
        "",
        ("tests/assisted/test_rules.py", "-k", "identified_by_phone"),
    ),
    M(
        "assisted-code-serves-twice",
        'The handoff code serves once (a second device gets "used")',
        "moncompte/accounts/assisted.py",
        "    if assisted.completed_at is not None or assisted.claimed_at is not None:\n        return AssistedError(USED",
        "    if assisted.completed_at is not None:\n        return AssistedError(USED",
        ("tests/assisted/test_rules.py", "-k", "serves_once"),
    ),
    M(
        "assisted-attempts-uncapped",
        "MONCOMPTE_ASSISTED_MAX_ATTEMPTS wrong handoff codes cancel the flow, from any address",
        "moncompte/accounts/assisted.py",
        "    cancelled = assisted.failed_attempts >= settings.MONCOMPTE_ASSISTED_MAX_ATTEMPTS",
        "    cancelled = False",
        ("tests/assisted/test_rules.py", "-k", "five_wrong_codes"),
    ),
    M(
        "assisted-claim-unlocked",
        "Two browsers typing one handoff code claim it once (the flow's row lock)",
        "moncompte/accounts/assisted.py",
        '            AssistedFirstConnection.objects.select_for_update()\n            .select_related("person", "dossier")',
        '            AssistedFirstConnection.objects.all()\n            .select_related("person", "dossier")',
        ("tests/assisted/test_races.py", "-k", "two_browsers"),
        postgresql_only=True,
    ),
    M(
        "assisted-person-unlocked",
        "Two assisted first connections of one person make one account (the person's row lock)",
        "moncompte/accounts/assisted.py",
        "        person = Person.objects.select_for_update(no_key=True).get(pk=assisted.person_id)",
        "        person = Person.objects.get(pk=assisted.person_id)",
        ("tests/assisted/test_races.py", "-k", "two_assisted_ones"),
        postgresql_only=True,
    ),
    M(
        "assisted-credential-unlocked",
        "The assisted and the web first connection of one person make one account (the file's credential lock)",
        "moncompte/accounts/assisted.py",
        "        credential = LegacyCredential.objects.select_for_update().filter(dossier_id=assisted.dossier_id).first()",
        "        credential = LegacyCredential.objects.filter(dossier_id=assisted.dossier_id).first()",
        ("tests/assisted/test_races.py", "-k", "web_first_connection"),
        postgresql_only=True,
    ),
    M(
        "identity-check-other-caf",
        "A checker sees the identity checks of their Caf only (another Caf's is not found)",
        "moncompte/identity/checks_queue.py",
        "    return queryset.filter(condition | Q(queue_caf_id__isnull=True))",
        "    return queryset",
        (
            "tests/identity_checks/test_queue_pages.py",
            "tests/identity_checks/test_documents.py",
            "-k",
            "another_cafs_check or nobody_else",
        ),
    ),
    M(
        "identity-check-undetermined-hidden",
        "A check whose Caf cannot be determined goes to every checker's queue (else nobody decides it)",
        "moncompte/identity/checks_queue.py",
        "    return queryset.filter(condition | Q(queue_caf_id__isnull=True))",
        "    return queryset.filter(condition)",
        ("tests/identity_checks/test_queue_pages.py", "-k", "those_of_no_caf"),
    ),
    M(
        "identity-check-caf-address-first",
        "A check belongs to the Caf of the person's current file before the Caf of the declared address",
        "moncompte/identity/checks_queue.py",
        '            _current_file_caf("person_id"), _caf_of_departement("queue_departement"), output_field=IntegerField()',
        '            _caf_of_departement("queue_departement"), _current_file_caf("person_id"), output_field=IntegerField()',
        ("tests/identity_checks/test_caf_rule.py",),
    ),
    M(
        "identity-document-view-not-journaled",
        "Each identity document shown to a checker is journaled before it is served",
        "moncompte/identity/checks_queue.py",
        "    journal_record(\n        action=JournalAction.IDENTITY_CHECK_DOCUMENT_VIEWED,",
        "    (lambda **_: None)(\n        action=JournalAction.IDENTITY_CHECK_DOCUMENT_VIEWED,",
        ("tests/identity_checks/test_documents.py", "-k", "journaled"),
    ),
    M(
        "identity-rekey-other-caf",
        "A checker re-keys only a holder of their Caf (another Caf's is answered as nobody)",
        "moncompte/identity/checks_queue.py",
        "        or not agent_may(agent, PERMISSION, caf_id=person_caf_id(person))\n",
        "",
        ("tests/identity_checks/test_rekey.py", "-k", "refusals"),
    ),
    M(
        "identity-check-reject-without-reason",
        "An identity check is refused with a reason only (sent to the person with what to do)",
        "moncompte/accounts/signup.py",
        '    problem = REASON_REQUIRED if not reason else REASON_TOO_LONG if len(reason) > REJECTION_REASON_MAX_LENGTH else ""',
        '    problem = REASON_TOO_LONG if len(reason) > REJECTION_REASON_MAX_LENGTH else ""',
        ("tests/agents/test_mutation_guards.py", "-k", "reason"),
    ),
    M(
        "identity-check-rejected-twice",
        "A decided identity check is not decided again (refusing an accepted one)",
        "moncompte/accounts/signup.py",
        '        if locked.state != IdentityCheckState.TO_VERIFY:\n            raise IdentityCheckError(CHECK_DECIDED, code="closed")\n        locked.state = IdentityCheckState.REJECTED',
        "        locked.state = IdentityCheckState.REJECTED",
        ("tests/identity_checks/test_decisions.py", "-k", "not_decided_again"),
    ),
    M(
        "identity-documents-purged-early",
        "A decided check's documents are kept MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS after the decision, then deleted",
        "moncompte/core/retention.py",
        "        identity_check__decided_at__lt=cutoff\n",
        "        identity_check__decided_at__lt=now\n",
        ("tests/identity_checks/test_documents.py", "-k", "retention"),
    ),
    M(
        "rectification-other-caf",
        "A rectification request of a person of another Caf is not found and not listed",
        "moncompte/identity/rectifications.py",
        "    return RectificationRequest.objects.filter(Q(Exists(in_caf)) | Q(in_no_file))",
        "    return RectificationRequest.objects.all()",
        ("tests/queues/test_rectifications.py", "-k", "another_cafs_request"),
    ),
    M(
        "rectification-contradicts-nir",
        "A correction may not contradict the person's NIR (re-keying corrects the NIR)",
        "moncompte/identity/rectifications.py",
        "    _check_against_identifier(person, changed)\n",
        "",
        ("tests/queues/test_rectifications.py", "-k", "contradicting"),
    ),
    M(
        "rectification-decided-twice",
        "A decided rectification request is not decided again",
        "moncompte/identity/rectifications.py",
        '        if request.state != RectificationState.TO_PROCESS:\n            raise RectificationDecisionError(MESSAGE_ALREADY_DECIDED, code="already_decided")\n',
        "",
        ("tests/queues/test_rectifications.py", "-k", "decided_request"),
    ),
    M(
        "separation-other-caf",
        "Another Caf's declared separation is not found and not listed",
        "moncompte/households/separations.py",
        '        agent_caf_condition(agent, PERMISSION, caf_id_field="dossier__caf_id"),\n        kind=SituationChange.Kind.SEPARATION,',
        "        kind=SituationChange.Kind.SEPARATION,",
        ("tests/queues/test_separations.py", "-k", "another_cafs_separation"),
    ),
    M(
        "separation-processed-twice",
        "A processed separation is not processed again (no second new file)",
        "moncompte/households/separations.py",
        '        if change.state != SituationChange.State.TO_PROCESS:\n            raise SeparationProcessError("Cette séparation a déjà été traitée.", code="already_processed")\n',
        "",
        ("tests/queues/test_separations.py", "-k", "cannot_be_processed_again"),
    ),
    M(
        "separation-file-changed-accepted",
        "A separation is processed only on the file as declared (the couple's rows unchanged)",
        "moncompte/households/separations.py",
        "        or not responsable.is_current()\n        or spouse.is_current()\n",
        "",
        ("tests/queues/test_separations.py", "-k", "file_changed"),
    ),
    M(
        "caf-request-other-caf",
        "Another Caf's request to a person is not found (page, close, attachments)",
        "moncompte/caf_requests/agents.py",
        '    return CafRequest.objects.filter(agent_caf_condition(agent, PERMISSION, caf_id_field="dossier__caf_id"))',
        "    return CafRequest.objects.all()",
        ("tests/queues/test_caf_requests.py", "-k", "another_cafs_request"),
    ),
    M(
        "caf-request-close-told-to-all",
        "A closed request is told to the people who may answer it only (not a spouse without delegation)",
        "moncompte/caf_requests/agents.py",
        "                for m in members_allowed_on_concerning(\n                    members, Action.ANSWER_CAF_REQUEST, concerning_person_id=request.addressed_to_id\n                )\n",
        "                for m in members\n",
        ("tests/queues/test_caf_requests.py", "-k", "closing"),
    ),
    M(
        "caf-request-closed-twice",
        "A closed request is not closed again (one journal entry, the people told once)",
        "moncompte/caf_requests/agents.py",
        '        if request.state == CafRequest.State.CLOSED:\n            raise CafRequestError(MESSAGE_ALREADY_CLOSED, code="closed")\n',
        "",
        ("tests/queues/test_caf_requests.py", "-k", "closing"),
    ),
    M(
        "actor-agent-with-account",
        "An agent acts as an agent, never through a usager's account (an Actor has not both)",
        "moncompte/core/actors.py",
        '        if self.agent is not None and self.account is not None:\n            raise ValueError("An agent acts as an agent, never through a usager\'s account.")\n',
        "",
        ("tests/agents/test_mutation_guards.py", "-k", "actor"),
    ),
]


# Running -----------------------------------------------------------------------------------------


def _copy_repository(destination: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],  # noqa: S607 (git from PATH)
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():  # deleted but still tracked
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    # Ignored by git but needed by the tests that run Node (the FranceConnect provider, axe-core):
    # linked, not copied (read only, and large).
    node_modules = ROOT / "node_modules"
    if node_modules.is_dir():
        (destination / "node_modules").symlink_to(node_modules, target_is_directory=True)


def _pytest(copy: Path, tests: tuple[str, ...], env: dict) -> tuple[bool, str]:
    command = [str(PYTHON), "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", *tests]
    result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)  # noqa: S603 (our own command)
    output = (result.stdout + result.stderr).strip().splitlines()
    # The test that failed (pytest's short summary, -rfE), else pytest's last line.
    failed = [line.split(" - ")[0] for line in output if re.match(r"(FAILED|ERROR) \S+::", line)]
    return result.returncode == 0, failed[0] if failed else (output[-1] if output else "")


def _environment(postgresql: bool) -> dict:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the copies are thrown away
    if postgresql:
        env["DATABASE_URL"] = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
        env["REDIS_URL"] = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        # Without PostgreSQL its tests skip; under CI=true a skip would fail every baseline.
        env.pop("CI", None)
    return env


_baselines: dict[tuple[str, ...], bool] = {}


def baseline(tests: tuple[str, ...], postgresql: bool) -> bool:
    """Whether ``tests`` pass on an unmodified copy (run once per selection of tests)."""
    if tests not in _baselines:
        with tempfile.TemporaryDirectory(prefix="mutation-baseline-") as tmp:
            _copy_repository(Path(tmp))
            passed, last = _pytest(Path(tmp), tests, _environment(postgresql))
        if not passed:
            print(f"    baseline failed for {' '.join(tests)}: {last}", flush=True)
        _baselines[tests] = passed
    return _baselines[tests]


def run_one(mutation: Mutation, postgresql: bool) -> tuple[str, str]:
    """(verdict, detail) for one mutation."""
    if mutation.postgresql_only and not postgresql:
        return "SKIPPED", "PostgreSQL only: run with --postgresql"
    env = _environment(postgresql)
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        copy = Path(tmp)
        _copy_repository(copy)
        mutated = {}
        for file, edits in mutation.edits_by_file().items():
            target = copy / file
            if not target.is_file():
                return "STALE", f"{file} not found"
            text = target.read_text()
            for find, _ in edits:
                count = text.count(find)
                if count != 1:
                    return "STALE", f"snippet found {count} times in {file}: {find.strip()[:60]!r}"
            for find, replace in edits:
                text = text.replace(find, replace)
            mutated[target] = text
        if not baseline(mutation.tests, postgresql):
            return "BROKEN BASELINE", "the tests fail without the mutation"
        for target, text in mutated.items():
            target.write_text(text)
        passed, last = _pytest(copy, mutation.tests, env)
        return ("MISSED", last) if passed else ("CAUGHT", last)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this mutation (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutations, run nothing")
    parser.add_argument("--markdown", action="store_true", help="print the list as a markdown table, run nothing")
    parser.add_argument(
        "--postgresql", action="store_true", help="run on PostgreSQL and Redis, PostgreSQL-only ones too"
    )
    args = parser.parse_args(argv)

    names = [m.name for m in MUTATIONS]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        parser.error(f"duplicate mutation names: {', '.join(sorted(duplicates))}")
    selected = MUTATIONS
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            parser.error(f"unknown mutation: {', '.join(sorted(unknown))}")
        selected = [m for m in MUTATIONS if m.name in args.only]

    if args.list:
        for m in selected:
            flag = " [PostgreSQL]" if m.postgresql_only else ""
            print(
                f"{m.name}{flag}\n    breaks: {m.breaks}\n    in: {' '.join(m.files())}\n    tests: {' '.join(m.tests)}"
            )
        return 0

    if args.markdown:
        print("| property | enforced in | test that fails | mutation |")
        print("|---|---|---|---|")
        for m in selected:
            tests = " ".join(m.tests).replace("|", "\\|")
            flag = " (PostgreSQL)" if m.postgresql_only else ""
            files = ", ".join(f"`{file}`" for file in m.files())
            print(f"| {m.breaks} | {files} | `{tests}`{flag} | `{m.name}` |")
        return 0

    width = max(len(m.name) for m in selected)
    results = []
    for m in selected:
        started = time.monotonic()
        verdict, detail = run_one(m, args.postgresql)
        results.append(verdict)
        print(f"{m.name:<{width}}  {verdict:<15}  {time.monotonic() - started:5.0f}s  {detail}", flush=True)

    print()
    for verdict in ("CAUGHT", "MISSED", "STALE", "BROKEN BASELINE", "SKIPPED"):
        print(f"{verdict:<15} {results.count(verdict)}")
    failed = {"MISSED", "STALE", "BROKEN BASELINE"} & set(results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
