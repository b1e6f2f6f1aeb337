"""The three inputs of a date as a browser posts them (moncompte.web.forms.DateParts)."""

import datetime


def date_parts(value: datetime.date | str, prefix: str = "birth") -> dict[str, str]:
    """``birth_day``, ``birth_month``, ``birth_year`` from a date or a "JJ/MM/AAAA" text; any other
    text goes to the day, the other parts left empty."""
    if isinstance(value, datetime.date):
        day, month, year = str(value.day), f"{value.month:02d}", f"{value.year:04d}"
    elif value.count("/") == 2:
        day, month, year = value.split("/")
    else:
        day, month, year = value, "", ""
    return {f"{prefix}_day": day, f"{prefix}_month": month, f"{prefix}_year": year}
