"""gunicorn's settings for Mon Compte: ``gunicorn --config config/gunicorn.conf.py config.wsgi:application``.

Logging only (docs/configuration.md, "Logs"): gunicorn's own loggers, the access log
(``gunicorn.access``) and the server's messages (``gunicorn.error``), get the project's logging
configuration (``moncompte.logging.logging_config``, the one config/settings.py gives Django),
read from the same variables, so that every line gunicorn writes goes through the redaction
filter. Set the log destinations with the ``MONCOMPTE_*`` variables below: gunicorn's
``--access-logfile`` and ``--error-logfile`` are replaced by this configuration. The access log
leaves the query string out (``moncompte.logging.ACCESS_LOG_FORMAT``).

Read by gunicorn's master before any Django code runs: Django-free (config.env needs only
Django's exception class).
"""

from config.env import env_choice, env_str
from moncompte.logging import ACCESS_LOG_FORMAT, LEVELS, logging_config

_level = env_choice("MONCOMPTE_LOG_LEVEL", "INFO", LEVELS)

logconfig_dict = logging_config(
    level=_level,
    log_file=env_str("MONCOMPTE_LOG_FILE") or None,
    log_file_level=env_choice("MONCOMPTE_LOG_FILE_LEVEL", _level, LEVELS),
    access_log_file=env_str("MONCOMPTE_ACCESS_LOG_FILE") or None,
    error_log_file=env_str("MONCOMPTE_ERROR_LOG_FILE") or None,
)
access_log_format = ACCESS_LOG_FORMAT
