/* Replies kept ready: D-Bus wire bytes built once, sent many times */
#include "bus-wire.h"

#include <limits.h>
#include <sys/socket.h>

#include "macro.h"

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WIRE_ENDIAN 'l'
#else
#define WIRE_ENDIAN 'B'
#endif

static void wire_reserve(BusWire *w, size_t n) {
        size_t want;
        uint8_t *p;

        if (w->error < 0)
                return;
        if (w->size + n <= w->allocated)
                return;
        want = (w->size + n) * 2;
        if (want < 256)
                want = 256;
        p = realloc(w->data, want);
        if (!p) {
                w->error = -ENOMEM;
                return;
        }
        w->data = p;
        w->allocated = want;
}

void bus_wire_done(BusWire *w) {
        free(w->data);
        *w = (BusWire) {};
}

void bus_wire_shrink(BusWire *w) {
        uint8_t *p;

        if (w->error < 0 || w->size == 0 || w->size == w->allocated)
                return;
        p = realloc(w->data, w->size);
        if (!p)
                return;         /* the larger block is as good */
        w->data = p;
        w->allocated = w->size;
}

static void wire_put(BusWire *w, const void *p, size_t n) {
        if (n == 0)
                return;
        wire_reserve(w, n);
        if (w->error < 0)
                return;
        memcpy(w->data + w->size, p, n);
        w->size += n;
}

void bus_wire_align(BusWire *w, size_t alignment) {
        static const uint8_t zeros[8];
        size_t pad = (alignment - w->size % alignment) % alignment;

        wire_put(w, zeros, pad);
}

void bus_wire_u32(BusWire *w, uint32_t v) {
        bus_wire_align(w, 4);
        wire_put(w, &v, sizeof v);     /* host order, as the header says (WIRE_ENDIAN) */
}

static void wire_u64(BusWire *w, uint64_t v) {
        bus_wire_align(w, 8);
        wire_put(w, &v, sizeof v);
}

void bus_wire_string(BusWire *w, char type, const char *s) {
        size_t len = strlen(s);

        if (type == SD_BUS_TYPE_SIGNATURE) {
                uint8_t l = (uint8_t) len;
                wire_put(w, &l, 1);
        } else
                bus_wire_u32(w, (uint32_t) len);
        wire_put(w, s, len + 1);
}

size_t bus_wire_array_open(BusWire *w, size_t element_alignment) {
        size_t at;

        bus_wire_align(w, 4);
        at = w->size;
        bus_wire_u32(w, 0);
        bus_wire_align(w, element_alignment);
        return at;
}

void bus_wire_array_close(BusWire *w, size_t at, size_t element_alignment) {
        size_t start = at + 4;
        uint32_t len;

        start += (element_alignment - start % element_alignment) % element_alignment;
        if (w->error < 0)
                return;
        len = (uint32_t) (w->size - start);
        memcpy(w->data + at, &len, sizeof len);
}

static size_t wire_alignment(char type) {
        switch (type) {
        case SD_BUS_TYPE_BYTE:
        case SD_BUS_TYPE_SIGNATURE:
        case SD_BUS_TYPE_VARIANT:
                return 1;
        case SD_BUS_TYPE_INT16:
        case SD_BUS_TYPE_UINT16:
                return 2;
        case SD_BUS_TYPE_INT64:
        case SD_BUS_TYPE_UINT64:
        case SD_BUS_TYPE_DOUBLE:
        case SD_BUS_TYPE_STRUCT_BEGIN:
        case SD_BUS_TYPE_DICT_ENTRY_BEGIN:
        case SD_BUS_TYPE_STRUCT:
        case SD_BUS_TYPE_DICT_ENTRY:
                return 8;
        default:
                return 4;
        }
}

static int wire_copy_basic(BusWire *w, sd_bus_message *m, char type) {
        union {
                uint8_t y;
                int b;
                uint16_t q;
                uint32_t u;
                uint64_t t;
                const char *s;
        } v;
        int r;

        if (type == SD_BUS_TYPE_UNIX_FD)
                return -EINVAL;         /* no fds in a reply kept for everyone */
        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        switch (wire_alignment(type)) {
        case 1:
                if (type == SD_BUS_TYPE_SIGNATURE)
                        bus_wire_string(w, type, v.s);
                else
                        wire_put(w, &v.y, 1);
                break;
        case 2:
                bus_wire_align(w, 2);
                wire_put(w, &v.q, 2);
                break;
        case 8:
                wire_u64(w, v.t);
                break;
        default:
                if (type == SD_BUS_TYPE_STRING || type == SD_BUS_TYPE_OBJECT_PATH)
                        bus_wire_string(w, type, v.s);
                else
                        bus_wire_u32(w, type == SD_BUS_TYPE_BOOLEAN ? (uint32_t) !!v.b : v.u);
        }
        return w->error;
}

