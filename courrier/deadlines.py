"""Working-day arithmetic: Monday to Friday minus French public holidays, from the `holidays` package.

Pure functions, no database: `subdivision` is a subdivision of `holidays.France` (57 for Moselle,
6AE for Alsace: Good Friday and 26 December are public holidays there too), or None.
"""
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


@lru_cache(maxsize=64)
def public_holidays(subdivision, year):
    """France's public holidays of `year` (the package loads every country's calendar: 11 MB)."""
    import holidays  # imported at the first deadline, for the worker's memory: GET /me never needs it

    return holidays.country_holidays("FR", subdiv=subdivision, years=year)


def is_working_day(day, subdivision=None):
    return day.weekday() < 5 and day not in public_holidays(subdivision, day.year)


def add_working_days(start, days, subdivision=None):
    """The day `days` working days after `start` (which is not counted): received on a Friday with one
    working day to answer, due the next working day."""
    day = start
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day, subdivision):
            day += timedelta(days=1)
    return day


def paris_today(now=None):
    """Today's date in Europe/Paris: a letter is late from the first day after its deadline there."""
    return (now or datetime.now(PARIS)).astimezone(PARIS).date()


def delai_jours(config, priorite, typologie=None):
    """The letter's treatment time in working days: its typologie's, else its priority's (DELAI_NORMALE…)."""
    if typologie is not None:
        return typologie.delai_jours
    return config["DELAI_URGENTE"] if priorite == "urgente" else config["DELAI_NORMALE"]


def echeance(config, received, priorite, typologie=None):
    """The deadline of a letter received (or registered) on `received`."""
    return add_working_days(received, delai_jours(config, priorite, typologie), config["HOLIDAYS_SUBDIVISION"])


def due_soon(config, due, today):
    """Due within ALERTE_JOURS working days from `today` (not yet late)."""
    return today <= due <= add_working_days(today, config["ALERTE_JOURS"], config["HOLIDAYS_SUBDIVISION"])
