/* text.h — plain text from what feeds put in their fields.
 *
 * Every function appends to a buf, accepts any valid UTF-8 (callers repair
 * first), and produces NFC text with ASCII whitespace runs collapsed to one
 * space and none at either end. Non-breaking spaces are kept: they are part
 * of what the author wrote (French typography uses them around « »). */
#ifndef VIGIE_TEXT_H
#define VIGIE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* HTML to plain text: tags removed; block-level elements (p, div, li, h1..,
 * table cells, blockquote, ...) and <br> become a space, inline ones (b, i,
 * a, span, em, ...) nothing, so "Bosnie-<b>Herzégovine</b>" stays one word;
 * <script>, <style> and comments vanish with their content; character
 * references (all HTML5 names, decimal, hex) are decoded, as are the
 * references left by double escaping. A '<' that does not open a tag is
 * kept as text. */
void text_from_html(buf *out, const char *s, size_t n);

/* Text that is not markup: only whitespace collapsing and NFC. */
void text_from_plain(buf *out, const char *s, size_t n);

/* Decodes character references (&eacute; &#233; &#xE9;) but keeps tags. */
void text_decode_entities(buf *out, const char *s, size_t n);

/* NFC of valid UTF-8 s, appended to out; ASCII and text below U+0300 are
 * copied without calling utf8proc (they are NFC already). */
void text_nfc(buf *out, const char *s, size_t n);

/* The UTF-8 of the HTML named character reference `name` (without & and ;),
 * or NULL if there is no such name. */
const char *html_entity_lookup(const char *name, size_t len);

#endif
