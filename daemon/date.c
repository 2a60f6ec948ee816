/* date.c — reading the dates feeds write, and writing the two we emit.
 *
 * Pure functions: no locale, no strptime, no mktime, no timezone database,
 * no allocation, no global state; safe from any thread. The input is a
 * byte range that need not be NUL-terminated and may hold anything.
 *
 * Grammar accepted (whitespace, including U+00A0, may surround tokens):
 *
 *   ISO 8601 / RFC 3339, tried when the text starts with 4 or 8 digits:
 *     YYYY-MM-DD ('T'|'t'|spaces) hh:mm[:ss[(.|,)frac]] [zone]
 *     YYYY-MM-DD['Z'|offset]       (date only; the zone attached, as in
 *                                    XML Schema's xs:date)
 *     YYYY/MM/DD ...               (slashes; the year comes first, so this
 *                                    is unambiguous)
 *     YYYYMMDD['T'hhmm[ss[frac]][zone]]   (basic format)
 *   The zone after an ISO time is 'Z'/'z' or an offset, or a zone name
 *   after a space ("2024-08-23 13:27:00 UTC", as databases print it).
 *   Military letters are not zones here.
 *
 *   RFC 822 / 1123 / 2822, RFC 850 and asctime, with an optional day name
 *   (English, French or German, from a list; its value is ignored because
 *   feeds get it wrong) followed by '.', ',' or a space:
 *     D MONTH YEAR [[,] TIME [zone [comment]]]
 *     MONTH D[,] YEAR[,] [TIME [zone [comment]]]  ("Aug 23, 2024 3:27 PM")
 *     MONTH D[,] TIME [zone] YEAR                 (asctime, date(1))
 *   (month first, no RFC defines the form: the year must have 4 digits)
 *   Day, month and year are separated by spaces, '-' ("06-Nov-94") or '.'
 *   ("23. Aug. 2024"); glued ("23Aug24") they read as an identifier and
 *   are refused. MONTH is English, French or German, full or abbreviated,
 *   accents optional, any case, with an optional period. TIME is
 *   H[H]:MM[:SS[.frac]] with an optional AM/PM (then 1 <= H <= 12). YEAR is
 *   4 digits, or 2 (00-49 → 20xx, 50-99 → 19xx, RFC 2822 4.3); 3 digits
 *   are refused.
 *   The zone is +hhmm, +hh:mm or +hh (either sign), a name from zones[]
 *   below, a military letter (A-Z but J, read as UTC: RFC 2822 4.3), or
 *   GMT/UTC/UT glued to an offset ("GMT+0200", "UTC+2", JavaScript's
 *   Date.toString). No zone means UTC. A trailing comment "(CEST)" is
 *   accepted only after a zone: with no zone before it, it names a zone we
 *   did not read, so the date is refused.
 *
 * Values: month 1-12, day within the month (Gregorian leap years), hour
 * 0-23 or 24:00:00 exactly (the next day's midnight, as ISO 8601 allows),
 * minute 0-59, second 0-60 (a leap second 60 reads as 59), offset within
 * ±23:59, year 1000-9999 (before the offset is applied) and, after it, an
 * instant no later than 9999-12-31T23:59:59Z. A date without a time is
 * midnight UTC (midnight at the zone for "2024-08-23+02:00"). Anything
 * else left over makes the whole date DATE_NONE: a wrong date is worse
 * than none. */
#include "date.h"

#include <stdbool.h>
#include <string.h>

#include "util.h"

#define WORD_MAX 16 /* longest name we know is "donnerstag" (10 bytes) */
#define NUM_MAX 9   /* longer digit runs are refused (and cannot overflow) */
#define COMMENT_DEPTH 8
/* RFC 3339's time-numoffset and RFC 2822's zone allow any hh < 24, mm < 60;
 * real zones stop at ±14:00, but a feed writing -23:59 still means it. */
#define OFFSET_MAX (23 * 60 + 59)

