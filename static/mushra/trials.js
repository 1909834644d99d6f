// The listener's trials: one trial on screen at a time, ratings queued for the server in the
// background, resume after a reload. The test's type (rules from the server) sets what a trial
// shows: MUSHRA (ITU-R BS.1534-3) with its open reference and 0–100 sliders, MUSHRA without a
// reference, or ACR (ITU-T P.800) with five categories per sample and no reference.
//
// Page contract (templates/mushra/trials.html, rendered by the listener's views):
// <script type="application/json" id="mushra-config"> with session, trials_url, submit_url,
// done_url, question, strings; and <div id="mushra-app">, which this module takes over.
// Blinding: conditions are shown as "Sample N" in the order given; only their opaque ids and
// URLs ever reach the DOM, and labels only on training trials.
import { h } from "./dom.js";
import { fill, gettext, pgettext } from "./i18n.js";
import { Player, Waveform } from "./player.js";
import { SubmissionQueue } from "./queue.js";

// Every string the listener reads: translated (./i18n.js), placeholders as %(name)s.
const TEXT = {
  unreachable: gettext("Could not reach the server — trying again…"),
  gone: gettext("This listening test is not available. Please check the link you were given."),
  loadingAudio: gettext("Loading audio: %(done)s of %(total)s"),
  audioFailed: gettext("Could not load the audio. Check your connection and try again."),
  tryAgain: gettext("Try again"),
  practice: gettext("Practice round — your ratings here are not kept."),
  instructions: gettext(
    "Listen to the reference and to every sample, then rate each sample against the " +
      "reference. The hidden reference is among the samples, so at least one should get 100.",
  ),
  reference: gettext("Reference"),
  sample: gettext("Sample %(n)s"),
  play: gettext("Play"),
  spaceKey: pgettext("keyboard key", "Space"), // the key cap shown on the play button
  stop: gettext("Stop"),
  clearLoop: gettext("Clear loop"),
  waveLabel: gettext("Play position; arrow keys jump, [ and ] set the loop"),
  waveHint: gettext("Drag across the waveform to loop a part; tap it to jump."),
  instructionsNoref: gettext(
    "Listen to every sample, then rate how good each one sounds. There is no reference: " +
      "use the whole scale as you hear fit.",
  ),
  instructionsAcr: gettext(
    "Listen to each sample and rate it on its own, from Excellent to Bad. There is no " +
      "reference and no right answer.",
  ),
  keys: gettext(
    "Keys: 1–9 and 0 choose samples 1–10, R the reference, Space plays or stops. " +
      "Samples after the 10th have no key: use their buttons.",
  ),
  keysNoref: gettext(
    "Keys: 1–9 and 0 choose samples 1–10, Space plays or stops. " +
      "Samples after the 10th have no key: use their buttons.",
  ),
  notRated: gettext("not rated"),
  ratingLabel: gettext("Rating of sample %(n)s"),
  next: gettext("Next"),
  finish: gettext("Finish"),
  unrated: gettext("Rate all %(total)s samples — %(count)s still unrated: %(which)s."),
  unplayed: gettext("Play a sample to unlock its slider."),
  unplayedCategory: gettext("Play a sample to unlock its rating."),
  instructionsSmos: gettext(
    "Listen to the reference, then rate how similar the voice of each sample is to the " +
      "reference's voice. Judge the voice only, not what is said or how well it sounds.",
  ),
  // Pair types (CMOS, A/B, ABX): one answer about A and B per trial.
  instructionsCmos: gettext("Listen to A and to B, then say how B sounds compared with A."),
  instructionsAb: gettext(
    "Listen to A and to B, then choose the one you prefer, or no preference if neither is better.",
  ),
  instructionsAbx: gettext(
    "Listen to A, B and X, then say whether X is the same as A or as B. It is one of them.",
  ),
  keysPair: gettext("Keys: 1 plays A, 2 plays B, Space plays or stops."),
  keysAbx: gettext("Keys: 1 plays A, 2 plays B, X plays X, Space plays or stops."),
  answerLabel: gettext("Your answer"),
  chooseAnswer: gettext("Choose an answer."),
  unplayedPair: gettext("Play every sample to unlock the answers."),
  cmosAMuch: gettext("A is much better"),
  cmosA: gettext("A is better"),
  cmosASlightly: gettext("A is slightly better"),
  cmosSame: gettext("About the same"),
  cmosBSlightly: gettext("B is slightly better"),
  cmosB: gettext("B is better"),
  cmosBMuch: gettext("B is much better"),
  preferA: gettext("I prefer A"),
  preferNone: gettext("No preference"),
  preferB: gettext("I prefer B"),
  xIsA: gettext("X is A"),
  xIsB: gettext("X is B"),
  need100: gettext("At least one sample should get 100: the hidden reference is among them."),
  offline: gettext(
    "You seem to be offline — your ratings are kept on this device and will be sent when " +
      "the connection is back. Don't close this page.",
  ),
  saving: gettext("Saving your ratings…"),
  refused: gettext("Your ratings for “%(title)s” were not accepted:"),
  refusedDefault: gettext("the server refused them."),
  redo: gettext("Please do this trial again."),
};
// The BS.1534-3 scale's five bands, bottom to top, in the established wording of each language.
const BANDS = [
  pgettext("quality scale", "Bad"),
  pgettext("quality scale", "Poor"),
  pgettext("quality scale", "Fair"),
  pgettext("quality scale", "Good"),
  pgettext("quality scale", "Excellent"),
];
// A pair trial's answers: [text, A's rating, B's rating] (the server stores one per signal).
// CMOS: how B compares with A, −3 … +3 (P.800's comparison scale), A's rating its negative.
const PAIR_CHOICES = {
  cmos: [
    ["cmosAMuch", 3, -3], ["cmosA", 2, -2], ["cmosASlightly", 1, -1], ["cmosSame", 0, 0],
    ["cmosBSlightly", -1, 1], ["cmosB", -2, 2], ["cmosBMuch", -3, 3],
  ],
  ab: [["preferA", 1, 0], ["preferNone", 0.5, 0.5], ["preferB", 0, 1]],
  abx: [["xIsA", 1, 0], ["xIsB", 0, 1]],
};
// SMOS: the five categories worded for speaker similarity, bottom to top.
const SIMILARITY = [
  pgettext("similarity scale", "Not at all similar"),
  pgettext("similarity scale", "Slightly similar"),
  pgettext("similarity scale", "Moderately similar"),
  pgettext("similarity scale", "Very similar"),
  pgettext("similarity scale", "Extremely similar"),
];
const REF = Symbol("reference"); // the reference's key in the player; can't clash with an id
const BAND_TOPS = [20, 40, 60, 80, 101]; // Bad 0–20 … Excellent 80–100 (20 counts as Poor)

