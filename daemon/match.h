/* match.h — many keywords, one pass over the text.
 *
 * A matcher is compiled once from a keyword list and then finds, in any byte
 * string, every occurrence of every keyword in a single pass whatever the
 * number of keywords (Aho-Corasick over folded bytes). What matches:
 *
 * - Case and accents do not matter: text and keywords are folded alike
 *   (fold.h), so "Vučić" finds "Vucic", "VUCIC" and a decomposed "Vučić".
 * - Whole words only. A word is a run of letters and digits (Unicode L*, N*,
 *   marks already stripped); everything else, apostrophes and hyphens
 *   included, is a boundary: "OTAN" finds "l’OTAN" and "anti-OTAN", never
 *   "Otaniemi"; "Ruge" never finds "Rugerio" or "rugueux". A letter of a
 *   script written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) is a
 *   word by itself, so such keywords match inside running text.
 * - Phrases: any run of non-word characters in a keyword (spaces, hyphens,
 *   punctuation) matches any run of one or more non-word characters in the
 *   text: "Bosnie Herzégovine" = "Bosnie-Herzégovine" = "Bosnie\n herzégovine".
 * - Markup: an HTML tag in the text ('<' then a letter, '/' and a letter,
 *   '!' or '?', up to the '>' that ends it outside quoted attribute values,
 *   at most 1 KiB and holding no other '<') or comment is one non-word
 *   character: "Boris <b>Ruge</b>" has the phrase "Boris Ruge" and no word
 *   "b". Any other '<' is punctuation ("a < b"). A character reference is
 *   the character it stands for: "Vu&#269;i&#263;", "Boris&nbsp;Ruge"
 *   (decimal and hex as in HTML, named ones with their ';' only).
 * - A '*' ending the keyword, right after a letter or digit, makes its last
 *   word a prefix: "serb*" finds Serbie, Serbia, serbe; "Otan*" finds OTAN
 *   and Otaniemi. The match still starts at a word start, and covers the
 *   prefix only ("Serb" of "Serbie"). A '*' anywhere else is an error.
 * - Transliterations: a keyword written with đ matches đ, dj and d in the
 *   text ("Đurić" finds Đurić, Djuric, Duric); one written with dj matches
 *   dj and đ, never a bare d ("Djuric" finds Đurić and Djuric, not Duric;
 *   "Hadj" never finds "had"). A keyword written with ä, ö or ü also
 *   matches ae, oe, ue ("Müller" finds Müller, Muller, Mueller). The text
 *   side only ever strips (đ → d, ü → u), so "Duric" finds Đurić and Duric
 *   but not Djuric, and "Mueller" does not find Müller: write names with
 *   their diacritics to catch every spelling. Up to 3 such letters per
 *   keyword are expanded in every combination; beyond that, all-plain and
 *   all-transliterated only.
 * - Keywords that fold to the same thing ("Vučić", "VUCIC") are one keyword,
 *   reported under its first spelling (its index in the list given).
 *
 * Limits: 100,000 keywords of at most 1 KiB and 100 words each, 4 MiB of
 * folded patterns in all (about 40 bytes per keyword at 100,000).
 * A matcher is immutable once built: share it, scan from many threads. */
#ifndef VIGIE_MATCH_H
#define VIGIE_MATCH_H

#include <stddef.h>
#include <stdint.h>

#define MATCH_MAX_KEYWORDS 100000
#define MATCH_MAX_KEYWORD_BYTES 1024

typedef struct matcher matcher;

/* One occurrence: keyword index in the list given to matcher_new, and the
 * byte range [start, stop) of the ORIGINAL text it covers, from the start of
 * its first character to the end of its last one (trailing combining marks
 * included), so text[start..stop) is exactly what to highlight. */
typedef struct match_hit {
    uint32_t keyword;
    size_t start, stop;
} match_hit;

/* Compiles the list (UTF-8 strings). Returns NULL and a message naming the
 * keyword (1-based index and text) when one is invalid: not UTF-8, empty or
 * only punctuation once folded, a misplaced '*', over 1 KiB or 100 words;
 * or when there are more than 100,000 of them. n == 0 gives a matcher that
 * finds nothing. err may be NULL. */
matcher *matcher_new(const char *const *keywords, size_t n, char *err,
                     size_t errlen);
void matcher_free(matcher *m);
/* n as given to matcher_new (duplicates included). */
size_t matcher_count(const matcher *m);
/* The keyword as written by the user, or NULL if i >= matcher_count(m). */
const char *matcher_keyword(const matcher *m, uint32_t i);

/* Return non-zero to stop the scan. */
typedef int (*match_cb)(void *ud, const match_hit *hit);
/* Calls cb for every hit, ordered by start, then longer first, then keyword
 * index; one hit per keyword and start. Any bytes are accepted (invalid
 * UTF-8 is a boundary); memory use does not grow with len. */
void matcher_scan(const matcher *m, const char *text, size_t len, match_cb cb,
                  void *ud);
/* The distinct keywords found, each once, in order of first occurrence;
 * returns how many were found (may exceed outcap; only outcap written). */
size_t matcher_match(const matcher *m, const char *text, size_t len,
                     uint32_t *out, size_t outcap);

#endif
