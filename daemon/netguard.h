/* netguard.h — the server-side request forgery guard.
 *
 * A feed list can come from an OPML file someone sent, and redirects go
 * anywhere, so by default vigie never connects to an address that is not
 * on the public internet: loopback, private, link-local (the cloud
 * metadata address), CGNAT, multicast, unspecified, broadcast, reserved and
 * documentation ranges, and the IPv6 forms that embed such an IPv4 address
 * (IPv4-mapped, NAT64, 6to4, Teredo). The check runs on the *resolved*
 * address, inside curl's open-socket callback, just before connect(): so
 * redirects, DNS rebinding and spellings such as http://2130706433/ or
 * http://0x7f.1/ (which curl normalises to 127.0.0.1) are all covered.
 *
 * This module knows libcurl (the callback) but not libev. */
#ifndef VIGIE_NETGUARD_H
#define VIGIE_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <curl/curl.h>

typedef enum net_class {
    NET_PUBLIC = 0,
    NET_LOOPBACK,    /* 127/8, ::1 */
    NET_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 */
    NET_LINK_LOCAL,  /* 169.254/16, fe80::/10 */
    NET_CGNAT,       /* 100.64/10 */
    NET_MULTICAST,   /* 224/4, ff00::/8 */
    NET_UNSPECIFIED, /* 0/8, :: */
    NET_BROADCAST,   /* 255.255.255.255 */
    NET_RESERVED,    /* 240/4, documentation, benchmarking, discard, ... */
} net_class;

/* How an IPv4 address was carried inside an IPv6 one, for messages. */
typedef enum net_via {
    NET_VIA_NONE = 0,
    NET_VIA_MAPPED, /* ::ffff:a.b.c.d */
    NET_VIA_NAT64,  /* 64:ff9b::a.b.c.d */
    NET_VIA_6TO4,   /* 2002:AABB:CCDD:: */
    NET_VIA_TEREDO, /* 2001:0::/32, client address inverted */
} net_via;

/* Classifies a raw address: 4 bytes (IPv4) or 16 bytes (IPv6), network
 * order. `via` (may be NULL) says whether an embedded IPv4 decided it. */
net_class netguard_classify(const unsigned char *addr, size_t len,
                            net_via *via);
/* Same, from a sockaddr (AF_INET or AF_INET6; anything else is
 * NET_RESERVED: vigie only speaks IP). */
net_class netguard_classify_sa(const struct sockaddr *sa, net_via *via);
/* Same, from text ("127.0.0.1", "::ffff:10.0.0.1"); -1 if not an address. */
int netguard_classify_str(const char *text, net_via *via);

/* "loopback", "private", "link-local", "CGNAT", ... */
const char *netguard_class_name(net_class c);

/* Per-transfer state for the curl callback: set `allow_private` from the
 * config; after a refused connect, `refused` holds the reason, e.g.
 * "refused: 127.0.0.1 is a loopback address (allow_private_networks is
 * off)". Only the first refusal is kept. */
typedef struct netguard {
    bool allow_private;
    char refused[160];
} netguard;

/* Installs the guard on an easy handle (CURLOPT_OPENSOCKETFUNCTION/DATA).
 * `g` must outlive the transfer. With allow_private the socket is still
 * opened by the callback, just never refused. */
void netguard_install(CURL *easy, netguard *g);

#endif
