#!/usr/bin/env python3
"""Consistency checker for the newstrace demo corpus (stdlib only).

Usage:  python3 examples/check_ground_truth.py   (from the repo root or anywhere)

Verifies that examples/ground_truth.json matches the files under examples/corpus:
  * every referenced path exists (``file.jsonl#N`` = line N, 1-based);
  * every quoted string ("text", "quote", "lines", ...) occurs verbatim in its
    document (txt: raw file; jsonl: the record's "text"; html: the raw file after
    html.unescape, or its tag-stripped text);
  * document metadata (title/outlet/date) agrees with front matter, sidecar
    JSON, JSONL fields or HTML <meta> tags where the document has them;
  * every weekday/date in dates_in_text is consistent, and every
    "Weekday, Month Day" written anywhere in the corpus is correct for the
    article's year;
  * duplicate pairs have identical text;
  * corpus-level requirements (>= 30 documents, narrative spread, recycled
    paragraph limits, outlet footer frequency, article length, coordinates).
Exits with status 1 if any check fails.
"""

import calendar
import datetime as dt
import difflib
import html
import json
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
GT_PATH = os.path.join(HERE, "ground_truth.json")

MONTHS = {m: i for i, m in enumerate(calendar.month_name) if m}
WEEKDAYS = {d: i for i, d in enumerate(calendar.day_name)}
MONTH_RE = "|".join(MONTHS)
WEEKDAY_RE = "|".join(WEEKDAYS)

errors = []
notes = []


def fail(msg):
    errors.append(msg)


# --------------------------------------------------------------------------- loading
_jsonl_cache = {}


def jsonl_records(path):
    if path not in _jsonl_cache:
        with open(os.path.join(HERE, path), encoding="utf-8") as f:
            _jsonl_cache[path] = [json.loads(ln) for ln in f if ln.strip()]
    return _jsonl_cache[path]


def split_ref(ref):
    if "#" in ref:
        p, n = ref.rsplit("#", 1)
        return p, int(n)
    return ref, None


def exists(ref):
    p, n = split_ref(ref)
    full = os.path.join(HERE, p)
    if not os.path.isfile(full):
        return False
    if n is not None:
        return 1 <= n <= len(jsonl_records(p))
    return True


def raw_text(ref):
    """The text a quoted string is searched in (list of candidate strings)."""
    p, n = split_ref(ref)
    if n is not None:
        return [jsonl_records(p)[n - 1]["text"]]
    with open(os.path.join(HERE, p), encoding="utf-8") as f:
        raw = f.read()
    if p.endswith(".html"):
        stripped = html.unescape(re.sub(r"<[^>]+>", "", raw))
        return [html.unescape(raw), stripped]
    return [raw]


def body_text(ref):
    """Article text only (for word counts and date scanning)."""
    p, n = split_ref(ref)
    if n is not None:
        return jsonl_records(p)[n - 1]["text"]
    raw = raw_text(ref)[0]
    if p.endswith(".html"):
        m = re.search(r"<article.*?</article>", raw, re.S)
        paras = re.findall(r"<p[^>]*>(.*?)</p>", m.group(0) if m else "", re.S)
        return "\n\n".join(html.unescape(re.sub(r"<[^>]+>", "", x)) for x in paras)
    return raw


def contains(ref, s):
    return any(s in t for t in raw_text(ref))


def metadata(ref):
    """Metadata the document itself carries (may be empty)."""
    p, n = split_ref(ref)
    full = os.path.join(HERE, p)
    if n is not None:
        r = jsonl_records(p)[n - 1]
        return {k: r.get(k) for k in ("title", "outlet", "date", "url")}
    raw = raw_text(ref)[0]
    if p.endswith(".html"):

        def meta(prop):
            m = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)"', raw)
            return html.unescape(m.group(1)) if m else None

        canon = re.search(r'<link rel="canonical" href="([^"]*)"', raw)
        return {
            "title": meta("og:title"),
            "outlet": meta("og:site_name"),
            "date": meta("article:published_time"),
            "url": html.unescape(canon.group(1)) if canon else None,
        }
    md = {}
    if raw.startswith("---\n"):
        block = raw[4 : raw.index("\n---\n", 4)]
        for line in block.splitlines():
            k, _, v = line.partition(":")
            md[k.strip()] = v.strip()
    side = os.path.splitext(full)[0] + ".json"
    if os.path.isfile(side):
        with open(side, encoding="utf-8") as f:
            md.update(json.load(f))
    return md


