"""API benchmark: an authenticated read of "my file" through the REST API, and a token refresh,
per server CPU-second, against the same read through the web page, in the same run (issue 11).

    .venv/bin/python bench/api.py             # about two minutes on 2 cores
    .venv/bin/python bench/api.py --help      # --concurrency, --rounds, --seconds, --workers

What it does:

1. drops and recreates the PostgreSQL database ``moncompte_bench_api`` (server from
   BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/), migrates it and creates
   ``--concurrency`` people with an account, a validated contact and a file with 2 benefits and 6
   payments (bench/populate.py), and one first-party public client of our OpenID provider (the
   mobile app);
2. starts one real gunicorn through the shared harness (tests/support/server.py), production mode,
   ``--workers`` sync workers, on that database and on Redis (BENCH_REDIS_URL);
3. signs each person in on the web (one HTTP session each), and through our provider as the app
   does (authorization code with PKCE S256 from that session, code exchanged at /o/token/) twice:
   one token family for the reads, one for the refreshes (none of this is measured);
4. runs ``--rounds`` rounds of three groups in rotating order, ``--concurrency`` client threads,
   one per person, each repeating its unit of work for ``--seconds``:
   - "web page": ``GET /mon-compte/`` with the session (the file's overview: the baseline);
   - "API my file": ``GET /api/v1/files/`` with the access token (the same file's data as JSON);
   - "token refresh": ``POST /o/token/`` with ``grant_type=refresh_token`` (the refresh token
     rotates: each thread goes on with the one it just got, as the app does);
   every answer is checked (200 and the person's file, or a new pair of tokens);
5. prints, per group, the requests per server CPU-second (gunicorn master and workers, user +
   system, psutil), the server CPU ms per request, PostgreSQL's and Redis's CPU ms per request,
   the clients' p50 / p99, and the ratio to the web page. The exit code is 0 whatever the figures,
   1 if the benchmark could not run or an answer was wrong.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the shared server harness lives in tests/support
    sys.path.insert(0, str(ROOT))

from bench.home_dashboard import (  # noqa: E402
    BenchError,
    Measure,
    Server,
    drive,
    environment,
    prepare,
    print_other_load,
    redis_url,
    signed_in,
    summary,
)
from bench.signin import code_revision  # noqa: E402
from tests.support import server as harness  # noqa: E402

DATABASE_NAME = "moncompte_bench_api"
CACHE_PREFIX = "bench-api"
CLIENT_ID = "moncompte-mobile-bench"
# The mobile app's own scheme (RFC 8252), as production allows it.
REDIRECT_URI = "fr.caf.moncompte:/oauth/callback"
HOME_MARKER = "Ce que vous pouvez faire"


# --- The data of this benchmark (run in a subprocess with the server's environment) ----------


def populate_main(argv: list[str]) -> None:
    count, output = int(argv[0]), argv[1]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from oauth2_provider.models import get_application_model

    from bench.populate import populate as populate_people

    people = populate_people(count)
    application = get_application_model()
    application.objects.create(
        name="Caf – Mon Compte (banc d'essai)",
        client_id=CLIENT_ID,
        client_type=application.CLIENT_PUBLIC,
        authorization_grant_type=application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        skip_authorization=True,
        algorithm=application.RS256_ALGORITHM,
        client_secret="",
    )
    Path(output).write_text(json.dumps(people), encoding="utf-8")


# --- The app's sign-in: authorization code with PKCE, from a signed-in web session ------------


def app_tokens(base_url: str, session: requests.Session) -> dict:
    """A new token family for the person of ``session``, obtained as the mobile app does."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile moncompte",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    answer = session.get(f"{base_url}/o/authorize/?{query}", allow_redirects=False, timeout=30)
    location = answer.headers.get("Location", "")
    if answer.status_code != 302 or not location.startswith(REDIRECT_URI):
        raise BenchError(f"GET /o/authorize/: {answer.status_code} {location[:80]}")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if params.get("state") != [state] or "code" not in params:
        raise BenchError("GET /o/authorize/: no code or a wrong state")
    tokens = requests.post(
        f"{base_url}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "code_verifier": verifier,
        },
        timeout=30,
    )
    if tokens.status_code != 200:
        raise BenchError(f"POST /o/token/ (code): {tokens.status_code} {tokens.text[:200]}")
    return tokens.json()


# --- The three units of work ------------------------------------------------------------------


def web_worker(base_url: str, session: requests.Session, person: dict):
    def work() -> float:
        started = time.perf_counter()
        answer = session.get(base_url + "/mon-compte/", allow_redirects=False, timeout=60)
        latency = time.perf_counter() - started
        if answer.status_code != 200 or HOME_MARKER not in answer.text or person["display_name"] not in answer.text:
            raise BenchError(f"GET /mon-compte/: {answer.status_code}")
        return latency

    return work


