"""Service settings (coreos.etcd, etcd2, fleet, locksmith, flannel) as systemd and env files read them.

Values reach the service as the original wrote them (systemd specifiers such as
%H included); quotes, backslashes and newlines are escaped so that each value
stays one assignment.  Secrets never go into a unit file, which anyone may
read: they go into a root-only environment file that `ccgen apply` writes.
"""

from __future__ import annotations

from ccgen.base import cache, unittext
from ccgen.base.diag import Span
from ccgen.lang import model

ENV_DIR = f"{cache.DIR}/env"


def secret_file(unit: str) -> str:
    return f"{ENV_DIR}/{unit}.env"


def dropin(unit: str, settings: model.Settings, source: Span) -> str:
    text = unittext.UnitText(source)
    for s in settings.items:
        if not s.secret:
            text.add("Service", "Environment", unittext.quote_value(f"{s.env}={s.value}")[0])
    if any(s.secret for s in settings.items):
        text.add("Service", "EnvironmentFile", secret_file(unit))
    return text.text()


def secret_text(settings: model.Settings) -> str:
    return "".join(f"{s.env}={unittext.env_file_quote(s.value)}\n" for s in settings.items if s.secret)


def env_file_text(settings: model.Settings) -> str:
    """Every setting as an EnvironmentFile= line (flannel's options.env)."""
    return "".join(f"{s.env}={unittext.env_file_quote(s.value)}\n" for s in settings.items)
