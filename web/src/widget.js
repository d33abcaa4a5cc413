/**
 * The chat widget: a bubble and a panel, in a shadow root so that the
 * hospital's own styles and ours never mix.
 *
 * It owns the interface and the conversation's flow; rendering of text is in
 * render.js, the link to Rasa in transport.js, what survives a reload in
 * history.js, the audio call to the voice gateway in call.js (and pcm.js).
 */

import { strings } from "./i18n.js";
import { History } from "./history.js";
import { accessibleColor, characterCount, clockTime, isTooLong, MAX_LENGTH, renderText } from "./render.js";
import { RestTransport, SocketTransport } from "./transport.js";
import { CALL_WORKLET, VoiceCall, voiceUrlFrom } from "./call.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  close: "M6 6l12 12M18 6L6 18",
  send: "M3 20l18-8L3 4v6l12 2-12 2z",
  up: "M7 10v10H3V10h4zm2 10h8.5a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 19 9h-5l.8-4a1.6 1.6 0 0 0-2.9-1.2L9 9v11z",
  down: "M17 14V4h4v10h-4zm-2-10H6.5a2 2 0 0 0-2 1.6l-1.4 7A2 2 0 0 0 5 15h5l-.8 4a1.6 1.6 0 0 0 2.9 1.2L15 15V4z",
  phone: "M6.6 10.8a15 15 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25c1.1.37 2.3.57 3.6.57a1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
};
const FEEDBACK_RESPONSE = "utter_ask_feedback";
const YES = "/affirm";
const NO = "/deny";
const HUMAN = "/request_human";
const GREET = "/greet";

function icon(doc, name) {
  const svg = doc.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = doc.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.appendChild(path);
  svg.classList.add("icon", `icon-${name}`);
  return svg;
}

function el(doc, tag, attributes = {}, ...children) {
  const node = doc.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.appendChild(child);
  return node;
}

/** The widget's options, from the `data-` attributes of its script tag. */
export function optionsFrom(script, location) {
  const data = script.dataset;
  const scriptUrl = new URL(script.src, location.href);
  return {
    server: data.server || scriptUrl.origin,
    title: data.title || "",
    color: data.color || "#00457c",
    lang: data.lang || "fr",
    transport: ["socket", "rest", "auto"].includes(data.transport) ? data.transport : "auto",
    assets: new URL("./", scriptUrl).href,
  };
}

export class AccueilWidget {
  constructor(doc, options, config = {}) {
    this.doc = doc;
    this.options = options;
    this.t = strings(options.lang);
    this.linkHosts = Array.isArray(config.link_hosts) ? config.link_hosts : [];
    this.maxLength = Number.isInteger(config.max_length) ? config.max_length : MAX_LENGTH;
    this.voiceUrl = voiceUrlFrom(config);
    this.call = null;
    this.history = new History(doc.defaultView.sessionStorage, new URL(options.server, doc.baseURI).host);
    this.sessionId = this.history.sessionId();
    this.status = "connecting";
    this.greetPending = false;
  }

