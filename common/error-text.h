/* Error texts for a caller: "why it failed", handed out beside a -errno */
#pragma once

#include <stddef.h>

/* Sets *RET_ERROR (when RET_ERROR is not NULL) to the formatted text, or to
 * NULL when memory runs out, and returns R: "return error_textf(ret_error,
 * -EIO, "lvcreate: %s", why)". */
int error_textf(char **ret_error, int r, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Text a caller sent that an error message echoes is cut: a name of 30 MB must not become an
 * error of 30 MB, copied on the loop, sent back and logged. At most TEXT_CUT_MAX bytes of it
 * are kept, ending on a whole UTF-8 sequence, and TEXT_CUT_MARKER says that the rest is gone. */
#define TEXT_CUT_MAX 256
#define TEXT_CUT_MARKER "\u2026(cut)"
#define TEXT_CUT_SIZE (TEXT_CUT_MAX + sizeof(TEXT_CUT_MARKER))

/* S itself when it is at most MAX bytes long, else its cut copy in BUF (MAX + sizeof marker
 * bytes); "" for NULL. */
const char *text_cut_n(const char *s, size_t max, char *buf);

/* For an argument of a format: sd_bus_error_setf(e, ..., "no VM named '%s'", TEXT_CUT(key)).
 * The buffer lives until the end of the enclosing block. */
#define TEXT_CUT(s) text_cut_n((s), TEXT_CUT_MAX, (char[TEXT_CUT_SIZE]) {})
