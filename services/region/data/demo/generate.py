#!/usr/bin/env python3
"""Generates the region subgraph's DEMO DATA (fictitious organisations, not real figures).

Deterministic: stdlib only, no network, random.Random(2026), ids from uuid5 over stable names.
Writes regions.json, organisations.json, care-forms.json, diagnosis-groups.json,
care-offers.json, waiting-times.json, continuity-signals.json and regional-overviews.json
next to this script, after checking referential integrity and length limits.

Run:  python3 services/region/data/demo/generate.py
"""

import datetime
import json
import os
import random
import re
import uuid
from collections import Counter, defaultdict

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
COMMENT = "DEMO DATA — fictitious organisations, not real figures"
NS = uuid.UUID("6f1c2a52-3c1e-4d8e-9b0a-2026c0ffee00")  # fixed namespace for demo ids

rng = random.Random(2026)


def uid(kind, key):
    """A stable lowercase UUID for (kind, key)."""
    return str(uuid.uuid5(NS, f"{kind}:{key}"))


# --------------------------------------------------------------------------------------------
# 1. Regions: the 31 zorgkantoorregio's, with plausible (bordering) neighbours.
# --------------------------------------------------------------------------------------------

REGIONS = [
    ("groningen", "Groningen"),
    ("friesland", "Friesland"),
    ("drenthe", "Drenthe"),
    ("zwolle", "Zwolle"),
    ("twente", "Twente"),
    ("apeldoorn-zutphen", "Apeldoorn/Zutphen e.o."),
    ("arnhem", "Arnhem"),
    ("nijmegen", "Nijmegen"),
    ("utrecht", "Utrecht"),
    ("flevoland", "Flevoland"),
    ("t-gooi", "'t Gooi"),
    ("noord-holland-noord", "Noord-Holland Noord"),
    ("kennemerland", "Kennemerland"),
    ("zaanstreek-waterland", "Zaanstreek/Waterland"),
    ("amsterdam", "Amsterdam"),
    ("amstelland-en-de-meerlanden", "Amstelland en de Meerlanden"),
    ("zuid-holland-noord", "Zuid-Holland Noord"),
    ("haaglanden", "Haaglanden"),
    ("westland-schieland-delfland", "Westland Schieland Delfland"),
    ("midden-holland", "Midden-Holland"),
    ("rotterdam", "Rotterdam"),
    ("zuid-hollandse-eilanden", "Zuid-Hollandse Eilanden"),
    ("waardenland", "Waardenland"),
    ("zeeland", "Zeeland"),
    ("west-brabant", "West-Brabant"),
    ("midden-brabant", "Midden-Brabant"),
    ("noordoost-brabant", "Noordoost-Brabant"),
    ("zuidoost-brabant", "Zuidoost-Brabant"),
    ("noord-en-midden-limburg", "Noord- en Midden-Limburg"),
    ("zuid-limburg", "Zuid-Limburg"),
    ("midden-ijssel", "Midden-IJssel"),
]
REGION_NAME = dict(REGIONS)
CODES = [c for c, _ in REGIONS]

# Undirected borders (land or a short crossing such as the Afsluitdijk or Houtribdijk).
BORDERS = [
    ("groningen", "friesland"), ("groningen", "drenthe"),
    ("friesland", "drenthe"), ("friesland", "zwolle"), ("friesland", "flevoland"),
    ("friesland", "noord-holland-noord"),
    ("drenthe", "zwolle"),
    ("zwolle", "flevoland"), ("zwolle", "twente"), ("zwolle", "midden-ijssel"),
    ("zwolle", "apeldoorn-zutphen"),
    ("twente", "midden-ijssel"), ("twente", "apeldoorn-zutphen"),
    ("midden-ijssel", "apeldoorn-zutphen"),
    ("apeldoorn-zutphen", "arnhem"), ("apeldoorn-zutphen", "flevoland"),
    ("arnhem", "nijmegen"), ("arnhem", "utrecht"),
    ("nijmegen", "utrecht"), ("nijmegen", "waardenland"), ("nijmegen", "noordoost-brabant"),
    ("nijmegen", "noord-en-midden-limburg"),
    ("utrecht", "flevoland"), ("utrecht", "t-gooi"), ("utrecht", "amstelland-en-de-meerlanden"),
    ("utrecht", "zuid-holland-noord"), ("utrecht", "midden-holland"), ("utrecht", "waardenland"),
    ("flevoland", "t-gooi"), ("flevoland", "noord-holland-noord"),
    ("t-gooi", "amsterdam"), ("t-gooi", "amstelland-en-de-meerlanden"),
    ("noord-holland-noord", "kennemerland"), ("noord-holland-noord", "zaanstreek-waterland"),
    ("kennemerland", "zaanstreek-waterland"), ("kennemerland", "amsterdam"),
    ("kennemerland", "amstelland-en-de-meerlanden"), ("kennemerland", "zuid-holland-noord"),
    ("zaanstreek-waterland", "amsterdam"),
    ("amsterdam", "amstelland-en-de-meerlanden"),
    ("amstelland-en-de-meerlanden", "zuid-holland-noord"),
    ("zuid-holland-noord", "haaglanden"), ("zuid-holland-noord", "midden-holland"),
    ("haaglanden", "westland-schieland-delfland"), ("haaglanden", "midden-holland"),
    ("westland-schieland-delfland", "midden-holland"), ("westland-schieland-delfland", "rotterdam"),
    ("midden-holland", "rotterdam"), ("midden-holland", "waardenland"),
    ("rotterdam", "zuid-hollandse-eilanden"), ("rotterdam", "waardenland"),
    ("zuid-hollandse-eilanden", "waardenland"), ("zuid-hollandse-eilanden", "zeeland"),
    ("zuid-hollandse-eilanden", "west-brabant"),
    ("waardenland", "west-brabant"),
    ("zeeland", "west-brabant"),
    ("west-brabant", "midden-brabant"),
    ("midden-brabant", "noordoost-brabant"), ("midden-brabant", "zuidoost-brabant"),
    ("noordoost-brabant", "zuidoost-brabant"), ("noordoost-brabant", "noord-en-midden-limburg"),
    ("zuidoost-brabant", "noord-en-midden-limburg"),
    ("noord-en-midden-limburg", "zuid-limburg"),
]
NEIGHBOURS = defaultdict(set)
for a, b in BORDERS:
    NEIGHBOURS[a].add(b)
    NEIGHBOURS[b].add(a)


def neighbours(code):
    """Neighbours in file order (deterministic)."""
    return [c for c in CODES if c in NEIGHBOURS[code]]


TOWNS = {
    "groningen": ["Groningen", "Winschoten", "Veendam", "Delfzijl", "Stadskanaal"],
    "friesland": ["Leeuwarden", "Sneek", "Heerenveen", "Drachten", "Dokkum"],
    "drenthe": ["Assen", "Emmen", "Hoogeveen", "Meppel", "Coevorden"],
    "zwolle": ["Zwolle", "Kampen", "Hardenberg", "Steenwijk", "Ommen"],
    "twente": ["Enschede", "Hengelo", "Almelo", "Oldenzaal", "Rijssen"],
    "apeldoorn-zutphen": ["Apeldoorn", "Zutphen", "Doetinchem", "Winterswijk", "Harderwijk"],
    "arnhem": ["Arnhem", "Ede", "Wageningen", "Velp", "Zevenaar"],
    "nijmegen": ["Nijmegen", "Tiel", "Wijchen", "Druten", "Culemborg"],
    "utrecht": ["Utrecht", "Amersfoort", "Zeist", "Nieuwegein", "Veenendaal", "Woerden"],
    "flevoland": ["Almere", "Lelystad", "Emmeloord", "Dronten"],
    "t-gooi": ["Hilversum", "Huizen", "Bussum", "Laren", "Blaricum"],
    "noord-holland-noord": ["Alkmaar", "Den Helder", "Hoorn", "Heerhugowaard", "Schagen"],
    "kennemerland": ["Haarlem", "Beverwijk", "Heemskerk", "Heemstede", "IJmuiden"],
    "zaanstreek-waterland": ["Zaandam", "Purmerend", "Wormerveer", "Monnickendam", "Edam"],
    "amsterdam": ["Amsterdam", "Amsterdam-Zuidoost", "Amsterdam Nieuw-West", "Diemen", "Weesp"],
    "amstelland-en-de-meerlanden": ["Amstelveen", "Hoofddorp", "Aalsmeer", "Uithoorn", "Nieuw-Vennep"],
    "zuid-holland-noord": ["Leiden", "Alphen aan den Rijn", "Katwijk", "Noordwijk", "Leiderdorp"],
    "haaglanden": ["Den Haag", "Zoetermeer", "Rijswijk", "Leidschendam", "Wassenaar"],
    "westland-schieland-delfland": ["Delft", "Schiedam", "Vlaardingen", "Naaldwijk", "Maassluis"],
    "midden-holland": ["Gouda", "Waddinxveen", "Bodegraven", "Schoonhoven"],
    "rotterdam": ["Rotterdam", "Capelle aan den IJssel", "Ridderkerk", "Barendrecht"],
    "zuid-hollandse-eilanden": ["Spijkenisse", "Hellevoetsluis", "Oud-Beijerland", "Middelharnis", "Brielle"],
    "waardenland": ["Gorinchem", "Dordrecht", "Sliedrecht", "Leerdam", "Papendrecht"],
    "zeeland": ["Middelburg", "Vlissingen", "Goes", "Terneuzen", "Zierikzee"],
    "west-brabant": ["Breda", "Roosendaal", "Bergen op Zoom", "Etten-Leur", "Oosterhout"],
    "midden-brabant": ["Tilburg", "Waalwijk", "Oisterwijk", "Dongen"],
    "noordoost-brabant": ["'s-Hertogenbosch", "Oss", "Uden", "Veghel", "Boxmeer"],
    "zuidoost-brabant": ["Eindhoven", "Helmond", "Veldhoven", "Geldrop", "Deurne"],
    "noord-en-midden-limburg": ["Venlo", "Roermond", "Venray", "Weert"],
    "zuid-limburg": ["Maastricht", "Heerlen", "Sittard", "Kerkrade"],
    "midden-ijssel": ["Deventer", "Raalte", "Olst", "Bathmen"],
}

