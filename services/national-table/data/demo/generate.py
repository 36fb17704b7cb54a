#!/usr/bin/env python3
"""Generates the national-table subgraph's DEMO DATA (fictitious, not real figures).

Deterministic: stdlib only, no network, random.Random(2027), ids from uuid5 over stable names.
Reads the region demo data (services/region/data/demo/{regions,organisations,care-offers}.json)
for region codes, organisation ids and care-offer ids, and writes expertise-networks.json,
supra-regional-listings.json, national-kpis.json and escalations.json next to this script, after
checking referential integrity, lifecycles and length limits.

Run:  python3 services/national-table/data/demo/generate.py
"""

import datetime
import json
import os
import random
import re
import uuid
from collections import Counter

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
REGION_DIR = os.path.normpath(os.path.join(OUT_DIR, "..", "..", "..", "region", "data", "demo"))
COMMENT = "DEMO DATA — fictitious, not real figures"
NS = uuid.UUID("6f1c2a52-3c1e-4d8e-9b0a-2026c0ffee01")  # fixed namespace for national-table demo ids
NOW = "2026-11-23T21:00:00Z"  # the moment the region demo set describes; nothing here happens later

rng = random.Random(2027)


def uid(kind, key):
    """A stable lowercase UUID for (kind, key)."""
    return str(uuid.uuid5(NS, f"{kind}:{key}"))


def load(name):
    with open(os.path.join(REGION_DIR, name), encoding="utf-8") as f:
        return json.load(f)["items"]


REGIONS = load("regions.json")
ORGS = load("organisations.json")
OFFERS = load("care-offers.json")
REGION = {r["code"]: r for r in REGIONS}
ORG = {o["id"]: o for o in ORGS}
OFFER = {o["id"]: o for o in OFFERS}
ORG_BY_NAME = {o["name"]: o for o in ORGS}
assert len(ORG_BY_NAME) == len(ORGS)


def org(name):
    return ORG_BY_NAME[name]["id"]


def chair(code):
    """Id of the organisation that chairs `code`'s regional table."""
    found = [o["id"] for o in ORGS if f"chair:{code}" in o["demoRoles"]]
    assert len(found) == 1, code
    return found[0]


def offer(region, unit_name):
    """Id of the care offer with this unit name in this region."""
    found = [o["id"] for o in OFFERS if o["regionCode"] == region and o["unitName"] == unit_name]
    assert len(found) == 1, (region, unit_name)
    return found[0]


NATIONAL_TABLE = next(o["id"] for o in ORGS if o["kind"] == "NATIONAL_TABLE")


# --------------------------------------------------------------------------------------------
# 1. Expertise networks.
# --------------------------------------------------------------------------------------------

NETWORKS = [
    ("eating", "Expertisenetwerk eetstoornissen",
     "Mensen met ernstige eetstoornissen",
     ["GGZ Dommeldal", "GGZ Kromme Rijn", "UMC Noorderpoort", "Academisch Medisch Centrum Domstede"],
     "Consultatiebureau Expertisecentrum Eetstoornissen, GGZ Dommeldal (algemeen nummer)"),
    ("personality-safety", "Expertisenetwerk persoonlijkheidsproblematiek en veiligheid",
     "Mensen met ernstige persoonlijkheidsproblematiek met veiligheidsrisico's",
     ["Stichting Eemland Psychiatrie", "GGZ Nieuwland", "GGZ Heidevenen", "Stichting Haringvliet Zorg",
      "Stichting Bossche Broek GGZ"],
     "Consultatieteam persoonlijkheidsproblematiek en veiligheid, Stichting Eemland Psychiatrie "
     "(algemeen nummer)"),
    ("early-psychosis", "Expertisenetwerk vroege psychose",
     "Jongeren en volwassenen met een eerste psychose",
     ["GGZ Nieuwland", "Psychiatrisch Centrum De Wieden", "Stichting Zuiderheide Zorg", "GGZ Piushaven",
      "UMC Maasmond"],
     "Landelijk consultatiepunt vroege psychose, UMC Maasmond, afdeling psychiatrie (algemeen nummer)"),
    ("intellectual-disability", "Expertisenetwerk LVB en psychiatrie",
     "Mensen met een licht verstandelijke beperking (LVB) en psychiatrische problematiek",
     ["GGZ Dinkeldal", "Stichting Kempenland Psychiatrie", "Psychiatrisch Centrum Zijpe",
      "Stichting De Wadden GGZ"],
     "Consultatiedesk LVB en psychiatrie, GGZ Dinkeldal (algemeen nummer)"),
    ("neuropsychiatry", "Expertisenetwerk neuropsychiatrie",
     "Mensen met psychiatrische problematiek bij een hersenaandoening",
     ["UMC Waalheuvel", "UMC Noorderpoort", "Academisch Medisch Centrum Domstede",
      "Stichting Kempenland Psychiatrie", "Psychiatrisch Centrum Lekdijk"],
     "Consultatiedienst neuropsychiatrie, UMC Waalheuvel, afdeling medische psychiatrie (algemeen nummer)"),
]
networks = [
    {
        "id": uid("network", key),
        "name": name,
        "targetGroup": target,
        "memberOrganisationIds": [org(m) for m in members],
        "consultationContact": contact,
    }
    for key, name, target, members, contact in NETWORKS
]
NETWORK_ID = {key: uid("network", key) for key, *_ in NETWORKS}

