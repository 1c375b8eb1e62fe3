"""Attachments: a host's (a server's) use of a volume, and the rules that keep two users off one disk.

The attachments API of microversion 3.27+ (create, update with a connector,
complete, delete) is how a compute service attaches; the legacy volume actions
(os-attach, os-detach, os-reserve, …) in ``domain.volume.attach`` and
``domain.volume.detach`` use the same rows and the same rules.
"""

__all__: list[str] = []
