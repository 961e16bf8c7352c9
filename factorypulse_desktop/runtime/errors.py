"""The error of the embedded PostgreSQL cluster, shared by the modules that manage it.

Import it from :mod:`factorypulse_desktop.runtime.embedded`; it lives here so the helper modules
(``run_as``, ``server_process``, ...) can raise it without importing ``embedded``.
"""

from __future__ import annotations


class EmbeddedError(RuntimeError):
    """The embedded server could not be set up, started or stopped (a sentence a user can read)."""
