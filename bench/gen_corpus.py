#!/usr/bin/env python3
"""gen_corpus.py — a deterministic news-feed corpus for vigie's benchmarks.

    gen_corpus.py --feeds 1000 --out bench/corpus/1k [--seed 1] [--port 18089]

writes, under OUT:
  feeds/NNNN.xml        the feeds: RSS 2.0 and Atom 1.0 mixed, a few RSS 1.0,
                        a few declared (and encoded) windows-1252; French,
                        English, German and Serbian Latin text; CDATA, escaped
                        and double-escaped HTML (&amp;eacute;), numeric
                        character references, XHTML content.
  truth.jsonl           one line per item: {"file", "id", "keywords", "forms",
                        "decoys"}; "keywords" are the entries of keywords-50.txt
                        that a matcher following DESIGN.md ("Rules in Lua")
                        must find in the item's title + "\\n" + summary, in
                        order of first occurrence (compare them as sets).
                        "forms" says how each planted keyword was written,
                        "decoys" the look-alikes planted that must not match.
  keywords-{10,50,1000,10000}.txt  one keyword per line (UTF-8). The first 50
                        are the Balkans watch list; 10 is the head of it; 1000
                        and 10000 add generated names that occur nowhere in the
                        corpus, so every list's truth is truth.jsonl's keywords
                        restricted to that list.
  feeds.opml, urls.txt  every feed as http://127.0.0.1:PORT/feeds/NNNN.xml
  manifest.json         counts (feeds, items, bytes, formats, forms), the seed
                        and the command line.

Same arguments, same bytes: every random choice comes from random.Random
seeded from --seed (per feed: seed and feed number, so the first 1,000 feeds
of a 10,000-feed corpus are the 1,000-feed corpus). Set iteration order is
never used. The ground truth is not only what was planted: each item's plain
text is run through a reference matcher (fold, whole words, phrases) and the
generator stops if that disagrees with what it planted.
"""

import argparse
import hashlib
import html.entities
import json
import os
import random
import re
import sys
import unicodedata

VERSION = 1

# --------------------------------------------------------------------------
# The watch list. The first ten are keywords-10.txt.
KEYWORDS_50 = [
    "Balkans occidentaux", "Western Balkans", "Kosovo", "Pristina",
    "Bosnie-Herzégovine", "Boris Ruge", "Vučić", "Đurić", "KFOR", "OTAN",
    # --- 10
    "NATO", "Konaković", "Mitrovica", "Belgrade", "Sarajevo", "Westbalkan",
    "Zapadni Balkan", "Bosnia and Herzegovina", "Republika Srpska", "Serbie",
    "Serbia", "Srbija", "Monténégro", "Podgorica", "Macédoine du Nord",
    "North Macedonia", "Skopje", "Tirana", "Srebrenica", "Brčko", "Ibar",
    "Vjosa Osmani", "Albin Kurti", "Christian Schmidt", "Željka Cvijanović",
    "Milorad Dodik", "Denis Bećirović", "Edi Rama", "Jakov Milatović",
    "Hristijan Mickoski", "Miroslav Lajčák", "Mark Rutte", "Ana Brnabić",
    "EUFOR", "OSCE", "EULEX", "UNMIK", "Processus de Berlin",
    "Dialogue Belgrade-Pristina", "Accord d’Ohrid",
]
assert len(KEYWORDS_50) == 50

# Look-alikes: a keyword inside a longer word (or a phrase whose last word is
# longer). None of them may match. Each is real-looking text.
DECOYS = [
    "Boris Rugerio", "Otaniemi", "KFORCE", "Kosovoska", "Kosovar", "Kosova",
    "Kosovom", "Natoli", "Donato", "Natomas", "Ibarra", "Serbian", "Serbien",
    "Belgrader", "Vučićev", "Vučićeva", "Đurićeva", "Osceola", "Eulexis",
    "Brčkom", "Mark Rutten", "Edi Ramadani", "Albin Kurtić",
    "Christian Schmidtke", "Skopjeanka", "Tiranasi", "Sarajevoans",
    "Srebrenicka", "Podgoricanin", "Mitrovicaer", "Westbalkanroute",
]

# --------------------------------------------------------------------------
# Folding and matching as DESIGN.md specifies them, written for clarity.
FOLD_EXTRA = str.maketrans({
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "Ł": "l", "ø": "o",
    "Ø": "o", "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe",
    "Œ": "oe", "þ": "th", "Þ": "th", "ı": "i", "ħ": "h", "Ħ": "h",
})
MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
                   "\ufe20-\ufe2f]")
WORD = re.compile(r"[^\W_]+")


def fold(s):
    s = unicodedata.normalize("NFKD", s)
    s = MARKS.sub("", s)
    return s.casefold().translate(FOLD_EXTRA)


def tokens(s):
    return WORD.findall(fold(s))


class RefMatcher:
    """Whole-word, phrase-aware, folded: a keyword matches where its word
    sequence occurs as consecutive words of the text."""

    def __init__(self, keywords):
        self.first = {}
        for order, kw in enumerate(keywords):
            toks = tuple(tokens(kw))
            assert toks, kw
            self.first.setdefault(toks[0], []).append((toks, order, kw))
        # keywords that contain others ("Dialogue Belgrade-Pristina")
        self.inside = {kw: self.match(kw) for kw in keywords}

    def match(self, text):
        toks = tokens(text)
        hits = []
        seen = {}
        for i, t in enumerate(toks):
            for ktoks, order, kw in self.first.get(t, ()):
                if kw not in seen and tuple(toks[i:i + len(ktoks)]) == ktoks:
                    seen[kw] = True
                    hits.append((i, order, kw))
        hits.sort()
        return [kw for _, _, kw in hits]


