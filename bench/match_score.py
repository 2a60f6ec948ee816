#!/usr/bin/python3
"""match_score.py — recall and precision of match.sh's end-to-end tools
against the corpus generator's ground truth (truth.jsonl, keywords-50).

    match_score.py --truth T --keywords K --bytes B --speed S --out DIR
                   [--vigie V.jsonl] [--grep TSV LINES ONLY] [--fp F.jsonl]

  --vigie   `vigie test` output: one JSON action a line; alerts carry
            item.id and payload.keywords. Scored per (item, keyword).
  --grep    sfeed's TSV (line N is the corpus's item N), `grep -n` of it
            (the lines grep selected) and `grep -n -o` (what it matched,
            leftmost-longest, non-overlapping, as grep -o prints it).
            Scored per item (a line selected or not) and per (item,
            keyword), the keyword being the list entry equal, ignoring
            case, to the matched text.
  --fp      fp_match.py output: one line per item, in corpus order.
  --speed   lines "KEY<TAB>WALL<TAB>CPU<TAB>RSS_KiB<TAB>TOOL<TAB>HOW".

Writes DIR/table.md (speed and accuracy, one row per tool), DIR/forms.md
(recall per writing form), DIR/misses.md (vigie's misses and false hits,
the grep match summary) and prints nothing else but warnings on stderr.

Forms: truth.jsonl gives each item the forms its planted keywords were
written in, not which keyword had which form; a (item, keyword) pair is
attributed to a form only when every keyword of the item was planted in
that one form (a keyword inside another, "Belgrade" in "Dialogue
Belgrade-Pristina", shares its form). That covers about a third of the
pairs; the "all items" row covers every pair.
"""
import argparse
import json
import sys