static int wire_copy_container(BusWire *w, sd_bus_message *m, char type, const char *contents) {
        size_t at = 0;
        int r;

        if (type == SD_BUS_TYPE_ARRAY)
                at = bus_wire_array_open(w, wire_alignment(contents[0]));
        else if (type == SD_BUS_TYPE_VARIANT)
                bus_wire_string(w, SD_BUS_TYPE_SIGNATURE, contents);
        else
                bus_wire_align(w, 8);
        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;
        r = bus_wire_copy(w, m);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        if (type == SD_BUS_TYPE_ARRAY)
                bus_wire_array_close(w, at, wire_alignment(contents[0]));
        return w->error;
}

int bus_wire_copy(BusWire *w, sd_bus_message *m) {
        for (;;) {
                const char *contents;
                char type;
                int r;

                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r <= 0)
                        return r < 0 ? r : w->error;
                if (contents)
                        r = wire_copy_container(w, m, type, contents);
                else
                        r = wire_copy_basic(w, m, type);
                if (r < 0)
                        return r;
        }
}

/* The reply is handed to sd-bus as a message it reads itself, over a socket
 * pair it serves (sd-bus has no call that takes a body as bytes): it parses
 * the header only, and its write queue sends the message as any other,
 * in order. Kept between calls: one socket pair for the daemon's life. */
typedef struct WireLoop {
        sd_bus *reader;
        int fd;         /* our end: we write messages, sd-bus reads them at the other */
} WireLoop;

static WireLoop loop = { .fd = -EBADF };

void bus_wire_reply_free(void) {
        loop.reader = sd_bus_flush_close_unref(loop.reader);
        if (loop.fd >= 0)
                (void) close(loop.fd);
        loop.fd = -EBADF;
}

static int wire_write_all(int fd, const char *s, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, s, n);
                if (k < 0)
                        return -errno;
                s += k, n -= (size_t) k;
        }
        return 0;
}

/* NUL, "AUTH EXTERNAL <our uid, its decimal digits in hex>", then BEGIN. */
static size_t wire_auth_line(char *buf, size_t size) {
        char uid[16];
        size_t n = 0;

        snprintf(uid, sizeof uid, "%u", (unsigned) getuid());
        buf[n++] = 0;
        n += (size_t) snprintf(buf + n, size - n, "AUTH EXTERNAL ");
        for (const char *c = uid; *c; c++)
                n += (size_t) snprintf(buf + n, size - n, "%02x", (unsigned) *c);
        n += (size_t) snprintf(buf + n, size - n, "\r\nBEGIN\r\n");
        return n;
}

/* sd-bus serves our end as a bus client authenticated as ourselves. */
static int wire_loop_open(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *reader = NULL;
        char auth[64], drain[256];
        sd_id128_t id;
        int fds[2], r;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
                return -errno;
        r = sd_bus_new(&reader);
        if (r >= 0)
                r = sd_bus_set_fd(reader, fds[0], fds[0]);
        if (r < 0) {
                (void) close(fds[0]);
                (void) close(fds[1]);
                return r;
        }
        loop.fd = fds[1];
        /* Room for a whole large reply at once where the limits allow: fewer
         * rounds between writing and sd-bus reading. */
        (void) setsockopt(loop.fd, SOL_SOCKET, SO_SNDBUF, &(int) { 4 << 20 }, sizeof(int));
        (void) setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &(int) { 4 << 20 }, sizeof(int));
        r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_set_server(reader, 1, id);
        if (r >= 0)
                r = sd_bus_start(reader);
        if (r < 0)
                return r;
        r = wire_write_all(loop.fd, auth, wire_auth_line(auth, sizeof auth));
        if (r < 0)
                return r;
        /* All it needs is in the socket already: no waiting, a few rounds. */
        for (unsigned i = 0; (r = sd_bus_is_ready(reader)) == 0; i++) {
                if (i >= 16)
                        return -EPROTO;
                r = sd_bus_process(reader, NULL);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        while (read(loop.fd, drain, sizeof drain) > 0)   /* its OK line */
                ;
        loop.reader = TAKE_PTR(reader);
        return 0;
}

