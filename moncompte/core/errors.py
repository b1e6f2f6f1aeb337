"""The one error base of the domain.

A service that refuses raises a ``DomainError``: a stable ``code`` for programs, a French
``message`` for the person, and the ``field`` of the form it concerns (None: the whole request).
Each channel maps it once: the web to a form error or a page, the API to a JSON error, and
``NotAllowed`` everywhere to "not found", so that a refusal never tells that something exists.
"""

from moncompte.core.waits import too_many_attempts


class DomainError(Exception):
    code: str = "refused"
    message: str = "Votre demande ne peut pas être traitée."
    # The HTTP status an API answers with; the web shows the message in its page.
    status: int = 400

    def __init__(self, message: str | None = None, *, code: str | None = None, field: str | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.field = field
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


class NotAllowed(DomainError):
    """The policy says no: channels answer as if the thing did not exist (404)."""

    code = "not_found"
    message = "Cette page n'existe pas ou vous n'y avez pas accès."
    status = 404


class Throttled(DomainError):
    """Too many tries: ``wait_seconds`` until the next one is taken."""

    code = "throttled"
    status = 429

    def __init__(self, wait_seconds: int, *, message: str | None = None, field: str | None = None):
        self.wait_seconds = wait_seconds
        super().__init__(message or too_many_attempts(wait_seconds), field=field)
