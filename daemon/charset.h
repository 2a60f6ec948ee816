/* charset.h — any feed body to clean UTF-8 for the XML parser.
 *
 * The encoding is decided by the first rule that applies:
 *   1. a byte order mark (UTF-8, UTF-16LE/BE, UTF-32LE/BE), or, without
 *      one, '<' encoded as UTF-16 or UTF-32 at the start, after any
 *      whitespace in the same encoding (XML 1.0 appendix F; checked before
 *      rule 2 because "<\0?\0" is valid UTF-8);
 *   2. a body that is valid UTF-8 is UTF-8, whatever it claims (except a
 *      declared 7-bit ISO-2022-* body, whose ESC bytes are its shifts);
 *   3. the encoding in the XML declaration (<?xml ... encoding="..."?>),
 *      unless it names UTF-8, which the body has shown it is not;
 *   4. the caller's hint (the charset of the HTTP Content-Type), unless
 *      it names UTF-8 or the body is mostly valid UTF-8 (more valid
 *      multi-byte sequences than invalid ones: a server's default charset
 *      is no reason to garble a UTF-8 feed with one stray byte);
 *   5. windows-1252.
 * Repairs instead of rejecting: a document claiming UTF-8 (or claiming
 * nothing) with stray bytes has each lone byte read as windows-1252 (so
 * 0x92 becomes ’, 0xE9 followed by a space é) and each broken multi-byte
 * sequence (lead byte, continuation bytes, then anything else) replaced by
 * U+FFFD; valid sequences around them are kept. A body with more than 8
 * invalid sequences for every valid multi-byte one is windows-1252
 * mislabelled and is read as such throughout (French cp1252 text forms
 * UTF-8-looking sequences by chance: "é" NBSP "»"). "ISO-8859-1", "latin1"
 * and "US-ASCII" are read as windows-1252, their superset in practice;
 * other names go to iconv (with the WHATWG supersets: GB2312 as GB18030,
 * Shift_JIS as windows-31j, EUC-KR as CP949, ...), undecodable input
 * becoming U+FFFD. A name nobody knows is skipped (the next rule applies)
 * and flagged `unsupported`. Characters XML forbids (C0 controls other
 * than tab, LF, CR; U+FFFE, U+FFFF) are dropped and counted, so one stray
 * ESC never aborts a parse. The XML declaration is left in the text: the
 * parser must ignore it (XML_PARSE_IGNORE_ENC). */
#ifndef VIGIE_CHARSET_H
#define VIGIE_CHARSET_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct charset_result {
    const char *data; /* the UTF-8 text: the input itself or out->p */
    size_t len;
    const char *encoding; /* the encoding used, e.g. "UTF-8", "windows-1252" */
    size_t repaired;      /* bytes or sequences replaced */
    size_t dropped;       /* forbidden control characters dropped */
    int unsupported;      /* declared encoding unknown to iconv; fell back */
    char name[40];        /* storage for `encoding` when iconv was used */
    char note[112];       /* "" or, when the encoding went against a label
                             or is a guess, which one and why */
} charset_result;

/* Converts in[0..n) to UTF-8. hint may be NULL. When no conversion is needed
 * (clean UTF-8, the common case: one read-only pass) the result points into
 * the input (no copy; a UTF-8 BOM is skipped); otherwise the text is
 * appended to out and data points at it (valid until out changes). */
void charset_to_utf8(const char *in, size_t n, const char *hint, buf *out,
                     charset_result *res);

/* Extracts the charset parameter of a Content-Type header value into out
 * (lower-case, at most outlen-1 bytes; quoted or not, any case, any
 * spacing). Returns 0, or -1 if there is none, it is empty or too long. */
int charset_from_content_type(const char *ctype, char *out, size_t outlen);

/* The code point of windows-1252 byte c (0x80 is U+20AC, 0x92 U+2019). */
uint32_t charset_w1252(unsigned char c);

#endif
