/* worker.c — see worker.h.
 *
 * Protocol. Every message is a u32 length (of what follows), a u8 type
 * and a body (itemcodec.h encoding).
 *
 *   parent → worker  JOB     serial, start position, the job's scripts
 *                            (each READY: loaded already, LOAD: name and
 *                            source, SKIP: cannot run), positions not to
 *                            run (killed earlier), the feed, the items
 *   worker → parent  HELLO   what the sandbox is made of
 *                    LOADED  position, ok, error, top-level actions
 *                    RESULT  position, the actions of one call
 *                    OKRANGE every call up to this position ended well and
 *                            did nothing (most calls: one message for many)
 *                    DONE    serial: the job is finished
 *
 * Positions number the calls of a job: script j's load is j, and item i
 * through script j is ns + i·ns + j (ns scripts). Results come in position
 * order; the parent checks each against the position it expects, so it
 * always knows which calls are accounted for. Before each call the worker
 * writes (serial, position, start time) into a page shared with the
 * parent: when the parent has to kill the worker it knows which call was
 * running, charges that one call, and resends the job from the first call
 * whose result it has not seen (results still buffered in the dead worker
 * are simply computed again). Each kill thus settles at least one call,
 * so a job always ends. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "feed.h"
#include "itemcodec.h"
#include "log.h"
#include "utf8.h"

enum { P2W_JOB = 1 };
enum { W2P_HELLO = 1, W2P_LOADED, W2P_RESULT, W2P_OKRANGE, W2P_DONE };
enum { MODE_READY = 0, MODE_LOAD = 1, MODE_SKIP = 2 };

#define MAX_W2P_MSG ((size_t)8 << 20)
#define MAX_P2W_MSG ((size_t)1 << 30)
#define CHILD_FLUSH_AT ((size_t)64 << 10)
#define READ_PER_STEP ((size_t)16 << 20)
#define START_TIMEOUT_MS 5000
/* Fresh memory is expensive (a page fault per page, and more so in a VM):
 * item buffers of finished jobs are kept for the next ones, on both sides,
 * up to this size each. */
#define SPARE_MAX ((size_t)64 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define VIGIE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIGIE_ASAN 1
#endif
#endif

/* The page both processes see. The worker writes it as a seqlock (seq odd
 * while writing); the parent only reads, and trusts nothing in it beyond
 * "which call to charge", which it checks against its own state. */
typedef struct worker_shm {
    _Atomic uint64_t seq;
    _Atomic uint32_t serial;
    _Atomic uint64_t pos;
    _Atomic int64_t started; /* now_ms() at the start of the call */
} worker_shm;

typedef struct wscript {
    char *path; /* NULL: free slot */
    char *src;
    size_t len;
    char *error;   /* why it cannot run, NULL if it can */
    bool stale;    /* superseded by worker_reload() */
    bool in_child; /* LOAD sent to the current worker */
} wscript;

typedef struct wkill {
    uint64_t pos;
    char *msg;
} wkill;

typedef struct wjob {
    struct wjob *next;
    uint32_t serial;
    buf feed_enc;
    size_t nitems;
    char **ids;
    buf items_enc;
    size_t *off; /* nitems + 1 offsets into items_enc */
    uint32_t *sids;
    size_t ns;
    uint64_t cursor; /* first item position not accounted for */
    uint64_t total;  /* ns + nitems·ns */
    uint32_t *loads; /* script indexes loaded by the frame in flight */
    size_t nloads, lidx;
    wkill *kills; /* sorted by pos */
    size_t nkills;
    bool sent;
    action_list out;
    worker_result res;
    worker_done_fn done;
    void *ud;
} wjob;

struct worker {
    worker_opts o;
    wscript *scripts;
    size_t nscripts;
    wjob *head, *tail;
    uint32_t serial;
    pid_t pid;
    int fd;
    worker_shm *shm;
    bool hello;
    buf out;           /* frame head to send ... */
    const char *xtail; /* ... followed by these bytes (the job's items) */
    size_t tail_len;
    size_t out_off; /* bytes of head + tail sent */
    buf in;
    size_t in_off;
    uint64_t obs_seq; /* last shm seq seen, and when */
    int64_t obs_at;
    int64_t obs_cpu;   /* the worker's CPU time (ms) at obs_at, or -1 */
    int64_t obs_allow; /* what the call in progress may take (kill_after) */
    int64_t grace;     /* wall time added for CPU it did not get */
    int64_t samp_at, samp_cpu; /* the worker's CPU time when last read */
    clockid_t cpu_clk;         /* its CPU clock, valid while pid != 0 */
    bool has_cpu_clk;
    bool reload_pending;
    buf spare[4]; /* finished jobs' item buffers, for the next jobs */
    char info[256];
};

