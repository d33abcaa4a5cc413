"""The widget's « Appeler » button in a real browser: an audio call to the real voice gateway.

Chromium's fake microphone plays French speech from espeak-ng (a WAV file,
looped, with silence around it so that the gateway sees the turn end). The
gateway runs on the test models, a Korean Vosk model and an English Piper
voice, so the transcripts are not French: the test checks that speech is
heard and shown, that the bot's words (the greeting, then an answer) are
shown and its audio played, under the demo page's strict policy, and that
« Raccrocher » ends the call on both sides.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.test_widget_browser import CHROMIUM, CHROMIUM_ARGS, OPEN, SCREENSHOTS, settle

pytestmark = pytest.mark.e2e

QUESTION = "Bonjour, quels sont les horaires de visite ?"
CALL_TIMEOUT = 90_000


@pytest.fixture(scope="module")
def caller_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake microphone's sound: 1 s of silence, the question, 4 s of silence (Chromium loops it)."""
    folder = tmp_path_factory.mktemp("call")
    speech, wav = folder / "speech.wav", folder / "caller.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(speech), QUESTION], check=True)
    subprocess.run(["sox", str(speech), "-r", "48000", "-c", "1", "-b", "16", str(wav), "pad", "1", "4"], check=True)
    return wav


@pytest.fixture(scope="module")
def browser(caller_speech: Path) -> Browser:
    fake_microphone = [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={caller_speech}",
    ]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *fake_microphone])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, web_url: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR", permissions=["microphone"])
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    yield page
    context.close()


def gateway_health(voice_url: str) -> dict:
    http = voice_url.replace("ws://", "http://", 1).rsplit("/", 1)[0]
    return requests.get(f"{http}/health", timeout=5).json()


def call_messages(page: Page) -> list[tuple[str, str]]:
    """The call's messages in the conversation, in order: ("user" or "bot", text)."""
    return page.locator(".message.call").evaluate_all(
        "nodes => nodes.map(n => [n.classList.contains('user') ? 'user' : 'bot', (n.querySelector('.bubble') || {}).textContent || ''])"
    )


def wait_for(page: Page, condition, timeout_ms: int, what: str):
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        page.wait_for_timeout(250)
    raise AssertionError(f"{what} after {timeout_ms / 1000:.0f} s; the call's messages: {call_messages(page)}")


def test_a_patient_calls_the_assistant_from_the_widget_and_hangs_up(page: Page, web_url: str, voice_url: str) -> None:
    response = page.goto(web_url)
    assert voice_url in response.headers["content-security-policy"], "the page may reach the voice gateway"
    page.get_by_role("button", name=OPEN).click()
    settle(page, 0)  # the written greeting

    page.get_by_role("button", name="Appeler l'assistant (audio)").click()
    state = page.locator(".call-state")
    expect(state).to_contain_text("Appel en cours…", timeout=30_000)
    assert page.evaluate("window.accueilWidget.call.capture") == "worklet", "the capture worklet loaded under script-src 'self'"
    assert gateway_health(voice_url)["active_calls"] == 1

    # The spoken greeting is shown, then what the gateway heard of the question, then the bot's answer.
    wait_for(page, lambda: any(who == "bot" and text for who, text in call_messages(page)), CALL_TIMEOUT, "no greeting by voice")

    def heard_then_answered() -> bool:
        messages = call_messages(page)
        heard = next((i for i, (who, text) in enumerate(messages) if who == "user" and text.strip()), None)
        return heard is not None and any(who == "bot" and text for who, text in messages[heard + 1 :])

    wait_for(page, heard_then_answered, CALL_TIMEOUT, "nothing heard, or no answer after it")
    heard = page.locator(".message.user.call").first
    expect(heard.locator(".who")).to_have_text("Vous (appel)")
    assert page.evaluate("window.accueilWidget.call.playHead") > 0, "the bot's audio was played"
    expect(page.get_by_role("button", name="Raccrocher")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-call.png"))

    page.get_by_role("button", name="Raccrocher").click()
    expect(state).to_have_text("Appel terminé", timeout=10_000)
    expect(page.get_by_role("button", name="Raccrocher")).to_be_hidden()
    expect(page.get_by_role("button", name="Appeler l'assistant (audio)")).to_be_enabled()
    assert page.evaluate("window.accueilWidget.call") is None
    wait_for(page, lambda: gateway_health(voice_url)["active_calls"] == 0, 10_000, "the gateway still has the call")
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
