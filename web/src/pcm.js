/**
 * Audio sample conversions for the audio call, free of any browser API so
 * that both the capture worklet and the unit tests use them.
 *
 * The voice gateway takes and gives 16 kHz mono PCM16 (little-endian, like
 * every browser's typed arrays); the browser captures and plays float32 at
 * its own rate (44.1 or 48 kHz, usually).
 */

export const CALL_RATE = 16000;
/** 20 ms at 16 kHz: the chunk sent to the gateway, like a phone line's packet. */
export const FRAME_SAMPLES = 320;

/** Float samples in [-1, 1] as PCM16, clipped. */
export function floatToPcm16(input) {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const s = Math.max(-1, Math.min(1, input[i] || 0));
    out[i] = Math.round(s < 0 ? s * 0x8000 : s * 0x7fff);
  }
  return out;
}

/** PCM16 (an Int16Array, or the ArrayBuffer of a WebSocket message) as float samples. */
export function pcm16ToFloat32(input) {
  const samples = input instanceof Int16Array ? input : new Int16Array(input, 0, input.byteLength >> 1);
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] / 0x8000;
  return out;
}

/**
 * A streaming resampler by area averaging: each output sample is the mean of
 * the input span it covers (fractional at the edges). Averaging is the low-pass
 * filter that keeps most of the aliasing out when going down (48 kHz → 16 kHz);
 * going up, it holds each sample. Its state carries over from one chunk to the
 * next, so a stream cut anywhere gives the same samples.
 */
export class Resampler {
  constructor(inRate, outRate = CALL_RATE) {
    if (!(inRate > 0 && outRate > 0)) throw new RangeError(`bad sample rates ${inRate} → ${outRate}`);
    this.ratio = inRate / outRate; // input samples per output sample
    this.sum = 0; // weighted sum of the output sample being built
    this.filled = 0; // how much input (in samples, fractional) it has had so far
  }

  /** The output samples that `input` (float32) completes. */
  push(input) {
    const ratio = this.ratio;
    const out = new Float32Array(Math.ceil((input.length + this.filled) / ratio) + 1);
    let n = 0;
    for (let i = 0; i < input.length; i++) {
      const x = input[i];
      let left = 1; // the part of this input sample not used yet
      while (left > 1e-9) {
        const need = ratio - this.filled;
        if (left >= need - 1e-9) {
          this.sum += x * need;
          out[n++] = this.sum / ratio;
          this.sum = 0;
          this.filled = 0;
          left -= need;
        } else {
          this.sum += x * left;
          this.filled += left;
          left = 0;
        }
      }
    }
    return out.subarray(0, n);
  }
}

/** Microphone audio at any rate in, 20 ms PCM16 16 kHz frames out. */
export class FrameEncoder {
  constructor(inRate, outRate = CALL_RATE, frameSamples = FRAME_SAMPLES) {
    this.resampler = new Resampler(inRate, outRate);
    this.frame = new Int16Array(frameSamples);
    this.length = 0;
  }

  /** The whole frames that `input` (float32) completes, each an Int16Array of its own. */
  push(input) {
    const pcm = floatToPcm16(this.resampler.push(input));
    const frames = [];
    for (let i = 0; i < pcm.length; ) {
      const take = Math.min(pcm.length - i, this.frame.length - this.length);
      this.frame.set(pcm.subarray(i, i + take), this.length);
      this.length += take;
      i += take;
      if (this.length === this.frame.length) {
        frames.push(this.frame);
        this.frame = new Int16Array(this.frame.length);
        this.length = 0;
      }
    }
    return frames;
  }
}
