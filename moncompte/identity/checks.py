from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def identifier_keys_check(app_configs, **kwargs):
    from moncompte.identity.protection import check_configuration

    try:
        check_configuration()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="identity.E001")]
    return []
