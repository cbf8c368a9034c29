// Live results for the voting page: the counts, percentages and bars follow every vote, cast on
// any instance, without a reload. The page works the same without this script.
//
// The server sends a `tally` event on /live whenever the counts change, with the texts already
// formatted in the page's language, so they read exactly as the server-rendered page does.
"use strict";

(function () {
  const results = document.querySelector(".live-results");
  if (!results || !window.EventSource) {
    return;
  }

  function show(tally) {
    const total = results.querySelector(".total");
    if (total) {
      total.textContent = tally.total_text;
    }
    for (const line of tally.choices) {
      const item = results.querySelector(`li[data-choice="${CSS.escape(line.name)}"]`);
      if (!item) {
        continue;
      }
      item.querySelector(".count").textContent = line.count_text;
      const meter = item.querySelector("meter");
      meter.value = line.percent;
      meter.textContent = line.percent_text;
      meter.setAttribute("aria-label", `${line.name}: ${line.percent_text}`);
    }
  }

  // The browser reconnects by itself when a stream ends (a deployment, a stream's time limit).
  // When the server refuses one (503: this instance serves its most streams), it gives up; try
  // again later.
  function connect() {
    const source = new EventSource("/live");
    source.addEventListener("tally", (event) => show(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, 30000);
      }
    });
  }

  connect();
})();
