"""Real servers on loopback for the notification tests: an SMTP server (aiosmtpd) and an HTTP
server speaking the SMS gateway protocol."""

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collector:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server in this process; Django's SMTP backend pointed at it."""
    collector = _Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield collector
    finally:
        controller.stop()


@dataclass
class SmsServer:
    url: str
    token: str
    requests: list = field(default_factory=list)
    status: int = 202
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def sms_server(settings):
    """An HTTP server speaking the SMS gateway protocol; the gateway setting points at it."""
    state = SmsServer(url="", token="test-sms-token")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            with state.lock:
                state.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(raw)})
                status = state.status
            answer = json.dumps({"accepted": 200 <= status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    settings.MONCOMPTE_SMS_BACKEND = "moncompte.notifications.sms.HttpSmsGateway"
    settings.MONCOMPTE_SMS_URL = state.url
    settings.MONCOMPTE_SMS_TOKEN = state.token
    settings.MONCOMPTE_SMS_TIMEOUT = 5
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
