from django import template

register = template.Library()


@register.filter
def euros(cents: int) -> str:
    """1234567 -> '12 345,67 €' (French grouping with a narrow no-break space)."""
    euros_part, cents_part = divmod(int(cents), 100)
    grouped = f"{euros_part:,}".replace(",", "\u202f")
    return f"{grouped},{cents_part:02d}\u00a0€"