# --------------------------------------------------------------------------
# Text. Word lists are small and hand-written; sentences are drawn from them.
WORDS = {
    "fr": """le la les un une des du de à au aux et ou mais donc car dans sur
sous avec sans pour par entre vers chez après avant pendant depuis selon
contre malgré gouvernement ministre ministère président présidente présidence
député députée parlement assemblée sénat conseil commission délégation
ambassadeur ambassade sécurité stabilité coopération dialogue accord traité
négociation réunion rencontre sommet visite consultation déclaration réforme
élection élections scrutin campagne opposition majorité coalition budget
économie croissance inflation énergie électricité transport frontière région
régional régionale européen européenne européens international internationale
stratégique politique politiques souveraineté intégrité territoriale réserve
mission mandat troupes soldats forces militaire militaires police justice
tribunal procureur enquête corruption manifestation manifestants citoyens
habitants population communauté minorité langue école hôpital santé été
très déjà encore toujours jamais aussi plus moins bien mal vite longtemps
annoncé déclaré souligné réaffirmé rappelé indiqué précisé ajouté estimé
rencontré accueilli signé adopté rejeté prolongé renforcé présenté publié
fermement pleinement durable durablement importante importants nouvelle
nouveau nouvelles premier première dernier dernière grand grande grands
haut hauts responsable responsables représentant représentants partenaire
partenaires partenariat alliés alliance organisation organisations union
état états pays voisins voisinage capitale ville villes pont rivière route
routes réseau projet projets financement investissements prêt aide aides
situation crise tensions tension incident incidents attaque violences
paix réconciliation mémoire victimes commémoration anniversaire cérémonie
semaine mois année années jour jours lundi mardi mercredi jeudi vendredi
samedi dimanche matin soir hier demain aujourd’hui l’accord l’alliance
l’opposition l’assemblée l’économie d’autres d’une qu’il qu’elle n’est
c’est s’est jusqu’à lorsqu’il où là-bas peut-être c’est-à-dire
œuvre cœur sœur français française françaises allemand allemande italien
Bruxelles Paris Genève Vienne Rome Strasbourg Luxembourg Helsinki""",
    "en": """the a an of to in on at for with without from by about after
before during since under over between against among and or but so yet
government minister ministry president presidency parliament assembly
council commission delegation ambassador embassy security stability
cooperation dialogue agreement treaty negotiations meeting talks summit
visit consultations statement reform election elections vote campaign
opposition majority coalition budget economy growth inflation energy
electricity transport border region regional european international
strategic political policy sovereignty territorial integrity reserve
mission mandate troops soldiers forces military police justice court
prosecutor investigation corruption protest protesters citizens residents
population community minority language school hospital health very already
still always never also more less well badly quickly long announced said
stressed reaffirmed recalled indicated noted added estimated met welcomed
signed adopted rejected extended strengthened presented published firmly
fully lasting important new first last great high senior official officials
representative representatives partner partners partnership allies
alliance organisation organisations union state states country countries
neighbours neighbourhood capital city cities bridge river road roads network
project projects funding investment loan aid situation crisis tensions
tension incident incidents attack violence peace reconciliation memory
victims commemoration anniversary ceremony week month year years day days
Monday Tuesday Wednesday Thursday Friday Saturday Sunday morning evening
yesterday tomorrow today it’s don’t won’t government’s minister’s
officials’ year-long well-known cross-border follow-up café naïve résumé
Brussels Paris Geneva Vienna Rome Strasbourg Luxembourg Helsinki London""",
    "de": """der die das ein eine einer eines dem den des und oder aber denn
in im an am auf aus bei mit nach seit von vor zu zum zur über unter zwischen
gegen ohne für durch während wegen Regierung Minister Ministerin Ministerium
Präsident Präsidentin Parlament Versammlung Rat Kommission Delegation
Botschafter Botschaft Sicherheit Stabilität Zusammenarbeit Dialog Abkommen
Vertrag Verhandlungen Treffen Gespräche Gipfeltreffen Besuch Erklärung
Reform Wahl Wahlen Abstimmung Wahlkampf Opposition Mehrheit Koalition
Haushalt Wirtschaft Wachstum Inflation Energie Strom Verkehr Grenze Grenzen
Region regional regionale europäisch europäische europäischen international
internationale strategisch strategische politisch politische Souveränität
territoriale Integrität Mission Mandat Truppen Soldaten Streitkräfte
militärisch Polizei Justiz Gericht Staatsanwalt Ermittlungen Korruption
Protest Demonstranten Bürger Bürgerinnen Einwohner Bevölkerung Gemeinschaft
Minderheit Sprache Schule Krankenhaus Gesundheit sehr bereits noch immer nie
auch mehr weniger gut schlecht schnell lange angekündigt erklärt betont
bekräftigt erinnert mitgeteilt hinzugefügt geschätzt getroffen begrüßt
unterzeichnet verabschiedet abgelehnt verlängert gestärkt vorgestellt
veröffentlicht entschlossen vollständig dauerhaft wichtig wichtige neue neuen
erste letzte große größte hohe hochrangige Vertreter Vertreterin Partner
Partnerschaft Verbündete Bündnis Organisation Organisationen Union Staat
Staaten Land Länder Nachbarn Nachbarschaft Hauptstadt Stadt Städte Brücke
Fluss Straße Straßen Netz Projekt Projekte Finanzierung Investitionen Kredit
Hilfe Lage Krise Spannungen Zwischenfall Angriff Gewalt Frieden Versöhnung
Erinnerung Opfer Gedenken Jahrestag Zeremonie Woche Monat Jahr Jahre Tag
Tage Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Morgen
Abend gestern morgen heute Außenminister Außenministerin Bundesregierung
Österreich österreichische Schweiz schweizerische Brüssel Wien Genf Rom
Straßburg Luxemburg Helsinki""",
    "sr": """i u na sa za od do po kod iz pre posle tokom bez prema između
protiv kroz ali ili jer da je su se nije biti bio bila bilo vlada ministar
ministarka ministarstvo predsednik predsednica predsedništvo parlament
skupština savet komisija delegacija ambasador ambasada bezbednost
stabilnost saradnja dijalog sporazum ugovor pregovori sastanak razgovori
samit poseta konsultacije izjava reforma izbori glasanje kampanja opozicija
većina koalicija budžet ekonomija rast inflacija energija struja saobraćaj
granica region regionalni regionalna evropski evropska međunarodni
međunarodna strateški politički politička suverenitet teritorijalni
integritet misija mandat trupe vojnici snage vojni policija pravosuđe sud
tužilac istraga korupcija protest demonstranti građani građanke stanovnici
stanovništvo zajednica manjina jezik škola bolnica zdravlje veoma već još
uvek nikada takođe više manje dobro loše brzo dugo najavio izjavio naglasio
potvrdio podsetio naveo dodao procenio sastao dočekao potpisao usvojio
odbacio produžio ojačao predstavio objavio čvrsto potpuno trajan trajno
važan važna novi nova prvi prva poslednji veliki velika visoki visoka
zvaničnik zvaničnici predstavnik predstavnici partner partneri partnerstvo
saveznici savez organizacija organizacije unija država države zemlja zemlje
susedi susedstvo glavni grad gradovi most reka put putevi mreža projekat
projekti finansiranje investicije kredit pomoć situacija kriza tenzije
incident napad nasilje mir pomirenje sećanje žrtve komemoracija godišnjica
ceremonija nedelja mesec godina godine dan dani ponedeljak utorak sreda
četvrtak petak subota jutro veče juče sutra danas šef šefica čelnik život
uslovi đak žena muškarac čovek ljudi Brisel Pariz Ženeva Beč Rim Strazbur
Luksemburg Helsinki""",
}

