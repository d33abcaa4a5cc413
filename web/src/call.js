/**
 * An audio call to the voice gateway from the browser, like a phone call:
 * the microphone goes to the gateway's WebSocket as 20 ms PCM16 16 kHz
 * frames, all the time (silence too: the gateway ends a turn on silence),
 * and the bot's audio (the same format, paced in real time) is played back
 * to back. Text events tell what was heard and what the bot said.
 *
 * Capture runs in an AudioWorklet loaded from the widget's own server
 * (accueil-call-worklet.js), or in a ScriptProcessor where a worklet cannot
 * run. Every browser API comes from `env`, so that the tests can fake them.
 */

import { CALL_RATE, FrameEncoder, pcm16ToFloat32 } from "./pcm.js";

export const CALL_WORKLET = "accueil-call-worklet.js";
const CONNECT_TIMEOUT_MS = 10000;
const PLAYOUT_LEAD = 0.06; // seconds of the bot's audio queued ahead, against the network's jitter
const MAX_BUFFERED = 64 * 1024; // bytes the socket has not sent yet (2 s of audio): a stalled link drops audio
const OPEN = 1;
const BUSY = 1013; // the gateway's close code when it has as many calls as it takes ("try again later")

export class CallError extends Error {
  /** `code`: "unsupported", "mic" (refused), "no-mic", "unavailable" (gateway unreachable), "busy" (every line taken) or "cancelled". */
  constructor(code, cause) {
    super(`call failed: ${code}`);
    this.code = code;
    this.cause = cause;
  }
}