# --------------------------------------------------------------------------------------------
# 2. Code lists: care forms and diagnosis groups.
# --------------------------------------------------------------------------------------------

CATEGORIES = ["ACUTE", "OUTREACH", "CLINICAL", "SECURE", "SPECIALIST_MHC", "SPECIALIST_HOSPITAL"]
CATEGORY_NL = {
    "ACUTE": "acute ggz",
    "OUTREACH": "outreachende zorg",
    "CLINICAL": "klinische zorg",
    "SECURE": "beveiligde zorg",
    "SPECIALIST_MHC": "hoogspecialistische ggz",
    "SPECIALIST_HOSPITAL": "hoogspecialistische ziekenhuispsychiatrie",
}

CARE_FORMS = [
    ("ACUTE", "CRISIS_SERVICE", "Crisisdienst",
     "Round-the-clock psychiatric crisis assessment and first intervention."),
    ("ACUTE", "INTENSIVE_HOME_TREATMENT", "Intensive Home Treatment (IHT)",
     "Intensive short-term treatment at home as an alternative to admission."),
    ("ACUTE", "HIGH_INTENSIVE_CARE", "High Intensive Care (HIC)",
     "Acute admission ward with high staffing and minimal coercion."),
    ("ACUTE", "ACUTE_DAY_TREATMENT", "Acute deeltijdbehandeling",
     "Short, intensive day treatment after or instead of a crisis admission."),
    ("OUTREACH", "FACT", "FACT-team",
     "Flexible assertive community treatment for people with severe mental illness."),
    ("OUTREACH", "VIP", "VIP-team (vroege interventie psychose)",
     "Early-intervention team for a first psychosis."),
    ("OUTREACH", "IHT_ADDICTION", "IHT-team verslavingszorg",
     "Intensive home treatment team for people with severe addiction problems."),
    ("CLINICAL", "MHC_ADMISSION", "Opname in ggz-instelling",
     "Clinical admission in a mental-health institution."),
    ("CLINICAL", "MPU", "Medisch-psychiatrische unit (MPU)",
     "Ward for combined somatic and psychiatric problems."),
    ("CLINICAL", "PUK", "Psychiatrische universiteitskliniek (PUK)",
     "Psychiatric ward of a university hospital with a regional function."),
    ("SECURE", "SECURE_BED_LEVEL_2", "Beveiligd bed niveau 2",
     "Secure bed at security level 2 for people with psychiatric problems and safety risks."),
    ("SECURE", "SECURE_BED_LEVEL_3", "Beveiligd bed niveau 3",
     "Secure bed at security level 3 (high security) outside forensic centres."),
    ("SECURE", "KIB", "Klinisch intensieve behandeling (KIB)",
     "Intensive clinical treatment for patients with severe behavioural problems."),
    ("SECURE", "LIZ", "Langdurige intensieve zorg (LIZ)",
     "Long-term intensive care for patients needing a very structured setting."),
    ("SECURE", "LIFE_COURSE_APPROACH", "Levensloopaanpak",
     "Person-centred life-course approach for people with complex problems and safety risks."),
    ("SPECIALIST_MHC", "HIGHLY_SPECIALISED_AMBULANT", "Hoogspecialistische ggz ambulant (Zpm setting 8)",
     "Highly specialised outpatient care from a mental-health institution (Zpm setting 8)."),
    ("SPECIALIST_MHC", "HIGHLY_SPECIALISED_CLINICAL", "Hoogspecialistische ggz klinisch (Zpm setting 8)",
     "Highly specialised inpatient care from a mental-health institution (Zpm setting 8)."),
    ("SPECIALIST_HOSPITAL", "UMC_MPU", "MPU met bovenregionale functie",
     "Medical-psychiatric unit of a university or top-clinical hospital with a supra-regional function."),
    ("SPECIALIST_HOSPITAL", "UMC_PUK", "PUK met bovenregionale functie",
     "University psychiatric clinic with a supra-regional, highly specialised function."),
]
FORM_CATEGORY = {code: cat for cat, code, _, _ in CARE_FORMS}
FORM_NAME = {code: name for _, code, name, _ in CARE_FORMS}
SHORT_FORM = {
    "CRISIS_SERVICE": "crisisdienst", "INTENSIVE_HOME_TREATMENT": "IHT", "HIGH_INTENSIVE_CARE": "HIC",
    "ACUTE_DAY_TREATMENT": "acute deeltijd", "FACT": "FACT", "VIP": "VIP", "IHT_ADDICTION": "IHT verslaving",
    "MHC_ADMISSION": "opname", "MPU": "MPU", "PUK": "PUK", "SECURE_BED_LEVEL_2": "beveiligd niveau 2",
    "SECURE_BED_LEVEL_3": "beveiligd niveau 3", "KIB": "KIB", "LIZ": "LIZ", "LIFE_COURSE_APPROACH": "levensloopaanpak",
    "HIGHLY_SPECIALISED_AMBULANT": "hoogspecialistisch ambulant",
    "HIGHLY_SPECIALISED_CLINICAL": "hoogspecialistisch klinisch",
    "UMC_MPU": "bovenregionale MPU", "UMC_PUK": "bovenregionale PUK",
}

DIAGNOSIS_GROUPS = [
    ("ANXIETY", "Angststoornissen"),
    ("DEPRESSION", "Depressieve stemmingsstoornissen"),
    ("BIPOLAR", "Bipolaire stemmingsstoornissen"),
    ("PSYCHOTIC", "Schizofreniespectrum- en andere psychotische stoornissen"),
    ("PERSONALITY", "Persoonlijkheidsstoornissen"),
    ("SUBSTANCE", "Middelgerelateerde en verslavingsstoornissen"),
    ("ADHD", "Aandachtstekort-/hyperactiviteitsstoornis (ADHD)"),
    ("AUTISM", "Autismespectrumstoornissen"),
    ("EATING", "Voedings- en eetstoornissen"),
    ("TRAUMA", "Trauma- en stressorgerelateerde stoornissen"),
    ("SOMATIC_SYMPTOM", "Somatische-symptoomstoornis en verwante stoornissen"),
    ("OBSESSIVE_COMPULSIVE", "Obsessieve-compulsieve en verwante stoornissen"),
    ("NEUROCOGNITIVE", "Neurocognitieve stoornissen"),
    ("OTHER", "Overige stoornissen"),
]

# --------------------------------------------------------------------------------------------
# 3. Organisations (all fictitious).
# --------------------------------------------------------------------------------------------