def load_truth(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            rows.append(t)
    return rows


class Score:
    def __init__(self, truth):
        self.truth = truth
        self.tp = self.fn = self.fp = 0
        self.itp = self.ifn = self.ifp = 0
        self.form_n, self.form_hit = {}, {}
        self.misses, self.false = [], []

    def item(self, t, got):
        """got: the set of keywords the tool reports for truth row t."""
        want = set(t["keywords"])
        forms = set(t["forms"])
        one = next(iter(forms)) if len(forms) == 1 else None
        for k in want:
            hit = k in got
            self.tp += hit
            self.fn += not hit
            for f in ("*", one):
                if f:
                    self.form_n[f] = self.form_n.get(f, 0) + 1
                    self.form_hit[f] = self.form_hit.get(f, 0) + hit
            if not hit:
                self.misses.append((t["id"], k, ",".join(t["forms"])))
        for k in sorted(got - want):
            self.fp += 1
            self.false.append((t["id"], k, ",".join(t["decoys"]) or "-"))

    def item_level(self, t, selected):
        want = bool(t["keywords"])
        self.itp += want and selected
        self.ifn += want and not selected
        self.ifp += selected and not want

    @staticmethod
    def ratio(a, b):
        return "%.4f" % (a / b) if b else "-"

    def recall(self):
        return self.ratio(self.tp, self.tp + self.fn)

    def precision(self):
        return self.ratio(self.tp, self.tp + self.fp)

    def irecall(self):
        return self.ratio(self.itp, self.itp + self.ifn)

    def iprecision(self):
        return self.ratio(self.itp, self.itp + self.ifp)


def check_ids(name, truth, ids, warn):
    """ids: one per item in corpus order, '' where the tool has none."""
    if len(ids) != len(truth):
        warn("%s: %d items, truth has %d" % (name, len(ids), len(truth)))
    bad = [(t["id"], i) for t, i in zip(truth, ids) if i and i != t["id"]]
    if bad:
        warn("%s: %d item ids differ from truth's (order), e.g. %r" %
             (name, len(bad), bad[0]))
    return len(bad)


def score_vigie(path, truth, warn):
    by_id = {t["id"]: t for t in truth}
    got = {}
    unknown = errors = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            a = json.loads(line)
            if a.get("action") == "error":
                errors += 1
                continue
            if a.get("action") != "alert":
                continue
            iid = (a.get("item") or {}).get("id", "")
            if iid not in by_id:
                unknown += 1
                continue
            kws = (a.get("payload") or {}).get("keywords", [])
            got.setdefault(iid, set()).update(kws)
    if unknown:
        warn("vigie: %d alerts for ids not in truth" % unknown)
    if errors:
        warn("vigie: %d error actions" % errors)
    s = Score(truth)
    for t in truth:
        g = got.get(t["id"], set())
        s.item(t, g)
        s.item_level(t, bool(g))
    return s


def score_grep(tsv, lines, only, truth, keywords, warn):
    ids = []
    with open(tsv, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            ids.append(fields[5] if len(fields) > 5 else "")
    check_ids("sfeed", truth, ids, warn)
    selected = set()
    with open(lines, encoding="utf-8", errors="replace") as f:
        for line in f:
            selected.add(int(line.split(":", 1)[0]))
    fold = {}
    for k in keywords:
        fold.setdefault(k.casefold(), k)
        fold.setdefault(k.lower(), k)
    got, unmapped, nmatch = {}, {}, 0
    with open(only, encoding="utf-8", errors="replace") as f:
        for line in f:
            n, _, text = line.rstrip("\n").partition(":")
            nmatch += 1
            k = fold.get(text.casefold()) or fold.get(text.lower())
            if k is None:
                unmapped[text] = unmapped.get(text, 0) + 1
                continue
            got.setdefault(int(n), set()).add(k)
    if unmapped:
        warn("grep -o: %d matches not equal to a keyword ignoring case: %r" %
             (sum(unmapped.values()), sorted(unmapped)[:5]))
    s = Score(truth)
    for n, t in enumerate(truth, 1):
        s.item(t, got.get(n, set()))
        s.item_level(t, n in selected)
    s.grep_lines = len(selected)
    s.grep_matches = nmatch
    s.grep_selected_true = s.itp
    return s


def score_fp(path, truth, warn):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
    check_ids("feedparser", truth, [r["id"] for r in rows], warn)
    s = Score(truth)
    for t, r in zip(truth, rows):
        g = set(r["keywords"])
        s.item(t, g)
        s.item_level(t, bool(g))
    return s


def fmt(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", required=True)
    ap.add_argument("--keywords", required=True)
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--speed", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vigie")
    ap.add_argument("--grep", nargs=3)
    ap.add_argument("--fp")
    o = ap.parse_args()

    def warn(msg):
        print("match_score: " + msg, file=sys.stderr)
        warnings.append(msg)

    warnings = []
    truth = load_truth(o.truth)
    with open(o.keywords, encoding="utf-8") as f:
        keywords = [l.strip() for l in f if l.strip()]
    speed = {}
    with open(o.speed, encoding="utf-8") as f:
        for line in f:
            key, wall, cpu, rss, tool, how = line.rstrip("\n").split("\t")
            speed[key] = (float(wall), float(cpu), int(rss), tool, how)

    scores = {}
    if o.vigie:
        scores["vigie"] = score_vigie(o.vigie, truth, warn)
    if o.grep:
        scores["grep"] = score_grep(*o.grep, truth, keywords, warn)
    if o.fp:
        scores["fp"] = score_fp(o.fp, truth, warn)

    mb = o.bytes / 1e6
    with open(o.out + "/table.md", "w", encoding="utf-8") as out:
        out.write("| tool | invocation | wall s | CPU s | MB/s | MB per CPU s"
                  " | peak RSS MiB | recall | precision | item recall"
                  " | item precision |\n")
        out.write("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: "
                  "| ---: | ---: | ---: |\n")
        for key in ("vigie", "grep", "fp"):
            if key not in speed:
                continue
            wall, cpu, rss, tool, how = speed[key]
            s = scores.get(key)
            acc = ([s.recall(), s.precision(), s.irecall(), s.iprecision()]
                   if s else ["-"] * 4)
            out.write("| %s | %s | %.3f | %.3f | %s | %s | %s | %s |\n" % (
                tool, how, wall, cpu, fmt(mb / wall), fmt(mb / cpu),
                fmt(rss / 1024), " | ".join(acc)))

    names = {"vigie": "vigie", "grep": "sfeed + grep", "fp": "feedparser + re"}
    keys = [k for k in ("vigie", "grep", "fp") if k in scores]
    forms = sorted({f for s in scores.values() for f in s.form_n
                    if f != "*"})
    with open(o.out + "/forms.md", "w", encoding="utf-8") as out:
        out.write("| form | pairs | " + " | ".join(names[k] for k in keys) +
                  " |\n")
        out.write("| --- | ---: |" + " ---: |" * len(keys) + "\n")
        for f in forms + ["*"]:
            n = max(scores[k].form_n.get(f, 0) for k in keys)
            cells = [Score.ratio(scores[k].form_hit.get(f, 0),
                                 scores[k].form_n.get(f, 0)) for k in keys]
            out.write("| %s | %d | %s |\n" % (
                "all items (every pair)" if f == "*" else f, n,
                " | ".join(cells)))

    with open(o.out + "/misses.md", "w", encoding="utf-8") as out:
        if "grep" in scores:
            g = scores["grep"]
            out.write(
                "- grep selected %d of %d sfeed lines (%d of them items with"
                " a keyword, of %d such items); `grep -o` printed %d"
                " matches; per (item, keyword): %d found, %d missed, %d"
                " false.\n" % (g.grep_lines, len(truth), g.grep_selected_true,
                              g.itp + g.ifn, g.grep_matches, g.tp, g.fn,
                              g.fp))
        if "fp" in scores:
            p = scores["fp"]
            out.write("- feedparser + re: per (item, keyword) %d found, %d"
                      " missed, %d false.\n" % (p.tp, p.fn, p.fp))
        if "vigie" in scores:
            v = scores["vigie"]
            out.write("- vigie: per (item, keyword) %d found, %d missed, %d"
                      " false.\n" % (v.tp, v.fn, v.fp))
        for w in warnings:
            out.write("- warning: %s\n" % w)
        if "vigie" in scores:
            for what, rows, col in (("misses", v.misses, "forms"),
                                    ("false hits", v.false, "decoys")):
                if not rows:
                    continue
                out.write("\nvigie's %s (%d; the first 50):\n\n"
                          "| item id | keyword | item's %s |\n"
                          "| --- | --- | --- |\n" % (what, len(rows), col))
                for r in rows[:50]:
                    out.write("| %s | %s | %s |\n" % r)


if __name__ == "__main__":
    main()
