"""Talking to ggzhub: an access token with client credentials, GraphQL over HTTP with gql, errors
by `extensions.code`, and waiting when the hub asks for it (429 and 503 with Retry-After)."""

import json
from pathlib import Path
from typing import Any, Optional

import requests
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

# The statuses after which the hub says how long to wait: RATE_LIMITED and OVERLOADED. Both
# mean the hub did not run the operation, so a mutation is safe to send again.
RETRY_STATUSES = (429, 503)


def retry_policy(attempts: int) -> Retry:
    """Try again after a 429 or 503, as many seconds later as its Retry-After says, at most
    `attempts` tries in all (urllib3's Retry). Nothing else is tried again: a request whose
    connection failed or whose answer was lost may have been applied."""
    return Retry(
        total=attempts - 1,
        status=attempts - 1,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # POST too: after a 429 or 503 the hub did not run the operation
        respect_retry_after_header=True,
        backoff_factor=0.5,  # only when an answer has no Retry-After
        connect=False,
        read=False,
        other=False,
        raise_on_status=False,  # after the last try, its answer: an error with its code
    )


def read_demo_clients(data_dir: str) -> dict:
    """The development identity provider's token endpoint and clients (data/demo-clients.json,
    which `ggzhub dev` writes: one confidential client per demo organisation)."""
    path = Path(data_dir) / "demo-clients.json"
    if not path.is_file():
        raise SystemExit(f"{path} is missing: is --data-dir the directory `ggzhub dev --data-dir` uses?")
    return json.loads(path.read_text())


def client_credentials_token(token_endpoint: str, client: dict) -> str:
    """An access token for `client` from the OAuth 2.0 client-credentials grant (RFC 6749 §4.4),
    the client authenticating with HTTP Basic. A real partner system does the same with its own
    identity provider, and asks again when the token expires (`expires_in` seconds)."""
    response = requests.post(
        token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
        timeout=30,
    )
    body = response.json()
    if not response.ok or "access_token" not in body:
        raise RuntimeError(
            f"no token for {client['client_id']}: {body.get('error')} {body.get('error_description', '')}"
        )
    return body["access_token"]


class Hub:
    """The hub's GraphQL endpoint, called as one organisation (its bearer token)."""

    def __init__(self, url: str, token: str, attempts: int = 4):
        transport = RequestsHTTPTransport(url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.session = Client(transport=transport).connect_sync()
        # The transport's requests session is ours to configure: it retries as `retry_policy` says.
        # (gql's own `retries=` would also send a request again whose answer was lost.)
        adapter = HTTPAdapter(max_retries=retry_policy(attempts))
        transport.session.mount("http://", adapter)
        transport.session.mount("https://", adapter)

    def execute(self, request: GraphQLRequest, **variables: Any) -> dict:
        """Runs one operation (made with `gql(...)`) and returns its data. An answer with errors
        raises gql's TransportQueryError; read its code with `error_code`."""
        return self.session.execute(GraphQLRequest(request, variable_values=variables))


def error_code(error: TransportQueryError) -> Optional[str]:
    """The first error's `extensions.code`: handle errors by code (docs/partners.md, "Errors"),
    never by message."""
    first = (error.errors or [{}])[0]
    return (first.get("extensions") or {}).get("code")


def refused_items(error: TransportQueryError) -> list:
    """The refused items of a bulk write (`extensions.items`: index, field, code, reason)."""
    first = (error.errors or [{}])[0]
    return (first.get("extensions") or {}).get("items") or []


def describe(error: Exception) -> str:
    """One line for a failure: each GraphQL error's code and message."""
    if isinstance(error, TransportQueryError) and error.errors:
        return "; ".join(
            f"{(e.get('extensions') or {}).get('code', 'ERROR')}: {e.get('message')}" for e in error.errors
        )
    return f"{type(error).__name__}: {error}"