# Regional providers, by home region (the first utrecht provider is the demo provider persona).
PROVIDERS_BY_REGION = {
    "utrecht": ["GGZ Kromme Rijn", "Stichting Eemland Psychiatrie", "Psychiatrisch Centrum Lekdijk"],
    "groningen": ["GGZ Noorderlicht", "Stichting Hunzedal GGZ", "Stichting Eemsmond GGZ"],
    "friesland": ["Stichting De Wadden GGZ", "Psychiatrisch Centrum Wâldrand"],
    "drenthe": ["GGZ Esdorp", "Stichting Hunebedzorg"],
    "zwolle": ["GGZ Vechtstroom", "Stichting Hanzekracht GGZ", "Psychiatrisch Centrum De Wieden"],
    "twente": ["GGZ Dinkeldal", "Psychiatrisch Centrum Reggeland"],
    "apeldoorn-zutphen": ["Stichting Berkelhof GGZ", "GGZ Heidestroom"],
    "arnhem": ["GGZ Rijnoever", "Psychiatrisch Centrum Lingewoud", "Stichting Zuiderheide Zorg"],
    "nijmegen": ["GGZ Waalbocht", "Stichting Ooijpolder GGZ"],
    "flevoland": ["GGZ Nieuwland", "Stichting Lepelaar GGZ"],
    "t-gooi": ["GGZ Heidevenen", "Stichting Eemmeer Zorg"],
    "noord-holland-noord": ["GGZ Kop en Kust", "Psychiatrisch Centrum Zijpe"],
    "kennemerland": ["GGZ Spaarneveld", "Stichting Kennemer Duin GGZ"],
    "zaanstreek-waterland": ["GGZ Zaanbocht", "Stichting Waterlandse Dijk"],
    "amsterdam": ["GGZ Amstelpoort", "Stichting IJoever Psychiatrie", "Psychiatrisch Centrum Grachtenhof"],
    "amstelland-en-de-meerlanden": ["GGZ Amstelscheg", "Stichting Ringvaart Psychiatrie"],
    "zuid-holland-noord": ["GGZ Oude Rijn", "Stichting Bollenstreek Psychiatrie"],
    "haaglanden": ["Stichting Hofvijver GGZ", "Psychiatrisch Centrum Duinoord", "GGZ Haagse Beemden"],
    "westland-schieland-delfland": ["GGZ Delflandse Poort", "Stichting Schiezicht"],
    "midden-holland": ["GGZ Goudse Waard", "Stichting Reeuwijkse Plassen Zorg"],
    "rotterdam": ["GGZ Maasstroom", "Stichting Kralingse Plas", "Psychiatrisch Centrum Nieuwe Maas"],
    "zuid-hollandse-eilanden": ["GGZ Eilandenrijk", "Stichting Haringvliet Zorg"],
    "waardenland": ["GGZ Merwedal", "Stichting Linge en Lek"],
    "zeeland": ["GGZ Scheldezicht", "Stichting Zeeuwse Stromen"],
    "west-brabant": ["GGZ Markdal", "Psychiatrisch Centrum Brabantse Wal"],
    "midden-brabant": ["GGZ Piushaven", "Stichting Moerenburg"],
    "noordoost-brabant": ["GGZ Maaskant", "Stichting Bossche Broek GGZ"],
    "zuidoost-brabant": ["GGZ Dommeldal", "Stichting Kempenland Psychiatrie", "Psychiatrisch Centrum Peelhorst"],
    "noord-en-midden-limburg": ["Psychiatrisch Centrum Maasdal", "GGZ Roerstreek"],
    "zuid-limburg": ["GGZ Heuvelland Zuid", "Stichting Geuldal Psychiatrie"],
    "midden-ijssel": ["GGZ Hanzestroom", "Stichting Sallandpoort"],
}
# UMC-style academic hospitals (SPECIALIST_HOSPITAL), by home region.
UMCS = [
    ("utrecht", "Academisch Medisch Centrum Domstede"),
    ("groningen", "UMC Noorderpoort"),
    ("rotterdam", "UMC Maasmond"),
    ("nijmegen", "UMC Waalheuvel"),
]
# Insurers; the regions each coordinates (every region exactly once).
INSURERS = [
    ("Zorgverzekeraar Polder", "9001", ["utrecht", "flevoland", "t-gooi"]),
    ("Zorgverzekeraar Wadkust", "9002", ["groningen", "friesland", "drenthe"]),
    ("Zorgverzekeraar Heidezicht", "9003",
     ["zwolle", "twente", "midden-ijssel", "apeldoorn-zutphen", "arnhem"]),
    ("Zorgverzekeraar Duinrand", "9004",
     ["noord-holland-noord", "kennemerland", "zaanstreek-waterland", "amsterdam", "amstelland-en-de-meerlanden"]),
    ("Zorgverzekeraar Veenweide", "9005",
     ["zuid-holland-noord", "haaglanden", "westland-schieland-delfland", "midden-holland", "rotterdam"]),
    ("Zorgverzekeraar Eikenhof", "9006", ["zuid-hollandse-eilanden", "waardenland", "nijmegen"]),
    ("Zorgverzekeraar Kempenpad", "9007",
     ["zeeland", "west-brabant", "midden-brabant", "noordoost-brabant", "zuidoost-brabant"]),
    ("Zorgverzekeraar Mergelrand", "9008", ["noord-en-midden-limburg", "zuid-limburg"]),
]
PATIENT_ORGS = [
    ("Cliëntenplatform Stemkracht Midden", ["utrecht", "t-gooi", "flevoland"]),
    ("Ervaringsraad Wad en Veen", ["groningen", "friesland", "drenthe"]),
    ("Cliëntenforum Kust en Stad", ["amsterdam", "kennemerland", "zaanstreek-waterland",
                                     "noord-holland-noord", "amstelland-en-de-meerlanden"]),
    ("Patiëntenstem Delta", ["rotterdam", "haaglanden", "zuid-holland-noord", "westland-schieland-delfland",
                             "midden-holland", "zuid-hollandse-eilanden", "waardenland"]),
    ("Cliëntenplatform IJssel en Rijn", ["zwolle", "twente", "midden-ijssel", "apeldoorn-zutphen",
                                         "arnhem", "nijmegen"]),
    ("Herstelnetwerk Zuidenwind", ["zeeland", "west-brabant", "midden-brabant", "noordoost-brabant",
                                  "zuidoost-brabant", "noord-en-midden-limburg", "zuid-limburg"]),
]
MUNICIPALITIES = [
    ("Gemeente Utrecht", "utrecht"),
    ("Gemeente Groningen", "groningen"),
    ("Gemeente Rotterdam", "rotterdam"),
    ("Gemeente Zwolle", "zwolle"),
    ("Gemeente Eindhoven", "zuidoost-brabant"),
    ("Gemeente Maastricht", "zuid-limburg"),
]
# Regions whose table is chaired by the coordinating insurer (elsewhere: the first home provider).
INSURER_CHAIRED = {"flevoland", "kennemerland", "midden-holland", "zeeland", "twente", "zuid-limburg"}

# Deliberate gaps for the demo: no offer of this category with its regionCode in these regions.
GAPS = {
    "SECURE": {"flevoland", "t-gooi", "zeeland"},
    "SPECIALIST_MHC": {"drenthe", "zaanstreek-waterland", "zeeland", "midden-holland"},
}
# Secure forms a region must not have (so overviews can say honestly what is missing).
FORBIDDEN_FORMS = {"utrecht": {"SECURE_BED_LEVEL_3"}, "groningen": {"KIB"}}
# Secure form each region's providers start with (default SECURE_BED_LEVEL_2).
REQUIRED_SECURE = {"arnhem": "SECURE_BED_LEVEL_3", "friesland": "KIB", "drenthe": "SECURE_BED_LEVEL_3",
                   "rotterdam": "SECURE_BED_LEVEL_3", "zuidoost-brabant": "SECURE_BED_LEVEL_3",
                   "haaglanden": "KIB", "west-brabant": "LIZ", "twente": "LIFE_COURSE_APPROACH"}

used_kvk = set()


def number(digits, prefix=""):
    while True:
        n = prefix + "".join(str(rng.randint(0, 9)) for _ in range(digits - len(prefix)))
        if n[0] != "0" or prefix:
            if n not in used_kvk:
                used_kvk.add(n)
                return n


organisations = []


def add_org(name, kind, regions, ura=None, agb=None, uzovi=None):
    org = {
        "id": uid("organisation", name),
        "name": name,
        "kind": kind,
        "kvk": number(8),
        "ura": ura,
        "agb": agb,
        "uzovi": uzovi,
        "regions": regions,
        "demoRoles": [],
    }
    organisations.append(org)
    return org


# Providers: utrecht first, then the other regions in file order, then the UMCs.
provider_home = {}
provider_order = ["utrecht"] + [c for c in CODES if c != "utrecht"]
for code in provider_order:
    for i, name in enumerate(PROVIDERS_BY_REGION[code]):
        if code == "utrecht" and i == 0:
            extra = []  # the persona: utrecht only, simple to reason about
        else:
            k = rng.choices([0, 1, 2], weights=[50, 35, 15])[0]
            extra = rng.sample(neighbours(code), min(k, len(neighbours(code))))
            extra = [c for c in CODES if c in extra]
        org = add_org(name, "PROVIDER", [code] + extra, ura=number(8), agb=number(8, "06"))
        provider_home[org["id"]] = code
umc_ids = []
for code, name in UMCS:
    org = add_org(name, "PROVIDER", [code], ura=number(8), agb=number(8, "08"))
    provider_home[org["id"]] = code
    umc_ids.append(org["id"])

insurer_of_region = {}
for name, uzovi, coordinated in INSURERS:
    others = [c for c in CODES if c not in coordinated]
    extra = set(rng.sample(others, rng.randint(3, 8)))
    regions = [c for c in CODES if c in coordinated or c in extra]
    org = add_org(name, "INSURER", regions, uzovi=uzovi)
    for c in coordinated:
        assert c not in insurer_of_region, c
        insurer_of_region[c] = org["id"]
for name, regions in PATIENT_ORGS:
    add_org(name, "PATIENT_ORGANISATION", [c for c in CODES if c in regions])
for name, code in MUNICIPALITIES:
    add_org(name, "MUNICIPALITY", [code])
add_org("Landelijke tafel cruciale ggz", "NATIONAL_TABLE", [])
add_org("ggzhub beheer", "HUB_OPERATOR", [])

ORG = {o["id"]: o for o in organisations}
ORG_BY_NAME = {o["name"]: o for o in organisations}

# Chairs.
for code in CODES:
    if code in INSURER_CHAIRED:
        chair = ORG[insurer_of_region[code]]
    else:
        chair = ORG_BY_NAME[PROVIDERS_BY_REGION[code][0]]
    chair["demoRoles"].append(f"chair:{code}")

regions_out = [
    {
        "code": code,
        "name": name,
        "kind": "CARE_OFFICE",
        "neighbours": neighbours(code),
        "coordinatingInsurerId": insurer_of_region[code],
    }
    for code, name in REGIONS
]

# --------------------------------------------------------------------------------------------
# 4. Care offers.
# --------------------------------------------------------------------------------------------

DIRECTIONS = ["Noord", "Oost", "Zuid", "West", "Centrum"]
TREES = ["De Linde", "De Eik", "De Beuk", "De Wilg", "De Es", "De Kastanje", "De Berk", "De Iep",
         "De Populier", "De Hazelaar", "De Vlier", "De Esdoorn", "De Meidoorn", "De Plataan"]

