"""Remote Docker hosts with real parts: a second dockerd behind an sshd on 127.0.0.1
(scripts/test-remote.sh), reached through the system ssh, as a user's ~/.ssh/config would
reach a GPU box; and the faults a fleet has: a wrong key, an sshd that stops, an engine
down behind a working sshd, a host that takes the connection and never answers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import SIM_IMAGE
from tests.support.fleet import (
    SECOND_SOCKET,
    SSH_DIR,
    SSH_PORT,
    TLS_DIR,
    TLS_PORT,
    Fleet,
    SpareSshd,
    make_profile,
)
from tests.support.helpers import REPO, free_port

pytestmark = pytest.mark.engine


def test_hosts_lists_the_local_engine_and_the_one_over_ssh_with_their_engines(
    fleet: Fleet,
) -> None:
    hosts = fleet.hosts_json()
    assert list(hosts) == ["local", "gpu-2"]
    assert hosts["local"]["reachable"] and hosts["gpu-2"]["reachable"]
    assert str(hosts["gpu-2"]["engine"]).startswith("Docker Engine 20.10")
    assert hosts["gpu-2"]["source"] == "config"
    table = fleet.vtui("hosts")
    assert table.returncode == 0
    assert (
        f"ssh://root@127.0.0.1:{SSH_PORT}" in table.stdout and "reachable: Docker" in table.stdout
    )


def test_a_docker_context_made_by_the_docker_cli_is_a_host(fleet: Fleet) -> None:
    env = fleet.env()
    made = subprocess.run(
        ["docker", "context", "create", "lab", "--docker", f"host=unix://{SECOND_SOCKET}"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    hosts = fleet.hosts_json()
    assert hosts["lab"]["source"] == "context" and hosts["lab"]["reachable"]
    assert hosts["lab"]["docker"] == f"unix://{SECOND_SOCKET}"


def test_up_ps_logs_down_on_the_host_over_ssh(fleet: Fleet) -> None:
    name = make_profile(fleet, "remote1")
    up = fleet.vtui("up", name, "--host", "gpu-2")
    assert up.returncode == 0, up.stderr
    assert "of host gpu-2" in up.stdout and "ready" in up.stdout
    assert f"from here: vtui chat --name vtui-{name} (vtui opens an ssh tunnel" in up.stdout
    # The container is on the second engine, not on this machine's.
    second = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}}"],
        env={**os.environ, "DOCKER_HOST": f"unix://{SECOND_SOCKET}"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert f"vtui-{name}" in second.stdout.split()
    mine = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True
    )
    assert f"vtui-{name}" not in mine.stdout.split()

    ps = fleet.vtui("ps")
    assert ps.stdout.splitlines()[0].startswith("HOST")
    row = next(line for line in ps.stdout.splitlines() if f"vtui-{name}" in line)
    assert row.split()[:3] == ["gpu-2", f"vtui-{name}", "running"]
    listed = json.loads(fleet.vtui("ps", "--json", "--host", "gpu-2").stdout)
    assert [(r["host"], r["name"]) for r in listed] == [("gpu-2", f"vtui-{name}")]
    assert listed[0]["id"].startswith("gpu-2/")
    assert json.loads(fleet.vtui("ps", "--json", "--host", "local").stdout) == [
        r for r in json.loads(fleet.vtui("ps", "--json").stdout) if r["host"] == "local"
    ]

    logs = fleet.vtui("logs", name, "--tail", "3")
    assert logs.returncode == 0 and len(logs.stdout.splitlines()) == 3

    again = fleet.vtui("up", name)
    assert again.returncode == 0 and "of host gpu-2); left as it is" in again.stdout

    down = fleet.vtui("down", name)
    assert down.returncode == 0, down.stderr
    assert f"stopped and removed vtui-{name}" in down.stdout
    assert not json.loads(fleet.vtui("ps", "--json", "--host", "gpu-2").stdout)


def test_a_wrong_key_is_said_in_ssh_s_own_words(fleet: Fleet) -> None:
    fleet.use_key(SSH_DIR / "wrong_key")
    gpu2 = fleet.hosts_json()["gpu-2"]
    assert not gpu2["reachable"]
    assert "Permission denied (publickey)" in str(gpu2["error"])
    ps = fleet.vtui("ps")
    assert ps.returncode == 0  # the local engine still answers
    assert "gpu-2" in ps.stdout and "unreachable" in ps.stdout and "Permission denied" in ps.stdout


def test_an_engine_down_behind_a_working_sshd_is_named(
    fleet: Fleet, spare_sshd: Callable[[str], SpareSshd]
) -> None:
    sshd = spare_sshd("unix:///run/vtui-no-such-engine.sock")
    fleet.add("gpu-9", f"ssh://root@127.0.0.1:{sshd.port}")
    gpu9 = fleet.hosts_json()["gpu-9"]
    assert not gpu9["reachable"]
    assert "dial unix /run/vtui-no-such-engine.sock" in str(gpu9["error"])
    assert "no such file or directory" in str(gpu9["error"])


def test_an_sshd_that_stops_between_two_listings_makes_its_host_unreachable(
    fleet: Fleet, spare_sshd: Callable[[str], SpareSshd]
) -> None:
    sshd = spare_sshd(f"unix://{SECOND_SOCKET}")
    fleet.add("gpu-5", f"ssh://root@127.0.0.1:{sshd.port}")
    assert fleet.hosts_json()["gpu-5"]["reachable"]
    sshd.stop()
    began = time.monotonic()
    gpu5 = fleet.hosts_json()["gpu-5"]
    assert time.monotonic() - began < 20
    assert not gpu5["reachable"] and "Connection refused" in str(gpu5["error"])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Takes every connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_host_that_never_answers_costs_its_deadline_and_no_more(
    fleet: Fleet, silent_server: int
) -> None:
    fleet.add("mute-ssh", f"ssh://root@127.0.0.1:{silent_server}")
    fleet.add("mute-tcp", f"tcp://127.0.0.1:{silent_server}")
    began = time.monotonic()
    hosts = fleet.hosts_json()
    took = time.monotonic() - began
    assert hosts["gpu-2"]["reachable"]  # the others answer meanwhile
    assert not hosts["mute-ssh"]["reachable"] and not hosts["mute-tcp"]["reachable"]
    assert "no answer" in str(hosts["mute-tcp"]["error"])
    # Both asked at once, each bounded by its deadline (8 s) plus start-up: never their sum.
    assert took < 16, took


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('docker = "ftp://gpu-3"', "vtui reaches engines by unix://, ssh://, tcp://, not ftp"),
        ('docker = "tcp://gpu-3"', "a tcp:// address needs its port"),
        ('docker = "ssh://-oProxyCommand=x@gpu-3"', "is not a user name"),
        ('docker = "ssh://me@-oProxyCommand=x"', "is not a host name"),
        ('docker = "ssh://me:secret@gpu-3"', "give no password in the URL"),
        ('docker = "ssh://me@gpu-3/x"', "nothing may follow the host and port"),
        ('docker = "tcp://gpu-3:99999"', "is not a valid URL"),
        ('docker = "ssh://me@gpu 3"', "holds a space or a control character"),
        ('docker = "tcp://gpu-3:2376"\ntls_cert = "/c.pem"', "tls_cert and tls_key come together"),
        ('docker = "ssh://gpu-3"\ntls_ca = "/ca.pem"', "TLS files go with a tcp:// address"),
        ('docker = "tcp://gpu-3:2376"\nport = 3', "unknown settings port"),
    ],
)
def test_a_bad_host_entry_is_refused_with_its_name_and_the_others_still_work(
    fleet: Fleet, table: str, words: str
) -> None:
    path = fleet.config / "vtui" / "config.toml"
    path.write_text(path.read_text() + f"[hosts.broken]\n{table}\n")
    done = fleet.vtui("hosts")
    assert done.returncode == 0
    assert "host broken" in done.stderr and words in done.stderr, done.stderr
    assert "gpu-2" in done.stdout and "broken" not in done.stdout


def test_tls_files_that_do_not_exist_are_named(fleet: Fleet) -> None:
    path = fleet.config / "vtui" / "config.toml"
    path.write_text(
        path.read_text() + '[hosts.tls]\ndocker = "tcp://127.0.0.1:2376"\n'
        'tls_ca = "/nonexistent/ca.pem"\ntls_cert = "/nonexistent/c.pem"\n'
        'tls_key = "/nonexistent/k.pem"\n'
    )
    tls = fleet.hosts_json()["tls"]
    assert not tls["reachable"] and "TLS ca file /nonexistent/ca.pem does not exist" in str(
        tls["error"]
    )


def test_an_unknown_host_is_refused_listing_the_known_ones(fleet: Fleet) -> None:
    for argv in (["ps"], ["up", "x"], ["logs", "x"]):
        argv = [*argv, "--host", "gpu-7"]
        done = fleet.vtui(*argv)
        assert done.returncode == 1
        assert "no host called 'gpu-7'; known: local, gpu-2" in done.stderr


def test_chat_and_bench_reach_a_remote_deployment_through_an_ssh_tunnel(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vtui.backends.registry import real_backends
    from vtui.services.deployments import find

    name = make_profile(fleet, "remote2")
    assert fleet.vtui("up", name, "--host", "gpu-2").returncode == 0
    chat = fleet.vtui("chat", "--name", name, "--prompt", "hello over ssh")
    assert chat.returncode == 0, chat.stderr
    assert "You asked: \u201chello over ssh\u201d" in chat.stdout
    bench = fleet.vtui("bench", "--name", name, "--duration", "3", "--max-tokens", "16")
    assert bench.returncode == 0, bench.stderr
    assert "errors      none" in bench.stdout

    for key, value in fleet.env().items():
        monkeypatch.setenv(key, value)
    from vtui.services.hosts import be_patient

    backends = real_backends()
    assert backends.hosts is not None
    be_patient(backends)  # as a command is: the first listing waits for the remote host
    try:
        deployment = find(backends.engine.list_deployments(), name)
        assert deployment is not None and deployment.engine_host == "gpu-2"
        endpoint = backends.endpoint_for(deployment)
        # Not the port it publishes over there: a port of this machine that ssh holds.
        tunnel_port = int(endpoint.base_url.rsplit(":", 1)[1])
        assert tunnel_port != deployment.port
        listeners = subprocess.run(
            ["ss", "-Hltnp", f"sport = :{tunnel_port}"], capture_output=True, text=True
        ).stdout
        assert '"ssh"' in listeners and "127.0.0.1" in listeners
        assert endpoint.served_models() == ["Qwen/Qwen2.5-7B-Instruct"]
    finally:
        backends.hosts.close()
    with socket.socket() as probe:  # closed with the hosts: nothing is left listening
        assert probe.connect_ex(("127.0.0.1", tunnel_port)) != 0


def test_a_remote_host_s_gpus_are_read_by_nvidia_smi_in_a_helper_and_attributed(
    fleet: Fleet,
) -> None:
    """The second engine's default runtime is "nvidia" (runc standing for it) and its vLLM
    image holds an nvidia-smi that answers with bytes recorded on a real H200."""
    env = {**os.environ, "DOCKER_HOST": f"unix://{SECOND_SOCKET}"}
    before = subprocess.run(["docker", "ps", "-aq"], env=env, capture_output=True, text=True)
    idle = fleet.vtui("gpus", "--host", "gpu-2", "--json")
    assert idle.returncode == 0, idle.stderr
    reading = json.loads(idle.stdout)
    assert reading["source"] == "nvidia-smi on gpu-2"
    [gpu] = reading["gpus"]
    assert gpu["name"] == "NVIDIA H200" and gpu["memory_total_bytes"] == 143_771 * 1024 * 1024
    assert gpu["processes"][0]["container_name"] is None  # no deployment holds it yet

    name = make_profile(fleet, "remote3")
    assert fleet.vtui("up", name, "--host", "gpu-2").returncode == 0
    busy = json.loads(fleet.vtui("gpus", "--host", "gpu-2", "--json").stdout)
    # The process nvidia-smi names (the simulator's own host PID) is its container's, as
    # that host's engine tells.
    assert busy["gpus"][0]["processes"][0]["container_name"] == f"vtui-{name}"
    text = fleet.vtui("gpus", "--host", "gpu-2").stdout
    assert f"container vtui-{name}" in text and "nvidia-smi on gpu-2" in text
    after = subprocess.run(["docker", "ps", "-aq"], env=env, capture_output=True, text=True)
    # Every helper container went; only the deployment is new.
    assert len(after.stdout.split()) == len(before.stdout.split()) + 1


def test_gpus_of_a_host_without_the_nvidia_runtime_say_docker_s_words_and_the_fix(
    fleet: Fleet,
) -> None:
    fleet.add("plain", "unix:///var/run/docker.sock")  # this machine's engine: no runtime
    done = fleet.vtui("gpus", "--host", "plain")
    assert done.returncode == 1
    assert 'could not select device driver "" with capabilities: [[gpu]]' in done.stderr
    assert "install the NVIDIA Container Toolkit there" in done.stderr


def test_a_profile_that_names_its_host_starts_there(fleet: Fleet) -> None:
    made = fleet.vtui(
        "profile", "new", "remote4", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpus", "none",
        "--image", SIM_IMAGE, "--port", str(free_port()), "--docker-host", "gpu-2",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert (
        'docker_host = "gpu-2"' in (fleet.config / "vtui" / "profiles" / "remote4.toml").read_text()
    )
    up = fleet.vtui("up", "remote4")
    assert up.returncode == 0, up.stderr
    assert "of host gpu-2" in up.stdout
    listed = json.loads(fleet.vtui("ps", "--json").stdout)
    assert [(r["host"], r["name"]) for r in listed if r["profile"] == "remote4"] == [
        ("gpu-2", "vtui-remote4")
    ]
    unknown = fleet.vtui(
        "profile", "new", "remote5", "--model", "Qwen/Qwen2.5-7B-Instruct", "--docker-host", "gpu-7"
    )
    assert unknown.returncode == 1 and "no host called 'gpu-7'" in unknown.stderr


def test_ctrl_c_in_logs_f_of_a_remote_deployment_closes_ssh_and_leaves_it_running(
    fleet: Fleet,
) -> None:
    import signal

    name = make_profile(fleet, "remote6")
    assert fleet.vtui("up", name, "--host", "gpu-2").returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtui", "logs", name, "-f"],
        cwd=REPO, env=fleet.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _ssh_children(proc.pid):
        time.sleep(0.2)
    assert _ssh_children(proc.pid), "vtui logs -f did not reach the host over ssh"
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    time.sleep(0.5)
    assert not _ssh_children(proc.pid)  # its ssh processes ended with it
    assert not _masters_left(), _masters_left()  # and the shared master it had started
    listed = json.loads(fleet.vtui("ps", "--json", "--host", "gpu-2").stdout)
    assert [r["state"] for r in listed if r["profile"] == name] == ["running"]


def _masters_left() -> list[str]:
    """ssh master connections of vtui's relays still running (they detach from vtui)."""
    found = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "vtui-ssh-" in line and "ssh" in line]