const config = JSON.parse(document.getElementById("mushra-config").textContent);
const strings = { ...TEXT, ...(config.strings || {}) };
const t = (name, vars = {}) => fill(strings[name], vars);
const app = document.getElementById("mushra-app");
const kbd = (key) => h("kbd", { "aria-hidden": "true" }, key); // the name carries no key glyph
const button = (cls, label, onclick, props = {}) =>
  h("button", { type: "button", class: cls, onclick, ...props }, label);

const banner = h("div", { class: "mushra-banner", role: "status", hidden: true }, t("offline"));
const alertBox = h("div", { class: "mushra-alert", role: "alert", hidden: true });
const stage = h("div", { class: "mushra-stage" });

// Everything this page changes while it runs, in one place. The unsent ratings are the queue's
// (./queue.js, kept in localStorage); the DOM is drawn from these fields and the player.
const state = {
  ctx: null, // one AudioContext for the page (browsers limit how many may exist)
  rules: {}, // the test type's rules, from trials.json
  trials: [], // from trials.json: {position, training, submitted, title, conditions, audio}
  finished: new Set(), // positions submitted during this visit (queued or sent)
  view: null, // the trial on screen: {trial, player, wave, picks, controls, …}
  saving: false, // on the final "Saving your ratings…" screen
  leaving: false, // on the way to done_url: no "unsent ratings" warning any more
};

const queue = new SubmissionQueue({
  storageKey: `mushra-queue:${config.session}`,
  url: config.submit_url,
  // The page's language (the test's) also names the language of the server's messages.
  // No CSRF token: the ratings endpoint is csrf_exempt on purpose. Listeners have no login and
  // the endpoint reads no cookie; the secret session token in submit_url is the credential, and
  // a cross-site page cannot know it, so there is no ambient authority for CSRF to protect.
  headers: () => ({ "Accept-Language": document.documentElement.lang || "en" }),
  onChange: () => {
    banner.hidden = !(queue.failing && queue.size > 0);
    maybeFinish();
  },
  onSent: (entry) => state.finished.add(entry.trial),
  onRejected: rejected,
  // 409: the session has left its trials (finished in another tab); the page shows where it is.
  onConflict: () => location.assign(config.done_url),
});

