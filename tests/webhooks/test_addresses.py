"""IPv6 addresses that carry an IPv4 one (NAT64, 6to4, Teredo, IPv4-compatible, -translated and
-mapped) are judged by the IPv4 they reach, at registration (the API and the admin) and at
every connection (a real socket, in a network namespace whose loopback has the address)."""

import ipaddress
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hireops.webhooks.addresses import RefusedAddress, carried_ipv4, check_url, is_public
from hireops.webhooks.models import WebhookEndpoint
from tests.api.keys import bearer, make_key

ROOT = Path(__file__).resolve().parents[2]

# Teredo's client address is stored XOR 0xffffffff: 127.0.0.1 is 80ff:fffe.
TEREDO_CLIENT_LOOPBACK = "2001:0:5db8:d70e::80ff:fffe"

# (spelling, what it reaches): each refused wherever an address is judged.
REFUSED = [
    # NAT64's well-known prefix (RFC 6052) in every spelling a resolver or a partner may use
    ("64:ff9b::7f00:1", "loopback"),
    ("64:FF9B::7F00:1", "loopback, upper case"),
    ("64:ff9b::127.0.0.1", "loopback, dotted-quad tail"),
    ("64:FF9B::127.0.0.1", "loopback, upper case and dotted-quad tail"),
    ("64:ff9b:0:0:0:0:7f00:1", "loopback, zeros written out"),
    ("0064:ff9b:0000:0000:0000:0000:7f00:0001", "loopback, every digit"),
    ("64:ff9b::7f00:1%lo", "loopback, with a zone"),
    ("64:ff9b::7f00:1%1", "loopback, with a numeric zone"),
    ("64:ff9b::a9fe:a9fe", "169.254.169.254, a cloud's metadata service"),
    ("64:ff9b::10.0.0.1", "a private network"),
    ("64:ff9b::192.168.1.1", "a private network"),
    ("64:ff9b::100.64.0.1", "shared address space (CGNAT)"),
    ("64:ff9b::0.0.0.0", "the unspecified address"),
    ("64:ff9b::224.0.0.1", "multicast"),
    ("64:ff9b::255.255.255.255", "broadcast"),
    # NAT64 for a site's own use (RFC 8215): never global, whatever it carries
    ("64:ff9b:1::7f00:1", "local NAT64 to loopback"),
    ("64:ff9b:1::127.0.0.1", "local NAT64 to loopback, dotted-quad tail"),
    ("64:ff9b:1:ffff::5db8:d70e", "local NAT64 to a public IPv4"),
    # 6to4 (the IPv4 in bits 16-48): a tunnel, not a global address
    ("2002:7f00:1::", "6to4 to loopback"),
    ("2002:7F00:0001::1", "6to4 to loopback, upper case"),
    ("2002:a9fe:a9fe::1", "6to4 to the metadata service"),
    ("2002:c0a8:101::1", "6to4 to a private network"),
    ("2002:5db8:d70e::1", "6to4 to a public IPv4"),
    # Teredo: its server in bits 32-64, its client XOR 0xffffffff in the last 32 bits
    ("2001:0:7f00:1::", "Teredo server loopback"),
    ("2001:0:a9fe:a9fe:0:0:a2a7:28f1", "Teredo server the metadata service"),
    (TEREDO_CLIENT_LOOPBACK, "Teredo client loopback (obfuscated)"),
    ("2001::5db8:d70e:0:0:a2a7:28f1", "Teredo between public IPv4s"),
    # IPv4-compatible (deprecated) and IPv4-translated (RFC 2765)
    ("::7f00:1", "IPv4-compatible loopback"),
    ("::127.0.0.1", "IPv4-compatible loopback, dotted-quad tail"),
    ("::169.254.169.254", "IPv4-compatible metadata service"),
    ("::5db8:d70e", "IPv4-compatible public IPv4"),
    ("::ffff:0:7f00:1", "IPv4-translated loopback"),
    ("::FFFF:0:127.0.0.1", "IPv4-translated loopback, upper case and dotted-quad tail"),
    ("::ffff:0:5db8:d70e", "IPv4-translated public IPv4"),
    # IPv4-mapped: a dual-stack socket's name for an IPv4 peer
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::FFFF:7F00:1", "IPv4-mapped loopback, upper case"),
    ("0:0:0:0:0:ffff:7f00:1", "IPv4-mapped loopback, zeros written out"),
    ("::ffff:169.254.169.254", "IPv4-mapped metadata service"),
    ("::ffff:10.1.2.3", "IPv4-mapped private network"),
    # and IPv6's own
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1%eth0", "link-local with a zone"),
    ("fc00::1", "unique local"),
    ("fd00:ec2::254", "unique local (a cloud's metadata service over IPv6)"),
    ("fec0::1", "site-local (deprecated)"),
    ("ff02::1", "multicast"),
    ("100::1", "discard-only"),
    ("2001:db8::1", "documentation"),
]
# Public IPv4 hosts reached through NAT64's well-known prefix (globally reachable itself) or
# named by a dual-stack socket, and a plain global IPv6 address.
ALLOWED = [
    "64:ff9b::5db8:d70e",
    "64:FF9B::93.184.215.14",
    "64:ff9b::808:808",
    "::ffff:93.184.215.14",
    "2606:4700:4700::1111",
    "93.184.215.14",
]


