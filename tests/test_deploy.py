"""The production shape (docker-compose.yml, deploy/): secrets are files, made by
`python -m casetrack.deploy_secrets`, that the services read through `*_FILE` variables; the compose
file is valid, nats has a health check the services wait for, and no secret is in an environment."""

import json
import shutil
import stat
import subprocess
from pathlib import Path

import bcrypt
import httpx
import pytest
import yaml

from casetrack import deploy_secrets
from runtime.settings import ConfigError, Settings, secret
from services.dashboard import config as dashboard_config
from services.registration.identity import Pseudonyms
from tests.debian_packages import ensure_package
from tests.support import SecuredNats, System

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def compose_secrets() -> dict[str, str]:
    """The compose file's secrets: name -> file."""
    return {name: spec["file"] for name, spec in yaml.safe_load(COMPOSE.read_text())["secrets"].items()}


def test_deploy_secrets_writes_every_secret_the_compose_file_names_once(tmp_path: Path) -> None:
    secrets_dir, nats_config = tmp_path / "deploy" / "secrets", tmp_path / "deploy" / "nats-auth.conf"
    deploy_secrets.write(secrets_dir, nats_config, ["101", "147"])
    for name, file in compose_secrets().items():
        assert file == f"./deploy/secrets/{name}"
        assert (secrets_dir / name).read_text().strip(), name
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    password = (secrets_dir / "postgres_password").read_text()
    assert f":{password}@postgres:5432/" in (secrets_dir / "database_url").read_text()
    tokens = json.loads((secrets_dir / "tokens").read_text())
    assert sorted(t.get("municipality", "-") for t in tokens.values()) == ["-", "101", "147"]
    # The NATS URLs' passwords are the ones nats-server gets as hashes.
    relay_url = httpx.URL((secrets_dir / "relay_nats_url").read_text())
    auth = json.loads(nats_config.read_text().split("authorization ", 1)[1])
    relay = next(u for u in auth["users"] if u["user"] == "relay")
    assert bcrypt.checkpw(relay_url.password.encode(), relay["password"].encode())
    assert "client-147" in (secrets_dir / "nats_clients").read_text()

    before = {p.name: p.read_text() for p in secrets_dir.iterdir()}
    assert deploy_secrets.write(secrets_dir, nats_config, ["101", "147"]) == []  # kept as they are
    assert {p.name: p.read_text() for p in secrets_dir.iterdir()} == before


def test_settings_read_secrets_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "DATABASE_URL": "postgresql://casetrack:pw@db:5432/casetrack",
        "PROJECTIONS_NATS_URL": "nats://projections:pw@nats:4222",
        "CASETRACK_TOKENS": '{"t": {"name": "x", "municipality": "101", "role": "client"}}',
        "CASETRACK_SIGNING_KEY": "k" * 40,
        "CASETRACK_PSEUDONYM_KEY": "pseudonym",
        "CASETRACK_USERS": '{"leder": {"password_hash": "scrypt$x", "role": "manager", "municipality": "101"}}',
    }
    for name, value in files.items():
        (path := tmp_path / name.lower()).write_text(value + "\n")  # as an editor leaves it
        monkeypatch.setenv(f"{name}_FILE", str(path))
        monkeypatch.setenv(name, "from-the-environment")  # the file wins
    monkeypatch.setenv("NATS_URL", "nats://nats:4222")
    settings = Settings.from_env("projections", 8002)
    assert (settings.database_url, settings.nats_url) == (files["DATABASE_URL"], files["PROJECTIONS_NATS_URL"])
    assert settings.tokens() == json.loads(files["CASETRACK_TOKENS"])
    assert settings.signing_key == files["CASETRACK_SIGNING_KEY"].encode()
    assert Pseudonyms.from_env().citizen_id("101", "0101011234") == Pseudonyms("pseudonym").citizen_id(
        "101", "0101011234"
    )
    loaded = dashboard_config.load()
    assert loaded.settings.signing_key == files["CASETRACK_SIGNING_KEY"].encode()
    assert len(loaded.users) == 1  # the user table came from the file
    assert secret("CASETRACK_USERS") == files["CASETRACK_USERS"]

    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="DATABASE_URL_FILE"):
        Settings.from_env("projections", 8002)


def compose_config(tmp_path: Path) -> dict:
    """`docker compose config` of the repository's compose file with secrets made for it, as JSON."""
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    (tmp_path / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "nats.conf", tmp_path / "deploy" / "nats.conf")
    deploy_secrets.write(tmp_path / "deploy" / "secrets", tmp_path / "deploy" / "nats-auth.conf", ["101"])
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose"]
    else:
        command = [str(ensure_package("docker-compose", "docker-compose"))]
    result = subprocess.run(
        [*command, "-f", str(tmp_path / "docker-compose.yml"), "config"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_compose_file_is_valid_waits_for_a_healthy_nats_and_holds_no_secret(tmp_path: Path) -> None:
    config = compose_config(tmp_path)
    services = config["services"]
    check = services["nats"]["healthcheck"]["test"]
    assert "http://127.0.0.1:8222/healthz" in check and "http_port: 8222" in (ROOT / "deploy" / "nats.conf").read_text()
    for name in ("streams", "registration", "projections", "alerts"):
        assert services[name]["depends_on"]["nats"]["condition"] == "service_healthy", name
    secret_values = [p.read_text().strip() for p in (tmp_path / "deploy" / "secrets").iterdir()]
    for name, service in services.items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            assert not any(s and s in str(value) for s in secret_values), f"{name}: {key} holds a secret"
            if key.endswith("_FILE"):
                mounted = value.removeprefix("/run/secrets/")
                assert mounted in [s if isinstance(s, str) else s["source"] for s in service["secrets"]], (name, key)
    assert set(config["secrets"]) == set(compose_secrets())


@pytest.mark.integration
def test_registration_runs_on_secrets_from_files_alone(
    database_url: str, nats_server: SecuredNats, tmp_path: Path
) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    from_files = {
        "DATABASE_URL": database_url,
        "REGISTRATION_NATS_URL": nats_server.url_for("registration"),
        "RELAY_NATS_URL": nats_server.url_for("relay"),
        "SUBMISSIONS_NATS_URL": nats_server.url_for("submissions"),
        "CASETRACK_TOKENS": json.dumps(
            {"file-token": {"name": "fagsystem-101", "municipality": "101", "role": "client"}}
        ),
        "CASETRACK_PSEUDONYM_KEY": "pseudonym-key-from-a-file",
    }
    env: dict[str, str] = {}
    for name, value in from_files.items():
        (path := secrets_dir / name.lower()).write_text(value)
        env |= {name: "", f"{name}_FILE": str(path)}  # nothing in the variables themselves
    system = System(database_url="", nats_url=nats_server.anonymous_url, work_dir=tmp_path / "logs", extra_env=env)
    try:
        system.start("registration")
        with system.client("registration", "file-token") as client:
            fact = {
                "type": "CitizenRegistered",
                "municipality": "101",
                "cpr": "0101011234",
                "effective_date": "2026-03-01",
            }
            answer = client.post("/v1/facts", json=fact)
        assert answer.status_code == 201, answer.text
        assert answer.json()["citizen_id"] == Pseudonyms("pseudonym-key-from-a-file").citizen_id("101", "0101011234")
    finally:
        system.stop()