# --------------------------------------------------------------------------- checks
def check_strings(gt, docs):
    def need(ref, s, where):
        if ref not in docs:
            fail(f"{where}: path {ref} is not listed in documents")
        if not exists(ref):
            fail(f"{where}: path {ref} does not exist")
        elif not contains(ref, s):
            fail(f"{where}: string not found verbatim in {ref}: {s[:90]!r}")

    n = 0
    for nar in gt["narratives"]:
        f = nar["first"]
        for key in ("quote", "reported_speech"):
            if key in f:
                need(f["path"], f[key], f"narrative {nar['id']} first.{key}")
                n += 1
        for r in nar["repeats"]:
            need(r["path"], r["text"], f"narrative {nar['id']} repeat")
            n += 1
    for rp in gt["recycled_paragraphs"]:
        for p in rp["paths"]:
            need(p, rp["text"], "recycled_paragraphs")
            n += 1
    for section in (
        "dropped_attribution",
        "predictions",
        "labels",
        "attribution",
        "body_paragraph_samples",
        "dates_in_text",
    ):
        for item in gt.get(section, []):
            need(item["path"], item["text"], section)
            n += 1
    for b in gt["boilerplate"]:
        for line in b["lines"]:
            need(b["path"], line, "boilerplate")
            n += 1
        rt = b.get("repeated_title")
        if rt:
            text = raw_text(b["path"])[0]
            cnt = sum(1 for ln in text.splitlines() if ln.strip() == rt["text"])
            if cnt != rt["count"]:
                fail(f"boilerplate: title repeated {cnt}x in {b['path']}, expected {rt['count']}")
            n += 1
    notes.append(f"{n} quoted strings verified verbatim")

    # boilerplate lines must be whole lines in txt files
    for b in gt["boilerplate"]:
        p, num = split_ref(b["path"])
        if p.endswith(".txt"):
            lines = {ln.strip() for ln in raw_text(b["path"])[0].splitlines()}
            for line in b["lines"]:
                if line not in lines:
                    fail(f"boilerplate line is not a whole line in {p}: {line!r}")
        elif num is not None:
            lines = {ln.strip() for ln in raw_text(b["path"])[0].splitlines()}
            for line in b["lines"]:
                if line not in lines:
                    fail(f"boilerplate line is not a whole line in {b['path']}: {line!r}")

    # recycled paragraphs must be whole paragraphs, 40-80 words
    for rp in gt["recycled_paragraphs"]:
        wc = len(rp["text"].split())
        if not 40 <= wc <= 80:
            fail(f"recycled paragraph has {wc} words (want 40-80)")
        for p in rp["paths"]:
            paras = [x.strip() for x in re.split(r"\n\s*\n", body_text(p))]
            if rp["text"] not in paras:
                fail(f"recycled paragraph is not a whole paragraph in {p}")


