"""Who is in the demo workspace: one person per role of the shipped app.yaml, and a visitor
who holds none. The page's user switcher lists them in this order."""

from __future__ import annotations

from dataclasses import dataclass

CHANNEL = "CRELEASE"
CHANNEL_NAME = "releases"


@dataclass(frozen=True)
class Person:
    id: str
    name: str  # the Slack handle, shown as @name
    real_name: str
    role: str | None  # a role id of app.yaml, or None
    title: str  # what the switcher says they are


PEOPLE = (
    Person("UENG", "ada.park", "Ada Park", "engineering_lead", "Engineering Lead"),
    Person("UOPS", "ben.ortiz", "Ben Ortiz", "devops_lead", "DevOps Lead"),
    Person("USEC", "chen.wu", "Chen Wu", "security_lead", "Security Lead"),
    Person("UPRD", "dana.reyes", "Dana Reyes", "product_owner", "Product Owner"),
    Person("UCTO", "eli.novak", "Eli Novak", "cto", "CTO/Engineering Manager"),
    Person("UVIS", "sam.guest", "Sam Guest", None, "no role"),
)


def person(user_id: str) -> Person | None:
    return next((p for p in PEOPLE if p.id == user_id), None)


def members(role_id: str) -> list[str]:
    return [p.id for p in PEOPLE if p.role == role_id]
