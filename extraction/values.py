"""Extraction values: how a field's input is cleaned for storage and how two reviewers' values are compared.

Pure (no Django), so each field type is tested on its own. Stored forms (JSON): text as the string given,
trimmed; integer as an int; decimal as the decimal string given (trimmed, so "0.50" stays "0.50" while it
compares equal to "0.5"); single choice as the option; multiple choice as a list of options in the form's
order; yes/no as a boolean; date as an ISO date string. An empty input is `None` (no value)."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

TEXT, LONG_TEXT, INTEGER, DECIMAL = "text", "long_text", "integer", "decimal"
SINGLE_CHOICE, MULTIPLE_CHOICE, YES_NO, DATE = "single_choice", "multiple_choice", "yes_no", "date"
TYPES = (TEXT, LONG_TEXT, INTEGER, DECIMAL, SINGLE_CHOICE, MULTIPLE_CHOICE, YES_NO, DATE)
MAX_TEXT = {TEXT: 1000, LONG_TEXT: 20000}
YES = {"yes", "y", "true", "1", "on"}
NO = {"no", "n", "false", "0", "off"}


def _empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list | tuple) and not raw)


def clean(field_type: str, raw: Any, choices: list[str] | None = None) -> Any:
    """The stored value of an input for a field of this type, or `ValueError` with a message for the field."""
    if _empty(raw):
        return None
    choices = choices or []
    if field_type in (TEXT, LONG_TEXT):
        text = str(raw).strip()
        if len(text) > MAX_TEXT[field_type]:
            raise ValueError(f"At most {MAX_TEXT[field_type]} characters ({len(text)} given).")
        return text
    if field_type == INTEGER:
        if isinstance(raw, bool):
            raise ValueError("Enter a whole number.")
        if isinstance(raw, int):
            return raw
        text = str(raw).strip().replace(",", "") if isinstance(raw, str) else str(raw)
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"“{raw}” is not a whole number.") from exc
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"“{raw}” is not a whole number.")
        return int(number)
    if field_type == DECIMAL:
        if isinstance(raw, bool):
            raise ValueError("Enter a number.")
        text = str(raw).strip()
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"“{raw}” is not a number (use a point for decimals, e.g. 0.5).") from exc
        if not number.is_finite():
            raise ValueError(f"“{raw}” is not a finite number.")
        return text
    if field_type == SINGLE_CHOICE:
        text = str(raw).strip()
        if text not in choices:
            raise ValueError(f"“{text}” is not one of the options: {'; '.join(choices)}.")
        return text
    if field_type == MULTIPLE_CHOICE:
        items = raw if isinstance(raw, list | tuple) else [raw]
        picked = {str(item).strip() for item in items if str(item).strip()}
        unknown = sorted(picked - set(choices))
        if unknown:
            raise ValueError(f"Not among the options: {'; '.join(unknown)}.")
        return [option for option in choices if option in picked] or None
    if field_type == YES_NO:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in YES:
            return True
        if text in NO:
            return False
        raise ValueError(f"Answer yes or no (not “{raw}”).")
    if field_type == DATE:
        text = str(raw).strip()
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise ValueError(f"“{text}” is not a date: use YYYY-MM-DD.") from exc
    raise ValueError(f"Unknown field type “{field_type}”.")


def comparable(field_type: str, value: Any) -> Any:
    """What two reviewers' stored values are compared by: numbers exactly (decimals as `Decimal`, so 0.5 equals
    0.50 and 0.1 never equals 0.10000001), text after trimming and case folding, choices as sets."""
    if value is None:
        return None
    if field_type in (TEXT, LONG_TEXT, SINGLE_CHOICE):
        return str(value).strip().casefold()
    if field_type in (INTEGER, DECIMAL):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    if field_type == MULTIPLE_CHOICE:
        return frozenset(str(v).strip().casefold() for v in value)
    return value


def same(field_type: str, values: list[Any]) -> bool:
    """Whether all these values agree (a missing value differs from any given one)."""
    keys = {_hashable(comparable(field_type, v)) for v in values}
    return len(keys) <= 1


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def display(field_type: str, value: Any) -> str:
    """The value as a person reads it."""
    if value is None:
        return ""
    if field_type == YES_NO:
        return "Yes" if value else "No"
    if field_type == MULTIPLE_CHOICE:
        return "; ".join(str(v) for v in value)
    return str(value)


def check_data_row(outcome_type: str, row: dict[str, Any]) -> dict[str, str]:
    """Field errors of one outcome-data row (already parsed to numbers), as RevMan checks them: events not
    above totals, totals whole and positive, SDs and the standard error positive, each group complete."""
    errors: dict[str, str] = {}
    for group in ("1", "2"):
        total = row.get(f"total_{group}")
        if total is not None and total <= 0:
            errors[f"total_{group}"] = "The number of participants must be at least 1."
        if outcome_type == "dichotomous":
            events = row.get(f"events_{group}")
            if events is not None and events < 0:
                errors[f"events_{group}"] = "Events cannot be negative."
            elif events is not None and total is not None and events > total:
                errors[f"events_{group}"] = f"Events ({events}) cannot be more than participants ({total})."
        if outcome_type == "continuous":
            sd = row.get(f"sd_{group}")
            if sd is not None and sd <= 0:
                errors[f"sd_{group}"] = "The standard deviation must be positive."
    if outcome_type == "giv":
        se = row.get("se")
        if se is not None and se <= 0:
            errors["se"] = "The standard error must be positive."
    return errors
