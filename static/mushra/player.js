// Audio engine of one MUSHRA trial, and the waveform control that drives it.
//
// Why every signal runs at once: switching between the reference and the conditions must keep
// the play position to the sample. All AudioBufferSourceNodes of a trial start with the same
// start time and offset, so the audio thread keeps them in lockstep; a switch only moves two
// gains. Nothing is re-seeked on the main thread, whose timers are far too coarse for that.

import { fill, gettext } from "./i18n.js";

export const FADE = 0.008; // s; long enough to avoid a click, short enough to be heard as "instant"
const MIN_LOOP = 0.05; // s; a shorter drag on the waveform is a click (jump), not a loop

// Ramps a GainNode to `to` over FADE, starting from its value at `at` even mid-ramp. That value
// comes from our record of the last ramp, not from AudioParam.value, which browsers report
// differently while automation runs. Linear, not equal-power: the signals of a trial are
// near-identical (correlated), so gains summing to 1 keep the level constant where equal-power
// gains would bump it by up to 3 dB halfway through.
export function ramp(node, to, at) {
  const r = node.ramp ?? { from: to, to, at };
  const now = r.from + (r.to - r.from) * Math.min(1, Math.max(0, (at - r.at) / FADE));
  node.gain.cancelScheduledValues(at);
  node.gain.setValueAtTime(now, at);
  node.gain.linearRampToValueAtTime(to, at + FADE);
  node.ramp = { from: now, to, at };
}

// Fetches with a few retries: a listener on a flaky connection should not lose the trial.
async function fetchBytes(url, attempts = 4) {
  for (let i = 1; ; i++) {
    let status = 0;
    try {
      const resp = await fetch(url, { credentials: "same-origin" });
      if (resp.ok) return await resp.arrayBuffer();
      status = resp.status;
    } catch (err) {
      status = 0; // network failure: worth retrying
    }
    if (i >= attempts || (status >= 400 && status < 500)) throw new Error(`HTTP ${status || "?"}`);
    await new Promise((r) => setTimeout(r, 500 * 2 ** (i - 1)));
  }
}

// The parts of a trial's audio response, each its own ArrayBuffer (decodeAudioData detaches it).
function splitBundle(bytes) {
  const view = new DataView(bytes);
  const count = view.getUint32(0);
  let at = 4 + 4 * count;
  const parts = [];
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(4 + 4 * i);
    if (at + length > bytes.byteLength) throw new Error("the trial's audio is cut short");
    parts.push(bytes.slice(at, at + length));
    at += length;
  }
  return parts;
}

// Renderings of one sentence differ in length by a few ms; padding with silence to a common
// length lets all sources share one loop, so they can never drift apart.
function padTo(ctx, buf, length) {
  if (buf.length === length) return buf;
  const out = ctx.createBuffer(buf.numberOfChannels, length, buf.sampleRate);
  for (let c = 0; c < buf.numberOfChannels; c++) out.copyToChannel(buf.getChannelData(c), c);
  return out;
}

export class Player extends EventTarget {
  constructor(ctx) {
    super();
    this.ctx = ctx;
    this.buffers = new Map(); // key -> AudioBuffer, all of one length
    this.stats = new Map(); // key -> {plays, ms}
    this.duration = 0;
    this.selected = null;
    this.loop = null; // {start, end} in s, or null for the whole signal
    this.cue = 0; // where Play starts: the last jump, or the loop start
    this.voice = null; // the running sources, or null when stopped
    this.audibleSince = null; // ctx time when the selected signal became audible
    this.out = ctx.createGain();
    this.out.connect(ctx.destination);
  }

  // Fetches a trial's audio in one response and decodes every signal; the trial is playable
  // only once all are in memory. The response (the server's delivery.trial_bundle) is a count
  // and each part's length, big-endian 32-bit, then the parts, in the order of `keys`.
  async loadTrial(keys, url, onProgress) {
    const parts = splitBundle(await fetchBytes(url));
    if (parts.length !== keys.length) throw new Error(`${parts.length} signals, not ${keys.length}`);
    let loaded = 0;
    onProgress?.(loaded, keys.length);
    const decoded = await Promise.all(
      parts.map(async (part, i) => {
        const buf = await this.ctx.decodeAudioData(part);
        onProgress?.(++loaded, keys.length);
        return [keys[i], buf];
      }),
    );
    const length = Math.max(...decoded.map(([, b]) => b.length));
    for (const [key, buf] of decoded) {
      this.buffers.set(key, padTo(this.ctx, buf, length));
      this.stats.set(key, { plays: 0, ms: 0 });
    }
    this.duration = length / this.ctx.sampleRate;
    this.selected = decoded[0][0];
  }

