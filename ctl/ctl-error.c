/* An error from the agent (or the bus) as one readable line, and the exit status it means */
#include "ctl-error.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json-cleanup.h"

/* "org.hostagent1.Error.InvalidState" -> "InvalidState": the name a person reads and can grep
 * the README for; other namespaces than ours and the bus's keep their full name. */
static const char *short_name(const char *name) {
        static const char *const prefixes[] = { "org.hostagent1.Error.", "org.freedesktop.DBus.Error." };

        if (!name)
                return "Failed";
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
                        return name + strlen(prefixes[i]);
        return name;
}

int ctl_error_is_not_found(const sd_bus_error *error) {
        return sd_bus_error_has_names(error, "org.hostagent1.Error.NoSuchVM", "org.hostagent1.Error.NoSuchObject",
                                      SD_BUS_ERROR_UNKNOWN_OBJECT);
}

/* The agent says "Cannot pause VM web1: it is not running": the line already names the VM and
 * the action, so only the reason is kept, and "it" becomes what it is. */
static void print_reason(FILE *f, const char *kind, const sd_bus_error *error) {
        const char *why = error->message ?: "";
        const char *colon;

        if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                fprintf(f, "no such %s", kind ?: "object");
                return;
        }
        if (strncmp(why, "Cannot ", 7) == 0 && (colon = strstr(why, ": ")))
                why = colon + 2;
        if (kind && strncmp(why, "it ", 3) == 0) {
                fprintf(f, "the %s %s", kind, why + 3);
                return;
        }
        /* Our line goes on after a colon: the reason reads on in lower case ("Unknown object"). */
        if (isupper((unsigned char) why[0]) && why[1] && islower((unsigned char) why[1]))
                fprintf(f, "%c%s", tolower((unsigned char) why[0]), why + 1);
        else
                fputs(why, f);
}

int ctl_error_report(const char *kind, const char *object, const char *action, const sd_bus_error *error) {
        fputs("hostagentctl: ", stderr);
        if (object)
                fprintf(stderr, "%s: ", object);
        if (action)
                fprintf(stderr, "cannot %s: ", action);
        print_reason(stderr, kind, error);
        fprintf(stderr, " (%s)\n", short_name(error->name));
        return ctl_error_is_not_found(error) ? CTL_NO_SUCH_OBJECT : -EIO;
}

int ctl_error_report_spec(const char *kind, const char *spec, const char *file, const char *action,
                          const sd_bus_error *error) {
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse(spec);
        json_object *name;

        if (o && json_object_object_get_ex(o, "name", &name) && json_object_is_type(name, json_type_string) &&
            json_object_get_string_len(name) > 0)
                return ctl_error_report(kind, json_object_get_string(name), action, error);
        return ctl_error_report(kind, file, action, error);
}

int ctl_not_found(const char *kind, const char *object, const char *error_name) {
        fprintf(stderr, "hostagentctl: %s: no such %s (%s)\n", object, kind, short_name(error_name));
        return CTL_NO_SUCH_OBJECT;
}

int ctl_fail(const char *object, const char *format, ...) {
        va_list ap;

        fputs("hostagentctl: ", stderr);
        if (object)
                fprintf(stderr, "%s: ", object);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}
