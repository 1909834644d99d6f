// Audition grid: play a corpus' stimuli, and switch between the conditions of one utterance at
// the same position, as a listener will in a MUSHRA trial.
//
// Why a row's signals all run at once (as in static/mushra/player.js, kept separate because
// that one carries the listener's loops, bundles and listening statistics): every source of
// the row starts with the same start time and offset, so the audio thread keeps them in
// lockstep and a switch only moves gains. Re-seeking from the main thread would be off by
// its timer's coarseness. A different row starts from 0.
//
// State for tests and people alike: the grid's data-playing (stimulus id, "" when stopped)
// and data-position (seconds, updated while playing and at each switch); data-ready once the
// clicks are handled (a module runs after the grid is on screen).

import { FADE, ramp } from "../mushra/player.js"; // the listener's cross-fade, shared

const grid = document.getElementById("audition-grid");
const panel = document.getElementById("audition-panel");
let ctx = null;
const rows = new Map(); // row element -> Promise<Map<stimulus id, AudioBuffer>>
let voice = null; // {row, id, t0, from, duration, out, gains, sources, timer}
let ticket = 0; // the latest play click; a slower earlier load must not start over it

function audioContext() {
  ctx ??= new AudioContext();
  if (ctx.state !== "running") ctx.resume(); // called within the click: a user gesture
  return ctx;
}

// Fetches and decodes every ready signal of a row once; a cell whose audio fails is marked
// and left out rather than spoiling the row.
function rowBuffers(row) {
  if (!rows.has(row)) {
    const buttons = [...row.querySelectorAll("button.play")];
    const loads = buttons.map(async (button) => {
      try {
        const resp = await fetch(button.dataset.audio, { credentials: "same-origin" });
        if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
        return [button.dataset.stimulus, await ctx.decodeAudioData(await resp.arrayBuffer())];
      } catch (err) {
        button.classList.add("broken");
        button.title = `could not load: ${err.message}`;
        return null;
      }
    });
    rows.set(row, Promise.all(loads).then((pairs) => new Map(pairs.filter(Boolean))));
  }
  return rows.get(row);
}

function position() {
  if (!voice) return 0;
  return voice.from + Math.max(0, ctx.currentTime - voice.t0);
}

function show() {
  grid.dataset.playing = voice ? voice.id : "";
  grid.dataset.position = position().toFixed(3);
  for (const button of grid.querySelectorAll("button.play")) {
    const on = voice !== null && button.dataset.stimulus === voice.id;
    button.setAttribute("aria-pressed", String(on));
    button.closest("td").classList.toggle("playing", on);
  }
}

function start(row, buffers, id, from) {
  const t = ctx.currentTime;
  const out = ctx.createGain();
  out.ramp = { from: 0, to: 0, at: t };
  ramp(out, 1, t);
  out.connect(ctx.destination);
  const gains = new Map();
  const sources = [];
  let duration = 0;
  for (const [key, buf] of buffers) {
    duration = Math.max(duration, buf.duration);
    const src = ctx.createBufferSource();
    src.buffer = buf;
    const gain = ctx.createGain();
    const level = key === id ? 1 : 0;
    gain.gain.setValueAtTime(level, t);
    gain.ramp = { from: level, to: level, at: t };
    src.connect(gain).connect(out);
    src.start(t, Math.min(from, buf.duration));
    sources.push(src);
    gains.set(key, gain);
  }
  const tick = () => (position() >= voice.duration ? stop() : show());
  voice = { row, id, t0: t, from, duration, out, gains, sources, timer: setInterval(tick, 50) };
  show();
}

function stop() {
  if (!voice) return;
  const v = voice;
  voice = null;
  clearInterval(v.timer);
  const t = ctx.currentTime;
  ramp(v.out, 0, t);
  for (const src of v.sources) src.stop(t + FADE * 2);
  setTimeout(() => v.out.disconnect(), 100);
  show();
}

// Same row: the new signal becomes audible at the position the old one had reached.
function select(id) {
  const t = ctx.currentTime;
  for (const [key, gain] of voice.gains) ramp(gain, key === id ? 1 : 0, t);
  voice.id = id;
  show();
}

async function play(button) {
  audioContext();
  const row = button.closest("tr");
  const id = button.dataset.stimulus;
  const mine = ++ticket;
  if (voice && voice.row === row) {
    if (voice.id === id) stop();
    else if (voice.gains.has(id)) select(id);
    return;
  }
  stop();
  button.classList.add("loading");
  const buffers = await rowBuffers(row);
  button.classList.remove("loading");
  if (mine !== ticket || !buffers.has(id)) return; // clicked elsewhere meanwhile, or broken
  start(row, buffers, id, 0);
}

function openPanel(title, facts, detail) {
  panel.querySelector("h2").textContent = title;
  const dl = panel.querySelector("dl");
  dl.replaceChildren();
  for (const [name, value] of facts) {
    if (value === null || value === undefined || value === "") continue;
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = value;
    dl.append(dt, dd);
  }
  panel.querySelector("pre").textContent = detail;
  panel.hidden = false;
}

function columnOf(cell) {
  return grid.tHead.rows[0].cells[cell.cellIndex].dataset.label;
}

function rowKey(cell) {
  return cell.closest("tr").querySelector(".key").textContent;
}

async function provenance(button) {
  const cell = button.closest("td");
  try {
    const resp = await fetch(button.dataset.provenance, { credentials: "same-origin" });
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    const p = await resp.json();
    const round = (x, unit) => (x === null ? null : `${x.toFixed(2)} ${unit}`);
    openPanel(
      `Stimulus ${p.id}: ${rowKey(cell)} · ${columnOf(cell)}`,
      [
        ["Status", p.status],
        ["Error", p.error],
        ["sha256", p.sha256],
        ["Duration", round(p.duration, "s")],
        ["Loudness", round(p.loudness_lufs, "LUFS")],
        ["True peak", round(p.true_peak_dbtp, "dBTP")],
        ["Sample rate", p.sample_rate && `${p.sample_rate} Hz`],
      ],
      JSON.stringify(p.provenance, null, 2),
    );
  } catch (err) {
    openPanel("Provenance unavailable", [["Error", err.message]], "");
  }
}

function reason(button) {
  const cell = button.closest("td");
  openPanel(`Failed: ${rowKey(cell)} · ${columnOf(cell)}`, [["Reason", button.dataset.error]], "");
}

if (grid) {
  grid.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("play")) play(button);
    else if (button.classList.contains("info")) provenance(button);
    else if (button.classList.contains("reason")) reason(button);
  });
  grid.dataset.ready = "true"; // clicks are heard from now on (tests wait for it)
}
panel.querySelector(".close").addEventListener("click", () => (panel.hidden = true));

// Space stops what plays. The keyup is swallowed too: on a focused button it would click it
// and start the sound again.
let swallowKeyup = false;
const typing = (el) => el.matches("input, select, textarea, [contenteditable]");
document.addEventListener("keydown", (event) => {
  if (event.code !== "Space" || typing(event.target) || !voice) return;
  event.preventDefault();
  swallowKeyup = true;
  stop();
});
document.addEventListener("keyup", (event) => {
  if (event.code === "Space" && swallowKeyup) {
    event.preventDefault();
    swallowKeyup = false;
  }
});