CRITERIA = {
    "CRISIS_SERVICE": [
        "Volwassenen (18+) in een acute psychiatrische crisis. Aanmelding via huisarts, huisartsenpost, "
        "SEH of politie; beoordeling binnen 24 uur, bij spoed direct.",
        "Iedereen vanaf 18 jaar met een acute psychiatrische vraag in de regio. Verwijzing door huisarts, "
        "HAP, SEH, politie of een ggz-behandelaar.",
    ],
    "INTENSIVE_HOME_TREATMENT": [
        "Volwassenen in crisis bij wie opname te voorkomen is en thuis een veilige situatie mogelijk is. "
        "Verwijzing via crisisdienst of eigen behandelaar.",
    ],
    "HIGH_INTENSIVE_CARE": [
        "Acute opname bij ernstige psychiatrische ontregeling, ook met een maatregel (Wvggz). Aanmelding "
        "uitsluitend via de crisisdienst.",
        "Volwassenen die acuut klinische zorg nodig hebben; opname altijd via de regionale crisisdienst.",
    ],
    "ACUTE_DAY_TREATMENT": [
        "Volwassenen na een crisis of ter voorkoming van opname, die dagelijks naar de locatie kunnen komen. "
        "Verwijzing via crisisdienst of IHT.",
    ],
    "FACT": [
        "Volwassenen met ernstige psychiatrische aandoeningen (EPA) en problemen op meerdere levensgebieden. "
        "Verwijzing door huisarts of ggz-behandelaar.",
        "Mensen met een EPA die niet uit zichzelf zorg zoeken; ook bij dubbele diagnose. Woonachtig in het "
        "werkgebied van het team.",
    ],
    "VIP": [
        "Jongeren en jongvolwassenen (16-35 jaar) met een eerste psychose of een verhoogd risico daarop. "
        "Verwijzing door huisarts of jeugd-ggz.",
    ],
    "IHT_ADDICTION": [
        "Volwassenen met ernstige verslavingsproblematiek die niet naar een polikliniek komen. Verwijzing "
        "door huisarts, wijkteam of verslavingsarts.",
    ],
    "MHC_ADMISSION": [
        "Volwassenen die klinische behandeling nodig hebben die ambulant niet mogelijk is. Aanmelding via "
        "eigen behandelaar of crisisdienst.",
        "Klinische opname voor volwassenen met ernstige psychiatrische problematiek, vrijwillig of met "
        "een maatregel.",
    ],
    "MPU": [
        "Patiënten met gelijktijdig ernstige somatische en psychiatrische problemen die in een algemeen "
        "ziekenhuis of ggz-kliniek niet passend behandeld kunnen worden.",
    ],
    "PUK": [
        "Volwassenen met complexe psychiatrische problematiek waarvoor academische diagnostiek of "
        "behandeling nodig is. Verwijzing door medisch specialist of psychiater.",
    ],
    "SECURE_BED_LEVEL_2": [
        "Volwassenen met een psychiatrische aandoening en een verhoogd risico op gevaar voor anderen, "
        "met of zonder justitiële titel. Plaatsing na consultatie.",
    ],
    "SECURE_BED_LEVEL_3": [
        "Volwassenen met ernstige psychiatrische problematiek en hoog veiligheidsrisico; plaatsing na "
        "indicatie en overleg met het bovenregionale netwerk.",
    ],
    "KIB": [
        "Patiënten met ernstige gedragsproblemen die op een reguliere afdeling niet te behandelen zijn. "
        "Aanmelding via de behandelaar, na overleg met de KIB-consulent.",
    ],
    "LIZ": [
        "Volwassenen met langdurige, ernstige psychiatrische problematiek die een zeer gestructureerde "
        "woon- en behandelomgeving nodig hebben.",
    ],
    "LIFE_COURSE_APPROACH": [
        "Mensen met complexe problemen en veiligheidsrisico's die in meerdere domeinen vastlopen. "
        "Aanmelding via het regionale zorg- en veiligheidshuis.",
    ],
    "HIGHLY_SPECIALISED_AMBULANT": [
        "Patiënten bij wie eerdere behandeling onvoldoende effect had en voor wie hoogspecialistische "
        "expertise nodig is. Verwijzing door een ggz-behandelaar.",
        "Tweede- en derdelijnsverwijzingen voor complexe diagnostiek en behandeling (Zpm setting 8).",
    ],
    "HIGHLY_SPECIALISED_CLINICAL": [
        "Klinische hoogspecialistische behandeling voor complexe, therapieresistente problematiek. "
        "Verwijzing via een ggz-instelling, na consultatie.",
    ],
    "UMC_MPU": [
        "Patiënten met complexe gecombineerde somatische en psychiatrische problematiek uit de "
        "regio's die de unit bedient. Overplaatsing na overleg arts-arts.",
    ],
    "UMC_PUK": [
        "Complexe psychiatrische problematiek waarvoor academische diagnostiek of behandeling nodig is, "
        "ook bovenregionaal. Verwijzing door psychiater of medisch specialist.",
    ],
}


def r1(x):
    return round(x, 1)


def capacity(form):
    beds = places = teams = fte = None
    if form == "CRISIS_SERVICE":
        teams = rng.randint(1, 2)
        fte = r1(rng.uniform(8, 12) * teams)
    elif form in ("INTENSIVE_HOME_TREATMENT", "IHT_ADDICTION"):
        teams = rng.randint(1, 3)
        fte = r1(rng.uniform(9, 13) * teams)
    elif form == "HIGH_INTENSIVE_CARE":
        beds = rng.choice([10, 12, 14, 16, 18, 20, 24])
        fte = r1(beds * rng.uniform(1.8, 2.4))
    elif form == "ACUTE_DAY_TREATMENT":
        places = rng.choice([8, 10, 12, 14, 16])
        fte = r1(places * rng.uniform(0.5, 0.7))
    elif form == "FACT":
        teams = rng.randint(1, 4)
        places = teams * rng.randint(180, 220)
        fte = r1(teams * rng.uniform(8, 11))
    elif form == "VIP":
        teams = 1
        places = rng.randint(60, 120)
        fte = r1(rng.uniform(5, 9))
    elif form == "MHC_ADMISSION":
        beds = rng.choice([16, 20, 24, 30, 36, 40, 48])
        fte = r1(beds * rng.uniform(1.2, 1.6))
    elif form in ("MPU", "UMC_MPU"):
        beds = rng.choice([6, 8, 10, 12, 14])
        fte = r1(beds * rng.uniform(2.0, 2.6))
    elif form in ("PUK", "UMC_PUK"):
        beds = rng.choice([16, 20, 24, 28, 32])
        fte = r1(beds * rng.uniform(1.8, 2.3))
    elif form == "SECURE_BED_LEVEL_2":
        beds = rng.choice([10, 12, 16, 20, 24])
        fte = r1(beds * rng.uniform(1.8, 2.2))
    elif form == "SECURE_BED_LEVEL_3":
        beds = rng.choice([8, 10, 12, 16])
        fte = r1(beds * rng.uniform(2.2, 2.8))
    elif form == "KIB":
        beds = rng.choice([6, 8, 10, 12])
        fte = r1(beds * rng.uniform(2.5, 3.2))
    elif form == "LIZ":
        beds = rng.choice([10, 12, 16, 20])
        fte = r1(beds * rng.uniform(1.6, 2.0))
    elif form == "LIFE_COURSE_APPROACH":
        teams = 1
        places = rng.randint(6, 20)
        fte = r1(rng.uniform(4, 8))
    elif form == "HIGHLY_SPECIALISED_AMBULANT":
        teams = rng.randint(1, 2)
        places = rng.randint(60, 200)
        fte = r1(rng.uniform(6, 16))
    elif form == "HIGHLY_SPECIALISED_CLINICAL":
        beds = rng.choice([8, 10, 12, 16, 20])
        fte = r1(beds * rng.uniform(1.8, 2.4))
    else:
        raise AssertionError(form)
    return {"beds": beds, "places": places, "teams": teams, "fte": fte}


TWENTY_FOUR_SEVEN = {"CRISIS_SERVICE", "INTENSIVE_HOME_TREATMENT", "HIGH_INTENSIVE_CARE", "MHC_ADMISSION",
                     "MPU", "PUK", "SECURE_BED_LEVEL_2", "SECURE_BED_LEVEL_3", "KIB", "LIZ",
                     "HIGHLY_SPECIALISED_CLINICAL", "UMC_MPU", "UMC_PUK"}


def unit_name(form, town, region):
    d = rng.choice(DIRECTIONS)
    t = rng.choice(TREES)
    return {
        "CRISIS_SERVICE": f"Crisisdienst {REGION_NAME[region]}",
        "INTENSIVE_HOME_TREATMENT": f"IHT-team {town}",
        "HIGH_INTENSIVE_CARE": f"Afdeling HIC {d}",
        "ACUTE_DAY_TREATMENT": f"Acute deeltijd {town}",
        "FACT": f"FACT-team {town} {d}",
        "VIP": f"VIP-team {town}",
        "IHT_ADDICTION": f"IHT verslavingszorg {town}",
        "MHC_ADMISSION": f"Opnameafdeling {t}",
        "MPU": f"MPU {town}",
        "PUK": f"PUK afdeling {d}",
        "SECURE_BED_LEVEL_2": f"Beveiligde afdeling {t} (niveau 2)",
        "SECURE_BED_LEVEL_3": f"Beveiligde afdeling {t} (niveau 3)",
        "KIB": f"KIB-afdeling {t}",
        "LIZ": f"LIZ-unit {t}",
        "LIFE_COURSE_APPROACH": f"Team levensloopaanpak {REGION_NAME[region]}",
        "HIGHLY_SPECIALISED_AMBULANT": rng.choice([
            "Topklinisch centrum persoonlijkheidsstoornissen", "Expertisecentrum angst en dwang",
            "Centrum voor psychotrauma", "Expertisecentrum eetstoornissen", "Topklinisch centrum bipolair",
            "Centrum autisme volwassenen"]) + f" {town}",
        "HIGHLY_SPECIALISED_CLINICAL": rng.choice([
            "Kliniek therapieresistente depressie", "Kliniek eetstoornissen", "Kliniek complexe psychose",
            "Kliniek psychotrauma"]) + f" {town}",
        "UMC_MPU": "Medisch-psychiatrische unit (bovenregionaal)",
        "UMC_PUK": "Psychiatrische universiteitskliniek, afdeling hoogspecialistisch",
    }[form]


