"""Settings: one typed, frozen object, read once at start-up.

``load_settings`` is the only code in firebrick that reads a configuration file or
the environment (with ``from_parent``, for the API workers ``serve --workers`` starts).
Everything else receives the ``Settings`` it needs.

The TOML file may hold any of these (all optional; defaults shown)::

    [server]
    host = "127.0.0.1"
    port = 8780
    public_url = ""            # defaults to http://host:port
    data_dir = "./data"

    [database]
    url = ""                   # defaults to sqlite in data_dir; postgresql+psycopg://...

    [node]
    name = ""                  # this node's name in hosts, services and jobs; defaults to the host name
    workers = 1                # API worker processes (or "auto": one per CPU); the agent is one more
    job_lease = 30             # seconds a job claim lasts unless its agent renews it

    [identity]
    token_ttl = 3600
    region = "RegionOne"

    [volume]
    availability_zone = "nova"
    service_down_time = 60
    heartbeat_interval = 10
    policy_file = ""           # an operator's policy.yaml, as for Cinder
    compute_url = ""           # the compute API; defaults to public_url/compute/v2.1
    extend_confirm_timeout = 120  # seconds an attached extend waits for the guest; 0: no waiting

    [compute]
    hypervisor = "qemu"        # or "fake": no guests, for tests
    accel = "auto"             # or "kvm", "tcg"; auto tries KVM with a boot timeout, then TCG
    volume_url = ""            # the block-storage API; defaults to public_url/volume/v3

    [quota]                    # Cinder's defaults
    volumes = 10
    snapshots = 10
    gigabytes = 1000
    per_volume_gigabytes = -1

    [[backends]]               # one entry per pool; the first is the default
    name = "file"
    pool = "pool"
    path = ""                  # defaults to data_dir/pools/<name>
    capacity_gb = 1000
    format = "raw"

Environment variables override the file: ``FIREBRICK_HOST``, ``FIREBRICK_PORT``,
``FIREBRICK_PUBLIC_URL``, ``FIREBRICK_DATA_DIR``, ``FIREBRICK_DATABASE_URL``,
``FIREBRICK_POLICY_FILE``, ``FIREBRICK_COMPUTE_URL``, ``FIREBRICK_VOLUME_URL``, ``FIREBRICK_HYPERVISOR``,
``FIREBRICK_ACCEL``, ``FIREBRICK_NODE_NAME``, ``FIREBRICK_WORKERS``, ``FIREBRICK_JOB_LEASE``,
``FIREBRICK_ADMIN_PASSWORD``, ``FIREBRICK_DEMO_PASSWORD``.
"""

from __future__ import annotations

import base64
import os
import pickle
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from firebrick.errors import InvalidInput

__all__ = [
    "BackendSettings",
    "QuotaSettings",
    "Settings",
    "from_parent",
    "hand_to_workers",
    "load_settings",
]


@dataclass(frozen=True, slots=True)
class BackendSettings:
    name: str
    pool: str
    path: Path
    capacity_gb: int
    format: str
    driver: str = "file"


