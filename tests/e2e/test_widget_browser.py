"""The web widget in a real browser (Debian's Chromium, driven by Playwright) on the demo page.

The widget talks to the real Rasa server and action server (trained model,
demo knowledge base, servers living on a Tuesday at 22:00), through the web
server that `make run` starts. Screenshots go to reports/screenshots/.
"""

from __future__ import annotations

import json
import os
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from actions import records
from core.settings import PROJECT_ROOT
from tests.e2e.test_dialogues import stored
from tests.e2e.test_rest_questions import contains

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("ACCUEIL_TEST_CHROMIUM", "/usr/bin/chromium")
# As root in a container, without the sandbox; no background connection attempts to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip
SCREENSHOTS = PROJECT_ROOT / "reports" / "screenshots"
AXE = PROJECT_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
OPEN = "Ouvrir l'assistant de l'hôpital"
ANSWER_TIMEOUT = 30_000


@pytest.fixture(scope="module")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, web_url: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def bot_messages(page: Page):
    return page.locator(".message.bot")


def settle(page: Page, before: int) -> str:
    """The text of the bot messages after the first `before`, once they stop coming."""
    expect(bot_messages(page)).not_to_have_count(before, timeout=ANSWER_TIMEOUT)
    count, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 0.8:
        now = bot_messages(page).count()
        if now != count:
            count, stable_since = now, time.monotonic()
        page.wait_for_timeout(100)
    return "\n".join(bot_messages(page).nth(i).inner_text() for i in range(before, count))


def ask(page: Page, question: str) -> str:
    before = bot_messages(page).count()
    box = page.get_by_role("textbox", name="Votre message")
    box.fill(question)
    box.press("Enter")
    expect(page.locator(".message.user").last).to_contain_text(question)
    return settle(page, before)


def open_widget(page: Page, url: str) -> str:
    page.goto(url)
    before = bot_messages(page).count()
    page.get_by_role("button", name=OPEN).click()
    return settle(page, before)


def session_id(page: Page, rasa_url: str) -> str:
    return page.evaluate("key => JSON.parse(sessionStorage.getItem(key))", f"accueil:{urlsplit(rasa_url).netloc}:session")


def focused(page: Page) -> str:
    """What has the keyboard focus, inside the widget's shadow root too ('launcher', 'accueil-input'…)."""
    return page.evaluate(
        """() => {
            let el = document.activeElement;
            while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
            return el ? (el.id || el.className || el.tagName) : '';
        }"""
    )


def test_a_patient_asks_five_questions_and_finds_the_conversation_after_a_reload(page: Page, web_url: str, e2e_settings) -> None:
    rasa_url = e2e_settings.rasa_url  # the public door the widget talks to
    greeting = open_widget(page, web_url)
    assert contains(greeting, "Centre hospitalier de Valmont")
    suggestions = page.locator(".message.bot").last.locator(".reply")
    assert suggestions.all_inner_texts() == ["Horaires d'ouverture", "Horaires de visite", "Avant mon opération", "Obtenir un document", "Parler à un conseiller"]
    assert focused(page) == "accueil-input"

    before = bot_messages(page).count()
    page.get_by_role("button", name="Horaires de visite").click()
    visits = settle(page, before)
    assert contains(visits, "13h") and contains(visits, "20h") and contains(visits, "2 visiteurs")

    answers = {
        "je dois être à jeun combien de temps avant mon opération ?": ["6 heures", "2 heures"],
        "le labo est ouvert le samedi ?": ["7h30", "12h"],
        "c'est quoi l'adresse de l'hôpital": ["12 avenue des Tilleuls"],
        "combien coûte une chambre individuelle": ["70"],
        "comment je paye ma facture": ["Mon espace patient", "virement"],
    }
    for question, facts in answers.items():
        answer = ask(page, question)
        assert all(contains(answer, fact) for fact in facts), (question, answer)
        assert contains(answer, "Cette réponse vous a-t-elle aidé")

    # The "see also" button of the bill answer opens the portal's article, whose link is clickable.
    before = bot_messages(page).count()
    page.get_by_role("button", name="Le portail « Mon espace patient »").click()
    settle(page, before)
    link = page.get_by_role("log").get_by_role("link", name="Mon espace patient")
    expect(link).to_have_attribute("href", "https://patient.ch-valmont.fr/")
    expect(link).to_have_attribute("rel", "noopener noreferrer")

    # Thumbs up on the last answer: stored in the satisfaction record of this conversation.
    before = bot_messages(page).count()
    page.get_by_role("button", name="Oui, cette réponse m'a aidé").last.click()
    assert contains(settle(page, before), "Merci pour votre retour")
    sender = session_id(page, rasa_url)
    assert any(row.helpful is True for row in stored(e2e_settings.db_url, records.AnswerFeedback, sender))

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop.png"))

    shown = page.locator(".message").all_inner_texts()
    page.reload()
    expect(page.locator("#accueil-panel")).to_be_visible()
    assert page.locator(".message").all_inner_texts() == shown
    assert session_id(page, rasa_url) == sender

    page.get_by_role("link", name="Infos pratiques").first.click()
    page.wait_for_url("**/infos-pratiques.html")
    assert page.locator(".message").all_inner_texts() == shown
    # Still the same conversation for Rasa: a follow-up continues the last question's context.
    assert contains(ask(page, "et pour la maternité ?"), "15h")

    own = {urlsplit(web_url).netloc, urlsplit(rasa_url).netloc}
    assert {urlsplit(url).netloc for url in page.requests} <= own, "every asset and call stays on Accueil's own servers"


