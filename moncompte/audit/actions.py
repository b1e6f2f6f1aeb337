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
    # Never a code, a password or an email in the details: the agent's id, a reason, a count.
    AGENT_PASSWORD_CHANGED = "agent.password_changed", "Changement de son mot de passe par un agent"
    AGENT_REACTIVATED = "agent.reactivated", "Réactivation d'un agent (nouveau code d'activation)"
    AGENT_SIGNIN_PASSWORD = (
        "agent.signin_password",
        "Connexion d'un agent : mot de passe vérifié, second facteur attendu",
    )
    AGENT_SIGNIN_FAILURE = "agent.signin_failure", "Connexion d'un agent refusée"
    AGENT_SIGNIN_THROTTLED = "agent.signin_throttled", "Connexion d'un agent ralentie (trop de tentatives)"
    AGENT_SECOND_FACTOR_SUCCESS = "agent.second_factor_success", "Connexion d'un agent : second facteur vérifié"
    AGENT_SECOND_FACTOR_FAILURE = "agent.second_factor_failure", "Code de second facteur d'un agent refusé"
    AGENT_RECOVERY_CODE_USED = "agent.recovery_code_used", "Connexion d'un agent avec un code de secours"
    AGENT_RECOVERY_CODES_REGENERATED = "agent.recovery_codes_regenerated", "Nouveaux codes de secours d'un agent"
    AGENT_REAUTH_FAILURE = "agent.reauth_failure", "Mot de passe d'un agent incorrect (confirmation)"
    AGENT_ACTIVATION_STARTED = "agent.activation_started", "Activation d'un agent : code d'activation vérifié"
    AGENT_ACTIVATION_FAILURE = "agent.activation_failure", "Activation d'un agent : code d'activation refusé"
    AGENT_ACTIVATION_THROTTLED = "agent.activation_throttled", "Activation d'un agent ralentie (trop de tentatives)"
    AGENT_PASSWORD_SET = "agent.password_set", "Activation d'un agent : mot de passe choisi"
    AGENT_ACTIVATED = "agent.activated", "Agent activé (mot de passe et application d'authentification)"
    AGENT_CREATED = "agent.created", "Création d'un agent"
    AGENT_DEACTIVATED = "agent.deactivated", "Désactivation d'un agent"
    AGENT_ROLES_CHANGED = "agent.roles_changed", "Changement des rôles d'un agent"
    AGENT_SECOND_FACTOR_RESET = "agent.second_factor_reset", "Réinitialisation du second facteur d'un agent"
    # COUNTER actions (search, identification, display of a file to an agent)
    COUNTER_SEARCH = "counter.search", "Recherche d'un dossier par un agent (accueil ou téléphone)"
    COUNTER_SEARCH_NOT_FOUND = "counter.search_not_found", "Recherche d'un dossier par un agent : aucun dossier trouvé"
    COUNTER_SEARCH_SEVERAL = (
        "counter.search_several",
        "Recherche d'un dossier par un agent : plusieurs dossiers, choix à faire",
    )
    COUNTER_IDENTIFIED = "counter.identified", "Identification de la personne reçue par un agent"
    COUNTER_IDENTIFY_REFUSED = (
        "counter.identify_refused",
        "Identification de la personne reçue refusée (preuve non valable)",
    )
    COUNTER_DISPLAY = "counter.display", "Consultation par un agent de ce qui peut être communiqué à la personne reçue"
    COUNTER_CLOSED = "counter.closed", "Fin de l'accueil d'une personne par un agent"
    # TELEPHONY actions (phone codes, phone authentications)
    # (moncompte.telephony): never a code, a NIR, a numéro or a calling line in the details.
    PHONE_CODE_ISSUED_WEB = "phone_code.issued_web", "Code téléphone affiché dans Mon Compte"
    PHONE_CODE_ISSUED_API = "phone_code.issued_api", "Code téléphone affiché dans l'application Mon Compte"
    PHONE_CODE_ISSUED_SMS = "phone_code.issued_sms", "Code téléphone envoyé par SMS"
    PHONE_CODE_THROTTLED = "phone_code.throttled", "Code téléphone refusé (trop de codes demandés)"
    PHONE_AUTH_SUCCESS = "phone_auth.success", "Identification au téléphone"
    PHONE_AUTH_FAILURE = "phone_auth.failure", "Identification au téléphone refusée (code incorrect ou inconnu)"
    PHONE_AUTH_CAPPED = "phone_auth.capped", "Identification au téléphone refusée (trop d'essais)"
    PHONE_AUTH_ENDED = "phone_auth.ended", "Ancien code confidentiel refusé au téléphone (date de fin passée)"
    PHONE_AUTH_REDEEMED = "phone_auth.redeemed", "Identification téléphonique reprise par un agent"
    PHONE_AUTH_REDEEM_FAILURE = "phone_auth.redeem_failure", "Référence d'identification téléphonique refusée"
    PHONE_CLIENT_CREATED = "phone_client.created", "Client de la plateforme téléphonique créé"
    # ASSISTED-FIRST-CONNECTION actions
    # (moncompte.accounts.assisted): never the handoff code, never anything the person typed.
    ASSISTED_STARTED = "assisted.started", "Première connexion accompagnée lancée à l'accueil"
    ASSISTED_START_REFUSED = "assisted.start_refused", "Première connexion accompagnée refusée à l'accueil"
    ASSISTED_CODE_ACCEPTED = "assisted.code_accepted", "Première connexion accompagnée : code de l'agent accepté"
    ASSISTED_CODE_FAILURE = "assisted.code_failure", "Première connexion accompagnée : code refusé"
    ASSISTED_CODE_THROTTLED = (
        "assisted.code_throttled",
        "Première connexion accompagnée : code refusé après trop de tentatives",
    )
    ASSISTED_DECLINED = "assisted.declined", "Première connexion accompagnée : la personne ne s'est pas reconnue"
    ASSISTED_COMPLETED = "assisted.completed", "Création du compte à l'accueil (première connexion accompagnée)"
    ASSISTED_SIGNED_IN = "assisted.signed_in", "Connexion à la fin de la première connexion accompagnée"
    # QUEUES actions (identity checks, rectifications, separations, the Caf's requests)
    RECTIFICATION_VIEWED = "rectification.viewed", "Consultation par un agent d'une demande de rectification"
    RECTIFICATION_ANSWERED = "rectification.answered", "Demande de rectification traitée par la Caf"
    RECTIFICATION_REJECTED = "rectification.rejected", "Demande de rectification refusée par la Caf"
    SEPARATION_VIEWED = "separation.viewed", "Consultation par un agent d'une séparation déclarée"
    SEPARATION_PROCESSED = "separation.processed", "Séparation traitée par la Caf"
    SEPARATION_FILE_OPENED = "separation.file_opened", "Nouveau dossier ouvert après une séparation"
    CAF_REQUEST_FILE_SEARCHED = "caf_request.file_searched", "Recherche d'un dossier par un agent pour une demande"
    CAF_REQUEST_AGENT_VIEWED = "caf_request.agent_viewed", "Consultation par un agent d'une demande de la Caf"
    CAF_REQUEST_AGENT_DOWNLOADED = (
        "caf_request.agent_downloaded",
        "Téléchargement par un agent d'un fichier joint à une réponse",
    )
    CAF_REQUEST_CLOSED = "caf_request.closed", "Demande de la Caf close"
    # The identity checks' queue (moncompte.identity.checks_queue): never a reason's text nor a number.
    IDENTITY_CHECK_VIEWED = "identity.check_viewed", "Consultation d'une vérification d'identité par un agent"
    IDENTITY_CHECK_DOCUMENT_VIEWED = (
        "identity.check_document_viewed",
        "Consultation d'un justificatif d'identité par un agent",
    )
    IDENTITY_CHECK_REJECTED = "identity.check_rejected", "Vérification d'identité refusée"
    IDENTITY_CHECK_REOPENED = "identity.check_reopened", "Nouvelle vérification d'identité après un refus"
    IDENTITY_CHECK_REKEYED = (
        "identity.check_rekeyed",
        "Identifiant provisoire remplacé par le numéro de sécurité sociale attribué",
    )


def label_of(action: str) -> str:
    """The French label of a recorded action (the raw value if an old entry has one no longer declared)."""
    try:
        return JournalAction(action).label
    except ValueError:
        return action
