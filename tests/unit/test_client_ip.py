"""The client IP is the rightmost address not in the trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest

from app.client_ip import resolve_client_ip


def nets(*cidrs: str) -> tuple:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


LB = nets("10.0.0.0/8")
TWO_HOPS = nets("10.0.0.0/8", "192.168.1.0/24")
V6 = nets("2001:db8:ffff::/48")


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "trusted", "expected"),
    [
        pytest.param("203.0.113.7", None, (), "203.0.113.7", id="no-proxy-no-header"),
        pytest.param("203.0.113.7", "1.1.1.1", (), "203.0.113.7", id="no-proxy-header-ignored"),
        pytest.param("10.0.0.2", "1.1.1.1", (), "10.0.0.2", id="untrusted-peer-header-ignored"),
        pytest.param("203.0.113.7", "1.1.1.1", LB, "203.0.113.7", id="peer-not-a-proxy"),
        pytest.param("10.0.0.2", "198.51.100.4", LB, "198.51.100.4", id="one-proxy"),
        pytest.param(
            "10.0.0.2", "6.6.6.6, 7.7.7.7, 198.51.100.4", LB, "198.51.100.4", id="spoofed-left"
        ),
        pytest.param(
            "10.0.0.2",
            "6.6.6.6, 198.51.100.4, 192.168.1.9, 10.0.0.3",
            TWO_HOPS,
            "198.51.100.4",
            id="several-hops",
        ),
        pytest.param(
            "10.0.0.2", "10.9.9.9, 10.0.0.3", LB, "10.9.9.9", id="all-trusted-leftmost-wins"
        ),
        pytest.param("10.0.0.2", "", LB, "10.0.0.2", id="proxy-sent-no-header"),
        pytest.param(
            "2001:db8:ffff::1", "2001:DB8:1::42", V6, "2001:db8:1::42", id="ipv6-normalised"
        ),
        pytest.param(
            "2001:db8:ffff::1", "[2001:db8:1::42]:51234", V6, "2001:db8:1::42", id="ipv6-port"
        ),
        pytest.param("10.0.0.2", "198.51.100.4:51234", LB, "198.51.100.4", id="ipv4-port-dropped"),
        pytest.param("::ffff:10.0.0.2", "198.51.100.4", LB, "198.51.100.4", id="ipv4-mapped-peer"),
        pytest.param(
            "10.0.0.2", "garbage, 198.51.100.4", LB, "198.51.100.4", id="garbage-left-ignored"
        ),
        pytest.param("10.0.0.2", "198.51.100.4, garbage", LB, "10.0.0.2", id="garbage-stops-trust"),
        pytest.param("10.0.0.2", "<script>, , ,", LB, "10.0.0.2", id="only-garbage"),
        pytest.param("10.0.0.2", "x" * 5000, LB, "10.0.0.2", id="huge-garbage"),
        pytest.param(None, "198.51.100.4", LB, "unknown", id="no-peer"),
        pytest.param("not-an-ip", None, (), "unknown", id="garbled-peer"),
    ],
)
def test_resolve_client_ip(remote_addr, forwarded_for, trusted, expected):
    assert resolve_client_ip(remote_addr, forwarded_for, trusted) == expected


@pytest.mark.parametrize("spoof", ["1.1.1.1", "10.0.0.9", "1.1.1.1, 10.0.0.9"])
def test_a_client_cannot_choose_its_address(spoof):
    # The proxy appends the real peer; whatever the client put in front is ignored.
    header = f"{spoof}, 198.51.100.4"
    assert resolve_client_ip("10.0.0.2", header, LB) == "198.51.100.4"