def check_documents(gt):
    docs = {d["path"]: d for d in gt["documents"]}
    if len(docs) != len(gt["documents"]):
        fail("duplicate entries in documents")
    if len(docs) < 30:
        fail(f"only {len(docs)} documents (need >= 30)")
    outlets = {o["name"] for o in gt["outlets"]}
    for ref, d in docs.items():
        if not exists(ref):
            fail(f"document path does not exist: {ref}")
            continue
        if d["outlet"] not in outlets:
            fail(f"{ref}: unknown outlet {d['outlet']!r}")
        try:
            dt.date.fromisoformat(d["date"])
        except ValueError:
            fail(f"{ref}: bad date {d['date']!r}")
        md = metadata(ref)
        if md.get("title") and md["title"] != d["title"]:
            fail(f"{ref}: title {md['title']!r} != ground truth {d['title']!r}")
        if md.get("outlet") and md["outlet"] != d["outlet"]:
            fail(f"{ref}: outlet {md['outlet']!r} != ground truth {d['outlet']!r}")
        if md.get("date") and str(md["date"])[:10] != d["date"]:
            fail(f"{ref}: date {md['date']!r} != ground truth {d['date']!r}")
        if not md.get("title") and not contains(ref, d["title"]):
            fail(f"{ref}: title not found in text")
        if not md:
            lo, hi = d.get("date_range", [d["date"], d["date"]])
            if not lo <= d["date"] <= hi:
                fail(f"{ref}: date outside its date_range")
        wc = len(body_text(ref).split())
        if not 150 <= wc <= 650:
            fail(f"{ref}: {wc} words (want roughly 150-600)")
    # every corpus file is accounted for
    listed = {split_ref(r)[0] for r in docs}
    for root, _, files in os.walk(os.path.join(HERE, "corpus")):
        for fn in files:
            rel = os.path.relpath(os.path.join(root, fn), HERE).replace(os.sep, "/")
            if rel.endswith(".json") and os.path.isfile(os.path.join(HERE, rel[:-5] + ".txt")):
                continue  # sidecar
            if rel not in listed:
                fail(f"corpus file not listed in documents: {rel}")
            if rel.endswith(".jsonl"):
                for i in range(1, len(jsonl_records(rel)) + 1):
                    if f"{rel}#{i}" not in docs:
                        fail(f"jsonl record not listed in documents: {rel}#{i}")
    notes.append(f"{len(docs)} documents, {len(outlets)} outlets")
    return docs


def parse_value(v):
    parts = [int(x) for x in v.split("-")]
    return parts + [None] * (3 - len(parts))


def check_dates(gt, docs):
    for item in gt["dates_in_text"]:
        text, value, ref = item["text"], item["value"], item["path"]
        y, m, d = parse_value(value)
        wd = re.search(WEEKDAY_RE, text)
        mo = re.search(rf"({MONTH_RE})(?:\s+(\d{{1,2}})(?!\d)(?:st|nd|rd|th)?)?", text)
        yr = re.search(r"\b(19|20)\d\d\b", text)
        if wd:
            if d is None:
                fail(f"dates_in_text {text!r}: weekday given but value {value} is not a full date")
            elif dt.date(y, m, d).weekday() != WEEKDAYS[wd.group(0)]:
                fail(f"dates_in_text {text!r}: {value} is a {calendar.day_name[dt.date(y, m, d).weekday()]}")
            if not mo and ref in docs:
                delta = (dt.date(y, m, d) - dt.date.fromisoformat(docs[ref]["date"])).days
                if abs(delta) > 7:
                    fail(
                        f"dates_in_text {text!r}: relative weekday {value} is {delta} days from article date"
                    )
        if mo:
            if MONTHS[mo.group(1)] != m:
                fail(f"dates_in_text {text!r}: month does not match {value}")
            if mo.group(2) and int(mo.group(2)) != d:
                fail(f"dates_in_text {text!r}: day does not match {value}")
        if yr and int(yr.group(0)) != y:
            fail(f"dates_in_text {text!r}: year does not match {value}")
    notes.append(f"{len(gt['dates_in_text'])} dates_in_text entries consistent")

    # every "Weekday, Month Day" anywhere in the corpus must be right for the article year
    pat = re.compile(rf"({WEEKDAY_RE}),?\s+({MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,\s+(\d{{4}}))?")
    found = 0
    for ref, doc in docs.items():
        for m in pat.finditer(body_text(ref)):
            found += 1
            year = int(m.group(4)) if m.group(4) else int(doc["date"][:4])
            day = dt.date(year, MONTHS[m.group(2)], int(m.group(3)))
            if day.weekday() != WEEKDAYS[m.group(1)]:
                fail(
                    f"{ref}: {m.group(0)!r} is wrong for {year} (it is a {calendar.day_name[day.weekday()]})"
                )
    notes.append(f"{found} weekday+date expressions in the corpus are calendar-correct")


def check_duplicates(gt):
    for pair in gt["duplicates"]:
        texts = []
        for ref in pair:
            if split_ref(ref)[1] is not None:
                texts.append(jsonl_records(split_ref(ref)[0])[split_ref(ref)[1] - 1]["text"].encode())
            else:
                with open(os.path.join(HERE, ref), "rb") as f:
                    texts.append(f.read())
        if len(set(texts)) != 1:
            fail(f"duplicates differ: {pair}")
    notes.append(f"{len(gt['duplicates'])} duplicate pair(s) identical")


