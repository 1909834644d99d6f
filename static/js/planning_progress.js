// The planning page's plan, computed by a worker (mushra.planning_cache): polls its state every
// second while it runs, then shows the plan (table and plots, rendered by the server from our own
// template) without a reload. Follows results_progress.js.
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

async function poll() {
  try {
    const resp = await fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" } });
    if (resp.ok && render(await resp.json())) return;
  } catch (err) {
    el("plan-stage").textContent = `${el("plan-stage").textContent.split(" (")[0]}`
      + " (connection lost, retrying…)";
  }
  setTimeout(poll, 1000);
}
if (root && root.dataset.done !== "true") poll();