@dataclass(frozen=True, slots=True)
class QuotaSettings:
    volumes: int = 10
    snapshots: int = 10
    gigabytes: int = 1000
    per_volume_gigabytes: int = -1


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    port: int
    public_url: str
    data_dir: Path
    database_url: str
    backends: tuple[BackendSettings, ...]
    # Names this node wherever OpenStack shows a host (services, pools, servers) and owns its jobs.
    # Network namespaces share one host name, so several nodes on one machine need their own.
    node_name: str = field(default_factory=socket.gethostname)
    # API worker processes of ``serve`` (the agent that runs jobs is one process more).
    workers: int = 1
    # How long a job claim lasts without renewal: how soon another agent takes over a dead one's jobs.
    job_lease: float = 30.0
    token_ttl: int = 3600
    region: str = "RegionOne"
    availability_zone: str = "nova"
    service_down_time: int = 60
    heartbeat_interval: int = 10
    policy_file: Path | None = None
    quota: QuotaSettings = QuotaSettings()
    admin_password: str | None = None
    demo_password: str | None = None
    # Where the compute API is (for volume-extended events and the detach-safety check);
    # None means this node's own ``/compute/v2.1``.
    compute_url: str | None = None
    # Where the block-storage API is, for the compute side; None means this node's own.
    volume_url: str | None = None
    # The compute side's hypervisor: "qemu" (real guests) or "fake" (in memory, for tests).
    hypervisor: str = "qemu"
    # QEMU's accelerator: "auto" (KVM when a guest really boots with it, else TCG), "kvm" or "tcg".
    accel: str = "auto"
    # An attached extend waits this long for the guest to confirm the new size; 0: no waiting (OpenStack's way).
    extend_confirm_timeout: int = 120

    @property
    def compute_endpoint(self) -> str:
        return (self.compute_url or f"{self.public_url}/compute/v2.1").rstrip("/")

    @property
    def volume_endpoint(self) -> str:
        return (self.volume_url or f"{self.public_url}/volume/v3").rstrip("/")

    def with_port(self, port: int) -> Settings:
        """Return a copy listening on ``port`` (the public URL follows it)."""
        return replace(self, port=port, public_url=f"http://{self.host}:{port}")


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build ``Settings`` from a TOML file, the environment and explicit overrides.

    Overrides (from the command line) win over the environment, which wins over
    the file. Raises:
        InvalidInput: when the file cannot be parsed or a value has the wrong type.
    """
    raw = _read_toml(path)
    env = dict(environ or {})
    server, database = raw.get("server", {}), raw.get("database", {})
    identity, volume = raw.get("identity", {}), raw.get("volume", {})

    def pick(name: str, section: Mapping[str, Any], key: str, default: Any) -> Any:
        if overrides.get(key) is not None:
            return overrides[key]
        if f"FIREBRICK_{name}" in env:
            return env[f"FIREBRICK_{name}"]
        return section.get(key, default)

    host = str(pick("HOST", server, "host", "127.0.0.1"))
    port = _as_int("port", pick("PORT", server, "port", 8780))
    data_dir = Path(pick("DATA_DIR", server, "data_dir", "./data")).resolve()
    public_url = str(pick("PUBLIC_URL", server, "public_url", "")) or f"http://{host}:{port}"
    db_url = str(pick("DATABASE_URL", database, "url", "")) or f"sqlite:///{data_dir / 'firebrick.db'}"
    policy = str(pick("POLICY_FILE", volume, "policy_file", ""))
    compute_url = str(pick("COMPUTE_URL", volume, "compute_url", "")) or None
    compute = raw.get("compute", {})
    volume_url = str(pick("VOLUME_URL", compute, "volume_url", "")) or None
    hypervisor = str(pick("HYPERVISOR", compute, "hypervisor", "qemu"))
    if hypervisor not in ("qemu", "fake"):
        raise InvalidInput(f"setting hypervisor must be qemu or fake, not {hypervisor!r}")
    accel = str(pick("ACCEL", compute, "accel", "auto"))
    if accel not in ("auto", "kvm", "tcg"):
        raise InvalidInput(f"setting accel must be auto, kvm or tcg, not {accel!r}")
    node = raw.get("node", {})
    return Settings(
        node_name=str(pick("NODE_NAME", node, "name", "")) or socket.gethostname(),
        workers=_workers(pick("WORKERS", node, "workers", 1)),
        job_lease=_as_seconds("job_lease", pick("JOB_LEASE", node, "job_lease", 30)),
        host=host,
        port=port,
        public_url=public_url.rstrip("/"),
        compute_url=compute_url,
        volume_url=volume_url,
        hypervisor=hypervisor,
        accel=accel,
        data_dir=data_dir,
        database_url=db_url,
        backends=_backends(raw.get("backends"), data_dir),
        token_ttl=_as_int("token_ttl", identity.get("token_ttl", 3600)),
        region=str(identity.get("region", "RegionOne")),
        availability_zone=str(volume.get("availability_zone", "nova")),
        service_down_time=_as_int("service_down_time", volume.get("service_down_time", 60)),
        heartbeat_interval=_as_int("heartbeat_interval", volume.get("heartbeat_interval", 10)),
        policy_file=Path(policy) if policy else None,
        extend_confirm_timeout=_as_int("extend_confirm_timeout", volume.get("extend_confirm_timeout", 120)),
        quota=QuotaSettings(**{k: _as_int(k, v) for k, v in raw.get("quota", {}).items()}),
        admin_password=env.get("FIREBRICK_ADMIN_PASSWORD"),
        demo_password=env.get("FIREBRICK_DEMO_PASSWORD"),
    )


_WORKER_SETTINGS = "FIREBRICK_WORKER_SETTINGS"


def hand_to_workers(settings: Settings) -> None:
    """Put ``settings`` where the worker processes this one starts will find them (``from_parent``).

    uvicorn starts its workers by import string, so the settings travel in the environment.
    """
    os.environ[_WORKER_SETTINGS] = base64.b64encode(pickle.dumps(settings)).decode()


def from_parent() -> Settings:
    """The settings the serving process handed to this worker process."""
    # Written by the process that started this one (``hand_to_workers``): nothing a user supplies.
    settings = pickle.loads(base64.b64decode(os.environ[_WORKER_SETTINGS]))  # noqa: S301
    if not isinstance(settings, Settings):
        raise InvalidInput(f"{_WORKER_SETTINGS} holds no settings")
    return settings


def _read_toml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"cannot read configuration {path}: {exc}") from exc


def _backends(entries: Any, data_dir: Path) -> tuple[BackendSettings, ...]:
    entries = entries or [{"name": "file", "pool": "pool"}]
    result = []
    for entry in entries:
        name = str(entry.get("name", "file"))
        path = entry.get("path") or data_dir / "pools" / name
        result.append(
            BackendSettings(
                name=name,
                pool=str(entry.get("pool", "pool")),
                path=Path(path).resolve(),
                capacity_gb=_as_int("capacity_gb", entry.get("capacity_gb", 1000)),
                format=str(entry.get("format", "raw")),
                driver=str(entry.get("driver", "file")),
            )
        )
    paths = [backend.path for backend in result if backend.driver == "file"]
    if len(set(paths)) != len(paths):
        # A pool names its volumes by id alone: two pools in one directory would be one pool, and
        # a migration from one to the other would delete the volume it just copied.
        raise InvalidInput("two backends share a directory; each needs a path of its own")
    return tuple(result)


def _workers(value: Any) -> int:
    count = (os.cpu_count() or 1) if value == "auto" else _as_int("workers", value)
    if count < 1:
        raise InvalidInput(f"setting workers must be at least 1 or auto, not {value!r}")
    return count


def _as_seconds(name: str, value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"setting {name} must be a number of seconds, not {value!r}") from exc
    if not seconds > 0:
        raise InvalidInput(f"setting {name} must be more than 0 seconds, not {value!r}")
    return seconds


def _as_int(name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"setting {name} must be an integer, not {value!r}") from exc
