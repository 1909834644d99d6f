"""docker/ cannot run on these machines; these tests keep it consistent with what CI runs."""

import re
import shlex
import tomllib

import yaml

from evalsite.launcher import parse_args
from tests.support.paths import ROOT

DOCKER = ROOT / "docker"


def launcher_argv(command: list[str]) -> list[str]:
    assert command[:3] == ["python", "-m", "evalsite.launcher"], command
    return command[3:]


def dockerfile_cmd(name: str) -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", (DOCKER / name).read_text(), re.MULTILINE)
    assert match, f"{name} has no exec-form CMD"
    return yaml.safe_load(match.group(1))


def test_every_container_starts_through_the_launcher_with_valid_arguments():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    commands = {
        "web": dockerfile_cmd("Dockerfile"),
        "worker image": dockerfile_cmd("Dockerfile.worker"),
        "worker-synth": compose["worker-synth"]["command"],
        "worker-cpu": compose["worker-cpu"]["command"],
    }
    args = {name: parse_args(launcher_argv(cmd)) for name, cmd in commands.items()}
    assert args["web"].mode == "web"
    assert (args["worker-synth"].queues, args["worker-synth"].pool) == ("synth", "solo")
    assert args["worker-synth"].concurrency == 1
    assert args["worker-cpu"].queues == "cpu"
    assert commands["worker image"] == commands["worker-synth"]


def test_the_synth_worker_reserves_a_gpu_and_all_services_share_one_configuration():
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    devices = services["worker-synth"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"] and devices[0]["count"] == 1
    envs = [services[name]["environment"] for name in ("web", "worker-synth", "worker-cpu")]
    assert envs[0] == envs[1] == envs[2]
    assert envs[0]["DATABASE_URL"].startswith("postgres://")
    assert envs[0]["CELERY_BROKER_URL"].startswith("redis://")
    assert {"postgres", "redis"} <= set(services)


def test_images_copy_every_package_the_project_installs():
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {p.rstrip("*") for p in include["packages"]["find"]["include"]}
    for name in ("Dockerfile", "Dockerfile.worker"):
        text = (DOCKER / name).read_text()
        copied = {shlex.split(line)[1] for line in text.splitlines() if line.startswith("COPY ")}
        assert packages | {"templates", "static", "manage.py"} <= copied, name
    assert "torch==2.13.0" in (ROOT / "pyproject.toml").read_text()
    assert "'.[worker,metrics]'" in (DOCKER / "Dockerfile.worker").read_text()
