#!/usr/bin/env python3
"""A provider's planning system syncing with ggzhub, step by step (docs/partners.md):

1. tokens with client credentials, for a provider and for its region's coordinating insurer;
2. a first sync: the change feed's position, then all of the provider's care offers, page by page;
3. a month of waiting-time reports in one call (reportWaitingTimes), refused items printed;
4. a change made on a stale version: CONFLICT, read again, retried once;
5. the insurer acknowledges an open continuity signal in the region;
6. the next sync: only what changed since the kept cursor, each record once.

Run against `ggzhub dev` (README, "Run the hub"):

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    .venv/bin/python sync.py --data-dir ../../data --gateway http://127.0.0.1:4000/graphql
"""

import argparse
import datetime
import os
import sys

from gql import gql
from gql.transport.exceptions import TransportQueryError

from hub import Hub, client_credentials_token, describe, error_code, read_demo_clients, refused_items

OFFER_FIELDS = "id unitName location status version region { code }"

ME = gql("query Me { me { organisation { id name } kind regions } }")
COORDINATING_INSURER = gql(
    "query CoordinatingInsurer($region: String!) { region(code: $region) { name coordinatingInsurer { id name } } }"
)
CHANGE_FEED_POSITION = gql("query ChangeFeedPosition { changeFeedPosition }")
PROVIDER_OFFERS = gql(f"""
    query ProviderOffers($providerId: ID!, $first: Int!, $after: String) {{
      careOffers(providerId: $providerId, first: $first, after: $after) {{
        nodes {{ {OFFER_FIELDS} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}""")
CARE_OFFER = gql(f"query CareOffer($id: ID!) {{ careOffer(id: $id) {{ {OFFER_FIELDS} }} }}")
DIAGNOSIS_GROUPS = gql("query DiagnosisGroups { diagnosisGroups { code } }")
REPORT_WAITING_TIMES = gql("""
    mutation ReportWaitingTimes($reports: [WaitingTimeInput!]!) {
      reportWaitingTimes(input: $reports) { id location diagnosisGroup month version }
    }""")
UPDATE_UNIT_NAME = gql(f"""
    mutation UpdateUnitName($id: ID!, $expectedVersion: Int!, $unitName: String!) {{
      updateCareOffer(id: $id, expectedVersion: $expectedVersion, input: {{ unitName: $unitName }}) {{ {OFFER_FIELDS} }}
    }}""")
SIGNAL_FIELDS = "id status version offer { unitName provider { name } }"
OPEN_SIGNALS = gql(f"""
    query OpenSignals($region: String!) {{
      continuitySignals(region: $region, status: OPEN, first: 10) {{ nodes {{ {SIGNAL_FIELDS} }} }}
    }}""")
RAISE_SIGNAL = gql(f"""
    mutation RaiseSignal($input: RaiseSignalInput!) {{ raiseContinuitySignal(input: $input) {{ {SIGNAL_FIELDS} }} }}""")
ACKNOWLEDGE_SIGNAL = gql("""
    mutation AcknowledgeSignal($id: ID!, $expectedVersion: Int!, $response: String!) {
      acknowledgeContinuitySignal(id: $id, expectedVersion: $expectedVersion, response: $response) {
        id status version acknowledgedAt response
      }
    }""")
CARE_OFFER_CHANGES = gql(f"""
    query CareOfferChanges($since: String!, $first: Int!) {{
      careOfferChanges(since: $since, first: $first) {{
        changes {{ id tombstone node {{ {OFFER_FIELDS} }} }}
        next
        hasMore
      }}
    }}""")
WAITING_TIME_REPORT_CHANGES = gql("""
    query WaitingTimeReportChanges($since: String!, $first: Int!) {
      waitingTimeReportChanges(since: $since, first: $first) {
        changes { id tombstone node { id location diagnosisGroup month version } }
        next
        hasMore
      }
    }""")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("GGZHUB_DATA_DIR"),
        help="ggzhub dev's data directory, with demo-clients.json (or GGZHUB_DATA_DIR)",
    )
    parser.add_argument(
        "--gateway",
        default=os.environ.get("GGZHUB_GATEWAY"),
        help="the gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql (or GGZHUB_GATEWAY)",
    )
    parser.add_argument(
        "--provider",
        help="the demo provider to sync as, by organisation name or client id (default: the first)",
    )
    parser.add_argument(
        "--month", default=next_month(), help="the month to report waiting times for (default: next month)"
    )
    parser.add_argument(
        "--page-size",
        type=page_size,
        default=100,
        metavar="N",
        help="records per page when reading lists and changes (default: 100, the most a list gives)",
    )
    args = parser.parse_args()
    missing = [
        name
        for name, value in [
            ("--data-dir (or GGZHUB_DATA_DIR)", args.data_dir),
            ("--gateway (or GGZHUB_GATEWAY)", args.gateway),
        ]
        if not value
    ]
    if missing:
        parser.error("missing " + " and ".join(missing))
    return args


