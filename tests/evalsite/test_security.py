"""Production security from the environment (HTTPS, HSTS, proxy, cookies) and throttled logins."""

import json
import subprocess
import sys

from django.test import RequestFactory

from evalsite.security import client_ip
from tests.support.paths import ROOT
from tests.support.services import embedded_env

PRODUCTION = {
    "HTTPS": "1",
    "PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECRET_KEY": "k" * 10 + "a-long-random-production-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "listen.example.org,testserver",
}


def deploy_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_the_production_variables(tmp_path):
    result = deploy_check(embedded_env(tmp_path) | PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_embedded_default_is_plain_http_and_the_deploy_check_says_so(tmp_path):
    result = deploy_check(embedded_env(tmp_path))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, result.stderr  # HSTS, redirect, both cookies


HTTPS_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.contrib.auth import get_user_model
from django.test import Client
call_command("migrate", verbosity=0)
get_user_model().objects.create_user("lab", password="a-long-passphrase", is_staff=True)
c = Client()
plain = c.get("/no-such-page")
behind_proxy = c.get("/healthz", headers={"X-Forwarded-Proto": "https"})
probe = c.get("/healthz")  # before logging in: a staff session would see the full answer
login = c.post(
    "/admin/login/?next=/admin/", {"username": "lab", "password": "a-long-passphrase"},
    secure=True,
)
session, csrf = c.cookies["sessionid"], c.cookies["csrftoken"]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "proxy": [behind_proxy.status_code, behind_proxy.get("Strict-Transport-Security")],
    "healthz": probe.status_code,
    "login": login.status_code,
    "session": [bool(session["secure"]), bool(session["httponly"])],
    "csrf_secure": bool(csrf["secure"]),
    "listener_cookie_secure": settings.LISTENER_COOKIE_SECURE,
}))
"""


def https_probe(env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", HTTPS_PROBE],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_https_redirects_trusts_the_proxy_and_sends_cookies_only_over_https(tmp_path):
    seen = https_probe(embedded_env(tmp_path) | PRODUCTION)
    assert seen["plain"] == [301, "https://testserver/no-such-page"]
    assert seen["proxy"] == [200, "max-age=31536000; includeSubDomains; preload"]
    assert seen["healthz"] == 200  # probes over plain HTTP are not redirected
    assert seen["login"] == 302
    assert seen["session"] == [True, True] and seen["csrf_secure"]
    assert seen["listener_cookie_secure"] is True


def test_embedded_default_stays_on_plain_http(tmp_path):
    env = embedded_env(tmp_path) | {"ALLOWED_HOSTS": "testserver"}
    seen = https_probe(env)
    assert seen["plain"] == [404, None] and seen["proxy"] == [200, None]
    assert seen["session"] == [False, True] and not seen["csrf_secure"]
    assert seen["listener_cookie_secure"] is False


# --- throttled admin logins (django-axes) -----------------------------------------------------


def admin_login(client, password: str, address: str = "192.0.2.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "lab", "password": password},
        REMOTE_ADDR=address,
    )


def make_scientist(django_user_model):
    return django_user_model.objects.create_user(
        "lab", password="the-right-passphrase", is_staff=True
    )


def test_failed_admin_logins_lock_that_account_from_that_address(client, db, django_user_model):
    make_scientist(django_user_model)
    for _ in range(4):
        refused = admin_login(client, "wrong")
        assert refused.status_code == 200 and "Please enter the correct username" in (
            refused.content.decode()
        )
    locked = admin_login(client, "wrong")  # the fifth failure
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # Now even the right password is refused from there, with the same clear page.
    locked = admin_login(client, "the-right-passphrase")
    page = " ".join(locked.content.decode().split())
    assert locked.status_code == 429 and "failed 5 times, so it is locked for 1:00:00" in page
    assert client.get("/admin/").status_code == 302  # not logged in
    # The scientist, elsewhere, is not locked out by someone guessing from that address.
    assert admin_login(client, "the-right-passphrase", address="198.51.100.7").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_successful_login_works_and_forgets_earlier_failures(client, db, django_user_model):
    make_scientist(django_user_model)
    for _ in range(4):
        assert admin_login(client, "wrong").status_code == 200
    ok = admin_login(client, "the-right-passphrase")
    assert ok.status_code == 302 and ok.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.logout()
    for _ in range(4):  # the count started again
        assert admin_login(client, "wrong").status_code == 200
    assert admin_login(client, "the-right-passphrase").status_code == 302


def test_client_address_behind_proxies_is_read_from_the_right(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    settings.PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"  # no proxy: the header is the client's own words
    settings.PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # what our proxy saw, not what the client wrote
    settings.PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.1"  # fewer hops than proxies: not trusted
