"""static/js/poll.js, the progress pages' one polling loop, in a real browser.

The page is a bare module that starts ``poll`` on /data; the test answers each read in turn (a
JSON answer, an HTTP error, a refused connection, a body that is not JSON) and the page notes
when each read started (``performance.now``), so the waits between reads can be checked.
"""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

POLL_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "poll.js"
ORIGIN = "http://localhost:8766"  # never listened on: every request is routed below
PAGE = """<!doctype html><p id="status">0 of 9</p>
<script type="module">
import { poll, showConnectionLost } from "/poll.js";
const status = document.getElementById("status");
const fetchNow = window.fetch;
window.reads = [];  // when each read started, in ms
window.fetch = (...args) => { reads.push(performance.now()); return fetchNow(...args); };
window.start = (interval, wait) => {
  window.stop = poll("/data", {
    interval,
    wait,
    onData: (d) => { status.textContent = `${d.n} of 9`; return d.done; },
    onError: () => showConnectionLost(status),
  });
};
</script>"""


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(e))
    yield page
    context.close()
    assert not errors, errors


def serve(page, answers):
    """Answers /data with ``answers`` in turn: a dict (JSON), an int (that HTTP status),
    "refused" (no connection) or "garbled" (a body that is not JSON); the last one repeats."""
    queue = list(answers)

    def data(route):
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if answer == "refused":
            route.abort("connectionrefused")
        elif answer == "garbled":
            route.fulfill(status=200, content_type="text/html", body="<h1>Bad gateway</h1>")
        elif isinstance(answer, int):
            route.fulfill(status=answer, json={"error": "unavailable"})
        else:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

    page.route(f"{ORIGIN}/data", data)
    page.route(
        f"{ORIGIN}/poll.js", lambda r: r.fulfill(path=POLL_JS, content_type="text/javascript")
    )
    page.route(f"{ORIGIN}/", lambda r: r.fulfill(content_type="text/html", body=PAGE))
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("typeof window.start === 'function'")


def gaps(page) -> list[float]:
    reads = page.evaluate("window.reads")
    return [b - a for a, b in zip(reads, reads[1:], strict=False)]


def test_a_poller_backs_off_while_reads_fail_and_reads_at_its_interval_again_until_done(page):
    serve(
        page,
        ["refused", 503, "garbled", "refused", 500, {"n": 1}, {"n": 2}, {"n": 3, "done": True}],
    )
    page.evaluate("start(50, false)")
    page.wait_for_function(
        "document.getElementById('status').textContent === '3 of 9'", timeout=10_000
    )
    page.wait_for_timeout(500)  # done: no read after the last
    waits = gaps(page)
    assert len(waits) == 7
    # Each failure doubles the wait (50 ms while all is well), up to 8 times the interval.
    for wait, least in zip(waits[:5], [100, 200, 400, 400, 400], strict=True):
        assert wait >= least, waits
    assert waits[4] < 1000  # capped: doubled once more it would be 1600 ms
    assert waits[5] < 300 and waits[6] < 300  # a good read goes back to the interval


def test_a_lost_connection_is_said_once_and_the_next_answer_redraws_the_line(page):
    serve(page, ["refused", "refused", "garbled", {"n": 4}, {"n": 5}])
    page.evaluate("start(20, false)")
    status = page.locator("#status")
    page.wait_for_function("window.reads.length >= 3")
    assert status.inner_text() == "0 of 9 (connection lost, retrying…)"
    page.wait_for_function("document.getElementById('status').textContent === '5 of 9'")


def test_a_poller_told_to_wait_reads_first_after_one_interval_and_stops_when_asked(page):
    serve(page, [{"n": 1}])  # never done
    page.evaluate("window.started = performance.now(); start(300, true)")
    page.wait_for_function("window.reads.length >= 2")
    first = page.evaluate("window.reads[0] - window.started")
    assert first >= 300  # the page was drawn with fresh numbers: no read at once
    page.evaluate("stop()")
    count = page.evaluate("window.reads.length")
    page.wait_for_timeout(1000)
    assert page.evaluate("window.reads.length") == count