def page_size(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError("must be 1 to 100")
    return int(text)


def next_month() -> str:
    today = datetime.date.today()
    return f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}"


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def demo_client(demo: dict, kind: str, name_or_id: str | None = None) -> dict:
    """A demo client by kind and organisation name (or client id)."""
    for client in demo["clients"]:
        if (
            client["kind"] == kind
            and client["client_secret"]
            and name_or_id in (None, client["organisation"], client["client_id"])
        ):
            return client
    raise RuntimeError(f"no {kind} client{f' for {name_or_id}' if name_or_id else ''} in demo-clients.json")


def read_feed(hub: Hub, query, field: str, since: str, page_size: int) -> tuple[list, str]:
    """Reads a change feed from `since` to its end, page by page; returns the changes and the cursor to keep."""
    changes, cursor = [], since
    while True:
        page = hub.execute(query, since=cursor, first=page_size)[field]
        changes += page["changes"]
        cursor = page["next"]  # keep it, also when the page brought no changes
        if not page["hasMore"]:
            return changes, cursor


def main() -> None:
    args = options()
    demo = read_demo_clients(args.data_dir)

    step("1. A token for the provider (client credentials)")
    provider_client = demo_client(demo, "PROVIDER", args.provider)
    provider = Hub(args.gateway, client_credentials_token(demo["token_endpoint"], provider_client))
    # `me` says who the hub thinks we are: check it first when something is refused.
    me = provider.execute(ME)["me"]
    if not me["organisation"] or me["kind"] != "PROVIDER":
        raise RuntimeError(f"{provider_client['client_id']} is not a provider: {me}")
    provider_id, provider_name = me["organisation"]["id"], me["organisation"]["name"]
    print(
        f"{provider_client['client_id']}: {provider_name} ({me['kind']}), regions {', '.join(me['regions'])}"
    )

    step("2. First sync: the feed position, then all of our care offers")
    # Take the position *before* reading everything: nothing committed after it is missed.
    cursor = provider.execute(CHANGE_FEED_POSITION)["changeFeedPosition"]
    offers, pages, after = {}, 0, None
    while True:
        page = provider.execute(PROVIDER_OFFERS, providerId=provider_id, first=args.page_size, after=after)[
            "careOffers"
        ]
        pages += 1
        offers.update((offer["id"], offer) for offer in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    print(f"{len(offers)} offers in {pages} page(s); cursor kept: {cursor}")
    # We work in the region of our first offer that is not closed.
    offer = next(
        (o for o in offers.values() if o["status"] != "CLOSED" and o["region"]["code"] in me["regions"]), None
    )
    if offer is None:
        raise RuntimeError(f"{provider_name} has no open care offer in its regions")
    region = offer["region"]["code"]
    print(f'region {region}; the offer we will change: "{offer["unitName"]}" (version {offer["version"]})')

    step(f"   A token for the coordinating insurer of {region}")
    region_info = provider.execute(COORDINATING_INSURER, region=region)["region"]
    insurer_org = region_info and region_info["coordinatingInsurer"]
    if not insurer_org:
        raise RuntimeError(f"region {region} has no coordinating insurer")
    insurer_client = demo_client(demo, "INSURER", insurer_org["name"])
    insurer = Hub(args.gateway, client_credentials_token(demo["token_endpoint"], insurer_client))
    print(f"{insurer_client['client_id']}: {insurer_org['name']} coordinates {region_info['name']}")

    step(f"3. Waiting times for {args.month}: every location × diagnosis group, in one call")
    locations = sorted({o["location"] for o in offers.values() if o["region"]["code"] == region})
    groups = [g["code"] for g in provider.execute(DIAGNOSIS_GROUPS)["diagnosisGroups"]]
    reports = [
        {
            "providerId": provider_id,
            "regionCode": region,
            "location": location,
            "diagnosisGroup": group,
            "month": args.month,
            # Figures of the example; a planning system takes them from its own records.
            "registrationToIntakeWeeks": 2 + (i + j) % 5,
            "intakeToTreatmentWeeks": 3 + j % 4,
            "waitingCount": 12 + 3 * j,
        }
        for i, location in enumerate(locations)
        for j, group in enumerate(groups)
    ]
    try:
        reported = provider.execute(REPORT_WAITING_TIMES, reports=reports)["reportWaitingTimes"]
    except TransportQueryError as e:
        # All or nothing: when any report is refused, none is stored, and `extensions.items` says
        # which and why. Fix those (a report that exists already: correctWaitingTime) and send again.
        if refused_items(e):
            print(f"refused ({error_code(e)}), nothing stored:", file=sys.stderr)
            for item in refused_items(e):
                r = reports[item["index"]]
                field = f", field {item['field']}" if item.get("field") else ""
                print(
                    f"  report {item['index']} ({r['location']}, {r['diagnosisGroup']}, {r['month']}){field}: "
                    f"{item['reason']} [{item.get('code', '')}]",
                    file=sys.stderr,
                )
        raise
    print(f"{len(reported)} reports stored ({len(locations)} location(s) × {len(groups)} diagnosis groups)")

    step("4. A change on a stale version: CONFLICT, read again, retry")
    base = offer["unitName"].split(" · ")[0]
    # Someone else (a colleague in the dashboard) renames the offer after we read it ...
    provider.execute(
        UPDATE_UNIT_NAME,
        id=offer["id"],
        expectedVersion=offer["version"],
        unitName=f"{base} · renamed elsewhere",
    )
    # ... so our change, made on the version we read, is refused with CONFLICT.
    our_name = f"{base} · synced {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
    try:
        provider.execute(
            UPDATE_UNIT_NAME, id=offer["id"], expectedVersion=offer["version"], unitName=our_name
        )
        raise RuntimeError("expected CONFLICT for a stale version")
    except TransportQueryError as e:
        if error_code(e) != "CONFLICT":
            raise
        print(f"version {offer['version']} is stale: {error_code(e)}")
        # Read the offer again, apply our change to what is there now, and send it once more.
        current = provider.execute(CARE_OFFER, id=offer["id"])["careOffer"]
        updated = provider.execute(
            UPDATE_UNIT_NAME, id=current["id"], expectedVersion=current["version"], unitName=our_name
        )["updateCareOffer"]
        print(
            f'retried on version {current["version"]}: "{updated["unitName"]}" is version {updated["version"]}'
        )

    step(f"5. The insurer acknowledges an open continuity signal in {region}")
    open_signals = insurer.execute(OPEN_SIGNALS, region=region)["continuitySignals"]["nodes"]
    if open_signals:
        signal = open_signals[0]
    else:
        # None open: the provider raises one on its offer (an early warning; no personal data).
        signal = provider.execute(
            RAISE_SIGNAL,
            input={
                "offerId": offer["id"],
                "kind": "STAFFING",
                "severity": "MEDIUM",
                "description": "Two vacancies for nurses from next month.",
            },
        )["raiseContinuitySignal"]
        print(f"none open: {provider_name} raised one")
    acknowledged = insurer.execute(
        ACKNOWLEDGE_SIGNAL,
        id=signal["id"],
        expectedVersion=signal["version"],
        response="Discussed at the regional table this week; we look for capacity nearby.",
    )["acknowledgeContinuitySignal"]
    print(
        f'signal on "{signal["offer"]["unitName"]}" ({signal["offer"]["provider"]["name"]}): '
        f"{acknowledged['status']}, version {acknowledged['version']}"
    )

    step("6. Next sync: what changed since the kept cursor")
    # Each type's feed has its own `next`: keep one cursor per type for the sync after this one.
    offer_changes, offer_cursor = read_feed(
        provider, CARE_OFFER_CHANGES, "careOfferChanges", cursor, args.page_size
    )
    report_changes, report_cursor = read_feed(
        provider, WAITING_TIME_REPORT_CHANGES, "waitingTimeReportChanges", cursor, args.page_size
    )
    # Apply them to our copy: a change holds the record as it is now; a tombstone removes it.
    arrivals: dict[str, int] = {}
    for change in offer_changes:
        arrivals[change["id"]] = arrivals.get(change["id"], 0) + 1
        if change["tombstone"] or change["node"] is None:
            offers.pop(change["id"], None)
        else:
            offers[change["id"]] = change["node"]
    for change in report_changes:
        arrivals[change["id"]] = arrivals.get(change["id"], 0) + 1
    print(
        f"careOfferChanges: {len(offer_changes)} (cursor kept: {offer_cursor}), "
        f"waitingTimeReportChanges: {len(report_changes)} (cursor kept: {report_cursor})"
    )

    problems = []
    if arrivals.get(offer["id"]) != 1:
        problems.append(f"our offer arrived {arrivals.get(offer['id'], 0)} times")
    if offers.get(offer["id"]) != updated:
        problems.append(f"our copy of the offer is {offers.get(offer['id'])}")
    missed = [r for r in reported if arrivals.get(r["id"]) != 1]
    if missed:
        problems.append(f"{len(missed)} of our {len(reported)} reports did not arrive exactly once")
    if problems:
        raise RuntimeError("the next sync is not what we wrote: " + "; ".join(problems))
    print(f"our offer arrived once (version {updated['version']}), each of our {len(reported)} reports once")

    step("Summary")
    print(
        f"{provider_name} in {region}: read {pages} page(s) of offers, reported {len(reported)} waiting times "
        f"for {args.month}, changed an offer after a CONFLICT, {insurer_org['name']} acknowledged a signal, "
        f"the next sync brought {len(offer_changes)} offer and {len(report_changes)} report change(s)."
    )


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the example reports any failure and exits non-zero
        print(f"\nFAILED: {describe(e)}", file=sys.stderr)
        sys.exit(1)
