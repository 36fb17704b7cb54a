#!/usr/bin/env python3
"""Deterministic generator of the contracting DEMO DATA (fictitious, not real figures).

Reads the region and national-table demo files for ids and writes guidelines.json,
contracts.json and offer-places.json beside this script. Run: python3 services/contracting/data/demo/generate.py
"""
import json
import random
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGION = HERE.parent.parent.parent / "region" / "data" / "demo"
NATIONAL = HERE.parent.parent.parent / "national-table" / "data" / "demo"
NS = uuid.UUID("6f1c9f0e-3b7a-4c1e-9a51-2f0d7c1b8e44")
COMMENT = "DEMO DATA — fictitious, not real figures"
rng = random.Random(2026)


def uid(name):
    return str(uuid.uuid5(NS, name))


def items(path):
    return json.loads(path.read_text(encoding="utf-8"))["items"]


orgs = items(REGION / "organisations.json")
offers = items(REGION / "care-offers.json")
regions = {r["code"]: r for r in items(REGION / "regions.json")}
kpis = [k["code"] for k in items(NATIONAL / "national-kpis.json")]
insurers = [o for o in orgs if o["kind"] == "INSURER"]
providers = [o for o in orgs if o["kind"] == "PROVIDER"]
open_offers = [o for o in offers if o["status"] != "CLOSED"]


def may_contract(insurer, offer):
    region = offer["regionCode"]
    return region in insurer["regions"] or regions[region]["coordinatingInsurerId"] == insurer["id"]


def contract(n, insurer, provider_id, covered, status, first, last):
    kpi = rng.choice(kpis)
    return {
        "id": uid(f"contract:{n}"),
        "insurerId": insurer["id"],
        "providerId": provider_id,
        "status": status,
        "firstYear": first,
        "lastYear": last,
        "coveredOfferIds": covered,
        "kpis": [{"kpiCode": kpi, "targets": [{"year": y, "value": round(rng.uniform(60, 95), 1)} for y in range(first, last + 1)]}],
        "volumeAgreement": f"Maximaal {rng.randrange(100, 900, 20)} behandeltrajecten per jaar; bij overschrijding in overleg.",
        "guarantee": {"amountEur": float(rng.randrange(250_000, 4_000_000, 50_000)), "description": "Beschikbaarheidsgarantie bij onderbezetting van de afdeling."},
        "evaluationMoments": [f"{y}-06-30" for y in range(first, last + 1)],
        "notes": "Meerjarige afspraak met tussentijdse evaluatie; relationeel contracteren.",
        "returnReason": "Volumeafspraak past niet bij de personele bezetting." if status == "DRAFT" and n % 2 == 0 else None,
        "terminationReason": "Afdeling gesloten na fusie." if status == "TERMINATED" else None,
    }


contracts = []
demo_insurer, demo_provider = insurers[0], providers[0]
own = [o["id"] for o in open_offers if o["providerId"] == demo_provider["id"]]
# The demo insurer and the demo provider: an agreed multi-year contract.
contracts.append(contract(0, demo_insurer, demo_provider["id"], own[:3], "AGREED", 2025, 2028))
# One utrecht offer covered by at least three insurers (insurers also contract care for their
# insured from outside the region, so any insurer may contract it).
shared = own[0]
for n, ins in enumerate(insurers[1:4], start=1):
    contracts.append(contract(n, ins, demo_provider["id"], [shared], "AGREED", 2026, 2027 + n % 2))
n = 10
for provider in providers[1:40]:
    mine = [o for o in open_offers if o["providerId"] == provider["id"]]
    if not mine:
        continue
    candidates = [i for i in insurers if may_contract(i, mine[0])]
    if not candidates:
        continue
    ins = rng.choice(candidates)
    covered = [o["id"] for o in mine if may_contract(ins, o)][:3]
    status = rng.choices(["AGREED", "DRAFT", "PROPOSED", "TERMINATED"], [70, 12, 12, 6])[0]
    first = rng.choice([2025, 2026])
    contracts.append(contract(n, ins, provider["id"], covered, status, first, first + rng.choice([1, 2, 3])))
    n += 1

guidelines = [
    {
        "id": uid(f"guideline:{year}"),
        "year": year,
        "title": f"Spelregels contractering cruciale ggz {year}",
        "body": (
            "Zorgverzekeraars en zorgaanbieders maken bij voorkeur meerjarige afspraken over cruciaal aanbod, "
            "met KPI's die aansluiten op de landelijke KPI's en tussentijdse evaluaties. Verzekeraars geven "
            "financiële garanties voor beschikbaarheid. Signalen over continuïteit worden binnen de afgesproken "
            "termijn opgepakt. Zorg voor patiënten van buiten de regio wordt niet uitgesloten."
        ),
    }
    for year in (2025, 2026, 2027)
]

# Integrity checks.
offer_by_id = {o["id"]: o for o in offers}
for c in contracts:
    assert c["coveredOfferIds"], c["id"]
    for oid in c["coveredOfferIds"]:
        o = offer_by_id[oid]
        assert o["providerId"] == c["providerId"] and o["status"] != "CLOSED"
    assert 2020 <= c["firstYear"] <= c["lastYear"] <= 2030
assert len({c["id"] for c in contracts}) == len(contracts)
agreed_2027 = {c["insurerId"] for c in contracts if c["status"] == "AGREED" and shared in c["coveredOfferIds"] and c["firstYear"] <= 2027 <= c["lastYear"]}
assert len(agreed_2027) >= 3, agreed_2027

# Region and category of every covered offer (the region subgraph's; contracting records them
# when terms are checked, and the seed loads them from here).
covered_ids = sorted({oid for c in contracts for oid in c["coveredOfferIds"]})
offer_places = [
    {"offerId": oid, "regionCode": offer_by_id[oid]["regionCode"], "category": offer_by_id[oid]["category"]}
    for oid in covered_ids
]

for name, data in (("guidelines.json", guidelines), ("contracts.json", contracts), ("offer-places.json", offer_places)):
    (HERE / name).write_text(json.dumps({"_comment": COMMENT, "items": data}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
print(f"{len(guidelines)} guidelines, {len(contracts)} contracts; offer {shared} has {len(agreed_2027)} insurers in 2027")