  get playing() {
    return this.voice !== null;
  }

  region() {
    return this.loop ? [this.loop.start, this.loop.end] : [0, this.duration];
  }

  // The shared play position in seconds, wrapped into the loop region.
  get position() {
    if (!this.voice) return this.cue;
    const [start, end] = this.region();
    const p = this.voice.from + Math.max(0, this.ctx.currentTime - this.voice.t0);
    return p < end ? p : start + ((p - start) % (end - start));
  }

  // Plays (times made audible) and listening time (ms audible) of one signal.
  listening(key) {
    const s = this.stats.get(key);
    const running = key === this.selected && this.audibleSince !== null;
    const now = running ? (this.ctx.currentTime - this.audibleSince) * 1000 : 0;
    return { plays: s.plays, ms: s.ms + now };
  }

  #audible(on) {
    const now = this.ctx.currentTime;
    const stats = this.stats.get(this.selected);
    if (this.audibleSince !== null) stats.ms += (now - this.audibleSince) * 1000;
    this.audibleSince = on ? now : null;
    if (on) stats.plays += 1;
  }

  #changed() {
    this.dispatchEvent(new Event("change"));
  }

  // Starts all sources at `from`, fading in; the previous voice (if any) fades out meanwhile.
  #startVoice(from) {
    const ctx = this.ctx;
    const t = ctx.currentTime;
    const [start, end] = this.region();
    if (from < start || from >= end) from = start;
    const out = ctx.createGain();
    out.ramp = { from: 0, to: 0, at: t };
    ramp(out, 1, t);
    out.connect(this.out);
    const gains = new Map();
    const sources = [];
    for (const [key, buf] of this.buffers) {
      const src = ctx.createBufferSource();
      src.buffer = buf;
      src.loop = true;
      src.loopStart = start;
      src.loopEnd = end;
      const gain = ctx.createGain();
      const level = key === this.selected ? 1 : 0;
      gain.gain.setValueAtTime(level, t);
      gain.ramp = { from: level, to: level, at: t };
      src.connect(gain).connect(out);
      src.start(t, from);
      sources.push(src);
      gains.set(key, gain);
    }
    this.#stopVoice();
    this.voice = { t0: t, from, out, gains, sources };
  }

  #stopVoice() {
    const v = this.voice;
    if (!v) return;
    const t = this.ctx.currentTime;
    ramp(v.out, 0, t);
    for (const src of v.sources) src.stop(t + FADE * 2);
    v.sources[0].onended = () => v.out.disconnect();
    this.voice = null;
  }

  play() {
    if (this.voice || !this.selected) return;
    if (this.ctx.state !== "running") this.ctx.resume(); // a user gesture is under way
    this.#startVoice(this.cue);
    this.#audible(true);
    this.#changed();
  }

  stop() {
    if (!this.voice) return;
    this.#audible(false);
    this.#stopVoice();
    this.cue = this.loop ? this.loop.start : this.cue;
    this.#changed();
  }

  // Makes `key` the audible signal at the current position (cross-fade, no restart).
  select(key) {
    if (!this.buffers.has(key) || key === this.selected) return;
    if (this.voice) {
      this.#audible(false);
      const t = this.ctx.currentTime;
      for (const [k, g] of this.voice.gains) ramp(g, k === key ? 1 : 0, t);
    }
    this.selected = key;
    if (this.voice) this.#audible(true);
    this.#changed();
  }

  // Jump: Play starts here from now on; if playing, playback continues from here.
  seek(seconds) {
    const [start, end] = this.region();
    this.cue = Math.min(Math.max(seconds, start), end - 1e-3);
    if (this.voice) this.#startVoice(this.cue);
    this.#changed();
  }

  setLoop(a, b) {
    const start = Math.max(0, Math.min(a, b));
    const end = Math.min(this.duration, Math.max(a, b));
    if (end - start < MIN_LOOP) return;
    this.loop = { start, end };
    this.cue = start;
    if (this.voice) this.#startVoice(start);
    this.#changed();
  }

  clearLoop() {
    if (!this.loop) return;
    const here = this.position;
    this.loop = null;
    this.cue = 0;
    if (this.voice) this.#startVoice(here); // carries on where it was
    this.#changed();
  }

  // Peak frequency of what is audible now (test hook only; the analyser is made on demand).
  peakHz() {
    if (!this.analyser) {
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 8192;
      this.out.connect(this.analyser);
    }
    const bins = new Float32Array(this.analyser.frequencyBinCount);
    this.analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    return (best * this.ctx.sampleRate) / this.analyser.fftSize;
  }

  dispose() {
    this.stop();
    setTimeout(() => this.out.disconnect(), 100); // after the fade-out: no click between trials
    this.buffers.clear();
  }
}

