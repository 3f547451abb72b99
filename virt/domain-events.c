/* libvirt's domain events, told by UUID to plain callbacks */
#include "domain-events.h"

#include <libvirt/virterror.h>

#include "libvirt-error.h"
#include "macro.h"

static bool uuid_of(virDomainPtr dom, char uuid[static VIR_UUID_STRING_BUFLEN]) {
        return virDomainGetUUIDString(dom, uuid) >= 0;
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        DomainEventSubscriber *s = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (s->ops->lifecycle && uuid_of(dom, uuid))
                s->ops->lifecycle(uuid, event, detail, s->userdata);
        return 0;
}

static int on_io_error_reason(virConnectPtr conn, virDomainPtr dom, const char *src_path, const char *dev_alias,
                              int action, const char *reason, void *opaque) {
        DomainEventSubscriber *s = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (s->ops->io_error && uuid_of(dom, uuid))
                s->ops->io_error(uuid, src_path, dev_alias, reason, s->userdata);
        return 0;
}

static int on_balloon_change(virConnectPtr conn, virDomainPtr dom, unsigned long long actual_kib, void *opaque) {
        DomainEventSubscriber *s = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (s->ops->balloon && uuid_of(dom, uuid))
                s->ops->balloon(uuid, actual_kib, s->userdata);
        return 0;
}

static int on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque) {
        DomainEventSubscriber *s = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (s->ops->reboot && uuid_of(dom, uuid))
                s->ops->reboot(uuid, s->userdata);
        return 0;
}

static int on_device_change(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque) {
        DomainEventSubscriber *s = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (s->ops->changed && uuid_of(dom, uuid))
                s->ops->changed(uuid, s->userdata);
        return 0;
}

static int on_block_job(virConnectPtr conn, virDomainPtr dom, const char *disk, int type, int status,
                        void *opaque) {
        DomainEventSubscriber *s = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (s->ops->block_job && uuid_of(dom, uuid))
                s->ops->block_job(uuid, disk, type, status, s->userdata);
        return 0;
}

static int on_metadata_change(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri, void *opaque) {
        return on_device_change(conn, dom, NULL, opaque);
}

static int on_agent_lifecycle(virConnectPtr conn, virDomainPtr dom, int state, int reason, void *opaque) {
        DomainEventSubscriber *s = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (s->ops->agent && uuid_of(dom, uuid))
                s->ops->agent(uuid, state == VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED, s->userdata);
        return 0;
}

static int on_job_completed(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params, int nparams,
                            void *opaque) {
        DomainEventSubscriber *s = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (s->ops->job_completed && uuid_of(dom, uuid))
                s->ops->job_completed(uuid, s->userdata);
        return 0;
}

int domain_events_register(virConnectPtr conn, DomainEventSubscriber *subscriber, char **ret_error) {
        static const struct {
                int id;
                virConnectDomainEventGenericCallback cb;
        } optional[] = {
                { VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata_change) },
                { VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_balloon_change) },
                { VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_reboot) },
                { VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device_change) },
                { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_change) },
                { VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_agent_lifecycle) },
                { VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, VIR_DOMAIN_EVENT_CALLBACK(on_block_job) },
                { VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(on_job_completed) },
        };

        if (virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), subscriber, NULL) < 0 ||
            virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON,
                                             VIR_DOMAIN_EVENT_CALLBACK(on_io_error_reason), subscriber, NULL) < 0)
                return libvirt_error_take(ret_error);
        for (size_t i = 0; i < ELEMENTSOF(optional); i++)
                if (virConnectDomainEventRegisterAny(conn, NULL, optional[i].id, optional[i].cb, subscriber, NULL) < 0)
                        virResetLastError();
        return 0;
}
