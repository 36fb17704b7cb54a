#!/usr/bin/env python3
"""A webhook receiver for ggzhub, with Python's standard library only.

It verifies each delivery's Standard Webhooks signature (https://www.standardwebhooks.com/) with
the secret `registerWebhook` returned, refuses deliveries whose signature or timestamp is wrong
(401), skips a delivery it has already handled (same `webhook-id`: deliveries are at least once),
and prints each event as one JSON line.

    WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py --port 9000

Then register `http://127.0.0.1:9000/hook` under `ggzhub dev` (README, "Live early warnings").
A real receiver would put the event on a queue and answer at once; the hub waits 10 s at most.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECS = 5 * 60


def verify(secret: str, msg_id: str, timestamp: str, body: bytes, signatures: str) -> bool:
    """Whether one of the space-separated `v1,<base64>` signatures signs `id.timestamp.body`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(value, expected)
        for version, _, value in (s.partition(",") for s in signatures.split())
    )


def handler(secret: str):
    seen: set[str] = set()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            msg_id = self.headers.get("webhook-id", "")
            timestamp = self.headers.get("webhook-timestamp", "")
            signature = self.headers.get("webhook-signature", "")
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= TOLERANCE_SECS
            if not (msg_id and fresh and verify(secret, msg_id, timestamp, body, signature)):
                self.send_response(401)
                self.end_headers()
                return
            if msg_id not in seen:
                seen.add(msg_id)
                event = json.loads(body)
                print(json.dumps({"verified": True, "messageId": msg_id, **event}), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Receiver


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret or not secret.startswith("whsec_"):
        sys.exit("set WEBHOOK_SECRET to the secret registerWebhook returned (whsec_...)")
    server = ThreadingHTTPServer((args.host, args.port), handler(secret))
    print(f"listening on http://{args.host}:{server.server_port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
