/* libvirt errors turned into -errno and a message, once, at the library edge */
#include "libvirt-error.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "agent-errno.h"
#include "macro.h"

static void ignore_error(void *userdata, virErrorPtr error) {
}

void libvirt_error_silence(void) {
        virSetErrorFunc(NULL, ignore_error);
}

static int errno_from_code(int code) {
        switch (code) {
        case VIR_ERR_NO_CONNECT:
        case VIR_ERR_INVALID_CONN:
        case VIR_ERR_SYSTEM_ERROR:
        case VIR_ERR_RPC:
        case VIR_ERR_AUTH_FAILED:
        case VIR_ERR_AUTH_UNAVAILABLE:
                return -ENOTCONN;
        case VIR_ERR_NO_DOMAIN:
        case VIR_ERR_NO_NETWORK:
        case VIR_ERR_NO_STORAGE_POOL:
        case VIR_ERR_NO_STORAGE_VOL:
                return -ENOENT;
        case VIR_ERR_NO_SUPPORT:
        case VIR_ERR_OPERATION_UNSUPPORTED:
        case VIR_ERR_ARGUMENT_UNSUPPORTED:
                return -EOPNOTSUPP;
        case VIR_ERR_INVALID_ARG:
        case VIR_ERR_XML_ERROR:
        case VIR_ERR_XML_DETAIL:
                return -EINVAL;
        case VIR_ERR_OPERATION_INVALID:
                /* Not in a state for this request ("domain is not running"): InvalidState on the
                 * bus, also when the agent's own check passed and the domain changed after it. */
                return -ERRNO_INVALID_STATE;
        case VIR_ERR_OPERATION_TIMEOUT:
        case VIR_ERR_AGENT_UNRESPONSIVE:
                return -ETIMEDOUT;
        default:
                return -EIO;
        }
}

int libvirt_error_take(char **ret_message) {
        virErrorPtr e = virGetLastError();
        int r = e ? errno_from_code(e->code) : -EIO;

        if (ret_message)
                *ret_message = strdup(e && e->message ? e->message : "unknown libvirt error");
        virResetLastError();
        return r;
}
