/* Replies kept ready: D-Bus wire bytes built once, sent many times */
#pragma once

#include <stdint.h>
#include <sys/uio.h>
#include <systemd/sd-bus.h>

/* Marshalled D-Bus data (little endian), with offsets relative to its start:
 * a piece that starts 8-aligned in a message body can be laid anywhere 8-aligned
 * in another one. The first failure sticks in ERROR; later appends do nothing. */
typedef struct BusWire {
        uint8_t *data;
        size_t size, allocated;
        int error;
} BusWire;

void bus_wire_done(BusWire *w);
/* Gives back what was allocated beyond its size. */
void bus_wire_shrink(BusWire *w);
void bus_wire_align(BusWire *w, size_t alignment);
void bus_wire_u32(BusWire *w, uint32_t v);
/* TYPE 's', 'o' (u32 length) or 'g' (u8 length); S is not checked. */
void bus_wire_string(BusWire *w, char type, const char *s);
/* An array of elements aligned to ELEMENT_ALIGNMENT: open returns where its
 * length sits, close writes it. */
size_t bus_wire_array_open(BusWire *w, size_t element_alignment);
void bus_wire_array_close(BusWire *w, size_t at, size_t element_alignment);
/* Appends what is left to read in M's current container (M sealed). */
int bus_wire_copy(BusWire *w, sd_bus_message *m);

/* Replies to CALL with a body of SIGNATURE laid out as the N pieces in BODY
 * (already marshalled, the first at offset 0 of the body), without sd-bus
 * visiting its fields one by one. */
int bus_wire_reply(sd_bus_message *call, const char *signature, const struct iovec *body, size_t n);
/* Frees what bus_wire_reply() keeps between calls. */
void bus_wire_reply_free(void);