#define SECS_PER_DAY 86400
/* The range the formatters can write: 0000-01-01 .. 9999-12-31T23:59:59. */
#define T_MIN INT64_C(-62167219200)
#define T_MAX INT64_C(253402300799)

typedef struct cur {
    const unsigned char *p, *end;
} cur;

typedef struct parts {
    int y, mon, d, h, mi, s;
    int off; /* minutes east of UTC */
} parts;

typedef struct name {
    const char *s; /* lower case, UTF-8 */
    int v;
} name;

/* Month names: English, French (with and without accents), German. No
 * name maps to two months across the three languages; the day-name list
 * shares "mar" (French mardi) with March, which parse_rfc() settles by
 * what follows. */
static const name months[] = {
    {"jan", 1},       {"january", 1},   {"janv", 1},      {"janvier", 1},
    {"januar", 1},    {"jänner", 1},    {"jaenner", 1},   {"feb", 2},
    {"february", 2},  {"févr", 2},      {"fevr", 2},      {"fév", 2},
    {"fev", 2},       {"février", 2},   {"fevrier", 2},   {"februar", 2},
    {"mar", 3},       {"march", 3},     {"mars", 3},      {"mär", 3},
    {"mrz", 3},       {"märz", 3},      {"maerz", 3},     {"apr", 4},
    {"april", 4},     {"avr", 4},       {"avril", 4},     {"may", 5},
    {"mai", 5},       {"jun", 6},       {"june", 6},      {"juin", 6},
    {"juni", 6},      {"jul", 7},       {"july", 7},      {"juil", 7},
    {"juillet", 7},   {"juli", 7},      {"aug", 8},       {"august", 8},
    {"août", 8},      {"aout", 8},      {"sep", 9},       {"sept", 9},
    {"september", 9}, {"septembre", 9}, {"oct", 10},      {"october", 10},
    {"octobre", 10},  {"okt", 10},      {"oktober", 10},  {"nov", 11},
    {"november", 11}, {"novembre", 11}, {"dec", 12},      {"december", 12},
    {"déc", 12},      {"décembre", 12}, {"decembre", 12}, {"dez", 12},
    {"dezember", 12},
};

/* Day names are only recognised, never checked against the date: feeds get
 * them wrong often enough, and the day of the month is what counts. */
static const name daynames[] = {
    {"sun", 0},   {"sunday", 0},     {"mon", 1},       {"monday", 1},
    {"tue", 2},   {"tues", 2},       {"tuesday", 2},   {"wed", 3},
    {"weds", 3},  {"wednesday", 3},  {"thu", 4},       {"thur", 4},
    {"thurs", 4}, {"thursday", 4},   {"fri", 5},       {"friday", 5},
    {"sat", 6},   {"saturday", 6},   {"dim", 0},       {"dimanche", 0},
    {"lun", 1},   {"lundi", 1},      {"mar", 2},       {"mardi", 2},
    {"mer", 3},   {"mercredi", 3},   {"jeu", 4},       {"jeudi", 4},
    {"ven", 5},   {"vendredi", 5},   {"sam", 6},       {"samedi", 6},
    {"so", 0},    {"sonntag", 0},    {"mo", 1},        {"montag", 1},
    {"di", 2},    {"dienstag", 2},   {"mi", 3},        {"mittwoch", 3},
    {"do", 4},    {"donnerstag", 4}, {"fr", 5},        {"freitag", 5},
    {"sa", 6},    {"samstag", 6},    {"sonnabend", 6},
};

/* Named zones, in minutes east of UTC. Abbreviations are not unique
 * worldwide; these are the readings feeds mean in practice (as in most
 * mail and feed software): CST is US Central (not China), IST is India
 * (not Ireland or Israel), BST is British Summer Time (not Bangladesh),
 * AST/ADT are Atlantic (Canada). Single military letters are separate. */
