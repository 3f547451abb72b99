/* Text that may travel in a D-Bus string, whoever wrote it */
#pragma once

#include <stdbool.h>

/* True when S is a string both sd-bus and dbus-daemon accept: well-formed
 * UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF) without
 * the noncharacters U+FDD0..U+FDEF and U+xFFFE/U+xFFFF, which sd-bus refuses
 * although libvirt and XML allow them. NULL is not. */
bool bus_text_valid(const char *s);

/* A copy of S in which every byte sequence bus_text_valid() would refuse is
 * replaced by U+FFFD; NULL when out of memory or S is NULL. */
char *bus_text_dup(const char *s);

/* In place, for fixed-size buffers (interface names): every byte of a
 * sequence bus_text_valid() would refuse becomes '?'. */
void bus_text_make_valid(char *s);
