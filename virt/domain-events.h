/* libvirt's domain events, told by UUID to plain callbacks */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>

/* Each runs where libvirt runs its callbacks (the loop thread, through our
 * event implementation), with the domain's UUID; any may be NULL. */
typedef struct DomainEventOps {
        void (*lifecycle)(const char *uuid, int event, int detail, void *userdata);
        /* REASON is QEMU's ("enospc", "eio", ...), or NULL. */
        void (*io_error)(const char *uuid, const char *src_path, const char *dev_alias, const char *reason,
                         void *userdata);
        void (*balloon)(const char *uuid, unsigned long long actual_kib, void *userdata);
        void (*reboot)(const char *uuid, void *userdata);
        /* Its definition may have changed: a device came or went, or its metadata changed. */
        void (*changed)(const char *uuid, void *userdata);
        /* The guest agent connected to its channel, or left it. */
        void (*agent)(const char *uuid, bool connected, void *userdata);
        /* A block job (virConnectDomainEventBlockJobStatus) of DISK (its target) moved on. */
        void (*block_job)(const char *uuid, const char *disk, int type, int status, void *userdata);
        /* A job of the domain (a backup, a migration, ...) ended. */
        void (*job_completed)(const char *uuid, void *userdata);
} DomainEventOps;

/* Who hears the events: it must outlive every connection it is subscribed to. */
typedef struct DomainEventSubscriber {
        const DomainEventOps *ops;
        void *userdata;
} DomainEventSubscriber;

/* Worker thread. Subscribes SUBSCRIBER to CONN's events.
 * Lifecycle and I/O errors are needed (-errno, RET_ERROR set, when the
 * driver refuses them); the others are taken where the driver has them
 * (the test driver lacks some): a periodic full read catches the rest. */
int domain_events_register(virConnectPtr conn, DomainEventSubscriber *subscriber, char **ret_error);