static const name zones[] = {
    {"gmt", 0},    {"ut", 0},     {"utc", 0},     {"z", 0},       {"est", -300},
    {"edt", -240}, {"cst", -360}, {"cdt", -300},  {"mst", -420},  {"mdt", -360},
    {"pst", -480}, {"pdt", -420}, {"akst", -540}, {"akdt", -480}, {"hst", -600},
    {"ast", -240}, {"adt", -180}, {"wet", 0},     {"west", 60},   {"bst", 60},
    {"cet", 60},   {"cest", 120}, {"mez", 60},    {"mesz", 120},  {"eet", 120},
    {"eest", 180}, {"msk", 180},  {"ist", 330},   {"sgt", 480},   {"hkt", 480},
    {"awst", 480}, {"jst", 540},  {"kst", 540},   {"acst", 570},  {"acdt", 630},
    {"aest", 600}, {"aedt", 660}, {"nzst", 720},  {"nzdt", 780},
};

/* ---- calendar arithmetic (proleptic Gregorian, any int64 day count) ---- */

static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
    static const unsigned char n[12] = {31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* Days since 1970-01-01. The year is shifted to start in March so that the
 * leap day falls last; then 400-year eras of 146097 days repeat exactly. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400; /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(). */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Validates the fields and turns them into epoch seconds. */
static int64_t
finish(parts t)
{
    if (t.y < 1000 || t.y > 9999 || t.mon < 1 || t.mon > 12) return DATE_NONE;
    if (t.d < 1 || t.d > month_days(t.y, t.mon)) return DATE_NONE;
    if (t.mi < 0 || t.mi > 59 || t.s < 0 || t.s > 60) return DATE_NONE;
    if (t.h == 24) {
        if (t.mi != 0 || t.s != 0) return DATE_NONE;
    } else if (t.h < 0 || t.h > 23) {
        return DATE_NONE;
    }
    if (t.s == 60) t.s = 59;
    if (t.off < -OFFSET_MAX || t.off > OFFSET_MAX) return DATE_NONE;
    int64_t v = days_from_civil(t.y, t.mon, t.d) * SECS_PER_DAY +
                t.h * 3600 + t.mi * 60 + t.s - (int64_t)t.off * 60;
    /* An offset or 24:00 can carry the instant past what four year digits
     * hold; the formatters would clamp it into a date nobody wrote. */
    return v < T_MIN || v > T_MAX ? DATE_NONE : v;
}

/* ---- lexing ---- */

static bool
at(const cur *c, char ch)
{
    return c->p < c->end && *c->p == (unsigned char)ch;
}

static bool
eat(cur *c, char ch)
{
    if (!at(c, ch)) return false;
    c->p++;
    return true;
}

static bool
is_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9';
}

/* U+00A0 arrives from decoded &nbsp; often enough to count as a space. */
static size_t
ws_len(const cur *c)
{
    if (c->p >= c->end) return 0;
    unsigned char ch = *c->p;
    if (ch == ' ' || (ch >= '\t' && ch <= '\r')) return 1;
    if (ch == 0xC2 && c->end - c->p >= 2 && c->p[1] == 0xA0) return 2;
    return 0;
}

static void
skip_ws(cur *c)
{
    size_t n;
    while ((n = ws_len(c)) > 0)
        c->p += n;
}

/* Reads a run of digits; returns how many there were (all of them are
 * consumed). The value is only meaningful when the count is <= NUM_MAX. */
static int
num(cur *c, int *v)
{
    int n = 0, x = 0;
    while (c->p < c->end && is_digit(*c->p)) {
        if (n < NUM_MAX) x = x * 10 + (*c->p - '0');
        n++;
        c->p++;
    }
    *v = x;
    return n;
}

/* Exactly n digits. */
static bool
numn(cur *c, int n, int *v)
{
    return num(c, v) == n;
}

/* A letter of a name: ASCII letters and any non-ASCII byte (accented
 * letters in UTF-8), except the U+00A0 space. */
