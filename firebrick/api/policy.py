"""Authorisation through oslo.policy, with Cinder's rule names and defaults.

An operator's ``policy.yaml`` (Cinder's format and rule names) overrides any
rule here, exactly as it would for Cinder. Base rules follow Cinder's Xena-era
defaults: "member" means an admin, or a member of the resource's project;
"reader" likewise with the reader role.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oslo_config import cfg
from oslo_policy import policy

from firebrick.domain.model import Caller
from firebrick.errors import Forbidden

__all__ = ["Authorizer"]

_ADMIN = "rule:admin_api"
_MEMBER = "rule:xena_system_admin_or_project_member"
_READER = "rule:xena_system_admin_or_project_reader"
_SERVICE = "rule:service_or_admin"

_BASE = {
    "context_is_admin": "role:admin",
    "admin_api": "is_admin:True or (role:admin and is_admin_project:True)",
    "admin_or_owner": "is_admin:True or (role:admin and is_admin_project:True) or project_id:%(project_id)s",
    "xena_system_admin_or_project_member": "rule:admin_api or (role:member and project_id:%(project_id)s)",
    "xena_system_admin_or_project_reader": "rule:admin_api or (role:reader and project_id:%(project_id)s)",
    # Nova's: the compute API's service-to-service calls (Cinder's events, its swap during a migration).
    "service_api": "role:service",
    "service_or_admin": "rule:admin_api or rule:service_api",
}

_RULES = {
    "volume:create": _MEMBER,
    "volume:get": _READER,
    "volume:get_all": _READER,
    "volume:update": _MEMBER,
    "volume:delete": _MEMBER,
    "volume:force_delete": _ADMIN,
    "volume:extend": _MEMBER,
    "volume:extend_attached_volume": _MEMBER,
    "volume:extend_volume_completion": _ADMIN,
    "volume:revert_to_snapshot": _MEMBER,
    "volume:retype": _MEMBER,
    "volume:multiattach": _MEMBER,
    "volume_extension:volume_unmanage": _ADMIN,
    "volume_extension:volume_manage": _ADMIN,
    "volume_extension:list_manageable": _ADMIN,
    "volume:update_readonly_flag": _MEMBER,
    "volume_extension:volume_image_metadata:set": _MEMBER,
    "volume_extension:volume_image_metadata:remove": _MEMBER,
    "volume_extension:volume_image_metadata:show": _READER,
    "volume_extension:volume_admin_actions:reset_status": _ADMIN,
    "volume_extension:volume_admin_actions:force_delete": _ADMIN,
    "volume_extension:volume_admin_actions:force_detach": _ADMIN,
    "volume_extension:volume_admin_actions:migrate_volume": _ADMIN,
    "volume_extension:volume_admin_actions:migrate_volume_completion": _ADMIN,
    "volume_extension:volume_actions:attach": _MEMBER,
    "volume_extension:volume_actions:detach": _MEMBER,
    "volume_extension:volume_actions:reserve": _MEMBER,
    "volume_extension:volume_actions:unreserve": _MEMBER,
    "volume_extension:volume_actions:begin_detaching": _MEMBER,
    "volume_extension:volume_actions:roll_detaching": _MEMBER,
    "volume_extension:volume_actions:initialize_connection": _MEMBER,
    "volume_extension:volume_actions:terminate_connection": _MEMBER,
    "volume:attachment_create": _MEMBER,
    "volume:attachment_update": _MEMBER,
    "volume:attachment_delete": _MEMBER,
    "volume:attachment_complete": _MEMBER,
    "volume:multiattach_bootable_volume": _MEMBER,
    "volume:get_volume_metadata": _READER,
    "volume:create_volume_metadata": _MEMBER,
    "volume:update_volume_metadata": _MEMBER,
    "volume:delete_volume_metadata": _MEMBER,
    "volume:create_snapshot": _MEMBER,
    "volume:get_snapshot": _READER,
    "volume:get_all_snapshots": _READER,
    "volume:update_snapshot": _MEMBER,
    "volume:delete_snapshot": _MEMBER,
    "volume_extension:volume_tenant_attribute": _READER,
    "volume_extension:volume_host_attribute": _ADMIN,
    "volume_extension:volume_mig_status_attribute": _ADMIN,
    "volume_extension:extended_snapshot_attributes": _READER,
    "volume_extension:types_manage": _ADMIN,
    "volume_extension:type_get": "",
    "volume_extension:type_get_all": "",
    "volume_extension:access_types_extra_specs": _ADMIN,
    "volume_extension:access_types_qos_specs_id": _ADMIN,
    "volume_extension:types_extra_specs:index": "",
    "volume_extension:types_extra_specs:show": _ADMIN,
    "volume_extension:types_extra_specs:create": _ADMIN,
    "volume_extension:types_extra_specs:update": _ADMIN,
    "volume_extension:types_extra_specs:delete": _ADMIN,
    "volume_extension:quotas:show": _READER,
    "volume_extension:quotas:update": _ADMIN,
    "volume_extension:quotas:delete": _ADMIN,
    "limits_extension:used_limits": _READER,
    "volume_extension:services:index": _ADMIN,
    "volume_extension:services:update": _ADMIN,
    "volume_extension:availability_zone_list": "",
    "scheduler_extension:scheduler_stats:get_pools": _ADMIN,
    "message:get_all": _READER,
    "message:get": _READER,
    "message:delete": _MEMBER,
    "volume_extension:volume_actions:upload_image": _MEMBER,
    "volume_extension:volume_actions:upload_public": _ADMIN,
    # Glance's rule names. Reads are checked against the caller's own project (which image
    # the caller may see is the domain's rule); writes against the image's owner.
    "add_image": _MEMBER,
    "get_image": _READER,
    "get_images": _READER,
    "modify_image": _MEMBER,
    "delete_image": _MEMBER,
    "upload_image": _MEMBER,
    "download_image": _READER,
    "publicize_image": _ADMIN,
    "communitize_image": _MEMBER,
    # Glance's current defaults: the owner's members may deactivate and reactivate (tempest does, as a member).
    "deactivate": _MEMBER,
    "reactivate": _MEMBER,
}


# Nova's rule names for the compute API (its project_member/reader defaults).
_COMPUTE_RULES = {
    "os_compute_api:servers:index": _READER,
    "os_compute_api:servers:detail": _READER,
    "os_compute_api:servers:show": _READER,
    "os_compute_api:servers:create": _MEMBER,
    "os_compute_api:servers:delete": _MEMBER,
    "os_compute_api:servers:start": _MEMBER,
    "os_compute_api:servers:stop": _MEMBER,
    "os_compute_api:servers:reboot": _MEMBER,
    "os_compute_api:os-shelve:shelve": _MEMBER,
    "os_compute_api:os-shelve:shelve_offload": _ADMIN,
    "os_compute_api:os-shelve:unshelve": _MEMBER,
    "os_compute_api:os-lock-server:lock": _MEMBER,
    "os_compute_api:os-lock-server:unlock": _MEMBER,
    "os_compute_api:os-lock-server:unlock:unlock_override": _ADMIN,
    "os_compute_api:os-console-output": _MEMBER,
    "os_compute_api:ips:index": _READER,
    "os_compute_api:os-extended-server-attributes": _ADMIN,
    "os_compute_api:os-volumes-attachments:index": _READER,
    "os_compute_api:os-volumes-attachments:show": _READER,
    "os_compute_api:os-volumes-attachments:create": _MEMBER,
    "os_compute_api:os-volumes-attachments:update": _MEMBER,
    "os_compute_api:os-volumes-attachments:swap": _SERVICE,
    "os_compute_api:os-volumes-attachments:delete": _MEMBER,
    "os_compute_api:os-server-external-events:create": _SERVICE,
    "os_compute_api:os-instance-actions:list": _READER,
    "os_compute_api:os-instance-actions:show": _READER,
    "os_compute_api:os-instance-actions:events": _ADMIN,
    "os_compute_api:os-instance-actions:events:details": _ADMIN,
    "os_compute_api:os-flavor-manage:create": _ADMIN,
    "os_compute_api:os-flavor-manage:delete": _ADMIN,
}


# Keystone's rule names for the identity API. Keystone's defaults grant reads to system- and
# domain-scoped readers; firebrick has neither scope, so those reads are the admin's (and a
# user's own record and project, under the ``%(target.*)s`` names Keystone's rules use).
_IDENTITY_RULES = {
    "identity:get_project": f"{_ADMIN} or project_id:%(target.project.id)s",
    "identity:list_projects": _ADMIN,
    "identity:create_project": _ADMIN,
    "identity:update_project": _ADMIN,
    "identity:delete_project": _ADMIN,
    "identity:get_user": f"{_ADMIN} or user_id:%(target.user.id)s",
    "identity:list_users": _ADMIN,
    "identity:create_user": _ADMIN,
    "identity:update_user": _ADMIN,
    "identity:delete_user": _ADMIN,
    "identity:list_user_projects": f"{_ADMIN} or user_id:%(target.user.id)s",
    "identity:get_role": "",
    "identity:list_roles": "",
    "identity:create_role": _ADMIN,
    "identity:update_role": _ADMIN,
    "identity:delete_role": _ADMIN,
    "identity:check_grant": _ADMIN,
    "identity:list_grants": _ADMIN,
    "identity:create_grant": _ADMIN,
    "identity:revoke_grant": _ADMIN,
    "identity:list_role_assignments": _ADMIN,
    "identity:get_domain": "",
    "identity:list_domains": _ADMIN,
}


class Authorizer:
    """Policy decisions, remembered per (caller, rule, target project).

    A decision depends only on those and on the rules, so it is cached; the
    policy file is checked for changes at most once a second, and a change
    clears the cache (an operator's edit takes effect within a second).
    """

    def __init__(self, policy_file: Path | None) -> None:
        conf = cfg.ConfigOpts()
        conf([], project="firebrick", default_config_files=[], default_config_dirs=[])
        self._enforcer = policy.Enforcer(conf, policy_file=str(policy_file) if policy_file else "policy.yaml")
        self._enforcer.register_defaults(
            [
                policy.RuleDefault(name, check)
                for name, check in {**_BASE, **_RULES, **_COMPUTE_RULES, **_IDENTITY_RULES}.items()
            ]
        )
        self._enforcer.load_rules()
        self._policy_file = policy_file
        self._file_stamp = _stamp(policy_file)
        self._next_file_check = 0.0
        self._decisions: dict[tuple[str, str, frozenset[str], str, str, tuple[tuple[str, str], ...]], bool] = {}

    def allowed(
        self, caller: Caller, rule: str, project_id: str | None = None, target: Mapping[str, str] | None = None
    ) -> bool:
        """``target`` adds attributes rules may name (``target.user.id`` …), as Keystone flattens its target."""
        self._notice_policy_changes()
        project = project_id or caller.project_id
        attributes = tuple(sorted(target.items())) if target else ()
        key = (caller.user_id, caller.project_id, caller.roles, rule, project, attributes)
        decision = self._decisions.get(key)
        if decision is None:
            decision = bool(
                self._enforcer.enforce(rule, {"project_id": project, **dict(attributes)}, _credentials(caller))
            )
            if len(self._decisions) >= _MAX_DECISIONS:
                self._decisions.clear()
            self._decisions[key] = decision
        return decision

    def authorize(
        self, caller: Caller, rule: str, project_id: str | None = None, target: Mapping[str, str] | None = None
    ) -> None:
        """Raises Forbidden when policy refuses ``rule`` for the caller on that project (and target)."""
        if not self.allowed(caller, rule, project_id, target):
            raise Forbidden(rule)

    def _notice_policy_changes(self) -> None:
        now = time.monotonic()
        if now < self._next_file_check:
            return
        self._next_file_check = now + 1.0
        stamp = _stamp(self._policy_file)
        if stamp != self._file_stamp:
            self._file_stamp = stamp
            self._enforcer.load_rules()
            self._decisions.clear()


_MAX_DECISIONS = 50_000


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        stat = path.stat() if path else None
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if stat else None


def _credentials(caller: Caller) -> dict[str, Any]:
    return {
        "user_id": caller.user_id,
        "project_id": caller.project_id,
        "roles": sorted(caller.roles),
        "is_admin": caller.is_admin,
        "is_admin_project": True,
    }
