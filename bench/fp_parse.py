#!/usr/bin/python3
"""fp_parse.py — Python feedparser over many feed files in one process.

    fp_parse.py FILE...              prints "files N items M bytes B"
    fp_parse.py --truth T FILE...    also checks the corpus against T
                                     (truth.jsonl): same items, same ids,
                                     and the keywords a reference matcher
                                     finds in feedparser's title + summary

Run it with Debian's /usr/bin/python3 (python3-feedparser). The --truth mode
is the corpus's independent check: a parser that is not vigie reads the
generated files and must see what the generator says it wrote.
"""
import html
import json
import os
import re
import sys

import feedparser

BLOCK = re.compile(r"</?(?:p|br|div|li|ul|ol|blockquote|h[1-6]|img|tr|td)"
                   r"\b[^>]*>", re.I)
TAG = re.compile(r"<[^>]*>")


def plain(s):
    """HTML to text the way DESIGN.md says: block tags are spaces, inline
    tags nothing, entities decoded."""
    return html.unescape(TAG.sub("", BLOCK.sub(" ", s)))


def main():
    args = sys.argv[1:]
    truth = None
    if args[:1] == ["--truth"]:
        truth, args = args[1], args[2:]
    files, items, nbytes = 0, 0, 0
    rows = []
    for path in args:
        with open(path, "rb") as f:
            data = f.read()
        d = feedparser.parse(data)
        files += 1
        nbytes += len(data)
        items += len(d.entries)
        if truth:
            for e in d.entries:
                rows.append((path, e.get("id", ""), e.get("title", ""),
                             e.get("summary", ""), d.bozo))
    print("files %d items %d bytes %d" % (files, items, nbytes))
    if not truth:
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gen_corpus import KEYWORDS_50, RefMatcher
    refs = RefMatcher(KEYWORDS_50)
    want = [json.loads(l) for l in open(truth, encoding="utf-8")]
    root = os.path.dirname(os.path.abspath(truth))
    given = {os.path.abspath(p) for p in args}
    want = [w for w in want if os.path.join(root, w["file"]) in given]
    if len(want) != len(rows):
        print("items: truth %d, feedparser %d" % (len(want), len(rows)))
    ids = kw_ok = bozo = 0
    diffs, iddiffs = [], []
    for w, (path, eid, title, summary, bz) in zip(want, rows):
        bozo += bool(bz)
        ids += (eid == w["id"])
        if eid != w["id"] and len(iddiffs) < 3:
            iddiffs.append((w["file"], w["id"], eid))
        got = refs.match(plain(title) + "\n" + plain(summary))
        if sorted(got) == sorted(w["keywords"]):
            kw_ok += 1
        elif len(diffs) < 10:
            diffs.append((w["file"], w["id"], w["keywords"], got, w["forms"],
                          title, summary))
    print("truth check: %d items, %d same id, %d same keywords, %d bozo" % (
        len(rows), ids, kw_ok, bozo))
    for d in iddiffs:
        print("  id differs: %s truth=%r feedparser=%r" % d)
    for d in diffs:
        print("  differs: %s %s truth=%r feedparser=%r forms=%r\n"
              "    title=%r\n    summary=%r" % d)


if __name__ == "__main__":
    main()
