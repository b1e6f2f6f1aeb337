"""The personal data and cookies pages state the retention durations the purge applies
(settings MONCOMPTE_RETENTION_*, moncompte.core.retention), not a promise to fix them later."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_personal_data_page_states_each_retention_setting(client, settings):
    settings.MONCOMPTE_RETENTION_SESSION_DAYS = 171
    settings.MONCOMPTE_RETENTION_CODE_DAYS = 5
    settings.MONCOMPTE_RETENTION_LEGACY_ATTEMPT_DAYS = 9
    settings.MONCOMPTE_RETENTION_MESSAGE_DAYS = 83
    settings.MONCOMPTE_RETENTION_INVITATION_DAYS = 77
    settings.MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS = 61
    settings.MONCOMPTE_RETENTION_SIGNUP_CLAIM_DAYS = 62
    settings.MONCOMPTE_RETENTION_JOURNAL_DAYS = 367
    body = client.get(reverse("web:personal_data")).content.decode()
    for phrase in (
        "(appareil, adresse IP, lieu approximatif) : 171 jours après sa fin",
        "les codes envoyés : 5 jours",
        "ancien code confidentiel : 9 jours",
        "dès l'envoi) : 83 jours",
        "annulée ou expirée : 77 jours",
        "votre pièce d'identité : 61 jours après la décision",
        "une fois la décision prise : 62 jours",
        "le journal des accès : 367 jours",
    ):
        assert phrase in body, phrase
    assert "mise en service, et cette page" not in body and "pas encore effacés" not in body


def test_the_cookies_page_states_how_long_a_connection_is_kept(client, settings):
    settings.MONCOMPTE_RETENTION_SESSION_DAYS = 171
    body = client.get(reverse("web:cookies")).content.decode()
    assert "l&#x27;historique de la connexion (appareil, adresse IP, lieu approximatif) est gardé 171 jours" in body
