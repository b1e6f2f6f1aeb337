"""The pages and states the accessibility crawler checks (tests/browser/test_accessibility.py).

One list, read by three things that must agree: the crawler (it checks each state listed here
and fails on a state it reaches that is not listed, or a listed one it did not reach), the
coverage test (every URL name of the ``web`` namespace is here or in NOT_PAGES, with the reason)
and docs/accessibility.md, whose table is compared with ``doc_rows()``.
"""

from __future__ import annotations

import dataclasses

# Who looks at the page (tests/browser/test_accessibility.py builds each with the factories).
ROLES = {
    "anonymous": "not signed in",
    "R": "responsible person of the file",
    "S": "spouse without the delegation",
    "S+": "spouse holding the delegation (another file)",
    "M17": "child of 17 with an account",
    "former": "former (separated) spouse with an account",
    "P": "provisional identifier, identity check pending",
    "stranger": "an account in no file",
    "newcomer": "responsible person just through the first connection",
    "FC-newcomer": "person without an account recognised by FranceConnect, account just created",
    # The agents' console (issue 12; tests/browser/test_agents_browser.py).
    "counter-agent": "agent of the file's Caf with the counter role",
    "checker": "agent of the Caf with the identity checker role",
    "agent-admin": "administrator of the agents of the Caf",
    "new-agent": "agent just created by an administrator, activating their account",
    "assisted-newcomer": "person without an account at the counter, with the agent's code",
}