# Which regions each UMC serves for SPECIALIST_HOSPITAL (every region exactly once).
UMC_AREA = {
    "groningen": ["groningen", "friesland", "drenthe", "zwolle", "twente", "midden-ijssel"],
    "utrecht": ["utrecht", "flevoland", "t-gooi", "amsterdam", "amstelland-en-de-meerlanden", "kennemerland",
                "zaanstreek-waterland", "noord-holland-noord", "zuid-holland-noord"],
    "rotterdam": ["rotterdam", "westland-schieland-delfland", "haaglanden", "midden-holland",
                  "zuid-hollandse-eilanden", "waardenland", "zeeland", "west-brabant"],
    "nijmegen": ["nijmegen", "arnhem", "apeldoorn-zutphen", "midden-brabant", "noordoost-brabant",
                 "zuidoost-brabant", "noord-en-midden-limburg", "zuid-limburg"],
}
umc_area = {c: home for home, area in UMC_AREA.items() for c in area}
assert sorted(umc_area) == sorted(CODES) and sum(map(len, UMC_AREA.values())) == len(CODES)
assert set(UMC_AREA) == {code for code, _ in UMCS}

offers = []
offer_count = Counter()
unit_names = set()  # (region, unitName): unique within a region, so the demo reads clearly


def unique_unit_name(form, town, region):
    for _ in range(12):
        name = unit_name(form, town, region)
        if (region, name) not in unit_names:
            break
    else:
        name = f"{name} ({town})"
        k = 2
        while (region, name) in unit_names:
            name = f"{unit_name(form, town, region)} ({town} {k})"
            k += 1
    unit_names.add((region, name))
    return name


def allowed(form, region):
    cat = FORM_CATEGORY[form]
    if region in GAPS.get(cat, set()):
        return False
    return form not in FORBIDDEN_FORMS.get(region, set())


def add_offer(provider, region, form, town=None, supra=None, served=None):
    assert allowed(form, region), (form, region)
    assert region in provider["regions"]
    cat = FORM_CATEGORY[form]
    town = town or rng.choice(TOWNS[region])
    offer_count[provider["id"]] += 1
    if supra is None:
        if cat in ("SECURE", "SPECIALIST_MHC"):
            supra = form in ("SECURE_BED_LEVEL_3", "KIB", "HIGHLY_SPECIALISED_CLINICAL") or rng.random() < 0.5
        else:
            supra = False
    if served is None:
        served = [region]
        if supra:
            ns = neighbours(region)
            served += rng.sample(ns, min(len(ns), rng.randint(2, 4)))
    served = [c for c in CODES if c in set(served)]
    if provider["id"] in umc_ids:
        status = rng.choices(["SECURED", "UNDER_PRESSURE"], weights=[85, 15])[0]
    else:
        status = rng.choices(["SECURED", "UNDER_PRESSURE", "CLOSING", "CLOSED"], weights=[70, 22, 5, 3])[0]
    offer = {
        "id": uid("offer", f"{provider['name']}#{offer_count[provider['id']]}"),
        "providerId": provider["id"],
        "regionCode": region,
        "category": cat,
        "careForm": form,
        "unitName": unique_unit_name(form, town, region),
        "location": town,
        "capacity": capacity(form),
        "availability": "TWENTY_FOUR_SEVEN" if form in TWENTY_FOUR_SEVEN else "OFFICE_HOURS",
        "status": status,
        "supraRegional": supra,
        "regionsServed": served,
        "inclusionCriteria": rng.choice(CRITERIA[form]),
        "intakePause": None,
    }
    offers.append(offer)
    return offer


EXTRA_POOL = [("FACT", 5), ("INTENSIVE_HOME_TREATMENT", 3), ("VIP", 2), ("ACUTE_DAY_TREATMENT", 2),
              ("IHT_ADDICTION", 2), ("MHC_ADMISSION", 2), ("MPU", 1), ("SECURE_BED_LEVEL_2", 1),
              ("KIB", 1), ("LIZ", 1), ("LIFE_COURSE_APPROACH", 1), ("HIGHLY_SPECIALISED_AMBULANT", 1),
              ("HIGHLY_SPECIALISED_CLINICAL", 1)]

# The demo provider persona's own units (all in utrecht).
PLAN_OVERRIDE = {"GGZ Kromme Rijn": ["CRISIS_SERVICE", "HIGH_INTENSIVE_CARE", "FACT", "INTENSIVE_HOME_TREATMENT",
                                     "ACUTE_DAY_TREATMENT"]}

for code in provider_order:
    home = [ORG_BY_NAME[n] for n in PROVIDERS_BY_REGION[code]]
    required = ["CRISIS_SERVICE", "HIGH_INTENSIVE_CARE", "FACT", "MHC_ADMISSION",
                REQUIRED_SECURE.get(code, "SECURE_BED_LEVEL_2"), "HIGHLY_SPECIALISED_AMBULANT", "FACT"]
    required = [f for f in required if allowed(f, code)]
    plan = {p["id"]: list(PLAN_OVERRIDE.get(p["name"], [])) for p in home}
    for forms in plan.values():
        for f in forms:
            if f in required:
                required.remove(f)
    rest = [p for p in home if p["name"] not in PLAN_OVERRIDE]
    for i, form in enumerate(required):
        plan[rest[i % len(rest)]["id"]].append(form)
    for p in home:
        forms = plan[p["id"]]
        target = max(len(forms), rng.randint(3, 6))
        first_town = TOWNS[code][PROVIDERS_BY_REGION[code].index(p["name"]) % len(TOWNS[code])]
        for j, form in enumerate(forms):
            add_offer(p, code, form, town=first_town if j == 0 else None)
        while offer_count[p["id"]] < target:
            region = code
            if len(p["regions"]) > 1 and rng.random() < 0.35:
                region = rng.choice(p["regions"][1:])
            form = rng.choices([f for f, _ in EXTRA_POOL], weights=[w for _, w in EXTRA_POOL])[0]
            if not allowed(form, region):
                continue
            add_offer(p, region, form)

for umc_id in umc_ids:
    p = ORG[umc_id]
    code = p["regions"][0]
    town = TOWNS[code][0]
    area = [c for c in CODES if umc_area[c] == code]
    add_offer(p, code, "UMC_PUK", town=town, supra=True, served=area)
    add_offer(p, code, "UMC_MPU", town=town, supra=True,
              served=sorted(set(area) | set(neighbours(code)), key=CODES.index))
    add_offer(p, code, "PUK", town=town, supra=False)
    if rng.random() < 0.6:
        add_offer(p, code, "MPU", town=town, supra=False)

OFFER = {o["id"]: o for o in offers}

# The demo provider persona (first PROVIDER) gets a recognisable picture in utrecht.
persona = next(o for o in organisations if o["kind"] == "PROVIDER")
persona_offers = [o for o in offers if o["providerId"] == persona["id"]]
for o in persona_offers:
    o["status"] = "SECURED"
pf = next(o for o in persona_offers if o["careForm"] == "FACT")
pf["status"] = "UNDER_PRESSURE"
ph = next(o for o in persona_offers if o["careForm"] == "HIGH_INTENSIVE_CARE")
ph["status"] = "UNDER_PRESSURE"


def pick(region, forms=None, statuses=("UNDER_PRESSURE", "CLOSING"), force="UNDER_PRESSURE", exclude=()):
    """An offer in `region` (optionally of `forms`), preferably with one of `statuses`."""
    cands = [o for o in offers if o["regionCode"] == region and o["id"] not in exclude
             and (forms is None or o["careForm"] in forms) and o["providerId"] not in umc_ids]
    assert cands, (region, forms)
    good = [o for o in cands if o["status"] in statuses]
    if good:
        return good[0]
    o = cands[0]
    o["status"] = force
    return o


# Intake pauses (never on CLOSED offers).
pf["intakePause"] = {"from": "2026-10-01", "until": "2026-12-31",
                     "reason": "Tijdelijk geen nieuwe aanmeldingen door vacatures; eerst wordt de huidige "
                               "wachtlijst afgebouwd."}
PAUSE_REASONS = [
    ("2026-09-15", "2026-12-31", "Personeelstekort; bestaande cliënten houden hun zorg."),
    ("2026-10-01", None, "Afdeling sluit; nieuwe aanmeldingen worden doorverwezen binnen de regio."),
    ("2026-10-15", "2027-01-31", "Verbouwing van de afdeling, tijdelijk minder bedden beschikbaar."),
    ("2026-11-01", "2027-02-28", "Wachtlijst boven afgesproken maximum; instroom tijdelijk gestopt."),
    ("2026-08-01", "2026-11-30", "Tijdelijk onvoldoende behandelaren voor nieuwe intakes."),
    ("2026-10-01", "2027-03-31", "Herinrichting van het team na samenvoeging van twee locaties."),
    ("2026-11-15", None, "Financiering voor 2027 nog niet rond; geen nieuwe aanmeldingen tot er afspraken zijn."),
]
pausable = [o for o in offers if o["status"] in ("UNDER_PRESSURE", "CLOSING") and o["intakePause"] is None
            and o["regionCode"] != "utrecht"]
for o, (frm, until, reason) in zip(rng.sample(pausable, len(PAUSE_REASONS)), PAUSE_REASONS):
    if o["status"] == "CLOSING":
        until, reason = None, "Afdeling sluit; nieuwe aanmeldingen worden doorverwezen binnen de regio."
    o["intakePause"] = {"from": frm, "until": until, "reason": reason}

# --------------------------------------------------------------------------------------------
# 5. Waiting times (2026-07 .. 2026-10).
# --------------------------------------------------------------------------------------------

MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]
regular = [o for o in organisations if o["kind"] == "PROVIDER" and o["id"] not in umc_ids]
reporting = [persona] + rng.sample(regular[1:], 27)
reporting.sort(key=lambda o: organisations.index(o))
waiting = []
for p in reporting:
    home = p["regions"][0]
    locs = []
    for o in offers:
        if o["providerId"] == p["id"] and o["regionCode"] == home and o["location"] not in locs:
            locs.append(o["location"])
    use = locs[:1] if len(locs) < 2 or rng.random() < 0.85 else locs[:2]
    for loc in use:
        groups = rng.sample([g for g, _ in DIAGNOSIS_GROUPS], rng.randint(3, 5))
        groups.sort(key=[g for g, _ in DIAGNOSIS_GROUPS].index)
        for g in groups:
            reg = rng.uniform(5.0, 11.0) if rng.random() < 0.12 else rng.uniform(0.8, 4.0)
            tre = rng.uniform(10.5, 20.0) if rng.random() < 0.12 else rng.uniform(2.0, 9.5)
            cnt = rng.randint(5, 180)
            for m in MONTHS:
                reg = max(0.3, reg * rng.uniform(0.88, 1.12))
                tre = max(0.5, tre * rng.uniform(0.88, 1.12))
                cnt = max(1, int(cnt * rng.uniform(0.85, 1.15)))
                waiting.append({
                    "providerId": p["id"],
                    "location": loc,
                    "diagnosisGroup": g,
                    "month": m,
                    "registrationToIntakeWeeks": r1(reg),
                    "intakeToTreatmentWeeks": r1(tre),
                    "waitingCount": cnt,
                })

# --------------------------------------------------------------------------------------------
# 6. Continuity signals.
# --------------------------------------------------------------------------------------------

used = set()


def use(o):
    used.add(o["id"])
    return o


u2 = use(pick("utrecht", forms=["FACT", "MHC_ADMISSION", "INTENSIVE_HOME_TREATMENT"],
              exclude={pf["id"], ph["id"]} | {o["id"] for o in persona_offers}))
zee = use(pick("zeeland", forms=["MHC_ADMISSION", "HIGH_INTENSIVE_CARE"], statuses=("CLOSING",), force="CLOSING"))
rot = use(pick("rotterdam", forms=["SECURE_BED_LEVEL_3", "SECURE_BED_LEVEL_2", "KIB", "LIZ"],
               statuses=("CLOSING",), force="CLOSING"))