def _url(spelling: str) -> str:
    """An https:// URL naming the address itself (a zone's % escaped as RFC 6874 says)."""
    host = spelling if ":" not in spelling else f"[{spelling.replace('%', '%25')}]"
    return f"https://{host}/hooks"


def _refused_for_its_address(message: str, spelling: str) -> bool:
    """The refusal of ``_url(spelling)`` names that address (as the resolver spelled it). A URL
    with a zone may instead not be a URL at all to Django's validator, or not resolve."""
    if "%" in spelling and ("Enter a valid URL." in message or "could not be resolved" in message):
        return True
    named, _, why = message.partition(" ")
    return why == "is not a public address." and ipaddress.ip_address(named) == ipaddress.ip_address(
        spelling.split("%")[0]
    )


@pytest.fixture
def no_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False


@pytest.fixture
def resolver(monkeypatch):
    """``resolver(address)``: partner.test resolves to that text, as a resolver answered it."""
    real = socket.getaddrinfo

    def answer(address: str) -> None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        found = [
            (family, socket.SOCK_STREAM, 6, "", (address, 443, 0, 0)[: 4 if family == socket.AF_INET6 else 2])
        ]
        monkeypatch.setattr(
            socket,
            "getaddrinfo",
            lambda host, *a, **k: found if host == "partner.test" else real(host, *a, **k),
        )

    return answer


def test_the_table_names_each_carried_ipv4_where_it_sits():
    """The spellings above carry what their comments say (a table that lied would prove nothing)."""
    v4 = ipaddress.IPv4Address
    assert carried_ipv4(ipaddress.IPv6Address("64:FF9B::127.0.0.1")) == [v4("127.0.0.1")]
    assert carried_ipv4(ipaddress.IPv6Address("64:ff9b:1:ffff::5db8:d70e")) == [v4("93.184.215.14")]
    assert carried_ipv4(ipaddress.IPv6Address("2002:a9fe:a9fe::1")) == [v4("169.254.169.254")]
    assert carried_ipv4(ipaddress.IPv6Address(TEREDO_CLIENT_LOOPBACK)) == [
        v4("93.184.215.14"),
        v4("127.0.0.1"),
    ]
    assert carried_ipv4(ipaddress.IPv6Address("2001:0:7f00:1::")) == [v4("127.0.0.1"), v4("255.255.255.255")]
    assert carried_ipv4(ipaddress.IPv6Address("::169.254.169.254")) == [v4("169.254.169.254")]
    assert carried_ipv4(ipaddress.IPv6Address("::ffff:0:5db8:d70e")) == [v4("93.184.215.14")]
    assert carried_ipv4(ipaddress.IPv6Address("2606:4700:4700::1111")) == []


@pytest.mark.parametrize(("spelling", "reaches"), REFUSED)
def test_an_address_carrying_a_private_ipv4_or_not_global_itself_is_not_public(spelling, reaches):
    assert not is_public(spelling), reaches


@pytest.mark.parametrize("spelling", ALLOWED)
def test_a_public_ipv4_through_nat64s_well_known_prefix_is_public(spelling):
    assert is_public(spelling)


# --- at registration ------------------------------------------------------------------------


@pytest.mark.parametrize(("spelling", "reaches"), REFUSED)
def test_a_url_naming_the_address_or_a_name_resolving_to_it_is_refused(
    spelling, reaches, no_private, resolver
):
    with pytest.raises(RefusedAddress) as refused:
        check_url(_url(spelling))
    assert _refused_for_its_address(str(refused.value), spelling), refused.value
    resolver(spelling)
    with pytest.raises(RefusedAddress, match="is not a public address"):
        check_url("https://partner.test/hooks")


@pytest.mark.parametrize("spelling", ALLOWED)
def test_a_url_naming_a_public_address_or_a_name_resolving_to_it_is_accepted(spelling, no_private, resolver):
    check_url(_url(spelling))
    resolver(spelling)
    check_url("https://partner.test/hooks")


