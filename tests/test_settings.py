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
    "DATABASE_URL": "sqlite:////tmp/rebound-deploy-check.sqlite3",
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
    assert response.content == b"ok"
