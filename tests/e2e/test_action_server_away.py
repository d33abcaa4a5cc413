"""End to end: the action server stops in the middle of conversations, then comes back (accueil/action_guard.py).

A Rasa server of this module's own (the session's model, free ports, its own knowledge base and conversation
store) and an action server the test stops and starts again, as a crash and a restart would.
"""

from __future__ import annotations

import pytest

from accueil.servers import action_server, rasa_server, running, wait_until_ready
from actions import records
from core.secret_files import voice_webhook_secret
from core.settings import Settings
from kb_sync.sources import FolderSource
from kb_sync.sync import sync
from tests.conftest import DEMO_SOURCE, free_port
from tests.e2e.test_dialogues import Conversation, stored
from tests.e2e.test_rest_questions import answer_text, contains

pytestmark = pytest.mark.e2e

SWITCHBOARD = "02 38 00 00 00"  # the demo hospital's (kb_content/valmont/organisation.yml)


def test_while_the_action_server_is_away_patients_get_the_switchboard_and_conversations_resume(e2e_settings: Settings, trained_model, tmp_path) -> None:
    settings = e2e_settings.copy(
        update={
            "var_dir": tmp_path / "var", "db_url": f"sqlite:///{tmp_path / 'kb.db'}",
            "rasa_port": free_port(), "rasa_replica_port": free_port(), "public_rasa_port": free_port(), "actions_port": free_port(),
        }
    )  # fmt: skip
    sync(FolderSource(DEMO_SOURCE), settings.db_url)
    actions = action_server(settings, settings.log_dir)
    with running([actions, rasa_server(settings, trained_model, settings.log_dir)], timeout=settings.startup_timeout):
        rasa = f"http://{settings.host}:{settings.rasa_port}"
        web = Conversation(rasa)
        assert contains(web.text("je voudrais parler à un conseiller"), "fermé en ce moment")
        assert contains(web.text("Jeanne Martin"), "numéro de téléphone")
        phone = Conversation(rasa, channel="voice", secret=voice_webhook_secret(settings))
        assert contains(phone.text("le labo ouvre à quelle heure ?"), "7h30")

        actions.stop()  # as a crash: the next custom action cannot reach it
        away = web.say("zéro six douze trente quatre cinquante six soixante dix huit")  # validate_callback_form
        assert [m.get("response") for m in away] == ["utter_service_unavailable"]
        assert contains(away[0]["text"], "momentanément indisponible") and SWITCHBOARD in away[0]["text"]
        assert "Traceback" not in away[0]["text"] and "passe le standard" not in away[0]["text"]
        offer = phone.say("et le samedi ?")
        assert contains(answer_text(offer), "Voulez-vous que je vous passe le standard") and SWITCHBOARD in answer_text(offer)
        transfer = phone.say("oui")
        assert contains(answer_text(transfer), "Je vous passe le standard")
        assert [m["custom"]["handover"]["service"] for m in transfer if "custom" in m] == ["standard"]
        assert [m["response"] for m in phone.say("/request_human") if "response" in m] == ["utter_switchboard_transfer"]

        actions.start()
        wait_until_ready([actions], timeout=60)
        # The form goes on where it was: the number typed again is taken, then the reason.
        assert contains(web.text("zéro six douze trente quatre cinquante six soixante dix huit"), "motif")
        done = web.text("je n'ai pas reçu ma facture de novembre")
        assert contains(done, "C'est noté") and contains(done, "06 12 34 56 78")
        [row] = stored(settings.db_url, records.HandoverRequest, web.sender)
        assert (row.kind, row.phone, row.name) == ("callback", "06 12 34 56 78", "Jeanne Martin")