static bool
word_byte(const cur *c)
{
    if (c->p >= c->end) return false;
    unsigned char ch = *c->p;
    if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') return true;
    return ch >= 0x80 && ws_len(c) == 0;
}

static bool
lookup(const name *tab, size_t len, const char *w, size_t n, int *v)
{
    if (n == 0) return false;
    /* A linear scan of ~60 names; the first-byte test skips most of them
     * without a call. */
    for (size_t i = 0; i < len; i++) {
        if (tab[i].s[0] == w[0] && strcmp(tab[i].s, w) == 0) {
            *v = tab[i].v;
            return true;
        }
    }
    return false;
}

/* Reads a word into w, lower-cased (ASCII, and the Latin-1 capitals
 * À-Þ as UTF-8, for "AOÛT", "DÉC", "MÄR"). Returns its length in bytes;
 * a word of WORD_MAX bytes or more is consumed but reported as 0-length
 * so it matches nothing. */
static size_t
word(cur *c, char w[WORD_MAX])
{
    size_t n = 0;
    bool too_long = false;
    while (word_byte(c)) {
        unsigned char ch = *c->p++;
        if (ch >= 'A' && ch <= 'Z') ch += 'a' - 'A';
        if (n > 0 && (unsigned char)w[n - 1] == 0xC3 && ch >= 0x80 &&
            ch <= 0x9E && ch != 0x97)
            ch += 0x20;
        if (n + 1 < WORD_MAX)
            w[n++] = (char)ch;
        else
            too_long = true;
    }
    w[n] = '\0';
    return too_long ? 0 : n;
}

/* ---- pieces shared by both grammars ---- */

/* A fraction of a second, dropped whatever its length. */
static void
skip_fraction(cur *c, bool comma_too)
{
    cur u = *c;
    int v;
    if (!(eat(&u, '.') || (comma_too && eat(&u, ',')))) return;
    if (num(&u, &v) > 0) *c = u;
}

/* "+hhmm", "+hh:mm", "+hh", either sign; "+h" too when loose (after
 * "GMT", as in "UTC+2"). */
static bool
parse_offset(cur *c, int *off, bool loose)
{
    int sign = at(c, '-') ? -1 : 1;
    if (!eat(c, '+') && !eat(c, '-')) return false;
    int v, h, m = 0;
    int n = num(c, &v);
    if (n == 4) {
        h = v / 100;
        m = v % 100;
    } else if (n == 2 || (loose && n == 1)) {
        h = v;
        if (eat(c, ':') && !numn(c, 2, &m)) return false;
    } else {
        return false;
    }
    if (m > 59 || h * 60 + m > OFFSET_MAX) return false;
    *off = sign * (h * 60 + m);
    return true;
}

/* Where a zone may stand and what it may be. */
enum zone_mode {
    ZONE_RFC,    /* RFC 822: names, military letters, offsets */
    ZONE_ISO,    /* after an ISO time: 'Z' or an offset, names after a space
                    ("2024-08-23 13:27:00 UTC", as SQL prints them) */
    ZONE_XSDATE, /* after an ISO date: only 'Z' or an offset, attached
                    (XML Schema's xs:date, "2024-08-23+02:00") */
    ZONE_NONE,   /* nothing may follow (basic-format date only) */
};

/* Returns 1 with *off set when a zone is there, 0 when the next thing is
 * not a zone (nothing consumed), -1 when it is a malformed or unknown one.
 * military: also take the single letters of RFC 822 (not in ISO dates,
 * where only 'Z' means anything); named: also take zone names. */