# The pages, by URL name, with their path (the brief's, for pages being built).
PATHS = {
    "web:root": "/",
    "web:signin": "/connexion/",
    "web:signin_unlock": "/connexion/code/",
    "web:signin_unlock_code": "/connexion/code/saisie/",
    "web:first_connection": "/premiere-connexion/",
    "web:first_connection_file": "/premiere-connexion/dossier/",
    "web:first_connection_nir": "/premiere-connexion/numero-securite-sociale/",
    "web:first_connection_password": "/premiere-connexion/mot-de-passe/",
    "web:password_reset": "/mot-de-passe-oublie/",
    "web:password_reset_code": "/mot-de-passe-oublie/code/",
    "web:password_reset_password": "/mot-de-passe-oublie/nouveau/",
    "web:signup": "/creer-mon-compte/",
    "web:signup_contact": "/creer-mon-compte/coordonnees/",
    "web:signup_password": "/creer-mon-compte/mot-de-passe/",
    "web:signup_provisional": "/creer-mon-compte/identifiant/",
    "web:signup_document": "/creer-mon-compte/justificatif/",
    "web:signup_document_done": "/creer-mon-compte/justificatif/envoye/",
    "web:invitation": "/invitation/",
    "web:invitation_password": "/invitation/mot-de-passe/",
    "web:invitation_old_link": "/invitation/<ancien lien>",
    "web:identifier_reminder": "/identifiant-oublie/",
    "web:invitation_request": "/demander-une-invitation/",
    "web:help": "/aide/",
    "web:accessibility": "/accessibilite/",
    "web:legal_notice": "/mentions-legales/",
    "web:personal_data": "/donnees-personnelles/",
    "web:cookies": "/cookies/",
    "web:sitemap": "/plan-du-site/",
    "web:home": "/mon-compte/",
    "web:onboarding": "/mon-compte/bienvenue/",
    "web:onboarding_step": "/mon-compte/bienvenue/<step>/",
    "web:household": "/mon-compte/foyer/",
    "web:household_delegation": "/mon-compte/foyer/autorisation/",
    "web:household_separation": "/mon-compte/foyer/separation/",
    "web:household_invite": "/mon-compte/foyer/inviter/",
    "web:own_data": "/mon-compte/mes-donnees/",
    "web:own_data_rectification": "/mon-compte/mes-donnees/rectification/",
    "web:own_data_export_html": "/mon-compte/mes-donnees/export/",
    "web:sessions": "/mon-compte/appareils/",
    "web:session_end": "/mon-compte/appareils/<session_id>/fermer/",
    "web:sessions_end_all": "/mon-compte/appareils/fermer-tout/",
    "web:signout": "/deconnexion/",
    "web:password_change": "/mon-compte/mot-de-passe/",
    "web:contacts": "/mon-compte/coordonnees/",
    "web:contact_validate": "/mon-compte/coordonnees/valider/",
    "web:contact_remove": "/mon-compte/coordonnees/<contact_id>/supprimer/",
    "web:caf_requests": "/mon-compte/demandes-de-la-caf/",
    "web:caf_request": "/mon-compte/demandes-de-la-caf/<pk>/",
    # A new beneficiary's request without an account (docs/signup.md, W2).
    "web:procedure_public": "/demarches/aide-au-logement/",
    "web:procedure_public_start": "/demarches/<code>/commencer/",
    "web:procedure_claim": "/mon-compte/demarches/reprendre/",
    "web:procedure_step": "/mon-compte/demarches/<pk>/<step>/",
    # The procedure pages (moncompte.web.procedures).
    "web:procedures": "/mon-compte/demarches/",
    "web:procedure_start": "/mon-compte/demarches/commencer/<code>/",
    "web:procedure_summary": "/mon-compte/demarches/<pk>/recapitulatif/",
    "web:procedure_receipt": "/mon-compte/demarches/<pk>/accuse-de-reception/",
    "web:procedure_cancel": "/mon-compte/demarches/<pk>/abandonner/",
    # FranceConnect sign-in (moncompte.web.franceconnect; docs/franceconnect.md).
    "web:franceconnect_callback": "/franceconnect/retour/",
    "web:franceconnect_confirm": "/franceconnect/confirmation/",
    "web:franceconnect_not_recognised": "/franceconnect/non-reconnu/",
    "web:franceconnect_password": "/franceconnect/mot-de-passe/",
    "web:franceconnect_logout_return": "/franceconnect/deconnexion/retour/",
    "404": "/une-adresse-qui-n-existe-pas/",
    # The usagers' pages of issue 12: the phone code, the assisted first connection.
    "web:phone_code": "/mon-compte/code-telephone/",
    "web:assisted_claim": "/premiere-connexion/accompagnee/",
    "web:assisted_password": "/premiere-connexion/accompagnee/mot-de-passe/",
    # The agents' console (issue 12; moncompte.backoffice, docs/agents.md).
    "backoffice:signin": "/agents/connexion/",
    "backoffice:second_factor": "/agents/connexion/code/",
    "backoffice:recovery_code": "/agents/connexion/code-de-secours/",
    "backoffice:signout": "/agents/deconnexion/",
    "backoffice:activate": "/agents/activation/",
    "backoffice:recovery_codes": "/agents/codes-de-secours/",
    "backoffice:password_change": "/agents/mot-de-passe/",
    "backoffice:home": "/agents/",
    "backoffice:agents": "/agents/gestion/",
    "backoffice:agent_create": "/agents/gestion/nouvel-agent/",
    "backoffice:agent_detail": "/agents/gestion/<agent_id>/",
    "backoffice:agent_roles": "/agents/gestion/<agent_id>/roles/",
    "backoffice:agent_deactivate": "/agents/gestion/<agent_id>/desactivation/",
    "backoffice:agent_reactivate": "/agents/gestion/<agent_id>/reactiver/",
    "backoffice:agent_second_factor_reset": "/agents/gestion/<agent_id>/second-facteur/",
    "backoffice:counter_search": "/agents/accueil/",
    "backoffice:counter_service": "/agents/accueil/<service_id>/",
    "backoffice:counter_identify": "/agents/accueil/<service_id>/identifier/",
    "backoffice:counter_close": "/agents/accueil/<service_id>/terminer/",
    "backoffice:assisted_start": "/agents/accueil/<service_id>/premiere-connexion/",
    "backoffice:identity_checks": "/agents/verifications-identite/",
    "backoffice:identity_check": "/agents/verifications-identite/<check_id>/",
    "backoffice:identifier_rekey": "/agents/identifiants/",
    "backoffice:rectifications": "/agents/rectifications/",
    "backoffice:rectification": "/agents/rectifications/<request_id>/",
    "backoffice:separations": "/agents/separations/",
    "backoffice:separation": "/agents/separations/<change_id>/",
    "backoffice:caf_requests": "/agents/demandes-caf/",
    "backoffice:caf_request_create": "/agents/demandes-caf/nouvelle/",
    "backoffice:caf_request": "/agents/demandes-caf/<request_id>/",
}

