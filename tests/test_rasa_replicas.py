"""Rasa servers side by side: two real Rasa processes (without a model: their channels and API answer all the same)
sharing the public door and the API door (SO_REUSEPORT), each with its own port.

One killed, the other answers the next connections at once; one drained (as a deployment does before loading a model
into it) takes no new connection until it is opened again; a model that cannot be loaded leaves both serving.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from accueil import rasa_api
from accueil.public_door import DOORS_PATH, READY_PATH, split_shared_api
from accueil.servers import rasa_server, running, shared_ports_taken
from core.settings import Settings
from tests.conftest import free_port, free_port_run

TOKEN = "jeton-des-repliques"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory):
    """Two Rasa servers for the module: the test that kills one comes last."""
    tmp_path = tmp_path_factory.mktemp("replicas")
    settings = Settings(
        var_dir=tmp_path / "var",
        db_url=f"sqlite:///{tmp_path / 'kb.db'}",
        rasa_port=free_port(),
        public_rasa_port=free_port(),
        rasa_replica_port=free_port_run(2),
        rasa_replicas=2,
        actions_port=free_port(),
        rasa_api_token=TOKEN,
    )
    servers = [rasa_server(settings, tmp_path / "no-model.tar.gz", settings.log_dir, replica) for replica in (0, 1)]
    with running(servers, timeout=180):
        yield settings, servers


def channel_answers(settings: Settings) -> bool:
    """A new connection to the public door (no keep-alive) gets the REST channel's answer."""
    try:
        reply = requests.get(f"{settings.rasa_url}/webhooks/rest/", timeout=5, headers={"Connection": "close"})
    except requests.RequestException:
        return False
    return reply.status_code == 200 and reply.json() == {"status": "ok"}


def api_answers(settings: Settings) -> bool:
    try:
        return requests.get(f"{settings.rasa_api_url}/version", timeout=5, headers={"Connection": "close"}).status_code == 200
    except requests.RequestException:
        return False


def doors(settings: Settings, replica: int, action: str, token: str | None = TOKEN) -> requests.Response:
    params = {"action": action, **({"token": token} if token else {})}
    return requests.post(f"{settings.rasa_replica_url(replica)}{DOORS_PATH}", params=params, timeout=5)


@pytest.mark.slow
def test_a_model_that_cannot_be_loaded_leaves_every_server_serving_and_a_drained_one_takes_no_new_connection(
    replicas, tmp_path: Path
) -> None:
    settings, servers = replicas
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a model")
    with pytest.raises(rasa_api.RasaApiError, match="HTTP"):
        rasa_api.load_model(settings, broken)  # each drained in turn, then opened again
    for replica in (0, 1):
        assert requests.get(f"{settings.rasa_replica_url(replica)}{READY_PATH}", timeout=5).json() == {"doors": "open"}
    assert all(channel_answers(settings) for _ in range(10))

    assert doors(settings, 0, "close", token=None).status_code == 401
    assert doors(settings, 0, "close", token="wrong").status_code == 401
    assert doors(settings, 0, "ajar").status_code == 400
    bad = {"action": "close", "token": TOKEN, "seconds": "soon"}
    assert requests.post(f"{settings.rasa_replica_url(0)}{DOORS_PATH}", params=bad, timeout=5).status_code == 400
    assert requests.post(f"{settings.rasa_url}{DOORS_PATH}", params={"action": "close", "token": TOKEN}, timeout=5).status_code == 404
    assert doors(settings, 0, "close").json() == {"doors": "drained"}
    # Drained on purpose: still alive and ready for its supervisor, and its own port still serves.
    assert requests.get(f"{settings.rasa_replica_url(0)}{READY_PATH}", timeout=5).status_code == 200
    assert requests.get(f"{settings.rasa_replica_url(0)}/webhooks/rest/", timeout=5).status_code == 200
    assert all(channel_answers(settings) for _ in range(10))  # the other one takes them
    assert doors(settings, 1, "close").json() == {"doors": "drained"}  # both drained: nobody listens on the shared doors
    assert not channel_answers(settings) and not api_answers(settings)
    assert doors(settings, 0, "open").json() == {"doors": "open"}
    assert all(channel_answers(settings) for _ in range(10)) and api_answers(settings)
    assert doors(settings, 1, "open").json() == {"doors": "open"}


def test_loading_a_model_with_no_server_running_says_so(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, rasa_api_token=TOKEN, rasa_replica_port=free_port_run(2), rasa_replicas=2)
    with pytest.raises(rasa_api.RasaNotRunning, match="Le serveur Rasa ne répond pas à .* ni à "):
        rasa_api.load_model(settings, tmp_path / "model.tar.gz")


def test_a_shared_port_already_listened_on_is_reported_before_anything_starts(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, rasa_port=free_port(), public_rasa_port=free_port())
    assert shared_ports_taken(settings) == []
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a replica of another Accueil would
        squatter.bind(("127.0.0.1", settings.public_rasa_port))
        squatter.listen()
        assert shared_ports_taken(settings) == [f"PUBLIC_RASA_PORT 127.0.0.1:{settings.public_rasa_port}"]


def test_the_ports_of_the_replicas_must_all_differ(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, rasa_port=5005, public_rasa_port=5006, rasa_replica_port=5004, rasa_replicas=3)
    with pytest.raises(ValueError, match="RASA_REPLICA_PORT \\+ 1 = 5005"):
        rasa_server(settings, tmp_path / "model.tar.gz", tmp_path / "log", replica=1)


def test_the_shared_api_port_is_taken_out_of_rasas_command_line() -> None:
    assert split_shared_api(["run", "--interface", "10.0.0.2", "--port", "5007", "--shared-api-port", "5005"]) == (
        ["run", "--interface", "10.0.0.2", "--port", "5007"],
        ("10.0.0.2", 5005),
    )
    assert split_shared_api(["run", "--port", "5007"]) == (["run", "--port", "5007"], None)
    with pytest.raises(SystemExit):
        split_shared_api(["run", "--shared-api-port=x"])


@pytest.mark.slow
def test_one_rasa_server_killed_the_other_answers_the_next_connections_at_once(replicas) -> None:
    settings, servers = replicas
    for replica in (0, 1):  # each on its own port, its shared doors open
        assert requests.get(f"{settings.rasa_replica_url(replica)}{READY_PATH}", timeout=5).json() == {"doors": "open"}
    assert all(channel_answers(settings) for _ in range(10)) and api_answers(settings)
    os.kill(servers[0].process.pid, signal.SIGKILL)
    servers[0].process.wait(5)
    killed = time.monotonic()
    assert all(channel_answers(settings) for _ in range(20)), "the public door did not answer after one server died"
    assert all(api_answers(settings) for _ in range(20)), "the API door did not answer after one server died"
    assert time.monotonic() - killed < 5
    # The public door of the one left still refuses Rasa's API.
    assert requests.get(f"{settings.rasa_url}/status", params={"token": TOKEN}, timeout=5).status_code == 404
