// One polling loop for the pages that follow a worker or a live test (import, job, metrics,
// planning, results, test progress): read a JSON URL, hand the answer to the page, wait, again.
//
// poll(url, {interval, onData, onError, wait}) starts the loop and returns its stop function.
//   interval: ms between two reads while all is well;
//   onData(json): draws the answer; returns true when there is nothing more to wait for;
//   onError(error): the server could not be reached (no answer, or not JSON), the page says so;
//   wait: true to wait one interval before the first read (the page was just drawn with it).
// A failed read (no answer, or an HTTP error status) doubles the wait, up to MAX_BACKOFF times
// the interval, so a server in trouble is not hammered by every open page; the next good read
// goes back to the interval. An error thrown by onData is a bug of the page, not of the network:
// it is not caught here, so it shows (and the browser tests fail on it).
const MAX_BACKOFF = 8;

export function poll(url, { interval = 1000, onData, onError = () => {}, wait = false }) {
  let delay = interval;
  let timer = null;
  let stopped = false;

  async function read() {
    try {
      const resp = await fetch(url, { headers: { Accept: "application/json" } });
      return resp.ok ? { data: await resp.json() } : { failed: true };
    } catch (error) {
      onError(error);
      return { failed: true };
    }
  }

  async function tick() {
    const answer = await read();
    if (stopped) return;
    if (answer.failed) {
      delay = Math.min(delay * 2, interval * MAX_BACKOFF);
    } else {
      delay = interval;
      if (onData(answer.data)) return;
    }
    timer = setTimeout(tick, delay);
  }

  if (wait) timer = setTimeout(tick, interval);
  else tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

// The pollers' shared way of saying so: " (connection lost, retrying…)" after a status line's
// text, once however many reads fail in a row; the next answer redraws the line.
export function showConnectionLost(el) {
  el.textContent = `${el.textContent.split(" (connection lost")[0]} (connection lost, retrying…)`;
}
