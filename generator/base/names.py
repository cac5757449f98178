"""The names of ccgen's own units, files and directories, in one place.

A config may not define, mask, alias or add drop-ins to any unit in ccgen's
namespace: `ccgen.target` and every `ccgen-*` unit (docs/units.md).
"""

TARGET = "ccgen.target"  # the config's units started in the boot transaction
DEFERRED_TARGET = (
    "ccgen-deferred.target"  # the config's units started after ccgen-apply, as jobs of their own
)
DEFERRED_START = "ccgen-deferred.service"  # starts DEFERRED_TARGET without blocking the boot
APPLY = "ccgen-apply.service"
INPUTS = "ccgen-inputs.service"
FETCH_PREFIX = "ccgen-fetch-"
SCRIPT_PREFIX = "ccgen-script-"
ERROR_PREFIX = "ccgen-error-"
RERUN_PREFIX = "ccgen-rerun-"  # transient units a fetch leaves the re-run to (reload.py)

ORDER_DROPIN = "00-ccgen-apply.conf"  # After=ccgen-apply.service for the config's units
SERVICE_DROPIN = "20-cloudinit.conf"  # the original's name for etcd/etcd2/fleet/locksmith settings

CCGEN = "/usr/bin/ccgen"
NORMAL_DIR = "/run/systemd/generator"
RUN_DIR = "/run/ccgen"
PLAN_CANDIDATE = ".ccgen-plan"  # in the generator's normal directory; ccgen-apply persists it
# Drop-ins that would make the boot cyclic wait here (hidden: systemd ignores the
# directory); ccgen-apply installs them into /run/systemd/system and reloads.
RUNTIME_DROPINS = ".ccgen-runtime"
RUNTIME_UNIT_DIR = "/run/systemd/system"


def fetch_unit(provider: str) -> str:
    return f"{FETCH_PREFIX}{provider}.service"


def is_reserved(name: str) -> bool:
    """True for a unit name in ccgen's namespace."""
    stem = name.rpartition(".")[0] if "." in name else name
    return stem == "ccgen" or stem.startswith(("ccgen-", "ccgen@"))