# URL names of the web namespace that are no page of their own, and why.
NOT_PAGES = {
    "web:own_data_export_json": "a JSON file to download, not a page (its link is checked on web:own_data_export_html)",
    "web:caf_request_attachment": "a file of an answer, to download: not a page (its link is on web:caf_request)",
    "web:procedure": "a redirection to the draft's step (or its summary) or to the receipt: checked there",
    "web:procedure_receipt_pdf": "a PDF to download, not a page (its link is checked on web:procedure_receipt)",
    "web:franceconnect_start": (
        "the FranceConnect button's target: a redirection to FranceConnect (its button is checked on web:signin "
        "and web:signup, its failure page on web:franceconnect_callback)"
    ),
    # The agents' console (issue 12): what the console's coverage test lets out, and why.
    "backoffice:identity_check_document": (
        "an identity document shown to the checkers, an image or a PDF, not a page (its link is checked on "
        "backoffice:identity_check)"
    ),
    "backoffice:caf_request_attachment": (
        "a file of an answer, to download: not a page (its link is on backoffice:caf_request)"
    ),
}

# The signed-in pages every role opens (what each role is shown there, refusals included).
SIGNED_IN_PAGES = (
    "web:home",
    "web:household",
    "web:household_delegation",
    "web:household_separation",
    "web:household_invite",
    "web:own_data",
    "web:own_data_export_html",
    "web:sessions",
    "web:password_change",
    "web:contacts",
    "web:contact_validate",
)
SIGNED_IN_ROLES = ("R", "S", "S+", "M17", "former", "P", "stranger")
ONBOARDING_STEPS = (2, 3, 4)  # screen 1 is web:onboarding itself


@dataclasses.dataclass(frozen=True)
class Check:
    group: str  # the crawler's test that reaches it: "public", "flows", "signed-in", "franceconnect"...
    name: str  # URL name ("web:signin"), or "404"
    state: str
    role: str = "anonymous"


def _public() -> list[Check]:
    checks = [
        Check("public", "web:root", "redirected to the sign-in"),
        Check("public", "web:signin", "empty"),
        Check("public", "web:signin", "submitted empty"),
        Check("public", "web:signin", "wrong password"),
        Check("public", "web:signin", "form expired (CSRF page)"),
        Check("public", "web:signin_unlock", "empty"),
        Check("public", "web:signin_unlock", "submitted empty"),
        Check("public", "web:first_connection", "empty"),
        Check("public", "web:first_connection_file", "empty"),
        Check("public", "web:first_connection_file", "submitted empty"),
        Check("public", "web:first_connection_file", "invalid values"),
        Check("public", "web:password_reset", "empty"),
        Check("public", "web:password_reset", "submitted empty"),
        Check("public", "web:signup", "empty"),
        Check("public", "web:signup", "submitted empty"),
        Check("public", "web:signup", "invalid values"),
        Check("public", "web:invitation", "empty"),
        Check("public", "web:invitation", "submitted empty"),
        Check("public", "web:invitation_old_link", "old link refused"),
        Check("public", "web:identifier_reminder", "empty"),
        Check("public", "web:identifier_reminder", "submitted empty"),
        Check("public", "web:identifier_reminder", "sent"),
        Check("public", "web:invitation_request", "empty"),
        Check("public", "web:invitation_request", "submitted empty"),
        Check("public", "web:invitation_request", "sent"),
        Check("public", "404", "not found"),
    ]
    for name in (
        "web:help",
        "web:accessibility",
        "web:legal_notice",
        "web:personal_data",
        "web:cookies",
        "web:sitemap",
    ):
        checks.append(Check("public", name, "empty"))
    return checks


