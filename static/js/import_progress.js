// Live progress of an import run (admin and workspace pages): polls its JSON until the worker
// has finished or refused it.
import { poll, showConnectionLost } from "./poll.js";

const root = document.getElementById("import-run");
const el = (id) => document.getElementById(id);

function render(s) {
  el("import-status").textContent = s.status_text;
  el("import-bar").max = Math.max(s.total, 1);
  el("import-bar").value = s.finished && s.status === "done" ? Math.max(s.total, 1) : s.done;
  el("import-counts").textContent = `${s.done} / ${s.total} files checked`;
  el("import-hint").hidden = !(s.status === "queued" && s.waiting_s >= 10);
  el("import-message").hidden = !s.message;
  el("import-message").textContent = s.message;
  const list = el("import-problems");
  list.className = s.status === "failed" ? "errorlist" : "messagelist";
  list.replaceChildren(...s.problems.map((problem) => {
    const li = document.createElement("li");
    li.textContent = problem; // plain text: problems quote file names from the upload
    return li;
  }));
  el("import-next").hidden = !s.finished;
  // The workspace's page links to what the run made; the admin's has no such link.
  const result = el("import-result");
  if (result && s.result_url) {
    const link = result.querySelector("a");
    link.href = s.result_url;
    link.textContent = `Open ${s.result_name}`;
    result.hidden = false;
  }
  return s.finished;
}

poll(root.dataset.progressUrl, {
  interval: 1000,
  onData: render,
  onError: () => showConnectionLost(el("import-counts")),
});
