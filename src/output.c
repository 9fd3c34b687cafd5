/* Output without allocation: a bounded buffer and write(2). */
#include "output.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void xs_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

int xs_fd_above_std(int fd)
{
    if (fd < 0 || fd > STDERR_FILENO)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int saved = errno;
    close(fd);
    errno = saved;
    return high;
}

void xs_message(const char *level, const char *fmt, ...)
{
    char storage[1024];
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    xs_buf_printf(&b, "xisan: %s: ", level);
    va_list ap;
    va_start(ap, fmt);
    if (b.len < b.cap) {
        int n = vsnprintf(b.p + b.len, b.cap - b.len, fmt, ap);
        if (n > 0)
            b.len = (size_t)n < b.cap - b.len ? b.len + (size_t)n : b.cap - 1;
    }
    va_end(ap);
    xs_buf_puts(&b, "\n");
    if (b.truncated && b.len > 0)
        b.p[b.len - 1] = '\n';
    /* A process that `xisan run` started leaves its warnings to the command,
     * which prints each once for the whole run: the program's stderr stays
     * the program's. */
    if (strcmp(level, "warning") == 0 && xs_run_by_command()) {
        char line[sizeof(storage) + 16];
        int n = snprintf(line, sizeof(line), "message\t%s", b.p);
        xs_run_state_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        return;
    }
    xs_write_all(2, b.p, b.len);
}

void xs_buf_init(xs_buf_t *b, char *storage, size_t cap)
{
    b->p = storage;
    b->len = 0;
    b->cap = cap;
    b->truncated = false;
    if (cap)
        storage[0] = '\0';
}

void xs_buf_printf(xs_buf_t *b, const char *fmt, ...)
{
    if (b->len + 1 >= b->cap) {
        b->truncated = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        b->len = b->cap - 1;
        b->truncated = true;
    } else {
        b->len += (size_t)n;
    }
}

void xs_buf_puts(xs_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        n = b->cap > b->len + 1 ? b->cap - b->len - 1 : 0;
        b->truncated = true;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    if (b->cap)
        b->p[b->len] = '\0';
}

void xs_buf_json_string(xs_buf_t *b, const char *s)
{
    char tmp[8];
    xs_buf_puts(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
        switch (*c) {
        case '"':
            xs_buf_puts(b, "\\\"");
            break;
        case '\\':
            xs_buf_puts(b, "\\\\");
            break;
        case '\n':
            xs_buf_puts(b, "\\n");
            break;
        case '\t':
            xs_buf_puts(b, "\\t");
            break;
        default:
            if (*c < 0x20) {
                snprintf(tmp, sizeof(tmp), "\\u%04x", *c);
                xs_buf_puts(b, tmp);
            } else {
                tmp[0] = (char)*c;
                tmp[1] = '\0';
                xs_buf_puts(b, tmp);
            }
        }
    }
    xs_buf_puts(b, "\"");
}
