from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class MonCompteArgon2Hasher(Argon2PasswordHasher):
    """Argon2id with parameters from settings (default m=19 MiB, t=2, p=1, OWASP).

    Django's ``must_update`` compares a stored hash with these values, so a change of settings
    re-derives each hash at the person's next successful sign-in.
    """

    @property
    def time_cost(self) -> int:
        return settings.MONCOMPTE_ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:
        return settings.MONCOMPTE_ARGON2_MEMORY_KIB

    @property
    def parallelism(self) -> int:
        return settings.MONCOMPTE_ARGON2_PARALLELISM