def _flows() -> list[Check]:
    checks = [
        # First connection: dossier, NIR, password, then the contact to validate.
        Check("flows", "web:first_connection_nir", "empty"),
        Check("flows", "web:first_connection_nir", "submitted empty"),
        Check("flows", "web:first_connection_password", "empty"),
        Check("flows", "web:first_connection_password", "submitted empty"),
        Check("flows", "web:contact_validate", "contact choice", "newcomer"),
        Check("flows", "web:contact_validate", "contact choice submitted empty", "newcomer"),
        Check("flows", "web:contact_validate", "code", "newcomer"),
        Check("flows", "web:contact_validate", "code submitted empty", "newcomer"),
        Check("flows", "web:home", "first visit", "newcomer"),
        Check("flows", "web:onboarding", "first visit", "newcomer"),
        *(Check("flows", "web:onboarding_step", f"step {step}", "newcomer") for step in ONBOARDING_STEPS),
        # Signup: identity, contact, code, password, provisional identifier, document.
        Check("flows", "web:signup_contact", "contact choice"),
        Check("flows", "web:signup_contact", "contact choice submitted empty"),
        Check("flows", "web:signup_contact", "code"),
        Check("flows", "web:signup_contact", "code submitted empty"),
        Check("flows", "web:signup_password", "empty"),
        Check("flows", "web:signup_password", "submitted empty"),
        Check("flows", "web:signup_provisional", "shown once", "P"),
        Check("flows", "web:signup_document", "empty", "P"),
        Check("flows", "web:signup_document", "submitted empty", "P"),
        Check("flows", "web:signup_document_done", "sent", "P"),
        # Password reset: request, code, new password.
        Check("flows", "web:password_reset_code", "empty"),
        Check("flows", "web:password_reset_code", "submitted empty"),
        Check("flows", "web:password_reset_password", "empty"),
        Check("flows", "web:password_reset_password", "submitted empty"),
        # Invitation: the code and identity, then the password.
        Check("flows", "web:invitation_password", "empty"),
        Check("flows", "web:invitation_password", "submitted empty"),
        # Sign-in unlock by a code.
        Check("flows", "web:signin_unlock_code", "empty"),
        Check("flows", "web:signin_unlock_code", "submitted empty"),
    ]
    return checks


def _signed_in() -> list[Check]:
    checks = [Check("signed-in", name, "empty", role) for role in SIGNED_IN_ROLES for name in SIGNED_IN_PAGES]
    checks += [
        Check("signed-in", "web:household_delegation", "submitted empty", "R"),
        Check("signed-in", "web:household_separation", "submitted empty", "R"),
        Check("signed-in", "web:household_invite", "submitted empty", "R"),
        Check("signed-in", "web:password_change", "submitted empty", "R"),
        Check("signed-in", "web:own_data_rectification", "submitted empty (errors on web:own_data)", "R"),
        Check("signed-in", "web:contact_validate", "contact choice submitted empty", "R"),
        Check("signed-in", "web:contact_validate", "code", "R"),
        Check("signed-in", "web:contact_validate", "code submitted empty", "R"),
        Check("signed-in", "web:contact_remove", "confirmation", "R"),
        # POST-only addresses opened by a GET (a bookmark, a reloaded page): the 405 page.
        Check("signed-in", "web:signout", "opened by a GET (405 page)", "R"),
        Check("signed-in", "web:session_end", "opened by a GET (405 page)", "R"),
        Check("signed-in", "web:sessions_end_all", "opened by a GET (405 page)", "R"),
        Check("signed-in", "web:own_data_rectification", "opened by a GET (405 page)", "R"),
    ]
    return checks


def _caf_requests() -> list[Check]:
    """The Caf's requests (docs/caf-requests.md), crawled by test_caf_request_pages."""
    return [
        Check("caf-requests", "web:caf_requests", "no request", "stranger"),
        Check("caf-requests", "web:caf_requests", "waiting, late and answered requests", "R"),
        Check("caf-requests", "web:caf_requests", "a request addressed to them", "S"),
        Check("caf-requests", "web:caf_request", "waiting, no answer", "R"),
        Check("caf-requests", "web:caf_request", "submitted empty", "R"),
        Check("caf-requests", "web:caf_request", "refused file", "R"),
        Check("caf-requests", "web:caf_request", "answered (history with a file)", "R"),
        Check("caf-requests", "web:caf_request", "late", "R"),
        Check("caf-requests", "web:caf_request", "closed", "R"),
        Check("caf-requests", "web:caf_request", "addressed to them", "S"),
        Check("caf-requests", "web:caf_request", "another member's request (404 page)", "M17"),
    ]


