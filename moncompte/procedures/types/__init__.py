"""The procedure types, each declared once in its module (moncompte.procedures.declarations)."""

from moncompte.procedures.types.activity_bonus import ACTIVITY_BONUS
from moncompte.procedures.types.address_change import ADDRESS_CHANGE
from moncompte.procedures.types.birth_declaration import BIRTH_DECLARATION
from moncompte.procedures.types.housing_aid import HOUSING_AID
from moncompte.procedures.types.resources_change import RESOURCES_CHANGE
from moncompte.procedures.types.rsa import RSA
from moncompte.procedures.types.separation import SEPARATION

ALL_TYPES = (
    HOUSING_AID,
    ACTIVITY_BONUS,
    RSA,
    ADDRESS_CHANGE,
    RESOURCES_CHANGE,
    BIRTH_DECLARATION,
    SEPARATION,
)