# --------------------------------------------------------------------------------------------
# 2. Supra-regional listings: every HS-8 offer (Zpm setting 8), the UMC psychiatric clinics,
#    two of the UMC medical-psychiatric units and two secure units at level 3.
# --------------------------------------------------------------------------------------------

# Target group per unit-name prefix (the region generator names units "<kind> <town>").
TARGETS = [
    ("Centrum voor psychotrauma", "Volwassenen met complexe posttraumatische stressstoornis"),
    ("Centrum autisme volwassenen", "Volwassenen met autisme en complexe bijkomende psychiatrische problematiek"),
    ("Expertisecentrum angst en dwang", "Mensen met ernstige, therapieresistente angst- en dwangstoornissen"),
    ("Kliniek therapieresistente depressie", "Mensen met therapieresistente depressie"),
    ("Kliniek psychotrauma", "Mensen met complexe traumagerelateerde stoornissen die klinisch behandeld moeten worden"),
    ("Kliniek eetstoornissen", "Mensen met ernstige eetstoornissen"),
    ("Topklinisch centrum persoonlijkheidsstoornissen", "Mensen met ernstige persoonlijkheidsstoornissen"),
    ("Topklinisch centrum bipolair", "Mensen met complexe of therapieresistente bipolaire stoornissen"),
    ("Psychiatrische universiteitskliniek",
     "Mensen met complexe psychiatrische problematiek die academische, hoogspecialistische zorg nodig hebben"),
    ("Medisch-psychiatrische unit",
     "Mensen met gelijktijdige ernstige lichamelijke en psychiatrische problematiek"),
    ("Beveiligde afdeling", "Mensen met psychiatrische problematiek en hoge veiligheidsrisico's (beveiligingsniveau 3)"),
]
# Expertise network per unit-name prefix (only where the offer's provider is a member).
LISTING_NETWORK = {
    "Kliniek eetstoornissen": "eating",
    "Topklinisch centrum persoonlijkheidsstoornissen": "personality-safety",
    "Medisch-psychiatrische unit": "neuropsychiatry",
}


def target_group(o):
    for prefix, text in TARGETS:
        if o["unitName"].startswith(prefix):
            return text
    raise AssertionError(o["unitName"])


listed = (
    [o for o in OFFERS if o["category"] == "SPECIALIST_MHC" and o["supraRegional"] and o["status"] != "CLOSED"]
    + [o for o in OFFERS if o["careForm"] == "UMC_PUK" and o["status"] != "CLOSED"]
    + [o for o in OFFERS if o["careForm"] == "UMC_MPU" and o["regionCode"] in ("utrecht", "groningen")]
    + [o for o in OFFERS if o["careForm"] == "SECURE_BED_LEVEL_3" and o["status"] == "SECURED" and o["supraRegional"]]
)
listings = []
for o in listed:
    net = next((NETWORK_ID[k] for p, k in LISTING_NETWORK.items() if o["unitName"].startswith(p)), None)
    listings.append({
        "id": uid("listing", o["id"]),
        "offerId": o["id"],
        "targetGroup": target_group(o),
        "regionsServed": list(o["regionsServed"]),
        "hs8": o["category"] == "SPECIALIST_MHC",
        "expertiseNetworkId": net,
    })

# --------------------------------------------------------------------------------------------
# 3. National KPIs (targets 2025–2027; national measurements 2025 and 2026; six regions 2025).
# --------------------------------------------------------------------------------------------

# Regional 2025 measurements for six regions: utrecht, groningen, flevoland, zeeland, rotterdam and
# zuid-limburg; the HS-8 KPI uses regions with an HS-8 offer of their own instead (it is measured where
# the offer is located, and zeeland has none).


def jitter(base, spread, digits=1, lo=None, hi=None):
    v = base + rng.uniform(-spread, spread)
    if lo is not None:
        v = max(lo, v)
    if hi is not None:
        v = min(hi, v)
    return round(v, digits)


def measurements(national, regional):
    out = [{"year": y, "regionCode": None, "value": v} for y, v in national]
    out += [{"year": 2025, "regionCode": c, "value": v} for c, v in regional]
    return out