static int
parse_zone(cur *c, int *off, bool military, bool named)
{
    if (at(c, '+') || at(c, '-')) return parse_offset(c, off, false) ? 1 : -1;
    if (!word_byte(c)) return 0;
    char w[WORD_MAX];
    size_t n = word(c, w);
    if (!named && strcmp(w, "z") != 0) return -1;
    if (military && n == 1 && w[0] >= 'a' && w[0] <= 'z' && w[0] != 'j') {
        /* RFC 2822 4.3: RFC 822 gave the military letters the wrong signs,
         * so they "SHOULD all be considered equivalent to -0000". */
        *off = 0;
        return 1;
    }
    if (!lookup(zones, ARRAY_LEN(zones), w, n, off)) return -1;
    bool gmt = !strcmp(w, "gmt") || !strcmp(w, "utc") || !strcmp(w, "ut");
    if (gmt && (at(c, '+') || at(c, '-')))
        return parse_offset(c, off, true) ? 1 : -1;
    return 1;
}

/* An RFC 2822 comment, nested and with quoted pairs: "(CEST)". */
static bool
skip_comment(cur *c)
{
    if (!eat(c, '(')) return false;
    int depth = 1;
    while (c->p < c->end) {
        unsigned char ch = *c->p++;
        if (ch == '\\') {
            if (c->p < c->end) c->p++;
        } else if (ch == '(') {
            if (++depth > COMMENT_DEPTH) return false;
        } else if (ch == ')') {
            if (--depth == 0) return true;
        }
    }
    return false;
}

/* H[H]:MM[:SS[.frac]] [AM|PM] in RFC 822 text, where whitespace may
 * surround the colons (RFC 2822 obs-time); hh:mm[:ss[frac]] in ISO 8601.
 * Nothing is consumed or stored unless a whole time is there. */
static bool
parse_time(cur *c, parts *t, bool iso)
{
    cur u = *c;
    int h, mi, s = 0;
    int n = num(&u, &h);
    if (iso ? n != 2 : (n < 1 || n > 2)) return false;
    if (!iso) skip_ws(&u);
    if (!eat(&u, ':')) return false;
    if (!iso) skip_ws(&u);
    if (!numn(&u, 2, &mi)) return false;
    cur v = u;
    if (!iso) skip_ws(&v);
    if (eat(&v, ':')) {
        if (!iso) skip_ws(&v);
        if (!numn(&v, 2, &s)) return false;
        u = v;
        skip_fraction(&u, iso);
    }
    if (!iso) {
        char w[WORD_MAX];
        v = u;
        skip_ws(&v);
        size_t wn = word(&v, w);
        if (wn == 2 && (!strcmp(w, "am") || !strcmp(w, "pm"))) {
            if (h < 1 || h > 12) return false;
            h = h % 12 + (w[0] == 'p' ? 12 : 0);
            u = v;
        }
    }
    t->h = h;
    t->mi = mi;
    t->s = s;
    *c = u;
    return true;
}

/* What may follow the time: [zone [comment]], then only whitespace. */
static int64_t
finish_tail(cur c, parts t, enum zone_mode mode)
{
    bool spaced = ws_len(&c) > 0;
    skip_ws(&c);
    int z = 0;
    if (mode == ZONE_RFC)
        z = parse_zone(&c, &t.off, true, true);
    else if (mode == ZONE_ISO)
        z = parse_zone(&c, &t.off, false, spaced);
    else if (mode == ZONE_XSDATE && !spaced)
        z = parse_zone(&c, &t.off, false, false);
    if (z < 0) return DATE_NONE;
    skip_ws(&c);
    if (z == 1 && at(&c, '(')) {
        if (!skip_comment(&c)) return DATE_NONE;
        skip_ws(&c);
    }
    if (c.p != c.end) return DATE_NONE;
    return finish(t);
}

/* ---- ISO 8601 / RFC 3339 ---- */

