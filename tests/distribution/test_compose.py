"""docker-compose.yml cannot be started here (no Docker engine), so its wiring is checked:
each service's command names a real module, app, settings and management command."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]


def _command(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_compose_has_the_production_services():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in SERVICES[name], f"{name} has no healthcheck"


def test_exactly_one_beat():
    beats = [name for name in APP_SERVICES if "beat" in _command(name)]
    assert beats == ["beat"]
    assert SERVICES["beat"].get("deploy", {}).get("replicas") == 1


def test_app_services_wait_for_the_migrate_step():
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_web_command_names_the_wsgi_application():
    command = _command("web")
    assert command[0] == "gunicorn"
    module_name, attr = command[1].split(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attr))


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_commands_name_the_celery_app(service):
    command = _command(service)
    assert command[:3] == ["celery", "-A", "distribution"]
    assert command[3] == service
    from celery import Celery

    package = importlib.import_module(command[2])
    assert isinstance(package.celery_app, Celery)


def test_migrate_command_is_a_management_command():
    command = _command("migrate")
    assert command[:2] == ["python", "manage.py"]
    assert command[2] in get_commands()


def test_environment_names_are_read_by_settings():
    settings_source = (ROOT / "distribution" / "settings.py").read_text()
    env = SERVICES["web"]["environment"]
    for name in env:
        assert re.search(rf'"{name}"', settings_source), f"{name} is set in compose but not read by settings.py"
    assert env["DEBUG"] == "false"
    assert "DJANGO_SETTINGS_MODULE" not in env  # manage.py, wsgi.py and celery.py set it


def test_web_healthcheck_url_exists(client, db):
    healthcheck = " ".join(SERVICES["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/[^'\"]*)", healthcheck).group(1)
    assert path == reverse("healthz")
    assert client.get(path).json() == {"status": "ok"}


def test_dockerfile_uses_python_311_and_the_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile


def test_dockerfile_collectstatic_runs_with_production_settings(tmp_path):
    """The image build runs collectstatic with DEBUG off; the throwaway values must satisfy settings."""
    import os
    import subprocess
    import sys

    line = next(chunk for chunk in (ROOT / "Dockerfile").read_text().split("RUN ") if "collectstatic" in chunk).replace(
        "\\\n", " "
    )
    assignments = dict(word.split("=", 1) for word in line.split() if "=" in word and word[0].isupper())
    unset = {"DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "ALLOWED_HOSTS", "STORE_CREDENTIAL_KEYS"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update({**assignments, "VAR_DIR": str(tmp_path), "TESTING": ""})
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
