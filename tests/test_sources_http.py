"""ccgen fetch for the network providers, each against a fake service on 127.0.0.1.

The first half runs the same failure rules on every one of them (404, 500,
timeouts, truncated bodies, a failure keeping the cache); the second half
checks what each platform yields and its quirks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import platforms
from .fakemeta import Behaviour, FakeMeta, Reply
from .fetchrun import Run, fetch
from .platforms import KEY_A, KEY_B, KEY_C, USER_DATA


@dataclass
class Platform:
    name: str
    behaviour: Callable[[], Behaviour]
    main: str  # a path every fetch reads, for the truncation test
    args: Callable[[FakeMeta, Path], list[str]]
    cmdline: Callable[[FakeMeta], str] = lambda server: ""


def endpoint(server: FakeMeta, tmp: Path) -> list[str]:
    return ["--endpoint", server.url]


def azure_args(server: FakeMeta, tmp: Path) -> list[str]:
    media = tmp / "no-media"  # provisioning media without ovf-env.xml: IMDS alone
    media.mkdir(exist_ok=True)
    return ["--endpoint", server.url, "--source", str(media)]


PLATFORMS = {
    "digitalocean": Platform("digitalocean", platforms.digitalocean, "/metadata/v1.json", endpoint),
    "gce": Platform("gce", platforms.gce, platforms.GCE + "instance/id", endpoint),
    "packet": Platform("packet", platforms.packet, "/metadata", endpoint),
    "azure": Platform(
        "azure", lambda: platforms.azure(imds_user_data=USER_DATA), "/metadata/instance", azure_args
    ),
    "url": Platform(
        "url",
        lambda: Behaviour(routes={"/cc.yml": USER_DATA}),
        "/cc.yml",
        lambda server, tmp: [],
        lambda server: f"cloud-config-url={server.url}/cc.yml",
    ),
    "nocloud": Platform(
        "nocloud",
        lambda: Behaviour(routes={"/seed/meta-data": b"instance-id: iid-1\n", "/seed/user-data": USER_DATA}),
        "/seed/user-data",
        lambda server, tmp: [],
        lambda server: f"ds=nocloud;s={server.url}/seed/",
    ),
}


def run(p: Platform, server: FakeMeta, tmp: Path, *extra: str) -> Run:
    return fetch(p.name, tmp, *p.args(server, tmp), *extra, cmdline=p.cmdline(server))


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> Platform:
    return PLATFORMS[request.param]


# The same rules everywhere


def test_success_stores_user_data_and_metadata_file(platform: Platform, tmp_path: Path) -> None:
    with FakeMeta(platform.behaviour()) as server:
        r = run(platform, server, tmp_path)
    assert r.status == 0, r.stderr
    assert r.meta()["STATE"] == "present" and r.meta()["PROVIDER"] == platform.name
    assert r.user_data() == USER_DATA
    assert r.attributes()["CCGEN_PROVIDER"] == platform.name


def test_transient_errors_are_retried(platform: Platform, tmp_path: Path) -> None:
    b = platform.behaviour()
    b.fail_first, b.fail_status = 3, 503
    with FakeMeta(b) as server:
        r = run(platform, server, tmp_path)
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA


def test_a_failing_service_keeps_the_cache_and_its_metadata_file(platform: Platform, tmp_path: Path) -> None:
    with FakeMeta(platform.behaviour()) as server:
        assert run(platform, server, tmp_path).status == 0
    before = sorted((p.name, p.read_bytes()) for p in (tmp_path / "root/var/lib/ccgen" / "current").iterdir())
    first = (tmp_path / "root/run/metadata/ccgen").read_text()
    (tmp_path / "root/run/metadata/ccgen").unlink()  # a new boot: /run is empty
    with FakeMeta(Behaviour(fail_always=True)) as server:
        r = run(platform, server, tmp_path, "--deadline", "2")
    assert r.status == 1 and "the cache is kept" in r.stderr, r.stderr
    assert (
        sorted((p.name, p.read_bytes()) for p in (tmp_path / "root/var/lib/ccgen" / "current").iterdir())
        == before
    )
    # Other units still get this instance's metadata, now from the cache.
    assert r.attributes() == {k: v for k, v in (ln.split("=", 1) for ln in first.splitlines()[1:])}
    assert "from the cache" in r.attributes_file.read_text()


def test_nothing_there_is_an_error_not_an_empty_config(platform: Platform, tmp_path: Path) -> None:
    with FakeMeta(Behaviour()) as server:  # every path answers 404
        r = run(platform, server, tmp_path)
    assert r.status == 1, r.stderr
    assert not (tmp_path / "root/var/lib/ccgen").exists()


def test_a_truncated_body_is_never_data(platform: Platform, tmp_path: Path) -> None:
    b = platform.behaviour()
    b.truncate = {platform.main}
    with FakeMeta(b) as server:
        r = run(platform, server, tmp_path, "--deadline", "2")
        asked = len(server.seen(path=None))
    # The last attempt may also be the one the deadline cut, so either message is right.
    assert r.status == 1 and ("cut short" in r.stderr or "within" in r.stderr), r.stderr
    assert asked > 1 and not (tmp_path / "root/var/lib/ccgen").exists()
    b.truncate_times = 1  # cut once, whole on the retry
    with FakeMeta(b) as server:
        r = run(platform, server, tmp_path)
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA


def test_a_slow_service_is_bounded_by_the_deadline(platform: Platform, tmp_path: Path) -> None:
    b = platform.behaviour()
    b.slow = 3
    start = time.monotonic()
    with FakeMeta(b) as server:
        r = run(platform, server, tmp_path, "--deadline", "2")
    assert r.status == 1 and ("deadline" in r.stderr or "within" in r.stderr), r.stderr
    assert time.monotonic() - start < 15
    assert not (tmp_path / "root/var/lib/ccgen").exists()


@pytest.mark.parametrize("name", ["digitalocean", "gce", "packet", "azure"])
def test_the_real_address_is_refused_in_tests(name: str, tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    r = fetch(name, tmp_path, *(["--source", str(media)] if name == "azure" else []))
    assert r.status == 2 and "refusing the platform's real metadata address" in r.stderr
    assert not (tmp_path / "root/var/lib/ccgen").exists()


# DigitalOcean


def test_digitalocean_everything(tmp_path: Path) -> None:
    with FakeMeta(platforms.digitalocean()) as server:
        r = fetch("digitalocean", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.meta() == {
        "PROVIDER": "digitalocean",
        "STATE": "present",
        "INSTANCE_ID": "2756294",
        "HOSTNAME": "sample-droplet",
        "PUBLIC_IPV4": "104.131.20.105",
        "PUBLIC_IPV6": "2604:a880:800:10::17d:2001",
        "LOCAL_IPV4": "10.132.255.113",
        "REGION": "nyc3",
    }
    assert r.keys() == [KEY_A]
    assert r.attributes() == {
        "CCGEN_PROVIDER": "digitalocean",
        "CCGEN_INSTANCE_ID": "2756294",
        "CCGEN_HOSTNAME": "sample-droplet",
        "CCGEN_REGION": "nyc3",
        "CCGEN_IPV4_PUBLIC": "104.131.20.105",
        "CCGEN_IPV4_PRIVATE": "10.132.255.113",
        "CCGEN_IPV6_PUBLIC": "2604:a880:800:10::17d:2001",
        "COREOS_PUBLIC_IPV4": "104.131.20.105",
        "COREOS_PRIVATE_IPV4": "10.132.255.113",
        "COREOS_PUBLIC_IPV6": "2604:a880:800:10::17d:2001",
    }


@pytest.mark.parametrize("answer", ["404", "empty"])
def test_digitalocean_droplet_without_user_data(tmp_path: Path, answer: str) -> None:
    b = platforms.digitalocean(user_data=None)
    if answer == "empty":
        b.routes["/metadata/v1/user-data"] = b""
    with FakeMeta(b) as server:
        r = fetch("digitalocean", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.meta()["STATE"] == "absent" and r.user_data() is None
    assert r.meta()["INSTANCE_ID"] == "2756294"


def test_digitalocean_metadata_only_without_interfaces_or_keys(tmp_path: Path) -> None:
    doc = platforms.digitalocean_doc(keys=[], with_interfaces=False)
    with FakeMeta(platforms.digitalocean(user_data=None, doc=doc)) as server:
        r = fetch("digitalocean", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.meta() == {
        "PROVIDER": "digitalocean",
        "STATE": "absent",
        "INSTANCE_ID": "2756294",
        "HOSTNAME": "sample-droplet",
        "REGION": "nyc3",
    }
    assert r.keys() == []


def test_digitalocean_invalid_json_keeps_the_cache(tmp_path: Path) -> None:
    with FakeMeta(platforms.digitalocean()) as server:
        assert fetch("digitalocean", tmp_path, "--endpoint", server.url).status == 0
    b = platforms.digitalocean()
    b.routes["/metadata/v1.json"] = b'{"droplet_id": 1, '
    with FakeMeta(b) as server:
        r = fetch("digitalocean", tmp_path, "--endpoint", server.url)
    assert r.status == 1 and "not valid JSON" in r.stderr
    assert r.meta()["INSTANCE_ID"] == "2756294"


def test_digitalocean_bad_values_are_dropped(tmp_path: Path) -> None:
    doc = platforms.digitalocean_doc()
    doc["hostname"] = "evil\nINJECTED=1"
    doc["region"] = "nyc3 $(reboot)"
    doc["interfaces"] = {"public": [{"ipv4": {"ip_address": "not-an-ip"}, "ipv6": None}], "private": None}
    with FakeMeta(platforms.digitalocean(doc=doc)) as server:
        r = fetch("digitalocean", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert set(r.meta()) == {"PROVIDER", "STATE", "INSTANCE_ID"}
    assert "INJECTED" not in r.attributes_file.read_text()


# Google Compute Engine


def test_gce_everything(tmp_path: Path) -> None:
    with FakeMeta(platforms.gce()) as server:
        r = fetch("gce", tmp_path, "--endpoint", server.url)
        seen = server.seen()
    assert r.status == 0, r.stderr
    assert all(s.headers.get("metadata-flavor") == "Google" for s in seen) and len(seen) >= 8
    assert r.user_data() == USER_DATA
    assert r.meta() == {
        "PROVIDER": "gce",
        "STATE": "present",
        "INSTANCE_ID": "4520031799277581759",
        "HOSTNAME": "gce-node.c.my-project.internal",
        "LOCAL_IPV4": "10.128.0.5",
        "PUBLIC_IPV4": "34.68.10.20",
        "REGION": "us-central1",
        "ZONE": "us-central1-a",
        "INSTANCE_TYPE": "e2-medium",
    }
    # Instance keys, then the project's; the user: prefix is not part of the key.
    assert r.keys() == [KEY_A, KEY_B, KEY_C]


def test_gce_a_request_without_the_flavor_header_is_refused_by_the_fake(tmp_path: Path) -> None:
    import urllib.request

    with FakeMeta(platforms.gce()) as server:
        try:
            urllib.request.urlopen(server.url + platforms.GCE + "instance/id", timeout=5)
        except urllib.error.HTTPError as e:
            status = e.code
        with urllib.request.urlopen(
            urllib.request.Request(
                server.url + platforms.GCE + "instance/id", headers={"Metadata-Flavor": "Google"}
            ),
            timeout=5,
        ) as resp:
            assert resp.status == 200
    # So a successful fetch (test_gce_everything) proves ccgen sent it on every request.
    assert status == 403


def test_gce_an_answer_without_the_flavor_header_is_refused(tmp_path: Path) -> None:
    with FakeMeta(platforms.gce(flavor_in_answers=False)) as server:
        r = fetch("gce", tmp_path, "--endpoint", server.url)
    assert r.status == 1 and "Metadata-Flavor" in r.stderr, r.stderr
    assert not (tmp_path / "root/var/lib/ccgen").exists()


def test_gce_block_project_ssh_keys(tmp_path: Path) -> None:
    with FakeMeta(platforms.gce(instance={"block-project-ssh-keys": "TRUE"})) as server:
        r = fetch("gce", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.keys() == [KEY_A, KEY_B]


def test_gce_legacy_instance_sshkeys_win_alone(tmp_path: Path) -> None:
    with FakeMeta(platforms.gce(instance={"sshKeys": f"old:{KEY_C}"})) as server:
        r = fetch("gce", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.keys() == [KEY_C]


def test_gce_expired_and_malformed_keys_are_left_out(tmp_path: Path) -> None:
    expired = f'{KEY_B} google-ssh {{"userName":"b@x","expireOn":"2001-01-01T00:00:00+0000"}}'
    valid = f'{KEY_C} google-ssh {{"userName":"c@x","expireOn":"2999-01-01T00:00:00+0000"}}'
    lines = f"core:{KEY_A}\nnouser-{KEY_A}\nbob:{expired}\ncarol:{valid}"
    with FakeMeta(platforms.gce(instance={"ssh-keys": lines}, project={})) as server:
        r = fetch("gce", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.keys() == [KEY_A, valid]
    assert "without user" in r.stderr


def test_gce_no_user_data_no_external_address(tmp_path: Path) -> None:
    with FakeMeta(platforms.gce(user_data=None, external_ip=None)) as server:
        r = fetch("gce", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.meta()["STATE"] == "absent" and "PUBLIC_IPV4" not in r.meta()


def test_gce_base64_user_data(tmp_path: Path) -> None:
    import base64

    encoded = base64.b64encode(USER_DATA).decode()
    b = platforms.gce(user_data=None, instance={"user-data": encoded, "user-data-encoding": "base64"})
    with FakeMeta(b) as server:
        r = fetch("gce", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA


# Packet / Equinix Metal


def test_packet_everything(tmp_path: Path) -> None:
    with FakeMeta(platforms.packet()) as server:
        r = fetch("packet", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.meta() == {
        "PROVIDER": "packet",
        "STATE": "present",
        "INSTANCE_ID": "2f3c6a4e-6d1b-4c0e-9b1e-3f1a9f0b2c11",
        "HOSTNAME": "pkt-node-1",
        "PUBLIC_IPV4": "147.75.80.11",  # the first public one, not the last
        "LOCAL_IPV4": "10.70.12.129",
        "PUBLIC_IPV6": "2604:1380:4641:1b00::1",
        "REGION": "da",
        "ZONE": "da11",
        "INSTANCE_TYPE": "c3.small.x86",
    }
    assert r.keys() == [KEY_A, KEY_B]


@pytest.mark.parametrize("answer", ["404", "empty"])
def test_packet_without_user_data(tmp_path: Path, answer: str) -> None:
    b = platforms.packet(user_data=None if answer == "404" else b"")
    with FakeMeta(b) as server:
        r = fetch("packet", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert r.meta()["STATE"] == "absent"


def test_packet_metadata_that_is_not_an_object(tmp_path: Path) -> None:
    b = platforms.packet()
    b.routes["/metadata"] = json.dumps(["not", "an", "object"]).encode()
    with FakeMeta(b) as server:
        r = fetch("packet", tmp_path, "--endpoint", server.url)
    assert r.status == 1 and "not a JSON object" in r.stderr


# url


def test_url_last_of_the_three_spellings_wins_and_quotes_go(tmp_path: Path) -> None:
    routes: dict[str, Reply | bytes] = {"/a": b"#cloud-config\na: 1\n", "/b": b"#cloud-config\nb: 1\n"}
    with FakeMeta(Behaviour(routes=routes)) as server:
        line = f'ccgen.url={server.url}/a cloud_config_url="{server.url}/b" quiet'
        r = fetch("url", tmp_path, cmdline=line)
        assert [s.path for s in server.seen()] == ["/b"]
    assert r.status == 0, r.stderr
    assert r.user_data() == b"#cloud-config\nb: 1\n"
    assert r.meta() == {"PROVIDER": "url", "STATE": "present"}


def test_url_404_is_an_error_that_keeps_the_cache(tmp_path: Path) -> None:
    with FakeMeta(Behaviour(routes={"/cc": USER_DATA})) as server:
        assert fetch("url", tmp_path, cmdline=f"ccgen.url={server.url}/cc").status == 0
        r = fetch("url", tmp_path, cmdline=f"ccgen.url={server.url}/gone")
    assert r.status == 1 and "HTTP 404" in r.stderr
    assert r.user_data() == USER_DATA


def test_url_follows_redirects(tmp_path: Path) -> None:
    routes: dict[str, Reply | bytes] = {"/old": Reply(302, b"", {"Location": "/new"}), "/new": USER_DATA}
    with FakeMeta(Behaviour(routes=routes)) as server:
        r = fetch("url", tmp_path, cmdline=f"cloud-config-url={server.url}/old")
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA and "redirected" in r.stderr


@pytest.mark.parametrize("value", ["ftp://127.0.0.1/x", "/etc/passwd", '"'])
def test_url_only_http(tmp_path: Path, value: str) -> None:
    r = fetch("url", tmp_path, cmdline=f"ccgen.url={value}")
    assert r.status == 1 and "URL" in r.stderr, r.stderr


def test_url_endpoint_option_overrides_the_command_line(tmp_path: Path) -> None:
    with FakeMeta(Behaviour(routes={"/x": USER_DATA})) as server:
        r = fetch("url", tmp_path, "--endpoint", server.url + "/x", cmdline="ccgen.url=http://127.0.0.1:9/y")
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA


# NoCloud over HTTP (the disk is in test_sources_local.py)


def test_nocloud_net_seed_with_overrides(tmp_path: Path) -> None:
    meta = f"instance-id: iid-1\nlocal-hostname: nc-node\npublic-keys:\n  - {KEY_A}\n".encode()
    b = Behaviour(routes={"/seed/meta-data": meta, "/seed/user-data": USER_DATA})
    with FakeMeta(b) as server:
        r = fetch("nocloud", tmp_path, cmdline=f"ds=nocloud-net;s={server.url}/seed/;h=from-cmdline")
        assert [s.path for s in server.seen()] == ["/seed/meta-data", "/seed/user-data"]
    assert r.status == 0, r.stderr
    assert r.meta() == {
        "PROVIDER": "nocloud",
        "STATE": "present",
        "INSTANCE_ID": "iid-1",
        "HOSTNAME": "from-cmdline",
    }
    assert r.keys() == [KEY_A]


def test_nocloud_net_without_user_data_or_meta_data(tmp_path: Path) -> None:
    with FakeMeta(Behaviour(routes={"/seed/meta-data": b"instance-id: iid-2\n"})) as server:
        r = fetch("nocloud", tmp_path, cmdline=f"ds=nocloud;s={server.url}/seed/")
    assert r.status == 0, r.stderr
    assert r.meta()["STATE"] == "absent" and r.meta()["INSTANCE_ID"] == "iid-2"
    with FakeMeta(Behaviour(routes={"/seed/user-data": USER_DATA})) as server:
        r = fetch("nocloud", tmp_path / "2", cmdline=f"ds=nocloud;s={server.url}/seed")
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA and "does not end in /" in r.stderr