static int64_t
parse_iso(cur c)
{
    parts t = {0};
    int v;
    int n = num(&c, &v);
    if (n == 8) { /* basic format: YYYYMMDD[Thhmm[ss]] */
        t.y = v / 10000;
        t.mon = v / 100 % 100;
        t.d = v % 100;
        if (eat(&c, 'T') || eat(&c, 't')) {
            n = num(&c, &v);
            if (n == 4) {
                t.h = v / 100;
                t.mi = v % 100;
            } else if (n == 6) {
                t.h = v / 10000;
                t.mi = v / 100 % 100;
                t.s = v % 100;
                skip_fraction(&c, true);
            } else {
                return DATE_NONE;
            }
            return finish_tail(c, t, ZONE_ISO);
        }
        return finish_tail(c, t, ZONE_NONE);
    }
    if (n != 4) return DATE_NONE;
    t.y = v;
    char sep = at(&c, '-') ? '-' : '/';
    if (!eat(&c, sep) || !numn(&c, 2, &t.mon) || !eat(&c, sep) ||
        !numn(&c, 2, &t.d))
        return DATE_NONE;
    bool has_time = eat(&c, 'T') || eat(&c, 't');
    if (!has_time && ws_len(&c) > 0) {
        cur u = c;
        skip_ws(&u);
        if (u.p < u.end && is_digit(*u.p)) {
            c = u;
            has_time = true;
        }
    }
    if (!has_time) return finish_tail(c, t, ZONE_XSDATE);
    if (!parse_time(&c, &t, true)) return DATE_NONE;
    return finish_tail(c, t, ZONE_ISO);
}

/* ---- RFC 822 and friends ---- */

/* 4 digits, or 2 read as RFC 2822 4.3 says when two_ok; 3 digits are
 * refused. */
static bool
parse_year(cur *c, int *y, bool two_ok)
{
    int v, n = num(c, &v);
    if (n == 4)
        *y = v;
    else if (n == 2 && two_ok)
        *y = v < 50 ? 2000 + v : 1900 + v;
    else
        return false;
    return true;
}

static bool
parse_month(cur *c, int *mon)
{
    char w[WORD_MAX];
    size_t n = word(c, w);
    return lookup(months, ARRAY_LEN(months), w, n, mon);
}

/* Between day, month and year: spaces, or a '-' ("06-Nov-94"), after an
 * optional '.' ("23. Aug. 2024"). Something must be there: "23Aug24" reads
 * more like an identifier than a date. */
static bool
date_sep(cur *c)
{
    const unsigned char *q = c->p;
    eat(c, '.');
    skip_ws(c);
    if (eat(c, '-')) skip_ws(c);
    return c->p != q;
}

/* After the year: nothing (date only, midnight UTC) or [,] TIME [zone]. */
static int64_t
year_then_time(cur c, parts t)
{
    eat(&c, ',');
    skip_ws(&c);
    if (c.p == c.end) return finish(t);
    if (!parse_time(&c, &t, false)) return DATE_NONE;
    return finish_tail(c, t, ZONE_RFC);
}

/* Everything after the optional day name. */
static int64_t
parse_rfc_body(cur c)
{
    parts t = {0};
    if (c.p < c.end && is_digit(*c.p)) { /* D MONTH YEAR ... */
        int n = num(&c, &t.d);
        if (n < 1 || n > 2 || !date_sep(&c)) return DATE_NONE;
        if (!parse_month(&c, &t.mon) || !date_sep(&c)) return DATE_NONE;
        if (!parse_year(&c, &t.y, true)) return DATE_NONE;
        return year_then_time(c, t);
    }
    /* MONTH D ...: no RFC defines it, so no two-digit years ("Aug 2 11"
     * could as well be a day and an hour). */
    if (!parse_month(&c, &t.mon) || !date_sep(&c)) return DATE_NONE;
    int n = num(&c, &t.d);
    if (n < 1 || n > 2) return DATE_NONE;
    eat(&c, ',');
    skip_ws(&c);
    if (parse_time(&c, &t, false)) { /* asctime, date(1): TIME [zone] YEAR */
        skip_ws(&c);
        if (parse_zone(&c, &t.off, true, true) < 0) return DATE_NONE;
        skip_ws(&c);
        if (!parse_year(&c, &t.y, false)) return DATE_NONE;
        skip_ws(&c);
        return c.p == c.end ? finish(t) : DATE_NONE;
    }
    if (!parse_year(&c, &t.y, false)) return DATE_NONE;
    return year_then_time(c, t);
}

