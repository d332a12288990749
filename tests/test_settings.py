"""Configuration: production refuses bad settings, and passes Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x" * 20 + "production-secret-key-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "nps.example.com",
    "SITE_URL": "https://nps.example.com",
    "DATABASE_URL": "postgres://rebound@db.example.com:5432/rebound",
    "REDIS_URL": "redis://redis.example.com:6379/0",
    "EMAIL_URL": "smtp://mail.example.com:587",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("SITE_URL", "nps.example.com"),
    ],
)
def test_a_malformed_variable_fails_at_start_with_its_name(name, value):
    result = run_manage("check", env={"DJANGO_SETTINGS_MODULE": "config.settings.dev", name: value})
    assert result.returncode != 0
    assert f"Environment variable {name}=" in result.stderr


def test_email_url_schemes():
    from config import env

    os.environ["REBOUND_TEST_EMAIL"] = "anymail+postmark://?api_key=abc123"
    try:
        assert env.email("REBOUND_TEST_EMAIL", None) == {
            "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
            "ANYMAIL": {"POSTMARK_API_KEY": "abc123"},
        }
    finally:
        del os.environ["REBOUND_TEST_EMAIL"]
    assert env.email("UNSET_EMAIL_URL", "outbox://") == {"EMAIL_BACKEND": "outbox.backends.OutboxBackend"}
    smtp = env.email("UNSET_EMAIL_URL", "smtp+tls://user:pw@mail.example.com:587")
    assert smtp["EMAIL_HOST"] == "mail.example.com"
    assert smtp["EMAIL_PORT"] == 587
    assert smtp["EMAIL_USE_TLS"] is True


def test_health_check_answers_without_login_or_host_check(client, db):
    response = client.get("/healthz", headers={"host": "internal-container-name"})
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "failing": [],
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_health_check_names_what_fails(client, db, monkeypatch):
    from config import health

    def broken():
        raise ConnectionError("Connection refused")

    monkeypatch.setitem(health.CHECKS, "broker", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"] == "failing: ConnectionError: Connection refused"


def test_deploy_checks_warn_about_the_embedded_defaults():
    env = {**PRODUCTION_ENV, "DATABASE_URL": "sqlite:////tmp/rebound-deploy-check.sqlite3", "REDIS_URL": ""}
    result = run_manage("check", "--deploy", env=env)
    assert "rebound.W001" in result.stderr + result.stdout
    assert "rebound.W002" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", {"EMAIL_PORT": 25, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False}),
        ("smtp+tls://u:p@mail.example.com", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False}),
        ("smtps://u:p@mail.example.com", {"EMAIL_PORT": 465, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True}),
        ("smtps://mail.example.com:2465", {"EMAIL_PORT": 2465, "EMAIL_USE_SSL": True}),
        ("smtp://mail.example.com?timeout=7", {"EMAIL_TIMEOUT": 7}),
        ("smtp://mail.example.com", {"EMAIL_TIMEOUT": 30}),
        ("smtp://user%40x.com:p%2Fw@mail.example.com", {"EMAIL_HOST_USER": "user@x.com", "EMAIL_HOST_PASSWORD": "p/w"}),
    ],
)
def test_smtp_urls_say_how_tls_is_used_and_always_carry_a_timeout(url, expected, monkeypatch):
    from config import env

    monkeypatch.delenv("EMAIL_TIMEOUT", raising=False)
    config = env.email("UNSET_EMAIL_URL", url)
    assert {key: config[key] for key in expected} == expected


def test_email_timeout_comes_from_the_environment_and_bad_values_fail(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config import env

    monkeypatch.setenv("EMAIL_TIMEOUT", "12")
    assert env.email("UNSET_EMAIL_URL", "smtp://mail.example.com")["EMAIL_TIMEOUT"] == 12
    assert env.email("UNSET_EMAIL_URL", "smtp://mail.example.com?timeout=3")["EMAIL_TIMEOUT"] == 3
    for bad in ("smtp://mail.example.com?timeout=soon", "smtp://mail.example.com?timeout=0", "smtpx://h", "smtp://"):
        with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
            env.email("EMAIL_URL", bad)