def _ssh_children(parent: int) -> list[int]:
    """The ssh processes vtui started (its relay runs them in sessions of their own, so
    they are found by their parent, not by the process group)."""
    found = subprocess.run(["ps", "-eo", "pid,ppid,comm"], capture_output=True, text=True)
    return [
        int(pid)
        for pid, ppid, comm in (line.split(None, 2) for line in found.stdout.splitlines()[1:])
        if ppid == str(parent) and comm.strip() == "ssh"
    ]


@pytest.fixture
def web_server() -> Iterator[int]:
    """An HTTP server that is not a Docker engine: every path answers a web page."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>a web page</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_a_host_that_answers_but_is_not_a_docker_engine_is_said_so(
    fleet: Fleet, web_server: int
) -> None:
    fleet.add("web", f"tcp://127.0.0.1:{web_server}")
    web = fleet.hosts_json()["web"]
    assert not web["reachable"]
    assert f"tcp://127.0.0.1:{web_server} answers, but not as a Docker engine" in str(web["error"])


def tls_files(ca: str = "ca.pem", client: bool = True) -> dict[str, str]:
    files = {"tls_ca": str(TLS_DIR / ca)}
    if client:
        files |= {"tls_cert": str(TLS_DIR / "cert.pem"), "tls_key": str(TLS_DIR / "key.pem")}
    return files


def test_a_tcp_host_with_tls_files_is_reached_with_its_own_ca(fleet: Fleet) -> None:
    fleet.add("secure", f"tcp://127.0.0.1:{TLS_PORT}", **tls_files())
    # Set on many machines, it used to replace the host's own CA for every request.
    fleet.extra_env["REQUESTS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"
    hosts = fleet.hosts_json()
    assert hosts["secure"]["reachable"], hosts["secure"]
    assert str(hosts["secure"]["engine"]).startswith("Docker Engine 20.10")
    # No tunnel over tcp://: the profile publishes on an address opened on purpose, and
    # vtui reaches it there directly.
    name = make_profile(fleet, "tls1", host="0.0.0.0")
    up = fleet.vtui("up", name, "--host", "secure")
    assert up.returncode == 0, up.stderr
    assert "of host secure" in up.stdout and "is up" in up.stdout
    chat = fleet.vtui("chat", "--name", f"vtui-{name}", "--prompt", "hello")
    assert chat.returncode == 0, chat.stderr
    ps = fleet.vtui("ps", "--host", "secure", "--json")
    assert ps.returncode == 0, ps.stderr
    assert [row["name"] for row in json.loads(ps.stdout)] == [f"vtui-{name}"]
    down = fleet.vtui("down", name, "--host", "secure")
    assert down.returncode == 0, down.stderr
    # Bound to 127.0.0.1 over there, with no tunnel over tcp://: said at once, no wait.
    hidden = make_profile(fleet, "tls2")
    began = time.monotonic()
    up = fleet.vtui("up", hidden, "--host", "secure")
    assert up.returncode == 1 and time.monotonic() - began < 30
    assert "started, but vtui cannot reach it from here" in up.stderr
    assert "publish the port on an address you opened" in up.stderr
    assert fleet.vtui("down", hidden, "--host", "secure").returncode == 0


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (tls_files(client=False), "the TLS handshake failed"),
        (tls_files(ca="other-ca.pem"), "its TLS certificate is not trusted (check tls_ca)"),
        ({}, "speaks TLS: give its tls_ca, tls_cert and tls_key"),
    ],
    ids=["no-client-certificate", "another-ca", "no-tls-files"],
)
def test_a_tls_host_vtui_cannot_trust_or_prove_itself_to_is_named_with_the_reason(
    fleet: Fleet, settings: dict[str, str], words: str
) -> None:
    fleet.add("secure", f"tcp://127.0.0.1:{TLS_PORT}", **settings)
    secure = fleet.hosts_json()["secure"]
    assert not secure["reachable"]
    assert words in str(secure["error"])
    assert fleet.hosts_json()["gpu-2"]["reachable"]  # the other host is untouched