OUTLETS = {
    "fr": ["Le Courrier de l’Est", "La Dépêche européenne", "L’Écho du Danube",
           "Le Journal des Régions", "Revue diplomatique", "Actualités Europe",
           "Le Quotidien du Sud-Est", "Chroniques européennes",
           "La Lettre des Ambassades", "Dépêches internationales"],
    "en": ["European Dispatch", "The Danube Times", "Regional Monitor",
           "Eastern Europe Review", "Diplomatic Wire", "The Security Brief",
           "Continental Herald", "Policy Watch Daily", "The Border Post",
           "Southeast Europe Report"],
    "de": ["Europäische Rundschau", "Donau-Zeitung", "Der Südost-Kurier",
           "Diplomatische Korrespondenz", "Außenpolitik heute",
           "Nachrichten aus Europa", "Wiener Depeschen", "Grenzland-Bote",
           "Sicherheitspolitik aktuell", "Regionalbericht Südost"],
    "sr": ["Dnevni pregled", "Regionalni glasnik", "Evropske vesti",
           "Diplomatski izveštaj", "Dunavski list", "Međunarodni pregled",
           "Južni vesnik", "Nedeljne novine", "Glas regiona",
           "Politički pregled"],
}
FIRST = ["Anne", "Claire", "Julien", "Hélène", "François", "Thomas", "Sophie",
         "Jürgen", "Katrin", "Matthias", "Sabine", "Ivana", "Nikola", "Milica",
         "Dušan", "Jelena", "Stefan", "Sarah", "James", "Emma", "Olivia",
         "Lukas", "Maja", "Aleksandra", "Benoît", "Zoë", "Chloé", "Tomislav"]
LAST = ["Martin", "Lefèvre", "Dubois", "Girard", "Müller", "Schäfer", "Weiß",
        "Krüger", "Petrović", "Jovanović", "Nikolić", "Marković", "Savić",
        "Smith", "Taylor", "Walker", "Brown", "Bernard", "Fontaine", "Roussel",
        "Köhler", "Zimmermann", "Stojanović", "Ilić", "Obradović", "Lambert"]
CATEGORIES = {
    "fr": ["Europe", "Diplomatie", "Défense", "Politique", "Économie",
           "International", "Société", "Sécurité", "Élections", "Énergie"],
    "en": ["Europe", "Diplomacy", "Defence", "Politics", "Economy", "World",
           "Society", "Security", "Elections", "Energy"],
    "de": ["Europa", "Diplomatie", "Verteidigung", "Politik", "Wirtschaft",
           "Ausland", "Gesellschaft", "Sicherheit", "Wahlen", "Energie"],
    "sr": ["Evropa", "Diplomatija", "Odbrana", "Politika", "Ekonomija",
           "Svet", "Društvo", "Bezbednost", "Izbori", "Energetika"],
}
QUOTES = {"fr": ("«\u00a0", "\u00a0»"), "en": ("“", "”"),
          "de": ("„", "“"), "sr": ("„", "“")}
COMPOUND_DE = ["Gipfel", "Einsatz", "Mission", "Staaten", "Konflikt",
               "Sprecher", "Regierung", "Politik"]
TLD = {"fr": "fr", "en": "com", "de": "de", "sr": "rs"}
LANG_WEIGHTS = [("fr", 35), ("en", 35), ("de", 18), ("sr", 12)]

# Padding for the 1,000 and 10,000 keyword lists.
SYL = ["ka", "lo", "mi", "ra", "ve", "zu", "dor", "bel", "tan", "vri", "sko",
       "pel", "gra", "mun", "tes", "lja", "nje", "ško", "žar", "čev", "dri",
       "fo", "hu", "qui", "xa", "yen", "wo", "bra", "stu", "ple"]
SUFFIX = ["ović", "ević", "ić", "escu", "ov", "ova", "sson", "ier", "mann",
          "elli", "aki", "oğlu", "ski", "ska", "ard", "ault"]
PLACE_SUFFIX = ["grad", "polje", "ville", "dorf", "ovac", "bourg", "stan"]


def build_padding(rng, n, forbidden):
    """n generated names, each with a word found nowhere in the corpus."""
    out, have = [], {tuple(tokens(k)) for k in KEYWORDS_50}
    while len(out) < n:
        kind = rng.random()
        core = "".join(rng.choice(SYL) for _ in range(rng.randint(2, 3)))
        if kind < 0.6:
            name = rng.choice(FIRST).split()[0] + " " + \
                (core + rng.choice(SUFFIX)).capitalize()
        elif kind < 0.8:
            name = (core + rng.choice(PLACE_SUFFIX)).capitalize()
        else:
            name = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVZ")
                           for _ in range(rng.randint(4, 6)))
        toks = tuple(tokens(name))
        if toks in have or all(t in forbidden for t in toks):
            continue
        have.add(toks)
        out.append(name)
    return out


# --------------------------------------------------------------------------
# Rendering. A fragment is (plain, html, xtext, cdtext, xhtml, what):
#   plain  the text a correct parser yields (tags: "" inline, " " block)
#   html   HTML source, for HTML fields (escaped or CDATA at XML level)
#   xtext  XML text for a plain-text field (None: not allowed there)
#   cdtext raw text for a plain-text field in CDATA (None: not allowed)
#   xhtml  XML for Atom type="xhtml" content
#   what   "f" filler text, "k" keyword or decoy, "t" tag

def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr_escape(s):
    return xml_escape(s).replace('"', "&quot;")