/* The worker's CPU time in ms (user + system), or -1. */
static int64_t
worker_cpu_ms(const worker *w)
{
    struct timespec ts;
    if (!w->pid || !w->has_cpu_clk || clock_gettime(w->cpu_clk, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the worker's CPU time now, and keeps it as the latest sample. */
static int64_t
sample_cpu(worker *w, int64_t now)
{
    int64_t cpu = worker_cpu_ms(w);
    if (cpu >= 0) {
        w->samp_at = now;
        w->samp_cpu = cpu;
    }
    return cpu;
}

/* A call in progress since `at` (ms, our clock), seen now. The worker's
 * CPU time when it began is estimated from the rate at which it used the
 * CPU since the last sample (which kill_deadline keeps recent while a job
 * is out); without a sample, as if it ran all along, which is what the
 * wall clock alone assumes. */
static void
observe(worker *w, int64_t at)
{
    int64_t now = now_ms(), before = w->samp_at, before_cpu = w->samp_cpu;
    int64_t cpu = sample_cpu(w, now);
    w->obs_at = at;
    w->grace = 0;
    if (cpu < 0) {
        w->obs_cpu = -1;
        return;
    }
    double rate = 1.0;
    if (before_cpu >= 0 && before <= at && now > before) {
        rate = (double)(cpu - before_cpu) / (double)(now - before);
        rate = rate < 0 ? 0 : rate > 1 ? 1 : rate;
    }
    w->obs_cpu = cpu - (int64_t)(rate * (double)(now > at ? now - at : 0));
}

void
worker_opts_default(worker_opts *o)
{
    memset(o, 0, sizeof *o);
    script_limits_default(&o->limits);
    o->kill_factor = 2;
}

/* ---- messages --------------------------------------------------------- */

static size_t
msg_begin(buf *b, uint8_t type)
{
    size_t at = b->len;
    codec_put_u32(b, 0);
    codec_put_u8(b, type);
    return at;
}

static void
msg_end(buf *b, size_t at)
{
    uint32_t n = (uint32_t)(b->len - at - sizeof n);
    memcpy(b->p + at, &n, sizeof n);
}

/* ======================================================================
 * The worker (child) side.
 * ====================================================================== */

typedef struct child {
    int fd;
    worker_shm *shm;
    const worker_opts *o;
    script *scripts[WORKER_MAX_SCRIPTS];
    buf out;
    action_list acts;
    bool ok_pending;
    uint64_t ok_to;
} child;

static void
child_write_all(child *c)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(0); /* the parent is gone */
        off += (size_t)n;
    }
    buf_reset(&c->out);
}

static bool
child_read_all(int fd, void *p, size_t n)
{
    char *d = p;
    while (n) {
        ssize_t r = read(fd, d, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        d += r;
        n -= (size_t)r;
    }
    return true;
}

static void
shm_begin(worker_shm *s, uint32_t serial, uint64_t pos)
{
    uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&s->serial, serial, memory_order_relaxed);
    atomic_store_explicit(&s->pos, pos, memory_order_relaxed);
    atomic_store_explicit(&s->started, now_ms(), memory_order_relaxed);
    atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

static void
child_flush_ok(child *c)
{
    if (!c->ok_pending) return;
    size_t at = msg_begin(&c->out, W2P_OKRANGE);
    codec_put_u64(&c->out, c->ok_to);
    msg_end(&c->out, at);
    c->ok_pending = false;
}

static void
child_job(child *c, codec_rd *r)
{
    uint32_t serial = codec_get_u32(r);
    uint64_t start = codec_get_u64(r);
    uint32_t ns = codec_get_u32(r);
    if (r->bad || ns == 0 || ns > WORKER_MAX_SCRIPTS || start < ns) _exit(65);
    uint32_t slot[WORKER_MAX_SCRIPTS];
    bool run[WORKER_MAX_SCRIPTS];
    char err[ACTION_MAX_MESSAGE];
    for (uint32_t j = 0; j < ns; j++) {
        slot[j] = codec_get_u32(r);
        uint8_t mode = codec_get_u8(r);
        if (r->bad || slot[j] >= WORKER_MAX_SCRIPTS) _exit(65);
        uint32_t id = slot[j];
        if (mode == MODE_LOAD) {
            size_t nlen, slen;
            const char *name = codec_get_str(r, 4096, &nlen);
            const char *src = codec_get_str(r, SCRIPT_MAX_SOURCE, &slen);
            if (!name || !src) _exit(65);
            child_flush_ok(c);
            script_free(c->scripts[id]);
            shm_begin(c->shm, serial, j);
            err[0] = '\0';
            c->scripts[id] = script_load(name, src, slen, &c->o->limits,
                                         &c->acts, err, sizeof err);
            size_t at = msg_begin(&c->out, W2P_LOADED);
            codec_put_u64(&c->out, j);
            codec_put_u8(&c->out, c->scripts[id] != NULL);
            codec_put_str(&c->out, c->scripts[id] ? "" : err);
            itemcodec_put_actions(&c->out, &c->acts, 0);
            msg_end(&c->out, at);
            action_list_clear(&c->acts);
            run[j] = c->scripts[id] != NULL;
        } else if (mode == MODE_READY) {
            /* NULL when it failed to load earlier in this very job (a
             * script listed twice): the parent knows, and skips it too */
            run[j] = c->scripts[id] != NULL;
        } else {
            run[j] = false;
        }
    }
    /* The parent hears of every load before any item call starts: when it
     * has to kill us it then knows which phase it interrupts. */
    child_write_all(c);
    uint32_t nkills = codec_get_u32(r);
    if (r->bad || (size_t)nkills * 8 > (size_t)(r->end - r->p)) _exit(65);
    const char *kills = r->p;
    r->p += (size_t)nkills * 8;
    rule_feed f;
    if (!itemcodec_get_feed(r, &f)) _exit(65);
    for (uint32_t j = 0; j < ns; j++)
        if (run[j]) script_set_feed(c->scripts[slot[j]], &f);
    uint64_t first = (start - ns) / ns;
    uint32_t j0 = (uint32_t)((start - ns) % ns);
    uint32_t n = codec_get_u32(r);
    uint32_t k = 0; /* the next position not to run is kills[k] */
    uint64_t kpos = UINT64_MAX;
    if (nkills) memcpy(&kpos, kills, 8);
    arena a = {0};
    for (uint32_t x = 0; x < n; x++) {
        feed_item it, old;
        if (!itemcodec_get_item(r, &it, &a)) _exit(65);
        bool has_old = codec_get_u8(r) != 0;
        if (has_old && !itemcodec_get_item(r, &old, &a)) _exit(65);
        uint64_t i = first + x;
        for (uint32_t j = x == 0 ? j0 : 0; j < ns; j++) {
            uint64_t pos = ns + i * ns + j;
            while (kpos < pos) {
                kpos = UINT64_MAX;
                if (++k < nkills) memcpy(&kpos, kills + 8 * (size_t)k, 8);
            }
            if (!run[j] || kpos == pos) continue;
            shm_begin(c->shm, serial, pos);
            if (has_old)
                script_on_update(c->scripts[slot[j]], &it, &old, (int32_t)i,
                                 &c->acts);
            else
                script_on_item(c->scripts[slot[j]], &it, (int32_t)i, &c->acts);
            if (c->acts.len == 0) {
                c->ok_pending = true;
                c->ok_to = pos;
            } else {
                child_flush_ok(c);
                size_t at = msg_begin(&c->out, W2P_RESULT);
                codec_put_u64(&c->out, pos);
                itemcodec_put_actions(&c->out, &c->acts, 0);
                msg_end(&c->out, at);
                action_list_clear(&c->acts);
            }
            if (c->out.len >= CHILD_FLUSH_AT) child_write_all(c);
        }
        arena_free(&a);
    }
    child_flush_ok(c);
    size_t at = msg_begin(&c->out, W2P_DONE);
    codec_put_u32(&c->out, serial);
    msg_end(&c->out, at);
    child_write_all(c);
}

static NORETURN void
child_main(const worker_opts *o, int fd, worker_shm *shm, size_t as_limit)
{
    char err[256], info[256];
    if (worker_sandbox(fd, !o->no_seccomp, as_limit, err, sizeof err, info,
                       sizeof info) < 0) {
        fprintf(stderr, "vigie: rule worker: %s\n", err);
        _exit(70);
    }
    static child c; /* large (script table), and there is only one */
    c.fd = 3;
    c.shm = shm;
    c.o = o;
    action_list_init(&c.acts);
    size_t at = msg_begin(&c.out, W2P_HELLO);
    codec_put_str(&c.out, info);
    msg_end(&c.out, at);
    child_write_all(&c);
    buf in = {0};
    for (;;) {
        uint32_t len;
        if (!child_read_all(c.fd, &len, sizeof len)) _exit(0);
        if (len == 0 || len > MAX_P2W_MSG) _exit(65);
        buf_reset(&in);
        buf_grow(&in, len);
        if (!child_read_all(c.fd, in.p, len)) _exit(0);
        codec_rd r;
        codec_rd_init(&r, in.p, len);
        uint8_t type = codec_get_u8(&r);
        if (type != P2W_JOB) _exit(65);
        child_job(&c, &r);
        /* kept for the next job (fresh pages are slow), unless huge */
        if (in.cap > SPARE_MAX) buf_free(&in);
    }
}

/* ---- the sandbox ------------------------------------------------------ */

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS SECCOMP_RET_KILL
#endif

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef SECCOMP_ARCH
#define SC_ALLOW(nr)                                                           \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                           \
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define SC_DENY(nr)                                                            \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                           \
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES)
/* Memory may be mapped and protected, never executable. */
#define SC_NO_EXEC(nr)                                                         \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4),                           \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),                         \
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),                 \
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),                 \
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

