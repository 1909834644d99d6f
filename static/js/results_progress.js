// A large test's results, computed by a worker: polls their state every second while it runs,
// then draws the plot of the new result and says what it was computed from, without a reload.
import { poll, showConnectionLost } from "./poll.js";

const root = document.getElementById("results-state");
const el = (id) => document.getElementById(id);

function render(s) {
  const running = Boolean(s.running);
  el("results-computing").hidden = !running;
  el("results-bar").value = s.percent || 0;
  el("results-stage").textContent = s.stage || "";
  el("results-stale").hidden = !s.stale;
  el("results-error").hidden = !s.error;
  el("results-error").textContent = s.error || ""; // plain text: messages quote labels
  if (s.ready && !running) {
    const m = s.summary;
    el("results-summary").textContent = `Computed ${s.computed_at} from ${m.n_rated} ratings: `
      + `${m.n_ratings} ratings of ${m.n_listeners} listeners kept, `
      + `${m.n_excluded} listeners excluded by screening.`;
    el("results-summary").hidden = false;
    const plot = el("plot-conditions");
    const src = `${root.dataset.plotUrl}v=${encodeURIComponent(s.version)}`;
    if (plot.getAttribute("src") !== src) plot.src = src;
    plot.hidden = false;
  }
  root.dataset.done = String(!running);
  return !running;
}

if (root.dataset.done !== "true") {
  poll(root.dataset.statusUrl, {
    interval: 1000,
    onData: render,
    onError: () => showConnectionLost(el("results-stage")),
  });
}
