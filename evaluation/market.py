"""转让与租赁: which flags a transfer or lease of parcels in a renewal block raises (pure; standard library only).

The service (app/market/service.py) gathers the facts as of the record's date — each party's classification
in force and its grade in the latest published 亩均 evaluation before the date, each parcel's 产业导向
verdict on the block version in force and its registered 厂中厂 tenants — and this module decides. Each flag
names its kind, the party (``from``: 转让方/出租方, ``to``: 受让方/承租方) and, where it is about a parcel, the
parcel; the service turns it into a Chinese sentence (app/messages.py) and stores it with the record, so a
past record's flags stay as they were on its date.

>>> lessee = Party("to", "桐乡某某纺织厂", "91330483MA2B000001", classification=None, grade=None)
>>> lessor = Party("from", "桐乡某某化工厂", "91330483MA2B000002", classification="clear_out", grade="D")
>>> parcel = ParcelFacts("CF-001", industry_within=False, tenant_keys=frozenset())
>>> [(f.kind, f.party.role, f.parcel) for f in decide("lease", [lessor, lessee], [parcel])]
[('clear_out', 'from', None), ('industry', 'to', 'CF-001'), ('unregistered_tenant', 'to', 'CF-001')]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("equity_transfer", "land_transfer", "factory_transfer", "lease")
FLAG_KINDS = ("clear_out", "grade_d", "industry", "unregistered_tenant")
CLEAR_OUT = "clear_out"
LOW_GRADE = "D"


@dataclass(frozen=True)
class Party:
    """One side of a record, with what was known of it on the record's date."""

    role: str  # "from" (转让方/出租方) or "to" (受让方/承租方)
    name: str
    credit_code: str | None
    classification: str | None = None  # the classification in force on the date (Classification value)
    grade: str | None = None  # A–D in the latest published 亩均 evaluation before the date

    def keys(self) -> set[str]:
        return {k for k in (self.credit_code, self.name) if k}


@dataclass(frozen=True)
class ParcelFacts:
    code: str
    industry_within: bool | None  # matches_guidance on the block version in force; None: nothing to check
    tenant_keys: frozenset[str]  # credit codes and names of the parcel's registered 厂中厂 tenants


@dataclass(frozen=True)
class Flag:
    kind: str  # one of FLAG_KINDS
    party: Party
    parcel: str | None = None


def party_flag(party: Party) -> Flag | None:
    """整治清退 first (it is the stronger finding), else graded D.

    >>> party_flag(Party("to", "甲", None, classification="clear_out", grade="D")).kind
    'clear_out'
    >>> party_flag(Party("to", "甲", None, classification="upgrade", grade="D")).kind
    'grade_d'
    >>> party_flag(Party("to", "甲", None, classification="upgrade", grade="C")) is None
    True
    """
    if party.classification == CLEAR_OUT:
        return Flag(CLEAR_OUT, party)
    if party.grade == LOW_GRADE:
        return Flag("grade_d", party)
    return None


def decide(kind: str, parties: Iterable[Party], parcels: Iterable[ParcelFacts]) -> list[Flag]:
    """Every flag of one record, in a stable order: the parties' (from, then to), then per parcel.

    A lessee outside the block's 产业导向 and a lessee not among the parcel's registered tenants are
    flagged for leases only; a transfer to a 整治清退 or D-graded enterprise (or from one) for every kind.

    >>> ok = ParcelFacts("WT-1", industry_within=True, tenant_keys=frozenset({"桐乡甲厂"}))
    >>> decide("lease", [Party("to", "桐乡甲厂", None)], [ok])
    []
    >>> unknown = ParcelFacts("WT-2", industry_within=None, tenant_keys=frozenset())
    >>> [f.kind for f in decide("land_transfer", [Party("to", "乙", None)], [unknown])]
    []
    >>> [f.kind for f in decide("lease", [Party("to", "乙", "91330483MA2B000009")], [unknown])]
    ['unregistered_tenant']
    """
    parties = sorted(parties, key=lambda p: 0 if p.role == "from" else 1)
    parcels = list(parcels)
    out = [f for f in (party_flag(p) for p in parties) if f is not None]
    if kind != "lease":
        return out
    for lessee in (p for p in parties if p.role == "to"):
        for parcel in parcels:
            if parcel.industry_within is False:
                out.append(Flag("industry", lessee, parcel.code))
        for parcel in parcels:
            if not (lessee.keys() & parcel.tenant_keys):
                out.append(Flag("unregistered_tenant", lessee, parcel.code))
    return _ordered(out)


def _ordered(flags: list[Flag]) -> list[Flag]:
    """Party flags first (from before to), then the parcel flags by kind and parcel as they came."""
    party = [f for f in flags if f.parcel is None]
    party.sort(key=lambda f: 0 if f.party.role == "from" else 1)
    rest = [f for f in flags if f.parcel is not None]
    rest.sort(key=lambda f: FLAG_KINDS.index(f.kind))
    return party + rest