kpis = [
    {
        "code": "CRUCIAL_OFFER_COMPLETENESS",
        "name": "Volledigheid cruciaal aanbod",
        "definition": (
            "Aandeel van de zes categorieën cruciale ggz dat voor de inwoners van een regio beschikbaar is, "
            "in de eigen regio of via een schriftelijke afspraak met een andere regio. Landelijk: het "
            "gemiddelde over alle zorgkantoorregio's."
        ),
        "unit": "percent",
        "direction": "HIGHER_IS_BETTER",
        "targets": [{"year": 2025, "value": 90}, {"year": 2026, "value": 95}, {"year": 2027, "value": 100}],
        # Six categories, so a region scores in steps of 1/6; the gap regions score lower.
        "measurements": measurements(
            [(2025, 91.4), (2026, 94.1)],
            [("utrecht", 100.0), ("groningen", 100.0), ("flevoland", 83.3), ("zeeland", 66.7),
             ("rotterdam", 100.0), ("zuid-limburg", 100.0)],
        ),
    },
    {
        "code": "INTENSIVE_CARE_WAIT_WEEKS",
        "name": "Wachttijd intensieve ambulante zorg",
        "definition": (
            "Gemiddelde tijd in weken tussen aanmelding en start van de behandeling bij FACT-, IHT- en "
            "VIP-teams, gewogen naar het aantal aanmeldingen."
        ),
        "unit": "weeks",
        "direction": "LOWER_IS_BETTER",
        "targets": [{"year": 2025, "value": 4.0}, {"year": 2026, "value": 3.0}, {"year": 2027, "value": 2.0}],
        "measurements": measurements(
            [(2025, 4.8), (2026, 4.1)],
            [(c, jitter(b, 0.6, lo=1.0)) for c, b in
             [("utrecht", 5.6), ("groningen", 4.4), ("flevoland", 3.9), ("zeeland", 6.3),
              ("rotterdam", 5.1), ("zuid-limburg", 3.6)]],
        ),
    },
    {
        "code": "CONTINUITY_SIGNALS_ON_TIME",
        "name": "Vroegsignaleringen tijdig opgepakt",
        "definition": (
            "Aandeel van de vroegsignaleringen over de continuïteit van cruciale ggz dat de coördinerend "
            "zorgverzekeraar binnen de afgesproken termijn van twee weken heeft bevestigd."
        ),
        "unit": "percent",
        "direction": "HIGHER_IS_BETTER",
        "targets": [{"year": 2025, "value": 80}, {"year": 2026, "value": 90}, {"year": 2027, "value": 95}],
        "measurements": measurements(
            [(2025, 68.0), (2026, 81.8)],
            [(c, jitter(b, 6, lo=0, hi=100)) for c, b in
             [("utrecht", 75), ("groningen", 80), ("flevoland", 60), ("zeeland", 55),
              ("rotterdam", 70), ("zuid-limburg", 85)]],
        ),
    },
    {
        "code": "HS8_MULTI_YEAR_CONTRACTED",
        "name": "HS-8-aanbod meerjarig gecontracteerd",
        "definition": (
            "Aandeel van de capaciteit op de HS-8-lijst (hoogspecialistische ggz, Zpm setting 8) waarvoor "
            "zorgverzekeraars een meerjarige afspraak van minimaal drie jaar met de aanbieder hebben gemaakt. "
            "Per regio: het aanbod dat in die regio is gevestigd."
        ),
        "unit": "percent",
        "direction": "HIGHER_IS_BETTER",
        "targets": [{"year": 2025, "value": 50}, {"year": 2026, "value": 70}, {"year": 2027, "value": 90}],
        "measurements": measurements(
            [(2025, 38.0), (2026, 56.3)],
            [(c, jitter(b, 8, lo=0, hi=100)) for c, b in
             [("utrecht", 30), ("groningen", 55), ("flevoland", 45), ("haaglanden", 25),
              ("zuidoost-brabant", 60), ("zuid-limburg", 40)]],
        ),
    },
    {
        "code": "CRUCIAL_INTAKE_PAUSES",
        "name": "Aanmeldpauzes in de cruciale ggz",
        "definition": (
            "Aantal afdelingen en teams cruciale ggz met een lopende aanmeldpauze op de peildatum "
            "(1 november)."
        ),
        "unit": "count",
        "direction": "LOWER_IS_BETTER",
        "targets": [{"year": 2025, "value": 10}, {"year": 2026, "value": 6}, {"year": 2027, "value": 3}],
        "measurements": measurements(
            # 2026 is the number of intake pauses in the region demo data.
            [(2025, 14), (2026, sum(1 for o in OFFERS if o["intakePause"]))],
            [("utrecht", 2), ("groningen", 1), ("flevoland", 0), ("zeeland", 2), ("rotterdam", 1),
             ("zuid-limburg", 1)],
        ),
    },
]

# --------------------------------------------------------------------------------------------
# 4. Escalations, with their transitions and measures.
# --------------------------------------------------------------------------------------------

LIFECYCLE = {
    "SUBMITTED": {"IN_DISCUSSION", "DECLINED"},
    "IN_DISCUSSION": {"MEASURE_AGREED", "DECLINED"},
    "MEASURE_AGREED": {"RESOLVED"},
    "RESOLVED": set(),
    "DECLINED": set(),
}


def tr(frm, to, at, note):
    return {"from": frm, "to": to, "at": at, "note": note}


def measure(esc_key, n, title, description, owner, due, status):
    return {"id": uid("measure", f"{esc_key}-{n}"), "title": title, "description": description,
            "ownerOrganisationId": owner, "dueDate": due, "status": status}


def coordinating_insurer(code):
    return REGION[code]["coordinatingInsurerId"]


