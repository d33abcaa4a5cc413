import "./dom.js";
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { CallError, parseEvent, VoiceCall, voiceUrlFrom } from "../src/call.js";
import { floatToPcm16, FrameEncoder, pcm16ToFloat32, Resampler } from "../src/pcm.js";
import { RestTransport } from "../src/transport.js";
import { AccueilWidget } from "../src/widget.js";

const tick = () => new Promise((resolve) => setTimeout(resolve));
const VOICE = "ws://127.0.0.1:8090/call";

function sine(freq, rate, seconds, phase = 0) {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin(2 * Math.PI * freq * (i + phase) / rate));
}

describe("PCM16 conversion", () => {
  it("turns float samples into clipped PCM16 and back", () => {
    assert.deepEqual([...floatToPcm16(Float32Array.from([0, 1, -1, 0.5, -0.5, 2, -3, NaN]))], [0, 32767, -32768, 16384, -16384, 32767, -32768, 0]);
    const back = pcm16ToFloat32(Int16Array.from([0, 16384, -32768, 32767]));
    assert.deepEqual([...back], [0, 0.5, -1, 32767 / 32768]);
  });

  it("reads a WebSocket message's ArrayBuffer as little-endian PCM16, an odd last byte ignored", () => {
    const bytes = new Uint8Array([0x00, 0x40, 0x00, 0xc0, 0x7f]); // 16384, -16384, and half a sample
    assert.deepEqual([...pcm16ToFloat32(bytes.buffer)], [0.5, -0.5]);
  });
});

describe("resampling", () => {
  it("takes 48 kHz down to 16 kHz: a third of the samples, the same tone", () => {
    const input = sine(1000, 48000, 0.1);
    const out = new Resampler(48000, 16000).push(input);
    assert.equal(out.length, 1600);
    // Each output sample is the mean of 3 input samples, centred one input sample later.
    const gain = Math.sin((3 * Math.PI * 1000) / 48000) / (3 * Math.sin((Math.PI * 1000) / 48000));
    const expected = sine(1000, 48000, 0.1, 1).filter((_, i) => i % 3 === 0).map((x) => x * gain);
    const error = Math.max(...out.map((x, i) => Math.abs(x - expected[i])));
    assert.ok(error < 1e-4, `max error ${error}`);
  });

  it("keeps 1 s of 44.1 kHz at 16,000 samples, whatever the chunks it comes in", () => {
    const input = sine(440, 44100, 1);
    const whole = new Resampler(44100).push(input);
    const chunked = new Resampler(44100);
    const parts = [];
    for (let i = 0, size = 1; i < input.length; i += size, size = (size * 7) % 300 + 1) parts.push(...chunked.push(input.subarray(i, i + size)));
    assert.ok(Math.abs(whole.length - 16000) <= 1, `${whole.length} samples`);
    assert.equal(parts.length, whole.length);
    assert.ok(parts.every((x, i) => Math.abs(x - whole[i]) < 1e-6));
  });

  it("cuts a 48 kHz float32 stream in 128-sample blocks into 20 ms PCM16 frames of 320 samples", () => {
    const encoder = new FrameEncoder(48000);
    const frames = [];
    const block = new Float32Array(128).fill(0.5);
    for (let i = 0; i < 375; i++) frames.push(...encoder.push(block)); // 375 × 128 = 48,000 samples: 1 s
    assert.equal(frames.length, 50);
    assert.ok(frames.every((f) => f instanceof Int16Array && f.length === 320 && f.every((s) => s === 16384)));
    assert.notEqual(frames[0].buffer, frames[1].buffer, "each frame has a buffer of its own, to be transferred");
  });
});