def _procedure_newcomer() -> list[Check]:
    """A new beneficiary's request without an account, crawled by
    tests/browser/test_procedure_newcomer_browser.py::test_procedure_newcomer_pages."""
    return [
        Check("procedure-newcomer", "web:procedure_public", "empty"),
        Check(
            "procedure-newcomer",
            "web:procedure_step",
            "identity step of a visitor's draft (create an account or sign in)",
        ),
        Check("procedure-newcomer", "web:procedure_public", "a request in progress in this browser"),
        Check("procedure-newcomer", "web:signup", "inside a request (the promise)"),
        Check("procedure-newcomer", "web:procedure_claim", "refused (spouse without the delegation)", "S"),
        Check("procedure-newcomer", "web:procedure_public_start", "opened by a GET (405 page)"),
        Check("procedure-newcomer", "web:signup_provisional", "inside a request (back to it first)", "P"),
    ]


def _procedures() -> list[Check]:
    """The procedure pages of a signed-in person (moncompte.web.procedures), crawled by
    tests/browser/test_procedure_pages_browser.py::test_procedure_pages."""
    return [
        Check("procedures", "web:procedures", "drafts, sent requests and the types to start", "R"),
        Check("procedures", "web:procedure_start", "opened by a GET (405 page)", "R"),
        Check("procedures", "web:procedure_step", "first step, empty", "R"),
        Check("procedures", "web:procedure_step", "submitted empty", "R"),
        Check("procedures", "web:procedure_step", "step with a date and choices, saved", "R"),
        Check("procedures", "web:procedure_step", "identity step of a signed-in person", "R"),
        Check("procedures", "web:procedure_step", "pre-filled step, partners not answering", "R"),
        Check("procedures", "web:procedure_step", "conflict (saved on another device)", "R"),
        Check("procedures", "web:procedure_step", "conflict submitted without a choice", "R"),
        Check("procedures", "web:procedure_summary", "every step filled", "R"),
        Check("procedures", "web:procedure_summary", "submitted without the attestation", "R"),
        Check("procedures", "web:procedure_cancel", "what abandoning a draft means", "R"),
        Check("procedures", "web:procedure_receipt", "sent", "R"),
        Check("procedures", "web:procedures", "none of the household's, only their own to start", "S"),
        Check("procedures", "web:procedure_step", "a household draft (404 page)", "S"),
    ]


def _franceconnect() -> list[Check]:
    """The FranceConnect sign-in against the local provider (tools/franceconnect/), crawled by
    test_franceconnect_pages: the button, each way back from the provider, the logout's return."""
    return [
        Check("franceconnect", "web:signin", "with the FranceConnect button"),
        Check("franceconnect", "web:signup", "with the FranceConnect button"),
        Check("franceconnect", "web:franceconnect_callback", "cancelled on the provider's page"),
        Check("franceconnect", "web:franceconnect_callback", "a check of the id_token failed"),
        Check("franceconnect", "web:franceconnect_callback", "refused (under 16)"),
        Check("franceconnect", "web:franceconnect_callback", "state unknown (expired page)"),
        Check("franceconnect", "web:franceconnect_not_recognised", "nobody recognised"),
        Check("franceconnect", "web:signup", "prefilled from FranceConnect"),
        Check("franceconnect", "web:franceconnect_confirm", "nothing to confirm (expired page)"),
        Check("franceconnect", "web:franceconnect_confirm", "an account holder recognised"),
        Check("franceconnect", "web:signin", "signed out through FranceConnect's session end"),
        Check("franceconnect", "web:franceconnect_logout_return", "a return not asked for (400 page)"),
        Check("franceconnect", "web:franceconnect_confirm", "a person without an account recognised"),
        Check("franceconnect", "web:franceconnect_password", "empty", "FC-newcomer"),
        Check("franceconnect", "web:franceconnect_password", "submitted empty", "FC-newcomer"),
    ]


