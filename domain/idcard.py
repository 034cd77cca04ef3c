"""Resident ID numbers (公民身份号码, GB 11643-1999): the check digit, what the number says, masks.

An ID number is 17 digits — address code (6), birth date (8, YYYYMMDD), sequence (3, odd for men,
even for women) — and a check digit: ISO 7064 MOD 11-2 over the 17, written ``0``–``9`` or ``X``.
Pure functions: no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"  # the check character for each remainder 0..10
PATTERN = re.compile(r"^[1-9][0-9]{16}[0-9X]$")
PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$")


@dataclass(frozen=True)
class IdInfo:
    """What an ID number says: the address code, the birth date and the sex ("M" or "F")."""

    number: str
    area: str
    birth_date: date
    sex: str


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


def parse(text: str, today: date | None = None) -> IdInfo:
    """The ID number's parts, or ``ValueError`` saying what is wrong (length, digits, date, check)."""
    number = str(text).strip().upper()
    if not PATTERN.match(number):
        raise ValueError("an ID number is 18 characters: 17 digits and a digit or X")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError(f"the birth date {number[6:14]} in the ID number is not a date") from None
    if born.year < 1880 or born > (today or date.today()):
        raise ValueError(f"the birth date {born.isoformat()} in the ID number is not plausible")
    if check_digit(number[:17]) != number[17]:
        raise ValueError("the check digit does not match (GB 11643): a digit was mistyped")
    return IdInfo(number, number[:6], born, "M" if int(number[16]) % 2 else "F")


def make(area: str, born: date, sequence: int) -> str:
    """The ID number for an address code, a birth date and a 3-digit sequence (odd: a man)."""
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


def mask(number: str | None) -> str | None:
    """How an ID number reads where it is not revealed: ``150***********123X``."""
    if not number:
        return None
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str | None) -> str | None:
    """How a phone reads where it is not revealed: ``138****5678``."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:]


def phone(text: str) -> str:
    """A mobile or landline number as stored, or ``ValueError``."""
    value = re.sub(r"[\s()]", "", str(text))
    if not PHONE.match(value):
        raise ValueError("a phone is a mobile (11 digits from 13…) or a landline (0xxx-xxxxxxx)")
    return value


def age(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
