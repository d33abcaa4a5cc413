/**
 * How the widget talks to Rasa: its socket.io channel, or its REST webhook
 * where the socket is blocked (proxies of hospital intranets often block it).
 *
 * Both transports give the widget the same thing: `onMessage(message)` with
 * a normalised bot message, `onStatus("up" | "down")`, and `send(text)`
 * resolving to whether the message reached the server.
 */

import { io } from "socket.io-client";

/** One bot message, whatever the channel: {text, buttons, response, custom}. */
export function normalize(raw) {
  const buttons = (raw.quick_replies || raw.buttons || [])
    .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
    .map((b) => ({ title: b.title, payload: b.payload }));
  return {
    text: typeof raw.text === "string" ? raw.text : "",
    buttons,
    response: typeof raw.response === "string" ? raw.response : null,
    custom: raw.custom && typeof raw.custom === "object" ? raw.custom : null,
  };
}

const trimSlash = (url) => String(url).replace(/\/+$/, "");

export class SocketTransport {
  constructor(server, sessionId, { onMessage, onStatus, onUnreachable }, ioImpl = io) {
    this.kind = "socket";
    this.sessionId = sessionId;
    this.ready = false;
    this.everConnected = false;
    // The last message sent that no bot message has followed yet: sent again once the socket is back, because
    // the server that took it stopped before answering (another Rasa server answers it; none had recorded it).
    this.unanswered = null;
    this.socket = ioImpl(trimSlash(server), {
      path: "/socket.io",
      // One connection per session: any Rasa server can take it (they share the door, accueil/public_door.py),
      // where long-polling's separate requests would reach a server that does not know the session.
      transports: ["websocket"],
      reconnectionDelayMax: 10000,
      timeout: 8000,
    });
    this.socket.on("connect", () => {
      this.everConnected = true;
      this.socket.emit("session_request", { session_id: this.sessionId });
    });
    this.socket.on("session_confirm", () => {
      this.ready = true;
      onStatus("up");
      if (this.unanswered !== null) this.emit(this.unanswered);
      this.unanswered = null; // once: a message no server answers is not sent again and again
    });
    this.socket.on("bot_uttered", (raw) => {
      this.unanswered = null;
      onMessage(normalize(raw || {}));
    });
    this.socket.on("connect_error", () => {
      this.ready = false;
      onStatus("down");
      if (!this.everConnected && onUnreachable) onUnreachable(this);
    });
    this.socket.on("disconnect", () => {
      this.ready = false;
      onStatus("down");
    });
  }

  async send(text) {
    if (!this.ready) return false;
    this.unanswered = text;
    this.emit(text);
    return true;
  }

  emit(text) {
    this.socket.emit("user_uttered", { message: text, session_id: this.sessionId });
  }

  retry() {
    if (!this.socket.connected) this.socket.connect();
  }

  close() {
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}

export class RestTransport {
  constructor(server, sessionId, { onMessage, onStatus }, fetchImpl = globalThis.fetch.bind(globalThis)) {
    this.kind = "rest";
    this.base = `${trimSlash(server)}/webhooks/rest`;
    this.sessionId = sessionId;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.fetch = fetchImpl;
  }

  /** Whether the REST webhook answers at all. */
  async probe() {
    try {
      const response = await this.fetch(`${this.base}/`, { method: "GET" });
      return response.ok;
    } catch {
      return false;
    }
  }

  async connect() {
    const up = await this.probe();
    this.onStatus(up ? "up" : "down");
    return up;
  }

  async send(text) {
    let messages;
    try {
      const response = await this.fetch(`${this.base}/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sender: this.sessionId, message: text }),
      });
      // 429: too many messages; the body is the server's polite refusal, shown as the assistant's message.
      if (!response.ok && response.status !== 429) throw new Error(`HTTP ${response.status}`);
      messages = await response.json();
    } catch {
      this.onStatus("down");
      return false;
    }
    this.onStatus("up");
    for (const raw of Array.isArray(messages) ? messages : []) this.onMessage(normalize(raw || {}));
    return true;
  }

  retry() {
    return this.connect();
  }

  close() {}
}