static int
install_seccomp(char *err, size_t errlen, int *nallowed)
{
    pid_t self = getpid();
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __X32_SYSCALL_BIT
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
        /* the socket to the parent, and stderr */
        SC_ALLOW(__NR_read),
        SC_ALLOW(__NR_write),
        SC_ALLOW(__NR_readv),
        SC_ALLOW(__NR_writev),
        SC_ALLOW(__NR_recvfrom),
        SC_ALLOW(__NR_sendto),
        SC_ALLOW(__NR_recvmsg),
        SC_ALLOW(__NR_sendmsg),
        SC_ALLOW(__NR_close),
        /* memory */
        SC_ALLOW(__NR_brk),
        SC_ALLOW(__NR_munmap),
        SC_ALLOW(__NR_mremap),
        SC_ALLOW(__NR_madvise),
        SC_NO_EXEC(__NR_mmap),
        SC_NO_EXEC(__NR_mprotect),
        /* clocks (os.clock is a real system call), locks, signals, exit */
        SC_ALLOW(__NR_clock_gettime),
        SC_ALLOW(__NR_clock_getres),
        SC_ALLOW(__NR_gettimeofday),
#ifdef __NR_time
        SC_ALLOW(__NR_time),
#endif
        SC_ALLOW(__NR_futex),
        SC_ALLOW(__NR_getrandom),
        SC_ALLOW(__NR_sched_yield),
        SC_ALLOW(__NR_getpid),
        SC_ALLOW(__NR_gettid),
        SC_ALLOW(__NR_rt_sigreturn),
        SC_ALLOW(__NR_rt_sigprocmask),
        SC_ALLOW(__NR_rt_sigaction),
        SC_ALLOW(__NR_sigaltstack),
        SC_ALLOW(__NR_restart_syscall),
        SC_ALLOW(__NR_exit),
        SC_ALLOW(__NR_exit_group),
        /* abort() signals itself, and nothing else */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)self, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        /* what libc may try on its own: fail politely */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __NR_open
        SC_DENY(__NR_open),
#endif
#ifdef __NR_stat
        SC_DENY(__NR_stat),
        SC_DENY(__NR_lstat),
#endif
        SC_DENY(__NR_openat),
        SC_DENY(__NR_newfstatat),
        SC_DENY(__NR_fstat),
        SC_DENY(__NR_ioctl),
        SC_DENY(__NR_socket),
        SC_DENY(__NR_connect),
        /* glibc's qsort asks sysinfo(2) how much memory the machine has
         * before sorting more than 1 KiB (a matcher of ~32 keywords); on
         * an error it assumes plenty, which is all we need */
        SC_DENY(__NR_sysinfo),
        /* everything else (exec, fork, kill, ptrace, ...) ends the worker */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog prog = {(unsigned short)ARRAY_LEN(f), f};
    *nallowed = 0;
    for (size_t i = 0; i < ARRAY_LEN(f); i++)
        if (f[i].code == (BPF_RET | BPF_K) && f[i].k == SECCOMP_RET_ALLOW)
            (*nallowed)++;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
        snprintf(err, errlen, "seccomp: %s", strerror(errno));
        return -1;
    }
    return 0;
}
#endif

static void
close_from(int lowest)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
#endif
    struct rlimit rl;
    long max =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
            ? (long)rl.rlim_cur
            : 65536;
    for (long fd = lowest; fd < max; fd++)
        close((int)fd);
}

int
worker_sandbox(int keep_fd, bool seccomp, size_t as_limit, char *err,
               size_t errlen, char *info, size_t infolen)
{
    /* Signals as a fresh process has them: the parent's event loop may
     * have handlers or blocked signals that mean nothing here. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);

    /* Descriptors: 0 and 1 on /dev/null, 2 kept (crash reports), 3 the
     * socket, nothing else (the parent's database, feeds, listeners). */
    if (keep_fd != 3) {
        if (dup2(keep_fd, 3) < 0) {
            snprintf(err, errlen, "dup2: %s", strerror(errno));
            return -1;
        }
        close(keep_fd);
    }
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nul < 0) {
        snprintf(err, errlen, "/dev/null: %s", strerror(errno));
        return -1;
    }
    if (nul != 0) dup2(nul, 0);
    if (nul != 1) dup2(nul, 1);
    if (fcntl(2, F_GETFD) < 0) dup2(nul, 2);
    if (nul > 3) close(nul);
    close_from(4);
    /* os.date needs the time zone: read it now, files are gone after. */
    tzset();

    struct rlimit zero = {0, 0}, four = {4, 4};
    setrlimit(RLIMIT_CORE, &zero);
    setrlimit(RLIMIT_NOFILE, &four);
    setrlimit(RLIMIT_NPROC, &zero);
    char as[48] = "unlimited (sanitizer build)";
#ifndef VIGIE_ASAN
    if (as_limit) {
        struct rlimit rl = {as_limit, as_limit};
        setrlimit(RLIMIT_AS, &rl);
        snprintf(as, sizeof as, "%zu MiB", as_limit >> 20);
    } else {
        snprintf(as, sizeof as, "unlimited");
    }
#else
    UNUSED(as_limit);