static int64_t
parse_rfc(cur c)
{
    cur u = c;
    char w[WORD_MAX];
    int wday;
    if (lookup(daynames, ARRAY_LEN(daynames), w, word(&u, w), &wday)) {
        const unsigned char *q = u.p;
        eat(&u, '.');
        skip_ws(&u);
        eat(&u, ',');
        skip_ws(&u);
        if (u.p == q) return DATE_NONE; /* "Fri23 Aug" */
        int64_t r = parse_rfc_body(u);
        /* French "mar" is both mardi and March: if it did not work as a
         * day name, try it as a month. The two readings never both
         * succeed (one needs a month name next, the other a number). */
        if (r != DATE_NONE) return r;
    }
    return parse_rfc_body(c);
}

int64_t
date_parse(const char *s, size_t len)
{
    if (s == NULL) return DATE_NONE;
    const unsigned char *p = (const unsigned char *)s;
    cur c = {p, p + len};
    skip_ws(&c);
    if (c.p < c.end && is_digit(*c.p)) {
        cur u = c;
        int v, n = num(&u, &v);
        if (n == 4 || n == 8) return parse_iso(c);
    }
    return parse_rfc(c);
}

/* ---- formatting ---- */

typedef struct civil {
    int64_t y;
    int mon, d, h, mi, s, wday;
} civil;

/* Out-of-range times are clamped to what four year digits can hold. */
static civil
to_civil(int64_t t)
{
    civil v;
    if (t < T_MIN) t = T_MIN;
    if (t > T_MAX) t = T_MAX;
    int64_t days = t / SECS_PER_DAY, secs = t % SECS_PER_DAY;
    if (secs < 0) {
        secs += SECS_PER_DAY;
        days--;
    }
    civil_from_days(days, &v.y, &v.mon, &v.d);
    v.h = (int)(secs / 3600);
    v.mi = (int)(secs / 60 % 60);
    v.s = (int)(secs % 60);
    v.wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    return v;
}

static char *
put_num(char *p, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

void
date_format_rfc3339(int64_t t, char out[DATE_RFC3339_LEN])
{
    civil v = to_civil(t);
    char *p = out;
    p = put_num(p, v.y, 4);
    *p++ = '-';
    p = put_num(p, v.mon, 2);
    *p++ = '-';
    p = put_num(p, v.d, 2);
    *p++ = 'T';
    p = put_num(p, v.h, 2);
    *p++ = ':';
    p = put_num(p, v.mi, 2);
    *p++ = ':';
    p = put_num(p, v.s, 2);
    *p++ = 'Z';
    *p = '\0';
}

void
date_format_http(int64_t t, char out[30])
{
    static const char wdays[] = "SunMonTueWedThuFriSat";
    static const char mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    civil v = to_civil(t);
    char *p = out;
    memcpy(p, wdays + 3 * v.wday, 3);
    p += 3;
    *p++ = ',';
    *p++ = ' ';
    p = put_num(p, v.d, 2);
    *p++ = ' ';
    memcpy(p, mons + 3 * (v.mon - 1), 3);
    p += 3;
    *p++ = ' ';
    p = put_num(p, v.y, 4);
    *p++ = ' ';
    p = put_num(p, v.h, 2);
    *p++ = ':';
    p = put_num(p, v.mi, 2);
    *p++ = ':';
    p = put_num(p, v.s, 2);
    memcpy(p, " GMT", 5);
}

void
date_format_ms(int64_t ms, char out[DATE_RFC3339_LEN])
{
    if (ms <= 0)
        strcpy(out, "-");
    else
        date_format_rfc3339(ms / 1000, out);
}