escalations = [
    # Utrecht: no secure beds at level 3, and the only level-2 unit is closing. Just raised.
    {
        "id": uid("escalation", "utrecht-secure-2026"),
        "regionCode": "utrecht",
        "category": "SECURE",
        "targetGroup": "Volwassenen met ernstige psychiatrische problematiek en hoge veiligheidsrisico's",
        "problem": (
            "De regio Utrecht heeft geen beveiligde bedden op niveau 3. De enige beveiligde afdeling op "
            "niveau 2 in de regio (De Linde) sluit, waardoor ook die plaatsen verdwijnen. Cliënten die "
            "beveiligde zorg nodig hebben, verblijven daardoor langer op de HIC of op een gewone "
            "opnameafdeling. Dat zet de veiligheid van cliënten en medewerkers onder druk en houdt acute "
            "bedden bezet. De beveiligde afdeling op niveau 3 in Arnhem, waarop de regio tot nu toe "
            "terugviel, kondigt eveneens sluiting aan. Binnen redelijke reisafstand is er dan geen "
            "alternatief meer."
        ),
        "regionTried": (
            "De regiotafel heeft met de aanbieders onderzocht of afdeling De Linde open kan blijven; dat "
            "lukt niet vanwege de huisvesting en het personeelstekort. Met Arnhem, Amstelland en de "
            "Meerlanden en Midden-Holland zijn afspraken gemaakt over incidentele plaatsing, maar die geven "
            "geen structurele capaciteit. De coördinerend zorgverzekeraar heeft een meerjarige "
            "volumegarantie aangeboden voor een nieuwe afdeling; geen aanbieder kan die op korte termijn "
            "openen. De regio vraagt de landelijke tafel om een bovenregionale verdeling van beveiligde "
            "bedden op niveau 2 en 3 in Midden-Nederland."
        ),
        "affectedOfferIds": [offer("utrecht", "Beveiligde afdeling De Linde (niveau 2)"),
                             offer("utrecht", "Afdeling HIC Zuid")],
        "urgency": "HIGH",
        "status": "SUBMITTED",
        "declineReason": None,
        "publicSummary": None,
        "raisedBy": chair("utrecht"),
        "raisedAt": "2026-11-16T10:00:00Z",
        "transitions": [],
        "measures": [],
    },
    # Utrecht: the clinic for treatment-resistant depression (HS-8) closes; measures agreed.
    {
        "id": uid("escalation", "utrecht-hs8-depression-2026"),
        "regionCode": "utrecht",
        "category": "SPECIALIST_MHC",
        "targetGroup": "Mensen met therapieresistente depressie",
        "problem": (
            "De kliniek voor therapieresistente depressie in Utrecht (Zpm setting 8) bouwt af en sluit. Het "
            "is een van de twee klinische voorzieningen voor deze doelgroep in het land. Cliënten uit "
            "Utrecht, Amstelland en de Meerlanden en Zuid-Holland Noord moeten uitwijken naar Leidschendam, "
            "waar de wachttijd al boven de Treeknorm ligt. Tegelijk staat het topklinisch centrum "
            "persoonlijkheidsstoornissen in Veenendaal onder druk door het vertrek van gespecialiseerde "
            "behandelaars. Hoogspecialistische zorg met een landelijke functie kan de regio niet zelf borgen."
        ),
        "regionTried": (
            "De aanbieder heeft een vroegsignalering gedaan en met de coördinerend zorgverzekeraar gezocht "
            "naar overname door een andere aanbieder in de regio; geen van de regionale aanbieders heeft de "
            "expertise of het personeel. Een tijdelijke samenwerking met de kliniek in Leidschendam is "
            "verkend, maar die heeft zelf te weinig capaciteit. De regio heeft de wachtlijst in kaart "
            "gebracht en wachtenden voorrang gegeven bij ambulante behandeling."
        ),
        "affectedOfferIds": [offer("utrecht", "Kliniek therapieresistente depressie Utrecht"),
                             offer("utrecht", "Topklinisch centrum persoonlijkheidsstoornissen Veenendaal")],
        "urgency": "HIGH",
        "status": "MEASURE_AGREED",
        "declineReason": None,
        "publicSummary": (
            "De landelijke tafel heeft afgesproken dat de klinische behandeling van therapieresistente "
            "depressie beschikbaar blijft voor Midden-Nederland. De Utrechtse kliniek draagt de behandeling "
            "gefaseerd over aan de kliniek in Leidschendam, die daarvoor een tweede behandelteam opzet. De "
            "coördinerend zorgverzekeraar maakt een meerjarige afspraak over deze hoogspecialistische zorg. "
            "De landelijke tafel volgt de capaciteit en de wachttijden elk kwartaal."
        ),
        "raisedBy": chair("utrecht"),
        "raisedAt": "2026-06-01T10:00:00Z",
        "transitions": [
            tr("SUBMITTED", "IN_DISCUSSION", "2026-06-15T14:00:00Z",
               "Geagendeerd voor het overleg van de landelijke tafel in juni."),
            tr("IN_DISCUSSION", "MEASURE_AGREED", "2026-07-06T15:00:00Z",
               "Vier maatregelen afgesproken; de voortgang wordt elk kwartaal besproken."),
        ],
        "measures": [
            measure("utrecht-hs8-depression-2026", 1, "Gefaseerde overdracht kliniek therapieresistente depressie",
                    "De Utrechtse kliniek draagt de behandeling en de lopende zorg in fasen over aan de kliniek "
                    "in Leidschendam. Geen cliënt wordt ontslagen zonder vervolgplek; iedere overdracht gaat "
                    "met een warme overdracht tussen de behandelaars.",
                    org("Psychiatrisch Centrum Lekdijk"), "2026-10-15", "IN_PROGRESS"),
            measure("utrecht-hs8-depression-2026", 2, "Tweede behandelteam in Leidschendam",
                    "De kliniek in Leidschendam opent een tweede behandelteam met acht bedden, zodat de "
                    "cliënten uit Midden-Nederland binnen de Treeknorm terechtkunnen.",
                    org("GGZ Haagse Beemden"), "2027-01-31", "IN_PROGRESS"),
            measure("utrecht-hs8-depression-2026", 3, "Meerjarige afspraak hoogspecialistische depressiezorg",
                    "De coördinerend zorgverzekeraar maakt namens de zorgverzekeraars een afspraak voor "
                    "2027 tot en met 2029 met een volumegarantie voor de klinische behandeling van "
                    "therapieresistente depressie.",
                    coordinating_insurer("utrecht"), "2026-12-31", "PLANNED"),
            measure("utrecht-hs8-depression-2026", 4, "Eerste kwartaalrapportage capaciteit en wachttijd",
                    "Het secretariaat van de landelijke tafel brengt de beschikbare bedden en de wachttijden "
                    "voor deze doelgroep in kaart; daarna volgt elk kwartaal een rapportage.",
                    NATIONAL_TABLE, "2026-09-30", "DONE"),
        ],
    },
    # Zeeland: the only HIC closes (the escalated continuity signal); under discussion.
    {
        "id": uid("escalation", "zeeland-hic-2026"),
        "regionCode": "zeeland",
        "category": "ACUTE",
        "targetGroup": "Volwassenen die acuut moeten worden opgenomen (HIC)",
        "problem": (
            "De enige HIC-afdeling in Zeeland sluit per half januari 2027 door aanhoudend personeelstekort en "
            "verouderde huisvesting. Zonder HIC moeten cliënten in crisis naar Rotterdam of West-Brabant, met "
            "reistijden tot anderhalf uur vanuit Zeeuws-Vlaanderen. De crisisdienst en het IHT-team verliezen "
            "daarmee hun achtervang. Zeeland heeft daarnaast geen beveiligde zorg en geen hoogspecialistisch "
            "aanbod in de eigen regio en is voor een groot deel van de cruciale ggz al afhankelijk van "
            "buurregio's."
        ),
        "regionTried": (
            "De vroegsignalering is in september door de coördinerend zorgverzekeraar bevestigd. De "
            "regiotafel heeft onderzocht of een andere aanbieder de HIC kan overnemen en of het IHT-team "
            "kan worden uitgebreid als alternatief voor opname; beide lossen het tekort aan acute bedden "
            "niet op. Met de Zuid-Hollandse Eilanden en West-Brabant zijn afspraken gemaakt over tijdelijke "
            "opvang, maar die regio's hebben zelf weinig ruimte. Een wervingscampagne voor verpleegkundigen "
            "loopt, met beperkt resultaat."
        ),
        "affectedOfferIds": [offer("zeeland", "Afdeling HIC West"), offer("zeeland", "IHT-team Terneuzen"),
                             offer("zeeland", "Crisisdienst Zeeland")],
        "urgency": "CRITICAL",
        "status": "IN_DISCUSSION",
        "declineReason": None,
        "publicSummary": None,
        "raisedBy": chair("zeeland"),
        "raisedAt": "2026-09-24T10:00:00Z",
        "transitions": [
            tr("SUBMITTED", "IN_DISCUSSION", "2026-10-08T13:00:00Z",
               "Met voorrang geagendeerd; verkenning met buurregio's en zorgverzekeraars gestart."),
        ],
        "measures": [],
    },
    # Flevoland: no secure care in the region; placement agreements made and working.
    {
        "id": uid("escalation", "flevoland-secure-2026"),
        "regionCode": "flevoland",
        "category": "SECURE",
        "targetGroup": "Volwassenen met psychiatrische problematiek en veiligheidsrisico's",
        "problem": (
            "Flevoland heeft geen beveiligde zorg in de eigen regio: geen beveiligde bedden, geen KIB en geen "
            "levensloopaanpak. Cliënten worden geplaatst waar toevallig plek is, soms ver buiten de regio, "
            "waardoor het contact met naasten en de terugkeer naar de wijk moeizaam verlopen. Er zijn geen "
            "vaste afspraken met aanbieders buiten de regio over plaatsing en terugplaatsing. Intussen "
            "wachten cliënten op de gewone opnameafdeling."
        ),
        "regionTried": (
            "De regio heeft met de aanbieders in Flevoland onderzocht of een eigen beveiligde afdeling "
            "haalbaar is; daarvoor is het aantal cliënten te klein. Met aanbieders in Apeldoorn/Zutphen zijn "
            "verkennende gesprekken gevoerd, maar zonder bovenregionale afspraak over capaciteit en "
            "financiering kwamen die niet verder."
        ),
        "affectedOfferIds": [offer("flevoland", "Opnameafdeling De Hazelaar")],
        "urgency": "MEDIUM",
        "status": "RESOLVED",
        "declineReason": None,
        "publicSummary": (
            "Voor inwoners van Flevoland die beveiligde zorg nodig hebben, zijn vaste afspraken gemaakt met "
            "twee aanbieders in Oost-Nederland over plaatsing en terugplaatsing, met een meerjarige "
            "financiering door de zorgverzekeraars. Een eigen beveiligde afdeling in Flevoland is niet nodig "
            "gebleken. Sinds de zomer worden cliënten alleen nog bij de afgesproken aanbieders geplaatst; de "
            "landelijke tafel heeft het knelpunt daarom als opgelost afgesloten."
        ),
        "raisedBy": chair("flevoland"),
        "raisedAt": "2026-02-09T09:30:00Z",
        "transitions": [
            tr("SUBMITTED", "IN_DISCUSSION", "2026-02-23T14:00:00Z", "Besproken in het overleg van februari."),
            tr("IN_DISCUSSION", "MEASURE_AGREED", "2026-03-30T15:00:00Z",
               "Afspraken over plaatsing, terugplaatsing en financiering vastgelegd."),
            tr("MEASURE_AGREED", "RESOLVED", "2026-09-28T13:00:00Z",
               "Afspraken werken; geen plaatsingen meer buiten de afgesproken aanbieders."),
        ],
        "measures": [
            measure("flevoland-secure-2026", 1, "Plaatsingsafspraak beveiligde zorg niveau 2",
                    "Een aanbieder in Apeldoorn/Zutphen reserveert plaatsen op beveiligingsniveau 2 voor "
                    "cliënten uit Flevoland en spreekt terugplaatsing naar de eigen regio af.",
                    org("Stichting Berkelhof GGZ"), "2026-05-31", "DONE"),
            measure("flevoland-secure-2026", 2, "Plaatsingsafspraak KIB",
                    "De KIB-afdeling in Apeldoorn/Zutphen neemt cliënten uit Flevoland op volgens een vaste "
                    "verwijsroute, met een gezamenlijk overleg bij opname en ontslag.",
                    org("GGZ Dinkeldal"), "2026-05-31", "DONE"),
            measure("flevoland-secure-2026", 3, "Meerjarige financiering bovenregionale plaatsingen",
                    "De zorgverzekeraars financieren de gereserveerde plaatsen voor drie jaar, ook als ze "
                    "tijdelijk niet bezet zijn.",
                    coordinating_insurer("flevoland"), "2026-06-30", "DONE"),
            measure("flevoland-secure-2026", 4, "Verkenning eigen beveiligde afdeling",
                    "Verkenning van een kleine beveiligde afdeling in Flevoland. Geannuleerd nadat de "
                    "plaatsingsafspraken voldoende bleken.",
                    org("GGZ Nieuwland"), "2026-09-30", "CANCELLED"),
        ],
    },
    # Drenthe: asks for its own HS-8 centre; declined (supra-regional by nature, covered nearby).
    {
        "id": uid("escalation", "drenthe-hs8-2026"),
        "regionCode": "drenthe",
        "category": "SPECIALIST_MHC",
        "targetGroup": "Volwassenen die hoogspecialistische ggz (Zpm setting 8) nodig hebben",
        "problem": (
            "Drenthe heeft geen hoogspecialistisch ggz-aanbod (Zpm setting 8) in de eigen regio. Cliënten met "
            "bijvoorbeeld complexe trauma- of autismeproblematiek moeten voor behandeling naar Groningen of "
            "Zwolle. De regio vraagt de landelijke tafel om een hoogspecialistisch centrum in Drenthe aan te "
            "wijzen en te financieren."
        ),
        "regionTried": (
            "De regio heeft in kaart gebracht hoeveel cliënten jaarlijks buiten de regio hoogspecialistische "
            "zorg krijgen en met de aanbieders in Drenthe besproken of een eigen centrum haalbaar is. Met "
            "Groningen en Zwolle zijn nog geen schriftelijke afspraken gemaakt."
        ),
        "affectedOfferIds": [],
        "urgency": "LOW",
        "status": "DECLINED",
        "declineReason": (
            "Hoogspecialistische ggz heeft een bovenregionale functie en hoeft niet in elke regio aanwezig te "
            "zijn. Het centrum voor psychotrauma in Groningen en het centrum voor autisme bij volwassenen in "
            "Zwolle bedienen ook Drenthe; de zorg is voor inwoners van Drenthe dus bereikbaar. Er is geen "
            "knelpunt dat de regio niet zelf kan oplossen. De regio kan schriftelijke afspraken maken met "
            "Groningen en Zwolle; de landelijke tafel ondersteunt daarbij."
        ),
        "publicSummary": (
            "De landelijke tafel heeft het verzoek van Drenthe om een eigen hoogspecialistisch ggz-centrum niet "
            "overgenomen. Hoogspecialistische ggz is bovenregionaal georganiseerd en is voor inwoners van "
            "Drenthe beschikbaar in Groningen en Zwolle. De regio maakt met deze buurregio's schriftelijke "
            "afspraken over verwijzing en terugverwijzing."
        ),
        "raisedBy": chair("drenthe"),
        "raisedAt": "2026-04-14T10:00:00Z",
        "transitions": [
            tr("SUBMITTED", "IN_DISCUSSION", "2026-04-27T14:00:00Z", "In behandeling genomen."),
            tr("IN_DISCUSSION", "DECLINED", "2026-05-25T15:00:00Z",
               "Niet overgenomen; terugverwezen naar de regiotafel met ondersteuning."),
        ],
        "measures": [],
    },
    # 't Gooi: no secure care, the Amsterdam unit it relied on closed. Just raised.
    {
        "id": uid("escalation", "t-gooi-secure-2026"),
        "regionCode": "t-gooi",
        "category": "SECURE",
        "targetGroup": "Volwassenen met psychiatrische problematiek en veiligheidsrisico's",
        "problem": (
            "'t Gooi heeft geen beveiligde zorg in de eigen regio. De beveiligde afdeling op niveau 2 in "
            "Amsterdam waarop de regio was aangewezen, is gesloten. De overgebleven afdelingen in Amsterdam "
            "hebben een wachtlijst, waardoor cliënten met veiligheidsrisico's langer op de gewone "
            "opnameafdeling blijven. Die afdeling sluit zelf ook, wat de druk verder verhoogt."
        ),
        "regionTried": (
            "De regiotafel heeft met Amsterdam en Amstelland en de Meerlanden gesproken over voorrang voor "
            "cliënten uit 't Gooi; dat is niet gelukt omdat de capaciteit daar volledig wordt benut. Een "
            "tijdelijke beveiligde unit in de regio is niet haalbaar gebleken omdat het aantal cliënten te "
            "klein is voor een eigen afdeling. De regio vraagt de landelijke tafel om een afspraak over "
            "bovenregionale plaatsing in de Noordvleugel."
        ),
        "affectedOfferIds": [offer("t-gooi", "Opnameafdeling De Linde")],
        "urgency": "MEDIUM",
        "status": "SUBMITTED",
        "declineReason": None,
        "publicSummary": None,
        "raisedBy": chair("t-gooi"),
        "raisedAt": "2026-11-19T11:30:00Z",
        "transitions": [],
        "measures": [],
    },
]

