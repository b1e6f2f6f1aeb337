"""Keeps identifiers and secrets out of the logs, whatever a message was built from."""

import logging
import re

# A NIR/NIA/NNP in any usual spacing (13 or 15 characters, 2A/2B), and long digit runs (codes).
_NIR_LIKE = re.compile(r"\b[1-478]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AaBb])\s?\d{3}\s?\d{3}(?:\s?\d{2})?\b")
_SECRET_FIELDS = re.compile(r"(?i)(password|mot_de_passe|code|token|secret)=([^&\s]+)")


def redact(text: str) -> str:
    text = _NIR_LIKE.sub("[NIR masqué]", text)
    return _SECRET_FIELDS.sub(r"\1=[masqué]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