/** The voice gateway's address from the widget's configuration, if it is a ws(s) URL. */
export function voiceUrlFrom(config) {
  const value = config && config.voice_url;
  if (typeof value !== "string" || !value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "ws:" || url.protocol === "wss:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A text message of the gateway as an event the widget shows, or null (timings, unknown types, not JSON). */
export function parseEvent(data) {
  let event;
  try {
    event = JSON.parse(data);
  } catch {
    return null;
  }
  if (!event || typeof event !== "object") return null;
  const text = typeof event.text === "string" ? event.text.trim() : "";
  switch (event.type) {
    case "answered":
      return { type: "answered", callId: String(event.call_id || "") };
    case "heard":
    case "bot":
      return { type: event.type, text };
    case "transfer":
      return { type: "transfer", summary: typeof event.summary === "string" ? event.summary : "" };
    case "hangup":
      return { type: "hangup" };
    default:
      return null;
  }
}

export class VoiceCall {
  /**
   * `handlers.onState(state, reason)`: "connecting", "active", "ended" (reason "caller", "bot" or "closed");
   * `handlers.onEvent(event)`: heard, bot and transfer events of parseEvent.
   */
  constructor(url, handlers, { workletUrl = null, env = globalThis } = {}) {
    this.url = url;
    this.handlers = handlers;
    this.workletUrl = workletUrl;
    this.env = env;
    this.state = "idle";
    this.capture = null; // "worklet" or "script"
    this.nodes = [];
    this.playing = new Set();
    this.playHead = 0;
  }

  /** Resolves once the gateway answered; rejects with a CallError. Call it in the click's handler. */
  async start() {
    const env = this.env;
    const Context = env.AudioContext || env.webkitAudioContext;
    const media = env.navigator && env.navigator.mediaDevices;
    if (!Context || !media || !media.getUserMedia || !env.WebSocket) throw new CallError("unsupported");
    this.setState("connecting");
    try {
      // Before any await: browsers let a page play sound only right after a gesture.
      this.ctx = new Context();
    } catch (error) {
      throw this.fail("unsupported", error);
    }
    try {
      this.stream = await media.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    } catch (error) {
      const refused = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      throw this.fail(refused ? "mic" : "no-mic", error);
    }
    if (this.state !== "connecting") throw this.fail("cancelled");
    try {
      if (this.ctx.state === "suspended") await this.ctx.resume();
      await this.startCapture();
    } catch (error) {
      throw this.fail("unsupported", error);
    }
    if (this.state !== "connecting") throw this.fail("cancelled");
    await this.connect();
    return this;
  }

  async startCapture() {
    const { ctx, env } = this;
    const source = ctx.createMediaStreamSource(this.stream);
    let node = null;
    if (ctx.audioWorklet && env.AudioWorkletNode && this.workletUrl) {
      try {
        await ctx.audioWorklet.addModule(this.workletUrl);
        node = new env.AudioWorkletNode(ctx, "accueil-capture", {
          numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], channelCount: 1, channelCountMode: "explicit",
        });
        node.port.onmessage = (event) => this.sendAudio(event.data);
        this.capture = "worklet";
      } catch {
        node = null; // the worklet file was refused or not found: capture on the main thread instead
      }
    }
    if (!node) {
      const encoder = new FrameEncoder(ctx.sampleRate);
      node = ctx.createScriptProcessor(2048, 1, 1);
      node.onaudioprocess = (event) => {
        for (const frame of encoder.push(event.inputBuffer.getChannelData(0))) this.sendAudio(frame.buffer);
        event.outputBuffer.getChannelData(0).fill(0);
      };
      this.capture = "script";
    }
    source.connect(node);
    node.connect(ctx.destination); // its output is silence; connected, the browser keeps running it
    this.nodes = [source, node];
  }

  connect() {
    return new Promise((resolve, reject) => {
      let timer = null;
      const settle = (error) => {
        clearTimeout(timer);
        this.settle = null;
        if (error) reject(error);
        else resolve();
      };
      let ws;
      try {
        ws = new this.env.WebSocket(this.url);
      } catch (error) {
        settle(this.fail("unavailable", error));
        return;
      }
      this.ws = ws;
      this.settle = settle; // a hang-up while connecting rejects it as cancelled
      ws.binaryType = "arraybuffer";
      timer = setTimeout(() => settle(this.fail("unavailable")), CONNECT_TIMEOUT_MS);
      ws.onmessage = (message) => {
        if (this.state === "active") {
          this.receive(message.data);
          return;
        }
        const event = typeof message.data === "string" ? parseEvent(message.data) : null;
        if (event && event.type === "answered") {
          this.callId = event.callId;
          this.setState("active");
          settle();
        }
      };
      // A failed connection fires "error" then "close": the close is enough.
      ws.onclose = (event) => {
        if (this.state === "active") this.end("closed");
        else settle(this.fail(event && event.code === BUSY ? "busy" : "unavailable"));
      };
    });
  }

  receive(data) {
    if (typeof data === "string") {
      const event = parseEvent(data);
      if (!event) return;
      if (event.type === "hangup") this.end("bot");
      else if (event.type !== "answered") this.handlers.onEvent(event);
    } else if (data && data.byteLength) {
      this.play(data);
    }
  }

  /** One chunk of the bot's voice, played right after the ones queued (or after a short lead after a pause). */
  play(data) {
    const ctx = this.ctx;
    const samples = pcm16ToFloat32(data);
    if (!samples.length) return;
    const buffer = ctx.createBuffer(1, samples.length, CALL_RATE);
    buffer.getChannelData(0).set(samples);
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    const now = ctx.currentTime;
    if (this.playHead < now + 0.005) this.playHead = now + PLAYOUT_LEAD;
    source.start(this.playHead);
    this.playHead += samples.length / CALL_RATE;
    this.playing.add(source);
    source.onended = () => this.playing.delete(source);
  }

  sendAudio(buffer) {
    const ws = this.ws;
    if (this.state === "active" && ws && ws.readyState === OPEN && ws.bufferedAmount < MAX_BUFFERED) ws.send(buffer);
  }

  sendEvent(event) {
    const ws = this.ws;
    if (ws && ws.readyState === OPEN) ws.send(JSON.stringify(event));
  }

  /** A key of the phone's keypad ("0": a person). */
  dtmf(digit) {
    if (this.state === "active") this.sendEvent({ type: "dtmf", digit: String(digit) });
  }

  hangUp() {
    this.end("caller");
  }

  /** Ends the call once (whoever ends it) and tells the widget. */
  end(reason) {
    if (this.state === "ended" || this.state === "idle") return;
    if (reason === "caller") this.sendEvent({ type: "hangup" });
    const pending = this.settle;
    // The bot's last words (its goodbye) may still be queued: they play out before the audio closes.
    this.release(reason === "bot");
    this.handlers.onState("ended", reason);
    if (pending) pending(new CallError("cancelled"));
  }

  /** Ends the call before it was answered: released silently, the error goes to start()'s caller. */
  fail(code, cause) {
    this.release(false);
    return new CallError(code, cause);
  }

  release(letPlay) {
    this.state = "ended";
    const ws = this.ws;
    if (ws) {
      ws.onmessage = ws.onclose = null;
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
    }
    for (const track of this.stream ? this.stream.getTracks() : []) track.stop();
    for (const node of this.nodes) {
      try {
        node.disconnect();
      } catch {
        // already disconnected
      }
      if (node.port) node.port.postMessage("stop");
      node.onaudioprocess = null;
    }
    this.nodes = [];
    const ctx = this.ctx;
    if (!ctx) return;
    const left = letPlay ? this.playHead - ctx.currentTime : 0;
    const close = () => {
      if (ctx.state !== "closed") Promise.resolve(ctx.close()).catch(() => {});
    };
    if (left > 0) {
      setTimeout(close, left * 1000 + 50);
    } else {
      for (const source of this.playing) {
        try {
          source.stop();
        } catch {
          // not started or already ended
        }
      }
      this.playing.clear();
      close();
    }
  }

  setState(state) {
    this.state = state;
    this.handlers.onState(state);
  }
}
