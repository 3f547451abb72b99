/* Error texts for a caller: "why it failed", handed out beside a -errno */
#include "error-text.h"

#include <stdarg.h>
#include <stdio.h>

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
