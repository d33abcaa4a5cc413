"""The names, in the domain (`bot/domain/`), of the intents, actions and responses that the readers of the
conversations look for: the analytics, the studio's inbox and the Prometheus event broker.

They read what Rasa wrote; these names are the one place they agree on what it means.
"""

from __future__ import annotations

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_fallback_suggestions"
FEEDBACK_RESPONSE = "utter_ask_feedback"
EMERGENCY_INTENT = "emergency"
HUMAN_INTENT = "request_human"
TRANSFER_ACTION = "action_transfer"
CALLBACK_ACTION = "action_save_callback"
SESSION_START_ACTION = "action_session_start"
LISTEN_ACTION = "action_listen"
# Rasa's input channels, as the analytics and the metrics group them.
CHANNELS = {"rest": "web", "socketio": "web", "voice": "voice"}
