"""The client's address, taken only from hops we trust.

X-Forwarded-For is written by every hop, including the client itself, so only the part
added by our own proxies can be believed: walking from the right, the first address that
is not one of the configured trusted proxies is the client. Without trusted proxies the
peer address is the client and the header is ignored. The address is used for rate
limits and, hashed, for visitor ids; it is never stored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from flask import current_app, request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(hop: str) -> IPAddress | None:
    """An address from a hop, accepting the ``1.2.3.4:port`` and ``[v6]:port`` forms some
    proxies write; None for anything else."""
    hop = hop.strip()
    if hop.startswith("["):
        hop = hop[1:].partition("]")[0]
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        address = ipaddress.ip_address(hop)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the same client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def resolve_client_ip(
    remote_addr: str | None, forwarded_for: str | None, trusted: Iterable[IPNetwork]
) -> str:
    """Always a normalised address (one client, one string, whatever the port or the
    spelling), or "unknown": never text a client chose."""
    trusted = tuple(trusted)
    peer = _parse(remote_addr or "")
    if peer is None:
        return "unknown"
    if not trusted:
        return str(peer)
    chain = [part for part in (forwarded_for or "").split(",") if part.strip()]
    client = peer
    for hop in [*chain, remote_addr or ""][::-1]:
        address = _parse(hop)
        if address is None:
            break  # a garbled hop: trust stops here, at the last proxy that passed it on
        client = address
        if not any(address in network for network in trusted):
            break
    return str(client)


def client_ip() -> str:
    return resolve_client_ip(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        current_app.config["TRUSTED_PROXIES"],
    )