/* The fixed part of a METHOD_RETURN header: endianness, type, flags
 * (NO_REPLY_EXPECTED, as sd-bus sets on replies), version. */
static int wire_header(BusWire *h, sd_bus_message *call, const char *signature, size_t body_size) {
        static uint32_t serial;
        const char *sender = sd_bus_message_get_sender(call);
        uint64_t cookie;
        size_t at;
        int r;

        r = sd_bus_message_get_cookie(call, &cookie);
        if (r < 0)
                return r;
        if (body_size > UINT32_MAX)
                return -E2BIG;
        wire_put(h, (const uint8_t[]) { WIRE_ENDIAN, SD_BUS_MESSAGE_METHOD_RETURN, 1, 1 }, 4);
        bus_wire_u32(h, (uint32_t) body_size);
        bus_wire_u32(h, ++serial ?: ++serial);
        at = bus_wire_array_open(h, 8);
        bus_wire_align(h, 8);
        wire_put(h, (const uint8_t[]) { 5, 1, 'u', 0 }, 4);      /* REPLY_SERIAL */
        bus_wire_u32(h, (uint32_t) cookie);
        if (sender) {
                bus_wire_align(h, 8);
                wire_put(h, (const uint8_t[]) { 6, 1, 's', 0 }, 4);      /* DESTINATION */
                bus_wire_string(h, SD_BUS_TYPE_STRING, sender);
        }
        bus_wire_align(h, 8);
        wire_put(h, (const uint8_t[]) { 8, 1, 'g', 0 }, 4);      /* SIGNATURE */
        bus_wire_string(h, SD_BUS_TYPE_SIGNATURE, signature);
        bus_wire_array_close(h, at, 8);
        bus_wire_align(h, 8);
        return h->error;
}

/* Writes what fits of IOV, and lets sd-bus read it, until it has the message. */
static int wire_pass(struct iovec *iov, size_t n, sd_bus_message **ret) {
        unsigned idle = 0;

        for (;;) {
                sd_bus_message *m = NULL;
                ssize_t k = 0;
                int r;

                while (n > 0 && iov->iov_len == 0)
                        iov++, n--;
                if (n > 0) {
                        k = writev(loop.fd, iov, (int) (n < IOV_MAX ? n : IOV_MAX));
                        if (k < 0 && errno != EAGAIN)
                                return -errno;
                        for (size_t left = k > 0 ? (size_t) k : 0; left > 0;) {
                                size_t take = left < iov->iov_len ? left : iov->iov_len;
                                iov->iov_base = (uint8_t *) iov->iov_base + take;
                                iov->iov_len -= take;
                                left -= take;
                                if (iov->iov_len == 0)
                                        iov++, n--;
                        }
                }
                r = sd_bus_process(loop.reader, &m);
                if (r < 0)
                        return r;
                if (m) {
                        *ret = m;
                        return 0;
                }
                /* Neither side moved: something is wrong with the pair. */
                idle = r == 0 && k <= 0 ? idle + 1 : 0;
                if (idle > 16)
                        return -EIO;
        }
}

int bus_wire_reply(sd_bus_message *call, const char *signature, const struct iovec *body, size_t n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(bus_wire_done) BusWire header = {};
        _cleanup_(freep) struct iovec *iov = NULL;
        size_t body_size = 0;
        int r;

        if (!loop.reader) {
                r = wire_loop_open();
                if (r < 0) {
                        bus_wire_reply_free();
                        return r;
                }
        }
        for (size_t i = 0; i < n; i++)
                body_size += body[i].iov_len;
        r = wire_header(&header, call, signature, body_size);
        if (r < 0)
                return r;
        iov = calloc(n + 1, sizeof *iov);
        if (!iov)
                return -ENOMEM;
        iov[0] = (struct iovec) { header.data, header.size };
        memcpy(iov + 1, body, n * sizeof *body);
        r = wire_pass(iov, n + 1, &reply);
        if (r < 0) {
                bus_wire_reply_free();      /* half a message may be in the pair: start afresh */
                return r;
        }
        {
                uint8_t type = 0;

                if (sd_bus_message_get_type(reply, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_RETURN)
                        return -EIO;
        }
        return sd_bus_send(sd_bus_message_get_bus(call), reply, NULL);
}
