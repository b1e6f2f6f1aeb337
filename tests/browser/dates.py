"""Typing a date in a browser as a person does: its three inputs, in the group named by its legend."""

import datetime
import re


def fill_date(page, legend: str, value: datetime.date) -> None:
    group = page.get_by_role("group", name=re.compile(re.escape(legend)))
    for label, part in (("Jour", value.day), ("Mois", f"{value.month:02d}"), ("Année", value.year)):
        group.get_by_label(label).fill(str(part))
