/* libvirt errors turned into -errno and a message, once, at the library edge */
#pragma once

/* Reads this thread's last libvirt error (call right after the failing API,
 * on the same thread). Returns a negative errno that tells the cases a bus
 * client must tell apart: -ENOTCONN libvirt unreachable, -ENOENT no such
 * object, -EOPNOTSUPP unsupported, -EINVAL bad argument, -ERRNO_INVALID_STATE
 * not in a state for the request, -ETIMEDOUT timed out, -EIO otherwise.
 * RET_MESSAGE, when non-NULL, receives libvirt's text (caller frees). */
int libvirt_error_take(char **ret_message);

/* Keeps libvirt from printing errors to stderr: we report them ourselves. */
void libvirt_error_silence(void);
