/* Error texts for a caller: "why it failed", handed out beside a -errno */
#include "error-text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int error_textf(char **ret_error, int r, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

const char *text_cut_n(const char *s, size_t max, char *buf) {
        size_t n;

        if (!s)
                return "";
        if (strnlen(s, max + 1) <= max)
                return s;
        /* Back to the start of the sequence the cut would split (continuation bytes are 10xxxxxx). */
        n = max;
        for (int i = 0; i < 3 && n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80; i++)
                n--;
        memcpy(buf, s, n);
        memcpy(buf + n, TEXT_CUT_MARKER, sizeof(TEXT_CUT_MARKER));
        return buf;
}
