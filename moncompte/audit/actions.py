"""Every action the journal records, declared once, with the French label people are shown
(their own data export, the agents' and the security team's screens). ``journal_record``
refuses any other value."""

from django.db import models


class JournalAction(models.TextChoices):
    # Sign-in and sessions
    SIGNIN_SUCCESS = "signin.success", "Connexion"
    SIGNIN_FAILURE = "signin.failure", "Échec de connexion (identifiant ou mot de passe incorrect)"
    SIGNIN_THROTTLED = "signin.throttled", "Connexion bloquée (trop d'essais)"
    SIGNIN_FORMER_IDENTIFIER = "signin.former_identifier", "Tentative de connexion avec un ancien identifiant"
    SIGNOUT = "signout", "Déconnexion"
    SESSION_END = "session.end", "Fermeture d'une session"
    SESSION_END_ALL = "session.end_all", "Fermeture de toutes les sessions"
    REAUTH_FAILURE = "reauth.failure", "Mot de passe incorrect lors d'une confirmation"
    REAUTH_THROTTLED = "reauth.throttled", "Confirmation refusée après trop de tentatives"
    # Accounts
    ACCOUNT_CREATE = "account.create", "Création du compte"
    ACCOUNT_DEACTIVATED = "account.deactivated", "Compte désactivé"
    CONTACT_VALIDATED = "contact.validated", "Validation d'un moyen de contact"
    PASSWORD_CHANGE = "password.change", "Changement du mot de passe"
    PASSWORD_CHANGE_FAILURE = (
        "password.change_failure",
        "Changement du mot de passe refusé (mot de passe actuel incorrect)",
    )
    PASSWORD_CHANGE_THROTTLED = (
        "password.change_throttled",
        "Changement de mot de passe refusé après trop de tentatives",
    )
    PASSWORD_RESET = "password.reset", "Réinitialisation du mot de passe"
    PASSWORD_RESET_REQUEST = "password_reset.request", "Demande de réinitialisation du mot de passe"
    PASSWORD_RESET_CODE_SUCCESS = "password_reset.code_success", "Réinitialisation du mot de passe : code accepté"
    PASSWORD_RESET_CODE_FAILURE = "password_reset.code_failure", "Réinitialisation du mot de passe : code refusé"
    PASSWORD_RESET_THROTTLED = (
        "password_reset.throttled",
        "Demande de nouveau mot de passe refusée après trop de tentatives",
    )
    # First connection and account creation
    FIRST_CONNECTION_CODE_SUCCESS = (
        "first_connection.code_success",
        "Première connexion : ancien code confidentiel accepté",
    )
    FIRST_CONNECTION_CODE_FAILURE = (
        "first_connection.code_failure",
        "Première connexion : ancien code confidentiel refusé",
    )
    FIRST_CONNECTION_CAPPED = "first_connection.capped", "Première connexion : trop d'essais de l'ancien code"
    FIRST_CONNECTION_NIR_MISMATCH = (
        "first_connection.nir_mismatch",
        "Première connexion : numéro non rattaché au dossier",
    )
    FIRST_CONNECTION_ACCOUNT_CREATED = "first_connection.account_created", "Création du compte à la première connexion"
    FIRST_CONNECTION_SIGNED_IN = "first_connection.signed_in", "Connexion à la fin de la première connexion"
    LEGACY_CODE_PHONE_SUCCESS = "legacy_code.phone_success", "Ancien code accepté au téléphone"
    LEGACY_CODE_PHONE_FAILURE = "legacy_code.phone_failure", "Ancien code refusé au téléphone"
    SIGNUP_ACCOUNT_CREATED = "signup.account_created", "Création du compte"
    SIGNUP_REFUSED = "signup.refused", "Création de compte refusée"
    SIGNUP_THROTTLED = "signup.throttled", "Création de compte refusée après trop de tentatives"
    SIGNUP_SIGNED_IN = "signup.signed_in", "Connexion à la création du compte"
    IDENTITY_REKEY = "identity.rekey", "Attribution d'un nouvel identifiant"
    IDENTITY_DOCUMENT_UPLOADED = "identity.document_uploaded", "Envoi d'un justificatif d'identité"
    # Households
    # Procedures (moncompte.procedures): never the values typed, only which procedure and step.
    PROCEDURE_STARTED = "procedure.started", "Démarche commencée"
    PROCEDURE_STEP_SAVED = "procedure.step_saved", "Étape d'une démarche enregistrée"
    PROCEDURE_VIEWED = "procedure.viewed", "Consultation d'une démarche"
    PROCEDURE_CLAIMED = "procedure.claimed", "Démarche rattachée au compte créé pendant la demande"
    PROCEDURE_SUBMITTED = "procedure.submitted", "Demande envoyée"
    PROCEDURE_REMINDED = "procedure.reminded", "Rappel avant l'expiration d'un brouillon"
    PROCEDURE_EXPIRED = "procedure.expired", "Brouillon de démarche expiré"
    PROCEDURE_CANCELLED = "procedure.cancelled", "Démarche abandonnée"
    PROCEDURE_PARTNER_DATA = "procedure.partner_data", "Données des partenaires affichées dans une démarche"
    HOME_VIEW = "home.view", "Consultation de l'accueil de Mon Compte"
    HOUSEHOLD_VIEW = "household.view", "Consultation du foyer"
    # The REST API (issue 11): one file, or its payments, read by the app (the list: home.view).
    FILE_VIEW = "file.view", "Consultation d'un dossier (adresse, membres, prestations, paiements)"
    DELEGATION_GRANTED = "delegation.granted", "Autorisation de gestion accordée"
    DELEGATION_REVOKED = "delegation.revoked", "Autorisation de gestion retirée"
    DELEGATION_RENOUNCED = "delegation.renounced", "Renonciation à l'autorisation de gestion"
    DELEGATION_PASSWORD_FAILURE = "delegation.password_failure", "Mot de passe incorrect (autorisation de gestion)"
    SEPARATION_DECLARED = "separation.declared", "Séparation déclarée"
    INVITATION_SENT = "invitation.sent", "Invitation envoyée"
    INVITATION_CANCELLED = "invitation.cancelled", "Invitation annulée"
    INVITATION_PAGE_VIEW = "invitation.page_view", "Consultation de la page d'invitation"
    INVITATION_OPENED = "invitation.opened", "Invitation ouverte"
    INVITATION_IDENTITY_PROVED = "invitation.identity_proved", "Invitation : identité confirmée"
    INVITATION_IDENTITY_FAILURE = "invitation.identity_failure", "Invitation : identité non confirmée"
    INVITATION_ACCEPTED = "invitation.accepted", "Invitation acceptée"
    INVITATION_SIGNED_IN = "invitation.signed_in", "Invitation : connexion"
    # Issue 9 (STATE): invitations closed once the member's account exists, however it was
    # created; a sign-up's account attached to the file member it is, at the identity check.
    INVITATION_CLOSED_ACCOUNT_EXISTS = (
        "invitation.closed_account_exists",
        "Invitation close : le compte du membre existe",
    )
    IDENTITY_CHECK_ATTACHED = (
        "identity.check_attached",
        "Vérification d'identité acceptée : compte rattaché à la personne du dossier",
    )
    # Own data
    OWN_DATA_VIEWED = "own_data.viewed", "Consultation de mes données"
    OWN_DATA_EXPORTED = "own_data.exported", "Téléchargement de mes données"
    OWN_DATA_RECTIFICATION_REQUESTED = "own_data.rectification_requested", "Signalement d'une erreur dans mes données"
    # Account creation without probe or squat (issue 8): a typed NIR is a claim until the check.
    IDENTITY_CHECK_ACCEPTED = "identity.check_accepted", "Vérification d'identité acceptée"
    IDENTITY_CHECK_BIND_REFUSED = (
        "identity.check_bind_refused",
        "Vérification d'identité : numéro déjà attribué à une autre personne",
    )
    # Signing in without waiting when strangers keep an identifier throttled (issue 8,
    # moncompte.accounts.unlock): a code to the validated contacts, then the session.
    SIGNIN_UNLOCK_REQUEST = "signin_unlock.request", "Demande d'un code de connexion (connexion bloquée)"
    SIGNIN_UNLOCK_THROTTLED = (
        "signin_unlock.throttled",
        "Demande de code de connexion refusée après trop de tentatives",
    )
    SIGNIN_UNLOCK_FAILURE = "signin_unlock.failure", "Code de connexion refusé"
    SIGNIN_UNLOCK_SUCCESS = "signin_unlock.success", "Connexion avec un code reçu (connexion bloquée)"
    # Invitation codes typed or carried by the link's fragment (issue 8): wrong ones counted per address.
    INVITATION_CODE_FAILURE = "invitation.code_failure", "Invitation : code d'invitation incorrect"
    INVITATION_CODE_THROTTLED = (
        "invitation.code_throttled",
        "Invitation : code refusé après trop de codes incorrects",
    )
    # Identity documents refused by their parser: each costs a parser's CPU, so refusals are counted.
    IDENTITY_DOCUMENT_THROTTLED = (
        "identity.document_throttled",
        "Envoi d'un justificatif refusé après trop de fichiers illisibles",
    )
    # Ways in (issue 9, moncompte.accounts.identifier_reminder, moncompte.households.invitation_requests):
    # public pages answering the same whatever was typed; the real outcome is journaled.
    IDENTIFIER_REMINDER_REQUEST = "identifier_reminder.request", "Demande de rappel de l'identifiant"
    IDENTIFIER_REMINDER_THROTTLED = (
        "identifier_reminder.throttled",
        "Demande de rappel de l'identifiant refusée après trop de demandes",
    )
    INVITATION_REQUEST = "invitation_request.request", "Demande d'invitation à créer un compte"
    INVITATION_REQUEST_THROTTLED = (
        "invitation_request.throttled",
        "Demande d'invitation refusée après trop de demandes",
    )
    # Contact details page (issue 9, CONTACTS): details carry the kind, never the contact itself.
    CONTACT_REPLACED = "contact.replaced", "Remplacement d'un moyen de contact"
    CONTACT_REMOVED = "contact.removed", "Suppression d'un moyen de contact"
    # The Caf's requests (issue 10, moncompte.caf_requests): never the text of a request or an answer.
    CAF_REQUEST_CREATED = "caf_request.created", "Demande de la Caf adressée au dossier"
    CAF_REQUEST_VIEWED = "caf_request.viewed", "Consultation d'une demande de la Caf"
    CAF_REQUEST_ANSWERED = "caf_request.answered", "Réponse à une demande de la Caf"
    CAF_REQUEST_FILE_INFECTED = (
        "caf_request.file_infected",
        "Fichier refusé par l'antivirus (réponse à une demande de la Caf)",
    )
    # FranceConnect (issue 11, moncompte.franceconnect): a reason code in the details, never a
    # claim of the identity, a token or the FranceConnect subject.
    FRANCECONNECT_SIGNIN = "franceconnect.signin", "Connexion avec FranceConnect"
    FRANCECONNECT_LINK_CONFIRMED = "franceconnect.link_confirmed", "Identité FranceConnect rattachée au compte"
    FRANCECONNECT_NO_MATCH = "franceconnect.no_match", "Connexion avec FranceConnect : identité non reconnue"
    FRANCECONNECT_SEVERAL = (
        "franceconnect.several",
        "Connexion avec FranceConnect : plusieurs personnes correspondent à l'identité",
    )
    FRANCECONNECT_REFUSED = "franceconnect.refused", "Connexion avec FranceConnect refusée"
    FRANCECONNECT_FAILED = "franceconnect.failed", "Connexion avec FranceConnect interrompue (contrôle ou erreur)"
    FRANCECONNECT_PASSWORD_SET = (
        "franceconnect.password_set",
        "Mot de passe choisi après la création du compte avec FranceConnect",
    )
    # Our OpenID provider (issue 11, moncompte.api.oidc): an app's session is one family of
    # tokens; never a token, a code or a client secret in the details.
    OIDC_SIGNIN = "oidc.signin", "Connexion depuis une application (Mon Compte ou service de la Caf)"
    OIDC_REFRESH_REUSED = (
        "oidc.refresh_reused",
        "Jeton de renouvellement réutilisé : les jetons de l'application sont révoqués",
    )
    OIDC_REVOKED = "oidc.revoked", "Révocation des jetons d'une application"
    OIDC_LOGOUT = "oidc.logout", "Déconnexion depuis une application"
    # The Caf's agents (issue 12, moncompte.agents): their sign-in, second factor and accounts.
    AGENT_SESSION_END = "agent.session_end", "Fin d'une session d'agent"
    AGENT_SESSION_END_ALL = "agent.session_end_all", "Fin de toutes les sessions d'un agent"
    # AGENT-SIGNIN actions (sign-in, second factor, recovery codes, activation, agents' management)
    # COUNTER actions (search, identification, display of a file to an agent)
    # TELEPHONY actions (phone codes, phone authentications)
    # ASSISTED-FIRST-CONNECTION actions
    # QUEUES actions (identity checks, rectifications, separations, the Caf's requests)


def label_of(action: str) -> str:
    """The French label of a recorded action (the raw value if an old entry has one no longer declared)."""
    try:
        return JournalAction(action).label
    except ValueError:
        return action