#endif
    prctl(PR_SET_DUMPABLE, 0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
        return -1;
    }
    char sc[96] = "off";
#ifdef SECCOMP_ARCH
    if (seccomp) {
        int n;
        if (install_seccomp(err, errlen, &n) < 0) return -1;
        snprintf(sc, sizeof sc, "allow-list (%d rules)", n);
    }
#else
    if (seccomp) snprintf(sc, sizeof sc, "unavailable on this architecture");
#endif
    snprintf(info, infolen,
             "fds 0-3 only; rlimits: core 0, nofile 4, nproc 0, as %s; "
             "no_new_privs; seccomp %s",
             as, sc);
    return 0;
}

/* ======================================================================
 * The daemon (parent) side.
 * ====================================================================== */

worker *
worker_new(const worker_opts *o)
{
    worker *w = xcalloc(1, sizeof *w);
    if (o)
        w->o = *o;
    else
        worker_opts_default(&w->o);
    if (w->o.kill_factor < 1) w->o.kill_factor = 2;
    script_limits *l = &w->o.limits;
    if (l->call_ms <= 0) l->call_ms = SCRIPT_DEFAULT_CALL_MS;
    if (l->load_ms <= 0) l->load_ms = SCRIPT_DEFAULT_LOAD_MS;
    if (l->mem == 0) l->mem = SCRIPT_DEFAULT_MEM;
    w->fd = -1;
    return w;
}

static void
job_free(wjob *j)
{
    buf_free(&j->feed_enc);
    buf_free(&j->items_enc);
    for (size_t i = 0; i < j->nitems; i++)
        free(j->ids[i]);
    free(j->ids);
    free(j->off);
    free(j->sids);
    free(j->loads);
    for (size_t i = 0; i < j->nkills; i++)
        free(j->kills[i].msg);
    free(j->kills);
    action_list_free(&j->out);
    free(j);
}

static void
script_slot_free(wscript *s)
{
    free(s->path);
    free(s->src);
    free(s->error);
    memset(s, 0, sizeof *s);
}

/* Ends the worker process (if any) and forgets what it had loaded. */
static int
stop_child(worker *w)
{
    int status = -1;
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
        }
        /* ECHILD: an event loop reaped it for us (libev's default loop
         * reaps every child); the status is then unknown. */
    }
    if (w->fd >= 0) close(w->fd);
    if (w->shm) munmap(w->shm, sizeof *w->shm);
    w->pid = 0;
    w->fd = -1;
    w->shm = NULL;
    w->hello = false;
    buf_reset(&w->out);
    w->xtail = NULL;
    w->tail_len = 0;
    w->out_off = 0;
    buf_reset(&w->in);
    w->in_off = 0;
    for (size_t i = 0; i < w->nscripts; i++)
        w->scripts[i].in_child = false;
    if (w->head) w->head->sent = false;
    return status;
}

void
worker_free(worker *w)
{
    if (!w) return;
    stop_child(w);
    while (w->head) {
        wjob *n = w->head->next;
        job_free(w->head);
        w->head = n;
    }
    for (size_t i = 0; i < w->nscripts; i++)
        script_slot_free(&w->scripts[i]);
    free(w->scripts);
    buf_free(&w->out);
    buf_free(&w->in);
    for (size_t i = 0; i < ARRAY_LEN(w->spare); i++)
        buf_free(&w->spare[i]);
    free(w);
}

static size_t
vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static int
spawn(worker *w, char *err, size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    /* Large buffers: fewer wake-ups per batch on both sides. */
    int sz = 1 << 20;
    for (int i = 0; i < 2; i++) {
        setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    }
    worker_shm *shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    memset(shm, 0, sizeof *shm);
    /* Room for every script state at its cap, the frames, and the parent's
     * own mappings the child inherits. */
    size_t live = 1;
    for (size_t i = 0; i < w->nscripts; i++)
        live += w->scripts[i].path != NULL;
    size_t as_limit =
        vm_size() + ((size_t)1 << 30) + live * w->o.limits.mem * 2;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        munmap(shm, sizeof *shm);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        child_main(&w->o, sv[1], shm, as_limit);
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    w->pid = pid;
    w->fd = sv[0];
    w->shm = shm;
    w->hello = false;
    w->obs_seq = 0;
    w->samp_cpu = -1; /* a new process */
    w->has_cpu_clk = clock_getcpuclockid(pid, &w->cpu_clk) == 0;
    observe(w, now_ms());
    return 0;
}

/* ---- scripts ---------------------------------------------------------- */

static uint32_t
script_slot(worker *w, const char *path, action_list *out)
{
    for (size_t i = 0; i < w->nscripts; i++)
        if (w->scripts[i].path && !w->scripts[i].stale &&
            !strcmp(w->scripts[i].path, path))
            return (uint32_t)i;
    size_t i = 0;
    while (i < w->nscripts && w->scripts[i].path)
        i++;
    if (i == w->nscripts) {
        if (w->nscripts == WORKER_MAX_SCRIPTS) {
            /* Reuse the last slot for an error entry: the job still
             * gets one error per item rather than silence. */
            i = WORKER_MAX_SCRIPTS - 1;
            script_slot_free(&w->scripts[i]);
        } else {
            w->scripts =
                xrealloc(w->scripts, (w->nscripts + 1) * sizeof *w->scripts);
            memset(&w->scripts[w->nscripts], 0, sizeof *w->scripts);
            w->nscripts++;
        }
    }
    wscript *s = &w->scripts[i];
    s->path = xstrdup(path);
    char err[ACTION_MAX_MESSAGE];
    buf b = {0};
    if (i == WORKER_MAX_SCRIPTS - 1 && w->nscripts == WORKER_MAX_SCRIPTS) {
        snprintf(err, sizeof err, "%s: too many scripts (limit %d)", path,
                 WORKER_MAX_SCRIPTS);
        s->error = xstrdup(err);
    } else if (read_file(path, SCRIPT_MAX_SOURCE, &b) < 0) {
        if (errno == EFBIG)
            snprintf(err, sizeof err, "%s: script too large (limit %zu bytes)",
                     path, SCRIPT_MAX_SOURCE);
        else
            snprintf(err, sizeof err, "%s: %s", path, strerror(errno));
        s->error = xstrdup(err);
    } else if (script_check(path, b.p ? b.p : "", b.len, err, sizeof err) < 0) {
        s->error = xstrdup(err);
    } else {
        s->len = b.len;
        s->src = buf_detach(&b);
    }
    buf_free(&b);
    if (s->error) action_error(out, path, -1, NULL, s->error);
    return (uint32_t)i;
}

