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


def compose_config(tmp_path: Path, *overrides: str) -> dict:
    """`docker compose config` of the repository's compose file (and `overrides`, e.g. the cluster
    variant) with secrets made for it, as JSON."""
    files = ["docker-compose.yml", *overrides]
    for name in files:
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "deploy").mkdir()
    for name in ("nats.conf", "nats-cluster.conf"):
        shutil.copy(ROOT / "deploy" / name, tmp_path / "deploy" / name)
    deploy_secrets.write(tmp_path / "deploy" / "secrets", tmp_path / "deploy" / "nats-auth.conf", ["101"])
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose"]
    else:
        command = [str(ensure_package("docker-compose", "docker-compose"))]
    arguments = [argument for name in files for argument in ("-f", str(tmp_path / name))]
    result = subprocess.run([*command, *arguments, "config"], capture_output=True, text=True, cwd=tmp_path)
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


def volume_source(volume: str | dict) -> str:
    """A volume's source, from compose's long (v2) or short (v1: `source:target:mode`) form."""
    source = volume["source"] if isinstance(volume, dict) else volume.split(":", 1)[0]
    return source.rsplit("_", 1)[-1] if source.count("_") else source  # less a project prefix


def volume_target(volume: str | dict) -> str:
    return volume["target"] if isinstance(volume, dict) else volume.split(":")[1]


def test_the_cluster_variant_runs_three_nats_nodes_and_gives_the_services_every_node(tmp_path: Path) -> None:
    config = compose_config(tmp_path, "docker-compose.cluster.yml")
    services = config["services"]
    nodes = ("nats", "nats-2", "nats-3")
    names = {services[node]["environment"]["NATS_SERVER_NAME"] for node in nodes}
    assert names == {"nats-1", "nats-2", "nats-3"}
    stores = {volume_source(v) for node in nodes for v in services[node]["volumes"] if volume_target(v) == "/data"}
    assert stores == {"nats-data", "nats-2-data", "nats-3-data"}  # a store of its own each
    for node in nodes:
        configs = [volume_source(v) for v in services[node]["volumes"] if volume_target(v) == "/etc/nats/nats.conf"]
        assert len(configs) == 1 and configs[0].endswith("nats-cluster.conf"), (node, configs)
    cluster_conf = (ROOT / "deploy" / "nats-cluster.conf").read_text()
    assert all(f"nats-route://{node}:6222" in cluster_conf for node in nodes)
    assert 'include "nats-auth.conf"' in cluster_conf  # the same users and rights as one server
    servers = "nats://nats:4222,nats://nats-2:4222,nats://nats-3:4222"
    for name in ("streams", "registration", "projections", "alerts"):
        assert services[name]["environment"]["NATS_SERVERS"] == servers, name
    assert services["streams"]["environment"]["CASETRACK_STREAM_REPLICAS"] == "3"
    assert int(services["streams"]["environment"]["CASETRACK_EVENT_PARTITIONS"]) >= 2
    assert set(services["streams"]["depends_on"]) >= set(nodes)
    # Still the secrets as files only.
    assert services["projections"]["environment"]["PROJECTIONS_NATS_URL_FILE"] == "/run/secrets/projections_nats_url"


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


def test_the_cluster_nats_config_is_valid_for_nats_server(tmp_path: Path) -> None:
    """deploy/nats-cluster.conf as nats-server reads it (`-t`: check the configuration and exit), with
    the example users beside it."""
    from casetrack.embedded import find_nats_server

    shutil.copy(ROOT / "deploy" / "nats-cluster.conf", tmp_path / "nats.conf")
    shutil.copy(ROOT / "deploy" / "nats-auth.example.conf", tmp_path / "nats-auth.conf")
    result = subprocess.run(
        [find_nats_server(), "-c", "nats.conf", "-t"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"NATS_SERVER_NAME": "nats-2"},
    )
    assert result.returncode == 0 and "is valid" in result.stdout + result.stderr, result.stdout + result.stderr
