// Live progress of an objective-metrics measurement: polls the JSON endpoint every two seconds
// while stimuli remain unmeasured (workers measure them one task each).
import { poll, showConnectionLost } from "./poll.js";

const root = document.getElementById("metrics");
const bar = document.getElementById("metrics-bar");
const counts = document.getElementById("metrics-counts");

function render(p) {
  bar.max = Math.max(p.ready, 1);
  bar.value = p.measured;
  counts.textContent = `${p.measured} of ${p.ready} ready stimuli measured`;
  root.dataset.done = String(p.measured >= p.ready);
  return p.measured >= p.ready;
}

poll(root.dataset.progressUrl, {
  interval: 2000,
  onData: render,
  onError: () => showConnectionLost(counts),
});