def test_the_widget_on_a_360px_phone_screen(browser: Browser, web_url: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 780}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="fr-FR")
    page = context.new_page()
    try:
        page.goto(web_url)
        launcher = page.get_by_role("button", name=OPEN)
        box = launcher.bounding_box()
        assert box["x"] + box["width"] <= 360 and box["width"] >= 44, "a bubble big enough to tap, inside the screen"
        launcher.tap()
        settle(page, 0)
        panel = page.locator("#accueil-panel").bounding_box()
        assert (panel["x"], panel["width"]) == (0, 360), "the panel takes the whole phone screen"
        assert contains(ask(page, "les visites en réa c'est à quelle heure"), "14h")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "phone.png"))
    finally:
        context.close()


def test_keyboard_only(page: Page, web_url: str) -> None:
    page.goto(web_url)
    for _ in range(60):
        page.keyboard.press("Tab")
        if focused(page) == "launcher":
            break
    assert focused(page) == "launcher", "the bubble is reachable with Tab"
    page.keyboard.press("Enter")
    expect(page.locator("#accueil-panel")).to_be_visible()
    assert focused(page) == "accueil-input", "opening puts the focus in the message box"
    settle(page, 0)

    page.keyboard.type("quels sont les horaires de visite en pédiatrie")
    before = bot_messages(page).count()
    page.keyboard.press("Enter")
    assert contains(settle(page, before), "15h")

    # Back through the conversation to the feedback buttons, answered with the keyboard.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if "thumb-down" in focused(page):
            break
    assert "thumb-down" in focused(page)
    before = bot_messages(page).count()
    page.keyboard.press("Enter")
    assert contains(settle(page, before), "conseiller")

    page.keyboard.press("Escape")
    expect(page.locator("#accueil-panel")).to_be_hidden()
    assert focused(page) == "launcher", "closing gives the focus back to the bubble"


def test_no_serious_accessibility_violation(browser: Browser, web_url: str) -> None:
    # axe-core is injected as a script: the page's CSP (script-src 'self') would refuse it.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    try:
        open_widget(page, web_url)
        ask(page, "comment obtenir mon dossier médical")  # buttons in the answer
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        )
        bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, json.dumps([{k: v[k] for k in ("id", "impact", "help")} | {"nodes": [n["target"] for n in v["nodes"]]} for v in bad], indent=1, ensure_ascii=False)
        assert len(result["passes"]) > 20
    finally:
        context.close()


def test_unreachable_server_is_said_and_retry_loses_nothing(page: Page, web_url: str, e2e_settings) -> None:
    blocked = f"{e2e_settings.rasa_url}/**"  # the public door, the one the widget talks to
    page.route(blocked, lambda route: route.abort())
    page.goto(web_url)
    page.get_by_role("button", name=OPEN).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("momentanément injoignable", timeout=15_000)

    box = page.get_by_role("textbox", name="Votre message")
    box.fill("horaires de la cafétéria")
    box.press("Enter")
    expect(box).to_have_value("horaires de la cafétéria")
    expect(page.locator(".message.user")).to_have_count(0)

    page.unroute(blocked)
    page.get_by_role("button", name="Réessayer").click()
    expect(alert).to_be_hidden(timeout=20_000)
    settle(page, 0)  # the greeting, asked for once the server answers
    before = bot_messages(page).count()
    page.get_by_role("button", name="Envoyer").click()
    assert contains(settle(page, before), "8h") and box.input_value() == ""


def test_rest_webhook_is_used_where_the_socket_is_blocked(page: Page, web_url: str) -> None:
    page.route("**/socket.io/**", lambda route: route.abort())
    greeting = open_widget(page, web_url)
    assert contains(greeting, "Centre hospitalier de Valmont")
    assert contains(ask(page, "les horaires du bureau des admissions"), "7h30")
    assert any(url.endswith("/webhooks/rest/webhook") for url in page.requests)


def test_text_is_shown_as_text_and_long_messages_are_refused(page: Page, web_url: str) -> None:
    open_widget(page, web_url)
    page.evaluate("window.__pwned = false")
    ask(page, '<img src=x onerror="window.__pwned = true"> bonjour')
    assert page.locator(".message.user .bubble").last.inner_text() == '<img src=x onerror="window.__pwned = true"> bonjour'
    assert page.locator(".message img").count() == 0 and page.evaluate("window.__pwned") is False

    box = page.get_by_role("textbox", name="Votre message")
    box.fill("a" * 1001)
    box.press("Enter")
    expect(page.locator(".notice")).to_contain_text("1001 caractères")
    expect(box).to_have_value("a" * 1001)
    expect(page.locator(".counter")).to_contain_text("1001 / 1000")
