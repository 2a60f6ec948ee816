/* paths.c — the configuration read without -c.
 *
 * Alone in its file on purpose: `make install` compiles it again with the
 * SYSCONFDIR it installs the configuration under (PREFIX/etc for a PREFIX
 * other than /usr and /usr/local) and links that object before
 * libvigie.a, so the installed binary looks where its configuration is,
 * while build/vigie keeps /etc and is never rebuilt by an install. */
#include "config.h"

#ifndef VIGIE_SYSCONFDIR
#define VIGIE_SYSCONFDIR "/etc"
#endif

const char config_default_path[] = VIGIE_SYSCONFDIR "/vigie/vigie.lua";
