"""Signing in with FranceConnect (v2): the OpenID Connect client, the pivot identity, the link.

- ``client``: the OpenID Connect exchanges with FranceConnect (Authlib for OAuth 2, joserfc for
  the signatures): discovery, the authorization URL, the code exchange, the id_token and
  userinfo checks, the session end URL. Nothing here sees a request: the web channel keeps the
  state and the nonce in its server-side session and gives them back.
- ``identity``: the pivot identity FranceConnect gives (no NIR), read from the claims.
- ``services``: who that identity designates (``moncompte.identity.matching``, then the NIR's
  digits), the link stored on FranceConnect's ``sub``, its confirmation, the account created
  for a person who had none, the optional password.
- ``models``: ``FranceConnectLink`` (one per ``sub``, one per person).

docs/franceconnect.md tells the whole flow.
"""