# --------------------------------------------------------------------------------------------
# 5. Checks.
# --------------------------------------------------------------------------------------------

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
KPI_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
MAX_NAME, MAX_SHORT, MAX_TEXT = 200, 500, 1000  # the server allows 8000 for long texts; demo keeps 1000
CATEGORIES = {"ACUTE", "OUTREACH", "CLINICAL", "SECURE", "SPECIALIST_MHC", "SPECIALIST_HOSPITAL"}


def text_ok(s, maximum):
    return isinstance(s, str) and s == s.strip() and 0 < len(s) <= maximum and not any(
        ord(ch) < 32 for ch in s)


def ts(s):
    assert TS_RE.match(s), s
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def date(s):
    return datetime.date.fromisoformat(s)


all_ids = []

# Networks.
assert len(networks) == 5
for n in networks:
    all_ids.append(n["id"])
    assert text_ok(n["name"], MAX_NAME) and text_ok(n["targetGroup"], MAX_NAME)
    assert text_ok(n["consultationContact"], MAX_SHORT) and "algemeen nummer" in n["consultationContact"]
    assert 2 <= len(n["memberOrganisationIds"]) <= 5
    assert len(set(n["memberOrganisationIds"])) == len(n["memberOrganisationIds"])
    for m in n["memberOrganisationIds"]:
        assert ORG[m]["kind"] == "PROVIDER", ORG[m]["name"]
    # The consultation contact names a member organisation.
    assert any(ORG[m]["name"] in n["consultationContact"] for m in n["memberOrganisationIds"]), n["name"]
