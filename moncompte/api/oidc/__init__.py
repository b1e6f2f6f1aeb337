"""Our OpenID provider (django-oauth-toolkit with OpenID Connect) for the mobile app and the Caf's
other services: the authorization code flow with PKCE (S256 only), RS256 id_tokens, short access
tokens, rotating refresh tokens whose reuse revokes their family, revocation and RP-initiated
logout (docs/api.md).

One sign-in of an app is one family of tokens, and that family is the app's session
(moncompte.accounts.tokens): it is recorded at the code exchange, touched at each refresh, ended
by a reuse, a revocation or a logout, and ended like every other session by the person, a
password change or reset, or a deactivation (moncompte.accounts.sessions).

- ``validators``: the toolkit's validator (PKCE, sessions, claims) and server (S256 only);
- ``sessions``: the app's sessions opened and ended, journaled;
- ``claims``: the person's opaque ``sub`` and the claims of each scope;
- ``views``: the toolkit's views, with French pages and our sign-in; ``urls``: their addresses.
"""
