"""A minimal webhook receiver on the standard library: verify, then act, then answer 2xx.

    STAMMKUNDE_WEBHOOK_SECRET=whsec_... python receiver.py --port 8080

Answer quickly (queue slow work) and drop duplicates by ``Stammkunde-Event-Id``: a delivery
can come more than once. Anything but 2xx is retried on the service's back-off schedule.
"""

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from verify_signature import verify_signature

SECRET = os.environ["STAMMKUNDE_WEBHOOK_SECRET"]
MAX_BODY_BYTES = 1024 * 1024
seen_event_ids: set[str] = set()  # use your database in production


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._answer(413)
            return
        body = self.rfile.read(length)  # the raw bytes: the signature covers exactly these
        if not verify_signature(SECRET, self.headers.get("Stammkunde-Signature", ""), body):
            self._answer(400)
            return
        event = json.loads(body)
        if event["id"] not in seen_event_ids:
            seen_event_ids.add(event["id"])
            print(f"{event['type']} {event['id']} member={event['member_id']}", flush=True)
        self._answer(204)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the events printed above are the log


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    arguments = parser.parse_args()
    server = ThreadingHTTPServer((arguments.host, arguments.port), Handler)
    print(f"listening on http://{arguments.host}:{arguments.port}/", flush=True)
    server.serve_forever()
