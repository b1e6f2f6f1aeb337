"""Pages of the sign-in through FranceConnect (/franceconnect/..., docs/franceconnect.md).

Thin: the OpenID Connect exchanges are moncompte.franceconnect.client's, who the identity is and
the link moncompte.franceconnect.services'. What the flow keeps lives in the server-side session
only (moncompte.web.franceconnect.state): the state and nonce of a started sign-in, popped once
at the callback; the identity recognised and waiting for its confirmation; the id_token of a
session opened through FranceConnect, for the logout; the identity to prefill the identity check
with when nobody was recognised.
"""
