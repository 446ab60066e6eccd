// gauntlet's space-time diagram: draws the model (the JSON block above) into the SVG.
// Lanes across, simulated time downwards. Events of one node in one millisecond stack
// in rows; the gap between two instants grows with the time between them (capped, and
// marked on the axis when capped), so a longer arrow is a slower message.
"use strict";
(function () {
  const model = JSON.parse(document.getElementById("model").textContent);
  const svg = document.getElementById("diagram");
  const NS = "http://www.w3.org/2000/svg";
  const AXIS_W = 70, HARNESS_W = 190, LANE_W = 190, TOP = 18;
  const laneX = (l) => AXIS_W + HARNESS_W + LANE_W / 2 + l * LANE_W;
  const harnessX = AXIS_W + 10;
  let zoom = 1;
  let selected = null;

  // Which events are witnesses, and of which properties.
  const witnessOf = new Map();
  for (const v of model.violations) {
    for (const i of v.witness) {
      const names = witnessOf.get(i) || [];
      if (!names.includes(v.property)) names.push(v.property);
      witnessOf.set(i, names);
    }
  }
  const markAt = new Map(model.marks.map((m) => [m.index, m]));
  const arrowsAt = new Map();
  for (const a of model.arrows) {
    arrowsAt.set(a.recv, a);
  }

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) {
      if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    }
    if (parent) parent.appendChild(node);
    return node;
  }

  function short(text, n) {
    return text.length > n ? text.slice(0, n - 1) + "\u2026" : text;
  }

  // y of every event, and the axis ticks, at the current zoom.
  function layout() {
    const row = Math.max(3, 14 * zoom);
    const perMs = 3 * zoom;
    const gapMax = 90 * zoom;
    const y = new Map();
    const ticks = [];
    let base = TOP, bottom = TOP, t = null;
    let stack = new Map();
    for (const m of model.marks) {
      if (m.at_ms !== t) {
        const gapMs = t === null ? 0 : m.at_ms - t;
        const gap = Math.min(gapMs * perMs, gapMax);
        base = bottom + Math.max(gap, t === null ? 0 : row * 0.4);
        ticks.push({ at_ms: m.at_ms, y: base, capped: gapMs * perMs > gapMax });
        t = m.at_ms;
        stack = new Map();
      }
      const key = m.lane === null ? "h" : m.lane;
      const k = stack.get(key) || 0;
      stack.set(key, k + 1);
      const yy = base + k * row + row / 2;
      y.set(m.index, yy);
      bottom = Math.max(bottom, base + (k + 1) * row);
    }
    return { y, ticks, row, bottom: bottom + 30 };
  }

  function draw() {
    // Keep the instant at the middle of the view where it is across a zoom.
    const keepRatio = drawnHeight ? (scroller.scrollTop + scroller.clientHeight / 2) / drawnHeight : 0;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const { y, ticks, row, bottom } = layout();
    const width = laneX(model.lanes.length - 1) + LANE_W + 10;
    svg.setAttribute("width", width);
    svg.setAttribute("height", bottom);
    svg.setAttribute("viewBox", `0 0 ${width} ${bottom}`);
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "head", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "context-stroke" }, marker);
    const hatch = el("pattern", { id: "hatch", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
    el("rect", { width: 8, height: 8, fill: "#ffe0b2", "fill-opacity": 0.55 }, hatch);
    el("line", { x1: 0, y1: 0, x2: 0, y2: 8, stroke: "#e08e0b", "stroke-width": 2, "stroke-opacity": 0.5 }, hatch);
    const endY = (i) => (i === null || i === undefined ? bottom - 10 : y.get(i));

    // Lanes, downtime, partitions.
    const back = el("g", { id: "background" }, svg);
    model.lanes.forEach((name, l) => {
      el("line", { class: "lane", x1: laneX(l), x2: laneX(l), y1: TOP, y2: bottom - 10, "data-kind": "lane", "data-lane": name }, back);
    });
    for (const d of model.downs) {
      const y0 = y.get(d.start), y1 = endY(d.end);
      el("rect", { class: "down", x: laneX(d.lane) - 6, width: 12, y: y0, height: Math.max(1, y1 - y0), "data-kind": "down", "data-index": d.start }, back);
    }
    for (const b of model.bands) {
      const y0 = y.get(b.start), y1 = endY(b.end);
      for (const a of b.cuts) {
        const x0 = laneX(a) + 14, x1 = laneX(a + 1) - 14;
        const r = el("rect", { class: "partition", x: x0, width: x1 - x0, y: y0, height: Math.max(1, y1 - y0), "data-kind": "partition", "data-index": b.start }, back);
        el("title", {}, r).textContent = b.text;
        el("line", { class: "partition-edge", x1: x0, x2: x1, y1: y0, y2: y0 }, back);
        el("line", { class: "partition-edge", x1: x0, x2: x1, y1: y1, y2: y1 }, back);
      }
    }

    // The time axis.
    const axis = el("g", { id: "axis" }, svg);
    let lastY = -100;
    for (const tick of ticks) {
      if (tick.y - lastY < 13) continue;
      lastY = tick.y;
      const text = el("text", { class: "axis", x: AXIS_W - 8, y: tick.y + 9, "text-anchor": "end" }, axis);
      text.textContent = (tick.capped ? "\u2248 " : "") + tick.at_ms + "ms";
      el("line", { x1: AXIS_W - 4, x2: AXIS_W, y1: tick.y, y2: tick.y, stroke: "#999" }, axis);
    }

    // Messages: one arrow per delivered copy, and a stub per lost send.
    const wires = el("g", { id: "messages" }, svg);
    for (const a of model.arrows) {
      const x0 = laneX(a.from), x1 = laneX(a.to);
      const y1 = y.get(a.recv);
      const y0 = a.send === null ? y1 : y.get(a.send);
      const classes = ["arrow"];
      if (a.copy > 0) classes.push("copy");
      if (a.delay_ms > 0) classes.push("delayed");
      const witness = [a.recv, a.send].flatMap((i) => witnessOf.get(i) || []);
      if (witness.length) classes.push("witness");
      const line = el("line", {
        class: classes.join(" "), x1: x0, y1: y0, x2: x1, y2: y1, "marker-end": "url(#head)",
        "data-kind": "arrow", "data-index": a.recv, "data-send": a.send === null ? "none" : a.send,
        "data-copy": a.copy, "data-delay-ms": a.delay_ms,
        "data-witness": witness.length ? witness.join(" ") : null,
      }, wires);
      line.addEventListener("click", () => select(a.recv, "arrow"));
      if (row >= 9) {
        const t = el("text", { class: "arrow-label", x: x0 + (x1 - x0) * 0.5, y: y0 + (y1 - y0) * 0.5 - 2, "text-anchor": "middle" }, wires);
        t.textContent = short(a.label, 30) + (a.copy > 0 ? " (dup)" : "") + (a.delay_ms > 0 ? ` (+${a.delay_ms}ms)` : "");
      }
    }
    for (const l of model.lost) {
      const x0 = laneX(l.from), y0 = y.get(l.send);
      const dir = l.to >= l.from ? 1 : -1;
      const x1 = x0 + dir * Math.min(LANE_W * 0.4, Math.abs(laneX(l.to) - x0) * 0.4 || 30);
      const y1 = y0 + row * 0.8;
      const stub = el("line", { class: "lost", x1: x0, y1: y0, x2: x1, y2: y1, "data-kind": "lost", "data-index": l.send, "data-dropped": l.dropped === null ? "no" : l.dropped }, wires);
      stub.addEventListener("click", () => select(l.send, "lost"));
      if (l.dropped !== null) {
        // The fault layer's drop: a cross at the sender.
        const c = y.get(l.dropped), s = 5;
        const g = el("g", { class: "cross", "data-kind": "drop-cross", "data-index": l.dropped }, wires);
        el("line", { x1: x0 - s, y1: c - s, x2: x0 + s, y2: c + s }, g);
        el("line", { x1: x0 - s, y1: c + s, x2: x0 + s, y2: c - s }, g);
      } else {
        const q = el("text", { x: x1 + dir * 4, y: y1 + 4, "text-anchor": dir > 0 ? "start" : "end", fill: "#999" }, wires);
        q.textContent = "?";
      }
    }

    // Every event: a mark on its lane (harness events in the harness column, with a
    // rule across the lanes), the witness events ringed.
    const marks = el("g", { id: "events" }, svg);
    for (const m of model.marks) {
      const yy = y.get(m.index);
      const harness = m.lane === null;
      const x = harness ? harnessX : laneX(m.lane);
      if (harness) {
        el("line", { class: "harness-rule", x1: harnessX, x2: width - 10, y1: yy, y2: yy }, back);
      }
      const witness = witnessOf.get(m.index);
      const attrs = {
        class: "mark " + m.kind + (witness ? " witness" : ""),
        "data-kind": "event", "data-index": m.index, "data-mark": m.kind, "data-at-ms": m.at_ms,
        "data-witness": witness ? witness.join(" ") : null,
      };
      const r = Math.max(2, Math.min(5, row * 0.32));
      let shape;
      if (m.kind === "decision") {
        shape = el("path", Object.assign({ d: `M ${x} ${yy - r * 1.5} L ${x + r * 1.5} ${yy} L ${x} ${yy + r * 1.5} L ${x - r * 1.5} ${yy} z` }, attrs), marks);
      } else if (m.kind === "persist" || m.kind === "unsynced") {
        shape = el("rect", Object.assign({ x: x - r, y: yy - r, width: 2 * r, height: 2 * r }, attrs), marks);
      } else if (m.kind === "crash") {
        shape = el("rect", Object.assign({ x: x - r * 1.3, y: yy - r * 1.3, width: 2.6 * r, height: 2.6 * r, transform: `rotate(45 ${x} ${yy})` }, attrs), marks);
      } else {
        shape = el("circle", Object.assign({ cx: x, cy: yy, r: m.kind === "send" || m.kind === "recv" ? r * 0.7 : r }, attrs), marks);
      }
      shape.addEventListener("click", () => select(m.index, "event"));
      if (witness) el("circle", { class: "witness-ring", cx: x, cy: yy, r: r + 4 }, marks);
      const quiet = ["send", "recv", "drop", "duplicate", "delay"].includes(m.kind);
      if (row >= 9 && (harness || !quiet)) {
        const t = el("text", { class: harness ? "harness-text label" : "label", x: x + r + 5, y: yy + 4 }, marks);
        t.textContent = short(m.label, harness ? 26 : 24);
      }
    }
    svg.classList.toggle("nolabels", !document.getElementById("labels").checked);
    if (selected) ring(selected.index, selected.what);
    const heads = document.getElementById("lane-heads");
    heads.style.width = width + "px";
    heads.innerHTML = "";
    const h = document.createElement("span");
    h.className = "harness";
    h.style.left = harnessX + "px";
    h.textContent = "harness";
    heads.appendChild(h);
    model.lanes.forEach((name, l) => {
      const s = document.createElement("span");
      s.style.left = laneX(l) + "px";
      s.textContent = name;
      s.dataset.lane = name;
      heads.appendChild(s);
    });
    if (keepRatio) scroller.scrollTop = keepRatio * bottom - scroller.clientHeight / 2;
    positions = y;
    drawnHeight = bottom;
  }

  let positions = new Map();
  let drawnHeight = 0;
  const scroller = document.getElementById("scroller");

  function ring(index, what) {
    for (const old of svg.querySelectorAll(".selected-ring")) old.remove();
    for (const old of svg.querySelectorAll(".arrow.selected")) old.classList.remove("selected");
    if (what === "arrow") {
      const a = svg.querySelector(`line[data-kind="arrow"][data-index="${index}"]`);
      if (a) a.classList.add("selected");
    }
    const m = svg.querySelector(`[data-kind="event"][data-index="${index}"]`);
    if (m) {
      const b = m.getBBox();
      el("circle", { class: "selected-ring", cx: b.x + b.width / 2, cy: b.y + b.height / 2, r: Math.max(b.width, b.height) / 2 + 6 }, svg);
    }
  }

  function line(index) {
    const m = markAt.get(index);
    const div = document.createElement("div");
    div.className = "line";
    const i = document.createElement("span");
    i.className = "index";
    i.textContent = "#" + index + " ";
    div.appendChild(i);
    div.appendChild(document.createTextNode(m ? m.text.trim() : "(not in this history)"));
    return div;
  }

  function select(index, what) {
    selected = { index, what };
    const box = document.getElementById("selection");
    box.innerHTML = "";
    const arrow = what === "arrow" ? arrowsAt.get(index) : null;
    if (arrow) {
      box.appendChild(document.createTextNode(arrow.copy > 0 ? "Message (second copy of a duplicate)" : "Message"));
      if (arrow.send !== null) box.appendChild(line(arrow.send));
      box.appendChild(line(index));
      if (arrow.delay_ms > 0) box.appendChild(document.createTextNode(`held back ${arrow.delay_ms}ms by the fault layer`));
    } else {
      box.appendChild(line(index));
      const names = witnessOf.get(index);
      if (names) box.appendChild(document.createTextNode("witness of: " + names.join(", ")));
    }
    ring(index, what);
  }

  function jumpTo(index) {
    const yy = positions.get(index);
    if (yy !== undefined) scroller.scrollTop = yy - scroller.clientHeight / 2;
    select(index, "event");
  }

  // The panel: title, counts, violations with their witnesses, legend.
  document.getElementById("title").textContent = model.title || "gauntlet run";
  const dropped = model.lost.filter((l) => l.dropped !== null).length;
  document.getElementById("counts").textContent =
    `${model.lanes.length} nodes \u00b7 ${model.marks.length} events \u00b7 ${model.arrows.length} delivered \u00b7 ${dropped} dropped \u00b7 ${model.lost.length - dropped} lost`;
  const list = document.getElementById("violation-list");
  if (model.violations.length === 0) {
    const p = document.createElement("div");
    p.className = "none";
    p.textContent = "Every property held.";
    list.appendChild(p);
  }
  for (const v of model.violations) {
    const box = document.createElement("div");
    box.className = "violation";
    box.dataset.kind = "violation";
    box.dataset.property = v.property;
    const prop = document.createElement("div");
    prop.className = "prop";
    prop.textContent = v.property;
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = v.text;
    box.append(prop, text, document.createTextNode("witness: "));
    for (const i of v.witness) {
      const b = document.createElement("button");
      b.textContent = "#" + i;
      b.dataset.index = i;
      b.addEventListener("click", () => jumpTo(i));
      box.appendChild(b);
    }
    list.appendChild(box);
  }
  const legend = [
    ["circle", "mark send", "send / receive (arrow: one delivered copy)"],
    ["line", "arrow copy", "second copy of a duplicated message"],
    ["line", "arrow delayed", "message held back by the fault layer"],
    ["cross", "cross", "dropped by the fault layer (at the sender)"],
    ["line", "lost", "sent, never delivered (cut link, node down, run over)"],
    ["rect", "partition", "partition: the links across the band are cut"],
    ["rect", "down", "node down (crash to restart)"],
    ["rect", "mark persist", "state persisted (fsync)"],
    ["diamond", "mark decision", "decision"],
    ["circle", "mark proposal", "proposal"],
    ["circle", "mark protocol", "other protocol event"],
    ["ring", "witness-ring", "witness of a violation"],
  ];
  const lb = document.getElementById("legend-body");
  for (const [shape, cls, text] of legend) {
    const row = document.createElement("div");
    const s = document.createElementNS(NS, "svg");
    s.setAttribute("width", 30);
    s.setAttribute("height", 14);
    if (shape === "circle") el("circle", { class: cls, cx: 15, cy: 7, r: 4 }, s);
    if (shape === "ring") el("circle", { class: cls, cx: 15, cy: 7, r: 5 }, s);
    if (shape === "line") el("line", { class: cls, x1: 2, y1: 3, x2: 28, y2: 11 }, s);
    if (shape === "rect") el("rect", { class: cls, x: 9, y: 2, width: 12, height: 10 }, s);
    if (shape === "diamond") el("path", { class: cls, d: "M 15 1 L 21 7 L 15 13 L 9 7 z" }, s);
    if (shape === "cross") {
      const g = el("g", { class: cls }, s);
      el("line", { x1: 10, y1: 2, x2: 20, y2: 12 }, g);
      el("line", { x1: 10, y1: 12, x2: 20, y2: 2 }, g);
    }
    row.appendChild(s);
    row.appendChild(document.createTextNode(text));
    lb.appendChild(row);
  }

  function setZoom(z) {
    zoom = Math.min(8, Math.max(0.05, z));
    draw();
  }
  document.getElementById("zoom-in").addEventListener("click", () => setZoom(zoom * 1.5));
  document.getElementById("zoom-out").addEventListener("click", () => setZoom(zoom / 1.5));
  document.getElementById("zoom-fit").addEventListener("click", () => {
    const saved = zoom;
    zoom = 1;
    const full = layout().bottom;
    zoom = saved;
    setZoom(Math.max(0.05, (scroller.clientHeight - 30) / full));
  });
  document.getElementById("labels").addEventListener("change", (e) => {
    svg.classList.toggle("nolabels", !e.target.checked);
  });
  scroller.addEventListener("wheel", (e) => {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    setZoom(zoom * (e.deltaY < 0 ? 1.2 : 1 / 1.2));
  }, { passive: false });
  draw();
})();