const char *
worker_script_error(const worker *w, const char *path)
{
    for (size_t i = 0; i < w->nscripts; i++)
        if (w->scripts[i].path && !w->scripts[i].stale &&
            !strcmp(w->scripts[i].path, path))
            return w->scripts[i].error;
    return NULL;
}

int
worker_check_script(const char *path, char *err, size_t errlen)
{
    static const rule_feed none = {"", "", "", "", NULL, DATE_NONE, "", ""};
    worker *w = worker_new(NULL);
    worker_submit(w, &none, NULL, 0, &path, 1, NULL, NULL);
    worker_wait(w);
    const char *e = worker_script_error(w, path);
    if (e) snprintf(err, errlen, "%s", e);
    worker_free(w);
    return e ? -1 : 0;
}

void
worker_reload(worker *w)
{
    for (size_t i = 0; i < w->nscripts; i++)
        if (w->scripts[i].path) w->scripts[i].stale = true;
    w->reload_pending = true;
}

void
worker_submit(worker *w, const rule_feed *f, const feed_item *items,
              size_t nitems, const char *const *paths, size_t npaths,
              worker_done_fn done, void *ud)
{
    worker_submit_updates(w, f, items, NULL, nitems, paths, npaths, done, ud);
}

void
worker_submit_updates(worker *w, const rule_feed *f, const feed_item *items,
                      const feed_item *const *olds, size_t nitems,
                      const char *const *paths, size_t npaths,
                      worker_done_fn done, void *ud)
{
    wjob *j = xcalloc(1, sizeof *j);
    action_list_init(&j->out);
    j->serial = ++w->serial;
    j->done = done;
    j->ud = ud;
    j->ns = npaths;
    j->sids = xmalloc((npaths ? npaths : 1) * sizeof *j->sids);
    for (size_t i = 0; i < npaths; i++)
        j->sids[i] = script_slot(w, paths[i], &j->out);
    itemcodec_put_feed(&j->feed_enc, f);
    /* the largest spare buffer */
    size_t k = 0;
    for (size_t i = 1; i < ARRAY_LEN(w->spare); i++)
        if (w->spare[i].cap > w->spare[k].cap) k = i;
    j->items_enc = w->spare[k];
    memset(&w->spare[k], 0, sizeof w->spare[k]);
    buf_reset(&j->items_enc);
    j->nitems = nitems;
    j->ids = xmalloc((nitems ? nitems : 1) * sizeof *j->ids);
    j->off = xmalloc((nitems + 1) * sizeof *j->off);
    for (size_t i = 0; i < nitems; i++) {
        j->off[i] = j->items_enc.len;
        itemcodec_put_item(&j->items_enc, &items[i]);
        /* an update carries the stored copy: on_update(item, old) */
        const feed_item *old = olds ? olds[i] : NULL;
        codec_put_u8(&j->items_enc, old != NULL);
        if (old) itemcodec_put_item(&j->items_enc, old);
        j->ids[i] = xstrdup(items[i].id ? items[i].id : "");
    }
    j->off[nitems] = j->items_enc.len;
    j->total = j->ns + (uint64_t)nitems * j->ns;
    j->cursor = j->ns;
    j->res.items = nitems;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
}

/* ---- accounting ------------------------------------------------------- */

static const char *
kill_msg(const wjob *j, uint64_t pos)
{
    for (size_t i = 0; i < j->nkills; i++)
        if (j->kills[i].pos == pos) return j->kills[i].msg;
    return NULL;
}

static bool
runnable(const worker *w, const wjob *j, uint64_t pos)
{
    const wscript *s = &w->scripts[j->sids[(pos - j->ns) % j->ns]];
    return !s->error && !kill_msg(j, pos);
}

static void
item_of(const wjob *j, uint64_t pos, int32_t *item, const char **id,
        const char **path, const worker *w)
{
    size_t i = (size_t)((pos - j->ns) / j->ns);
    *item = (int32_t)i;
    *id = j->ids[i];
    *path = w->scripts[j->sids[(pos - j->ns) % j->ns]].path;
}

/* Accounts for a position the worker did not run: its error. */
static void
account_skipped(worker *w, wjob *j, uint64_t pos)
{
    int32_t item;
    const char *id, *path;
    item_of(j, pos, &item, &id, &path, w);
    const char *km = kill_msg(j, pos);
    if (km) {
        action_error(&j->out, path, item, id, km);
    } else {
        const wscript *s = &w->scripts[j->sids[(pos - j->ns) % j->ns]];
        buf m = {0};
        buf_printf(&m, "%s: not run: the script cannot be loaded: %s", path,
                   s->error ? s->error : "?");
        action_error(&j->out, path, item, id, m.p);
        buf_free(&m);
    }
    j->res.calls++;
    j->res.failed++;
}

/* Accounts for the positions from the cursor up to `pos` (excluded),
 * which must all be positions the worker was not to run. */
static bool
skip_to(worker *w, wjob *j, uint64_t pos)
{
    if (pos < j->cursor || pos > j->total) return false;
    for (uint64_t p = j->cursor; p < pos; p++)
        if (runnable(w, j, p)) return false;
    for (uint64_t p = j->cursor; p < pos; p++)
        account_skipped(w, j, p);
    j->cursor = pos;
    return true;
}

static void
finish_job(worker *w)
{
    wjob *j = w->head;
    w->head = j->next;
    if (!w->head) w->tail = NULL;
    j->res.actions = &j->out;
    if (j->done) j->done(j->ud, &j->res);
    if (j->items_enc.cap <= SPARE_MAX) {
        /* replace the smallest spare if this one is larger */
        size_t k = 0;
        for (size_t i = 1; i < ARRAY_LEN(w->spare); i++)
            if (w->spare[i].cap < w->spare[k].cap) k = i;
        if (j->items_enc.cap > w->spare[k].cap) {
            buf t = w->spare[k];
            w->spare[k] = j->items_enc;
            j->items_enc = t;
        }
    }
    job_free(j);
}

static void
add_kill(wjob *j, uint64_t pos, const char *msg)
{
    size_t i = j->nkills;
    j->kills = xrealloc(j->kills, (j->nkills + 1) * sizeof *j->kills);
    while (i > 0 && j->kills[i - 1].pos > pos) {
        j->kills[i] = j->kills[i - 1];
        i--;
    }
    j->kills[i].pos = pos;
    j->kills[i].msg = xstrdup(msg);
    j->nkills++;
}

/* Every call not yet accounted for ends with `msg` (the worker cannot be
 * started); the job then completes. */
