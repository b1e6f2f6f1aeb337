"""System checks of the virus-scan hook: a scanner that cannot be imported is an error at start,
not a refusal of every file later; a production without a scanner is said out loud."""

from django.conf import settings
from django.core.checks import Error, Warning, register  # noqa: A004  (Django's names)
from django.utils.module_loading import import_string


@register()
def virus_scanner_check(app_configs, **kwargs):
    from moncompte.caf_requests.scanning import DEFAULT_SCANNER

    path = getattr(settings, "MONCOMPTE_VIRUS_SCANNER", "") or DEFAULT_SCANNER
    try:
        scanner = import_string(path)
    except ImportError as error:
        return [Error(f"MONCOMPTE_VIRUS_SCANNER {path!r} cannot be imported: {error}", id="caf_requests.E001")]
    if not callable(scanner):
        return [Error(f"MONCOMPTE_VIRUS_SCANNER {path!r} is not callable.", id="caf_requests.E002")]
    if path == DEFAULT_SCANNER and not settings.MONCOMPTE_CLAMD_SOCKET and getattr(settings, "PRODUCTION", False):
        return [
            Warning(
                "MONCOMPTE_CLAMD_SOCKET is empty: the files sent to the Caf are stored without a virus scan "
                "(marked 'not scanned').",
                id="caf_requests.W001",
            )
        ]
    return []
