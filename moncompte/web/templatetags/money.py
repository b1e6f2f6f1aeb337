from django import template

register = template.Library()


@register.filter
def euros(cents: int) -> str:
    """1234567 -> '12 345,67 €' (French grouping with a narrow no-break space)."""
    euros_part, cents_part = divmod(int(cents), 100)
    grouped = f"{euros_part:,}".replace(",", "\u202f")
    return f"{grouped},{cents_part:02d}\u00a0€"


@register.filter
def phone(value: str) -> str:
    """'+33611223344' -> '06 11 22 33 44'; overseas numbers keep their international prefix."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


@register.filter
def contact_value(contact) -> str:
    return phone(contact.value) if contact.kind == "phone" else contact.value
