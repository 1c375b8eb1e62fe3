"""One firebrick node: every long-lived part, built from ``Settings`` and wired once.

A node's work is split by role. Its *agent* is the one process that runs the node's jobs,
beats its heart, recovers its resources and owns its guests (held by the data directory's
lock); its *API workers* answer requests and ring the agent when they queue a job. With one
worker (the default) both live in one process (``Role.NODE``); ``serve --workers N`` runs the
agent in the serving process and N API workers beside it.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from firebrick import first_run
from firebrick.api.policy import Authorizer
from firebrick.config import BackendSettings, Settings
from firebrick.db import Database, Repositories, upgrade
from firebrick.domain import recovery, volume_types
from firebrick.domain.compute.attach import ATTACH
from firebrick.domain.compute.create import BUILD
from firebrick.domain.compute.delete import DELETE_SERVER
from firebrick.domain.compute.detach import DETACH
from firebrick.domain.compute.events import EXTEND_VOLUME
from firebrick.domain.compute.flavors import ensure_default_flavors
from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.compute.power import POWER
from firebrick.domain.compute.recovery import recover_servers
from firebrick.domain.compute.shelve import SHELVE, UNSHELVE
from firebrick.domain.compute.update import SWAP
from firebrick.domain.identity import IdentityService, TokenSigner
from firebrick.domain.jobs import BoundKind, JobKind
from firebrick.domain.ports import ImagePorts, Pool, Ports
from firebrick.domain.snapshot.create import CREATE_SNAPSHOT
from firebrick.domain.snapshot.delete import DELETE_SNAPSHOT
from firebrick.domain.volume.create import CREATE
from firebrick.domain.volume.delete import DELETE
from firebrick.domain.volume.extend import CONFIRM_EXTENDED, EXTEND, NOTIFY_EXTENDED
from firebrick.domain.volume.manage import MANAGE
from firebrick.domain.volume.migrate import MIGRATE
from firebrick.domain.volume.retype import RETYPE
from firebrick.domain.volume.revert import REVERT
from firebrick.domain.volume.unmanage import UNMANAGE
from firebrick.domain.volume.upload_image import UPLOAD
from firebrick.remote import ComputeClient, VolumeClient
from firebrick.storage import DiskFormat, FakeBackend, FileBackend, ImageStore, StorageBackend
from firebrick.virt.base import Hypervisor
from firebrick.virt.fake import FakeHypervisor
from firebrick.workers import Heartbeat, JobRunner
from firebrick.workers.agent import AgentLock, Doorbell, ring

if TYPE_CHECKING:
    from firebrick.db.announcements import JobAnnouncements

__all__ = ["JOB_KINDS", "Node", "Role"]

log = logging.getLogger(__name__)

_VOLUME_KINDS = (CREATE, DELETE, EXTEND, NOTIFY_EXTENDED, CONFIRM_EXTENDED, REVERT, RETYPE, MANAGE, UNMANAGE, UPLOAD,
                 MIGRATE)  # fmt: skip
JOB_KINDS: dict[str, JobKind[Ports]] = {kind.name: kind for kind in (*_VOLUME_KINDS, CREATE_SNAPSHOT, DELETE_SNAPSHOT)}
COMPUTE_JOB_KINDS = (BUILD, DELETE_SERVER, POWER, SHELVE, UNSHELVE, ATTACH, DETACH, EXTEND_VOLUME, SWAP)

_DRIVERS: dict[str, Callable[[BackendSettings], StorageBackend]] = {
    "file": lambda b: FileBackend(b.path, b.capacity_gb, DiskFormat(b.format)),
    "fake": lambda b: FakeBackend(b.capacity_gb),
}


class Role(enum.Enum):
    NODE = "node"  # the agent and the API in one process
    AGENT = "agent"  # jobs, heartbeats, recovery and guests; no API
    API = "api"  # requests only; jobs go to the agent


class Node:
    def __init__(self, settings: Settings, role: Role = Role.NODE) -> None:
        self.settings = settings
        self.role = role
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.database_url)
        self.repos = Repositories(self.db)
        self.pools = tuple(_pool(settings.node_name, b) for b in settings.backends)
        self.ports = Ports(
            volumes=self.repos.volumes,
            snapshots=self.repos.snapshots,
            types=self.repos.types,
            quotas=self.repos.quotas,
            jobs=self.repos.jobs,
            messages=self.repos.messages,
            attachments=self.repos.attachments,
            compute=ComputeClient(settings.compute_endpoint, self._service_token),
            pools=self.pools,
            zone=settings.availability_zone,
            node=settings.node_name,
            quota_defaults=settings.quota,
            wake_worker=self._wake_worker,
            extend_confirm_timeout=settings.extend_confirm_timeout or None,
            images=ImagePorts(self.repos.images, ImageStore(settings.data_dir / "images")),
            services=self.repos.services,
            service_down_time=settings.service_down_time,
        )
        self.identity = IdentityService(self.repos.identity, TokenSigner(self.repos.token_keys, settings.token_ttl))
        self.authorizer = Authorizer(settings.policy_file or settings.data_dir / "policy.yaml")
        self.hypervisor = _hypervisor(settings)
        self.compute = ComputePorts(
            servers=self.repos.servers,
            mappings=self.repos.mappings,
            flavors=self.repos.flavors,
            actions=self.repos.actions,
            jobs=self.repos.jobs,
            volumes=VolumeClient(settings.volume_endpoint, self._service_token),
            hypervisor=self.hypervisor,
            image_exists=self._image_exists,
            node=settings.node_name,
            zone=settings.availability_zone,
            connector=_connector(settings.node_name),
            wake_worker=self._wake_worker,
        )
        kinds: dict[str, BoundKind] = {name: kind.bind(lambda: self.ports) for name, kind in JOB_KINDS.items()}
        kinds |= {kind.name: kind.bind(lambda: self.compute) for kind in COMPUTE_JOB_KINDS}
        self.runner = JobRunner(self.repos.jobs, settings.node_name, kinds, lease=settings.job_lease)
        self.heartbeat = Heartbeat(self._beat, settings.heartbeat_interval)
        self._lock = AgentLock(settings.data_dir)
        self._doorbell = Doorbell(settings.data_dir, self.runner.wake)
        self._announcements: JobAnnouncements | None = None

    def start(self) -> None:
        """As the agent: take the data directory's lock, upgrade the schema, bootstrap an empty
        node, settle what a crash left, start the workers. An API worker starts nothing.

        Raises:
            AgentRunning: another process is already this data directory's agent.
        """
        if self.role is Role.API:
            return
        self.become_agent()
        upgrade(self.settings.database_url)
        if first_run.prepare(self.settings, self.repos.identity):
            log.warning("bootstrapped users admin and demo; credentials in %s", self.settings.data_dir / "clouds.yaml")
        first_run.ensure_service_account(self.repos.identity)
        volume_types.ensure_default_type(self.ports)
        moved = recovery.recover(self.ports)
        if moved:
            log.warning("recovery moved %d interrupted resources to an error status", moved)
        ensure_default_flavors(self.compute)
        self.heartbeat.start()
        self.runner.start()
        self._doorbell.start()
        if self.db.is_postgresql:
            from firebrick.db.announcements import JobAnnouncements  # psycopg: only where it is used

            settings = self.settings
            self._announcements = JobAnnouncements(settings.database_url, (settings.node_name,), self.runner.wake)
            self._announcements.start()
        # Restarting guests may need the block-storage API this process is about to serve: not inline.
        threading.Thread(target=self._recover_servers, name="firebrick-recover-servers", daemon=True).start()

    def become_agent(self) -> None:
        """Take the data directory's agent lock now (``start`` takes it too, if not yet held).

        Raises:
            AgentRunning: another process is already this data directory's agent.
        """
        self._lock.acquire()

    def stop(self) -> None:
        if self.role is not Role.API:
            if self._announcements is not None:
                self._announcements.stop()
            self._doorbell.stop()
            self.runner.stop()
            self.heartbeat.stop()
            self.hypervisor.close()  # the guests keep running; the next start finds them again
            self._lock.release()
        self.db.dispose()

    def _recover_servers(self) -> None:
        try:
            changed = recover_servers(self.compute)
        except Exception:  # noqa: BLE001 - a failed recovery must not kill the node; the servers show their state
            log.exception("recovering this node's servers failed")
            return
        if changed:
            log.warning("recovery settled %d servers", changed)

    def _image_exists(self, image_id: str) -> bool:
        image = self.repos.images.get(image_id)
        return image is not None and image.status == "active"

    def _service_token(self) -> str:
        return self.identity.local_token(first_run.SERVICE_USER, first_run.SERVICE_PROJECT)

    def _wake_worker(self) -> None:
        if self.role is Role.API:
            ring(self.settings.data_dir)
        else:
            self.runner.wake()

    def _beat(self) -> None:
        zone = self.settings.availability_zone
        self.repos.services.heartbeat(self.settings.node_name, "cinder-scheduler", zone)
        for pool in self.pools:
            self.repos.services.heartbeat(pool.host.split("#")[0], "cinder-volume", zone)


def _hypervisor(settings: Settings) -> Hypervisor:
    if settings.hypervisor == "fake":
        return FakeHypervisor()
    from firebrick.virt.qemu import QemuHypervisor  # imports qemu.qmp: only where guests run

    return QemuHypervisor(settings.data_dir / "instances", accel=_ACCELS[settings.accel])


_ACCELS: dict[str, Literal["auto", "kvm", "tcg"]] = {"auto": "auto", "kvm": "kvm", "tcg": "tcg"}


def _connector(hostname: str) -> dict[str, Any]:
    """This host as os-brick describes it to the block-storage side."""
    return {"host": hostname, "platform": "x86_64", "os_type": "linux", "multipath": False,
            "initiator": f"iqn.2026-11.dev.firebrick:{hostname}", "do_local_attach": False}  # fmt: skip


def _pool(hostname: str, backend: BackendSettings) -> Pool:
    return Pool(
        host=f"{hostname}@{backend.name}#{backend.pool}",
        backend_name=backend.name,
        driver=_DRIVERS[backend.driver](backend),
        default_format=DiskFormat(backend.format),
    )
