"""Which Caf serves a place: a département code or a postal code typed by a person."""

import re

from moncompte.core.errors import DomainError
from moncompte.households.models import Caf

_POSTAL = re.compile(r"^\d{5}$")
_DEPARTEMENT = re.compile(r"^(\d{2}|2[AB]|97\d)$")


class PlaceError(DomainError, ValueError):
    """A place typed that names no Caf; ``message`` says what to type (ValueError: older callers)."""

    code = "invalid_place"


def departement_of(text: str) -> str:
    """'75011' -> '75', '97411' -> '974', '20000' -> '2A', '20600' -> '2B', '2a' -> '2A', '6' -> '06'."""
    value = re.sub(r"\s", "", text or "").upper()
    if not value:
        raise PlaceError("Indiquez le numéro de votre département ou votre code postal.")
    if value.isdigit() and len(value) == 1:
        value = "0" + value
    if _POSTAL.match(value):
        if value.startswith("97") or value.startswith("98"):
            return value[:3]
        if value.startswith("20"):
            # Corsica: postal codes 200xx-201xx are Corse-du-Sud, the others Haute-Corse.
            return "2A" if int(value[2:]) < 200 else "2B"
        return value[:2]
    if _DEPARTEMENT.match(value) and value not in {"00", "20", "96", "97"}:
        return value
    raise PlaceError("Saisissez un numéro de département (par exemple 75, 2A ou 974) ou un code postal de 5 chiffres.")


def caf_for_place(text: str) -> Caf:
    departement = departement_of(text)
    caf = Caf.objects.filter(departement=departement).order_by("code").first()
    if caf is None:
        raise PlaceError("Nous ne trouvons pas de Caf pour ce département : vérifiez votre saisie.")
    return caf
