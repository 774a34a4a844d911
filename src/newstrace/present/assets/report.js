/* newstrace: the views of the report and of the web app.
 *
 * Data come either from the JSON embedded in the report (StaticSource) or from the web app's /api
 * (ApiSource); both give the same payloads (see newstrace/present/views.py). Article text is hostile input:
 * it only ever reaches the page as text nodes (textContent), attribute values set one by one, or SVG text
 * through d3's .text(). No markup is built from data, and links only point inside the page (#/...).
 * Offsets from the store count Unicode code points, so text is cut with `textOf`.
 */
(function () {
  "use strict";

  // -- DOM, text only ----------------------------------------------------------------------------------------

  function append(el, ...children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "href") {
        // Links lead to views of this page only; an article's own URL is shown as text, never followed.
        if (typeof value !== "string" || !value.startsWith("#")) throw new Error("refused link: " + value);
        el.setAttribute("href", value);
      } else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    return append(el, children);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  const fmt = new Intl.NumberFormat("en");
  const num = (n) => (n === null || n === undefined ? "–" : fmt.format(n));
  const plural = (n, word, many) => num(n) + " " + (n === 1 ? word : many || word + "s");

  /* Text addressed by code point offsets (as Python counts them), fast when there are no astral characters. */
  function textOf(text) {
    text = text || "";
    if (!/[\uD800-\uDFFF]/.test(text)) return { length: text.length, slice: (a, b) => text.slice(a, b) };
    const points = Array.from(text);
    return { length: points.length, slice: (a, b) => points.slice(a, b).join("") };
  }

  /* `text` with spans marked: spans are {start, end, cls, title}; overlapping spans nest as class lists. */
  function marked(text, spans, focus) {
    const t = textOf(text);
    const frag = document.createDocumentFragment();
    const cuts = new Set([0, t.length]);
    const kept = [];
    for (const span of spans) {
      const start = Math.max(0, Math.min(t.length, span.start));
      const end = Math.max(0, Math.min(t.length, span.end));
      if (end <= start) continue;
      kept.push({ ...span, start, end });
      cuts.add(start);
      cuts.add(end);
    }
    if (focus) {
      cuts.add(Math.max(0, focus[0]));
      cuts.add(Math.min(t.length, focus[1]));
    }
    const points = [...cuts].sort((a, b) => a - b);
    // The focused range (evidence asked for by a link) is one wrapper around its pieces.
    let focusEl = null;
    for (let i = 0; i + 1 < points.length; i++) {
      const [a, b] = [points[i], points[i + 1]];
      if (b <= a) continue;
      const piece = t.slice(a, b);
      const active = kept.filter((s) => s.start <= a && s.end >= b);
      const inFocus = focus && focus[0] <= a && focus[1] >= b;
      if (inFocus && !focusEl) focusEl = frag.appendChild(h("span", { class: "focus", id: "focus" }));
      const parent = inFocus ? focusEl : frag;
      if (!active.length) {
        parent.appendChild(document.createTextNode(piece));
        continue;
      }
      const el = document.createElement("span");
      el.className = active.map((s) => s.cls).join(" ");
      const titles = active.map((s) => s.title).filter(Boolean);
      if (titles.length) el.title = [...new Set(titles)].join("\n");
      el.textContent = piece;
      parent.appendChild(el);
    }
    return { fragment: frag, focusEl };
  }

  // -- colours -----------------------------------------------------------------------------------------------

  const PALETTE = [
    "#1f77b4", "#e8590c", "#2b8a3e", "#c92a2a", "#7048e8", "#8c564b", "#d6336c", "#0c8599",
    "#a08a00", "#364fc7", "#5c940d", "#862e9c", "#f08c00", "#1098ad", "#495057", "#e64980",
    "#74b816", "#4263eb", "#b35900", "#12b886",
  ];
  const UNKNOWN_COLOUR = "#9aa1ab";
  const outletColours = new Map();

  function setOutlets(outlets) {
    outletColours.clear();
    outlets
      .map((o) => o.outlet)
      .filter((o) => o !== "(unknown)")
      .forEach((o, i) => outletColours.set(o, PALETTE[i] || UNKNOWN_COLOUR));
  }
  const colour = (outlet) => outletColours.get(outlet) || UNKNOWN_COLOUR;

  function chip(outlet) {
    const swatch = h("i");
    swatch.style.setProperty("background", colour(outlet));
    return h("span", { class: "chip" }, swatch, outlet || "(unknown)");
  }

  const ROLE_NAMES = { first: "first", verbatim: "verbatim", paraphrase: "paraphrase", new_detail: "new detail" };
  const ROLE_HELP = {
    first: "the earliest claim of this narrative",
    verbatim: "repeats an earlier claim word for word",
    paraphrase: "repeats an earlier claim in other words",
    new_detail: "repeats an earlier claim and adds detail",
  };
  const roleBadge = (role) =>
    role ? h("span", { class: "badge " + role, title: ROLE_HELP[role] || role }, ROLE_NAMES[role] || role) : null;

  // -- routes ------------------------------------------------------------------------------------------------

  function route(parts, params) {
    const path = parts.map((p) => encodeURIComponent(String(p))).join("/");
    const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "")).toString() : "";
    return "#/" + path + (query ? "?" + query : "");
  }
  const docLink = (docId, start, end) => route(["document", docId], start !== undefined ? { s: start, e: end } : null);
  const narrativeLink = (id, claimId) => route(["narrative", id], claimId ? { claim: claimId } : null);

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, "");
    const [path, query] = raw.split("?");
    const parts = path ? path.split("/").map((p) => decodeURIComponent(p)) : [];
    return { parts, params: new URLSearchParams(query || "") };
  }

  // -- data sources ------------------------------------------------------------------------------------------

  function page(items, offset, limit) {
    offset = Math.max(0, offset || 0);
    return { total: items.length, offset, items: limit ? items.slice(offset, offset + limit) : items.slice(offset) };
  }

  function StaticSource(blob) {
    // Lists of records come as rows of values; blob.columns names the values of each kind of record.
    const isRows = (list) => list.length > 0 && Array.isArray(list[0]);
    const recordsOf = (list, kind) => (isRows(list) ? list.map((r) => Object.fromEntries(blob.columns[kind].map((c, i) => [c, r[i]]))) : list);
    const docs = blob.documents;
    const index = {};
    for (const [id, d] of Object.entries(docs)) index[id] = { title: d.title, outlet: d.outlet, published: d.published };
    const narratives = recordsOf(blob.narratives, "narratives");
    const texts = new Map();
    const text = (id) => {
      if (!texts.has(id)) texts.set(id, textOf(docs[id] ? docs[id].text : ""));
      return texts.get(id);
    };
    const lower = new Map();
    const lowerText = (id) => {
      if (!lower.has(id)) lower.set(id, docs[id].text.toLowerCase());
      return lower.get(id);
    };
    const claimsOf = (d) => (d.claims = recordsOf(d.claims, "claims"));
    const byDate = Object.keys(docs).sort((a, b) =>
      (docs[a].published || "9999").localeCompare(docs[b].published || "9999") || a.localeCompare(b));
    const missing = (what, id) => Promise.reject(new Error("no " + what + " " + id + " in this report"));
    return {
      kind: "static",
      overview: async () => blob.overview,
      narratives: async ({ offset, limit }) => page(narratives, offset, limit),
      narrative: async (id) => {
        const found = blob.narrative[id];
        if (!found) return missing("narrative", id);
        if (isRows(found.chain)) {
          found.chain = recordsOf(found.chain, "chain");
          for (const link of found.chain) {
            const t = text(link.doc_id);
            link.context = t.slice(link.context_start, link.context_end);
            link.text = t.slice(link.start, link.end);
            link.title = (docs[link.doc_id] || {}).title;
          }
          found.actors = blob.actor_names;
        }
        return found;
      },
      documents: async ({ offset, limit, title }) => {
        const needle = (title || "").toLowerCase();
        const rows = byDate
          .slice()
          .reverse()
          .filter((id) => !needle || (docs[id].title || "").toLowerCase().includes(needle))
          .map((id) => {
            const d = docs[id];
            return { doc_id: id, title: d.title, outlet: d.outlet, published: d.published, n_words: d.n_words, claims: d.claims.length, reuse: d.reuse.reduce((n, r) => n + r.passages.length, 0) };
          });
        return page(rows, offset, limit);
      },
      document: async (id) => {
        const d = docs[id];
        if (!d) return missing("document", id);
        claimsOf(d);
        for (const partner of d.reuse) {
          if (!isRows(partner.passages)) continue;
          partner.passages = recordsOf(partner.passages, "passages");
          const meta = index[partner.partner] || {};
          partner.partner_title = meta.title;
          partner.partner_outlet = meta.outlet;
          partner.partner_published = meta.published;
          for (const p of partner.passages) p.partner_text = text(partner.partner).slice(p.partner_start, p.partner_end);
        }
        d.actors = blob.actor_names;
        return d;
      },
      actors: async () => blob.actors,
      actor: async (id) => blob.actor[id] || missing("actor", id),
      places: async () => ({ places: blob.places, documents: index }),
      search: async (q) => {
        const needle = q.trim().toLowerCase();
        const claims = [];
        const found = [];
        if (needle) {
          for (const id of byDate) {
            const d = docs[id];
            const t = text(id);
            for (const c of claimsOf(d)) {
              const said = t.slice(c.start, c.end);
              if (said.toLowerCase().includes(needle)) {
                claims.push({ ...c, doc_id: id, text: said, published: d.published, outlet: d.outlet });
              }
            }
            const at = lowerText(id).indexOf(needle);
            if (at >= 0 || (d.title || "").toLowerCase().includes(needle)) {
              const snippet = at >= 0 ? [d.text.slice(Math.max(0, at - 80), at), d.text.slice(at, at + needle.length), d.text.slice(at + needle.length, at + needle.length + 80)] : null;
              found.push({ doc_id: id, title: d.title, outlet: d.outlet, published: d.published, snippet });
            }
          }
        }
        return { query: q, claims: claims.slice(0, 100), n_claims: claims.length, documents: found.slice(0, 100), n_documents: found.length };
      },
      world: async () => JSON.parse(document.getElementById("newstrace-world").textContent),
    };
  }

  function ApiSource(base) {
    async function get(path, params) {
      const query = params ? "?" + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "")) : "";
      const response = await fetch(base + path + query, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) {
        let message = response.status + " " + response.statusText;
        try {
          message = (await response.json()).error || message;
        } catch (e) {
          /* not JSON: keep the status line */
        }
        throw new Error(message);
      }
      return response.json();
    }
    const id = (value) => encodeURIComponent(value);
    return {
      kind: "api",
      overview: () => get("/api/overview"),
      narratives: ({ offset, limit }) => get("/api/narratives", { offset, limit }),
      narrative: (nid) => get("/api/narratives/" + id(nid)),
      documents: ({ offset, limit, title }) => get("/api/documents", { offset, limit, title }),
      document: (did) => get("/api/documents/" + id(did)),
      actors: () => get("/api/actors"),
      actor: (aid) => get("/api/actors/" + id(aid)),
      places: () => get("/api/places"),
      search: (q) => get("/api/search", { q }),
      world: () => get("/assets/countries-110m.json"),
    };
  }

  // -- shared pieces -----------------------------------------------------------------------------------------

  const day = (s) => (s ? new Date(s + "T00:00:00Z") : null);

  function pager(total, offset, limit, go) {
    if (total <= limit) return null;
    const pages = Math.ceil(total / limit);
    const current = Math.floor(offset / limit) + 1;
    return h("div", { class: "pager" },
      h("button", { type: "button", disabled: current <= 1, onclick: () => go(offset - limit) }, "← Previous"),
      h("span", { class: "muted" }, "page " + current + " of " + pages + " (" + num(total) + ")"),
      h("button", { type: "button", disabled: current >= pages, onclick: () => go(offset + limit) }, "Next →"));
  }

  function table(headers, rows) {
    return h("table", null,
      h("thead", null, h("tr", null, headers.map((x) => (typeof x === "string" ? h("th", null, x) : h("th", { class: x.cls }, x.text))))),
      h("tbody", null, rows));
  }

  /* A small dot strip: when (x) and where (colour) a narrative's claims appeared. */
  function strip(points, first, last, width) {
    width = width || 170;
    const height = 18;
    const svg = d3.create("svg").attr("class", "strip").attr("width", width).attr("height", height);
    const lo = day(first), hi = day(last);
    if (!lo || !hi || !points.length) return svg.node();
    const x = d3.scaleUtc().domain(lo.getTime() === hi.getTime() ? [d3.utcYear.offset(lo, -1), d3.utcYear.offset(hi, 1)] : [lo, hi]).range([5, width - 5]);
    svg.append("line").attr("x1", 3).attr("x2", width - 3).attr("y1", height / 2).attr("y2", height / 2).attr("stroke", "#d0d5de");
    svg.selectAll("circle").data(points).join("circle")
      .attr("cx", (p) => x(day(p[0]))).attr("cy", height / 2).attr("r", (p) => Math.min(7, 2.5 + Math.sqrt(p[2])))
      .attr("fill", (p) => colour(p[1])).attr("fill-opacity", 0.8)
      .append("title").text((p) => p[0] + " · " + p[1] + " · " + plural(p[2], "claim"));
    return svg.node();
  }

  // -- overview ----------------------------------------------------------------------------------------------

  async function viewOverview(main, source, info) {
    const top = await source.narratives({ offset: 0, limit: 10 });
    const card = (n, k) => h("div", { class: "card" }, h("div", { class: "n" }, n), h("div", { class: "k" }, k));
    append(main,
      h("h1", null, info.title),
      h("p", { class: "lead" }, "Store ", h("code", null, info.store), " · generated " + info.generated + " by newstrace " + info.newstrace_version),
      h("div", { class: "cards" },
        card(num(info.documents), "documents"),
        card(num(info.words), "words"),
        card(num(info.outlets.length), "outlets"),
        h("div", { class: "card" }, h("div", { class: "n small" }, (info.first_published || "?") + " to", h("br"), info.last_published || "?"), h("div", { class: "k" }, "published")),
        card(num(info.recurring_narratives), "recurring narratives"),
        card(num(info.claims), "claims"),
        card(num(info.attributions), "attributions"),
        card(num(info.reuse_passages), "reused passages"),
        card(num(info.places), "places"),
        card(num(info.errors.errors), "inputs failed")),
      h("div", { class: "panel" },
        h("h2", null, "Top narratives"),
        h("p", { class: "note" }, "Claims repeated across documents, most documents first. Each dot is a day on which an outlet carried the claim."),
        narrativeTable(top.items, info),
        top.total > top.items.length ? h("p", null, h("a", { href: "#/narratives" }, "All " + num(top.total) + " narratives →")) : null),
      h("div", { class: "panel" },
        h("h2", null, "Documents per month, by outlet"),
        monthChart(info.per_month),
        outletTable(info)),
      errorsPanel(info));
  }

  function outletTable(info) {
    return table(["Outlet", { text: "Documents", cls: "num" }], info.outlets.map((o) => h("tr", null, h("td", null, chip(o.outlet)), h("td", { class: "num" }, num(o.documents)))));
  }

  function errorsPanel(info) {
    const e = info.errors;
    const panel = h("div", { class: "panel" }, h("h2", null, "Errors"));
    if (!e.errors && !e.warnings) return append(panel, h("p", { class: "muted" }, "Every input was read without an error or warning."));
    append(panel,
      h("p", null, plural(e.errors, "error") + " and " + plural(e.warnings, "warning") + ". By stage: ",
        e.by_stage.map((s, i) => [i ? ", " : "", s.stage + " (" + s.severity + "): " + num(s.n)])),
      table(["Severity", "File", "Where", "Stage", "Error"], e.examples.map((x) =>
        h("tr", null, h("td", null, x.severity), h("td", { class: "mono" }, x.source_path), h("td", null, x.locator || ""), h("td", null, x.stage), h("td", null, x.error, x.detail ? h("div", { class: "note" }, x.detail) : null)))),
      e.examples.length < e.errors + e.warnings ? h("p", { class: "note" }, "First " + e.examples.length + " shown; `newstrace errors --db FILE --all` lists every one.") : null);
    return panel;
  }

  function monthChart(perMonth) {
    const box = h("div", { class: "timeline" });
    if (!perMonth.length) return append(box, h("p", { class: "muted" }, "No dated documents."));
    const months = [...new Set(perMonth.map((r) => r.month))].sort();
    const first = day(months[0] + "-01"), last = day(months[months.length - 1] + "-01");
    const byYear = d3.utcMonth.count(first, last) > 180;
    const key = (m) => (byYear ? m.slice(0, 4) : m);
    const buckets = (byYear ? d3.utcYear.range(d3.utcYear.floor(first), d3.utcYear.offset(last, 1)) : d3.utcMonth.range(first, d3.utcMonth.offset(last, 1))).map((d) => d3.utcFormat(byYear ? "%Y" : "%Y-%m")(d));
    const outlets = [...new Set(perMonth.map((r) => r.outlet))];
    const counts = new Map(buckets.map((b) => [b, Object.fromEntries(outlets.map((o) => [o, 0]))]));
    for (const r of perMonth) counts.get(key(r.month))[r.outlet] += r.n;
    const series = d3.stack().keys(outlets)(buckets.map((b) => ({ bucket: b, ...counts.get(b) })));
    const width = Math.max(640, Math.min(1200, (document.querySelector("main").clientWidth || 1000) - 60));
    const height = 170, m = { top: 8, right: 10, bottom: 24, left: 34 };
    const x = d3.scaleBand().domain(buckets).range([m.left, width - m.right]).padding(0.12);
    const y = d3.scaleLinear().domain([0, d3.max(series, (s) => d3.max(s, (d) => d[1])) || 1]).nice().range([height - m.bottom, m.top]);
    const svg = d3.create("svg").attr("width", width).attr("height", height).attr("class", "month-chart");
    svg.append("g").selectAll("g").data(series).join("g").attr("fill", (s) => colour(s.key))
      .selectAll("rect").data((s) => s.map((d) => ({ ...d, outlet: s.key }))).join("rect")
      .attr("x", (d) => x(d.data.bucket)).attr("width", x.bandwidth())
      .attr("y", (d) => y(d[1])).attr("height", (d) => y(d[0]) - y(d[1]))
      .append("title").text((d) => d.data.bucket + " · " + d.outlet + ": " + (d[1] - d[0]));
    const every = Math.ceil(buckets.length / Math.max(1, Math.floor(width / 70)));
    svg.append("g").attr("class", "axis").attr("transform", "translate(0," + (height - m.bottom) + ")")
      .call(d3.axisBottom(x).tickValues(buckets.filter((b, i) => i % every === 0)).tickSizeOuter(0));
    svg.append("g").attr("class", "axis").attr("transform", "translate(" + m.left + ",0)").call(d3.axisLeft(y).ticks(4));
    return append(box, svg.node());
  }

  // -- narratives --------------------------------------------------------------------------------------------

  function narrativeTable(items, info) {
    if (!items.length) return h("p", { class: "muted" }, "No recurring narratives in this store yet (run `newstrace link`).");
    return table(["Narrative", { text: "Docs", cls: "num" }, { text: "Outlets", cls: "num" }, "First seen", "Last seen", { text: "Dropped", cls: "num" }, { text: "Predictions", cls: "num" }, "When and where"],
      items.map((n) => h("tr", { "data-narrative": n.narrative_id },
        h("td", { class: "label-cell" }, h("a", { href: narrativeLink(n.narrative_id) }, headline(n.label || n.narrative_id))),
        h("td", { class: "num" }, num(n.n_documents)),
        h("td", { class: "num" }, num(n.n_outlets)),
        h("td", { class: "date" }, n.first_seen || "?"),
        h("td", { class: "date" }, n.last_seen || "?"),
        h("td", { class: "num", title: "repeats that state the claim without its source" }, num(n.n_dropped)),
        h("td", { class: "num" }, num(n.n_predictions)),
        h("td", null, strip(n.strip || [], info.first_published, info.last_published)))));
  }

  async function viewNarratives(main, source, info, params) {
    const limit = 50;
    const offset = parseInt(params.get("offset") || "0", 10) || 0;
    const found = await source.narratives({ offset, limit });
    const go = (o) => (location.hash = route(["narratives"], { offset: o }));
    append(main,
      h("h1", null, "Narratives"),
      h("p", { class: "lead" }, plural(info.recurring_narratives, "recurring narrative") + ": claims that " +
        "recur across documents (" + num(info.narratives - info.recurring_narratives) + " more were seen in one document only). Open one to see its timeline and provenance chain."),
      h("div", { class: "panel" }, pager(found.total, offset, limit, go), narrativeTable(found.items, info), pager(found.total, offset, limit, go)));
  }

  async function viewNarrative(main, source, info, parts, params) {
    const found = await source.narrative(parts[1]);
    const n = found.narrative;
    const chain = found.chain;
    const first = chain.find((c) => c.chain_role === "first") || chain[0];
    append(main,
      h("div", { class: "crumbs" }, h("a", { href: "#/narratives" }, "Narratives"), " / ", h("span", { class: "mono" }, n.narrative_id)),
      h("h1", { class: "narrative-title" }, "“" + headline(n.label || n.narrative_id) + "”"),
      h("p", { class: "lead" }, "A narrative is one claim that recurs across documents. This page shows who said it first, when and where it came back, and every repeat with the sentence that carries it."),
      h("div", { class: "cards" },
        figure(num(n.n_documents), plural(n.n_documents, "document").replace(/^\S+ /, "") + " from " + plural(n.n_outlets, "outlet")),
        figure(num(n.n_claims), n.n_claims === 1 ? "claim" : "claims"),
        figure(h("span", { class: "small" }, (n.first_seen || "?") + " to", h("br"), n.last_seen || "?"), "first and last seen"),
        figure(num(n.n_attributed), "name their source"),
        figure(num(n.n_dropped), "dropped the attribution", n.n_dropped ? "alert" : null),
        figure(num(n.n_predictions), n.n_predictions === 1 ? "prediction" : "predictions")),
      (n.actors || []).length || (n.places || []).length ? h("p", { class: "note" },
        (n.actors || []).length ? ["Actors: ", (n.actors || []).map((a, i) => [i ? ", " : "", h("a", { href: route(["actor", a]) }, (found.actors || {})[a] || a)])] : null,
        (n.actors || []).length && (n.places || []).length ? " · " : null,
        (n.places || []).length ? "Places: " + n.places.join(", ") : null) : null);

    if (first) append(main, h("div", { class: "panel first-said" },
      h("h2", null, "Who said it first"),
      h("p", null, h("b", null, first.published || "undated"), " in ", chip(first.outlet), ": ",
        first.attributed ? ["attributed to ", h("b", null, first.source_text || "an unnamed source"), first.source_type ? " (" + first.source_type + ")" : ""] : h("b", null, "in the outlet's own voice"),
        ". ", h("a", { href: docLink(first.doc_id, first.start, first.end) }, "Read it in the document →")),
      sentence(first)));

    append(main, h("div", { class: "panel" },
      h("h2", null, "When and where it recurred"),
      h("p", { class: "note" }, "One row per outlet, one mark per claim at its publication date."),
      timelineLegend(),
      timeline(chain, (claimId) => flashClaim(claimId))));

    append(main, involved(chain));

    const list = h("ol", { class: "chain" });
    const controls = chainFilters(chain, list);
    append(main, h("div", { class: "panel" },
      h("h2", null, "Provenance chain"),
      h("p", { class: "note" }, "Every claim of the narrative in time order. Each repeat is marked verbatim, paraphrase or new detail against the earlier claim it repeats; the sentence shows ",
        h("span", { class: "key m-source" }, "the source"), " ", h("span", { class: "key m-cue" }, "the cue"), " and ", h("span", { class: "key m-content" }, "what was said"),
        " (", h("span", { class: "key m-claim" }, "the claim"), " when the outlet says it in its own voice)."),
      controls, list));
    const wanted = params.get("claim");
    if (wanted) setTimeout(() => flashClaim(wanted), 50);
  }

  /* A narrative's label as a headline: without its own quote marks or a leading "that", capitalised. */
  function headline(label) {
    const text = label.trim().replace(/^[“"'‘«]+|[”"'’»,]+$/g, "").replace(/^that\s+/i, "");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function figure(value, label, cls) {
    return h("div", { class: "card" + (cls ? " " + cls : "") }, h("div", { class: "n" }, value), h("div", { class: "k" }, label));
  }

  function flashClaim(claimId) {
    const el = document.getElementById("claim-" + claimId);
    if (!el) return;
    el.scrollIntoView({ behavior: "smooth", block: "center" });
    el.classList.add("flash");
    setTimeout(() => el.classList.remove("flash"), 1800);
  }

  function sentence(link) {
    const context = link.context || "";
    const lead = context.length - context.replace(/^\s+/, "").length;
    const spans = (link.marks || []).map(([start, end, role]) => ({
      start: start - link.context_start - lead,
      end: end - link.context_start - lead,
      cls: "m-" + role,
      title: role === "claim" ? "the claim (outlet's own voice)" : role,
    }));
    return h("p", { class: "sentence" }, marked(context.trim(), spans).fragment);
  }

  function involved(chain) {
    const outlets = d3.rollups(chain, (cs) => ({
      claims: cs.length,
      first: d3.min(cs, (c) => c.published),
      attributed: cs.filter((c) => c.attributed).length,
      voice: cs.filter((c) => !c.attributed).length,
      dropped: cs.filter((c) => c.attribution_dropped).length,
      predictions: cs.filter((c) => c.modality === "prediction").length,
    }), (c) => c.outlet).sort((a, b) => (a[1].first || "9999").localeCompare(b[1].first || "9999"));
    // Sources grouped by their wording, ignoring case and a leading "the": "The ministry" = "the ministry".
    const sourceKey = (c) => (c.source_text || "").trim().replace(/[,;:]+$/, "").replace(/^the\s+/i, "").toLowerCase() || "(unnamed source)";
    const sources = d3.rollups(chain.filter((c) => c.attributed), (cs) => ({
      name: d3.greatest(d3.rollups(cs, (v) => v.length, (c) => (c.source_text || "(unnamed source)").trim().replace(/[,;:]+$/, "")), (x) => x[1])[0],
      claims: cs.length,
      type: cs[0].source_type,
      outlets: [...new Set(cs.map((c) => c.outlet))],
      first: d3.min(cs, (c) => c.published),
    }), sourceKey).sort((a, b) => b[1].claims - a[1].claims || (a[1].first || "").localeCompare(b[1].first || ""));
    const sourceRows = h("tbody");
    const moreSources = h("p");
    const showSources = (n) => {
      clear(sourceRows);
      sources.slice(0, n).forEach(([, s]) => sourceRows.appendChild(h("tr", null, h("td", null, s.name), h("td", null, s.type || ""), h("td", { class: "num" }, num(s.claims)), h("td", { class: "date" }, s.first || "?"), h("td", null, s.outlets.map((o, i) => [i ? " " : "", chip(o)])))));
      clear(moreSources);
      if (sources.length > n) append(moreSources, h("button", { type: "button", onclick: () => showSources(sources.length) }, "Show all " + sources.length + " sources"));
    };
    showSources(8);
    return h("div", { class: "panel" },
      h("h2", null, "Outlets and sources involved"),
      table(["Outlet", "First carried", { text: "Claims", cls: "num" }, { text: "Attributed", cls: "num" }, { text: "Own voice", cls: "num" }, { text: "Dropped attribution", cls: "num" }, { text: "Predictions", cls: "num" }],
        outlets.map(([o, s]) => h("tr", null, h("td", null, chip(o)), h("td", { class: "date" }, s.first || "?"), h("td", { class: "num" }, num(s.claims)), h("td", { class: "num" }, num(s.attributed)), h("td", { class: "num" }, num(s.voice)), h("td", { class: "num" }, num(s.dropped)), h("td", { class: "num" }, num(s.predictions))))),
      h("h3", null, "Sources quoted, most quoted first"),
      sources.length ? h("table", null, h("thead", null, h("tr", null, h("th", null, "Source"), h("th", null, "Type"), h("th", { class: "num" }, "Claims"), h("th", null, "First"), h("th", null, "Carried by"))), sourceRows) : h("p", { class: "muted" }, "No claim of this narrative names a source."),
      moreSources);
  }

  function chainFilters(chain, list) {
    const state = { role: "", dropped: false, predictions: false, shown: 100 };
    const render = () => {
      clear(list);
      const kept = chain.filter((c) => (!state.role || c.chain_role === state.role) && (!state.dropped || c.attribution_dropped) && (!state.predictions || c.modality === "prediction"));
      const position = new Map(chain.map((c) => [c.claim_id, c.chain_position]));
      kept.slice(0, state.shown).forEach((c) => list.appendChild(chainCard(c, position)));
      if (kept.length > state.shown) {
        list.appendChild(h("li", null, h("button", { type: "button", onclick: () => { state.shown += 100; render(); } }, "Show more (" + num(kept.length - state.shown) + " left)")));
      }
      if (!kept.length) list.appendChild(h("li", { class: "muted" }, "No claim matches these filters."));
    };
    const roles = h("select", { onchange: (e) => { state.role = e.target.value; render(); } },
      h("option", { value: "" }, "every role"), Object.entries(ROLE_NAMES).map(([k, v]) => h("option", { value: k }, v)));
    const box = (label, key) => h("label", null, h("input", { type: "checkbox", onchange: (e) => { state[key] = e.target.checked; render(); } }), label);
    render();
    return h("div", { class: "filters" }, h("label", null, "Show ", roles), box("only dropped attributions", "dropped"), box("only predictions", "predictions"));
  }

  function chainCard(c, position) {
    const card = h("li", { class: "link-card", id: "claim-" + c.claim_id, "data-role": c.chain_role || "" });
    card.style.setProperty("border-left-color", colour(c.outlet));
    const repeated = c.repeats && position.has(c.repeats) ? position.get(c.repeats) : null;
    append(card,
      h("div", { class: "link-head" },
        h("span", { class: "pos" }, "#" + (c.chain_position + 1)),
        h("b", null, c.published || "undated"),
        chip(c.outlet),
        roleBadge(c.chain_role),
        c.chain_role !== "first" && c.similarity !== null && c.similarity !== undefined ? h("span", { class: "muted", title: "similarity to the claim it repeats" }, "similarity " + c.similarity.toFixed(2)) : null,
        repeated !== null ? h("a", { href: "#", onclick: (e) => { e.preventDefault(); flashClaim(c.repeats); } }, "repeats #" + (repeated + 1)) : null,
        c.attribution_dropped ? h("span", { class: "badge dropped", title: "an earlier claim named its source; this one states it in the outlet's own voice" }, "attribution dropped") : null,
        c.modality === "prediction" ? h("span", { class: "badge prediction", title: "a prediction; earlier predictions of the same narrative: " + c.earlier_predictions }, "prediction" + (c.earlier_predictions ? " · " + c.earlier_predictions + " before" : " · first")) : null,
        c.hedged ? h("span", { class: "badge hedged" }, "hedged") : null),
      h("div", { class: "link-source" },
        c.attributed ? ["Source: ", h("b", null, c.source_text || "unnamed"), c.source_type ? " (" + c.source_type + ")" : "", c.cue_text ? " · cue “" + c.cue_text + "”" : "", c.modality && c.modality !== "prediction" ? " · " + c.modality : ""]
          : h("span", null, h("span", { class: "badge voice" }, "outlet's own voice"), c.modality && c.modality !== "prediction" ? " · " + c.modality : "")),
      sentence(c),
      (c.new_terms || []).length ? h("div", { class: "newterms" }, "New detail: ", c.new_terms.map((t, i) => [i ? ", " : "", h("b", null, t)])) : null,
      h("div", { class: "note" }, h("a", { href: docLink(c.doc_id, c.start, c.end) }, "Open the document"), " · ", c.title || ""));
    return card;
  }

  // -- timeline ----------------------------------------------------------------------------------------------

  function symbolPath(claim, size) {
    return d3.symbol().type(claim.modality === "prediction" ? d3.symbolTriangle : d3.symbolCircle).size(size)();
  }

  function timelineLegend() {
    const item = (draw, text) => {
      const svg = d3.create("svg").attr("width", 26).attr("height", 22);
      draw(svg.append("g").attr("transform", "translate(13,11)"));
      return h("span", null, svg.node(), text);
    };
    const mark = (claim, fill) => (g) => g.append("path").attr("d", symbolPath(claim, 90)).attr("fill", fill).attr("stroke", "#1f77b4").attr("stroke-width", 2);
    return h("div", { class: "legend" },
      item(mark({}, "#1f77b4"), "attributed to a source"),
      item(mark({}, "#fff"), "in the outlet's own voice"),
      item(mark({ modality: "prediction" }, "#1f77b4"), "prediction"),
      item((g) => { mark({}, "#fff")(g); g.append("circle").attr("r", 9.5).attr("fill", "none").attr("stroke", "#d62728").attr("stroke-width", 2); }, "attribution dropped"),
      item((g) => { g.append("circle").attr("r", 9.5).attr("fill", "none").attr("stroke", "#1d2330").attr("stroke-width", 2); mark({}, "#1f77b4")(g); }, "first claim"),
      item((g) => g.append("path").attr("d", "M-12,6C0,6 0,-6 12,-6").attr("fill", "none").attr("stroke", "#8d96a5").attr("stroke-width", 1.5), "repeats an earlier claim"),
      h("span", null, "colour = outlet; click a mark to find it in the chain"));
  }

  function timeline(chain, pick) {
    const box = h("div", { class: "timeline" });
    const dated = chain.filter((c) => c.published);
    if (!dated.length) return append(box, h("p", { class: "muted" }, "No claim of this narrative is dated."));
    const lanes = [...new Set(dated.map((c) => c.outlet))];
    const stacks = d3.group(dated, (c) => c.outlet + "|" + c.published);
    const deepest = d3.max([...stacks.values()], (g) => g.length);
    const laneHeight = Math.max(36, Math.min(84, 14 + deepest * 9));
    const m = { top: 10, right: 24, bottom: 28, left: 190 };
    const width = Math.max(680, Math.min(1200, (document.querySelector("main").clientWidth || 1000) - 60));
    const height = m.top + m.bottom + lanes.length * laneHeight;
    let [lo, hi] = d3.extent(dated, (c) => day(c.published));
    const pad = Math.max(15, (hi - lo) / 86400000 * 0.03);
    lo = d3.utcDay.offset(lo, -pad);
    hi = d3.utcDay.offset(hi, pad);
    const x = d3.scaleUtc().domain([lo, hi]).range([m.left, width - m.right]);
    const y = (outlet) => m.top + lanes.indexOf(outlet) * laneHeight + laneHeight / 2;
    const svg = d3.create("svg").attr("width", width).attr("height", height).attr("class", "timeline-chart");
    svg.append("g").selectAll("rect").data(lanes).join("rect")
      .attr("class", (d, i) => "lane" + (i % 2 ? " odd" : ""))
      .attr("x", m.left - 6).attr("width", width - m.left - m.right + 12)
      .attr("y", (d) => y(d) - laneHeight / 2).attr("height", laneHeight);
    const labels = svg.append("g").selectAll("g").data(lanes).join("g").attr("transform", (d) => "translate(8," + y(d) + ")");
    labels.append("rect").attr("x", 0).attr("y", -6).attr("width", 12).attr("height", 12).attr("rx", 2).attr("fill", (d) => colour(d));
    labels.append("text").attr("class", "lane-label").attr("x", 18).attr("dy", "0.35em").text((d) => (d.length > 26 ? d.slice(0, 25) + "…" : d))
      .append("title").text((d) => d);
    svg.append("g").attr("class", "axis").attr("transform", "translate(0," + (height - m.bottom) + ")")
      .call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(width / 110))).tickSizeOuter(0));
    const offset = new Map();
    for (const group of stacks.values()) {
      const step = Math.min(9, (laneHeight - 14) / Math.max(1, group.length - 1));
      group.forEach((c, i) => offset.set(c.claim_id, (i - (group.length - 1) / 2) * step));
    }
    // Who repeated whom: a thin line from each claim back to the earlier claim it repeats.
    const at = new Map(dated.map((c) => [c.claim_id, [x(day(c.published)), y(c.outlet) + offset.get(c.claim_id)]]));
    const links = dated.filter((c) => c.repeats && at.has(c.repeats));
    let linkPaths = null;
    if (links.length <= 400) {
      linkPaths = svg.append("g").attr("class", "tl-links").selectAll("path").data(links).join("path")
        .attr("d", (c) => {
          const [x1, y1] = at.get(c.repeats), [x2, y2] = at.get(c.claim_id);
          const mid = (x1 + x2) / 2;
          return "M" + x1 + "," + y1 + "C" + mid + "," + y1 + " " + mid + "," + y2 + " " + x2 + "," + y2;
        })
        .attr("fill", "none").attr("stroke", "#8d96a5").attr("stroke-opacity", links.length > 40 ? 0.28 : 0.55).attr("stroke-width", 1.2);
    }
    const points = svg.append("g").selectAll("g").data(dated).join("g")
      .attr("class", "tl-point")
      .attr("data-claim", (c) => c.claim_id)
      .attr("data-outlet", (c) => c.outlet)
      .attr("transform", (c) => "translate(" + x(day(c.published)) + "," + (y(c.outlet) + offset.get(c.claim_id)) + ")")
      .on("click", (event, c) => pick(c.claim_id))
      .on("mouseenter", (event, c) => {
        if (linkPaths) linkPaths.classed("near", (l) => l.claim_id === c.claim_id || l.repeats === c.claim_id).filter(".near").raise();
      })
      .on("mouseleave", () => linkPaths && linkPaths.classed("near", false));
    points.filter((c) => c.chain_role === "first").append("circle").attr("r", 11).attr("fill", "none").attr("stroke", "#1d2330").attr("stroke-width", 2);
    points.filter((c) => c.attribution_dropped).append("circle").attr("class", "dropped-ring").attr("r", 9.5).attr("fill", "none").attr("stroke", "#d62728").attr("stroke-width", 2);
    points.append("path").attr("class", "mark").attr("d", (c) => symbolPath(c, c.chain_role === "first" ? 130 : 70))
      .attr("fill", (c) => (c.attributed ? colour(c.outlet) : "#fff")).attr("stroke", (c) => colour(c.outlet)).attr("stroke-width", 2);
    points.append("title").text((c) => [
      c.published + " · " + c.outlet + " · #" + (c.chain_position + 1) + " " + (ROLE_NAMES[c.chain_role] || ""),
      c.attributed ? "source: " + (c.source_text || "unnamed") : "outlet's own voice",
      c.attribution_dropped ? "attribution dropped" : null,
      c.modality === "prediction" ? "prediction" : null,
      "“" + (c.text || "").slice(0, 220) + ((c.text || "").length > 220 ? "…" : "") + "”",
    ].filter(Boolean).join("\n"));
    append(box, svg.node());
    if (dated.length < chain.length) append(box, h("p", { class: "note" }, plural(chain.length - dated.length, "undated claim") + " not on the timeline."));
    return box;
  }

  // -- documents ---------------------------------------------------------------------------------------------

  async function viewDocuments(main, source, info, params) {
    const limit = 50;
    const offset = parseInt(params.get("offset") || "0", 10) || 0;
    const title = params.get("title") || "";
    const found = await source.documents({ offset, limit, title });
    const go = (o) => (location.hash = route(["documents"], { offset: o, title }));
    const filter = h("input", { type: "search", placeholder: "Filter by title", value: title });
    append(main,
      h("h1", null, "Documents"),
      h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); location.hash = route(["documents"], { title: filter.value }); } }, filter, h("button", { type: "submit" }, "Filter")),
      h("div", { class: "panel" },
        pager(found.total, offset, limit, go),
        table(["Title", "Outlet", "Published", { text: "Words", cls: "num" }, { text: "Claims", cls: "num" }, { text: "Reused passages", cls: "num" }],
          found.items.map((d) => h("tr", null,
            h("td", null, h("a", { href: docLink(d.doc_id) }, d.title || d.doc_id)),
            h("td", null, chip(d.outlet)), h("td", { class: "date" }, d.published || "undated"),
            h("td", { class: "num" }, num(d.n_words)), h("td", { class: "num" }, num(d.claims)), h("td", { class: "num" }, num(d.reuse))))),
        pager(found.total, offset, limit, go)));
  }

  const LAYERS = [
    ["attributions", "Attributions (source, cue, content)"],
    ["claims", "Claims in outlet voice"],
    ["entities", "Actors and entities"],
    ["labels", "Labels"],
    ["places", "Places"],
    ["reuse", "Reused passages"],
  ];

  async function viewDocument(main, source, info, parts, params) {
    const d = await source.document(parts[1]);
    const focus = params.has("s") ? [parseInt(params.get("s"), 10), parseInt(params.get("e"), 10)] : null;
    const actors = d.actors || {};
    const spans = [];
    d.attributions.forEach(([src, cue, content, type, modality, hedged], i) => {
      const about = "attribution " + (i + 1) + (type ? " · " + type : "") + (modality ? " · " + modality : "") + (hedged ? " · hedged" : "");
      src.forEach(([s, e]) => spans.push({ start: s, end: e, cls: "m-source", title: "source · " + about }));
      cue.forEach(([s, e]) => spans.push({ start: s, end: e, cls: "m-cue", title: "cue · " + about }));
      content.forEach(([s, e]) => spans.push({ start: s, end: e, cls: "m-content", title: "content · " + about }));
    });
    d.claims.filter((c) => !c.attributed).forEach((c) => spans.push({ start: c.start, end: c.end, cls: "m-claim", title: "claim in the outlet's own voice" + (c.attribution_dropped ? " (attribution dropped)" : "") }));
    d.mentions.forEach(([s, e, label, actor]) => spans.push({ start: s, end: e, cls: "m-entity", title: actor ? (actors[actor] || actor) + " (" + label + ")" : label }));
    d.labels.forEach(([s, e, actor, label]) => spans.push({ start: s, end: e, cls: "m-label", title: "label for " + (actors[actor] || actor) + ": " + label }));
    d.places.forEach(([s, e, , name]) => spans.push({ start: s, end: e, cls: "m-place", title: "place: " + name }));
    d.reuse.forEach((r) => r.passages.forEach((p) => spans.push({ start: p.start, end: p.end, cls: "m-reuse", title: "reused with " + (r.partner_outlet || "") + " " + (r.partner_published || "") + " (" + p.kind + ")" })));
    const { fragment, focusEl } = marked(d.text, spans, focus);
    const text = h("div", { class: "doctext", id: "doctext" }, fragment);
    const toggles = h("div", { class: "layers" }, LAYERS.map(([key, label]) =>
      h("label", null, h("input", { type: "checkbox", checked: true, onchange: (e) => text.classList.toggle("hide-" + key, !e.target.checked) }), label)));
    const occurrences = d.occurrences.length > 1 ? h("p", { class: "note" }, "The same text was published " + d.occurrences.length + " times: ",
      d.occurrences.map((o, i) => [i ? "; " : "", chip(o.outlet || "(unknown)"), " " + (o.published || "undated") + " ", h("span", { class: "mono" }, o.source_path + (o.locator ? "#" + o.locator : ""))])) : null;
    append(main,
      h("div", { class: "crumbs" }, h("a", { href: "#/documents" }, "Documents"), " / ", h("span", { class: "mono" }, d.doc_id)),
      h("h1", null, d.title || "(untitled)"),
      h("div", { class: "meta" }, chip(d.outlet), h("span", null, d.published ? d.published + (d.published_source ? " (date from " + d.published_source + ")" : "") : "undated"),
        h("span", null, num(d.n_words) + " words"), h("span", { class: "mono" }, d.source_path + (d.locator ? "#" + d.locator : ""))),
      d.url ? h("div", { class: "meta" }, "URL (not followed): ", h("span", { class: "url mono" }, d.url)) : null,
      occurrences,
      h("div", { class: "doc-layout" },
        h("div", { class: "panel" }, toggles, text),
        documentSide(d, actors)),
      reusePanel(d));
    if (focusEl) setTimeout(() => focusEl.scrollIntoView({ block: "center" }), 30);
  }

  function documentSide(d, actors) {
    const t = textOf(d.text);
    const claims = d.claims.slice(0, 200).map((c) => h("li", null,
      roleBadge(c.chain_role), " ",
      c.attributed ? null : h("span", { class: "badge voice" }, "own voice"), " ",
      c.attribution_dropped ? h("span", { class: "badge dropped" }, "dropped") : null, " ",
      c.modality === "prediction" ? h("span", { class: "badge prediction" }, "prediction") : null, " ",
      h("a", { href: docLink(d.doc_id, c.start, c.end) }, "“" + t.slice(c.start, Math.min(c.end, c.start + 110)) + (c.end - c.start > 110 ? "…" : "") + "”"),
      c.recurring ? [" ", h("a", { href: narrativeLink(c.narrative_id, c.claim_id), class: "note" }, "narrative →")] : null));
    const actorIds = [...new Set(d.mentions.map((m) => m[3]).filter(Boolean))];
    return h("div", { class: "side" },
      h("div", { class: "panel" },
        h("h3", null, "Key"),
        h("p", null, h("span", { class: "key m-source" }, "source"), " ", h("span", { class: "key m-cue" }, "cue"), " ", h("span", { class: "key m-content" }, "content"), " ", h("span", { class: "key m-claim" }, "claim (outlet voice)")),
        h("p", { class: "note" }, "Dotted underline: actor or entity. Wavy green: place. Pink: label given to an actor. Teal band: passage reused in another document. Hover for details.")),
      h("div", { class: "panel" }, h("h3", null, plural(d.claims.length, "claim")), claims.length ? h("ul", null, claims) : h("p", { class: "muted" }, "None.")),
      actorIds.length ? h("div", { class: "panel" }, h("h3", null, "Actors"), h("ul", null, actorIds.map((a) => h("li", null, h("a", { href: route(["actor", a]) }, actors[a] || a))))) : null,
      h("div", { class: "panel" }, h("h3", null, "Reuse"), d.reuse.length ? h("ul", null, d.reuse.map((r) => h("li", null, h("a", { href: "#reuse-" + r.partner, onclick: (e) => { e.preventDefault(); const el = document.getElementById("reuse-" + r.partner); if (el) el.scrollIntoView({ behavior: "smooth" }); } }, r.partner_title || r.partner), " · ", chip(r.partner_outlet), " · " + plural(r.passages.length, "passage")))) : h("p", { class: "muted" }, "No passage of this text was found elsewhere.")));
  }

  function reusePanel(d) {
    if (!d.reuse.length) return null;
    const t = textOf(d.text);
    return h("div", { class: "panel reuse" },
      h("h2", null, "Reused passages, side by side"),
      h("p", { class: "note" }, "Left: this document. Right: the partner. ", h("span", { class: "key only" }, "Marked words"), " appear on one side only."),
      d.reuse.map((r) => h("section", { id: "reuse-" + r.partner },
        h("h3", null, h("a", { href: docLink(r.partner) }, r.partner_title || r.partner), " ", chip(r.partner_outlet), " ", h("span", { class: "muted" }, r.partner_published || "undated")),
        r.passages.map((p) => {
          const [left, right] = wordDiff(t.slice(p.start, p.end), p.partner_text || "");
          return h("div", null,
            h("div", { class: "pair-head" }, h("span", { class: "badge kind" }, p.kind), h("span", null, num(p.n_words) + " words · score " + (p.score !== null ? p.score.toFixed(2) : "?")),
              p.first ? h("span", null, p.first === "this" ? "this document came first" : "the partner came first") : null,
              h("a", { href: docLink(d.doc_id, p.start, p.end) }, "show here"), h("a", { href: docLink(r.partner, p.partner_start, p.partner_end) }, "show in partner")),
            h("div", { class: "pair" }, h("div", null, left), h("div", null, right)));
        }))));
  }

  /* Words on one side only, by a longest common subsequence of words (skipped for very long passages). */
  function wordDiff(a, b) {
    const split = (s) => s.match(/\s+|[^\s]+/g) || [];
    const ta = split(a), tb = split(b);
    const wa = ta.map((tok, i) => [tok, i]).filter(([tok]) => /\S/.test(tok));
    const wb = tb.map((tok, i) => [tok, i]).filter(([tok]) => /\S/.test(tok));
    const norm = (w) => w.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
    const keepA = new Set(), keepB = new Set();
    const n = wa.length, m = wb.length;
    if (n * m <= 2000000) {
      const table = new Uint32Array((n + 1) * (m + 1));
      for (let i = n - 1; i >= 0; i--) {
        for (let j = m - 1; j >= 0; j--) {
          table[i * (m + 1) + j] = norm(wa[i][0]) === norm(wb[j][0]) ? table[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1]);
        }
      }
      let i = 0, j = 0;
      while (i < n && j < m) {
        if (norm(wa[i][0]) === norm(wb[j][0])) { keepA.add(wa[i][1]); keepB.add(wb[j][1]); i++; j++; }
        else if (table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1]) i++;
        else j++;
      }
    } else {
      ta.forEach((_, i) => keepA.add(i));
      tb.forEach((_, i) => keepB.add(i));
    }
    const render = (tokens, keep) => {
      const frag = document.createDocumentFragment();
      tokens.forEach((tok, i) => frag.appendChild(/\S/.test(tok) && !keep.has(i) ? h("span", { class: "only" }, tok) : document.createTextNode(tok)));
      return frag;
    };
    return [render(ta, keepA), render(tb, keepB)];
  }

  // -- actors ------------------------------------------------------------------------------------------------

  async function viewActors(main, source, info, parts, params) {
    const actors = await source.actors();
    const selected = parts[1] || (actors[0] && actors[0].actor_id);
    const listBox = h("ul", { class: "actor-list" });
    const filter = h("input", { type: "search", placeholder: "Filter actors" });
    const fill = () => {
      clear(listBox);
      const needle = filter.value.toLowerCase();
      actors.filter((a) => !needle || (a.canonical || "").toLowerCase().includes(needle) || a.actor_id.includes(needle)).forEach((a) =>
        listBox.appendChild(h("li", null, h("a", { href: route(["actor", a.actor_id]), class: a.actor_id === selected ? "active" : null },
          h("span", null, a.canonical || a.actor_id), h("span", { class: "muted" }, num(a.mentions) + (a.labels ? " · " + num(a.labels) + " labels" : ""))))));
    };
    filter.addEventListener("input", fill);
    fill();
    const detail = h("div", null);
    append(main,
      h("h1", null, "Actors"),
      h("p", { class: "lead" }, "Who the corpus talks about, how often each outlet names them, and how each outlet labels them (the framing matrix)."),
      info.labels ? null : h("p", { class: "warn" }, "This store has no actor labels yet, so the framing matrices are empty: labels are found by `newstrace annotate`. The names each outlet uses are shown instead."),
      h("div", { class: "actors-layout" }, h("div", { class: "panel" }, filter, listBox), detail));
    if (!selected) return append(detail, h("p", { class: "muted" }, "No actor is mentioned in this store."));
    const found = await source.actor(selected);
    const summary = actors.find((a) => a.actor_id === selected);
    renderActor(detail, found, summary);
  }

  function renderActor(box, a, summary) {
    append(box, h("div", { class: "panel" },
      h("h2", null, a.canonical || a.actor_id),
      h("p", { class: "muted" }, (a.kind ? a.kind.replace("_", " ") + " · " : "") + "id ", h("code", null, a.actor_id),
        summary ? " · " + plural(summary.mentions, "mention") + " in " + plural(summary.documents, "document") : "")));
    const framing = h("div", { class: "panel framing" }, h("h3", null, "Framing: labels by outlet"));
    if (a.framing.length) {
      const example = h("div", null, h("p", { class: "note" }, "Click a count to see an example."));
      append(framing, matrix(a.framing.map((r) => [r.outlet, r.label, r.n, r]), (r) => {
        clear(example);
        append(example, h("div", { class: "example" }, "…" + r.before, h("mark", null, r.example), r.after + "…"),
          h("p", { class: "note" }, chip(r.outlet), " · ", h("a", { href: docLink(r.doc_id, r.start, r.end) }, "open the document")));
      }), example);
    } else append(framing, h("p", { class: "muted" }, "No labels for this actor in the store."));
    append(box, framing);
    if (summary && summary.outlets.length) {
      const most = d3.max(summary.outlets, (o) => o[1]);
      append(box, h("div", { class: "panel" }, h("h3", null, "Mentions by outlet"),
        table(["Outlet", { text: "Mentions", cls: "num" }, ""], summary.outlets.map(([o, n]) => {
          const bar = h("span", { class: "bar" });
          bar.style.setProperty("width", Math.max(2, (160 * n) / most) + "px");
          bar.style.setProperty("background", colour(o));
          return h("tr", null, h("td", null, chip(o)), h("td", { class: "num" }, num(n)), h("td", null, bar));
        }))));
    }
    if (a.names.length) append(box, h("div", { class: "panel" }, h("h3", null, "Names used, by outlet"), matrix(a.names.map(([o, name, n]) => [o, name, n, null]), null)));
  }

  /* A rows × columns table of counts (rows: outlets), shaded by count; `pick` receives a cell's payload. */
  function matrix(cells, pick) {
    const rows = [...new Set(cells.map((c) => c[0]))];
    const totals = d3.rollup(cells, (cs) => d3.sum(cs, (c) => c[2]), (c) => c[1]);
    const cols = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a)).slice(0, 30);
    const at = new Map(cells.map((c) => [c[0] + "\u0000" + c[1], c]));
    const shade = d3.scaleSequential(d3.interpolateBlues).domain([0, d3.max(cells, (c) => c[2]) || 1]);
    let selected = null;
    return h("div", { class: "matrix" }, h("table", null,
      h("thead", null, h("tr", null, h("th", null, "Outlet"), cols.map((c) => h("th", { class: "col", title: c }, c)))),
      h("tbody", null, rows.map((r) => h("tr", null, h("td", null, chip(r)), cols.map((c) => {
        const cell = at.get(r + "\u0000" + c);
        if (!cell) return h("td", { class: "cell empty" }, "·");
        const td = h("td", { class: "cell", title: r + " · " + c + ": " + cell[2] }, num(cell[2]));
        td.style.setProperty("background", shade(cell[2] * 0.8));
        td.style.setProperty("color", cell[2] / (d3.max(cells, (x) => x[2]) || 1) > 0.6 ? "#fff" : "#1d2330");
        if (pick && cell[3]) td.addEventListener("click", () => {
          if (selected) selected.classList.remove("selected");
          selected = td;
          td.classList.add("selected");
          pick(cell[3]);
        });
        return td;
      }))))));
  }

  // -- map ---------------------------------------------------------------------------------------------------

  async function viewMap(main, source, info) {
    const [found, world] = await Promise.all([source.places(), source.world()]);
    const places = found.places;
    const docs = found.documents;
    const side = h("div", { class: "panel side-list" }, h("h3", null, "Places"), h("p", { class: "note" }, "Click a circle to list the documents that mention the place. Scroll to zoom, drag to pan."));
    const mapBox = h("div", { class: "map", id: "map" });
    const tools = h("div", { class: "map-tools" });
    append(main,
      h("h1", null, "Map"),
      h("p", { class: "lead" }, plural(places.length, "geocoded place") + "; circle area grows with the number of mentions."),
      h("div", { class: "map-layout" }, h("div", null, tools, mapBox), side),
      placeTable(places));
    const width = Math.max(480, mapBox.clientWidth || 800), height = Math.round(width * 0.56);
    const land = topojson.feature(world, world.objects.countries);
    const projection = d3.geoNaturalEarth1();
    let fine = null;
    const fitPlaces = () => {
      if (!places.length) return projection.fitExtent([[8, 8], [width - 8, height - 8]], { type: "Sphere" });
      // Frame where nearly all mentions are (weighted 2.5th to 97.5th percentiles), so that one stray place far away
      // does not shrink the rest to a dot.
      const [x0, x1] = [weightedQuantile(places, (p) => p.lon, 0.025), weightedQuantile(places, (p) => p.lon, 0.975)];
      const [y0, y1] = [weightedQuantile(places, (p) => p.lat, 0.025), weightedQuantile(places, (p) => p.lat, 0.975)];
      const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, rx = Math.max(1.5, (x1 - x0) / 2 * 1.3), ry = Math.max(1, (y1 - y0) / 2 * 1.3);
      const box = { type: "MultiPoint", coordinates: [[cx - rx, cy - ry], [cx + rx, cy + ry], [cx - rx, cy + ry], [cx + rx, cy - ry]] };
      // A finer graticule around a small region, so that a close view still shows where it is.
      const step = rx < 10 ? 1 : rx < 30 ? 5 : null;
      if (step) fine = d3.geoGraticule().step([step, step]).extent([[Math.floor(cx - 4 * rx - 10), Math.max(-85, Math.floor(cy - 4 * ry - 10))], [Math.ceil(cx + 4 * rx + 10), Math.min(85, Math.ceil(cy + 4 * ry + 10))]])();
      return projection.fitExtent([[30, 30], [width - 30, height - 30]], box);
    };
    fitPlaces();
    const path = d3.geoPath(projection);
    const svg = d3.create("svg").attr("viewBox", [0, 0, width, height]).attr("height", height).attr("class", "map-svg");
    const g = svg.append("g");
    g.append("path").attr("class", "graticule").attr("d", path(d3.geoGraticule10()));
    if (fine) g.append("path").attr("class", "graticule fine").attr("d", path(fine));
    g.append("path").attr("class", "land").attr("d", path(land));
    const r = d3.scaleSqrt().domain([0, d3.max(places, (p) => p.mentions) || 1]).range([0, 20]);
    let k = 1;
    const circles = g.append("g").selectAll("circle").data(places).join("circle")
      .attr("class", "place").attr("data-place", (p) => p.place_id)
      .attr("cx", (p) => projection([p.lon, p.lat])[0]).attr("cy", (p) => projection([p.lon, p.lat])[1])
      .attr("r", (p) => Math.max(3, r(p.mentions)))
      .on("click", (event, p) => { circles.classed("selected", (q) => q === p); showPlace(p); });
    circles.append("title").text((p) => p.name + (p.country ? " (" + p.country + ")" : "") + ": " + plural(p.mentions, "mention") + " in " + plural(p.documents, "document"));
    const names = g.append("g").selectAll("text").data(places.slice(0, 30)).join("text").attr("class", "place-name")
      .attr("x", (p) => projection([p.lon, p.lat])[0] + Math.max(3, r(p.mentions)) + 3).attr("y", (p) => projection([p.lon, p.lat])[1]).attr("dy", "0.35em").text((p) => p.name);
    // Names of the most mentioned places first; a name that would overlap one already shown is hidden.
    const declutter = (transform) => {
      const shown = [];
      names.each(function (p) {
        const [x, y] = transform.apply(projection([p.lon, p.lat]));
        const left = x + Math.max(3, r(p.mentions)) + 3;
        const box = [left, y - 7, left + this.getComputedTextLength() * (11 / (parseFloat(this.getAttribute("font-size")) || 11)), y + 7];
        const hidden = shown.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3]);
        this.setAttribute("visibility", hidden ? "hidden" : "visible");
        if (!hidden) shown.push(box);
      });
    };
    // An inset world map with the frame of the main view, so that a close view still says where it is.
    const inset = d3.geoNaturalEarth1().fitExtent([[2, 2], [168, 86]], { type: "Sphere" });
    const insetPath = d3.geoPath(inset);
    const insetSvg = d3.create("svg").attr("class", "inset").attr("width", 170).attr("height", 88);
    insetSvg.append("path").attr("class", "inset-sea").attr("d", insetPath({ type: "Sphere" }));
    insetSvg.append("path").attr("class", "inset-land").attr("d", insetPath(land));
    const frame = insetSvg.append("path").attr("class", "inset-frame");
    const showFrame = (transform) => {
      // The view's edges, sampled, as longitudes and latitudes; no frame once the view is most of the world.
      const edge = [];
      for (let i = 0; i <= 12; i++) {
        const f = i / 12;
        edge.push([f * width, 0], [width, f * height], [(1 - f) * width, height], [0, (1 - f) * height]);
      }
      const order = [0, 1, 2, 3].flatMap((side) => d3.range(13).map((i) => edge[i * 4 + side]));
      const geo = order.map((p) => projection.invert(transform.invert(p)));
      const valid = geo.every((c) => c && Number.isFinite(c[0]) && Number.isFinite(c[1]));
      if (!valid || d3.max(geo, (c) => c[0]) - d3.min(geo, (c) => c[0]) > 180) return frame.attr("d", null);
      const points = geo.map((c) => inset(c));
      if (d3.max(points, (p) => p[0]) - d3.min(points, (p) => p[0]) < 6) {
        const [cx, cy] = inset(projection.invert(transform.invert([width / 2, height / 2])));
        return frame.attr("d", "M" + (cx - 4) + "," + (cy - 4) + "h8v8h-8Z");
      }
      return frame.attr("d", "M" + points.map((p) => p.join(",")).join("L") + "Z");
    };
    const zoom = d3.zoom().scaleExtent([0.2, 60]).on("zoom", (event) => {
      showFrame(event.transform);
      k = event.transform.k;
      g.attr("transform", event.transform);
      circles.attr("r", (p) => Math.max(3, r(p.mentions)) / k);
      names.attr("font-size", 11 / k).attr("stroke-width", 3 / k).attr("x", (p) => projection([p.lon, p.lat])[0] + (Math.max(3, r(p.mentions)) + 3) / k);
      declutter(event.transform);
    });
    svg.call(zoom);
    append(tools,
      h("button", { type: "button", onclick: () => svg.transition().call(zoom.transform, d3.zoomIdentity) }, "Fit places"),
      h("button", { type: "button", onclick: () => {
        const sphere = d3.geoPath(projection).bounds({ type: "Sphere" });
        const scale = Math.min(width / (sphere[1][0] - sphere[0][0]), height / (sphere[1][1] - sphere[0][1]));
        svg.transition().call(zoom.transform, d3.zoomIdentity.translate(width / 2, height / 2).scale(scale).translate(-(sphere[0][0] + sphere[1][0]) / 2, -(sphere[0][1] + sphere[1][1]) / 2));
      } }, "Whole world"));
    append(mapBox, svg.node(), insetSvg.node());
    declutter(d3.zoomIdentity);
    showFrame(d3.zoomIdentity);
    const listBox = h("div", null);
    append(side, listBox);
    function showPlace(p) {
      clear(listBox);
      append(listBox, h("h3", null, p.name), h("p", { class: "muted" }, (p.country ? p.country + " · " : "") + plural(p.mentions, "mention") + " in " + plural(p.documents, "document")),
        h("ul", null, p.docs.slice(0, 100).map((id) => {
          const d = docs[id] || {};
          return h("li", null, h("a", { href: docLink(id) }, d.title || id), h("div", { class: "note" }, chip(d.outlet), " " + (d.published || "undated")));
        })), p.docs.length > 100 ? h("p", { class: "note" }, "First 100 of " + p.docs.length + ".") : null);
    }
    if (places.length) showPlace(places[0]);
  }

  function placeTable(places) {
    const body = h("tbody");
    const more = h("p");
    const show = (n) => {
      clear(body);
      places.slice(0, n).forEach((p) => body.appendChild(h("tr", null, h("td", null, p.name), h("td", null, p.country || ""), h("td", { class: "mono" }, p.lat.toFixed(2) + ", " + p.lon.toFixed(2)), h("td", { class: "num" }, num(p.mentions)), h("td", { class: "num" }, num(p.documents)))));
      clear(more);
      if (places.length > n) append(more, h("button", { type: "button", onclick: () => show(places.length) }, "Show all " + num(places.length) + " places"));
    };
    show(50);
    return h("div", { class: "panel" }, h("h2", null, "Places by mentions"),
      h("table", null, h("thead", null, h("tr", null, ["Place", "Country", "Lat, lon"].map((x) => h("th", null, x)), h("th", { class: "num" }, "Mentions"), h("th", { class: "num" }, "Documents"))), body), more);
  }

  function weightedQuantile(places, value, q) {
    const sorted = places.slice().sort((a, b) => value(a) - value(b));
    const total = d3.sum(sorted, (p) => p.mentions);
    let seen = 0;
    for (const p of sorted) {
      seen += p.mentions;
      if (seen >= q * total) return value(p);
    }
    return value(sorted[sorted.length - 1]);
  }

  // -- search ------------------------------------------------------------------------------------------------

  function withMatch(text, needle) {
    const lowerText = text.toLowerCase(), n = needle.toLowerCase();
    const out = [];
    let at = 0, i;
    while (n && (i = lowerText.indexOf(n, at)) >= 0) {
      out.push(text.slice(at, i), h("mark", null, text.slice(i, i + n.length)));
      at = i + n.length;
    }
    out.push(text.slice(at));
    return out;
  }

  async function viewSearch(main, source, info, params) {
    const q = params.get("q") || "";
    document.getElementById("search-input").value = q;
    const found = await source.search(q);
    append(main, h("h1", null, "Search"),
      q ? h("p", { class: "lead" }, plural(found.n_claims, "claim") + " and " + plural(found.n_documents, "document") + " contain “" + q + "”.") : h("p", { class: "lead" }, "Type words in the search box above to find claims and documents."));
    if (!q) return;
    append(main,
      h("div", { class: "panel" }, h("h2", null, "Claims"),
        found.claims.map((c) => h("div", { class: "hit" },
          h("div", { class: "meta" }, h("b", null, c.published || "undated"), chip(c.outlet), roleBadge(c.chain_role), c.attributed ? h("span", null, "source: " + (c.source_text || "unnamed")) : h("span", { class: "badge voice" }, "own voice")),
          h("div", null, withMatch(c.text, q)),
          h("div", { class: "note" }, h("a", { href: docLink(c.doc_id, c.start, c.end) }, "document"), c.recurring ? [" · ", h("a", { href: narrativeLink(c.narrative_id, c.claim_id) }, "narrative")] : null))),
        found.n_claims > found.claims.length ? h("p", { class: "note" }, "First " + found.claims.length + " of " + num(found.n_claims) + ".") : null),
      h("div", { class: "panel" }, h("h2", null, "Documents"),
        found.documents.map((d) => h("div", { class: "hit" },
          h("div", null, h("a", { href: docLink(d.doc_id) }, d.title || d.doc_id)),
          h("div", { class: "meta" }, chip(d.outlet), d.published || "undated"),
          d.snippet ? h("div", { class: "note" }, "…" + d.snippet[0], h("mark", null, d.snippet[1]), d.snippet[2] + "…") : null)),
        found.n_documents > found.documents.length ? h("p", { class: "note" }, "First " + found.documents.length + " of " + num(found.n_documents) + ".") : null));
  }

  // -- the app -----------------------------------------------------------------------------------------------

  const VIEWS = {
    "": (main, source, info) => viewOverview(main, source, info),
    narratives: (main, source, info, parts, params) => viewNarratives(main, source, info, params),
    narrative: viewNarrative,
    documents: (main, source, info, parts, params) => viewDocuments(main, source, info, params),
    document: viewDocument,
    actors: viewActors,
    actor: viewActors,
    map: (main, source, info) => viewMap(main, source, info),
    search: (main, source, info, parts, params) => viewSearch(main, source, info, params),
  };
  const NAV_OF = { "": "", narratives: "narratives", narrative: "narratives", documents: "documents", document: "documents", actors: "actors", actor: "actors", map: "map", search: "search" };

  async function start() {
    const embedded = document.getElementById("newstrace-data");
    const source = embedded ? StaticSource(JSON.parse(embedded.textContent)) : ApiSource("");
    const main = document.getElementById("view");
    let info;
    try {
      info = await source.overview();
    } catch (error) {
      append(clear(main), h("p", { class: "warn" }, "Could not read the store: " + error.message));
      return;
    }
    setOutlets(info.outlets);
    document.title = info.title;
    document.getElementById("brand-title").textContent = info.title;
    document.getElementById("search").addEventListener("submit", (event) => {
      event.preventDefault();
      location.hash = route(["search"], { q: document.getElementById("search-input").value });
    });
    let current = 0;
    const render = async () => {
      const ticket = ++current;
      const { parts, params } = parseHash();
      const name = parts[0] || "";
      const view = VIEWS[name] || VIEWS[""];
      for (const a of document.querySelectorAll(".topbar nav a")) a.classList.toggle("active", a.dataset.view === NAV_OF[name]);
      // Each view draws into its own container, attached at once so that it can measure its width; a view
      // overtaken by a later navigation draws into a detached container that is never shown.
      const target = h("div");
      const loading = h("p", { class: "loading" }, "Loading…");
      append(clear(main), loading, target);
      try {
        await view(target, source, info, parts, params);
      } catch (error) {
        console.error(error);
        if (ticket === current) append(clear(target), h("p", { class: "warn" }, error.message));
      }
      if (ticket !== current) return;
      loading.remove();
      if (!params.has("s") && !params.has("claim")) window.scrollTo(0, 0);
      main.dataset.ready = name || "overview";
    };
    window.addEventListener("hashchange", render);
    await render();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