PUNCT = "’‘“”«»„–—…\u00a0\u202f"
STYLE_HTML = {
    # how a CMS writes non-ASCII in HTML: raw UTF-8, HTML 4 named entities
    # (é → &eacute;, the source of "&amp;eacute;" once escaped into XML), or
    # numeric references for typography (WordPress: ’ → &#8217;).
    "raw": str.maketrans({}),
    "named": str.maketrans({chr(cp): "&%s;" % name for cp, name in
                            html.entities.codepoint2name.items()
                            if cp > 127}),
    "numeric": str.maketrans({c: "&#%d;" % ord(c) for c in PUNCT}),
}
STYLE_XML = {
    "raw": str.maketrans({}),
    "named": str.maketrans({}),
    "numeric": str.maketrans({c: "&#%d;" % ord(c) for c in PUNCT}),
}


class Style:
    def __init__(self, name):
        self.name = name
        self.th = STYLE_HTML[name]
        self.tx = STYLE_XML[name]

    def text(self, s):
        e = xml_escape(s)
        return (s, e.translate(self.th), e.translate(self.tx), s, e, "f")


def frag_tag(html_src, block, xhtml_src=None):
    return (" " if block else "", html_src, None, None,
            html_src if xhtml_src is None else xhtml_src, "t")


def join_frags(frags):
    cols = list(zip(*frags))[:5]
    out = []
    for col in cols:
        out.append(None if any(c is None for c in col) else "".join(col))
    return out


# --------------------------------------------------------------------------
# Keyword forms.

def strip_marks(s):
    """Drops diacritics, keeps case (Đ → D): how a careless site writes."""
    s = unicodedata.normalize("NFKD", s)
    s = MARKS.sub("", s)
    return s.translate(str.maketrans({"đ": "d", "Đ": "D"}))


def charrefs(s, rng, decomposed=False):
    if decomposed:
        s = unicodedata.normalize("NFD", s)
    hexa = rng.random() < 0.5
    return "".join(c if ord(c) < 128 else
                   ("&#x%x;" % ord(c) if hexa else "&#%d;" % ord(c))
                   for c in s)


INLINE = ["b", "strong", "em", "i", "span"]


def applicable_forms(kw, lang, kind):
    """kind: text, cdtext, html, xhtml (the field the form goes into)."""
    forms = ["plain", "caps"]
    if strip_marks(kw) != kw:
        forms.append("nodiac")
    if " " in kw:
        forms += ["nbsp", "linebreak"]
    if unicodedata.normalize("NFD", kw) != kw:
        forms.append("decomposed")
    if kind != "cdtext":
        if any(ord(c) > 127 for c in kw):
            forms.append("charref")
        if unicodedata.normalize("NFD", kw) != kw:
            forms.append("charref-decomposed")
    if kind == "html" and any(ord(c) in html.entities.codepoint2name
                              for c in kw if ord(c) > 127):
        forms.append("named")
    if kind in ("html", "xhtml"):
        forms.append("tag")
        if " " not in kw and "-" not in kw and len(kw) >= 4:
            forms.append("tag-inword")
    if lang == "fr" and fold(kw)[0] in "aeiouyh":
        forms.append("elision")
    if lang == "en":
        forms.append("possessive")
    if lang == "de" and not kw.endswith("-"):
        forms.append("compound")
    forms.append("punct")
    return forms


def render_keyword(kw, form, lang, style, rng):
    """Returns the fragment writing keyword kw in the given form."""
    return _render_keyword(kw, form, lang, style, rng)[:5] + ("k",)


def _render_keyword(kw, form, lang, style, rng):
    if form in ("plain", "caps", "nodiac", "decomposed", "elision",
                "possessive", "compound", "punct"):
        s = kw
        if form == "caps":
            s = kw.upper()
        elif form == "nodiac":
            s = strip_marks(kw)
            if rng.random() < 0.3:
                s = s.upper()
        elif form == "decomposed":
            s = unicodedata.normalize("NFD", kw)
        elif form == "elision":
            s = rng.choice(["l’", "d’", "l'", "d'", "qu’"]) + kw
        elif form == "possessive":
            s = kw + rng.choice(["’s", "'s"])
        elif form == "compound":
            s = kw + "-" + rng.choice(COMPOUND_DE)
        elif form == "punct":
            o, c = rng.choice([("(", ")"), QUOTES[lang], ("", ","),
                               ("", ":"), ("", "."), ("", ";"), ("—", "")])
            s = o + kw + c
        return style.text(s)
    if form == "nbsp":
        s = kw.replace(" ", "\u00a0")
        e = xml_escape(kw)
        raw = rng.random() < 0.4
        html_src = e.replace(" ", "\u00a0" if raw else "&nbsp;")
        xt = e.replace(" ", "\u00a0" if raw else "&#160;")
        return (s, html_src, xt, s, xt, "k")
    if form == "linebreak":
        sep = rng.choice(["\n      ", "  ", "\n", " \t "])
        s = kw.replace(" ", sep)
        e = xml_escape(s)
        return (s, e, e, s, e, "k")
    if form in ("charref", "charref-decomposed"):
        e = charrefs(xml_escape(kw), rng, form == "charref-decomposed")
        return (kw, e, e, None, e, "k")
    if form == "named":
        names = html.entities.codepoint2name
        e = "".join("&%s;" % names[ord(c)] if ord(c) > 127 and ord(c) in names
                    else ("&#%d;" % ord(c) if ord(c) > 127 else c)
                    for c in xml_escape(kw))
        return (kw, e, None, None, None, "k")
    if form == "tag":
        t = rng.choice(INLINE + ["a"])
        if t == "a":
            op = '<a href="https://example.org/tag/%d">' % rng.randint(1, 999)
        else:
            op = "<%s>" % t
        cl = "</%s>" % t
        words = re.split(r"([ \-’])", kw)   # keep the separators
        idx = [i for i in range(0, len(words), 2)]
        i = rng.choice(idx)
        words[i] = op + xml_escape(words[i]) + cl
        for j in range(len(words)):
            if j != i:
                words[j] = xml_escape(words[j])
        src = "".join(words)
        return (kw, src.translate(style.th), None, None, src, "k")
    if form == "tag-inword":
        t = rng.choice(INLINE)
        cut = rng.randint(1, len(kw) - 1)
        src = "%s<%s>%s</%s>" % (xml_escape(kw[:cut]), t,
                                 xml_escape(kw[cut:]), t)
        return (kw, src.translate(style.th), None, None, src, "k")
    raise ValueError(form)


def render_decoy(d, style, rng):
    r = rng.random()
    if r < 0.2:
        d = d.upper()
    elif r < 0.4:
        d = strip_marks(d)
    return style.text(d)[:5] + ("k",)


# --------------------------------------------------------------------------
# One corpus.