static void
fail_job(worker *w, const char *msg)
{
    wjob *j = w->head;
    for (uint64_t p = j->cursor; p < j->total; p++) {
        if (runnable(w, j, p)) {
            int32_t item;
            const char *id, *path;
            item_of(j, p, &item, &id, &path, w);
            buf m = {0};
            buf_printf(&m, "%s: not run: %s", path, msg);
            action_error(&j->out, path, item, id, m.p);
            buf_free(&m);
            j->res.calls++;
            j->res.failed++;
        } else {
            account_skipped(w, j, p);
        }
    }
    j->cursor = j->total;
    finish_job(w);
}

/* ---- talking to the worker -------------------------------------------- */

static void
send_job(worker *w, wjob *j)
{
    uint64_t start = j->cursor;
    size_t at = msg_begin(&w->out, P2W_JOB);
    codec_put_u32(&w->out, j->serial);
    codec_put_u64(&w->out, start);
    codec_put_u32(&w->out, (uint32_t)j->ns);
    free(j->loads);
    j->loads = xmalloc(j->ns * sizeof *j->loads);
    j->nloads = j->lidx = 0;
    for (size_t i = 0; i < j->ns; i++) {
        wscript *s = &w->scripts[j->sids[i]];
        codec_put_u32(&w->out, j->sids[i]);
        if (s->error) {
            codec_put_u8(&w->out, MODE_SKIP);
        } else if (s->in_child) {
            codec_put_u8(&w->out, MODE_READY);
        } else {
            codec_put_u8(&w->out, MODE_LOAD);
            codec_put_str(&w->out, s->path);
            codec_put_strn(&w->out, s->src, s->len);
            s->in_child = true;
            j->loads[j->nloads++] = (uint32_t)i;
        }
    }
    codec_put_u32(&w->out, (uint32_t)j->nkills);
    for (size_t i = 0; i < j->nkills; i++)
        codec_put_u64(&w->out, j->kills[i].pos);
    buf_add(&w->out, j->feed_enc.p, j->feed_enc.len);
    size_t first = (size_t)((start - j->ns) / j->ns);
    if (first > j->nitems) first = j->nitems;
    codec_put_u32(&w->out, (uint32_t)(j->nitems - first));
    /* The items are sent from the job's own buffer, which stays put while
     * the job is in flight: no second copy of a large batch. */
    w->xtail = j->items_enc.p + j->off[first];
    w->tail_len = j->off[j->nitems] - j->off[first];
    uint32_t n = (uint32_t)(w->out.len - at - sizeof n + w->tail_len);
    memcpy(w->out.p + at, &n, sizeof n);
    j->sent = true;
    observe(w, now_ms());
    /* The worker is idle (its previous job ended): what the shared page
     * says now is the start of the previous job's last call, maybe many
     * seconds ago. Only a change from here on is a call of this job;
     * taking the old start for one killed the first call after any pause
     * longer than a call's budget. */
    if (w->shm)
        w->obs_seq = atomic_load_explicit(&w->shm->seq, memory_order_acquire);
}