const isDone = (tr) => tr.submitted || state.finished.has(tr.position) || queue.has(tr.position);

// A 400 is rare (this page enforces the rules): tell the listener why and bring the trial back.
function rejected(entry, message) {
  state.finished.delete(entry.trial);
  const trial = state.trials.find((tr) => tr.position === entry.trial);
  if (!trial) return; // trials not loaded yet: advance() will pick it up as not done
  trial.submitted = false;
  const why = message || t("refusedDefault");
  alertBox.textContent = `${t("refused", { title: trial.title })} ${why} ${t("redo")}`;
  alertBox.hidden = false;
  showTrial(trial);
}

function maybeFinish() {
  // Leave only once the server has confirmed every submission.
  if (state.saving && !state.leaving && queue.size === 0) {
    state.leaving = true;
    location.assign(config.done_url);
  }
}

async function fetchTrials() {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 30000)) {
    try {
      const resp = await fetch(config.trials_url, { headers: { Accept: "application/json" } });
      if (resp.ok) return await resp.json();
      if (resp.status === 409) {
        // The session is past its trials (another tab finished them): show where it is now.
        location.assign(config.done_url);
        return null;
      }
      if (resp.status >= 400 && resp.status < 500) {
        stage.replaceChildren(h("p", { class: "mushra-error", role: "alert" }, t("gone")));
        return null; // a wrong or expired link does not get better by retrying
      }
    } catch {
      // unreachable: say so and try again
    }
    stage.replaceChildren(h("p", { class: "mushra-loading", role: "status" }, t("unreachable")));
    await new Promise((r) => setTimeout(r, delay));
  }
}

function advance() {
  const trial = state.trials.find((tr) => !isDone(tr));
  if (trial) showTrial(trial);
  else showSaving();
}

function closeView() {
  if (!state.view) return;
  state.view.wave?.dispose();
  state.view.player.dispose();
  state.view = null;
}

function showSaving() {
  closeView();
  state.saving = true;
  stage.replaceChildren(h("p", { class: "mushra-saving", role: "status" }, t("saving")));
  maybeFinish();
}

// What the test's type draws (rules from the server; older servers sent neither key: MUSHRA).
const hasReference = () => state.rules.reference !== false;
const isCategories = () => Boolean(state.rules.scale?.categories);

const isPair = () => Boolean(state.rules.pair);
const PAIR_TEXT = { cmos: "instructionsCmos", ab: "instructionsAb", abx: "instructionsAbx" };

function instructions() {
  if (isPair()) return t(PAIR_TEXT[state.rules.type]);
  if (state.rules.scale?.similarity) return t("instructionsSmos");
  if (isCategories()) return t("instructionsAcr");
  return t(hasReference() ? "instructions" : "instructionsNoref");
}

function header(trial) {
  return h(
    "header",
    { class: "mushra-head" },
    h("h1", { tabindex: "-1" }, trial.title, trial.training && h("small", {}, t("practice"))),
    h("p", { class: "mushra-question" }, config.question),
    h("p", { class: "hint" }, instructions()),
  );
}

async function showTrial(trial) {
  closeView();
  state.saving = false;
  const player = new Player(state.ctx);
  const v = (state.view = { trial, player, picks: new Map(), controls: new Map(), ready: false });
  const keys = [...(hasReference() ? [REF] : []), ...trial.conditions.map((c) => c.id)];
  const total = keys.length;
  const progress = h("progress", { max: total, value: 0 });
  const status = h("p", { role: "status" }, t("loadingAudio", { done: 0, total }));
  stage.replaceChildren(header(trial), h("div", { class: "mushra-loading" }, status, progress));
  window.scrollTo(0, 0);
  try {
    await player.loadTrial(keys, trial.audio, (done) => {
      progress.value = done;
      status.textContent = t("loadingAudio", { done, total });
    });
  } catch {
    if (state.view !== v) return;
    const retry = button("", t("tryAgain"), () => showTrial(trial));
    const failed = h("p", { class: "mushra-error" }, t("audioFailed"));
    stage.replaceChildren(header(trial), failed, retry);
    return;
  }
  if (state.view !== v) return player.dispose(); // the listener was sent elsewhere meanwhile
  render(v);
}

function pickButton(v, key, label, shortcut) {
  const btn = button("mushra-pick", [label, shortcut && kbd(shortcut)], () => pick(key), {
    "data-pick": key === REF ? "reference" : key,
    "aria-pressed": "false",
    "aria-keyshortcuts": shortcut,
  });
  v.picks.set(key, btn);
  return btn;
}