// The waveform of the reference (never of a condition: a listener must judge by ear, not by
// eye), the loop region, and a play-position line. Drag selects a loop; a click jumps.
export class Waveform {
  constructor(box, player, buffer) {
    this.player = player;
    this.buffer = buffer;
    this.canvas = box.querySelector("canvas");
    this.head = box.querySelector(".mushra-playhead");
    this.drag = null;
    this.raf = 0;
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.#down(e));
    c.addEventListener("pointermove", (e) => this.#move(e));
    c.addEventListener("pointerup", (e) => this.#up(e));
    c.addEventListener("pointercancel", () => this.#end());
    c.addEventListener("keydown", (e) => this.#key(e));
    player.addEventListener("change", () => this.#changed());
    this.resize = new ResizeObserver(() => this.draw());
    this.resize.observe(c);
  }

  #time(e) {
    const r = this.canvas.getBoundingClientRect();
    return (Math.min(Math.max(e.clientX - r.left, 0), r.width) / r.width) * this.player.duration;
  }

  #down(e) {
    if (e.button !== 0) return;
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = { x: e.clientX, from: this.#time(e), to: null };
  }

  #move(e) {
    if (!this.drag) return;
    if (Math.abs(e.clientX - this.drag.x) > 6) this.drag.to = this.#time(e);
    if (this.drag.to !== null) this.draw();
  }

  #up(e) {
    const d = this.drag;
    this.#end();
    if (!d) return;
    if (d.to === null) this.player.seek(d.from);
    else this.player.setLoop(d.from, this.#time(e));
  }

  #end() {
    this.drag = null;
    this.draw();
  }

  // Keyboard use of the waveform: arrows jump by 0.5 s, [ and ] set the loop's start and end.
  #key(e) {
    const p = this.player;
    const [start, end] = p.loop ? [p.loop.start, p.loop.end] : [0, p.duration];
    const moves = { ArrowLeft: -0.5, ArrowRight: 0.5 };
    if (e.key in moves) p.seek(p.position + moves[e.key]);
    else if (e.key === "Home") p.seek(0);
    else if (e.key === "[") p.setLoop(p.position, end);
    else if (e.key === "]") p.setLoop(start, p.position);
    else return;
    e.preventDefault();
  }

  #changed() {
    this.draw();
    if (this.player.playing && !this.raf) this.raf = requestAnimationFrame(() => this.#tick());
  }

  #tick() {
    this.raf = 0;
    this.#moveHead();
    if (this.player.playing) this.raf = requestAnimationFrame(() => this.#tick());
  }

  #moveHead() {
    const p = this.player;
    this.head.style.left = `${(100 * p.position) / p.duration}%`;
    this.canvas.setAttribute("aria-valuenow", p.position.toFixed(1));
    const seconds = p.position.toFixed(1);
    this.canvas.setAttribute("aria-valuetext", fill(gettext("%(seconds)s s"), { seconds }));
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr));
    const h = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== w || c.height !== h) [c.width, c.height] = [w, h];
    const g = c.getContext("2d");
    g.clearRect(0, 0, w, h);
    const dur = this.player.duration;
    const d = this.drag;
    const loop = d?.to != null ? { start: d.from, end: d.to } : this.player.loop;
    if (loop) {
      const [a, b] = [loop.start, loop.end].sort((x, y) => x - y).map((t) => (t / dur) * w);
      g.fillStyle = "rgba(36, 87, 197, 0.18)";
      g.fillRect(a, 0, b - a, h);
    }
    // One min/max pair per pixel column: every sample counts, so short peaks stay visible.
    const data = this.buffer.getChannelData(0);
    const step = data.length / w;
    g.fillStyle = "#5b6475";
    for (let x = 0; x < w; x++) {
      let lo = 1;
      let hi = -1;
      for (let i = Math.floor(x * step), n = Math.floor((x + 1) * step); i < n; i++) {
        if (data[i] < lo) lo = data[i];
        if (data[i] > hi) hi = data[i];
      }
      if (hi < lo) continue;
      g.fillRect(x, ((1 - hi) * h) / 2, 1, Math.max(1, ((hi - lo) * h) / 2));
    }
    this.#moveHead();
  }

  dispose() {
    cancelAnimationFrame(this.raf);
    this.resize.disconnect();
  }
}