def check_syndication(gt):
    for s in gt["syndication"]:
        orig = body_text(s["original"]).strip()
        for c in s["copies"]:
            copy = body_text(c["path"])
            if c["kind"] == "verbatim":
                if orig not in copy:
                    fail(f"syndication: {c['path']} is not a verbatim copy of {s['original']}")
            else:
                ratio = difflib.SequenceMatcher(None, orig.split(), copy.split(), autojunk=False).ratio()
                notes.append(f"syndication: edited copy {c['path']} word-level similarity {ratio:.2f}")
                if not 0.6 <= ratio < 1.0:
                    fail(f"syndication: edited copy {c['path']} similarity {ratio:.2f} (want 0.6-1.0)")


def check_requirements(gt, docs):
    doc_outlet = {r: d["outlet"] for r, d in docs.items()}
    for nar in gt["narratives"]:
        refs = {nar["first"]["path"]} | {r["path"] for r in nar["repeats"]}
        in_docs = {r for r, d in docs.items() if d["narrative"] == nar["id"]}
        if refs - in_docs:
            fail(f"narrative {nar['id']}: repeats not tagged in documents: {sorted(refs - in_docs)}")
        first_date = docs[nar["first"]["path"]]["date"]
        if any(docs[r]["date"] < first_date for r in in_docs):
            fail(f"narrative {nar['id']}: a document predates the first occurrence")
        years = {docs[r]["date"][:4] for r in in_docs}
        outl = {doc_outlet[r] for r in in_docs}
        unattr = {r["path"] for r in nar["repeats"] if not r["attributed"]}
        notes.append(
            f"narrative {nar['id']}: {len(in_docs)} docs, {len(outl)} outlets, "
            f"years {min(years)}-{max(years)}, {len(unattr)} unattributed"
        )
        if nar["id"] == "staged-attack" and (
            len(in_docs) < 8 or len(outl) < 4 or len(years) < 4 or len(unattr) < 3
        ):
            fail("staged-attack narrative does not meet spread requirements")
    # recycled paragraphs: <= 3 articles per outlet
    for rp in gt["recycled_paragraphs"]:
        c = Counter(doc_outlet[p] for p in rp["paths"])
        if max(c.values()) > 3:
            fail(f"recycled paragraph used in >3 articles of one outlet: {c}")
        # and nowhere else in the corpus
        for ref in docs:
            if ref not in rp["paths"] and contains(ref, rp["text"]):
                fail(f"recycled paragraph also occurs in unlisted {ref}")
    # outlet-level footer lines: >= 6 articles of that outlet, present in all of them
    by_outlet = defaultdict(list)
    for b in gt["boilerplate"]:
        if b["level"] == "outlet":
            by_outlet[b["outlet"]].append(b)
    for outlet, bs in by_outlet.items():
        if len(bs) < 6:
            fail(f"outlet footer for {outlet} appears in only {len(bs)} documents")
        for ref, o in doc_outlet.items():
            listed = ref in {b["path"] for b in bs}
            if o == outlet and not listed and all(contains(ref, ln) for ln in bs[0]["lines"]):
                fail(f"{ref} carries the {outlet} footer but is not listed")
    # coordinates inside the invented sea box
    for pl in gt["places"]:
        if not (-42 <= pl["lat"] <= -38 and -30 <= pl["lon"] <= -24):
            fail(f"place {pl['name']} outside the invented box")
    # labels reference known actors and outlets
    actor_ids = {a["id"] for a in gt["actors"]}
    for ln in gt["labels"]:
        if ln["actor"] not in actor_ids:
            fail(f"label for unknown actor {ln['actor']}")
        if doc_outlet.get(ln["path"]) != ln["outlet"]:
            fail(f"label outlet mismatch for {ln['path']}")


def main():
    with open(GT_PATH, encoding="utf-8") as f:
        gt = json.load(f)
    docs = check_documents(gt)
    check_strings(gt, docs)
    check_dates(gt, docs)
    check_duplicates(gt)
    check_syndication(gt)
    check_requirements(gt, docs)
    for n in notes:
        print("ok  ", n)
    if errors:
        for e in errors:
            print("FAIL", e)
        print(f"\n{len(errors)} problem(s) found")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