function band(score) {
  return BANDS[BAND_TOPS.findIndex((top) => score < top)];
}

// A rating control: a BS.1534 slider or P.800's five categories, behind one interface
// ({el, rated, value, disabled, unlock(), focus()}) so the checks and the submission need not
// know which.
function sliderControl(v, cond, n) {
  const slider = h("input", {
    type: "range", min: 0, max: 100, step: 1, value: 50,
    disabled: state.rules.play_all !== false,
    "data-condition": cond.id, "data-rated": "false",
    "aria-label": t("ratingLabel", { n }), "aria-valuetext": t("notRated"),
  });
  const value = h("output", { class: "mushra-value" }, t("notRated"));
  // An unset slider still holds a value (50) under the hood; any touch of it counts as rating,
  // so a listener who clicks exactly at the middle gets 50 rather than "nothing happened".
  const rate = () => {
    slider.dataset.rated = "true";
    value.textContent = slider.value;
    slider.setAttribute("aria-valuetext", `${slider.value}, ${band(Number(slider.value))}`);
    v.error.hidden = true;
  };
  for (const type of ["input", "change", "pointerup"]) slider.addEventListener(type, rate);
  const bands = BANDS.map((b) => h("span", {}, b));
  const scale = h(
    "div",
    { class: "mushra-scale" },
    slider,
    h("div", { class: "mushra-bands", "aria-hidden": "true" }, bands),
  );
  return {
    parts: [scale, value],
    get rated() { return slider.dataset.rated === "true"; },
    get value() { return Number(slider.value); },
    get disabled() { return slider.disabled; },
    unlock() { slider.disabled = false; },
    focus() { slider.focus(); },
  };
}

// P.800's absolute category rating: 5 Excellent … 1 Bad, best first as the recommendation
// shows it; one radio group per sample, none chosen at first.
function categoryControl(v, cond, n) {
  const { min = 1, max = 5 } = state.rules.scale || {};
  let chosen = null;
  const group = h("div", {
    class: "mushra-categories", role: "radiogroup", "data-condition": cond.id,
    "data-rated": "false", "aria-label": t("ratingLabel", { n }),
  });
  const inputs = [];
  for (let score = max; score >= min; score--) {
    const input = h("input", {
      type: "radio", name: `rating-${cond.id}`, value: score, "data-score": score,
      disabled: state.rules.play_all !== false,
    });
    input.addEventListener("change", () => {
      chosen = score;
      group.dataset.rated = "true";
      v.error.hidden = true;
    });
    inputs.push(input);
    const words = state.rules.scale?.similarity ? SIMILARITY : BANDS;
    const name = words[Math.round(((score - min) * (words.length - 1)) / (max - min || 1))];
    group.append(h("label", { class: "mushra-category" }, input, h("span", {}, `${score} ${name}`)));
  }
  return {
    parts: [group],
    get rated() { return chosen !== null; },
    get value() { return chosen; },
    get disabled() { return inputs[0].disabled; },
    unlock() { for (const input of inputs) input.disabled = false; },
    focus() { inputs[0].focus(); },
  };
}

// A pair trial's one answer, registered under both signals' ids: each asks it for its rating.
function pairControl(v) {
  const [a, b] = v.trial.conditions;
  let chosen = null;
  const group = h("div", {
    class: "mushra-categories mushra-answer", role: "radiogroup", "data-pair": "true",
    "data-rated": "false", "aria-label": t("answerLabel"),
  });
  const inputs = PAIR_CHOICES[state.rules.type].map(([text, ...scores], i) => {
    const input = h("input", {
      type: "radio", name: "pair-answer", value: i, "data-choice": i,
      disabled: state.rules.play_all !== false,
    });
    input.addEventListener("change", () => {
      chosen = scores;
      group.dataset.rated = "true";
      v.error.hidden = true;
    });
    group.append(h("label", { class: "mushra-category" }, input, h("span", {}, t(text))));
    return input;
  });
  const control = {
    parts: [group],
    get rated() { return chosen !== null; },
    scoreOf: (id) => chosen[id === a.id ? 0 : 1],
    get disabled() { return inputs[0].disabled; },
    unlock() { for (const input of inputs) input.disabled = false; },
    focus() { inputs[0].focus(); },
  };
  v.controls.set(a.id, control).set(b.id, control);
  return group;
}

