// The planning page's plan, computed by a worker (mushra.planning_cache): polls its state every
// second while it runs, then shows the plan (table and plots, rendered by the server from our own
// template) without a reload. Follows results_progress.js.
import { poll, showConnectionLost } from "./poll.js";

const root = document.getElementById("plan-state");
const el = (id) => document.getElementById(id);

function render(s) {
  const running = Boolean(s.running);
  el("plan-computing").hidden = !running;
  el("plan-bar").value = s.percent || 0;
  el("plan-stage").textContent = s.stage || "";
  el("plan-stale").hidden = !s.stale;
  el("plan-error").hidden = !s.error;
  el("plan-error").textContent = s.error || ""; // plain text: messages quote labels
  if (s.ready && !running) {
    el("plan-computed-at").textContent = s.computed_at;
    el("plan-computed").hidden = false;
  }
  if (typeof s.html === "string") el("plan-result").innerHTML = s.html;
  root.dataset.done = String(!running);
  return !running;
}

if (root && root.dataset.done !== "true") {
  poll(root.dataset.statusUrl, {
    interval: 1000,
    onData: render,
    onError: () => showConnectionLost(el("plan-stage")),
  });
}
