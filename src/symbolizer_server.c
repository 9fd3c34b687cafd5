/* The run's symbolizer, both ends of its socket (symbolizer_server.h). */
#include "symbolizer_server.h"

#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <sys/un.h>
#include <unistd.h>

enum {
    /* A client writes its whole request at once; one that stalls (stopped
     * by a debugger, say) holds the server, which serves one connection
     * at a time, no longer than this. */
    SERVER_TIMEOUT_S = 2,
    /* A client gives up on a server that is busy or stalled and
     * symbolizes in its own process; well under the crash handler's 30 s
     * watchdog, which a report made in a crash must finish within. */
    CLIENT_TIMEOUT_S = 5,
    MAX_LINES = 1024,      /* per request */
    LINE_MAX_BYTES = 4608, /* a path and an offset; a frame's function and file */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_timeouts(int fd, int seconds)
{
    struct timeval tv = {.tv_sec = seconds};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Buffered lines over a socket: reads with the socket's timeout, writes
 * whole buffers. */
typedef struct conn {
    int fd;
    bool failed;
    double deadline; /* CLOCK_MONOTONIC seconds; 0: none */
    char in[8192];
    size_t in_start, in_end;
    char out[8192];
    size_t out_len;
} conn_t;

static void flush(conn_t *c)
{
    size_t done = 0;
    while (!c->failed && done < c->out_len) {
        ssize_t n = send(c->fd, c->out + done, c->out_len - done, MSG_NOSIGNAL);
        if (n > 0)
            done += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else
            c->failed = true;
    }
    c->out_len = 0;
}

static void put(conn_t *c, const char *s, size_t len)
{
    while (len > 0 && !c->failed) {
        if (c->out_len == sizeof(c->out))
            flush(c);
        size_t take = sizeof(c->out) - c->out_len < len ? sizeof(c->out) - c->out_len : len;
        memcpy(c->out + c->out_len, s, take);
        c->out_len += take;
        s += take;
        len -= take;
    }
}

static void putf(conn_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(conn_t *c, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        c->failed = true;
    else
        put(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The next line without its newline, NUL-terminated in `line`; false at
 * the end, on an error, a timeout or a line longer than `len`. */
static bool get_line(conn_t *c, char *line, size_t len)
{
    size_t have = 0;
    for (;;) {
        while (c->in_start < c->in_end) {
            char ch = c->in[c->in_start++];
            if (ch == '\n') {
                line[have] = '\0';
                return true;
            }
            if (have + 1 >= len) {
                c->failed = true;
                return false;
            }
            line[have++] = ch;
        }
        if (c->failed || (c->deadline > 0 && now() > c->deadline)) {
            c->failed = true;
            return false;
        }
        ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            c->failed = true;
            return false;
        }
        c->in_start = 0;
        c->in_end = (size_t)n;
    }
}

int xs_symserver_listen(const char *dir, char *path, size_t len)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(path, len, "%s/symbolizer", dir);
    if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(addr.sun_path, path, (size_t)n + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 128) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* A frame's text fields may not hold the separators. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if (*s == '\t' || *s == '\n')
            *s = ' ';
}

void xs_symserver_serve(int fd)
{
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->deadline = now() + SERVER_TIMEOUT_S; /* for the whole request */
    set_timeouts(fd, SERVER_TIMEOUT_S);
    char line[LINE_MAX_BYTES];
    xs_native_frame_t frames[8];
    for (int lines = 0; lines < MAX_LINES && get_line(c, line, sizeof(line)) && line[0]; lines++) {
        char *end = NULL;
        unsigned long long offset = strtoull(line, &end, 16);
        size_t n = 0;
        if (end && *end == ' ' && end[1] == '/')
            n = xs_symbolize_file(end + 1, (uintptr_t)offset, frames, XS_ARRAY_LEN(frames));
        putf(c, "%zu\n", n);
        for (size_t i = 0; i < n; i++) {
            sanitize(frames[i].function);
            sanitize(frames[i].file);
            putf(c, "%s\t%s\t%d\n", frames[i].function, frames[i].file, frames[i].line);
        }
    }
    flush(c);
    close(fd);
    free(c);
}

/* As much of `src` as fits, cut as xs_symbolize's own fields are. */
static void copy_field(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* "<function>\t<file>\t<line>" into a frame. */
static bool parse_frame(char *line, xs_native_frame_t *f)
{
    char *tab1 = strchr(line, '\t');
    char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (tab2 == NULL)
        return false;
    *tab1 = *tab2 = '\0';
    copy_field(f->function, sizeof(f->function), line);
    copy_field(f->file, sizeof(f->file), tab1 + 1);
    f->line = f->file[0] ? atoi(tab2 + 1) : 0;
    return true;
}

bool xs_symserver_query(const char *socket_path, xs_symserver_item_t *items, size_t n)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (socket_path == NULL || strlen(socket_path) >= sizeof(addr.sun_path) || n > MAX_LINES)
        return false;
    strcpy(addr.sun_path, socket_path);
    int fd = xs_fd_above_std(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd < 0)
        return false;
    set_timeouts(fd, CLIENT_TIMEOUT_S);
    int r;
    while ((r = connect(fd, (struct sockaddr *)&addr, sizeof(addr))) != 0 && errno == EINTR)
        ;
    /* the connection's buffers are static: this runs under the
     * symbolizer's lock, and in a crash handler, which must not allocate */
    static conn_t c;
    c.in_start = c.in_end = c.out_len = 0;
    c.fd = fd;
    c.failed = r != 0;
    c.deadline = now() + CLIENT_TIMEOUT_S;
    for (size_t i = 0; i < n; i++)
        putf(&c, "%llx %s\n", (unsigned long long)items[i].offset, items[i].path);
    put(&c, "\n", 1);
    flush(&c);
    char line[LINE_MAX_BYTES];
    size_t answered = 0;
    for (; answered < n && get_line(&c, line, sizeof(line)); answered++) {
        xs_symserver_item_t *it = &items[answered];
        size_t count = strtoul(line, NULL, 10);
        it->n = 0;
        for (size_t k = 0; k < count && get_line(&c, line, sizeof(line)); k++) {
            if (it->n < it->max && parse_frame(line, &it->frames[it->n]))
                it->n++;
        }
    }
    close(fd);
    return !c.failed && answered == n;
}