def _console() -> list[Check]:
    """The agents' console (moncompte.backoffice), crawled by
    tests/browser/test_agents_browser.py::test_console_pages: the sign-in and its second factor,
    the activation of an agent an administrator created, and every section a counter agent, an
    identity checker and an administrator reach, with their forms' errors and their 405 pages."""
    a, counter, checker, admin, new = "anonymous", "counter-agent", "checker", "agent-admin", "new-agent"
    return [
        Check("console", "backoffice:signin", "empty", a),
        Check("console", "backoffice:signin", "submitted empty", a),
        Check("console", "backoffice:signin", "wrong password", a),
        Check("console", "backoffice:activate", "activation code, empty", a),
        Check("console", "backoffice:activate", "activation code submitted empty", a),
        Check("console", "backoffice:second_factor", "empty", counter),
        Check("console", "backoffice:second_factor", "submitted empty", counter),
        Check("console", "backoffice:recovery_code", "empty", counter),
        Check("console", "backoffice:recovery_code", "submitted empty", counter),
        Check("console", "backoffice:home", "counter sections", counter),
        Check("console", "backoffice:counter_search", "empty", counter),
        Check("console", "backoffice:counter_search", "submitted empty", counter),
        Check("console", "backoffice:counter_search", "file not found", counter),
        Check("console", "backoffice:counter_search", "a NIR on several files (the choice)", counter),
        Check("console", "backoffice:counter_service", "before identification, at the counter", counter),
        Check("console", "backoffice:counter_identify", "submitted empty (errors on the service page)", counter),
        Check(
            "console",
            "backoffice:counter_service",
            "identified: spouse without the delegation (nothing shown)",
            counter,
        ),
        Check("console", "backoffice:counter_service", "identified: responsible person (the whole file)", counter),
        Check("console", "backoffice:counter_service", "before identification, on the phone", counter),
        Check("console", "backoffice:counter_identify", "opened by a GET (405 page)", counter),
        Check("console", "backoffice:counter_close", "opened by a GET (405 page)", counter),
        Check("console", "backoffice:separations", "one to process", counter),
        Check("console", "backoffice:separation", "declared, to process", counter),
        Check("console", "backoffice:separation", "submitted empty", counter),
        Check("console", "backoffice:caf_requests", "waiting and answered requests", counter),
        Check("console", "backoffice:caf_request", "answered", counter),
        Check("console", "backoffice:caf_request_create", "find the file, empty", counter),
        Check("console", "backoffice:caf_request_create", "find the file submitted empty", counter),
        Check("console", "backoffice:caf_request_create", "file found: the request's form", counter),
        Check("console", "backoffice:caf_request_create", "the request's form submitted empty", counter),
        Check("console", "backoffice:recovery_codes", "empty", counter),
        Check("console", "backoffice:recovery_codes", "submitted empty", counter),
        Check("console", "backoffice:recovery_codes", "new codes shown once", counter),
        Check("console", "backoffice:password_change", "empty", counter),
        Check("console", "backoffice:password_change", "submitted empty", counter),
        Check("console", "backoffice:signout", "opened by a GET (405 page)", counter),
        Check("console", "backoffice:home", "identity checker sections", checker),
        Check("console", "backoffice:identity_checks", "pending checks", checker),
        Check("console", "backoffice:identity_check", "pending, with a document and a claimed number", checker),
        Check("console", "backoffice:identity_check", "refusal submitted empty", checker),
        Check("console", "backoffice:identifier_rekey", "empty", checker),
        Check("console", "backoffice:identifier_rekey", "submitted empty", checker),
        Check("console", "backoffice:identifier_rekey", "confirmation (whose identifier)", checker),
        Check("console", "backoffice:rectifications", "one to process", checker),
        Check("console", "backoffice:rectification", "to process", checker),
        Check("console", "backoffice:rectification", "submitted empty", checker),
        Check("console", "backoffice:home", "administrator sections", admin),
        Check("console", "backoffice:agents", "the Caf's agents", admin),
        Check("console", "backoffice:agent_create", "empty", admin),
        Check("console", "backoffice:agent_create", "submitted empty", admin),
        Check("console", "backoffice:agent_create", "activation code shown once", admin),
        Check("console", "backoffice:agent_detail", "their own account", admin),
        Check("console", "backoffice:agent_detail", "an agent of the Caf", admin),
        Check("console", "backoffice:agent_roles", "submitted without a role (errors on the agent's page)", admin),
        Check("console", "backoffice:agent_second_factor_reset", "new activation code shown once", admin),
        Check("console", "backoffice:agent_detail", "deactivated", admin),
        Check("console", "backoffice:agent_reactivate", "reactivated: new activation code shown once", admin),
        Check("console", "backoffice:agent_roles", "opened by a GET (405 page)", admin),
        Check("console", "backoffice:agent_deactivate", "opened by a GET (405 page)", admin),
        Check("console", "backoffice:agent_reactivate", "opened by a GET (405 page)", admin),
        Check("console", "backoffice:agent_second_factor_reset", "opened by a GET (405 page)", admin),
        Check("console", "backoffice:activate", "password, empty", new),
        Check("console", "backoffice:activate", "password submitted empty", new),
        Check("console", "backoffice:activate", "authenticator app, empty", new),
        Check("console", "backoffice:activate", "authenticator app submitted empty", new),
        Check("console", "backoffice:activate", "activated: recovery codes shown once", new),
    ]


