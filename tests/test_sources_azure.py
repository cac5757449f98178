"""ccgen fetch azure: provisioning media trees, a fake IMDS and a fake wire server on 127.0.0.1."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from ccgen.providers import wireserver

from . import platforms
from .fakemeta import FakeMeta, Reply, Rule
from .fetchrun import Run, fetch
from .platforms import KEY_A, KEY_B, USER_DATA


def media(tmp: Path, xml: str | None) -> Path:
    tree = tmp / "media"
    tree.mkdir(exist_ok=True)
    if xml is not None:
        (tree / "ovf-env.xml").write_text(xml)
    return tree


def azure(server: FakeMeta, tmp: Path, xml: str | None, *extra: str, cmdline: str = "") -> Run:
    return fetch(
        "azure", tmp, "--endpoint", server.url, "--source", str(media(tmp, xml)), *extra, cmdline=cmdline
    )


def test_media_imds_and_the_ready_report(tmp_path: Path) -> None:
    with FakeMeta(platforms.azure(imds_user_data=b"#cloud-config\nnot: used\n")) as server:
        r = azure(server, tmp_path, platforms.ovf_env())
        seen = server.seen()
    assert r.status == 0, r.stderr
    assert r.user_data() == platforms.AZURE_CUSTOM, "CustomData comes before IMDS userData"
    assert r.meta() == {
        "PROVIDER": "azure",
        "STATE": "present",
        "INSTANCE_ID": "5c08b38e-4d57-4c23-ac45-aca61037f084",
        "HOSTNAME": "az1",
        "LOCAL_IPV4": "10.0.0.4",
        "PUBLIC_IPV4": "20.50.1.2",
        "REGION": "westeurope",
        "ZONE": "1",
        "INSTANCE_TYPE": "Standard_B2s",
    }
    assert r.keys() == [KEY_A, KEY_B]
    imds = [s for s in seen if s.path.startswith("/metadata/")]
    assert [s.path for s in imds] == [platforms.AZURE_INSTANCE]
    assert all(s.headers.get("metadata") == "true" for s in imds)
    wire = [s for s in seen if s.path.startswith("/machine")]
    assert [(s.method, s.path) for s in wire] == [
        ("GET", "/machine/?comp=goalstate"),
        ("POST", "/machine/?comp=health"),
    ]
    assert all(
        s.headers.get("x-ms-version") == "2012-11-30" and s.headers.get("x-ms-agent-name") for s in wire
    )
    post = wire[1]
    assert post.headers["content-type"].startswith("text/xml")
    body = post.body.decode()
    for part in (
        "<GoalStateIncarnation>1</GoalStateIncarnation>",
        "<ContainerId>a511aa6d-29e7-4f53-8788-55655dfe848f</ContainerId>",
        "<InstanceId>f6cd1d7ef1644557b9059345e5ba890c.az1</InstanceId>",
        "<State>Ready</State>",
    ):
        assert part in body, body


def test_without_media_imds_gives_everything(tmp_path: Path) -> None:
    with FakeMeta(platforms.azure(imds_user_data=USER_DATA)) as server:
        r = azure(server, tmp_path, None)
        paths = [s.path for s in server.seen()]
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA
    assert r.meta()["HOSTNAME"] == "az1-imds"
    assert r.keys() == [KEY_B]
    assert platforms.AZURE_USER_DATA in paths and "/machine/?comp=health" in paths


def test_no_custom_data_and_empty_user_data_is_absent(tmp_path: Path) -> None:
    with FakeMeta(platforms.azure(imds_user_data=None)) as server:
        r = azure(server, tmp_path, platforms.ovf_env(custom_data=None, key=None))
    assert r.status == 0, r.stderr
    assert r.meta()["STATE"] == "absent" and r.user_data() is None
    assert r.keys() == [KEY_B]


def test_imds_refuses_a_request_without_the_metadata_header(tmp_path: Path) -> None:
    with FakeMeta(platforms.azure()) as server:
        try:
            urllib.request.urlopen(server.url + platforms.AZURE_INSTANCE, timeout=5)
            status = 200
        except urllib.error.HTTPError as e:
            status = e.code
    assert status == 400  # so the successful fetches above prove ccgen sends it


def test_a_400_from_imds_is_an_error_with_its_reason(tmp_path: Path) -> None:
    b = platforms.azure()
    # A service that wants another header value: ccgen's request gets the documented 400.
    b.rules[0] = Rule("/metadata/", "Metadata", "yes", b.rules[0].reply)
    with FakeMeta(b) as server:
        r = azure(server, tmp_path, platforms.ovf_env())
        posts = server.seen("POST")
    assert r.status == 1 and "HTTP 400" in r.stderr and "Required metadata header" in r.stderr, r.stderr
    assert not posts, "no ready report when nothing was fetched"
    assert not (tmp_path / "root/var/lib/ccgen").exists()


def test_410_is_retried(tmp_path: Path) -> None:
    b = platforms.azure()
    b.fail_first, b.fail_status = 2, 410
    with FakeMeta(b) as server:
        r = azure(server, tmp_path, platforms.ovf_env())
    assert r.status == 0, r.stderr


def test_a_failed_ready_report_fails_the_unit_but_keeps_the_data(tmp_path: Path) -> None:
    with FakeMeta(platforms.azure(health=403)) as server:
        r = azure(server, tmp_path, platforms.ovf_env())
    assert r.status == 1 and "ready report" in r.stderr and "403" in r.stderr, r.stderr
    assert r.user_data() == platforms.AZURE_CUSTOM


def test_a_goal_state_without_container_is_an_error(tmp_path: Path) -> None:
    b = platforms.azure()
    b.routes["GET /machine/?comp=goalstate"] = platforms.GOAL_STATE.replace(b"ContainerId", b"Other")
    with FakeMeta(b) as server:
        r = azure(server, tmp_path, platforms.ovf_env())
        posts = server.seen("POST")
    assert r.status == 1 and "no ContainerId" in r.stderr, r.stderr
    assert not posts


def test_ready_is_reported_on_every_boot(tmp_path: Path) -> None:
    with FakeMeta(platforms.azure()) as server:
        first = azure(server, tmp_path, platforms.ovf_env())
        second = azure(server, tmp_path, platforms.ovf_env())
        posts = server.seen("POST", "/machine/?comp=health")
    assert first.status == 0 and second.status == 0, second.stderr
    assert "unchanged" in second.stderr
    assert len(posts) == 2


def test_a_wire_server_of_its_own(tmp_path: Path) -> None:
    imds_only = platforms.azure()
    imds_only.routes = {k: v for k, v in imds_only.routes.items() if "/machine" not in k}
    with FakeMeta(imds_only) as imds, FakeMeta(platforms.azure()) as wire:
        r = azure(imds, tmp_path, platforms.ovf_env(), cmdline=f"ccgen.azure.wireserver={wire.url}")
        assert not imds.seen("POST") and len(wire.seen("POST")) == 1
        assert not [s for s in wire.seen() if s.path.startswith("/metadata")]
    assert r.status == 0, r.stderr


def test_broken_ovf_env_keeps_the_cache(tmp_path: Path) -> None:
    with FakeMeta(platforms.azure()) as server:
        assert azure(server, tmp_path, platforms.ovf_env()).status == 0
        r = azure(server, tmp_path, "<ns0:Environment")
        multiple = platforms.ovf_env().replace(
            "<ns1:HostName>az1</ns1:HostName>", "<ns1:HostName>a</ns1:HostName>" * 2
        )
        r2 = azure(server, tmp_path, multiple)
    assert r.status == 1 and "not valid XML" in r.stderr
    assert r2.status == 1 and "more than one HostName" in r2.stderr
    assert r.user_data() == platforms.AZURE_CUSTOM


def test_imds_without_vm_id_is_not_azure(tmp_path: Path) -> None:
    b = platforms.azure()
    b.routes[platforms.AZURE_INSTANCE] = Reply(200, b'{"compute": {}}')
    with FakeMeta(b) as server:
        r = azure(server, tmp_path, None)
    assert r.status == 1 and "vmId" in r.stderr


def test_wire_server_address_from_the_dhcp_lease(tmp_path: Path) -> None:
    leases = tmp_path / "run/systemd/netif/leases"
    leases.mkdir(parents=True)
    (leases / "2").write_text("# This is private data.\nADDRESS=10.0.0.4\nOPTION_245=a83f8110\n")
    assert wireserver.from_leases(str(tmp_path)) == "http://168.63.129.16"
    (leases / "2").write_text("ADDRESS=10.0.0.4\n")
    assert wireserver.from_leases(str(tmp_path)) is None
    assert wireserver.from_leases(str(tmp_path / "nothing")) is None


def test_health_body_escapes_its_values() -> None:
    body = wireserver.health("1", "c<1>", "i&2").decode()
    assert "<ContainerId>c&lt;1&gt;</ContainerId>" in body and "<InstanceId>i&amp;2</InstanceId>" in body
