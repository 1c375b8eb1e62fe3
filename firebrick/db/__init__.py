"""The only package that speaks SQL. Repositories hand out ``domain.model`` values."""

from __future__ import annotations

from firebrick.db.attachments import AttachmentRepository
from firebrick.db.engine import Database, utcnow
from firebrick.db.identity import IdentityRepository
from firebrick.db.images import ImageRepository
from firebrick.db.jobs import JobRepository
from firebrick.db.messages import MessageRepository
from firebrick.db.migrate import upgrade
from firebrick.db.quotas import QuotaRepository
from firebrick.db.servers import ActionRepository, FlavorRepository, MappingRepository, ServerRepository
from firebrick.db.services import ServiceRepository
from firebrick.db.snapshots import SnapshotRepository
from firebrick.db.token_keys import TokenKeyRepository
from firebrick.db.types import TypeRepository
from firebrick.db.volumes import VolumeRepository

__all__ = [
    "ActionRepository",
    "AttachmentRepository",
    "Database",
    "FlavorRepository",
    "IdentityRepository",
    "ImageRepository",
    "JobRepository",
    "MappingRepository",
    "MessageRepository",
    "QuotaRepository",
    "Repositories",
    "ServerRepository",
    "ServiceRepository",
    "SnapshotRepository",
    "TokenKeyRepository",
    "TypeRepository",
    "VolumeRepository",
    "upgrade",
    "utcnow",
]


class Repositories:
    """Every repository over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.volumes = VolumeRepository(db)
        self.snapshots = SnapshotRepository(db)
        self.types = TypeRepository(db)
        self.identity = IdentityRepository(db)
        self.token_keys = TokenKeyRepository(db)
        self.quotas = QuotaRepository(db)
        self.services = ServiceRepository(db)
        self.jobs = JobRepository(db)
        self.messages = MessageRepository(db)
        self.images = ImageRepository(db)
        self.attachments = AttachmentRepository(db)
        self.servers = ServerRepository(db)
        self.mappings = MappingRepository(db)
        self.flavors = FlavorRepository(db)
        self.actions = ActionRepository(db)
