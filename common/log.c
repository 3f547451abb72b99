/* Logging: the journal with structured fields under systemd, stderr otherwise */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#define LOG_IDENTIFIER "hostagentd"
#define LOG_FIELDS_MAX 16

static atomic_int max_level = LOG_INFO;
static bool use_journal;

static const char *const log_level_table[] = {
        [LOG_EMERG] = "emerg",   [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",       [LOG_WARNING] = "warning",
        [LOG_NOTICE] = "notice", [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(log_level_table); i++)
                if (streq(log_level_table[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || (size_t) level >= ELEMENTSOF(log_level_table))
                return NULL;
        return log_level_table[level];
}

void log_set_max_level(int level) {
        atomic_store(&max_level, level);
}

int log_get_max_level(void) {
        return atomic_load(&max_level);
}

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_open(void) {
        use_journal = stderr_is_journal();
}

static void log_to_stderr(int level, const char *message, const char *const *fields) {
        char extra[512] = "";
        size_t used = 0;

        for (size_t i = 0; fields && fields[i] && fields[i + 1] && used < sizeof extra; i += 2) {
                int n = snprintf(extra + used, sizeof extra - used, " %s=%s", fields[i], fields[i + 1]);
                if (n < 0)
                        break;
                used += (size_t) n;
        }
        fprintf(stderr, "%s[%d]: <%s> %s%s%s%s\n", LOG_IDENTIFIER, (int) getpid(),
                log_level_to_string(level) ?: "?", message,
                used ? " [" : "", used ? extra + 1 : "", used ? "]" : "");
}

static void log_to_journal_fields(int level, int error, const char *file, int line,
                                  const char *func, const char *message,
                                  const char *const *fields) {
        /* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_*, ERRNO + caller fields */
        char buf[6 + LOG_FIELDS_MAX][256];
        struct iovec iov[6 + LOG_FIELDS_MAX];
        _cleanup_(freep) char *msg = NULL;
        size_t n = 0;

        if (asprintf(&msg, "MESSAGE=%s", message) < 0)
                return;
        iov[n++] = (struct iovec) { .iov_base = msg, .iov_len = strlen(msg) };
#define ADD(fmt, ...)                                                                    \
        do {                                                                             \
                int _l = snprintf(buf[n], sizeof buf[n], fmt, __VA_ARGS__);              \
                if (_l > 0)                                                              \
                        iov[n] = (struct iovec) { .iov_base = buf[n],                    \
                                .iov_len = (size_t) _l < sizeof buf[n] ? (size_t) _l     \
                                                                      : sizeof buf[n] - 1 }; \
                if (_l > 0)                                                              \
                        n++;                                                             \
        } while (0)
        ADD("PRIORITY=%d", level);
        ADD("SYSLOG_IDENTIFIER=%s", LOG_IDENTIFIER);
        ADD("CODE_FILE=%s", file);
        ADD("CODE_LINE=%d", line);
        ADD("CODE_FUNC=%s", func);
        if (error != 0)
                ADD("ERRNO=%d", abs(error));
        for (size_t i = 0; fields && fields[i] && fields[i + 1] && n < ELEMENTSOF(iov); i += 2)
                ADD("%s=%s", fields[i], fields[i + 1]);
#undef ADD
        (void) sd_journal_sendv(iov, (int) n);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *const *fields, const char *format, ...) {
        char message[2048];
        int saved_errno = errno;
        va_list ap;

        if (level > log_get_max_level())
                return -abs(error);

        /* %m in formats refers to ERROR, as in systemd's log functions. */
        errno = abs(error);
        va_start(ap, format);
        (void) vsnprintf(message, sizeof message, format, ap);
        va_end(ap);

        if (use_journal)
                log_to_journal_fields(level, error, file, line, func, message, fields);
        else
                log_to_stderr(level, message, fields);
        errno = saved_errno;
        return -abs(error);
}
