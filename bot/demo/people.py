"""Who and where the demo workspace is: two release channels, each one product's (the
routing a newcomer should see), one person per role of the shipped app.yaml, and a
visitor who holds none. Payments has a Security Lead of its own: LUMINES' may not sign
there, and theirs may not sign LUMINES. The page's user switcher lists people in this
order, its sidebar the channels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    id: str
    name: str  # shown as #name
    product: str  # the product id that claims it: its file name in the demo's config
    example: str  # the release name the page suggests opening there


CHANNELS = (
    Channel("CRELEASE", "releases", "lumines", "LUMINES 1.0.0"),
    Channel("CPAYMENTS", "payments-releases", "payments", "Payments 2.0.0"),
)
CHANNEL, CHANNEL_NAME = CHANNELS[0].id, CHANNELS[0].name  # the first: the page opens there
PRODUCTS = tuple(c.product for c in CHANNELS)


@dataclass(frozen=True)
class Person:
    id: str
    name: str  # the Slack handle, shown as @name
    real_name: str
    role: str | None  # a role id of app.yaml, or None
    title: str  # the role's title
    products: tuple[str, ...] = PRODUCTS  # the products in whose `role` they are


PEOPLE = (
    Person("UENG", "ada.park", "Ada Park", "engineering_lead", "Engineering Lead"),
    Person("UOPS", "ben.ortiz", "Ben Ortiz", "devops_lead", "DevOps Lead"),
    Person("USEC", "chen.wu", "Chen Wu", "security_lead", "Security Lead", ("lumines",)),
    Person("UPSEC", "fay.okafor", "Fay Okafor", "security_lead", "Security Lead", ("payments",)),
    Person("UPRD", "dana.reyes", "Dana Reyes", "product_owner", "Product Owner"),
    Person("UCTO", "eli.novak", "Eli Novak", "cto", "CTO/Engineering Manager"),
    Person("UVIS", "sam.guest", "Sam Guest", None, "no role", ()),
)


def person(user_id: str) -> Person | None:
    return next((p for p in PEOPLE if p.id == user_id), None)


def channel(channel_id: object) -> Channel | None:
    """One of the demo's channels by id (None: not one of them)."""
    return next((c for c in CHANNELS if c.id == channel_id), None)


def members(product: str, role_id: str) -> list[str]:
    """Who holds ROLE_ID in PRODUCT (a product id)."""
    return [p.id for p in PEOPLE if p.role == role_id and product in p.products]
