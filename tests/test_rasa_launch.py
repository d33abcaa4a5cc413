"""The Rasa API token (issue 17): never an argparse-breaking value, and never on a command line (`ps` shows those
to every local user). `accueil run` starts Rasa through `accueil.rasa_launch`, which takes the token from its
environment and gives it to Rasa inside the process."""

from __future__ import annotations

import secrets
import string
from pathlib import Path

import pytest
import requests

from accueil.rasa_api import new_api_token
from accueil.rasa_launch import TOKEN_ENV, rasa_argv
from accueil.servers import rasa_server, running, voice_gateway
from core.settings import Settings
from tests.conftest import free_port

DASH_TOKEN = "-" + secrets.token_urlsafe(18)  # what `secrets.token_urlsafe` gave once in 64 starts


def settings_for(tmp_path: Path, token: str | None) -> Settings:
    return Settings(
        var_dir=tmp_path / "var", db_url=f"sqlite:///{tmp_path / 'kb.db'}", rasa_port=free_port(), rasa_replica_port=free_port(), actions_port=free_port(),
        public_rasa_port=free_port(), rasa_api_token=token,
    )


def test_generated_tokens_never_start_with_a_dash(tmp_path) -> None:
    settings = Settings(var_dir=tmp_path)
    tokens = {new_api_token(settings) for _ in range(300)}
    assert len(tokens) == 300
    assert all(set(token) <= set(string.hexdigits.lower()) and len(token) >= 48 for token in tokens)
    assert settings.rasa_api_token_file.read_text().strip() in tokens
    assert settings.rasa_api_token_file.stat().st_mode & 0o777 == 0o600


def test_rasa_reads_a_token_that_starts_with_a_dash() -> None:
    from rasa.__main__ import create_argument_parser

    argv = rasa_argv(["run", "--model", "m.tar.gz", "--cors", "http://a", "http://b"], DASH_TOKEN)
    assert argv[0] == "rasa"
    parsed = create_argument_parser().parse_args(argv[1:])
    assert (parsed.auth_token, parsed.enable_api, parsed.cors, parsed.model) == (DASH_TOKEN, True, ["http://a", "http://b"], "m.tar.gz")

    closed = create_argument_parser().parse_args(rasa_argv(["run"], None)[1:])
    assert (closed.auth_token, closed.enable_api) == (None, False)
    with pytest.raises(SystemExit):  # the token never comes from the command line
        rasa_argv(["run", "--auth-token", "x"], None)


def test_the_rasa_command_line_holds_no_token_and_its_environment_does(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "stray")
    server = rasa_server(settings_for(tmp_path, DASH_TOKEN), tmp_path / "model.tar.gz", tmp_path)
    assert server.command[1:4] == ["-m", "accueil.rasa_launch", "run"]
    assert not any(DASH_TOKEN in part or "--auth-token" in part or "--enable-api" in part for part in server.command)
    assert server.env[TOKEN_ENV] == DASH_TOKEN
    closed = rasa_server(settings_for(tmp_path, None), tmp_path / "model.tar.gz", tmp_path)
    assert TOKEN_ENV not in closed.env, "without a token, the API stays closed"


def test_rasa_and_the_voice_gateway_share_the_webhook_secret(tmp_path) -> None:
    settings = settings_for(tmp_path, None)
    secret = rasa_server(settings, tmp_path / "model.tar.gz", tmp_path).env["ACCUEIL_VOICE_WEBHOOK_SECRET"]
    assert len(secret) >= 32 and (settings.var_dir / "voice_webhook_secret").stat().st_mode & 0o777 == 0o600
    assert {p.env["ACCUEIL_VOICE_WEBHOOK_SECRET"] for p in voice_gateway(settings, tmp_path)} == {secret}
    configured = settings.copy(update={"voice_webhook_secret": "configured"})
    assert rasa_server(configured, tmp_path / "model.tar.gz", tmp_path).env["ACCUEIL_VOICE_WEBHOOK_SECRET"] == "configured"


def command_lines() -> dict[int, bytes]:
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:  # gone meanwhile, or not ours to read
                pass
    return lines


@pytest.mark.slow
def test_rasa_starts_with_a_token_that_starts_with_a_dash_and_no_command_line_shows_it(tmp_path) -> None:
    """The real Rasa server, as `accueil run` starts it (without a model: its API answers all the same)."""
    settings = settings_for(tmp_path, DASH_TOKEN)
    server = rasa_server(settings, tmp_path / "no-model.tar.gz", settings.log_dir)
    with running([server], timeout=180):
        status = f"http://{settings.host}:{settings.rasa_port}/status"
        assert requests.get(status, params={"token": DASH_TOKEN}, timeout=10).status_code == 409  # let in: no model loaded
        assert requests.get(status, params={"token": DASH_TOKEN[1:]}, timeout=10).status_code == 401
        assert requests.get(status, timeout=10).status_code == 401
        leaks = [pid for pid, line in command_lines().items() if DASH_TOKEN.encode() in line]
        assert leaks == [], "the token is on a command line"
        assert b"accueil.rasa_launch" in command_lines()[server.process.pid]
    assert DASH_TOKEN not in server.log_path.read_text()
