"""A real SMTP server for the browser tests (aiosmtpd), with a JSON read API.

Usage: python smtp_sink.py SMTP_PORT HTTP_PORT
  GET    /messages  -> [{"id", "message_id", "to", "subject", "text", "html"}...]
  DELETE /messages  -> clears the store
Gatehouse delivers its outbox here through GATEHOUSE_SMTP_URL; tests read mails back.
"""
import json
import sys
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

SMTP_PORT, HTTP_PORT = int(sys.argv[1]), int(sys.argv[2])
messages, lock = [], threading.Lock()


def part(msg, kind):
    body = msg.get_body(preferencelist=(kind,))
    return body.get_content() if body else ""


class Store:
    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with lock:
            messages.append({
                "id": len(messages) + 1,
                "message_id": str(msg["Message-ID"] or ""),
                "mail_from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "subject": str(msg["Subject"]),
                "text": part(msg, "plain"),
                "html": part(msg, "html"),
            })
        return "250 Message accepted for delivery"


class Api(BaseHTTPRequestHandler):
    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            self.reply(200, list(messages))

    def do_DELETE(self):
        with lock:
            messages.clear()
        self.reply(200, {"deleted": True})

    def log_message(self, *args):
        pass


controller = Controller(Store(), hostname="127.0.0.1", port=SMTP_PORT)
controller.start()
print(f"smtp sink on {SMTP_PORT}, api on {HTTP_PORT}", flush=True)
ThreadingHTTPServer(("127.0.0.1", HTTP_PORT), Api).serve_forever()