@pytest.mark.django_db
def test_the_api_refuses_every_spelling_and_accepts_the_public_ones(client, no_private):
    key = make_key("webhooks:manage", "tenants:read")  # a read scope: an endpoint is never deaf

    def post(url):
        return client.post(
            "/api/v1/webhook-endpoints", {"url": url}, content_type="application/json", **bearer(key)
        )

    for spelling, reaches in REFUSED:
        answer = post(_url(spelling))
        assert answer.status_code == 422, (spelling, reaches, answer.content)
        (error,) = answer.json()["errors"]
        assert error["field"] == "url" and _refused_for_its_address(error["message"], spelling), error
    assert not WebhookEndpoint.objects.exists()
    for spelling in ALLOWED:
        assert post(_url(spelling)).status_code == 201, spelling
    assert WebhookEndpoint.objects.count() == len(ALLOWED)


@pytest.mark.django_db
def test_the_admin_form_refuses_every_spelling_and_accepts_the_public_ones(client, staff_user, no_private):
    client.force_login(
        staff_user(
            perms=("webhooks.add_webhookendpoint", "webhooks.view_webhookendpoint", "tenants.view_tenant"),
            username="integrator",
        )
    )

    def add(url):
        return client.post(
            "/admin/webhooks/webhookendpoint/add/",
            {"url": url, "description": "Case system"},
            HTTP_ACCEPT_LANGUAGE="en",
        )

    for spelling, reaches in REFUSED:
        page = add(_url(spelling))
        assert page.status_code == 200 and "secret" not in page.context, (spelling, reaches)
        (message,) = [m for messages in page.context["form"].errors.values() for m in messages]
        assert _refused_for_its_address(message, spelling), (spelling, reaches, message)
    assert not WebhookEndpoint.objects.exists()
    for spelling in ALLOWED:
        page = add(_url(spelling))
        assert page.status_code == 200 and page.context["secret"], spelling
    assert WebhookEndpoint.objects.count() == len(ALLOWED)


# --- at every connection --------------------------------------------------------------------

# (the listener's address, the resolver's answer at delivery time): each a real TCP connection
# that the transport must drop before it sends a byte.
CONNECTED_REFUSED = [
    ("64:ff9b::7f00:1", "64:ff9b::7f00:1"),
    ("64:ff9b::7f00:1", "64:FF9B::127.0.0.1"),
    ("64:ff9b::a9fe:a9fe", "64:ff9b::169.254.169.254"),
    ("64:ff9b:1::7f00:1", "64:ff9b:1::7f00:1"),
    ("64:ff9b:1::5db8:d70e", "64:ff9b:1::5db8:d70e"),
    ("2002:7f00:1::1", "2002:7F00:1::1"),
    ("2002:5db8:d70e::1", "2002:5db8:d70e::1"),
    (TEREDO_CLIENT_LOOPBACK, TEREDO_CLIENT_LOOPBACK),
    ("2001:0:7f00:1::", "2001:0:7f00:1::"),
    ("::7f00:1", "::127.0.0.1"),
    ("::ffff:0:7f00:1", "::ffff:0:127.0.0.1"),
    ("127.0.0.1", "::ffff:127.0.0.1"),
    ("::1", "::1"),
    ("fec0::1", "fec0::1"),
]
# What the transport lets through, over the same kind of connection.
CONNECTED_ALLOWED = [
    ("64:ff9b::5db8:d70e", "64:ff9b::93.184.215.14"),
    ("2606:4700:4700::1111", "2606:4700:4700::1111"),
]


def _connect_in_own_namespace(cases: list[tuple[str, str]]) -> list[dict]:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.webhooks.netns_connect",
            json.dumps([{"bind": b, "answer": a} for b, a in cases]),
        ],
        cwd=ROOT,
        env={**os.environ, "WEBHOOK_ALLOW_PRIVATE_URLS": "0", "WEBHOOK_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    if "skip" in out:
        pytest.skip(f"no network namespace of our own here ({out['skip']}): run as root")
    return out["results"]


@pytest.mark.processes
def test_at_every_connection_the_connected_address_is_judged_by_the_ipv4_it_carries():
    """A name that resolved to a public address when its endpoint was saved resolves at delivery
    to an address carrying a private IPv4: the socket connects (a listener there accepts it),
    and the transport closes it before a byte of the request is sent. The public ones, on the
    same kind of connection, get the request and answer."""
    results = _connect_in_own_namespace(CONNECTED_REFUSED + CONNECTED_ALLOWED)

    refused, allowed = results[: len(CONNECTED_REFUSED)], results[len(CONNECTED_REFUSED) :]
    for r in refused:
        assert r["connected"] and r["received"] == "", r  # connected, then nothing sent
        assert r["status"] is None and r["error"].startswith("not sent: "), r
        assert _refused_for_its_address(r["error"].removeprefix("not sent: "), r["answer"]), r
    for r in allowed:
        assert r["connected"] and r["received"].startswith("POST /hooks HTTP/1.1"), r
        assert r["status"] == 204 and r["error"] == "", r
