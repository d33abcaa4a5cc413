/**
 * The audio call's microphone capture, in the audio rendering thread
 * (AudioWorklet). Built into dist/accueil-call-worklet.js and loaded from
 * the widget's own server: a page whose policy says `script-src 'self'`
 * refuses a worklet made from a blob: URL, but not a file of an allowed origin.
 *
 * It turns the microphone's blocks (128 samples at the context's rate) into
 * 20 ms PCM16 16 kHz frames, posted to the widget as ArrayBuffers.
 */
/* global AudioWorkletProcessor, registerProcessor, sampleRate */
import { FrameEncoder } from "./pcm.js";

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.encoder = new FrameEncoder(sampleRate);
    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data === "stop") this.running = false;
    };
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    // No input yet (the microphone is starting): nothing to send, but keep the node alive.
    if (channel) {
      for (const frame of this.encoder.push(channel)) this.port.postMessage(frame.buffer, [frame.buffer]);
    }
    return this.running;
  }
}

registerProcessor("accueil-capture", CaptureProcessor);
