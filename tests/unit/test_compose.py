"""docker-compose.yml, the Dockerfile and the monitoring files, checked structurally (no Docker)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.main import build_parser
from streamrec.settings import ENV_NAMES

ROOT = Path(__file__).resolve().parents[2]
CORE_SERVICES = ("kafka", "redis", "worker", "prometheus", "grafana")
METRIC_NAME = re.compile(r"\b(streamrec_[a-z_]+)")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed compose file."""
    loaded = _load(ROOT / "docker-compose.yml")
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Services by name."""
    return dict(compose["services"])


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(entry.split("=", 1) for entry in env)
    return {str(key): str(value) for key, value in env.items()}


def test_core_services_have_an_image_a_healthcheck_and_a_volume(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in CORE_SERVICES:
        service = services[name]
        assert "image" in service or "build" in service, name
        assert service["healthcheck"]["test"], name
        assert not service["healthcheck"].get("disable", False), name
        assert service.get("volumes"), name


def test_kafka_is_a_pinned_apache_kafka_in_kraft_mode_with_a_topic_healthcheck(
    services: dict[str, dict[str, Any]], compose: dict[str, Any]
) -> None:
    kafka = services["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag)
    env = _environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "kafka-topics.sh" in " ".join(kafka["healthcheck"]["test"])
    volume, _, target = kafka["volumes"][0].partition(":")
    assert target == env["KAFKA_LOG_DIRS"] and volume in compose["volumes"]


def test_redis_is_checked_with_redis_cli_ping(services: dict[str, dict[str, Any]]) -> None:
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_workers_can_be_scaled(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker
    assert worker["command"] == ["worker"]
    for port in worker.get("ports", []):
        assert str(port).rpartition(":")[0] in ("", "127.0.0.1:"), f"fixed host port {port}"
    anonymous = [v for v in worker["volumes"] if isinstance(v, dict) and "source" not in v]
    assert [volume["target"] for volume in anonymous] == ["/data"]


def test_workers_wait_for_healthy_kafka_and_redis(services: dict[str, dict[str, Any]]) -> None:
    depends = services["worker"]["depends_on"]
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


def test_workers_run_with_auth_on_the_compose_broker_and_a_required_secret(
    services: dict[str, dict[str, Any]],
) -> None:
    env = _environment(services["worker"])
    assert env["STREAMREC_BROKER"] == "kafka://kafka:9092"
    assert env["STREAMREC_REDIS_URL"].startswith("redis://redis:6379")
    assert env["STREAMREC_AUTH"] == "on"
    assert re.fullmatch(r"\$\{STREAMREC_JWT_SECRET:\?[^}]+\}", env["STREAMREC_JWT_SECRET"])


def test_every_streamrec_variable_set_by_compose_is_a_known_setting(
    services: dict[str, dict[str, Any]],
) -> None:
    used = {
        key for s in services.values() for key in _environment(s) if key.startswith("STREAMREC")
    }
    assert used, "compose sets no STREAMREC_* variable"
    assert used <= set(ENV_NAMES), sorted(used - set(ENV_NAMES))


def test_mounted_config_files_exist(services: dict[str, dict[str, Any]]) -> None:
    for service in services.values():
        for volume in service.get("volumes", []):
            if isinstance(volume, str) and volume.startswith("./"):
                assert (ROOT / volume.split(":")[0]).exists(), volume


def test_prometheus_discovers_every_worker_on_the_api_port(
    services: dict[str, dict[str, Any]],
) -> None:
    config = _load(ROOT / "deploy" / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    worker_job = jobs["streamrec-worker"]
    assert worker_job.get("metrics_path", "/metrics") == "/metrics"
    (discovery,) = worker_job["dns_sd_configs"]
    assert discovery["names"] == ["worker"] and discovery["type"] == "A"
    assert str(discovery["port"]) == _environment(services["worker"])["STREAMREC_API_PORT"]


def test_grafana_is_provisioned_with_prometheus_and_the_streamrec_dashboard() -> None:
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    datasource = _load(provisioning / "datasources" / "prometheus.yml")["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    provider = _load(provisioning / "dashboards" / "streamrec.yml")["providers"][0]
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
    dashboard = json.loads(
        (ROOT / "deploy" / "grafana" / "dashboards" / "streamrec.json").read_text()
    )
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    metrics = set(METRIC_NAME.findall(exprs))
    assert {
        "streamrec_http_request_seconds_count",
        "streamrec_http_request_seconds_bucket",
        "streamrec_events_processed_total",
        "streamrec_dead_letters_total",
        "streamrec_consumer_lag",
    } <= metrics
    assert all(
        t["datasource"]["uid"] == datasource["uid"]
        for p in dashboard["panels"]
        for t in p["targets"]
    )


def test_dockerfile_installs_the_project_as_a_non_root_streamrec_entrypoint() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["python:3.11-slim"] * 2
    assert re.search(r"^RUN pip install \.$", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["streamrec"]' in text
    assert text.rstrip().endswith('CMD ["worker"]')


def _streamrec_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: s for name, s in services.items() if str(s.get("image", "")).startswith("streamrec")
    }


def test_every_streamrec_command_in_compose_parses_with_the_cli(
    services: dict[str, dict[str, Any]],
) -> None:
    commands = {name: s["command"] for name, s in _streamrec_services(services).items()}
    assert set(commands) == {"worker", "lake-export", "trainer"}
    for name, command in commands.items():
        args = build_parser().parse_args(command)
        assert callable(args.func), name


def test_training_exports_the_lake_first_and_reads_it_from_the_same_volume(
    services: dict[str, dict[str, Any]],
) -> None:
    export, trainer = services["lake-export"], services["trainer"]
    assert export["command"] == ["lake", "export"] and trainer["command"] == ["train"]
    assert trainer["depends_on"]["lake-export"]["condition"] == "service_completed_successfully"
    data = {v.split(":")[0] for v in export["volumes"]} & {
        v.split(":")[0] for v in trainer["volumes"]
    }
    assert data == {"trainer-data"}
    assert _environment(trainer)["STREAMREC_DATA_DIR"] == "/data"
    assert "registry:/registry" in trainer["volumes"]