class Text:
    """Sentences per language, drawn once from the master seed."""

    def __init__(self, rng):
        self.words = {l: w.split() for l, w in WORDS.items()}
        self.pool = {l: [self.sentence(rng, l) for _ in range(3000)]
                     for l in WORDS}

    def sentence(self, rng, lang):
        ws = self.words[lang]
        n = rng.randint(8, 22)
        out = [rng.choice(ws) for _ in range(n)]
        if rng.random() < 0.15:  # a quotation
            i = rng.randrange(0, max(1, n - 4))
            j = min(n - 1, i + rng.randint(2, 5))
            o, c = QUOTES[lang]
            out[i] = o + out[i]
            out[j] = out[j] + c
        if rng.random() < 0.2:
            out.insert(rng.randrange(1, n), str(rng.randint(2, 2024)))
        for k in range(1, len(out) - 1):
            if rng.random() < 0.08:
                out[k] += ","
        if rng.random() < 0.05:
            out.insert(rng.randrange(1, n), "–")
        s = " ".join(out)
        return s[0].upper() + s[1:] + rng.choice(".....?!")

    def words_of(self, rng, lang, n):
        return [rng.choice(self.words[lang]) for _ in range(n)]


def plant(rng, text, lang, style, kws, decoys, n_words):
    """A sentence of about n_words words with the given keyword and decoy
    fragments put at word boundaries. Returns a list of fragments."""
    words = text.words_of(rng, lang, n_words)
    words[0] = words[0][0].upper() + words[0][1:]
    slots = [(rng.randint(0, n_words), "k", f) for f in kws] + \
        [(rng.randint(0, n_words), "d", f) for f in decoys]
    slots.sort(key=lambda x: x[0])
    frags, last = [], 0
    for pos, _, f in slots:
        if pos > last:
            frags.append(style.text(" ".join(words[last:pos]) + " "))
        elif frags:
            frags.append(style.text(" "))
        frags.append(f)
        last = max(last, pos)
        frags.append(style.text(" "))
    if last < n_words:
        frags.append(style.text(" ".join(words[last:])))
    return frags


