"""Behind a reverse proxy, rate limits count real client IPs (TRUSTED_PROXIES), never a spoofed one."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from config.clientip import client_ip

from .factories import InvitationFactory, ProgramFactory


def request(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.7", None, "203.0.113.7"),  # no proxy
        ("203.0.113.7", "1.2.3.4", "203.0.113.7"),  # an untrusted peer's header is ignored
        ("10.0.0.2", "198.51.100.9", "198.51.100.9"),  # through the proxy
        ("10.0.0.2", "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # the client's own claim on the left is not believed
        ("10.0.0.2", "198.51.100.9, 10.0.0.3", "198.51.100.9"),  # two trusted hops
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),  # garbage: count the proxy, never crash
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_behind_trusted_proxies(settings, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request(remote, forwarded)) == expected


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request("10.0.0.2", "198.51.100.9")) == "10.0.0.2"


def test_two_customers_behind_the_proxy_have_their_own_rate_limit(client, db, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.ANSWER_RATE_PER_IP = "2/m"
    program = ProgramFactory()
    invitations = [InvitationFactory(program=program) for _ in range(4)]

    def answer(invitation, ip):
        url = reverse("surveys:answer", args=[invitation.token])
        return client.post(url, {"score": 9}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=ip).status_code

    assert [answer(invitations[0], "198.51.100.1"), answer(invitations[1], "198.51.100.1")] == [302, 302]
    assert answer(invitations[2], "198.51.100.1") == 429  # this customer is over the limit …
    assert answer(invitations[3], "198.51.100.2") == 302  # … the next one behind the same proxy is not


def test_a_malformed_trusted_proxies_variable_fails_at_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config import env

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        env.networks("TRUSTED_PROXIES")
