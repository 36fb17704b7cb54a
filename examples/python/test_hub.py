"""The HTTP layer against a tiny local server: waiting on 429/503 as Retry-After says, and errors
by code. Run with `python -m unittest -v` in this directory."""

import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gql import gql
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError

from hub import Hub, error_code, refused_items

ME = gql("query Me { me { kind } }")
RATE_LIMITED = (
    429,
    {"Retry-After": "1"},
    {"errors": [{"message": "too many requests", "extensions": {"code": "RATE_LIMITED"}}]},
)
OK = (200, {}, {"data": {"me": {"kind": "PROVIDER"}}})
DROP = None  # close the connection without an answer


class Server:
    """Answers each POST with the next of `answers` (status, headers, body; or DROP) and keeps what
    it was sent."""

    def __init__(self):
        self.answers: list = []
        self.received: list = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.received.append((self.headers["Authorization"], json.loads(body)))
                next_answer = (
                    server.answers.pop(0)
                    if server.answers
                    else (500, {}, {"errors": [{"message": "no answer left"}]})
                )
                if next_answer is DROP:
                    self.close_connection = True
                    return
                status, headers, answer = next_answer
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {
                    "Content-Type": "application/json",
                    "Content-Length": str(len(data)),
                    **headers,
                }.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/graphql"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, *answers):
        self.answers, self.received = list(answers), []


class HubTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.httpd.shutdown()
        cls.server.httpd.server_close()

    def test_a_429_is_tried_again_after_retry_after_seconds(self):
        self.server.serve(RATE_LIMITED, OK)
        started = time.monotonic()
        data = Hub(self.server.url, "tok").execute(ME)
        waited = time.monotonic() - started
        self.assertEqual(data, {"me": {"kind": "PROVIDER"}})
        self.assertEqual(len(self.server.received), 2, "sent twice")
        self.assertEqual(self.server.received[0], self.server.received[1], "the same request again")
        self.assertEqual(self.server.received[0][0], "Bearer tok")
        self.assertGreaterEqual(waited, 0.95, "Retry-After said 1 second")
        self.assertLess(waited, 3)

    def test_a_503_that_persists_fails_with_its_code_after_the_last_attempt(self):
        overloaded = (
            503,
            {"Retry-After": "0"},
            {"errors": [{"message": "busy", "extensions": {"code": "OVERLOADED"}}]},
        )
        self.server.serve(*[overloaded] * 5)
        with self.assertRaises(TransportQueryError) as caught:
            Hub(self.server.url, "tok", attempts=3).execute(ME)
        self.assertEqual(error_code(caught.exception), "OVERLOADED")
        self.assertEqual(len(self.server.received), 3, "three attempts in all")

    def test_a_lost_answer_is_not_tried_again(self):
        # The request arrived (and a mutation may have been applied), the answer did not.
        self.server.serve(DROP, OK)
        with self.assertRaises(TransportConnectionFailed):
            Hub(self.server.url, "tok").execute(ME)
        self.assertEqual(len(self.server.received), 1)

    def test_other_statuses_are_not_tried_again(self):
        self.server.serve(
            (500, {}, {"errors": [{"message": "boom", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}), OK
        )
        with self.assertRaises(TransportQueryError) as caught:
            Hub(self.server.url, "tok").execute(ME)
        self.assertEqual(error_code(caught.exception), "INTERNAL_SERVER_ERROR")
        self.assertEqual(len(self.server.received), 1)

    def test_a_refused_bulk_write_gives_its_code_and_items(self):
        items = [
            {
                "index": 3,
                "field": "month",
                "code": "BAD_USER_INPUT",
                "reason": 'month must look like 2026-09, got "2026-13"',
            }
        ]
        self.server.serve(
            (
                200,
                {},
                {
                    "data": None,
                    "errors": [
                        {
                            "message": "1 of 4 waiting-time reports refused",
                            "path": ["reportWaitingTimes"],
                            "extensions": {"code": "BAD_USER_INPUT", "items": items},
                        }
                    ],
                },
            )
        )
        with self.assertRaises(TransportQueryError) as caught:
            Hub(self.server.url, "tok").execute(ME)
        self.assertEqual(error_code(caught.exception), "BAD_USER_INPUT")
        self.assertEqual(refused_items(caught.exception), items)


if __name__ == "__main__":
    unittest.main()
