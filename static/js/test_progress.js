// Live progress of a listening test: re-reads the JSON every few seconds while the page is open.
import { poll } from "./poll.js";

const root = document.getElementById("progress");

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell); else td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

function render(p) {
  document.getElementById("sessions").textContent =
    `${p.sessions_finished} finished of ${p.sessions_started} sessions started · ${p.ratings} ratings`;
  document.querySelector("#per-condition tbody").replaceChildren(
    ...p.conditions.map((c) => row([c.label, String(c.ratings)])));
  document.querySelector("#per-item tbody").replaceChildren(...p.items.map((i) => {
    const bar = document.createElement("progress");
    bar.max = Math.max(p.ratings_wanted, 1);
    bar.value = i.listeners;
    const cell = document.createElement("span");
    cell.append(bar, ` ${i.listeners}`);
    return row([i.key, cell]);
  }));
  renderOverview(p);
}

// The funnel's and the timeline's pictures come drawn by the server (inline SVG of numbers and
// fixed words); parsed as SVG, never as HTML, and swapped in whole.
function picture(id, svgText) {
  const box = document.getElementById(id);
  if (!box || !svgText) return;
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  if (doc.documentElement.nodeName === "svg") box.replaceChildren(document.importNode(doc.documentElement, true));
}

function renderOverview(p) {
  if (!p.funnel_steps) return;
  const rows = p.funnel_steps.map((s) => row([s.label, String(s.n)]));
  for (const end of p.funnel_ends) {
    const tr = row([end.label, String(end.n)]);
    tr.className = "ended";
    rows.push(tr);
  }
  document.querySelector("#funnel tbody").replaceChildren(...rows);
  picture("funnel-picture", p.charts.funnel);
  picture("timeline-picture", p.charts.timeline);
  const q = p.quotas;
  document.getElementById("quotas").textContent =
    `Ratings wanted per item: ${q.ratings_wanted} · items at quota: ${q.items_at_quota} of ${q.items} · ` +
    `${q.full ? "the test is full: new listeners are turned away" : "taking listeners"}. ` +
    `Sessions idle for ${q.abandon_after_minutes} minutes give their unrated items back: ` +
    `${p.funnel.released} released so far.`;
  const sc = p.screening;
  const headphone = document.getElementById("headphone-counts");
  if (headphone) headphone.textContent = `${sc.headphone_passed} passed, ${sc.headphone_failed} failed`;
  const attention = document.getElementById("attention-counts");
  if (attention) attention.textContent = `${sc.attention_passed} passed, ${sc.attention_failed} failed`;
}

// Never done (render returns nothing): the page follows its listeners for as long as it is open.
// It was drawn with today's numbers, so the first read waits. A dropped connection only delays
// the next update.
poll(root.dataset.progressUrl, { interval: 5000, onData: render, wait: true });
