/* Error texts for a caller: "why it failed", handed out beside a -errno */
#pragma once

/* Sets *RET_ERROR (when RET_ERROR is not NULL) to the formatted text, or to
 * NULL when memory runs out, and returns R: "return error_textf(ret_error,
 * -EIO, "lvcreate: %s", why)". */
int error_textf(char **ret_error, int r, const char *format, ...) __attribute__((format(printf, 3, 4)));
