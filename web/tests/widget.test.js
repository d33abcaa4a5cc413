import "./dom.js";
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { History } from "../src/history.js";
import { normalize, RestTransport, SocketTransport } from "../src/transport.js";
import { AccueilWidget } from "../src/widget.js";

const OPTIONS = { server: "http://127.0.0.1:5005", title: "Assistant du CH Valmont", color: "#00457c", lang: "fr", transport: "rest", assets: "http://127.0.0.1:8080/widget/" };
const tick = () => new Promise((resolve) => setTimeout(resolve));

/** A widget on a fake REST server answering `replies` in turn (no network). */
function mountWith(replies) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, body: init.body ? JSON.parse(init.body) : null });
    if (init.method === "GET") return { ok: true, json: async () => ({ status: "ok" }) };
    return { ok: true, json: async () => replies.shift() || [] };
  };
  const widget = new AccueilWidget(document, OPTIONS, { link_hosts: ["ch-valmont.fr"], max_length: 1000 });
  widget.connect = function () {
    this.transport = new RestTransport(OPTIONS.server, this.sessionId, { onMessage: (m) => this.receive(m), onStatus: (s) => this.setStatus(s) }, fetchImpl);
    this.transport.connect();
  };
  widget.mount();
  return { widget, calls, shadow: widget.root };
}

beforeEach(() => {
  document.body.innerHTML = "";
  sessionStorage.clear();
});

describe("messages", () => {
  it("normalises socket.io quick replies and REST buttons alike", () => {
    const a = normalize({ text: "t", quick_replies: [{ content_type: "text", title: "Oui", payload: "/affirm" }] });
    const b = normalize({ recipient_id: "x", text: "t", buttons: [{ title: "Oui", payload: "/affirm" }] });
    assert.deepEqual(a, b);
    assert.deepEqual(normalize({ custom: { handover: {} } }).custom, { handover: {} });
  });

  it("renders a bot answer holding HTML as text", () => {
    const { widget, shadow } = mountWith([]);
    widget.receive(normalize({ text: "<script>alert(1)</script><b>gras</b>" }));
    const bubble = shadow.querySelector(".message.bot .bubble");
    assert.equal(bubble.textContent, "<script>alert(1)</script><b>gras</b>");
    assert.equal(bubble.querySelector("script, b"), null);
  });

  it("renders the patient's own text as text too", async () => {
    const { widget, shadow } = mountWith([[{ text: "ok" }]]);
    await tick();
    widget.input.value = "<img src=x onerror=alert(1)>";
    widget.submit();
    await tick();
    const bubble = shadow.querySelector(".message.user .bubble");
    assert.equal(bubble.textContent, "<img src=x onerror=alert(1)>");
    assert.equal(bubble.querySelector("img"), null);
  });

  it("refuses a message over 1,000 characters politely and keeps it in the input", async () => {
    const { widget, calls, shadow } = mountWith([]);
    await tick();
    widget.input.value = "x".repeat(1001);
    widget.submit();
    await tick();
    assert.equal(calls.filter((c) => c.body).length, 0);
    assert.match(shadow.querySelector(".notice").textContent, /1001 caractères.*1000/);
    assert.equal(widget.input.value.length, 1001);
  });

  it("shows the server's French refusal when it answers 429 (too many messages), still connected", async () => {
    const refusal = "Vous avez envoyé beaucoup de messages en peu de temps : celui-ci n'a pas été transmis. Merci de patienter 2 secondes avant de le renvoyer.";
    const fetchImpl = async (url, init) => {
      if (init.method === "GET") return { ok: true, status: 200, json: async () => ({ status: "ok" }) };
      return { ok: false, status: 429, json: async () => [{ recipient_id: "s", text: refusal }] };
    };
    const onMessage = [];
    const statuses = [];
    const transport = new RestTransport(OPTIONS.server, "s", { onMessage: (m) => onMessage.push(m), onStatus: (s) => statuses.push(s) }, fetchImpl);
    assert.equal(await transport.send("bonjour"), true);
    assert.deepEqual(onMessage.map((m) => m.text), [refusal]);
    assert.deepEqual(statuses, ["up"]);
    const down = new RestTransport(OPTIONS.server, "s", { onMessage: () => {}, onStatus: (s) => statuses.push(s) }, async () => ({ ok: false, status: 500, json: async () => [] }));
    assert.equal(await down.send("bonjour"), false);
  });

  it("shows the handover card and thumbs for the feedback question", () => {
    const { widget, shadow } = mountWith([]);
    widget.receive(normalize({ custom: { handover: { service_name: "Bureau des admissions", phone: "02 38 00 00 00", summary: "motif : document" } } }));
    widget.receive(normalize({ text: "Cette réponse vous a-t-elle aidé ?", response: "utter_ask_feedback", buttons: [{ title: "Oui", payload: "/affirm" }, { title: "Non", payload: "/deny" }] }));
    assert.ok(shadow.querySelector(".handover").textContent.includes("Bureau des admissions"));
    const thumbs = [...shadow.querySelectorAll(".thumb")];
    assert.deepEqual(thumbs.map((b) => b.getAttribute("aria-label")), ["Oui, cette réponse m'a aidé", "Non, cette réponse ne m'a pas aidé"]);
    assert.ok(thumbs.every((b) => !b.disabled));
  });

  it("keeps every button of the current turn usable, and none of earlier turns", async () => {
    const { widget, shadow } = mountWith([[{ text: "Réponse" }]]);
    widget.receive(normalize({ text: "À voir aussi :", buttons: [{ title: "Fiche", payload: "/show_article" }] }));
    widget.receive(normalize({ text: "Cette réponse vous a-t-elle aidé ?", response: "utter_ask_feedback", buttons: [] }));
    assert.equal(shadow.querySelector(".reply:not(.thumb)").disabled, false);
    assert.equal(shadow.querySelector(".replies").getAttribute("aria-label"), "Réponses proposées");
    await tick();
    widget.input.value = "autre question";
    widget.submit();
    await tick();
    await tick();
    assert.equal(shadow.querySelector(".reply:not(.thumb)").disabled, true);
    assert.ok([...shadow.querySelectorAll(".thumb")].every((b) => b.disabled));
  });
});

