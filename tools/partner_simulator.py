"""A local stand-in for the four partners (docs/partners.md): one HTTP server speaking each
partner's lookup, with data for the demo people and a control API for tests and demos.

    python tools/partner_simulator.py [--host 127.0.0.1] [--port 8091] [--data FILE]

Lookups (POST, JSON body {"nir": "<13 characters>"}, header Authorization: Bearer demo-<partner>):
    /impots/v1/revenus  /france-travail/v1/statut  /drm/v1/ressources  /qf/v1/quotient
    200 with the person's data, 404 if the partner does not know them, 401 without the token.

Control (POST JSON to /_control/<what>; "partner" is impots, france_travail, drm or quotient_familial):
    data        {"partner": "drm", "nir": "...", "data": {...}}  one person's answer (data null: unknown, 404)
    latency     {"partner": "drm", "latency_ms": 200}            every answer waits that long
    error_rate  {"partner": "drm", "error_rate": 0.5}            that share of calls answer 500 (0 to 1)
    fail        {"partner": "drm", "count": 2}                   the next N calls answer 500
    malformed   {"partner": "drm", "count": 1}                   the next N calls answer 200 with broken JSON
    hang        {"partner": "drm", "count": 1, "ms": 60000}      the next N calls wait ms before answering,
                                                                 or until /_control/release
    release     {}   every call hanging now answers at once (then as its behaviour says)
    behaviour   {"partner": "drm", "latency_ms": ..., "error_rate": ..., "fail_next": ...,
                 "malformed_next": ..., "hang_next": ..., "hang_ms": ...}   several at once
    reset       {}   the demo data back, behaviours and counters cleared, hanging calls released
    reset_calls {}   the counters and the paths seen cleared, nothing else
    GET /_control/calls: {"calls": {partner: n}, "paths": [every path asked, in order]}

Stdlib only: it runs wherever Python does, with no database and nothing to install.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PATHS = {
    "/impots/v1/revenus": "impots",
    "/france-travail/v1/statut": "france_travail",
    "/drm/v1/ressources": "drm",
    "/qf/v1/quotient": "quotient_familial",
}
PARTNERS = tuple(PATHS.values())
DEMO_DATA = Path(__file__).with_name("partner_simulator_demo.json")
MAX_BODY = 64 * 1024
CALM = {"latency_ms": 0, "error_rate": 0.0, "fail_next": 0, "malformed_next": 0, "hang_next": 0, "hang_ms": 60_000}
# What each control sets: {control: {body key: behaviour key}}.
CONTROLS = {
    "latency": {"latency_ms": "latency_ms"},
    "error_rate": {"error_rate": "error_rate"},
    "fail": {"count": "fail_next"},
    "malformed": {"count": "malformed_next"},
    "hang": {"count": "hang_next", "ms": "hang_ms"},
    "behaviour": {key: key for key in CALM},
}


def _last_months(count: int, today: datetime.date | None = None) -> list[str]:
    day = (today or datetime.date.today()).replace(day=1)
    months = []
    for _ in range(count):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
        months.append(f"{day:%Y-%m}")
    return months


def _expand(partner: str, data: dict) -> dict:
    """The demo file's shorthands, so that it never goes stale: "monthly" amounts for the last 3
    months (DRM), "mois": "auto" for the last month (quotient), "annee_des_revenus": "auto" for
    last year (impots)."""
    data = copy.deepcopy(data)
    if partner == "impots" and data.get("annee_des_revenus") == "auto":
        data["annee_des_revenus"] = datetime.date.today().year - 1
    if partner == "drm" and "monthly" in data:
        data = {"mois": [{"mois": month, **data["monthly"]} for month in _last_months(3)]}
    if partner == "quotient_familial" and data.get("mois") == "auto":
        data["mois"] = _last_months(1)[0]
    return data


class State:
    def __init__(self, data_file: Path):
        self.data_file = data_file
        self.lock = threading.Lock()
        self.released = threading.Event()  # what the hanging calls wait on
        self.reset()

    def release(self) -> None:
        with self.lock:
            released, self.released = self.released, threading.Event()
        released.set()

    def reset(self) -> None:
        raw = json.loads(self.data_file.read_text()) if self.data_file.exists() else {}
        with self.lock:
            self.people = {p: {nir: _expand(p, d) for nir, d in raw.get(p, {}).items()} for p in PARTNERS}
            self.behaviour = {p: dict(CALM) for p in PARTNERS}
        self.reset_calls()
        self.release()

    def reset_calls(self) -> None:
        with self.lock:
            self.calls = dict.fromkeys(PARTNERS, 0)
            self.paths: list[str] = []

    def next_answer(self, partner: str) -> str:
        """Count the call, wait as the partner's behaviour says, and tell what to answer: ok,
        fail or malformed."""
        with self.lock:
            self.calls[partner] += 1
            behaviour = self.behaviour[partner]
            latency = behaviour["latency_ms"] / 1000
            hang = 0.0
            if behaviour["hang_next"] > 0:
                behaviour["hang_next"] -= 1
                hang = behaviour["hang_ms"] / 1000
            released = self.released
            if behaviour["fail_next"] > 0:
                behaviour["fail_next"] -= 1
                answer = "fail"
            elif behaviour["malformed_next"] > 0:
                behaviour["malformed_next"] -= 1
                answer = "malformed"
            elif behaviour["error_rate"] and random.random() < behaviour["error_rate"]:  # noqa: S311 (not a secret)
                answer = "fail"
            else:
                answer = "ok"
        if hang:
            released.wait(hang)
        if latency:
            time.sleep(latency)
        return answer


def make_handler(state: State, tokens: dict[str, str]):
    class Handler(BaseHTTPRequestHandler):
        server_version = "PartnerSimulator/1"
        protocol_version = "HTTP/1.1"  # connections kept alive, as with a real partner
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait between them

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass  # nothing logged: the bodies carry NIRs, and the paths are counted below

        def _json(self, status: int, body) -> None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _body(self):
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return None
            if not 0 <= length <= MAX_BODY:
                return None
            try:
                return json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return None

        def do_GET(self):  # noqa: N802 (http.server's name)
            with state.lock:
                state.paths.append(self.path)
                if self.path == "/_control/calls":
                    return self._json(200, {"calls": dict(state.calls), "paths": list(state.paths)})
            self._json(404, {"erreur": "inconnu"})

        def do_POST(self):  # noqa: N802
            body = self._body()
            with state.lock:
                state.paths.append(self.path)
            if self.path.startswith("/_control/"):
                return self._control(self.path.removeprefix("/_control/"), body)
            partner = PATHS.get(self.path)
            if partner is None:
                return self._json(404, {"erreur": "inconnu"})
            answer = state.next_answer(partner)
            if self.headers.get("Authorization") != f"Bearer {tokens[partner]}":
                return self._json(401, {"erreur": "jeton"})
            if answer == "fail":
                return self._json(500, {"erreur": "interne"})
            if answer == "malformed":
                return self._json(200, b'{"revenu_fiscal_de_reference": "beaucoup", "mois": [')
            nir = body.get("nir") if isinstance(body, dict) else None
            with state.lock:
                data = state.people[partner].get(nir) if isinstance(nir, str) else None
            if data is None:
                return self._json(404, {"erreur": "personne inconnue"})
            self._json(200, data)

        def _control(self, what: str, body) -> None:
            if not isinstance(body, dict):
                return self._json(400, {"erreur": "corps JSON attendu"})
            if what == "reset":
                state.reset()
                return self._json(200, {"ok": True})
            if what == "reset_calls":
                state.reset_calls()
                return self._json(200, {"ok": True})
            if what == "release":
                state.release()
                return self._json(200, {"ok": True})
            partner = body.get("partner")
            if partner not in PARTNERS:
                return self._json(400, {"erreur": f"partner: un de {', '.join(PARTNERS)}"})
            if what in ("data", "people", "person"):
                nir = body.get("nir")
                if not isinstance(nir, str):
                    return self._json(400, {"erreur": "nir"})
                if body.get("data") is not None and not isinstance(body["data"], dict):
                    return self._json(400, {"erreur": "data: un objet JSON ou null"})
                with state.lock:
                    if body.get("data") is None:
                        state.people[partner].pop(nir, None)
                    else:
                        state.people[partner][nir] = _expand(partner, body["data"])
                return self._json(200, {"ok": True})
            keys = CONTROLS.get(what)
            if keys is None:
                return self._json(404, {"erreur": "commande inconnue"})
            changes = {}
            for given, key in keys.items():
                if given not in body:
                    continue
                value = body[given]
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    return self._json(400, {"erreur": given})
                if key == "error_rate" and value > 1:
                    return self._json(400, {"erreur": given})
                changes[key] = float(value) if key == "error_rate" else int(value)
            with state.lock:
                state.behaviour[partner].update(changes)
                now = dict(state.behaviour[partner])
            self._json(200, {"ok": True, "behaviour": now})

    return Handler


def serve(host: str, port: int, data_file: Path = DEMO_DATA, tokens: dict | None = None) -> ThreadingHTTPServer:
    state = State(data_file)
    server = ThreadingHTTPServer((host, port), make_handler(state, tokens or {p: f"demo-{p}" for p in PARTNERS}))
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--data", type=Path, default=DEMO_DATA)
    args = parser.parse_args()
    server = serve(args.host, args.port, args.data)
    print(f"partner simulator on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