def _phone_and_assisted() -> list[Check]:
    """The usagers' pages of issue 12 and the agent's side of the assisted first connection,
    crawled by tests/browser/test_agents_browser.py::test_phone_code_and_assisted_pages."""
    counter, person = "counter-agent", "assisted-newcomer"
    return [
        Check("phone-and-assisted", "web:phone_code", "empty", "R"),
        Check("phone-and-assisted", "web:phone_code", "a code shown once", "R"),
        Check(
            "phone-and-assisted",
            "backoffice:counter_service",
            "identified: a person without an account (assisted first connection offered)",
            counter,
        ),
        Check("phone-and-assisted", "backoffice:assisted_start", "code shown once", counter),
        Check("phone-and-assisted", "backoffice:assisted_start", "waiting for the person", counter),
        Check("phone-and-assisted", "web:assisted_claim", "empty"),
        Check("phone-and-assisted", "web:assisted_claim", "submitted empty"),
        Check("phone-and-assisted", "web:assisted_claim", "unknown code"),
        Check("phone-and-assisted", "web:assisted_password", "declined (not me)", person),
        Check("phone-and-assisted", "backoffice:assisted_start", "declined: a new code may be given", counter),
        Check("phone-and-assisted", "web:assisted_password", "empty", person),
        Check("phone-and-assisted", "web:assisted_password", "submitted empty", person),
        Check("phone-and-assisted", "backoffice:assisted_start", "password created", counter),
    ]


CHECKS: list[Check] = [
    *_public(),
    *_flows(),
    *_signed_in(),
    *_caf_requests(),
    *_procedure_newcomer(),
    *_procedures(),
    *_franceconnect(),
    *_console(),
    *_phone_and_assisted(),
]


def checks_of(group: str) -> set[tuple[str, str, str]]:
    return {(c.name, c.state, c.role) for c in CHECKS if c.group == group}


def doc_rows() -> dict[str, tuple[str, str, str]]:
    """docs/accessibility.md's table: URL name -> (path, states, roles), in the list's order."""
    rows: dict[str, tuple[list[str], list[str]]] = {}
    for check in CHECKS:
        states, roles = rows.setdefault(check.name, ([], []))
        if check.state not in states:
            states.append(check.state)
        if check.role not in roles:
            roles.append(check.role)
    return {name: (PATHS[name], "; ".join(states), ", ".join(roles)) for name, (states, roles) in rows.items()}


def doc_table() -> str:
    """The table as docs/accessibility.md holds it (``python -m tests.browser.pages`` prints it)."""
    lines = ["| URL name | path | states | roles |", "|---|---|---|---|"]
    for name, (path, states, roles) in doc_rows().items():
        lines.append(f"| `{name}` | `{path}` | {states} | {roles} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(doc_table())