describe("gateway events", () => {
  it("keeps what the widget shows and drops the rest", () => {
    assert.deepEqual(parseEvent('{"type":"heard","text":" bonjour "}'), { type: "heard", text: "bonjour" });
    assert.deepEqual(parseEvent('{"type":"bot","text":"Bonjour !","slow":false}'), { type: "bot", text: "Bonjour !" });
    assert.deepEqual(parseEvent('{"type":"answered","call_id":"abc"}'), { type: "answered", callId: "abc" });
    assert.deepEqual(parseEvent('{"type":"hangup"}'), { type: "hangup" });
    assert.equal(parseEvent('{"type":"turn","total":1.2}'), null);
    assert.equal(parseEvent("not json"), null);
    assert.equal(parseEvent("null"), null);
    assert.deepEqual(parseEvent('{"type":"heard","text":{"html":"<b>"}}'), { type: "heard", text: "" });
  });

  it("takes only a ws(s) address as the voice gateway's", () => {
    assert.equal(voiceUrlFrom({ voice_url: VOICE }), VOICE);
    assert.equal(voiceUrlFrom({ voice_url: "wss://voix.ch-valmont.fr/call" }), "wss://voix.ch-valmont.fr/call");
    assert.equal(voiceUrlFrom({ voice_url: "javascript:alert(1)" }), null);
    assert.equal(voiceUrlFrom({ voice_url: "http://127.0.0.1:8090/call" }), null);
    assert.equal(voiceUrlFrom({}), null);
    assert.equal(voiceUrlFrom(null), null);
  });
});

// --- the call in the widget, on fake browser audio and a fake gateway -----------------------------