function renderPair(v, transport, wave, next) {
  const [a, b] = v.trial.conditions;
  const x = state.rules.type === "abx" && pickButton(v, REF, "X", "X");
  stage.replaceChildren(
    header(v.trial),
    h("div", { class: "mushra-transport" }, transport, x || null,
      pickButton(v, a.id, "A", "1"), pickButton(v, b.id, "B", "2")),
    wave,
    pairControl(v),
    h("p", { class: "hint mushra-keys" }, t(x ? "keysAbx" : "keysPair")),
    v.error,
    next,
  );
}

function conditionRow(v, cond, i) {
  const n = i + 1;
  const shortcut = n <= 9 ? String(n) : n === 10 ? "0" : null;
  const control = (isCategories() ? categoryControl : sliderControl)(v, cond, n);
  v.controls.set(cond.id, control);
  // Labels are for practice only; a real trial never shows one, even if the server sent it.
  const label = v.trial.training && cond.label && h("span", { class: "mushra-label" }, cond.label);
  return h(
    "li",
    { class: "mushra-row" },
    h("div", { class: "mushra-name" }, pickButton(v, cond.id, t("sample", { n }), shortcut), label),
    ...control.parts,
  );
}

function render(v) {
  const { trial, player } = v;
  const last = !state.trials.some((tr) => tr !== trial && !isDone(tr));
  v.play = button("mushra-play", null, togglePlay, { "aria-keyshortcuts": "Space" });
  v.clear = button("mushra-clear", t("clearLoop"), () => player.clearLoop());
  v.error = h("p", { class: "mushra-error", role: "alert", hidden: true });
  const canvas = h("canvas", {
    tabindex: "0", role: "slider", "aria-label": t("waveLabel"),
    "aria-valuemin": "0", "aria-valuemax": player.duration.toFixed(1),
  });
  const wave = h("div", { class: "mushra-wave" }, canvas, h("div", { class: "mushra-playhead" }));
  const next = button("mushra-next", t(last ? "finish" : "next"), () => submit(v));
  if (isPair()) {
    renderPair(v, [v.play, v.clear], wave, next);
  } else {
    const reference = hasReference() && pickButton(v, REF, t("reference"), "R");
    stage.replaceChildren(
      header(trial),
      h("div", { class: "mushra-transport" }, v.play, reference || null, v.clear),
      wave,
      h("p", { class: "hint" }, t("waveHint")),
      h("ol", { class: "mushra-conditions" }, trial.conditions.map((c, i) => conditionRow(v, c, i))),
      h("p", { class: "hint mushra-keys" }, t(hasReference() ? "keys" : "keysNoref")),
      v.error,
      next,
    );
  }
  // The waveform drawn is the reference's, or without one the first sample's (same length).
  v.wave = new Waveform(wave, player, player.buffers.get(player.selected));
  player.addEventListener("change", () => sync(v));
  v.ready = true;
  sync(v);
  stage.querySelector("h1").focus({ preventScroll: true });
}

// Reflects the player's state in the DOM: selection, play button, unlocked sliders.
function sync(v) {
  const p = v.player;
  for (const [key, btn] of v.picks) {
    btn.setAttribute("aria-pressed", String(key === p.selected));
    btn.closest(".mushra-row")?.classList.toggle("is-selected", key === p.selected);
  }
  // A pair's answer unlocks once every sample (X too) was heard; a rating once its own was.
  const heard = (id) =>
    isPair() ? [...v.picks.keys()].every((k) => p.listening(k).plays > 0) : p.listening(id).plays > 0;
  for (const [id, control] of v.controls) {
    if (control.disabled && heard(id)) control.unlock();
  }
  v.play.replaceChildren(t(p.playing ? "stop" : "play"), kbd(t("spaceKey")));
  v.clear.disabled = !p.loop;
  app.dataset.playing = String(p.playing);
}

// Choosing a signal also starts playback: a listener who picks a sample wants to hear it.
function pick(key) {
  if (!state.view?.ready) return;
  state.view.player.select(key);
  state.view.player.play();
}

function togglePlay() {
  if (!state.view?.ready) return;
  if (state.view.player.playing) state.view.player.stop();
  else state.view.player.play();
}

