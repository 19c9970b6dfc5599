"""The Python SITE SDK (lime-sites-sdk 2.0) as a peer: it creates a login
request, receives the passport on its own event stream (`@site.on_login`)
and verifies it with its own verifier, as its README's Scenario B does.

stdout (one JSON object per line):
  {"event": "created", "request_id": …}   → the test hands the id to an agent
  {"event": "verified", "claims": {…}}    ← the passport the stream delivered
  {"event": "refused", "case": …, "reason": …}  twice: wrong request id, forged claims
Usage: site_login.py [timeout_seconds]   env: LIME_API_BASE, LIME_SITE_TOKEN
"""

from __future__ import annotations

import asyncio
import sys

from peer import emit, run, tamper_payload, use_reference_sdks

use_reference_sdks()

import httpx  # noqa: E402
from lime_sites import InvalidPassportError, LimeSite  # noqa: E402

EVENTS_PATH = "/modules/agent-login/events"


async def main() -> None:
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    loop = asyncio.get_running_loop()

    # The hosted platform replays nothing (the SDK never sends Last-Event-ID),
    # so the stream must be open before an agent can approve. LimeSite has no
    # "connected" signal; its public `http_client=` hook tells us instead.
    stream_open = asyncio.Event()

    async def on_response(response: httpx.Response) -> None:
        if response.url.path.endswith(EVENTS_PATH) and response.status_code == 200:
            stream_open.set()

    http = httpx.AsyncClient(
        timeout=30.0,
        headers={"Accept": "application/json"},
        event_hooks={"response": [on_response]},
    )
    outcomes: dict[str, asyncio.Future[str | None]] = {}

    def outcome(request_id: str) -> asyncio.Future[str | None]:
        return outcomes.setdefault(request_id, loop.create_future())

    site = LimeSite(http_client=http)  # LIME_SITE_TOKEN, LIME_API_BASE

    @site.on_login
    async def handle_login(request_id: str, passport: str | None) -> None:
        future = outcome(request_id)
        if not future.done():
            future.set_result(passport)

    try:
        await asyncio.wait_for(stream_open.wait(), timeout)
        req = await site.create_login_request()
        emit("created", request_id=req.request_id, status=req.status, expires_at=req.expires_at)

        passport = await asyncio.wait_for(outcome(req.request_id), timeout)
        if passport is None:
            emit("expired", request_id=req.request_id)
            sys.exit(1)
        verified = await site.verify_passport(passport, expected_request_id=req.request_id)
        emit("verified", valid=verified.valid, claims=verified.claims)

        refusals = {
            "other-request": (passport, req.request_id + "-other"),
            "forged-claims": (tamper_payload(passport, user_id="someone-else"), req.request_id),
        }
        for case, (jwt, expected) in refusals.items():
            try:
                await site.verify_passport(jwt, expected_request_id=expected)
                emit("accepted", case=case)
            except InvalidPassportError as exc:
                emit("refused", case=case, reason=str(exc))
    finally:
        await site.aclose()
        await http.aclose()


if __name__ == "__main__":
    run(main)