class FakeSocket {
  static instances = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.readyState = 0;
    this.bufferedAmount = 0;
    FakeSocket.instances.push(this);
  }
  send(data) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
    this.closed = true;
  }
  // The gateway's side.
  answer() {
    this.readyState = 1;
    this.serverSays({ type: "answered", call_id: "c1" });
  }
  serverSays(event) {
    this.onmessage({ data: typeof event === "string" ? event : JSON.stringify(event) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose && this.onclose({ code });
  }
  events() {
    return this.sent.filter((m) => typeof m === "string").map((m) => JSON.parse(m));
  }
}

function fakeEnvironment({ refuse = null } = {}) {
  const env = { WebSocket: FakeSocket, tracks: [], contexts: [], modules: [], nodes: [] };
  env.navigator = {
    mediaDevices: {
      async getUserMedia(constraints) {
        env.constraints = constraints;
        if (refuse) throw Object.assign(new Error("refused"), { name: refuse });
        const track = { stopped: false, stop() { this.stopped = true; } };
        env.tracks.push(track);
        return { getTracks: () => [track] };
      },
    },
  };
  const node = () => ({ connect() {}, disconnect() {} });
  env.AudioContext = class {
    constructor() {
      this.state = "running";
      this.sampleRate = 48000;
      this.currentTime = 1;
      this.destination = node();
      this.started = [];
      this.audioWorklet = { addModule: async (url) => env.modules.push(url) };
      env.contexts.push(this);
    }
    createMediaStreamSource() {
      return node();
    }
    createBuffer(channels, length, rate) {
      const data = new Float32Array(length);
      return { length, sampleRate: rate, duration: length / rate, getChannelData: () => data };
    }
    createBufferSource() {
      const ctx = this;
      return { ...node(), start(at) { ctx.started.push({ at, samples: this.buffer.length }); }, stop() {} };
    }
    async close() {
      this.state = "closed";
    }
  };
  env.AudioWorkletNode = class {
    constructor(ctx, name, options) {
      Object.assign(this, node(), { name, options, port: { posted: [], postMessage(m) { this.posted.push(m); } } });
      env.nodes.push(this);
    }
  };
  return env;
}

function widgetWith(config, env = fakeEnvironment()) {
  const fetchImpl = async () => ({ ok: true, json: async () => [] });
  const options = { server: "http://127.0.0.1:5005", title: "", color: "#00457c", lang: "fr", transport: "rest", assets: "http://127.0.0.1:8080/widget/" };
  const widget = new AccueilWidget(document, options, { link_hosts: [], max_length: 1000, ...config });
  widget.connect = function () {
    this.transport = new RestTransport(options.server, this.sessionId, { onMessage: (m) => this.receive(m), onStatus: (s) => this.setStatus(s) }, fetchImpl);
    this.transport.connect();
  };
  const create = widget.createCall.bind(widget);
  widget.createCall = (url, handlers) => {
    const call = create(url, handlers);
    call.env = env;
    return call;
  };
  widget.mount();
  widget.open();
  return { widget, env, shadow: widget.root };
}

/** Clicks « Appeler » and lets the gateway answer. */
async function answeredCall(config = { voice_url: VOICE }) {
  const setup = widgetWith(config);
  setup.shadow.querySelector(".call-start").click();
  await tick();
  await tick();
  setup.socket = FakeSocket.instances.at(-1);
  setup.socket.answer();
  await tick();
  return setup;
}

beforeEach(() => {
  document.body.innerHTML = "";
  sessionStorage.clear();
  FakeSocket.instances = [];
});

describe("call button", () => {
  it("is not there when the configuration has no voice_url", () => {
    const { shadow } = widgetWith({});
    assert.equal(shadow.querySelector(".call-start"), null);
    assert.equal(shadow.querySelector(".call-bar").hidden, true);
    const invalid = widgetWith({ voice_url: "https://example.org/call" });
    assert.equal(invalid.shadow.querySelector(".call-start"), null);
  });

  it("is in the header, labelled, with an inline icon, when the gateway has an address", () => {
    const { shadow } = widgetWith({ voice_url: VOICE });
    const button = shadow.querySelector("header .call-start");
    assert.equal(button.getAttribute("aria-label"), "Appeler l'assistant (audio)");
    assert.equal(button.textContent, "Appeler");
    assert.ok(button.querySelector("svg[aria-hidden='true'] path"));
    assert.equal(button.disabled, false);
  });
});

describe("a call", () => {
  it("asks for the microphone, loads the capture worklet from the widget's server and sends its frames", async () => {
    const { env, socket, shadow, widget } = await answeredCall();
    assert.equal(socket.url, VOICE);
    assert.equal(socket.binaryType, "arraybuffer");
    assert.ok(env.constraints.audio);
    assert.deepEqual(env.modules, ["http://127.0.0.1:8080/widget/accueil-call-worklet.js"]);
    assert.equal(widget.call.capture, "worklet");
    assert.match(shadow.querySelector(".call-state").textContent, /^Appel en cours…/);
    assert.equal(shadow.querySelector(".call-state").getAttribute("role"), "status");
    assert.equal(shadow.querySelector(".call-start").disabled, true);
    const frame = new Int16Array(320).buffer;
    env.nodes[0].port.onmessage({ data: frame });
    assert.equal(socket.sent[0], frame);
  });

  it("shows what was heard and what the bot said as text, never as HTML", async () => {
    const { socket, shadow } = await answeredCall();
    socket.serverSays({ type: "bot", text: "Bonjour, <b>Centre hospitalier</b>", slow: false });
    socket.serverSays({ type: "heard", text: "<img src=x onerror=alert(1)> horaires" });
    socket.serverSays({ type: "turn", total: 1.2 });
    socket.serverSays({ type: "heard", text: "" });
    const user = shadow.querySelectorAll(".message.user.call");
    assert.equal(user.length, 1);
    assert.equal(user[0].querySelector(".who").textContent, "Vous (appel)");
    assert.equal(user[0].querySelector(".bubble").textContent, "<img src=x onerror=alert(1)> horaires");
    const bot = shadow.querySelector(".message.bot.call .bubble");
    assert.equal(bot.textContent, "Bonjour, <b>Centre hospitalier</b>");
    assert.equal(shadow.querySelector(".message img, .message b"), null);
    assert.equal(shadow.querySelector(".log").getAttribute("aria-live"), "polite");
  });

  it("plays the bot's audio chunks back to back", async () => {
    const { env, socket } = await answeredCall();
    const ctx = env.contexts[0];
    for (let i = 0; i < 3; i++) socket.onmessage({ data: new Int16Array(320).buffer });
    assert.deepEqual(ctx.started.map((s) => s.samples), [320, 320, 320]);
    const [a, b, c] = ctx.started.map((s) => s.at);
    assert.ok(a > ctx.currentTime && Math.abs(b - a - 0.02) < 1e-9 && Math.abs(c - b - 0.02) < 1e-9);
  });

  it("sends the 0 key, and « Raccrocher » ends the call: microphone off, audio closed", async () => {
    const { env, socket, shadow } = await answeredCall();
    const key = shadow.querySelector(".call-key");
    assert.equal(key.textContent, "0 · conseiller");
    key.click();
    shadow.querySelector(".hang-up").click();
    assert.deepEqual(socket.events(), [{ type: "dtmf", digit: "0" }, { type: "hangup" }]);
    assert.ok(socket.closed);
    assert.ok(env.tracks.every((t) => t.stopped));
    await tick();
    assert.equal(env.contexts[0].state, "closed");
    assert.equal(env.nodes[0].port.posted.at(-1), "stop");
    assert.equal(shadow.querySelector(".call-state").textContent, "Appel terminé");
    assert.equal(shadow.querySelector(".call-buttons").hidden, true);
    assert.equal(shadow.querySelector(".call-start").disabled, false);
  });

  it("ends when the gateway hangs up or the socket closes", async () => {
    for (const end of [(s) => s.serverSays({ type: "hangup" }), (s) => s.drop()]) {
      document.body.innerHTML = "";
      const { env, socket, shadow } = await answeredCall();
      end(socket);
      await new Promise((resolve) => setTimeout(resolve, 80));
      assert.equal(shadow.querySelector(".call-state").textContent, "Appel terminé");
      assert.ok(env.tracks.every((t) => t.stopped));
      assert.equal(env.contexts[0].state, "closed");
      assert.ok(!socket.events().some((e) => e.type === "hangup"), "the caller did not hang up");
    }
  });
});

describe("a call that cannot start", () => {
  it("asks to allow the microphone when it is refused", async () => {
    const env = fakeEnvironment({ refuse: "NotAllowedError" });
    const { shadow } = widgetWith({ voice_url: VOICE }, env);
    shadow.querySelector(".call-start").click();
    await tick();
    assert.match(shadow.querySelector(".notice").textContent, /^Autorisez le micro pour appeler/);
    assert.equal(FakeSocket.instances.length, 0);
    assert.equal(env.contexts[0].state, "closed");
    assert.equal(shadow.querySelector(".call-start").disabled, false);
    assert.equal(shadow.querySelector(".call-buttons").hidden, true);
  });

  it("says the call is not available and disables the button when the gateway does not answer", async () => {
    const { env, shadow } = widgetWith({ voice_url: VOICE });
    shadow.querySelector(".call-start").click();
    await tick();
    await tick();
    FakeSocket.instances[0].drop();
    await tick();
    assert.match(shadow.querySelector(".notice").textContent, /^L'appel audio n'est pas disponible pour le moment\./);
    assert.equal(shadow.querySelector(".call-start").disabled, true);
    assert.ok(env.tracks.every((t) => t.stopped));
    assert.equal(env.contexts[0].state, "closed");
  });

  it("says every line is busy, and keeps the button, when the gateway refuses the call (close code 1013)", async () => {
    const { env, shadow } = widgetWith({ voice_url: VOICE });
    shadow.querySelector(".call-start").click();
    await tick();
    await tick();
    FakeSocket.instances[0].drop(1013);
    await tick();
    assert.match(shadow.querySelector(".notice").textContent, /^Toutes les lignes de l'assistant sont occupées\./);
    assert.equal(shadow.querySelector(".call-start").disabled, false);
    assert.ok(env.tracks.every((t) => t.stopped));
  });

  it("tells an unsupported browser, without asking anything", async () => {
    const call = new VoiceCall(VOICE, { onState() {}, onEvent() {} }, { env: {} });
    await assert.rejects(call.start(), (error) => error instanceof CallError && error.code === "unsupported");
  });
});
