// Live progress of a listening test: re-reads the JSON every few seconds while the page is open.
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
}

async function poll() {
  try {
    const resp = await fetch(root.dataset.progressUrl, { headers: { Accept: "application/json" } });
    if (resp.ok) render(await resp.json());
  } catch (err) {
    // A dropped connection only delays the next update.
  }
  setTimeout(poll, 5000);
}
setTimeout(poll, 5000);
