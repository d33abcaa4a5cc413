"""The studio's GET /metrics: outside the login, always behind a bearer token (the configured one, or a generated one)."""

from __future__ import annotations

import stat
from pathlib import Path

from core import metrics
from core.settings import Settings
from studio.app import create_app
from tests.test_metrics_broker import metrics_dir, samples  # noqa: F401 (the fixture)


def test_prometheus_reads_the_metrics_without_an_account_with_the_generated_token(tmp_path: Path, metrics_dir: Path) -> None:  # noqa: F811
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'accueil.db'}", var_dir=tmp_path, studio_secret_key="test")
    assert settings.metrics_dir == metrics_dir
    metrics.instruments().messages.labels(channel="web").inc(3)
    metrics.count_error("dialogue")
    web = create_app(settings).test_client()

    refused = web.get("/metrics")  # no token set: closed all the same
    assert refused.status_code == 401 and "accueil_messages_total" not in refused.get_data(as_text=True)
    token_file = tmp_path / "metrics_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert len(token) >= 40
    assert web.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    reply = web.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    assert reply.mimetype == "text/plain" and "version=" in reply.headers["Content-Type"]
    values = samples(reply.get_data())
    assert values[("accueil_messages_total", ("channel", "web"))] == 3
    assert values[("accueil_errors_total", ("component", "dialogue"))] == 1


def test_with_a_token_set_only_its_bearer_reads_the_metrics(tmp_path: Path, metrics_dir: Path) -> None:  # noqa: F811
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'accueil.db'}", var_dir=tmp_path, studio_secret_key="test", metrics_token="s3cret")
    metrics.instruments().messages.labels(channel="voice").inc()
    web = create_app(settings).test_client()

    assert web.get("/metrics").status_code == 401
    assert not (tmp_path / "metrics_token").exists()  # the configured token only
    refused = web.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert "accueil_messages_total" not in refused.get_data(as_text=True)
    reply = web.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert reply.status_code == 200
    assert samples(reply.get_data())[("accueil_messages_total", ("channel", "voice"))] == 1


def test_the_rest_of_the_studio_still_asks_for_a_login(tmp_path: Path, metrics_dir: Path) -> None:  # noqa: F811
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'accueil.db'}", var_dir=tmp_path, studio_secret_key="test")
    reply = create_app(settings).test_client().get("/")
    assert reply.status_code == 302 and "/connexion" in reply.headers["Location"]
