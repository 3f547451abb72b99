/* Network interface names: what the kernel accepts, checked before we ask it */
#pragma once

#include <stdbool.h>

/* True when the kernel would accept NAME as a link name: 1 to 15 bytes,
 * printable, no '/', ':' or white space, and neither "." nor "..". */
bool ifname_valid(const char *name);