assert len({n["name"] for n in networks}) == 5

# Listings.
assert 15 <= len(listings) <= 25, len(listings)
assert len({l["offerId"] for l in listings}) == len(listings)
network_ids = {n["id"] for n in networks}
for l in listings:
    all_ids.append(l["id"])
    o = OFFER[l["offerId"]]
    assert o["supraRegional"] and o["status"] != "CLOSED", o["unitName"]
    assert o["category"] in ("SPECIALIST_MHC", "SPECIALIST_HOSPITAL", "SECURE")
    assert text_ok(l["targetGroup"], MAX_NAME)
    assert len(l["regionsServed"]) >= 2 and o["regionCode"] in l["regionsServed"]
    assert len(set(l["regionsServed"])) == len(l["regionsServed"])
    assert all(c in REGION for c in l["regionsServed"])
    assert l["hs8"] == (o["category"] == "SPECIALIST_MHC")
    if l["expertiseNetworkId"] is not None:
        assert l["expertiseNetworkId"] in network_ids
        net = next(n for n in networks if n["id"] == l["expertiseNetworkId"])
        assert o["providerId"] in net["memberOrganisationIds"], (o["unitName"], net["name"])
assert sum(l["hs8"] for l in listings) == sum(
    1 for o in OFFERS if o["category"] == "SPECIALIST_MHC" and o["supraRegional"] and o["status"] != "CLOSED")