class Feed:
    def __init__(self, num, seed, text):
        self.rng = rng = random.Random(seed * 1000003 + num)
        self.num = num
        self.text = text
        r = rng.random()
        self.format = "rss2.0" if r < 0.55 else \
            "atom1.0" if r < 0.97 else "rss1.0"
        langs, weights = zip(*LANG_WEIGHTS)
        self.lang = rng.choices(langs, weights)[0]
        self.cp1252 = (self.format == "rss2.0" and self.lang != "sr"
                       and rng.random() < 0.04)
        self.style = Style(rng.choice(["raw", "raw", "named", "numeric"]))
        self.cdata = rng.random() < 0.5          # HTML fields in CDATA
        self.cdata_title = (self.cdata and not self.cp1252
                            and rng.random() < 0.3)
        self.pretty = rng.random() < 0.7
        self.content = rng.random() < 0.65      # full text in items
        self.nitems = rng.choice([40, 15, 20, 20, 25, 30, 30, 40, 50, 60,
                                  50, 50, 60, 75, 100, 100, 100, 120, 150])
        self.outlet = rng.choice(OUTLETS[self.lang])
        slug = re.sub(r"[^a-z]+", "-", fold(self.outlet)).strip("-")
        self.host = "www.%s-%d.%s" % (slug, num, TLD[self.lang])
        self.site = "https://%s/" % self.host
        self.guid_style = rng.choice(["permalink", "wp", "uuid", "none"]
                                     if self.format == "rss2.0" else ["x"])
        if self.format == "rss2.0" and rng.random() < 0.8 and \
                self.guid_style == "none":
            self.guid_style = "permalink"
        self.enclosures = rng.random() < 0.1
        self.zone = rng.choice([0, 0, 7200, 3600, -14400])
        self.now = 1724426820 - rng.randint(0, 86400 * 3)   # ~2024-08-23
        self.items = []

    # -- items -------------------------------------------------------------
    def make_item(self, i, refs, stats):
        rng, lang, style = self.rng, self.lang, self.style
        text = self.text
        fmt = self.format
        if fmt == "atom1.0":
            title_kind = "text" if rng.random() < 0.8 else "html"
            summary_kind = "html" if rng.random() < 0.75 else "text"
        else:
            title_kind = "cdtext" if self.cdata_title else "text"
            summary_kind = "html"
        # keywords and decoys for this item
        planted, forms, dec = [], [], []
        if rng.random() < 0.3:
            for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                planted.append(rng.choice(KEYWORDS_50))
        if rng.random() < 0.12:
            dec.append(rng.choice(DECOYS))
        in_title = [k for k in planted if rng.random() < 0.3]
        in_summary = [k for k in planted if k not in in_title]
        dec_title = [d for d in dec if rng.random() < 0.3]
        dec_summary = [d for d in dec if d not in dec_title]

        def kfrags(kws, kind):
            out = []
            for k in kws:
                form = rng.choice(applicable_forms(k, lang, kind))
                forms.append(form)
                stats[form] = stats.get(form, 0) + 1
                out.append(render_keyword(k, form, lang, style, rng))
            return out

        # titles carry no tags, even type="html" ones
        tfr = plant(rng, text, lang, style,
                    kfrags(in_title, "text" if title_kind == "html"
                           else title_kind),
                    [render_decoy(d, style, rng) for d in dec_title],
                    rng.randint(5, 11))
        title = join_frags(tfr)

        # summary: one paragraph (HTML fields get <p> and inline markup)
        html_sum = summary_kind == "html"
        sk = kfrags(in_summary, "html" if html_sum else "text")
        pool = text.pool[lang]
        sfr = [style.text(rng.choice(pool) + " ")
               for _ in range(rng.randint(0, 1))]
        sfr += plant(rng, text, lang, style, sk,
                     [render_decoy(d, style, rng) for d in dec_summary],
                     rng.randint(8, 20))
        sfr.append(style.text(". "))
        sfr += [style.text(rng.choice(pool) + " ")
                for _ in range(rng.randint(0, 2))]
        if html_sum:
            sfr = self.decorate(sfr)
        summary = join_frags(sfr)

        # content: the summary paragraph again and more, in HTML or XHTML
        content = None
        if self.content:
            paras = [sfr if html_sum else self.decorate(sfr)]
            for _ in range(rng.randint(1, 3)):
                sents = [style.text(rng.choice(text.pool[lang]) + " ")
                         for _ in range(rng.randint(1, 3))]
                paras.append(self.decorate(sents))
            if rng.random() < 0.2:
                paras.append([frag_tag(
                    '<img src="%simg/%d-%d.jpg" alt="" width="640" '
                    'height="360" />' % (self.site, self.num, i), True)])
            content = join_frags([f for p in paras for f in p])

        # the reference check: plain text in, planted keywords out
        plain = title[0] + "\n" + summary[0]
        found = refs.match(plain)
        expected = [k2 for k in planted for k2 in refs.inside[k]]
        if sorted(found) != sorted(dict.fromkeys(expected)):
            sys.exit("gen_corpus: feed %d item %d: planted %r, reference "
                     "matcher finds %r in %r" % (self.num, i, planted, found,
                                                 plain))
        return dict(title=title, title_kind=title_kind, summary=summary,
                    summary_kind=summary_kind, content=content,
                    keywords=found, forms=forms, decoys=dec)

    def decorate(self, frags):
        """Wraps a paragraph's fragments in <p>, bolds a filler word now and
        then, adds a link or a <br />: the markup of real descriptions."""
        rng = self.rng
        out = [frag_tag("<p>", True)]
        for f in frags:
            if f[5] == "f" and rng.random() < 0.3 and " " in f[0].strip():
                # filler text: put an inline tag around its first word
                body = f[0].lstrip()
                if len(body) < len(f[0]):
                    out.append(self.style.text(f[0][:len(f[0]) - len(body)]))
                head, _, tail = body.partition(" ")
                t = rng.choice(INLINE)
                out.append(frag_tag("<%s>" % t, False))
                out.append(self.style.text(head))
                out.append(frag_tag("</%s>" % t, False))
                out.append(self.style.text(" " + tail))
            elif rng.random() < 0.03:
                out.append(frag_tag('<a href="%s%d">' % (
                    self.site, rng.randint(1, 99999)), False))
                out.append(f)
                out.append(frag_tag("</a>", False))
            else:
                out.append(f)
        if rng.random() < 0.1:
            out.append(frag_tag("<br />", True, "<br/>"))
        out.append(frag_tag("</p>", True))
        return out

    # -- serialisation ------------------------------------------------------
    def date822(self, t):
        import time
        zone = self.zone
        tm = time.gmtime(t + zone)
        sign = "+" if zone >= 0 else "-"
        z = "%s%02d%02d" % (sign, abs(zone) // 3600, abs(zone) % 3600 // 60)
        if zone == 0 and self.num % 3 == 0:
            z = "GMT"
        days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                  "Sep", "Oct", "Nov", "Dec"]
        return "%s, %02d %s %04d %02d:%02d:%02d %s" % (
            days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon - 1], tm.tm_year,
            tm.tm_hour, tm.tm_min, tm.tm_sec, z)

    def date3339(self, t):
        import time
        tm = time.gmtime(t)
        return "%04d-%02d-%02dT%02d:%02d:%02dZ" % tm[:6]

    def html_field(self, val):
        if self.cdata:
            return "<![CDATA[" + val + "]]>"
        return xml_escape(val)

    def text_field(self, frag_cols, kind):
        if kind == "cdtext":
            return "<![CDATA[" + frag_cols[3] + "]]>"
        return frag_cols[2]

    def generate(self, refs, stats, truth, relpath):
        rng = self.rng
        nl = "\n" if self.pretty else ""
        ind = "  " if self.pretty else ""
        ind2 = ind * 2
        ind3 = ind * 3
        t = self.now
        parts = []
        a = parts.append
        enc = "windows-1252" if self.cp1252 else \
            rng.choice(["UTF-8", "utf-8", "UTF-8"])
        a('<?xml version="1.0" encoding="%s"?>\n' % enc)
        title = xml_escape(self.outlet)
        sub = xml_escape(rng.choice(self.text.pool[self.lang]))
        lang = {"fr": "fr-FR", "en": "en-GB", "de": "de-DE",
                "sr": "sr-Latn"}[self.lang]
        selfurl = "%sfeed/%s" % (self.site, "atom" if self.format == "atom1.0"
                                 else "rss")
        items = [self.make_item(i, refs, stats)
                 for i in range(self.nitems)]
        if self.format == "rss2.0":
            a('<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/'
              'modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
              ' xmlns:atom="http://www.w3.org/2005/Atom" xmlns:sy="http://'
              'purl.org/rss/1.0/modules/syndication/">\n<channel>' + nl)
            a('%s<title>%s</title>%s' % (ind, title, nl))
            a('%s<atom:link href="%s" rel="self" type="application/rss+xml"'
              ' />%s' % (ind, selfurl, nl))
            a('%s<link>%s</link>%s' % (ind, self.site, nl))
            a('%s<description>%s</description>%s' % (ind, sub, nl))
            a('%s<lastBuildDate>%s</lastBuildDate>%s' % (
                ind, self.date822(t), nl))
            a('%s<language>%s</language>%s' % (ind, lang, nl))
            a('%s<sy:updatePeriod>hourly</sy:updatePeriod>%s' % (ind, nl))
            a('%s<sy:updateFrequency>1</sy:updateFrequency>%s' % (ind, nl))
            a('%s<generator>%s</generator>%s' % (ind, rng.choice([
                "https://wordpress.org/?v=6.6.1", "Drupal 10",
                "Hugo 0.128.0", "NewsCMS 4.2"]), nl))
            a('%s<copyright>© 2024 %s</copyright>%s' % (ind, title, nl))
            a('%s<image>%s%s<url>%slogo.png</url>%s%s<title>%s</title>%s'
              '%s<link>%s</link>%s%s</image>%s' % (
                  ind, nl, ind2, self.site, nl, ind2, title, nl, ind2,
                  self.site, nl, ind, nl))
        elif self.format == "atom1.0":
            a('<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="%s">%s' % (
                lang, nl))
            a('%s<title type="text">%s</title>%s' % (ind, title, nl))
            a('%s<subtitle>%s</subtitle>%s' % (ind, sub, nl))
            a('%s<link rel="alternate" type="text/html" href="%s" />%s' % (
                ind, self.site, nl))
            a('%s<link rel="self" type="application/atom+xml" href="%s" />%s'
              % (ind, selfurl, nl))
            a('%s<id>%s</id>%s' % (ind, self.site, nl))
            a('%s<updated>%s</updated>%s' % (ind, self.date3339(t), nl))
            a('%s<author><name>%s</name></author>%s' % (
                ind, xml_escape(self.outlet), nl))
            a('%s<generator uri="https://example.org/" version="2.1">'
              'NewsCMS</generator>%s' % (ind, nl))
            a('%s<rights>© 2024 %s</rights>%s' % (ind, title, nl))
        else:
            a('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-'
              'ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.'
              'org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/'
              'modules/content/">%s' % nl)
            a('%s<channel rdf:about="%s">%s' % (ind, selfurl, nl))
            a('%s<title>%s</title>%s' % (ind2, title, nl))
            a('%s<link>%s</link>%s' % (ind2, self.site, nl))
            a('%s<description>%s</description>%s' % (ind2, sub, nl))
            a('%s<dc:language>%s</dc:language>%s' % (ind2, lang, nl))
            a('%s<dc:date>%s</dc:date>%s' % (ind2, self.date3339(t), nl))
            a('%s<items>%s%s<rdf:Seq>%s' % (ind2, nl, ind3, nl))
            for i in range(self.nitems):
                a('%s%s<rdf:li rdf:resource="%s" />%s' % (
                    ind3, ind, self.item_link(i), nl))
            a('%s</rdf:Seq>%s%s</items>%s' % (ind3, nl, ind2, nl))
            a('%s</channel>%s' % (ind, nl))

        for i, it in enumerate(items):
            t -= rng.randint(60, 4 * 3600)
            iid = self.emit_item(a, i, it, t, nl, ind, ind2)
            truth.append({"file": relpath, "id": iid,
                          "keywords": it["keywords"], "forms": it["forms"],
                          "decoys": it["decoys"]})
        if self.format == "rss2.0":
            a("</channel>\n</rss>\n")
        elif self.format == "atom1.0":
            a("</feed>\n")
        else:
            a("</rdf:RDF>\n")
        doc = "".join(parts)
        if self.cp1252:
            return doc.encode("cp1252", "xmlcharrefreplace")
        return doc.encode("utf-8")

    def item_link(self, i):
        return "%s%d/%02d/article-%d-%d.html" % (
            self.site, 2024, 1 + i % 12, self.num, i)

    def emit_item(self, a, i, it, t, nl, ind, ind2):
        rng = self.rng
        link = self.item_link(i)
        author = rng.choice(FIRST) + " " + rng.choice(LAST)
        cats = rng.sample(CATEGORIES[self.lang], rng.randint(0, 3))
        if self.format == "rss2.0":
            a("%s<item>%s" % (ind, nl))
            a("%s<title>%s</title>%s" % (
                ind2, self.text_field(it["title"], it["title_kind"]), nl))
            a("%s<link>%s</link>%s" % (ind2, link, nl))
            if self.guid_style == "permalink":
                iid = link
                a('%s<guid isPermaLink="true">%s</guid>%s' % (ind2, iid, nl))
            elif self.guid_style == "wp":
                iid = "%s?p=%d" % (self.site, 100000 + self.num * 1000 + i)
                a('%s<guid isPermaLink="false">%s</guid>%s' % (
                    ind2, iid, nl))
            elif self.guid_style == "uuid":
                iid = "urn:uuid:%08x-%04x-4%03x-8%03x-%012x" % (
                    rng.getrandbits(32), rng.getrandbits(16),
                    rng.getrandbits(12), rng.getrandbits(12),
                    rng.getrandbits(48))
                a('%s<guid isPermaLink="false">%s</guid>%s' % (
                    ind2, iid, nl))
            else:
                iid = link   # no guid: the id is the (already normal) link
            a("%s<pubDate>%s</pubDate>%s" % (ind2, self.date822(t), nl))
            # CDATA as WordPress writes it; not in windows-1252 feeds, where
            # a name the encoding lacks becomes &#263; (literal in CDATA)
            cd = ("<![CDATA[%s]]>" if not self.cp1252 else "%s")
            a("%s<dc:creator>%s</dc:creator>%s" % (
                ind2, cd % xml_escape(author) if self.cp1252 else cd % author,
                nl))
            for c in cats:
                a("%s<category>%s</category>%s" % (ind2, cd % c, nl))
            a("%s<description>%s</description>%s" % (
                ind2, self.html_field(it["summary"][1]), nl))
            if it["content"]:
                a("%s<content:encoded>%s</content:encoded>%s" % (
                    ind2, self.html_field(it["content"][1]), nl))
            if self.enclosures and rng.random() < 0.5:
                a('%s<enclosure url="%smedia/%d-%d.mp3" length="%d" '
                  'type="audio/mpeg" />%s' % (ind2, self.site, self.num, i,
                                              rng.randint(10 ** 5, 10 ** 8),
                                              nl))
            a("%s</item>%s" % (ind, nl))
        elif self.format == "atom1.0":
            iid = "tag:%s,2024:article-%d-%d" % (self.host, self.num, i)
            a("%s<entry>%s" % (ind, nl))
            if it["title_kind"] == "html":
                a('%s<title type="html">%s</title>%s' % (
                    ind2, xml_escape(it["title"][1]), nl))
            else:
                a("%s<title>%s</title>%s" % (ind2, it["title"][2], nl))
            a('%s<link rel="alternate" type="text/html" href="%s" />%s' % (
                ind2, link, nl))
            a("%s<id>%s</id>%s" % (ind2, iid, nl))
            a("%s<published>%s</published>%s" % (
                ind2, self.date3339(t), nl))
            a("%s<updated>%s</updated>%s" % (
                ind2, self.date3339(t + rng.choice([0, 0, 600, 3600])), nl))
            a("%s<author><name>%s</name></author>%s" % (ind2, author, nl))
            for c in cats:
                a('%s<category term="%s" />%s' % (ind2, attr_escape(c), nl))
            if it["summary_kind"] == "html":
                a('%s<summary type="html">%s</summary>%s' % (
                    ind2, xml_escape(it["summary"][1]), nl))
            else:
                a('%s<summary type="text">%s</summary>%s' % (
                    ind2, it["summary"][2], nl))
            if it["content"]:
                if rng.random() < 0.3 and it["content"][4] is not None:
                    a('%s<content type="xhtml"><div xmlns="http://www.w3.org'
                      '/1999/xhtml">%s</div></content>%s' % (
                          ind2, it["content"][4], nl))
                else:
                    a('%s<content type="html">%s</content>%s' % (
                        ind2, xml_escape(it["content"][1]), nl))
            a("%s</entry>%s" % (ind, nl))
        else:
            iid = link
            a('%s<item rdf:about="%s">%s' % (ind, link, nl))
            a("%s<title>%s</title>%s" % (
                ind2, self.text_field(it["title"], it["title_kind"]), nl))
            a("%s<link>%s</link>%s" % (ind2, link, nl))
            a("%s<description>%s</description>%s" % (
                ind2, xml_escape(it["summary"][1]), nl))
            a("%s<dc:creator>%s</dc:creator>%s" % (ind2, author, nl))
            a("%s<dc:date>%s</dc:date>%s" % (ind2, self.date3339(t), nl))
            for c in cats:
                a("%s<dc:subject>%s</dc:subject>%s" % (ind2, c, nl))
            if it["content"]:
                a("%s<content:encoded>%s</content:encoded>%s" % (
                    ind2, self.html_field(it["content"][1]), nl))
            a("%s</item>%s" % (ind, nl))
        return iid


