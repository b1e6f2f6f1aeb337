"""Reading settings from environment variables: every read of config/settings.py goes through here.

Each helper returns the default when the variable is unset or empty, and raises
ImproperlyConfigured naming the variable when it is set to a value of the wrong shape: a typo
in a deployment stops the service at start-up instead of running with a silently wrong value
(``int("1O")`` crashing with a bare ValueError, or ``"ture"`` read as false).

``environ`` defaults to ``os.environ``; tests pass a dictionary instead.
Django-free apart from the exception, so that tools can import it without settings.
"""

import datetime
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _shown(value: str) -> str:
    # Never the whole of a long value: it might be a secret put in the wrong variable.
    return repr(value if len(value) <= 40 else value[:20] + "…")


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    """The variable as text (surrounding spaces removed), or ``default``."""
    value = _raw(name, environ)
    return default if value is None else value


def env_int(
    name: str,
    default: int,
    *,
    min: int | None = None,  # noqa: A002  (reads best at the call site: env_int(..., min=1))
    max: int | None = None,  # noqa: A002
    environ: Mapping[str, str] | None = None,
) -> int:
    """A whole number between ``min`` and ``max`` (both included, when given)."""
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {_shown(value)}.") from None
    _check_bounds(name, number, min, max)
    return number


def env_float(
    name: str,
    default: float,
    *,
    min: float | None = None,  # noqa: A002
    max: float | None = None,  # noqa: A002
    environ: Mapping[str, str] | None = None,
) -> float:
    """A decimal number (``10``, ``2.5``) between ``min`` and ``max`` (both included, when given)."""
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {_shown(value)}.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, not {_shown(value)}.")
    _check_bounds(name, number, min, max)
    return number


def _check_bounds(name: str, number: float, low: float | None, high: float | None) -> None:
    if low is not None and number < low:
        raise ImproperlyConfigured(f"{name} must be at least {low}, not {number}.")
    if high is not None and number > high:
        raise ImproperlyConfigured(f"{name} must be at most {high}, not {number}.")


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """true/false, 1/0 or yes/no (any case). Anything else is refused, "on" and typos included."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true/false, 1/0 or yes/no, not {_shown(value)}.")


def env_list(name: str, default: Iterable[str] = (), *, environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; empty items are dropped (``"a, b,"`` is ``["a", "b"]``)."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_date(name: str, default: str | datetime.date, *, environ: Mapping[str, str] | None = None) -> datetime.date:
    """A calendar date written the ISO way, ``YYYY-MM-DD``."""
    value = _raw(name, environ)
    if value is None:
        return default if isinstance(default, datetime.date) else datetime.date.fromisoformat(default)
    try:
        if len(value) != 10:
            raise ValueError
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a date written YYYY-MM-DD, not {_shown(value)}.") from None


def env_choice(name: str, default: str, choices: Iterable[str], *, environ: Mapping[str, str] | None = None) -> str:
    """One of ``choices``, exactly as written there."""
    allowed = tuple(choices)
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in allowed:
        listed = ", ".join(repr(choice) for choice in allowed)
        raise ImproperlyConfigured(f"{name} must be one of {listed}, not {_shown(value)}.")
    return value


def env_path(name: str, default: str | Path, *, environ: Mapping[str, str] | None = None) -> Path:
    """A filesystem path (not checked for existence)."""
    value = _raw(name, environ)
    return Path(default if value is None else value)
