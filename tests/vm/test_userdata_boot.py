"""Boot a Debian machine whose EC2 user-data is gzip'd MIME multi-part (issue 13).

Run with `pytest -m vm tests/vm -k mime`.  The fake EC2 service serves a kops-style
document (a cloud-config part, then a shell-script part, CRLF headers), gzip'd: the
config's unit runs, the script runs once, after the config's file is in place, and a
second boot runs it no more.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from . import machine
from .test_boot import PROBE_COMMON, PROVIDER_OEM, booted, explain, lines

pytestmark = pytest.mark.vm

MIME_CONFIG = b"""#cloud-config
write_files:
  - path: /etc/vmtest/from-mime
    content: from the mime part
coreos:
  units:
    - name: mime-unit.service
      command: start
      content: "[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n"
"""
MIME_SCRIPT = b"""#!/bin/sh
# ccgen-apply has written the config's file before any script runs.
echo "ran $(cat /etc/vmtest/from-mime)" >> /var/lib/vmtest-script-runs
"""


def mime_user_data() -> bytes:
    """As kops writes it (Go's multipart writer: CRLF headers, sorted), then gzip'd."""
    part = (
        b"--MIMEBOUNDARY\r\nContent-Disposition: attachment; filename=%s\r\n"
        b"Content-Transfer-Encoding: 7bit\r\nContent-Type: %s\r\nMime-Version: 1.0\r\n\r\n"
    )
    doc = (
        b'Content-Type: multipart/mixed; boundary="MIMEBOUNDARY"\r\nMIME-Version: 1.0\r\n\r\n'
        + part % (b'"config.yaml"', b"text/cloud-config")
        + MIME_CONFIG
        + b"\r\n"
        + part % (b'"setup.sh"', b"text/x-shellscript")
        + MIME_SCRIPT
        + b"\r\n--MIMEBOUNDARY--\r\n"
    )
    return gzip.compress(doc)


PROBE = (
    PROBE_COMMON
    + r"""
unit mime-unit.service
echo "file $(cat /etc/vmtest/from-mime 2>/dev/null || echo MISSING)"
echo "runs $(cat /var/lib/vmtest-script-runs 2>/dev/null | wc -l)"
sed 's/^/run /' /var/lib/vmtest-script-runs 2>/dev/null
for u in $(systemctl list-units --all --plain --no-legend 'ccgen-script-*' | awk '{print $1}'); do
    echo "script $(systemctl show -p ActiveState -p ConditionResult "$u" | sort | tr '\n' ' ')"
done
ls /var/lib/ccgen/scripts 2>/dev/null | sed 's/^/copy /'
echo "cached $(head -c 2 /var/lib/ccgen/user-data | od -An -tx1 | tr -d ' ')"
"""
)


def test_gzipped_mime_user_data_from_ec2(session_tree: Path, tmp_path: Path) -> None:
    from ..fakeimds import Behaviour, FakeIMDS

    files = {
        "/usr/share/oem/cloud-config.yml": PROVIDER_OEM.format(oem_id="ec2"),
        "/etc/vmtest/probe.sh": PROBE,
    }
    disk = machine.make_disk(session_tree, tmp_path, files, links=machine.WAIT_ONLINE)
    cmdline = f"ccgen.ec2.endpoint=http://{machine.GUEST_SERVER}/"
    behaviour = Behaviour(
        user_data=mime_user_data(), meta={"instance-id": "i-0mime", "local-ipv4": "10.0.2.15"}
    )
    boots = []
    for n in (1, 2):
        with FakeIMDS(behaviour) as server:
            b = machine.boot(disk, tmp_path, cmdline=cmdline, server_port=int(server.url.rsplit(":", 1)[1]))
        scenario = f"gzip'd MIME from EC2, boot {n}"
        boots.append((booted(scenario, b), explain(scenario, b)))
    (first, why1), (second, why2) = boots
    assert lines(first, "unit") == ["mime-unit.service active loaded"], why1
    assert lines(first, "file") == ["from the mime part"], why1
    assert lines(first, "runs") == ["1"], why1
    assert lines(first, "run") == ["ran from the mime part"], why1
    assert [s.split() for s in lines(first, "script")] == [["ActiveState=active", "ConditionResult=yes"]], (
        why1
    )
    assert lines(first, "cached") == ["1f8b"], "the cache keeps the user-data as sent: " + why1
    # Second boot: the cached config again, and the script is not run again.
    assert lines(second, "unit") == ["mime-unit.service active loaded"], why2
    assert lines(second, "runs") == ["1"], "the script ran again: " + why2
    assert [s.split() for s in lines(second, "script")] == [["ActiveState=inactive", "ConditionResult=no"]], (
        why2
    )
    assert lines(second, "copy") == [], "a script that ran is not written out again: " + why2