# --------------------------------------------------------------------------

def corpus_tokens(text):
    """Every word the corpus can contain outside planted keywords."""
    seen = {}
    for l in WORDS:
        for w in text.words[l]:
            for t in tokens(w):
                seen[t] = True
        for o in OUTLETS[l] + CATEGORIES[l]:
            for t in tokens(o):
                seen[t] = True
    for w in FIRST + LAST + COMPOUND_DE + DECOYS + KEYWORDS_50:
        for t in tokens(w):
            seen[t] = True
    return seen


def check_vocabulary():
    """No keyword may be spelt by filler words alone."""
    filler = {}
    for l in WORDS:
        for w in WORDS[l].split():
            for t in tokens(w):
                filler[t] = True
    for w in FIRST + LAST + COMPOUND_DE:
        for t in tokens(w):
            filler[t] = True
    for o in [x for l in OUTLETS for x in OUTLETS[l] + CATEGORIES[l]]:
        for t in tokens(o):
            filler[t] = True
    bad = [k for k in KEYWORDS_50 if all(t in filler for t in tokens(k))]
    if bad:
        sys.exit("gen_corpus: filler words spell keywords: %r" % bad)
    bad = [d for d in DECOYS if RefMatcher(KEYWORDS_50).match(d)]
    if bad:
        sys.exit("gen_corpus: decoys that match: %r" % bad)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", default="18089",
                    help="port in feeds.opml and urls.txt (default 18089)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    if args.feeds < 1 or args.feeds > 1000000:
        ap.error("--feeds: between 1 and 1000000")

    master = random.Random(args.seed)
    text = Text(master)
    check_vocabulary()
    vocab = corpus_tokens(text)
    padding = build_padding(random.Random(args.seed * 7919 + 1), 9950, vocab)
    refs = RefMatcher(KEYWORDS_50)

    out = args.out
    fdir = os.path.join(out, "feeds")
    os.makedirs(fdir, exist_ok=True)
    for old in os.listdir(fdir):   # a smaller corpus over a larger one
        if old.endswith(".xml"):
            os.unlink(os.path.join(fdir, old))
    width = max(4, len(str(args.feeds - 1)))
    stats, formats, langs = {}, {}, {}
    nbytes = nitems = nkw_items = ndecoys = ncp1252 = 0
    opml, urls = [], []
    tmp_truth = os.path.join(out, "truth.jsonl.tmp")
    with open(tmp_truth, "w", encoding="utf-8") as tf:
        for n in range(args.feeds):
            name = "%0*d.xml" % (width, n)
            rel = "feeds/" + name
            feed = Feed(n, args.seed, text)
            truth = []
            data = feed.generate(refs, stats, truth, rel)
            with open(os.path.join(fdir, name), "wb") as f:
                f.write(data)
            for row in truth:
                tf.write(json.dumps(row, ensure_ascii=False) + "\n")
                nkw_items += bool(row["keywords"])
                ndecoys += len(row["decoys"])
            nbytes += len(data)
            nitems += len(truth)
            formats[feed.format] = formats.get(feed.format, 0) + 1
            langs[feed.lang] = langs.get(feed.lang, 0) + 1
            ncp1252 += feed.cp1252
            url = "http://127.0.0.1:%s/%s" % (args.port, rel)
            urls.append(url)
            opml.append('    <outline type="rss" text="%s" title="%s" '
                        'xmlUrl="%s" htmlUrl="%s"/>' % (
                            attr_escape(feed.outlet), attr_escape(feed.outlet),
                            url, feed.site))
            if not args.quiet and (n + 1) % 1000 == 0:
                print("gen_corpus: %d feeds" % (n + 1), file=sys.stderr)
    os.replace(tmp_truth, os.path.join(out, "truth.jsonl"))

    lists = {10: KEYWORDS_50[:10], 50: KEYWORDS_50,
             1000: KEYWORDS_50 + padding[:950],
             10000: KEYWORDS_50 + padding}
    for n, kws in lists.items():
        with open(os.path.join(out, "keywords-%d.txt" % n), "w",
                  encoding="utf-8") as f:
            f.write("\n".join(kws) + "\n")
    name = os.path.basename(os.path.normpath(out))
    with open(os.path.join(out, "feeds.opml"), "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">'
                '\n  <head><title>vigie bench corpus %s</title></head>\n'
                '  <body>\n%s\n  </body>\n</opml>\n' % (name, "\n".join(opml)))
    with open(os.path.join(out, "urls.txt"), "w") as f:
        f.write("\n".join(urls) + "\n")
    manifest = {
        "generator": "bench/gen_corpus.py", "version": VERSION,
        "generator_sha256": hashlib.sha256(
            open(__file__, "rb").read()).hexdigest(),
        "command": "bench/gen_corpus.py --feeds %d --out %s --seed %d "
                   "--port %s" % (args.feeds, out, args.seed, args.port),
        "seed": args.seed, "feeds": args.feeds, "items": nitems,
        "bytes": nbytes, "items_with_keywords": nkw_items,
        "decoys": ndecoys, "formats": dict(sorted(formats.items())),
        "languages": dict(sorted(langs.items())),
        "windows_1252_feeds": ncp1252,
        "forms": dict(sorted(stats.items())),
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    if not args.quiet:
        print("gen_corpus: %s: %d feeds, %d items, %.1f MB, %d items with "
              "keywords, %d decoys" % (out, args.feeds, nitems, nbytes / 1e6,
                                       nkw_items, ndecoys), file=sys.stderr)


if __name__ == "__main__":
    main()
