/* store_hash.c — what the store derives from an item to find it again
 * (store.h: store_item_key): the SHA-256/128 of its id, the 64-bit content
 * hash that tells whether it changed, the link+title hash for dedup, and
 * the SHA-256 content hash of alert keys. A file of its own because these
 * values are on disk: each function here must never change (see the
 * migrations in store.c), and nothing else in the store needs to know how
 * they are made. */
#include <string.h>

#include <openssl/evp.h>

#include "feed.h"
#include "store.h"
#include "store_int.h"

/* ---- hashing ------------------------------------------------------------- */

static void
sha_begin(store *s)
{
    EVP_DigestInit_ex(s->md, s->sha256, NULL);
}

/* Each field is followed by a NUL so that ("ab","c") ≠ ("a","bc"). */
static void
sha_field(store *s, const char *v)
{
    if (!v) v = "";
    EVP_DigestUpdate(s->md, v, strlen(v) + 1);
}

static void
sha_end(store *s, unsigned char out[32])
{
    unsigned int len = 32;
    EVP_DigestFinal_ex(s->md, out, &len);
}

int64_t
st_first8(const unsigned char *d)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | d[i];
    return (int64_t)v;
}

/* The content hash: a 64-bit multiply-fold hash, not SHA-256. It only
 * tells whether an item's text changed since it was last seen, and it
 * reads every byte of every item of every poll: SHA-256 cost several
 * times as much for that. Chance that a change goes unnoticed: 2^-64 per
 * change; the feed's author could craft one, but the feed's author can
 * change the item's id as well. Stored in `seen`: the function must never
 * change (schema 4 cleared the SHA-256 values it replaced, see
 * migrations). Bytes are read little-endian on every host, so that a
 * database moved between machines keeps its hashes. */
#define FH_A 0x9e3779b97f4a7c15ULL
#define FH_B 0xbf58476d1ce4e5b9ULL
#define FH_C 0x94d049bb133111ebULL
#define FH_D 0xc2b2ae3d27d4eb4fULL

static uint64_t
fh_fold(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t
fh_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* Absorbs one field: 16 bytes per step, then a last step with the rest
 * and the field's length (so that ("ab","c") and ("a","bc") differ). */
static uint64_t
fh_field(uint64_t h, const char *v)
{
    const unsigned char *p = (const unsigned char *)(v ? v : "");
    size_t n = strlen((const char *)p), len = n;
    for (; n >= 16; p += 16, n -= 16)
        h = fh_fold(fh_le64(p) ^ FH_A ^ h, fh_le64(p + 8) ^ FH_B);
    unsigned char t[16] = {0};
    memcpy(t, p, n);
    return fh_fold(fh_le64(t) ^ FH_C ^ h, fh_le64(t + 8) ^ FH_D ^ len);
}

/* Never 0: schema 4 marks a hash it could not recompute with 0. */
static int64_t
content_hash(const struct feed_item *it)
{
    uint64_t h = FH_D;
    h = fh_field(h, it->title);
    h = fh_field(h, it->link);
    h = fh_field(h, it->summary);
    h = fh_field(h, it->content);
    h = fh_fold(h ^ FH_A, FH_B);
    return (int64_t)(h ? h : 1);
}

/* The content hash that goes into alert keys (outbox_key): SHA-256 as
 * before schema 4, so that an alert queued again for the same item after
 * an upgrade keeps its Idempotency-Key. Alerts are few: computed only for
 * them. */
int64_t
st_alert_content_hash(store *s, const struct feed_item *it)
{
    unsigned char d[32];
    sha_begin(s);
    sha_field(s, it->title);
    sha_field(s, it->link);
    sha_field(s, it->summary);
    sha_field(s, it->content);
    sha_end(s, d);
    return st_first8(d);
}

/* One SHA-256 over NUL-terminated fields. */
static void
sha_fields(EVP_MD_CTX *md, const EVP_MD *sha, const char *const *v, int n,
           unsigned char out[32])
{
    unsigned int len = 32;
    EVP_DigestInit_ex(md, sha, NULL);
    for (int i = 0; i < n; i++) {
        const char *f = v[i] ? v[i] : "";
        EVP_DigestUpdate(md, f, strlen(f) + 1);
    }
    EVP_DigestFinal_ex(md, out, &len);
}

static void
key_of(EVP_MD_CTX *md, const EVP_MD *sha, const struct feed_item *it,
       store_item_key *k)
{
    unsigned char d[32];
    const char *id[] = {it->id};
    sha_fields(md, sha, id, 1, d);
    memcpy(k->idh, d, 16);
    k->hash = content_hash(it);
    k->has_lt = it->link && *it->link && it->title && *it->title;
    k->lt = 0;
    if (k->has_lt) {
        const char *lt[] = {"link+title", it->link, it->title};
        sha_fields(md, sha, lt, 3, d);
        k->lt = st_first8(d);
    }
}

void
store_item_key_of(store *s, const struct feed_item *it, store_item_key *k)
{
    key_of(s->md, s->sha256, it, k);
}

void
store_item_keys(const struct feed_item *items, size_t n, store_item_key *out)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_MD *sha = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!md || !sha) oom(64);
    for (size_t i = 0; i < n; i++)
        key_of(md, sha, &items[i], &out[i]);
    EVP_MD_free(sha);
    EVP_MD_CTX_free(md);
}

/* The item's hashes: given (computed by classify), remembered (the same
 * item as the last call), or computed. */
const store_item_key *
st_hashes_of(store *s, const struct feed_item *it, const store_item_key *given)
{
    item_hashes *m = &s->memo;
    if (given) return given;
    if (m->it == it && m->id == it->id && m->title == it->title &&
        m->link == it->link && m->content == it->content)
        return &m->k;
    store_item_key_of(s, it, &m->k);
    m->it = it;
    m->id = it->id;
    m->title = it->title;
    m->link = it->link;
    m->content = it->content;
    return &m->k;
}
