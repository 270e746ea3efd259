"""The client's address, taken only from hops we trust.

X-Forwarded-For is written by every hop, including the client itself, so only the part
added by our own proxies can be believed: walking from the right, the first address that
is not one of the configured trusted proxies is the client. Without trusted proxies the
peer address is the client and the header is ignored. The address is used for rate
limits and, hashed, for visitor ids; it is never stored.
"""

from __future__ import annotations

import ipaddress

from flask import current_app, request


def resolve_client_ip(remote_addr: str | None, forwarded_for: str | None, trusted) -> str:
    chain = [part.strip() for part in (forwarded_for or "").split(",") if part.strip()]
    hops = [*chain, remote_addr or ""]
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return hop or "unknown"  # a garbled hop: trust stops here
        if not any(address in network for network in trusted):
            return hop
    return hops[0] or "unknown"


def client_ip() -> str:
    return resolve_client_ip(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        current_app.config["TRUSTED_PROXIES"],
    )
