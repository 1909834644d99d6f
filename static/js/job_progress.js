// Live progress of a synthesis job: polls the JSON endpoint until the job is finished.
import { poll, showConnectionLost } from "./poll.js";

const root = document.getElementById("job");
const bar = document.getElementById("job-bar");
const counts = document.getElementById("job-counts");
const eta = document.getElementById("job-eta");
const failures = document.getElementById("job-failures");

function render(p) {
  bar.max = Math.max(p.total, 1);
  bar.value = p.done + p.failed;
  counts.textContent = `${p.done} done, ${p.failed} failed, ${p.total} in all — ${p.status}`;
  eta.textContent = p.eta_seconds == null ? "" : `About ${Math.ceil(p.eta_seconds / 60)} min left`;
  failures.replaceChildren(...(p.failures.length ? p.failures : [null]).map((f) => {
    const li = document.createElement("li");
    li.textContent = f ? `${f.utterance} ${JSON.stringify(f.condition)}: ${f.error}` : "None so far.";
    return li;
  }));
  const finished = p.status === "done" || p.status === "cancelled";
  if (finished) document.getElementById("job-cancel")?.remove(); // nothing left to cancel
  return finished;
}

poll(root.dataset.progressUrl, {
  interval: 1000,
  onData: render,
  onError: () => showConnectionLost(counts),
});
