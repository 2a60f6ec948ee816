#!/usr/bin/python3
"""fp_match.py — the Python baseline for match.sh: feedparser + one regex.

    fp_match.py KEYWORDS FILE...   one JSON line per item, in file order:
                                   {"id": ..., "keywords": [...]}

What a careful Python user would write: feedparser parses each file; an
item's text is title + "\\n" + summary made plain (fp_parse.plain: block
tags are spaces, inline tags nothing, entities decoded) and folded with
unicodedata only (NFKD, combining marks dropped, casefold; no table for
letters that do not decompose, such as đ or ł). The keywords are folded the
same way and compiled into ONE alternation, re.I, longest first, each
keyword's words re.escape'd and joined by \\W+ (so "Balkans occidentaux"
also finds a line break or a hyphen between the words), with \\b on both
sides. The alternation sits in a lookahead, \\b(?=(...)\\b), so that a
keyword inside another ("Belgrade" in "Dialogue Belgrade-Pristina") is
found at its own word start. Run it with Debian's /usr/bin/python3
(python3-feedparser).
"""
import json
import os
import re
import sys
import unicodedata

import feedparser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fp_parse import plain  # noqa: E402  (the same HTML-to-text)

WORDS = re.compile(r"[^\W_]+")


def fold(s):
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.casefold()


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: fp_match.py KEYWORDS FILE...")
    with open(sys.argv[1], encoding="utf-8") as f:
        keywords = [l.strip() for l in f if l.strip()]
    by_fold = {}
    for k in keywords:
        by_fold.setdefault(" ".join(WORDS.findall(fold(k))), k)
    alts = sorted(by_fold, key=len, reverse=True)
    rx = re.compile(r"\b(?=(" + "|".join(
        r"\W+".join(re.escape(w) for w in a.split(" ")) for a in alts) +
        r")\b)", re.I)
    out = sys.stdout
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            d = feedparser.parse(f.read())
        for e in d.entries:
            text = fold(plain(e.get("title", "")) + "\n" +
                        plain(e.get("summary", "")))
            found = {}
            for m in rx.finditer(text):
                k = by_fold.get(" ".join(WORDS.findall(m.group(1))))
                if k is not None:
                    found.setdefault(k, True)
            out.write(json.dumps({"id": e.get("id", ""),
                                  "keywords": list(found)},
                                 ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
