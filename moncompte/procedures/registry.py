"""The declared procedure types, by code (moncompte/procedures/types/)."""

from __future__ import annotations

import functools

from moncompte.core.errors import NotAllowed
from moncompte.procedures.declarations import ProcedureType


@functools.cache
def _types() -> dict[str, ProcedureType]:
    from moncompte.procedures.types import ALL_TYPES

    types = {t.code: t for t in ALL_TYPES}
    if len(types) != len(ALL_TYPES):
        raise ValueError("Two procedure types share a code.")
    return types


def procedure_types() -> list[ProcedureType]:
    return list(_types().values())


def procedure_type(code: str) -> ProcedureType:
    """The type of that code; an unknown code is a page that does not exist (NotAllowed: 404)."""
    try:
        return _types()[code]
    except KeyError:
        raise NotAllowed() from None