  mount() {
    const doc = this.doc;
    const t = this.t;
    this.host = el(doc, "div", { id: "accueil-widget", lang: this.options.lang });
    this.host.style.setProperty("--accueil-primary", accessibleColor(this.options.color));
    const root = this.host.attachShadow({ mode: "open" });
    this.root = root;
    root.appendChild(el(doc, "link", { rel: "stylesheet", href: new URL("accueil-widget.css", this.options.assets).href }));

    this.launcher = el(doc, "button", {
      type: "button", class: "launcher", "aria-label": t.open, "aria-expanded": "false", "aria-controls": "accueil-panel",
    }, icon(doc, "chat"));
    this.title = el(doc, "h2", { id: "accueil-title", text: this.options.title || t.defaultTitle });
    this.humanButton = el(doc, "button", { type: "button", class: "human", text: t.human });
    this.closeButton = el(doc, "button", { type: "button", class: "close", "aria-label": t.close }, icon(doc, "close"));
    // The audio call, only where the server has a voice gateway.
    this.callButton = this.voiceUrl
      ? el(doc, "button", { type: "button", class: "call-start", "aria-label": t.callLabel }, icon(doc, "phone"), el(doc, "span", { text: t.call }))
      : null;
    this.callState = el(doc, "p", { class: "call-state", role: "status" });
    this.dtmfButton = el(doc, "button", { type: "button", class: "call-key", "aria-label": t.dtmfZeroLabel, text: t.dtmfZero });
    this.hangUpButton = el(doc, "button", { type: "button", class: "hang-up" }, icon(doc, "phone"), el(doc, "span", { text: t.hangUp }));
    this.callButtons = el(doc, "div", { class: "call-buttons", hidden: true }, this.dtmfButton, this.hangUpButton);
    this.callBar = el(doc, "div", { class: "call-bar", hidden: !this.voiceUrl }, this.callState, this.callButtons);
    this.bannerText = el(doc, "p");
    this.retryButton = el(doc, "button", { type: "button", class: "retry", text: t.retry });
    this.banner = el(doc, "div", { class: "banner", role: "alert", hidden: true }, this.bannerText, this.retryButton);
    this.log = el(doc, "div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.log, tabindex: "0" });
    this.typing = el(doc, "div", { class: "typing", role: "status", hidden: true },
      el(doc, "span", { class: "dot" }), el(doc, "span", { class: "dot" }), el(doc, "span", { class: "dot" }),
      el(doc, "span", { class: "sr-only", text: t.typing }));
    this.notice = el(doc, "p", { id: "accueil-notice", class: "notice", "aria-live": "assertive" });
    this.input = el(doc, "textarea", {
      id: "accueil-input", rows: "1", placeholder: t.placeholder, autocomplete: "off", "aria-describedby": "accueil-notice accueil-counter",
    });
    this.counter = el(doc, "p", { id: "accueil-counter", class: "counter", hidden: true });
    this.sendButton = el(doc, "button", { type: "submit", class: "send", "aria-label": t.send }, icon(doc, "send"));
    this.form = el(doc, "form", { class: "composer" },
      el(doc, "label", { for: "accueil-input", class: "sr-only", text: t.inputLabel }), this.input, this.sendButton);
    this.panel = el(doc, "section", { id: "accueil-panel", class: "panel", role: "dialog", "aria-labelledby": "accueil-title", hidden: true },
      el(doc, "header", {},
        el(doc, "div", { class: "titles" }, this.title, el(doc, "p", { class: "subtitle", text: t.subtitle })),
        el(doc, "div", { class: "actions" }, this.humanButton, this.callButton), this.closeButton),
      this.banner, this.callBar, this.log, this.typing, this.form, this.notice, this.counter,
      el(doc, "p", { class: "privacy", text: t.privacy }));
    root.append(this.launcher, this.panel);
    doc.body.appendChild(this.host);

    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    this.closeButton.addEventListener("click", () => this.close());
    this.humanButton.addEventListener("click", () => this.send(HUMAN, this.t.human));
    this.retryButton.addEventListener("click", () => this.retry());
    if (this.callButton) this.callButton.addEventListener("click", () => this.startCall());
    this.hangUpButton.addEventListener("click", () => this.call && this.call.hangUp());
    this.dtmfButton.addEventListener("click", () => this.call && this.call.dtmf("0"));
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      }
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.updateCounter());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });

    for (const entry of this.history.entries()) this.render(entry);
    this.refreshReplies();
    this.connect();
    if (this.history.isOpen) this.open({ focus: false });
    return this;
  }

  // --- connection -------------------------------------------------------------------------

  connect() {
    this.handlers = { onMessage: (message) => this.receive(message), onStatus: (status) => this.setStatus(status) };
    if (this.options.transport === "rest") {
      this.transport = new RestTransport(this.options.server, this.sessionId, this.handlers);
      this.transport.connect();
    } else {
      const onUnreachable = this.options.transport === "auto" ? () => this.fallBackToRest() : null;
      this.transport = new SocketTransport(this.options.server, this.sessionId, { ...this.handlers, onUnreachable });
    }
  }

  /** The socket never connected: use the REST webhook if that one answers (socket blocked by a proxy). */
  async fallBackToRest() {
    if (this.fallingBack || this.transport.kind !== "socket") return;
    this.fallingBack = true;
    const rest = new RestTransport(this.options.server, this.sessionId, this.handlers);
    if (await rest.probe()) {
      this.transport.close();
      this.transport = rest;
      this.setStatus("up");
    }
    this.fallingBack = false;
  }

  setStatus(status) {
    const was = this.status;
    this.status = status;
    if (status === "down") {
      this.typing.hidden = true;
      this.bannerText.textContent = this.t.unreachable;
      this.banner.hidden = false;
    } else if (status === "up") {
      this.banner.hidden = true;
      if (was === "down") this.notice.textContent = this.t.reconnected;
      if (this.greetPending && !this.panel.hidden) this.greet();
    }
  }

  retry() {
    this.notice.textContent = "";
    if (this.transport.kind === "socket" && !this.transport.everConnected && this.options.transport === "auto") {
      this.fallBackToRest();
    }
    this.transport.retry();
  }

  // --- opening and closing ----------------------------------------------------------------

  open({ focus = true } = {}) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", this.t.close);
    this.host.classList.add("open");
    this.history.isOpen = true;
    this.scrollToEnd();
    if (focus) this.input.focus();
    if (!this.history.entries().some((entry) => entry.who === "bot")) this.greet();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", this.t.open);
    this.host.classList.remove("open");
    this.history.isOpen = false;
    this.launcher.focus();
  }

  /** The welcome: the server's greeting (hospital's name, suggestion buttons), asked for silently. */
  async greet() {
    this.greetPending = true;
    if (this.status !== "up") return;
    this.greetPending = false;
    this.typing.hidden = false;
    if (!(await this.transport.send(GREET))) this.greetPending = true;
  }

  // --- sending ----------------------------------------------------------------------------

  updateCounter() {
    const n = characterCount(this.input.value);
    this.counter.hidden = n < this.maxLength * 0.8;
    this.counter.textContent = this.t.counter(n, this.maxLength);
    this.counter.classList.toggle("over", n > this.maxLength);
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.send(text, text, { fromInput: true });
  }

  /** Sends `message` (text or /payload), shown in the conversation as `shown`. Nothing typed is lost on failure. */
  async send(message, shown, { fromInput = false } = {}) {
    this.notice.textContent = "";
    if (isTooLong(message, this.maxLength)) {
      this.notice.textContent = this.t.tooLong(characterCount(message), this.maxLength);
      return false;
    }
    const entry = { id: this.history.newId(), who: "user", text: shown, time: new Date().toISOString() };
    const node = this.render(entry);
    this.history.add(entry);
    if (fromInput) {
      this.input.value = "";
      this.updateCounter();
    }
    this.disableReplies();
    // A button used is disabled now: the focus goes to the message box, not lost to the page.
    if (!fromInput && !this.panel.hidden) this.input.focus();
    this.typing.hidden = false;
    this.scrollToEnd();
    const sent = await this.transport.send(message);
    if (!sent) {
      node.remove();
      this.history.remove(entry.id);
      this.typing.hidden = true;
      if (fromInput && !this.input.value) this.input.value = message;
      this.refreshReplies();
      this.setStatus("down");
      return false;
    }
    return true;
  }

  // --- receiving --------------------------------------------------------------------------

  receive(message) {
    if (!message.text && !message.buttons.length && !message.custom) return;
    this.typing.hidden = true;
    const entry = { id: this.history.newId(), who: "bot", ...message, time: new Date().toISOString() };
    this.history.add(entry);
    this.render(entry);
    this.refreshReplies();
    this.scrollToEnd();
  }

  // --- audio call -------------------------------------------------------------------------

  createCall(url, handlers) {
    return new VoiceCall(url, handlers, { workletUrl: new URL(CALL_WORKLET, this.options.assets).href });
  }

  /** The « Appeler » button: microphone, then the gateway. Runs in the click's handler (audio needs a gesture). */
  async startCall() {
    if (this.call || !this.voiceUrl) return;
    this.notice.textContent = "";
    const call = this.createCall(this.voiceUrl, {
      onState: (state) => this.callStateChanged(call, state),
      onEvent: (event) => this.callEvent(event),
    });
    this.call = call;
    try {
      await call.start();
    } catch (error) {
      if (this.call === call) this.callFailed(error && error.code);
    }
  }

  callStateChanged(call, state) {
    if (this.call !== call) return;
    const t = this.t;
    const focusWasInCall = this.root.activeElement === this.callButton || this.callButtons.contains(this.root.activeElement);
    if (state === "connecting") {
      this.callState.textContent = t.callConnecting;
      this.callButtons.hidden = false;
      this.dtmfButton.disabled = true;
      // The « Appeler » button is disabled during the call: the focus goes to « Raccrocher », not lost.
      if (focusWasInCall) this.hangUpButton.focus();
      this.callButton.disabled = true;
    } else if (state === "active") {
      this.callState.textContent = t.callActive;
      this.dtmfButton.disabled = false;
    } else if (state === "ended") {
      this.call = null;
      this.callState.textContent = t.callEnded;
      this.callButtons.hidden = true;
      this.callButton.disabled = false;
      if (focusWasInCall) this.callButton.focus();
    }
  }

  callFailed(code) {
    const t = this.t;
    this.call = null;
    this.callButtons.hidden = true;
    this.callState.textContent = "";
    const messages = { mic: t.callMic, "no-mic": t.callNoMic, unsupported: t.callUnsupported, unavailable: t.callUnavailable, busy: t.callBusy };
    if (code === "cancelled") {
      this.callButton.disabled = false;
      return;
    }
    this.notice.textContent = messages[code] || t.callUnavailable;
    // No gateway to call: the button stays disabled (until the page is reloaded), saying why.
    const unavailable = !messages[code] || code === "unavailable" || code === "unsupported";
    this.callButton.disabled = unavailable;
    if (unavailable) {
      this.callButton.title = this.notice.textContent;
      if (!this.panel.hidden) this.input.focus();
    } else {
      this.callButton.focus();
    }
  }

  /** What the gateway heard and what the bot said, shown as the conversation's messages (text only). */
  callEvent(event) {
    if ((event.type === "heard" || event.type === "bot") && event.text) {
      const entry = { id: this.history.newId(), who: event.type === "heard" ? "user" : "bot", via: "call", text: event.text, time: new Date().toISOString() };
      this.history.add(entry);
      this.render(entry);
      this.refreshReplies();
      this.scrollToEnd();
    } else if (event.type === "transfer") {
      this.callState.textContent = this.t.callTransfer;
    }
  }

  // --- rendering --------------------------------------------------------------------------

  render(entry) {
    const doc = this.doc;
    const t = this.t;
    const byCall = entry.via === "call";
    const who = entry.who === "user" ? (byCall ? t.youCall : t.you) : byCall ? t.botCall : t.bot;
    const time = new Date(entry.time);
    const node = el(doc, "div", { class: `message ${entry.who}${byCall ? " call" : ""}` },
      el(doc, "p", { class: "meta" },
        el(doc, "span", { class: "who", text: who }),
        el(doc, "time", { datetime: entry.time, text: clockTime(time, this.options.lang) })));
    if (entry.text) {
      const bubble = el(doc, "div", { class: "bubble" });
      bubble.appendChild(renderText(doc, entry.text, this.linkHosts));
      node.appendChild(bubble);
    }
    if (entry.custom && entry.custom.handover) node.appendChild(this.handoverCard(entry.custom.handover));
    if (entry.who === "bot" && entry.response === FEEDBACK_RESPONSE) {
      node.appendChild(this.feedbackButtons(entry));
    } else if (entry.who === "bot" && entry.buttons && entry.buttons.length) {
      node.appendChild(this.replyButtons(entry.buttons));
    }
    this.log.insertBefore(node, null);
    return node;
  }

  replyButtons(buttons) {
    const group = el(this.doc, "div", { class: "replies", role: "group", "aria-label": this.t.replies });
    for (const button of buttons) {
      const b = el(this.doc, "button", { type: "button", class: "reply", text: button.title });
      b.addEventListener("click", () => this.send(button.payload, button.title));
      group.appendChild(b);
    }
    return group;
  }

  feedbackButtons(entry) {
    const t = this.t;
    const group = el(this.doc, "div", { class: "feedback replies", role: "group", "aria-label": entry.text || t.helpfulYes });
    const choices = [
      { payload: YES, label: t.helpfulYes, short: t.thumbsUp, icon: "up" },
      { payload: NO, label: t.helpfulNo, short: t.thumbsDown, icon: "down" },
    ];
    for (const choice of choices) {
      const b = el(this.doc, "button", {
        type: "button", class: `reply thumb thumb-${choice.icon}`, "aria-label": choice.label,
        "aria-pressed": entry.choice === choice.payload ? "true" : "false",
      }, icon(this.doc, choice.icon), el(this.doc, "span", { text: choice.short }));
      b.addEventListener("click", async () => {
        if (await this.send(choice.payload, choice.short)) {
          this.history.update((e) => e.response === FEEDBACK_RESPONSE && !e.choice, { choice: choice.payload });
          b.setAttribute("aria-pressed", "true");
          group.classList.add("answered");
          this.refreshReplies();
        }
      });
      group.appendChild(b);
    }
    if (entry.choice) group.classList.add("answered");
    return group;
  }

  handoverCard(handover) {
    const t = this.t;
    const doc = this.doc;
    const rows = [
      [t.handoverService, handover.service_name],
      [t.handoverPhone, handover.phone],
      [t.handoverSummary, handover.summary],
    ].filter(([, value]) => typeof value === "string" && value);
    const list = el(doc, "dl");
    for (const [term, value] of rows) list.append(el(doc, "dt", { text: term }), el(doc, "dd", { text: value }));
    return el(doc, "div", { class: "card handover" }, el(doc, "p", { class: "card-title", text: t.handoverTitle }), list);
  }

  /** Only the buttons of the current turn (the bot messages since the patient's last message) can be used. */
  refreshReplies() {
    const messages = [...this.log.querySelectorAll(".message")];
    let turnStart = 0;
    messages.forEach((message, i) => {
      if (message.classList.contains("user")) turnStart = i + 1;
    });
    const current = new Set(messages.slice(turnStart));
    for (const group of this.log.querySelectorAll(".replies")) {
      const active = current.has(group.closest(".message")) && !group.classList.contains("answered");
      for (const button of group.querySelectorAll("button")) button.disabled = !active;
      group.hidden = !active && !group.classList.contains("feedback");
    }
  }

  disableReplies() {
    for (const button of this.log.querySelectorAll(".replies button")) button.disabled = true;
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }
}

async function loadConfig(assets) {
  try {
    const response = await fetch(new URL("config.json", assets), { credentials: "omit" });
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

/** Boots from the script tag that loaded the bundle. */
export async function boot(script, doc = document) {
  const options = optionsFrom(script, doc.location);
  const config = await loadConfig(options.assets);
  const start = () => {
    const widget = new AccueilWidget(doc, options, config).mount();
    doc.defaultView.accueilWidget = widget;
  };
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
}