SIGNALS = [
    (pf, "STAFFING", "HIGH", "OPEN", "2026-11-02T09:00:00Z", "2027-01-01",
     "Door vier openstaande vacatures (psychiater, twee verpleegkundigen, casemanager) kan het FACT-team "
     "de caseload niet meer veilig dragen. Sinds oktober geldt een aanmeldpauze; zonder extra inzet moet "
     "per januari een deel van de cliënten worden overgedragen."),
    (ph, "STAFFING", "CRITICAL", "OPEN", "2026-11-20T08:30:00Z", "2026-12-15",
     "Structureel tekort aan verpleegkundigen op de HIC: diensten worden steeds vaker met inhuur gevuld. "
     "Vanaf half december dreigt sluiting van vier bedden, waardoor de acute opnamecapaciteit in de regio "
     "afneemt."),
    (u2, "FINANCE", "MEDIUM", "OPEN", "2026-11-16T10:00:00Z", "2027-03-01",
     "De tarieven voor 2027 dekken de kosten van het team niet. Zonder aanvullende afspraken wordt de "
     "capaciteit per maart met ongeveer een derde verlaagd."),
    (zee, "CLOSURE", "CRITICAL", "ESCALATED", "2026-09-07T09:00:00Z", "2027-01-15",
     "Aangekondigde sluiting van de afdeling per half januari wegens aanhoudend personeelstekort en "
     "verouderde huisvesting. Er is in de regio geen alternatief aanbod; de regiotafel heeft het knelpunt "
     "aan de landelijke tafel voorgelegd."),
    (rot, "CLOSURE", "HIGH", "OPEN", "2026-11-09T09:00:00Z", "2027-04-01",
     "De beveiligde afdeling sluit naar verwachting per april omdat het gebouw niet meer aan de eisen "
     "voldoet en nieuwbouw pas in 2028 klaar is. Er wordt gezocht naar tijdelijke plaatsing elders."),
    (use(pick("friesland", forms=["CRISIS_SERVICE"])), "STAFFING", "HIGH", "OPEN",
     "2026-10-19T09:00:00Z", "2026-12-01",
     "De nachtdiensten van de crisisdienst kunnen vanaf december niet meer volledig worden bezet. "
     "Samenwerking met de buurregio wordt verkend."),
    (use(pick("groningen", forms=["MHC_ADMISSION"])), "HOUSING", "MEDIUM",
     "ACKNOWLEDGED", "2026-10-05T09:00:00Z", "2027-06-30",
     "Het gebouw van de afdeling moet door asbestsanering tijdelijk worden verlaten. Een tijdelijke "
     "locatie is gevonden, maar met zes bedden minder."),
    (use(pick("twente", forms=["FACT"])), "STAFFING", "LOW", "RESOLVED",
     "2026-08-24T09:00:00Z", None,
     "Tijdelijke onderbezetting in de zomerperiode. Opgelost door herverdeling van de caseload binnen "
     "de teams."),
    (use(pick("haaglanden", forms=["KIB", "SECURE_BED_LEVEL_2", "LIZ"], statuses=("UNDER_PRESSURE",))), "OTHER", "MEDIUM", "ACKNOWLEDGED",
     "2026-10-26T09:00:00Z", "2027-02-01",
     "Door een nieuwe landelijke beveiligingseis moet de afdeling aanpassingen doen. Tijdens de "
     "werkzaamheden is de capaciteit beperkt."),
    (use(pick("zuidoost-brabant", forms=["FACT", "VIP", "IHT_ADDICTION"])), "FINANCE", "LOW", "OPEN",
     "2026-11-23T09:00:00Z", None,
     "De subsidie van de gemeente voor het ervaringsdeskundig werk in het team stopt eind 2026. "
     "De zorg zelf blijft beschikbaar, maar de inzet van ervaringsdeskundigen neemt af."),
    (use(pick("amsterdam", forms=["HIGH_INTENSIVE_CARE", "MHC_ADMISSION"])),
     "INTAKE_PAUSE", "HIGH", "OPEN", "2026-11-12T09:00:00Z", "2027-01-31",
     "Aanmeldpauze voor nieuwe cliënten vanwege een opnamestop; de instroom wordt tijdelijk via de "
     "crisisdienst naar andere locaties geleid."),
]
signals = []
for i, (o, kind, sev, status, raised, expected, text) in enumerate(SIGNALS, 1):
    raised_dt = datetime.datetime.strptime(raised, "%Y-%m-%dT%H:%M:%SZ")
    deadline = (raised_dt + datetime.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "CLOSURE":
        assert o["status"] == "CLOSING"
    if kind == "INTAKE_PAUSE" and o["intakePause"] is None:
        o["intakePause"] = {"from": raised[:10], "until": None,
                            "reason": "Opnamestop door tekort aan personeel; instroom via andere locaties."}
    signals.append({
        "id": uid("signal", i),
        "offerId": o["id"],
        "kind": kind,
        "severity": sev,
        "description": text,
        "expectedDate": expected,
        "status": status,
        "raisedAt": raised,
        "acknowledgementDeadline": deadline,
    })

# --------------------------------------------------------------------------------------------
# 7. Regional overviews.
# --------------------------------------------------------------------------------------------


def offers_in(region, cat=None):
    return [o for o in offers if o["regionCode"] == region and (cat is None or o["category"] == cat)]


def describe_have(region, cat):
    own = offers_in(region, cat)
    if not own:
        return f"Geen eigen aanbod {CATEGORY_NL[cat]} in de regio."
    parts = []
    by_form = defaultdict(list)
    for o in own:
        if o["status"] != "CLOSED":
            by_form[o["careForm"]].append(o)
    for form in [f for _, f, _, _ in CARE_FORMS if f in by_form]:
        os_ = by_form[form]
        beds = sum(o["capacity"]["beds"] or 0 for o in os_)
        teams = sum(o["capacity"]["teams"] or 0 for o in os_)
        places = sum(o["capacity"]["places"] or 0 for o in os_)
        cap = f"{beds} bedden" if beds else (f"{teams} team(s)" if teams else f"{places} plaatsen")
        parts.append(f"{FORM_NAME[form]}: {len(os_)} eenhe{'id' if len(os_) == 1 else 'den'}, {cap}")
    closed = sum(1 for o in own if o["status"] == "CLOSED")
    s = "; ".join(parts) + "."
    if closed:
        s += f" Daarnaast {closed} eenhe{'id' if closed == 1 else 'den'} gesloten in de afgelopen periode."
    return s


def describe_problems(region, cat, extra):
    own = offers_in(region, cat)
    up = sum(1 for o in own if o["status"] == "UNDER_PRESSURE")
    cl = sum(1 for o in own if o["status"] == "CLOSING")
    pauses = sum(1 for o in own if o["intakePause"])
    bits = []
    if up and len(own) == 1:
        bits.append("de enige eenheid staat onder druk")
    elif up:
        bits.append(f"{up} van de {len(own)} eenheden {'staat' if up == 1 else 'staan'} onder druk")
    if cl:
        bits.append(f"{cl} eenhe{'id gaat' if cl == 1 else 'den gaan'} sluiten")
    if pauses:
        bits.append(f"{pauses} met een aanmeldpauze")
    base = (", ".join(bits) + ". ") if bits else "Op dit moment geen eenheden onder druk. "
    base = base[0].upper() + base[1:]
    return (base + extra).strip()


def missing_and_cover(region, cat):
    present = {o["careForm"] for o in offers_in(region, cat) if o["status"] != "CLOSED"}
    forms = [f for c, f, _, _ in CARE_FORMS if c == cat]
    if cat == "CLINICAL":
        forms = ["MHC_ADMISSION", "MPU"]
    if cat == "SPECIALIST_HOSPITAL" and not present:
        forms = ["UMC_PUK"]
    absent = [f for f in forms if f not in present]
    if not absent:
        return "Geen ontbrekende zorgvormen vastgesteld.", None
    # Per absent form the first neighbour offering it; the main cover is the one that covers most.
    by_neighbour = {}
    for n in neighbours(region):
        by_neighbour[n] = {o["careForm"] for o in offers_in(n, cat) if o["status"] != "CLOSED"} & set(absent)
    covered = {}
    for f in absent:
        covered[f] = next((n for n in neighbours(region) if f in by_neighbour[n]), None)
    cover = max(neighbours(region), key=lambda n: len(by_neighbour[n]))
    cover = cover if by_neighbour[cover] else None
    text = "Niet in de regio: " + ", ".join(FORM_NAME[f] for f in absent) + "."
    yes = [f for f in absent if covered[f]]
    no = [f for f in absent if not covered[f]]
    if yes:
        text += " Opgevangen door buurregio's: " + "; ".join(
            f"{FORM_NAME[f]} in {REGION_NAME[covered[f]]}" for f in yes) + "."
    if no and cat == "SPECIALIST_HOSPITAL":
        text += " Wordt bovenregionaal ingekocht."
    elif no:
        text += " Voor " + ", ".join(FORM_NAME[f] for f in no) + " is geen buurregio die dit opvangt."
    return text, cover


def supra_role(region, cat):
    own = [o for o in offers_in(region, cat) if o["supraRegional"] and o["status"] != "CLOSED"]
    if own:
        return "; ".join(f"{o['unitName']} ({ORG[o['providerId']]['name']}) bedient ook "
                         f"{', '.join(REGION_NAME[c] for c in o['regionsServed'] if c != region) or 'andere regio’s'}"
                         for o in own[:3]) + "."
    served = [o for o in offers if o["category"] == cat and o["regionCode"] != region
              and region in o["regionsServed"]]
    if served:
        o = served[0]
        return (f"Geen eigen bovenregionaal aanbod; de regio wordt bediend door {o['unitName']} van "
                f"{ORG[o['providerId']]['name']} ({REGION_NAME[o['regionCode']]}).")
    return "Geen aanbod met een bovenregionale rol."


PROBLEM_TEXT = {
    "utrecht": {
        "ACUTE": "De HIC draait met veel inhuur; in de avond en nacht is de bezetting kwetsbaar.",
        "OUTREACH": "Vacatures bij de FACT-teams leiden tot langere wachttijden voor nieuwe cliënten.",
        "CLINICAL": "Bedden zijn vaak vol door uitstroomproblemen naar beschermd wonen.",
        "SECURE": "Vraag naar beveiligde bedden neemt toe; plaatsing duurt soms weken.",
        "SPECIALIST_MHC": "Wachttijden voor hoogspecialistische behandeling lopen op.",
        "SPECIALIST_HOSPITAL": "Capaciteit is toereikend, maar afhankelijk van een kleine groep specialisten.",
    },
    "groningen": {
        "ACUTE": "Lange reisafstanden in het oosten van de provincie maken snelle beoordeling lastig.",
        "OUTREACH": "Krapte aan psychiaters in de FACT-teams buiten de stad.",
        "CLINICAL": "Een opnameafdeling moet tijdelijk uitwijken naar een andere locatie.",
        "SECURE": "Voor de zwaarste doelgroep is de regio afhankelijk van de buurregio's.",
        "SPECIALIST_MHC": "Het team is klein en kwetsbaar bij uitval; het personeel vergrijst.",
        "SPECIALIST_HOSPITAL": "De PUK vangt ook patiënten uit Friesland en Drenthe op; bedden zijn vaak vol.",
    },
}


def assessments(region, year):
    out = []
    for cat in CATEGORIES:
        missing, cover = missing_and_cover(region, cat)
        extra = PROBLEM_TEXT[region][cat]
        if year == 2027:
            extra = "Verwachting 2027: " + extra[0].lower() + extra[1:]
        out.append({
            "category": cat,
            "whatWeHave": describe_have(region, cat),
            "problems": describe_problems(region, cat, extra),
            "missing": missing,
            "coveredByNeighbour": cover,
            "supraRegionalRole": supra_role(region, cat),
        })
    return out


def region_stats(region):
    own = offers_in(region)
    st = Counter(o["status"] for o in own)
    return len(own), st["UNDER_PRESSURE"], st["CLOSING"], st["CLOSED"]


def patient_org_in(region):
    return next(o for o in organisations if o["kind"] == "PATIENT_ORGANISATION" and region in o["regions"])


n_u, up_u, cl_u, cd_u = region_stats("utrecht")
n_g, up_g, cl_g, cd_g = region_stats("groningen")
overviews = [
    {
        "id": uid("overview", "utrecht-2026"),
        "regionCode": "utrecht",
        "year": 2026,
        "status": "PUBLISHED",
        "publicSummary": (
            f"Regiobeeld cruciale ggz Utrecht 2026. De regio telt {n_u} eenheden cruciale ggz in alle zes "
            f"categorieën. {up_u} daarvan staan onder druk, vooral door personeelstekort bij de acute zorg "
            "en de FACT-teams. Beveiligde bedden op niveau 3 ontbreken in de regio; daarvoor werken we samen "
            "met de buurregio's. De regiotafel spreekt af om vacatures gezamenlijk te werven, de inzet van "
            "de crisisdienst regionaal af te stemmen en de uitstroom naar beschermd wonen met de gemeenten "
            "te verbeteren. Het regiobeeld wordt elk halfjaar bijgewerkt."
        ),
        "confidentialNotes": (
            "Vertrouwelijk, alleen voor de regiotafel en de landelijke tafel. Twee aanbieders melden dat de "
            "tarieven voor 2027 de kosten van FACT en HIC niet dekken. De coördinerend zorgverzekeraar "
            "onderzoekt een meerjarige afspraak met een volumegarantie voor de HIC. Bij een van de "
            "opnameafdelingen loopt een reorganisatie die nog niet publiek is; de verwachting is dat de "
            "capaciteit gelijk blijft. Als de vacatures in het eerste kwartaal niet zijn ingevuld, wordt "
            "het knelpunt HIC aan de landelijke tafel voorgelegd."
        ),
        "assessments": assessments("utrecht", 2026),
        "patientInputs": [{
            "organisationId": patient_org_in("utrecht")["id"],
            "text": (
                "Cliënten en naasten merken dat het FACT-team minder vaak langskomt en dat wisselingen van "
                "behandelaar vaker voorkomen. Bij een crisis is de crisisdienst goed bereikbaar, maar na een "
                "opname ontbreekt vaak een warme overdracht naar de wijk. Wij vragen de regio om "
                "ervaringsdeskundigen structureel in de teams op te nemen en om cliënten tijdig te "
                "informeren als een afdeling of team verandert of sluit."
            ),
        }],
    },
    {
        "id": uid("overview", "utrecht-2027"),
        "regionCode": "utrecht",
        "year": 2027,
        "status": "DRAFT",
        "publicSummary": (
            "Concept regiobeeld cruciale ggz Utrecht 2027. Uitgangspunt is het regiobeeld 2026, aangevuld met "
            "de verwachte ontwikkelingen: mogelijke afbouw van capaciteit bij de HIC en de FACT-teams als de "
            "personeelsproblemen aanhouden, en een groeiende vraag naar beveiligde zorg. Dit concept wordt "
            "nog besproken aan de regiotafel."
        ),
        "confidentialNotes": (
            "Concept, niet delen buiten de regiotafel. Open punten: (1) uitkomst van de gesprekken over "
            "meerjarige financiering HIC; (2) of de buurregio Arnhem in 2027 plaatsen op niveau 3 kan "
            "blijven leveren; (3) gevolgen van de lopende vroegsignaleringen voor de capaciteit in het "
            "eerste halfjaar. Cliëntenorganisaties worden uitgenodigd zodra het concept is vastgesteld."
        ),
        "assessments": assessments("utrecht", 2027),
        "patientInputs": [],
    },
    {
        "id": uid("overview", "groningen-2026"),
        "regionCode": "groningen",
        "year": 2026,
        "status": "PUBLISHED",
        "publicSummary": (
            f"Regiobeeld cruciale ggz Groningen 2026. De regio telt {n_g} eenheden cruciale ggz. {up_g} "
            "daarvan staan onder druk. De grootste zorg is de bereikbaarheid van acute zorg in de "
            "oostelijke gemeenten en het tekort aan psychiaters buiten de stad. De universitaire kliniek "
            "heeft een bovenregionale functie voor het hele noorden. De regio werkt samen met Friesland en "
            "Drenthe aan een gezamenlijke nachtdienst en aan afspraken over beveiligde zorg."
        ),
        "confidentialNotes": (
            "Vertrouwelijk. Een van de opnameafdelingen moet tijdelijk verhuizen; het signaal is door de "
            "coördinerend zorgverzekeraar bevestigd. De regio overweegt de crisisdiensten van twee "
            "aanbieders te bundelen. Financiering voor de tijdelijke huisvesting is nog niet rond."
        ),
        "assessments": assessments("groningen", 2026),
        "patientInputs": [{
            "organisationId": patient_org_in("groningen")["id"],
            "text": (
                "Voor cliënten in Oost-Groningen zijn de reistijden naar de kliniek lang, ook voor naasten "
                "die op bezoek willen. Wij vragen aandacht voor vervoer en voor behandeling thuis waar dat "
                "kan. Positief is de samenwerking tussen de FACT-teams en de wijkteams."
            ),
        }],
    },
]

# --------------------------------------------------------------------------------------------
# 8. Checks.
# --------------------------------------------------------------------------------------------

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DIG = lambda n: re.compile(r"^\d{%d}$" % n)  # noqa: E731

assert len(regions_out) == 31 and len(set(CODES)) == 31
for r in regions_out:
    assert CODE_RE.match(r["code"]) and 2 <= len(r["code"]) <= 40, r["code"]
    assert r["neighbours"], r["code"]
    for n in r["neighbours"]:
        assert n in REGION_NAME and n != r["code"]
        assert r["code"] in next(x for x in regions_out if x["code"] == n)["neighbours"], (r["code"], n)
    ins = ORG[r["coordinatingInsurerId"]]
    assert ins["kind"] == "INSURER" and r["code"] in ins["regions"]

ids = [o["id"] for o in organisations]
assert len(set(ids)) == len(ids) and all(UUID_RE.match(i) for i in ids)
assert len({o["name"] for o in organisations}) == len(organisations)
assert len({o["kvk"] for o in organisations}) == len(organisations)
kinds = Counter(o["kind"] for o in organisations)
assert kinds["INSURER"] == 8 and kinds["PATIENT_ORGANISATION"] == 6 and kinds["MUNICIPALITY"] == 6
assert kinds["NATIONAL_TABLE"] == 1 and kinds["HUB_OPERATOR"] == 1
for o in organisations:
    assert DIG(8).match(o["kvk"])
    assert 0 < len(o["name"]) <= 200
    if o["kind"] == "PROVIDER":
        assert DIG(8).match(o["ura"]) and DIG(8).match(o["agb"]) and o["uzovi"] is None
    else:
        assert o["ura"] is None and o["agb"] is None
    if o["kind"] == "INSURER":
        assert DIG(4).match(o["uzovi"])
        assert len(o["regions"]) > len([r for r in regions_out if r["coordinatingInsurerId"] == o["id"]])
    else:
        assert o["uzovi"] is None
    if o["kind"] in ("NATIONAL_TABLE", "HUB_OPERATOR"):
        assert o["regions"] == []
    else:
        assert o["regions"] and all(c in REGION_NAME for c in o["regions"])
        assert len(set(o["regions"])) == len(o["regions"])
    for role in o["demoRoles"]:
        assert role.startswith("chair:") and o["kind"] in ("PROVIDER", "INSURER")
        assert role[6:] in o["regions"]
chairs = Counter(r for o in organisations for r in o["demoRoles"])
assert set(chairs) == {f"chair:{c}" for c in CODES} and set(chairs.values()) == {1}
for code in CODES:
    assert sum(1 for o in organisations if o["kind"] == "PROVIDER" and o["regions"][0] == code
               and o["id"] not in umc_ids) in (2, 3)
    assert any(o["kind"] == "PROVIDER" and o["regions"][0] == code and len(o["regions"]) >= 1
               for o in organisations)

first = {}
for o in organisations:
    first.setdefault(o["kind"], o)
assert "utrecht" in first["PROVIDER"]["regions"] and "chair:utrecht" in first["PROVIDER"]["demoRoles"]
assert next(r for r in regions_out if r["code"] == "utrecht")["coordinatingInsurerId"] == first["INSURER"]["id"]
assert "utrecht" in first["PATIENT_ORGANISATION"]["regions"]
assert first["MUNICIPALITY"]["name"] == "Gemeente Utrecht" and first["MUNICIPALITY"]["regions"] == ["utrecht"]
assert len(umc_ids) in (3, 4)

form_codes = {f for _, f, _, _ in CARE_FORMS}
assert {c for c, _, _, _ in CARE_FORMS} == set(CATEGORIES)
assert all(re.match(r"^[A-Z][A-Z0-9_]*$", f) for f in form_codes) and len(form_codes) == len(CARE_FORMS)
assert len(DIAGNOSIS_GROUPS) == 14 and len({g for g, _ in DIAGNOSIS_GROUPS}) == 14
assert all(re.match(r"^[A-Z][A-Z0-9_]*$", g) for g, _ in DIAGNOSIS_GROUPS)

assert 250 <= len(offers) <= 400, len(offers)
assert len(OFFER) == len(offers)
for o in offers:
    p = ORG[o["providerId"]]
    assert UUID_RE.match(o["id"]) and p["kind"] == "PROVIDER"
    assert o["regionCode"] in p["regions"]
    assert o["careForm"] in form_codes and FORM_CATEGORY[o["careForm"]] == o["category"]
    assert o["regionCode"] in o["regionsServed"] and all(c in REGION_NAME for c in o["regionsServed"])
    assert len(set(o["regionsServed"])) == len(o["regionsServed"])
    assert o["supraRegional"] or o["regionsServed"] == [o["regionCode"]]
    assert len(o["inclusionCriteria"]) <= 300 and len(o["unitName"]) <= 200
    assert o["location"] in TOWNS[o["regionCode"]]
    assert sum(1 for x in offers if x["regionCode"] == o["regionCode"] and x["unitName"] == o["unitName"]) == 1
    if o["category"] == "SPECIALIST_HOSPITAL":
        assert o["providerId"] in umc_ids and o["supraRegional"] and len(o["regionsServed"]) > 1
    if o["intakePause"]:
        assert o["status"] != "CLOSED" and len(o["intakePause"]["reason"]) <= 300
    assert o["availability"] in ("TWENTY_FOUR_SEVEN", "OFFICE_HOURS")
per_provider = Counter(o["providerId"] for o in offers)
for p in organisations:
    if p["kind"] == "PROVIDER":
        assert 3 <= per_provider[p["id"]] <= 6, (p["name"], per_provider[p["id"]])
for code in CODES:
    cats = {o["category"] for o in offers if o["regionCode"] == code}
    for cat in ("ACUTE", "OUTREACH", "CLINICAL"):
        assert cat in cats, (code, cat)
    for cat in ("SECURE", "SPECIALIST_MHC"):
        assert (cat in cats) == (code not in GAPS[cat]), (code, cat)
    assert any(o["category"] == "SPECIALIST_HOSPITAL" and code in o["regionsServed"] for o in offers), code
status_share = Counter(o["status"] for o in offers)
assert 0.6 <= status_share["SECURED"] / len(offers) <= 0.8, status_share
assert status_share["CLOSING"] and status_share["CLOSED"]
assert 5 <= sum(1 for o in offers if o["intakePause"]) <= 15

assert 300 <= len(waiting) <= 600, len(waiting)
wkeys = set()
group_codes = {g for g, _ in DIAGNOSIS_GROUPS}
for w in waiting:
    p = ORG[w["providerId"]]
    assert p["kind"] == "PROVIDER" and w["diagnosisGroup"] in group_codes and w["month"] in MONTHS
    assert any(o["providerId"] == p["id"] and o["location"] == w["location"] for o in offers)
    k = (w["providerId"], w["location"], w["diagnosisGroup"], w["month"])
    assert k not in wkeys
    wkeys.add(k)
    assert 0 <= w["registrationToIntakeWeeks"] <= 520 and 0 <= w["intakeToTreatmentWeeks"] <= 520
over = sum(1 for w in waiting if w["registrationToIntakeWeeks"] > 4 or w["intakeToTreatmentWeeks"] > 10
           or w["registrationToIntakeWeeks"] + w["intakeToTreatmentWeeks"] > 14)
assert 0.1 * len(waiting) <= over <= 0.5 * len(waiting), over

assert 8 <= len(signals) <= 12
assert len({s["id"] for s in signals}) == len(signals)
assert len({s["offerId"] for s in signals}) == len(signals)
for s in signals:
    o = OFFER[s["offerId"]]
    assert o["status"] in ("UNDER_PRESSURE", "CLOSING"), (o["status"], o["unitName"])
    assert len(s["description"]) <= 500
NOW = "2026-11-23T21:00:00Z"  # when this set was generated
open_utrecht = [s for s in signals if s["status"] == "OPEN" and OFFER[s["offerId"]]["regionCode"] == "utrecht"]
assert len(open_utrecht) >= 2
assert any(s["status"] == "OPEN" and s["acknowledgementDeadline"] < NOW for s in signals)
assert sum(1 for s in signals if s["status"] == "ESCALATED") == 1

assert len(overviews) == 3
assert len({(v["regionCode"], v["year"]) for v in overviews}) == 3
for v in overviews:
    assert UUID_RE.match(v["id"]) and v["regionCode"] in REGION_NAME
    assert len(v["publicSummary"]) <= 2000 and len(v["confidentialNotes"]) <= 4000
    assert [a["category"] for a in v["assessments"]] == CATEGORIES
    for a in v["assessments"]:
        for k in ("whatWeHave", "problems", "missing", "supraRegionalRole"):
            assert 0 < len(a[k]) <= 2000, (k, len(a[k]))
        c = a["coveredByNeighbour"]
        if c is not None:
            assert c in NEIGHBOURS[v["regionCode"]]
            assert any(o["category"] == a["category"] for o in offers_in(c))
    for i in v["patientInputs"]:
        po = ORG[i["organisationId"]]
        assert po["kind"] == "PATIENT_ORGANISATION" and v["regionCode"] in po["regions"]
        assert len(i["text"]) <= 2000

# --------------------------------------------------------------------------------------------
# 9. Write.
# --------------------------------------------------------------------------------------------

FILES = {
    "regions.json": regions_out,
    "organisations.json": organisations,
    "care-forms.json": [{"category": c, "code": f, "name": n, "description": d} for c, f, n, d in CARE_FORMS],
    "diagnosis-groups.json": [{"code": c, "name": n} for c, n in DIAGNOSIS_GROUPS],
    "care-offers.json": offers,
    "waiting-times.json": waiting,
    "continuity-signals.json": signals,
    "regional-overviews.json": overviews,
}
for name, items in FILES.items():
    with open(os.path.join(OUT_DIR, name), "w", encoding="utf-8") as f:
        json.dump({"_comment": COMMENT, "items": items}, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"{name}: {len(items)} items")
