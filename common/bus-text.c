/* Text that may travel in a D-Bus string, whoever wrote it.
 *
 * Names and addresses come from libvirt's XML, directory listings and other
 * tools. One string sd-bus refuses makes a whole reply or signal fail (a
 * VM named with U+FDD0 broke ListVMs for every VM), so text is checked once,
 * where it enters the agent, and every later append can trust it. */
#include "bus-text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */

static bool code_point_allowed(uint32_t c) {
        if (c >= 0x110000 || (c >= 0xd800 && c <= 0xdfff))
                return false;
        if (c >= 0xfdd0 && c <= 0xfdef)
                return false;
        return (c & 0xfffe) != 0xfffe;
}

/* Length of the well-formed UTF-8 sequence at S, or 0 when S does not start
 * one (also at a truncated sequence: the terminating NUL is no continuation
 * byte). *ALLOWED tells whether its code point may travel. */
static size_t char_len(const unsigned char *s, bool *allowed) {
        static const uint32_t min_for_len[] = { 0, 0, 0x80, 0x800, 0x10000 };
        size_t len;
        uint32_t c;

        *allowed = true;
        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0)
                len = 2, c = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, c = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, c = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min_for_len[len])   /* overlong */
                return 0;
        *allowed = code_point_allowed(c);
        return len;
}

bool bus_text_valid(const char *s) {
        if (!s)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                bool allowed;
                size_t n = char_len(p, &allowed);
                if (n == 0 || !allowed)
                        return false;
                p += n;
        }
        return true;
}

char *bus_text_dup(const char *s) {
        const unsigned char *p;
        char *out, *o;

        if (!s)
                return NULL;
        if (bus_text_valid(s))
                return strdup(s);
        /* A refused character becomes one U+FFFD, a stray byte too: at most
         * three bytes out for each byte in. */
        out = malloc(strlen(s) * 3 + 1);
        if (!out)
                return NULL;
        for (p = (const unsigned char *) s, o = out; *p;) {
                bool allowed;
                size_t n = char_len(p, &allowed);
                if (n > 0 && allowed) {
                        memcpy(o, p, n);
                        o += n, p += n;
                } else {
                        memcpy(o, REPLACEMENT, 3);
                        o += 3, p += n ?: 1;
                }
        }
        *o = '\0';
        return out;
}

void bus_text_make_valid(char *s) {
        for (unsigned char *p = (unsigned char *) s; p && *p;) {
                bool allowed;
                size_t n = char_len(p, &allowed);

                if (n > 0 && allowed) {
                        p += n;
                        continue;
                }
                for (size_t i = 0; i < (n ?: 1); i++)
                        *p++ = '?';
        }
}
