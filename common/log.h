/* Logging: the journal with structured fields under systemd, stderr otherwise */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Decide the target once at start: the journal when systemd connected our
 * stderr to it (JOURNAL_STREAM names stderr's device and inode), else stderr. */
void log_open(void);

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);    /* -EINVAL when unknown */
const char *log_level_to_string(int level);  /* NULL when out of range */

/* FIELDS is NULL or a NULL-terminated list of "KEY", "value" pairs that go
 * into the journal entry (OBJECT_PATH, VM_UUID, CALLER_UID, ...). Returns
 * -abs(ERROR) so that "return log_error_errno(r, ...)" both logs and fails. */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *const *fields, const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, NULL, __VA_ARGS__)
#define log_fields(level, fields, ...) \
        log_internal((level), 0, __FILE__, __LINE__, __func__, (fields), __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)

/* Builds the FIELDS argument in place: LOG_FIELDS("OBJECT_PATH", path). */
#define LOG_FIELDS(...) ((const char *const[]) { __VA_ARGS__, NULL })
