/* Goldsite page behaviour. No inline JavaScript anywhere: templates only mark elements up.

   Charts
     <script type="application/json" id="price-data">{"data": [...], "layout": {...}}</script>   (json_script)
     <div class="chart" data-chart-source="price-data" role="img" aria-label="…"></div>
   is drawn with Plotly on DOMContentLoaded and again inside whatever htmx swaps in (htmx:afterSettle).
   When drawn: data-chart-ready="true" and data-points="<points over all traces>". On failure:
   data-chart-error="<reason>" and a short message in the element. Pages with charts load Plotly through
   {% block charts_js %}{% include "includes/_charts_js.html" %}{% endblock %}.

   Copy to clipboard
     <code id="token">…</code>
     <button type="button" data-copy-target="#token" hidden>Copy</button>
   The button stays hidden without JavaScript; with it, a click copies the target's text (or value).
*/
(function () {
  "use strict";

  var CHART_SELECTOR = ".chart[data-chart-source]";
  var COPY_SELECTOR = "[data-copy-target]";
  var PLOTLY_CONFIG = { responsive: true, displaylogo: false };
  var DTYPE_BYTES = { i1: 1, u1: 1, u1c: 1, i2: 2, u2: 2, i4: 4, u4: 4, f4: 4, f8: 8 };

  /* Elements matching `selector` in `root`, including `root` itself. */
  function within(root, selector) {
    var found = [];
    if (!root || typeof root.querySelectorAll !== "function") {
      return found;
    }
    if (typeof root.matches === "function" && root.matches(selector)) {
      found.push(root);
    }
    return found.concat(Array.prototype.slice.call(root.querySelectorAll(selector)));
  }

  /* ---- Charts ------------------------------------------------------------------------------------ */

  /* Length of one trace array: a plain array, or Plotly's typed-array form {dtype, bdata, shape}. */
  function arrayLength(value) {
    if (Array.isArray(value) || ArrayBuffer.isView(value)) {
      return value.length;
    }
    if (value && typeof value === "object" && typeof value.bdata === "string") {
      if (value.shape !== undefined && value.shape !== null && String(value.shape) !== "") {
        return String(value.shape)
          .split(",")
          .map(Number)
          .reduce(function (product, dim) {
            return product * (dim || 0);
          }, 1);
      }
      var bytes = Math.floor((value.bdata.length * 3) / 4) - (value.bdata.match(/=*$/)[0].length);
      return Math.floor(bytes / (DTYPE_BYTES[value.dtype] || 8));
    }
    return 0;
  }

  /* Points in one trace: the longest of its coordinate arrays. */
  function tracePoints(trace) {
    return ["y", "x", "values", "z", "r", "lat"].reduce(function (most, key) {
      return Math.max(most, arrayLength(trace[key]));
    }, 0);
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  /* Defaults that make charts match the page (transparent background, page font and colours). */
  function themedLayout(layout) {
    var text = cssVar("--text", "#1b1f24");
    var grid = cssVar("--border", "#d8dce2");
    var themed = Object.assign(
      {
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        margin: { l: 56, r: 16, t: 24, b: 48 },
        hovermode: "x unified",
        legend: { orientation: "h", y: -0.2 },
      },
      layout
    );
    themed.font = Object.assign({ family: cssVar("--font-sans", "sans-serif"), color: text }, layout.font);
    ["xaxis", "yaxis"].forEach(function (axis) {
      themed[axis] = Object.assign({ gridcolor: grid, zerolinecolor: grid, automargin: true }, layout[axis]);
    });
    return themed;
  }

  function showChartProblem(el, reason, message) {
    el.dataset.chartError = reason;
    delete el.dataset.chartDrawing;
    var note = document.createElement("p");
    note.className = "chart__fallback";
    note.textContent = message;
    el.replaceChildren(note);
  }

  function drawChart(el) {
    var sourceId = el.dataset.chartSource;
    var source = document.getElementById(sourceId);
    var figure;
    el.dataset.chartDrawing = "true";
    if (!source) {
      showChartProblem(el, "missing-data", "Chart data is missing.");
      return;
    }
    try {
      figure = JSON.parse(source.textContent) || {};
    } catch (err) {
      showChartProblem(el, "bad-data", "Chart data could not be read.");
      return;
    }
    if (typeof window.Plotly === "undefined") {
      showChartProblem(el, "no-plotly", "The chart library did not load.");
      return;
    }
    var data = Array.isArray(figure.data) ? figure.data : [];
    var points = data.reduce(function (sum, trace) {
      return sum + tracePoints(trace || {});
    }, 0);
    var drawing;
    el.replaceChildren();
    try {
      drawing = window.Plotly.newPlot(el, data, themedLayout(figure.layout || {}), PLOTLY_CONFIG);
    } catch (err) {
      showChartProblem(el, "plot-failed", "The chart could not be drawn.");
      return;
    }
    Promise.resolve(drawing).then(
      function () {
        delete el.dataset.chartDrawing;
        delete el.dataset.chartError;
        el.dataset.points = String(points);
        el.dataset.chartReady = "true";
      },
      function () {
        showChartProblem(el, "plot-failed", "The chart could not be drawn.");
      }
    );
  }

  /* Draw every chart in `root` not yet drawn (or being drawn). */
  function drawCharts(root) {
    within(root, CHART_SELECTOR).forEach(function (el) {
      if (el.dataset.chartReady === "true" || el.dataset.chartDrawing || el.dataset.chartError) {
        return;
      }
      drawChart(el);
    });
  }

  /* Free Plotly's listeners before htmx removes a chart. */
  function purgeChart(el) {
    if (window.Plotly && el.classList && el.classList.contains("chart") && el.dataset.chartReady === "true") {
      window.Plotly.purge(el);
    }
  }

  /* ---- Copy to clipboard ------------------------------------------------------------------------- */

  function announce(text) {
    var region = document.getElementById("goldsite-live-region");
    if (!region) {
      region = document.createElement("div");
      region.id = "goldsite-live-region";
      region.className = "visually-hidden";
      region.setAttribute("role", "status");
      document.body.appendChild(region);
    }
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = text;
    }, 50);
  }

  function copyWithSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (err) {
      ok = false;
    }
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithSelection(text);
      });
    }
    return copyWithSelection(text);
  }

  function onCopyClick(event) {
    var button = event.target.closest ? event.target.closest(COPY_SELECTOR) : null;
    if (!button) {
      return;
    }
    var target = document.querySelector(button.dataset.copyTarget);
    if (!target) {
      return;
    }
    var isField = /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    var text = String(isField ? target.value : target.textContent);
    var label = button.dataset.copyLabel || button.textContent;
    button.dataset.copyLabel = label;
    copyText(text.trim()).then(
      function () {
        button.textContent = "Copied";
        button.dataset.copyState = "copied";
        announce("Copied to the clipboard.");
      },
      function () {
        button.textContent = "Press Ctrl+C to copy";
        button.dataset.copyState = "failed";
        selectContents(target);
        announce("Copying failed; the text is selected, press Ctrl+C.");
      }
    );
    window.clearTimeout(button._goldsiteReset);
    button._goldsiteReset = window.setTimeout(function () {
      button.textContent = label;
      delete button.dataset.copyState;
    }, 2000);
  }

  function selectContents(el) {
    if (typeof el.select === "function") {
      el.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function revealCopyButtons(root) {
    within(root, COPY_SELECTOR).forEach(function (button) {
      button.hidden = false;
    });
  }

  /* ---- Wiring ------------------------------------------------------------------------------------ */

  function enhance(root) {
    revealCopyButtons(root);
    drawCharts(root);
  }

  function onReady() {
    enhance(document);
    document.addEventListener("click", onCopyClick);
    document.body.addEventListener("htmx:afterSettle", function (event) {
      var root = event.target && event.target.isConnected ? event.target : document;
      enhance(root);
    });
    document.body.addEventListener("htmx:beforeCleanupElement", function (event) {
      purgeChart(event.target);
    });
    /* Back/forward restores the page from htmx's snapshot: Plotly's drawing in it is inert, so draw anew. */
    document.body.addEventListener("htmx:historyRestore", function () {
      within(document, CHART_SELECTOR).forEach(function (el) {
        delete el.dataset.chartReady;
        delete el.dataset.chartDrawing;
        delete el.dataset.chartError;
      });
      enhance(document);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onReady);
  } else {
    onReady();
  }

  window.goldsite = { drawCharts: drawCharts };
})();