def api_read_worker(base_url: str, tokens: dict):
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    def work() -> float:
        started = time.perf_counter()
        answer = client.get(base_url + "/api/v1/files/", timeout=60)
        latency = time.perf_counter() - started
        if answer.status_code != 200:
            raise BenchError(f"GET /api/v1/files/: {answer.status_code} {answer.text[:200]}")
        body = answer.json()
        if not body.get("results") or "Allocations familiales" not in answer.text:
            raise BenchError("GET /api/v1/files/: the person's file is missing")
        return latency

    return work


def refresh_worker(base_url: str, tokens: dict):
    client = requests.Session()
    state = {"refresh_token": tokens["refresh_token"]}

    def work() -> float:
        started = time.perf_counter()
        answer = client.post(
            base_url + "/o/token/",
            data={"grant_type": "refresh_token", "refresh_token": state["refresh_token"], "client_id": CLIENT_ID},
            timeout=60,
        )
        latency = time.perf_counter() - started
        if answer.status_code != 200:
            raise BenchError(f"POST /o/token/ (refresh): {answer.status_code} {answer.text[:200]}")
        body = answer.json()
        if not body.get("access_token") or body.get("refresh_token") in (None, state["refresh_token"]):
            raise BenchError("POST /o/token/ (refresh): no new pair of tokens")
        state["refresh_token"] = body["refresh_token"]
        return latency

    return work


# --- Main -------------------------------------------------------------------------------------


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=20, help="people, one client thread each (20)")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each measured phase (8)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the three groups (5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    return parser.parse_args()


GROUPS = ("web page", "API my file", "token refresh")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "populate":
        populate_main(sys.argv[2:])
        return 0
    args = parse_arguments()
    started = time.monotonic()
    python = sys.version.split()[0]
    print(f"API benchmark, {datetime.date.today()}, {os.cpu_count()} cores, Python {python}, code {code_revision()}")
    with tempfile.TemporaryDirectory(prefix="moncompte-bench-api-") as tmp:
        workdir = Path(tmp)
        env = environment(workdir, DATABASE_NAME, CACHE_PREFIX)
        server = None
        try:
            print(f"Preparing {DATABASE_NAME}: {args.concurrency} people and the app's client ...")
            people = prepare(env, DATABASE_NAME, workdir, ["bench.api", "populate", str(args.concurrency)])
            server = Server(env, workdir, workers=args.workers, name="api")
            server.wait_ready()
            print(f"Signing {len(people)} people in, on the web and through the provider ...", flush=True)
            groups: dict[str, list] = {name: [] for name in GROUPS}
            for person in people:
                session = signed_in(server.url, person)
                groups["web page"].append(web_worker(server.url, session, person))
                groups["API my file"].append(api_read_worker(server.url, app_tokens(server.url, session)))
                groups["token refresh"].append(refresh_worker(server.url, app_tokens(server.url, session)))
            for works in groups.values():  # warm-up: first imports, templates, connections
                for work in works[: 4 * args.workers]:
                    work()
            results: dict[str, list[Measure]] = {name: [] for name in GROUPS}
            for number in range(args.rounds):
                print(f"Round {number + 1}/{args.rounds} ...", flush=True)
                order = GROUPS[number % 3 :] + GROUPS[: number % 3]
                for name in order:
                    results[name].append(drive(name, server, DATABASE_NAME, groups[name], args.seconds))
        except BenchError as error:
            print(f"\nBENCHMARK ERROR: {error}", file=sys.stderr)
            return 1
        finally:
            if server is not None:
                server.stop()
            harness.forget_cache(redis_url(), CACHE_PREFIX)
    summaries = {name: summary(measures) for name, measures in results.items()}
    print()
    print("Rounds: requests per server CPU-second")
    for name, measures in results.items():
        print(f"  {name:<16}" + "  ".join(f"{m.per_cpu_second:7.1f}" for m in measures))
    print_other_load(results)
    print()
    header = (
        f"{'':<16}{'req/CPU-s':>10}{'req/wall-s':>11}{'CPU ms/req':>11}{'PG+Redis ms':>12}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'/ web page':>11}"
    )
    print(header)
    print("-" * len(header))
    base = summaries["web page"]["per_cpu_second"]
    for name, row in summaries.items():
        print(
            f"{name:<16}{row['per_cpu_second']:>10.1f}{row['per_wall_second']:>11.1f}{row['server_cpu_ms']:>11.2f}"
            f"{row['shared_cpu_ms']:>12.2f}{row['p50_ms']:>8.0f}{row['p99_ms']:>8.0f}"
            f"{row['per_cpu_second'] / base:>11.2f}"
        )
    print(
        f"(medians of {args.rounds} rounds of {args.seconds:.0f} s; {args.concurrency} client threads, one person "
        f"each; gunicorn sync --workers {args.workers}; latencies over all rounds)"
    )
    print(f"\n(whole benchmark: {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