// What is still missing before Next, as one sentence; null when the trial is complete.
function problem(v) {
  const conds = v.trial.conditions;
  if (isPair()) {
    const answer = v.controls.get(conds[0].id);
    if (answer.rated) return null;
    return answer.disabled ? `${t("chooseAnswer")} ${t("unplayedPair")}` : t("chooseAnswer");
  }
  const unrated = conds.filter((c) => !v.controls.get(c.id).rated);
  if (unrated.length) {
    const which = unrated.map((c) => t("sample", { n: conds.indexOf(c) + 1 })).join(", ");
    const first = v.controls.get(unrated[0].id);
    (first.disabled ? v.picks.get(unrated[0].id) : first).focus();
    const locked = unrated.some((c) => v.controls.get(c.id).disabled);
    const missing = t("unrated", { total: conds.length, count: unrated.length, which });
    const unlock = t(isCategories() ? "unplayedCategory" : "unplayed");
    return locked ? `${missing} ${unlock}` : missing;
  }
  const has100 = conds.some((c) => v.controls.get(c.id).value === 100);
  if (state.rules.one_100 && !has100) return t("need100");
  return null;
}

function submit(v) {
  const missing = problem(v);
  if (missing) {
    v.error.textContent = missing;
    v.error.hidden = false;
    return;
  }
  v.player.stop(); // closes the running listening-time segment
  const ratings = {};
  for (const c of v.trial.conditions) {
    const { plays, ms } = v.player.listening(c.id);
    const control = v.controls.get(c.id);
    const score = control.scoreOf ? control.scoreOf(c.id) : control.value;
    ratings[c.id] = { score, plays, listening_ms: Math.round(ms) };
  }
  alertBox.hidden = true;
  state.finished.add(v.trial.position);
  queue.add(v.trial.position, ratings); // persisted before the UI moves on
  advance();
}

const NOT_TEXT = ["range", "button", "checkbox", "radio", "submit"];
const isTextEntry = (el) =>
  el?.isContentEditable ||
  el?.tagName === "TEXTAREA" ||
  el?.tagName === "SELECT" ||
  (el?.tagName === "INPUT" && !NOT_TEXT.includes(el.type));

function onKey(e) {
  if (!state.view?.ready || e.ctrlKey || e.metaKey || e.altKey || isTextEntry(e.target)) return;
  const conds = state.view.trial.conditions;
  if (e.key === " ") {
    if (!e.repeat) togglePlay();
  } else if (/^[0-9]$/.test(e.key)) {
    const cond = conds[(e.key === "0" ? 10 : Number(e.key)) - 1];
    if (!cond) return;
    pick(cond.id);
  } else if ((e.key === "r" || e.key === "R") && hasReference() && !isPair()) {
    pick(REF);
  } else if ((e.key === "x" || e.key === "X") && state.rules.type === "abx") {
    pick(REF);
  } else {
    return;
  }
  e.preventDefault(); // Space would also scroll the page or press the focused button
}

async function boot() {
  app.classList.add("mushra"); // the styles hang on it, whatever the template put there
  app.replaceChildren(banner, alertBox, stage);
  // Created now so that audio decodes at the device's rate; browsers keep it suspended until a
  // user gesture, so every pointer or key press resumes it (cheap when it already runs).
  state.ctx = new (window.AudioContext || window.webkitAudioContext)();
  const wake = () => state.ctx.state !== "running" && state.ctx.resume();
  document.addEventListener("pointerdown", wake, true);
  document.addEventListener("keydown", wake, true);
  document.addEventListener("keydown", onKey);
  // Browsers press a focused button on Space keyup; Space already toggled playback on keydown.
  document.addEventListener("keyup", (e) => {
    if (e.key === " " && state.view?.ready && !isTextEntry(e.target)) e.preventDefault();
  });
  window.addEventListener("beforeunload", (e) => {
    if (queue.size && !state.leaving) {
      e.preventDefault(); // unsent ratings live only on this device
      e.returnValue = "";
    }
  });
  queue.start(); // ratings left by an earlier visit go out first
  const data = await fetchTrials();
  if (!data) return;
  state.rules = data.rules || {};
  state.trials = data.trials || [];
  advance();
}

// Read-only hook for the browser tests. It exposes nothing the page does not already hold:
// the play position in seconds, the selected signal ("reference" or an opaque condition id),
// whether it plays, the dominant frequency of the output, and how many submissions wait.
window.__mushra = Object.freeze({
  position: () => state.view?.player.position ?? null,
  current: () => {
    const selected = state.view?.player.selected ?? null;
    return selected === REF ? "reference" : selected;
  },
  playing: () => Boolean(state.view?.player.playing),
  peakHz: () => (state.view?.ready ? state.view.player.peakHz() : null),
  queued: () => queue.size,
});

boot();