assert sum(1 for l in listings if l["expertiseNetworkId"]) >= 5

# KPIs.
assert len(kpis) == 5 and len({k["code"] for k in kpis}) == 5
for k in kpis:
    assert KPI_CODE_RE.match(k["code"]) and k["code"].isascii()
    assert text_ok(k["name"], MAX_NAME) and text_ok(k["definition"], MAX_TEXT) and text_ok(k["unit"], 64)
    assert k["direction"] in ("HIGHER_IS_BETTER", "LOWER_IS_BETTER")
    assert [t["year"] for t in k["targets"]] == [2025, 2026, 2027]
    keys = [(m["year"], m["regionCode"]) for m in k["measurements"]]
    assert len(set(keys)) == len(keys)
    assert {y for y, r in keys if r is None} == {2025, 2026}
    regional = [m for m in k["measurements"] if m["regionCode"] is not None]
    assert 5 <= len(regional) <= 8 and all(m["year"] == 2025 and m["regionCode"] in REGION for m in regional)
    for v in [t["value"] for t in k["targets"]] + [m["value"] for m in k["measurements"]]:
        assert isinstance(v, (int, float)) and v >= 0
        if k["unit"] == "percent":
            assert v <= 100
        if k["unit"] == "count":
            assert float(v).is_integer()
    if k["unit"] == "count":
        national_2025 = next(m["value"] for m in k["measurements"] if (m["year"], m["regionCode"]) == (2025, None))
        assert sum(m["value"] for m in regional) <= national_2025
    # Targets tighten year by year.
    vals = [t["value"] for t in k["targets"]]
    assert vals == sorted(vals, reverse=(k["direction"] == "LOWER_IS_BETTER"))
