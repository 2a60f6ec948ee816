/* text.h — plain text from what feeds put in their fields.
 *
 * Every function appends to a buf (growing it once, no other allocation
 * unless NFC has work to do), accepts any valid UTF-8 (callers repair first;
 * invalid input is safe but may come out invalid), drops C0 controls other
 * than whitespace, and produces NFC text. text_from_html and
 * text_from_plain also collapse ASCII whitespace runs (space, tab, LF, FF,
 * CR) to one space, none at either end of what they append. Non-breaking
 * and other Unicode spaces are kept: they are part of what the author wrote
 * (French typography uses them around « » : ; ! ?). */
#ifndef VIGIE_TEXT_H
#define VIGIE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* HTML to plain text: tags removed; block-level elements (p, div, br, li,
 * h1.., table parts, blockquote, section, ...) become a space, inline ones
 * (b, i, a, span, em, font, ...) nothing, so "Bosnie-<b>Herzégovine</b>"
 * stays one word; <script>, <style>, <template>, <noscript>, <iframe>,
 * <svg> and comments vanish with their content; a '>' inside a quoted
 * attribute value does not end the tag. Only elements are tags: those of
 * HTML5, the obsolete ones (font, center, tt, marquee, ...), MathML's,
 * custom elements (<my-widget>) and namespaced ones (<o:p>); any other
 * name is text, as the '<' not followed by a letter, '/', '!' or '?' is
 * ("a < b", "vector<int>", "<boris.ruge@nato.int>"). CDATA sections are
 * text. Character references: every HTML5 name, the legacy
 * names HTML5 accepts without ';' (&amp &eacute &nbsp, unless followed by
 * '=' as in a URL's "&copy=2"), decimal and hex (&#233; &#xE9;); invalid
 * numbers (0, surrogates, past U+10FFFF) give U+FFFD, &#128;..&#159; are
 * windows-1252 (&#146; is ’); an unknown &name; stays as written. Decoding
 * happens once: "&amp;eacute;" gives "&eacute;" (the XML parser having
 * already turned a feed's "&amp;amp;eacute;" into it). */
void text_from_html(buf *out, const char *s, size_t n);

/* Text that is not markup: only whitespace collapsing and NFC. */
void text_from_plain(buf *out, const char *s, size_t n);

/* Decodes character references as text_from_html does but keeps tags and
 * whitespace as they are (the result may hold markup that &lt; produced). */
void text_decode_entities(buf *out, const char *s, size_t n);

/* NFC of valid UTF-8 s, appended to out; text whose code points are all
 * NFC-stable (all of U+0000..U+02FF, and ’ « » … € Cyrillic CJK ...) is
 * copied without calling utf8proc. */
void text_nfc(buf *out, const char *s, size_t n);

/* Offset of the first code point of s that NFC might change or combine
 * with its predecessor (a combining mark, a singleton such as U+212B, a
 * Hangul jamo...), or n when s is certainly NFC. */
size_t text_nfc_quick(const char *s, size_t n);

/* The UTF-8 of the HTML named character reference `name` (without & and ;,
 * case-sensitive), or NULL if there is no such name. For the XML parser's
 * getEntity: &nbsp; &eacute; in feeds without a DTD. */
const char *html_entity_lookup(const char *name, size_t len);

/* Whether the tag name at name (what follows '<' or '</', n bytes to the
 * end of the text) names an element as text_from_html reads tags: one of
 * HTML, a custom or a namespaced element. "<int>", "<boris@nato.int>"
 * are not. The matcher reads tags the same way. */
bool text_element_name(const char *name, size_t n);

/* Just past the end tag </name ...> that closes a raw-text element
 * (<script>, <style>) whose content starts at p, or NULL when none does
 * before end. name is len bytes, matched without regard to case. */
const unsigned char *text_raw_end(const unsigned char *p,
                                  const unsigned char *end, const char *name,
                                  size_t len);

#endif
