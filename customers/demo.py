"""Demo customers: about 150 accounts and 800 contacts, the same on every run."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import Role, User

from .models import Account, AccountStatus, Contact, Segment

PREFIXES = [
    "Acme", "Blue", "Bright", "Cedar", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor",
    "Iris", "Juniper", "Kite", "Lumen", "Maple", "Nimbus", "Orbit", "Pine", "Quartz", "Ridge",
    "Summit", "Tidal", "Umber", "Vertex", "Willow",
]  # fmt: skip
SUFFIXES = ["Labs", "Systems", "Health", "Logistics", "Retail", "Analytics"]
INDUSTRIES = ["Software", "Healthcare", "Logistics", "Retail", "Financial services", "Manufacturing", "Education"]
REGIONS = ["North America", "EMEA", "APAC", "LATAM"]
PLANS = ["Starter", "Growth", "Business", "Enterprise"]
PRODUCT_LINES = ["Core", "Analytics", "Payments"]
FIRST = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie", "Robin", "Avery",
         "Lena", "Jonas", "Sofia", "Lukas", "Mia", "Noah", "Emma", "Ben", "Hana", "Omar"]  # fmt: skip
LAST = ["Smith", "Müller", "Garcia", "Chen", "Nguyen", "Schmidt", "Johnson", "Rossi", "Kowalski",
        "Okafor", "Silva", "Dubois", "Andersen", "Tanaka", "Patel", "Fischer"]  # fmt: skip
TITLES = ["CEO", "CTO", "VP Operations", "Head of Support", "Product Manager", "Engineer", "Analyst", "Office Manager"]
ACCOUNT_COUNT = 150


def seed(users: dict[str, User]) -> None:
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    csms = [u for u in users.values() if u.role == Role.CSM]
    existing = set(Account.objects.values_list("external_id", flat=True))
    today = date(2026, 11, 1)
    for i in range(ACCOUNT_COUNT):
        external_id = f"DEMO-{i + 1:04d}"
        segment = rng.choices([Segment.SMB, Segment.MID_MARKET, Segment.ENTERPRISE], weights=[5, 3, 2])[0]
        arr_base = {Segment.SMB: 8_000, Segment.MID_MARKET: 60_000, Segment.ENTERPRISE: 300_000}[segment]
        csm = csms[i % len(csms)]
        since = today - timedelta(days=rng.randint(60, 1400))
        fields = {
            "name": f"{PREFIXES[i % len(PREFIXES)]} {SUFFIXES[i // len(PREFIXES) % len(SUFFIXES)]}",
            "segment": segment,
            "plan_tier": PLANS[
                min(3, [Segment.SMB, Segment.MID_MARKET, Segment.ENTERPRISE].index(segment) + rng.randint(0, 1))
            ],
            "industry": rng.choice(INDUSTRIES),
            "employee_count": {Segment.SMB: 40, Segment.MID_MARKET: 400, Segment.ENTERPRISE: 4000}[segment]
            * rng.randint(1, 5),
            "arr": Decimal(arr_base * rng.randint(5, 30) // 10),
            "region": rng.choice(REGIONS),
            "product_line": rng.choice(PRODUCT_LINES),
            "csm": csm,
            "team": csm.team,
            "customer_since": since,
            "renewal_date": since.replace(year=today.year + (1 if since.replace(year=today.year) < today else 0)),
            "status": AccountStatus.CHURNED if rng.random() < 0.06 else AccountStatus.ACTIVE,
        }
        contact_count = rng.randint(3, 8)
        contacts = []
        for j in range(contact_count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            contacts.append(
                {
                    "email": f"{first.lower()}.{j + 1}@{external_id.lower()}.example.com",
                    "name": f"{first} {last}",
                    "title": TITLES[j % len(TITLES)],
                    "decision_maker": j < 2,
                    "locale": "de" if fields["region"] == "EMEA" and rng.random() < 0.4 else "en",
                }
            )
        if external_id in existing:
            continue  # consumed the same random numbers, so later accounts stay identical
        account = Account.objects.create(external_id=external_id, **fields)
        Contact.objects.bulk_create(Contact(account=account, **c) for c in contacts)
