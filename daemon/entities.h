/* entities.h — private to text.c and entities.c: the HTML5 named character
 * references with what text.c needs beyond html_entity_lookup(). */
#ifndef VIGIE_ENTITIES_H
#define VIGIE_ENTITIES_H

#include <stddef.h>
#include <stdint.h>

struct html_entity {
    uint16_t name;  /* offset of the name in the name pool */
    uint8_t len;    /* name length, without '&' and ';' */
    uint8_t legacy; /* HTML5 also accepts it without ';' (&amp, &eacute) */
    char value[8];  /* UTF-8, NUL-terminated, 1..7 bytes */
};

/* The longest name (&CounterClockwiseContourIntegral;). */
#define HTML_ENTITY_NAME_MAX 31

/* The entity named name[0..len) (case-sensitive), or NULL. */
const struct html_entity *html_entity_find(const char *name, size_t len);

#endif
