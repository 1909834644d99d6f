// The screening stage (mushra.screening_stage): volume calibration, then the headphone checks.
//
// Page contract (templates/mushra/screening.html): <script type="application/json"
// id="screening-config"> with calibration (a URL or null), trials ([{kind, position, audio:
// [three URLs]}], those not answered yet), total, answer_url, done_url and strings (translated
// on the server); and <div id="screening-app">, which this module takes over.
// Each trial's three sounds play once, one after another, as in the published tests; then the
// listener picks one. The server scores the answers and never says which were right.

import { h } from "./dom.js";

const config = JSON.parse(document.getElementById("screening-config").textContent);
const strings = config.strings;
const t = (name, vars = {}) => strings[name].replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
const app = document.getElementById("screening-app");
const GAP_MS = 500; // silence between the three sounds of a trial

async function post(body) {
  for (let attempt = 0; ; attempt++) {
    let resp;
    try {
      // No CSRF token, as for the ratings (see trials.js): the secret session token in
      // answer_url is the credential, and the endpoint is csrf_exempt on purpose.
      resp = await fetch(config.answer_url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch {
      resp = null; // offline: try again, the answer is kept here
    }
    if (resp && resp.status === 409) return { over: true }; // the stage ended (another tab)
    if (resp && resp.ok) return resp.json();
    if (resp && resp.status < 500) throw new Error((await resp.json()).error || resp.statusText);
    show(h("p", { class: "mushra-loading", role: "status" }, t("unreachable")));
    await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 10000)));
  }
}

function show(...children) {
  app.replaceChildren(...children);
  const heading = app.querySelector("h1, h2");
  if (heading) heading.focus({ preventScroll: true });
}

async function loaded(url) {
  const resp = await fetch(url, { credentials: "same-origin" });
  if (!resp.ok) throw new Error(resp.statusText);
  return URL.createObjectURL(await resp.blob());
}

function calibrate() {
  return new Promise((resolve) => {
    const audio = new Audio(config.calibration);
    audio.loop = true;
    const done = h("button", { type: "button", class: "primary", id: "volume-set", disabled: true },
      t("volumeSet"));
    const play = h("button", { type: "button", id: "calibration-play", "aria-pressed": "false" },
      t("playNoise"));
    play.addEventListener("click", () => {
      if (audio.paused) {
        audio.play().catch(() => {}); // a pause before it starts: nothing to report
        play.setAttribute("aria-pressed", "true");
        play.textContent = t("stopNoise");
        done.disabled = false;
      } else {
        audio.pause();
        play.setAttribute("aria-pressed", "false");
        play.textContent = t("playNoise");
      }
    });
    done.addEventListener("click", () => {
      audio.pause();
      resolve();
    });
    show(
      h("h1", { tabindex: "-1" }, t("volumeTitle")),
      h("p", {}, t("volumeText")),
      h("p", { class: "screening-controls" }, play),
      h("p", {}, done),
    );
  });
}

async function checkTrial(trial, number) {
  const status = h("p", { class: "mushra-loading", role: "status" }, t("loading"));
  show(h("h1", { tabindex: "-1" }, t("trialTitle", { n: number, total: config.total })), status);
  const urls = await Promise.all(trial.audio.map(loaded));
  const sounds = urls.map((url) => new Audio(url));
  const choices = [0, 1, 2].map((i) =>
    h("button", { type: "button", class: "screening-choice", "data-interval": i, disabled: true },
      t("sound", { n: i + 1 })));
  const play = h("button", { type: "button", class: "primary", id: "screening-play" }, t("play"));
  const answer = new Promise((resolve) => {
    choices.forEach((b, i) => b.addEventListener("click", () => resolve(i)));
  });
  play.addEventListener("click", async () => {
    play.disabled = true; // once, as in the published tests
    for (const [i, sound] of sounds.entries()) {
      choices[i].setAttribute("aria-current", "true");
      await new Promise((resolve) => {
        sound.addEventListener("ended", resolve, { once: true });
        sound.play().catch(resolve);
      });
      choices[i].removeAttribute("aria-current");
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    choices.forEach((b) => (b.disabled = false));
    choices[0].focus();
  });
  show(
    h("h1", { tabindex: "-1" }, t("trialTitle", { n: number, total: config.total })),
    h("p", { class: "mushra-question" }, t(trial.kind === "antiphase" ? "quietest" : "tone")),
    h("p", {}, t("playOnce")),
    h("p", {}, play),
    h("p", { class: "screening-choices" }, choices),
  );
  const chosen = await answer;
  choices.forEach((b) => (b.disabled = true));
  urls.forEach((url) => URL.revokeObjectURL(url));
  return post({ kind: trial.kind, position: trial.position, answer: chosen });
}

async function main() {
  try {
    if (config.calibration) {
      await calibrate();
      const reply = await post({ calibrated: true });
      if (reply.over) return location.assign(config.done_url);
    }
    const first = config.total - config.trials.length + 1;
    for (const [i, trial] of config.trials.entries()) {
      const reply = await checkTrial(trial, first + i);
      if (reply.over) return location.assign(config.done_url);
    }
    location.assign(config.done_url); // every answer was in already (a reload)
  } catch (error) {
    show(h("p", { class: "mushra-error", role: "alert" }, `${t("refused")} ${error.message}`));
  }
}

main();