/* Writes what it can. -1 if the worker is gone. */
static int
flush_out(worker *w)
{
    size_t total = w->out.len + w->tail_len;
    while (w->out_off < total) {
        struct iovec iov[2];
        int n = 0;
        if (w->out_off < w->out.len) {
            iov[n].iov_base = w->out.p + w->out_off;
            iov[n++].iov_len = w->out.len - w->out_off;
        }
        size_t toff = w->out_off > w->out.len ? w->out_off - w->out.len : 0;
        if (w->tail_len > toff) {
            iov[n].iov_base = (void *)(uintptr_t)(w->xtail + toff);
            iov[n++].iov_len = w->tail_len - toff;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t r = sendmsg(w->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
        w->out_off += (size_t)r;
    }
    buf_reset(&w->out);
    w->xtail = NULL;
    w->tail_len = 0;
    w->out_off = 0;
    return 0;
}

static bool
on_loaded(worker *w, wjob *j, codec_rd *r)
{
    uint64_t pos = codec_get_u64(r);
    uint8_t ok = codec_get_u8(r);
    size_t elen;
    const char *e = codec_get_str(r, ACTION_MAX_MESSAGE, &elen);
    if (r->bad || j->lidx >= j->nloads || pos != j->loads[j->lidx])
        return codec_fail(r, "unexpected load result");
    wscript *s = &w->scripts[j->sids[pos]];
    if (!itemcodec_get_actions(r, &j->out, s->path, -1, NULL)) return false;
    if (!ok) {
        if (!e || elen == 0) return codec_fail(r, "load failed without reason");
        buf m = {0};
        utf8_repair(&m, e, elen);
        free(s->error);
        s->error = buf_detach(&m);
        action_error(&j->out, s->path, -1, NULL, s->error);
    }
    j->lidx++;
    return true;
}

static bool
on_result(worker *w, wjob *j, codec_rd *r)
{
    uint64_t pos = codec_get_u64(r);
    if (r->bad || j->lidx < j->nloads || pos < j->ns || pos >= j->total ||
        !skip_to(w, j, pos) || !runnable(w, j, pos))
        return codec_fail(r, "result for an unexpected call");
    int32_t item;
    const char *id, *path;
    item_of(j, pos, &item, &id, &path, w);
    size_t before = j->out.len;
    if (!itemcodec_get_actions(r, &j->out, path, item, id)) return false;
    for (size_t i = before; i < j->out.len; i++)
        if (j->out.v[i].kind == ACTION_ERROR) {
            j->res.failed++;
            break;
        }
    j->res.calls++;
    j->cursor = pos + 1;
    return true;
}

static bool
on_okrange(worker *w, wjob *j, codec_rd *r)
{
    uint64_t to = codec_get_u64(r);
    if (r->bad || j->lidx < j->nloads || to < j->cursor || to >= j->total ||
        !runnable(w, j, to))
        return codec_fail(r, "unexpected range of calls");
    for (uint64_t p = j->cursor; p <= to; p++) {
        if (runnable(w, j, p))
            j->res.calls++;
        else
            account_skipped(w, j, p);
    }
    j->cursor = to + 1;
    return true;
}

static bool
on_message(worker *w, uint8_t type, codec_rd *r)
{
    wjob *j = w->head;
    if (type == W2P_HELLO) {
        size_t n;
        const char *info = codec_get_str(r, sizeof w->info - 1, &n);
        if (w->hello || !info) return codec_fail(r, "unexpected hello");
        memcpy(w->info, info, n + 1);
        w->hello = true;
        log_debug("rules: worker %d started: %s", (int)w->pid, w->info);
        return true;
    }
    if (!w->hello || !j || !j->sent) return codec_fail(r, "unexpected message");
    switch (type) {
    case W2P_LOADED:
        return on_loaded(w, j, r);
    case W2P_RESULT:
        return on_result(w, j, r);
    case W2P_OKRANGE:
        return on_okrange(w, j, r);
    case W2P_DONE:
        if (codec_get_u32(r) != j->serial || j->lidx < j->nloads ||
            !skip_to(w, j, j->total))
            return codec_fail(r, "job ended early");
        finish_job(w);
        return true;
    default:
        return codec_fail(r, "unknown message type");
    }
}

/* Parses complete messages. Returns NULL or why the input is bad. */
static const char *
parse_in(worker *w)
{
    for (;;) {
        size_t avail = w->in.len - w->in_off;
        uint32_t len;
        if (avail < sizeof len) break;
        memcpy(&len, w->in.p + w->in_off, sizeof len);
        if (len == 0 || len > MAX_W2P_MSG) return "message size out of bounds";
        if (avail - sizeof len < len) break;
        codec_rd r;
        codec_rd_init(&r, w->in.p + w->in_off + sizeof len, len);
        uint8_t type = codec_get_u8(&r);
        bool ok = on_message(w, type, &r);
        if (ok && r.p != r.end) ok = codec_fail(&r, "trailing bytes");
        if (!ok) return r.why ? r.why : "malformed message";
        w->in_off += sizeof len + len;
        if (!w->pid) return NULL; /* a callback stopped everything */
    }
    if (w->in_off == w->in.len) {
        buf_reset(&w->in);
        w->in_off = 0;
    } else if (w->in_off > ((size_t)1 << 20)) {
        memmove(w->in.p, w->in.p + w->in_off, w->in.len - w->in_off);
        w->in.len -= w->in_off;
        w->in_off = 0;
    }
    return NULL;
}

/* Reads and handles what is there. 1 if anything came, 0 if not, -1 when
 * the worker closed its end; *bad is set for a protocol violation. */
static int
read_in(worker *w, const char **bad)
{
    size_t got = 0;
    while (got < READ_PER_STEP && w->fd >= 0) {
        if (w->in.cap - w->in.len < 65536 + 1) buf_grow(&w->in, 65536);
        ssize_t n = recv(w->fd, w->in.p + w->in.len, w->in.cap - w->in.len - 1,
                         MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return -1;
        }
        if (n == 0) return -1;
        w->in.len += (size_t)n;
        got += (size_t)n;
        if ((*bad = parse_in(w))) return 1;
    }
    return got > 0;
}

/* ---- time ------------------------------------------------------------- */

typedef struct shm_view {
    bool valid;
    uint64_t seq;
    uint32_t serial;
    uint64_t pos;
    int64_t started;
} shm_view;

static shm_view
read_shm(const worker *w)
{
    shm_view v = {0};
    if (!w->shm) return v;
    for (int tries = 0; tries < 100; tries++) {
        uint64_t q1 = atomic_load_explicit(&w->shm->seq, memory_order_acquire);
        if (q1 & 1) continue;
        v.serial = atomic_load_explicit(&w->shm->serial, memory_order_relaxed);
        v.pos = atomic_load_explicit(&w->shm->pos, memory_order_relaxed);
        v.started =
            atomic_load_explicit(&w->shm->started, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&w->shm->seq, memory_order_relaxed) == q1) {
            v.seq = q1;
            v.valid = q1 != 0;
            return v;
        }
    }
    return v;
}

/* How long the call the worker runs now may take before we kill it. */
static int64_t
kill_after(const worker *w, bool item_call)
{
    int64_t b = item_call ? w->o.limits.call_ms : w->o.limits.load_ms;
    int64_t t = b * w->o.kill_factor + WORKER_KILL_SLACK_MS;
    if (!w->hello) t += START_TIMEOUT_MS;
    return t;
}

/* When the call in progress must be over (-1: nothing to watch); with
 * *check, when to look again, which can be sooner: we only see that the
 * worker moved on to the next call when we look, and an item call may
 * start any time after a load. */
static int64_t
kill_deadline(worker *w, int64_t *check)
{
    int64_t now = now_ms();
    *check = -1;
    if (!w->head) return -1;
    if (!w->pid || !w->head->sent) {
        *check = now;
        return -1;
    }
    shm_view v = read_shm(w);
    if (v.valid && v.seq != w->obs_seq) {
        w->obs_seq = v.seq;
        /* the worker's own clock reading, not later than when we saw it */
        observe(w, v.started <= now && v.started > now - 60000 ? v.started
                                                                 : now);
    }
    bool item = v.valid && v.serial == w->head->serial && v.pos >= w->head->ns;
    w->obs_allow = kill_after(w, item);
    int64_t dl = w->obs_at + w->obs_allow + w->grace;
    *check = dl;
    if (!item && now + kill_after(w, true) < dl)
        *check = now + kill_after(w, true);
    /* a CPU sample at least every quarter allowance, for observe() */
    int64_t every = w->obs_allow / 4 > 50 ? w->obs_allow / 4 : 50;
    if (now - w->samp_at >= every / 2) sample_cpu(w, now);
    if (now + every < *check) *check = now + every;
    return dl;
}

int64_t
worker_deadline(worker *w)
{
    int64_t check;
    kill_deadline(w, &check);
    if (!w->head && w->reload_pending && w->pid) return now_ms();
    return check;
}

/* ---- losing a worker -------------------------------------------------- */

enum loss { LOSS_TIMEOUT, LOSS_DIED, LOSS_PROTOCOL };

static void
lose_worker(worker *w, enum loss why, const char *detail)
{
    wjob *j = w->head;
    shm_view v = read_shm(w);
    int64_t elapsed = now_ms() - w->obs_at;
    bool hello = w->hello;
    int status = stop_child(w);
    if (!j) return;
    char what[160];
    if (why == LOSS_DIED && status >= 0 && WIFSIGNALED(status))
        snprintf(what, sizeof what, "the rule worker died (signal %d)",
                 WTERMSIG(status));
    else if (why == LOSS_DIED && status >= 0 && WIFEXITED(status))
        snprintf(what, sizeof what, "the rule worker died (exit status %d)",
                 WEXITSTATUS(status));
    else if (why == LOSS_DIED)
        snprintf(what, sizeof what, "the rule worker died");
    else if (why == LOSS_PROTOCOL)
        snprintf(what, sizeof what,
                 "the rule worker sent an invalid reply (%s)", detail);
    else
        what[0] = '\0';
    if (!hello) {
        char m[256];
        snprintf(m, sizeof m, "the rule worker could not start (%s)",
                 why == LOSS_TIMEOUT ? "no answer" : what);
        log_err("rules: %s", m);
        fail_job(w, m);
        return;
    }
    j->res.restarts++;
    buf m = {0};
    /* Which call to charge: the one the worker said it was running, if
     * that makes sense, else the first one not accounted for. */
    bool use_shm = why != LOSS_PROTOCOL && v.valid && v.serial == j->serial;
    if (j->lidx < j->nloads && !(use_shm && v.pos >= j->ns)) {
        size_t k = j->lidx;
        if (use_shm && v.pos < j->ns)
            for (size_t x = j->lidx; x < j->nloads; x++)
                if (j->loads[x] == v.pos) k = x;
        wscript *s = &w->scripts[j->sids[j->loads[k]]];
        if (why == LOSS_TIMEOUT)
            buf_printf(&m,
                       "%s: loading was stopped after %lld ms: the top "
                       "level did not end within its time budget (%lld ms)",
                       s->path, (long long)elapsed,
                       (long long)w->o.limits.load_ms);
        else
            buf_printf(&m, "%s: %s while loading the script", s->path, what);
        free(s->error);
        s->error = buf_detach(&m);
        action_error(&j->out, s->path, -1, NULL, s->error);
        log_warn("rules: %s", s->error);
        return;
    }
    uint64_t q = j->total;
    if (use_shm && v.pos >= j->cursor && v.pos < j->total && v.pos >= j->ns &&
        runnable(w, j, v.pos))
        q = v.pos;
    for (uint64_t p = j->cursor; q == j->total && p < j->total; p++)
        if (runnable(w, j, p)) q = p;
    if (q == j->total) return; /* nothing was left to run */
    int32_t item;
    const char *id, *path;
    item_of(j, q, &item, &id, &path, w);
    if (why == LOSS_TIMEOUT)
        buf_printf(&m,
                   "%s: killed after %lld ms: on_item did not return "
                   "within its time budget (%lld ms); a C function such "
                   "as string.find with a backtracking pattern cannot be "
                   "interrupted",
                   path, (long long)elapsed, (long long)w->o.limits.call_ms);
    else
        buf_printf(&m, "%s: %s during this call", path, what);
    add_kill(j, q, m.p);
    log_warn("rules: item %s: %s", id, m.p);
    buf_free(&m);
}

/* ---- driving ---------------------------------------------------------- */

int
worker_fd(const worker *w)
{
    return w->fd;
}

int
worker_pid(const worker *w)
{
    return (int)w->pid;
}

bool
worker_wants_write(const worker *w)
{
    return w->out_off < w->out.len + w->tail_len;
}

bool
worker_busy(const worker *w)
{
    return w->head != NULL;
}

const char *
worker_sandbox_info(const worker *w)
{
    return w->info;
}

static void
apply_reload(worker *w)
{
    stop_child(w);
    for (size_t i = 0; i < w->nscripts; i++)
        if (w->scripts[i].stale) script_slot_free(&w->scripts[i]);
    w->reload_pending = false;
}

/* A call whose time is up by the wall clock gets the CPU time it was
 * denied (a busy or swapping machine, a stopped process), up to
 * STARVED_MAX times its allowance in all: a rule is killed for what it
 * does, not for what the machine does to it. A call that used its
 * allowance of CPU is over. True if it was given more time. */
#define STARVED_MAX 5

static bool
starved(worker *w)
{
    int64_t cpu = worker_cpu_ms(w);
    if (w->obs_cpu < 0 || cpu < 0) return false;
    int64_t missing = w->obs_allow - WORKER_KILL_SLACK_MS - (cpu - w->obs_cpu);
    int64_t room = w->obs_allow * (STARVED_MAX - 1) - w->grace;
    if (missing <= 0 || room <= 0) return false;
    w->grace += missing < room ? missing : room;
    return true;
}

/* One step does at most this much work, so that a worker streaming
 * results never holds the event loop for long; the descriptor stays
 * readable and the loop comes back. */
#define STEP_MAX_MS 20

void
worker_step(worker *w)
{
    int64_t t0 = now_ms();
    for (;;) {
        if (now_ms() - t0 > STEP_MAX_MS) return;
        wjob *j = w->head;
        if (!j) {
            if (w->reload_pending) apply_reload(w);
            return;
        }
        if (j->ns == 0) {
            finish_job(w);
            continue;
        }
        if (!w->pid) {
            char err[256];
            if (spawn(w, err, sizeof err) < 0) {
                char m[300];
                snprintf(m, sizeof m, "cannot start the rule worker: %s", err);
                log_err("rules: %s", m);
                fail_job(w, m);
                continue;
            }
        }
        if (!j->sent) send_job(w, j);
        if (flush_out(w) < 0) {
            /* read what it said before it went away */
            const char *bad = NULL;
            read_in(w, &bad);
            lose_worker(w, bad ? LOSS_PROTOCOL : LOSS_DIED, bad);
            continue;
        }
        const char *bad = NULL;
        int r = read_in(w, &bad);
        if (bad) {
            lose_worker(w, LOSS_PROTOCOL, bad);
            continue;
        }
        if (r < 0) {
            lose_worker(w, LOSS_DIED, NULL);
            continue;
        }
        if (w->head != j) continue; /* a job ended: send the next one */
        if (r > 0) {
            /* Output arrived: the worker is alive, and may have waited for
             * us to read (we are the slow one then). */
            observe(w, now_ms());
            continue;
        }
        int64_t check, dl = kill_deadline(w, &check);
        if (dl >= 0 && now_ms() >= dl && !starved(w)) {
            lose_worker(w, LOSS_TIMEOUT, NULL);
            continue;
        }
        return;
    }
}

static size_t
jobs_pending(const worker *w)
{
    size_t n = 0;
    for (const wjob *j = w->head; j; j = j->next) n++;
    return n;
}

void
worker_wait(worker *w)
{
    worker_wait_some(w, 0);
}

void
worker_wait_some(worker *w, size_t pending)
{
    for (;;) {
        worker_step(w);
        if (jobs_pending(w) <= pending) return;
        struct pollfd p = {w->fd, POLLIN, 0};
        if (worker_wants_write(w)) p.events |= POLLOUT;
        int64_t dl = worker_deadline(w);
        int64_t now = now_ms();
        int timeout = dl < 0 ? -1 : dl <= now ? 0 : (int)(dl - now);
        if (p.fd >= 0) {
            if (poll(&p, 1, timeout) < 0 && errno != EINTR) {
                log_err("vigie: poll: %s", strerror(errno));
                return;
            }
        }
    }
}
