"""Production settings: secrets come from the environment and `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-like-secret-key-with-enough-entropy-9f8e7d6c5b4a",
    "ALLOWED_HOSTS": "portal.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "STORE_CREDENTIAL_KEYS": "dGhpcy1pcy1hLXRlc3Qta2V5LW9mLTMyLWJ5dGVzLi4=",
}


def _manage(*args, extra_env: dict, tmp_path) -> subprocess.CompletedProcess:
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update({"VAR_DIR": str(tmp_path), "TESTING": "", **extra_env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_without_secret_key_or_hosts_refuses_to_start(tmp_path):
    result = _manage("check", extra_env={"DEBUG": "false"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY and ALLOWED_HOSTS must be set" in result.stderr


def test_production_without_store_credential_keys_refuses_to_start(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "STORE_CREDENTIAL_KEYS"}
    result = _manage("check", extra_env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "STORE_CREDENTIAL_KEYS must be set" in result.stderr


def test_check_deploy_is_clean_with_production_values(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", extra_env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "WARNINGS" not in result.stderr
    assert "System check identified no issues" in result.stdout


def test_ssl_redirect_can_be_left_to_the_proxy(tmp_path):
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)"
    env = {**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "false", "SECURE_PROXY_SSL_HEADER": "true"}
    result = _manage("shell", "--no-imports", "-c", code, extra_env=env, tmp_path=tmp_path)
    assert result.stdout.strip() == "False ('HTTP_X_FORWARDED_PROTO', 'https')", result.stderr


def test_development_defaults_need_nothing():
    assert settings.BASE_DIR
    assert settings.LANGUAGE_CODE == "en"
    assert "zh-hans" in dict(settings.LANGUAGES)


def test_production_with_the_sandbox_on_refuses_to_start(tmp_path):
    result = _manage("check", extra_env={**PRODUCTION_ENV, "SANDBOX_ENABLED": "true"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SANDBOX_ENABLED is on while DEBUG is off" in result.stderr


def test_uploaded_files_are_not_served_from_media_even_in_development(settings):
    import importlib

    from django.urls import Resolver404, clear_url_caches, resolve

    import distribution.urls

    settings.DEBUG = True
    try:
        importlib.reload(distribution.urls)
        clear_url_caches()
        try:
            match = resolve(f"{settings.MEDIA_URL}orders/imports/1/abc-orders.csv")
        except Resolver404:
            match = None
        assert match is None or match.url_name != "serve"
    finally:
        settings.DEBUG = False
        importlib.reload(distribution.urls)
        clear_url_caches()