assert any(k["direction"] == "LOWER_IS_BETTER" for k in kpis)
hs8_kpi = next(k for k in kpis if k["code"] == "HS8_MULTI_YEAR_CONTRACTED")
for m in hs8_kpi["measurements"]:
    if m["regionCode"]:
        assert any(o["regionCode"] == m["regionCode"] and o["category"] == "SPECIALIST_MHC" for o in OFFERS)

# Escalations.
assert len(escalations) == 6
status_count = Counter(e["status"] for e in escalations)
assert status_count == Counter({"SUBMITTED": 2, "IN_DISCUSSION": 1, "MEASURE_AGREED": 1, "RESOLVED": 1,
                                "DECLINED": 1}), status_count
utrecht = {e["status"] for e in escalations if e["regionCode"] == "utrecht"}
assert {"SUBMITTED", "MEASURE_AGREED"} <= utrecht
overdue = 0
for e in escalations:
    all_ids.append(e["id"])
    assert e["regionCode"] in REGION and e["category"] in CATEGORIES
    assert e["urgency"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL")
    assert text_ok(e["targetGroup"], MAX_NAME)
    assert text_ok(e["problem"], MAX_TEXT) and text_ok(e["regionTried"], MAX_TEXT)
    assert 0 <= len(e["affectedOfferIds"]) <= 3 and len(set(e["affectedOfferIds"])) == len(e["affectedOfferIds"])
    for oid in e["affectedOfferIds"]:
        assert OFFER[oid]["regionCode"] == e["regionCode"], (e["regionCode"], OFFER[oid]["unitName"])
    assert e["raisedBy"] == chair(e["regionCode"]) and f"chair:{e['regionCode']}" in ORG[e["raisedBy"]]["demoRoles"]
    decided = e["status"] in ("MEASURE_AGREED", "RESOLVED", "DECLINED")
    assert (e["publicSummary"] is not None) == decided
    if decided:
        assert text_ok(e["publicSummary"], MAX_TEXT)
    assert (e["declineReason"] is not None) == (e["status"] == "DECLINED")
    if e["declineReason"] is not None:
        assert text_ok(e["declineReason"], MAX_TEXT)
    # Lifecycle: a chain from SUBMITTED to the final status, strictly later timestamps, before NOW.
    state, when = "SUBMITTED", ts(e["raisedAt"])
    assert when < ts(NOW)
    for t in e["transitions"]:
        assert t["from"] == state and t["to"] in LIFECYCLE[state], (e["id"], t)
        assert ts(t["at"]) > when and ts(t["at"]) < ts(NOW)
        assert text_ok(t["note"], MAX_SHORT)
        state, when = t["to"], ts(t["at"])
    assert state == e["status"], (e["id"], state)
    # Measures: only once agreed; MEASURE_AGREED needs at least one; RESOLVED ones are finished.
    if e["status"] in ("MEASURE_AGREED", "RESOLVED"):
        assert e["measures"]
    else:
        assert e["measures"] == []
    agreed_at = next((ts(t["at"]) for t in e["transitions"] if t["to"] == "MEASURE_AGREED"), None)
    for m in e["measures"]:
        all_ids.append(m["id"])
        assert text_ok(m["title"], MAX_NAME) and text_ok(m["description"], MAX_TEXT)
        assert ORG[m["ownerOrganisationId"]]["kind"] in ("PROVIDER", "INSURER", "NATIONAL_TABLE")
        assert m["status"] in ("PLANNED", "IN_PROGRESS", "DONE", "CANCELLED")
        assert date(m["dueDate"]) > agreed_at.date()
        if e["status"] == "RESOLVED":
            assert m["status"] in ("DONE", "CANCELLED")
        if m["status"] == "IN_PROGRESS" and m["dueDate"] < "2026-11-01":
            overdue += 1
assert overdue >= 1
for e in escalations:
    if e["category"] in ("SECURE", "SPECIALIST_MHC") and e["regionCode"] not in ("utrecht",):
        # Gap regions: the category is absent from the region itself.
        assert not any(o["regionCode"] == e["regionCode"] and o["category"] == e["category"] for o in OFFERS)

assert len(set(all_ids)) == len(all_ids) and all(UUID_RE.match(i) for i in all_ids)

# --------------------------------------------------------------------------------------------
# 6. Write.
# --------------------------------------------------------------------------------------------

FILES = {
    "expertise-networks.json": networks,
    "supra-regional-listings.json": listings,
    "national-kpis.json": kpis,
    "escalations.json": escalations,
}
for name, items in FILES.items():
    with open(os.path.join(OUT_DIR, name), "w", encoding="utf-8") as f:
        json.dump({"_comment": COMMENT, "items": items}, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"{name}: {len(items)} items")
for e in escalations:
    if e["regionCode"] == "utrecht":
        print(f"utrecht escalation {e['status']}: {e['id']}")
