/* noseccomp.c — a bench-only vigie whose rule worker runs without its
 * seccomp filter (rlimits, closed descriptors and no_new_privs stay).
 *
 * Why: with the stock filter, a worker that calls glibc's qsort() on more
 * than 1 KiB (matcher_new sorting ~50 keywords' patterns) is killed by
 * SIGSYS: glibc's merge sort asks sysconf(_SC_PHYS_PAGES), i.e. sysinfo(2),
 * which the allow-list does not have. match.sh uses this binary only when
 * the stock `vigie test` dies that way, and says so in RESULTS.md. The
 * code measured is the same; only the filter (a few BPF instructions per
 * system call, and the worker makes few) is missing.
 *
 * Linked by match.sh with -Wl,--wrap=worker_opts_default:
 *   cc -std=c11 -O2 -Idaemon -c bench/noseccomp.c -o build/bench/noseccomp.o
 *   cc -o build/bench/vigie-noseccomp build/obj/main.o \
 *       build/bench/noseccomp.o -Wl,--wrap=worker_opts_default \
 *       build/libvigie.a LIBS... */
#include "worker.h"

void __real_worker_opts_default(worker_opts *o);
void __wrap_worker_opts_default(worker_opts *o);

void
__wrap_worker_opts_default(worker_opts *o)
{
    __real_worker_opts_default(o);
    o->no_seccomp = true;
}
