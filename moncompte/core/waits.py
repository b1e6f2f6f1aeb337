"""How long to wait, said one way in French everywhere (pages, messages, API errors)."""


def wait_text(seconds: int) -> str:
    """``45 secondes``, ``2 minutes`` (always rounded up: 119 s is 2 minutes), ``1 heure``."""
    seconds = max(1, int(seconds))
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    hours, rest = divmod(minutes, 60)
    text = f"{hours} heure{'s' if hours > 1 else ''}"
    return f"{text} {rest} minute{'s' if rest > 1 else ''}" if rest else text


def too_many_attempts(seconds: int) -> str:
    return f"Trop de tentatives. Réessayez dans {wait_text(seconds)}."