describe("history", () => {
  it("keeps the session id and the messages across a reload", () => {
    const first = mountWith([]);
    first.widget.receive(normalize({ text: "Bonjour !" }));
    const id = first.widget.sessionId;
    document.body.innerHTML = "";
    const second = mountWith([]);
    assert.equal(second.widget.sessionId, id);
    assert.equal(second.shadow.querySelector(".message.bot .bubble").textContent, "Bonjour\u00a0!");
  });

  it("survives corrupted storage", () => {
    sessionStorage.setItem("accueil:x:history", "{not json");
    sessionStorage.setItem("accueil:x:session", "../../etc");
    const history = new History(sessionStorage, "x");
    assert.deepEqual(history.entries(), []);
    assert.match(history.sessionId(), /^[0-9a-f]{32}$/);
  });
});

/** A fake socket.io client: records what is emitted, lets a test play the server's events. */
function fakeSocket() {
  const handlers = {};
  const socket = {
    emitted: [],
    connected: true,
    on: (event, handler) => { handlers[event] = handler; },
    emit: (event, data) => socket.emitted.push({ event, data }),
    fire: (event, data) => handlers[event](data),
    connect: () => {},
    removeAllListeners: () => {},
    disconnect: () => {},
  };
  return socket;
}

describe("socket transport", () => {
  it("speaks websocket only, so that any of the Rasa servers sharing the door can take the session", () => {
    let options = null;
    const socket = fakeSocket();
    new SocketTransport("http://127.0.0.1:5006/", "s1", { onMessage() {}, onStatus() {} }, (url, opts) => { options = opts; return socket; });
    assert.deepEqual(options.transports, ["websocket"]);
  });

  it("sends a message again once, when the server that took it stopped before answering", async () => {
    const socket = fakeSocket();
    const messages = [];
    const statuses = [];
    const transport = new SocketTransport("http://x", "s1", { onMessage: (m) => messages.push(m.text), onStatus: (s) => statuses.push(s) }, () => socket);
    socket.fire("connect");
    socket.fire("session_confirm");
    assert.equal(await transport.send("horaires de la radiologie"), true);
    socket.fire("disconnect"); // that Rasa server was killed before it answered
    assert.equal(await transport.send("autre chose"), false); // nothing is sent while down
    socket.fire("connect"); // the socket is back, on another Rasa server
    socket.fire("session_confirm");
    const uttered = socket.emitted.filter((e) => e.event === "user_uttered").map((e) => e.data.message);
    assert.deepEqual(uttered, ["horaires de la radiologie", "horaires de la radiologie"]);
    assert.deepEqual(statuses, ["up", "down", "up"]);
    socket.fire("disconnect");
    socket.fire("connect");
    socket.fire("session_confirm"); // sent again once only
    assert.equal(socket.emitted.filter((e) => e.event === "user_uttered").length, 2);
  });

  it("does not send a message again once the bot has answered it", async () => {
    const socket = fakeSocket();
    const transport = new SocketTransport("http://x", "s1", { onMessage() {}, onStatus() {} }, () => socket);
    socket.fire("connect");
    socket.fire("session_confirm");
    await transport.send("bonjour");
    socket.fire("bot_uttered", { text: "Bonjour !" });
    socket.fire("disconnect");
    socket.fire("connect");
    socket.fire("session_confirm");
    assert.equal(socket.emitted.filter((e) => e.event === "user_uttered").length, 1);
  });
});
