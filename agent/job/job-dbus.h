/* org.hostagent1.Job on the bus, and the Manager's JobNew/JobRemoved */
#pragma once

#include <systemd/sd-bus.h>

#include "job.h"

extern const sd_bus_vtable job_vtable[];

int job_bus_register(Manager *m);
void job_bus_announce(Job *job);        /* InterfacesAdded, then JobNew */
void job_bus_announce_ended(Job *job); /* InterfacesAdded, then JobRemoved */
void job_bus_withdraw(Job *job);        /* InterfacesRemoved */
void job_bus_emit_changed(Job *job, const char **names);
void job_bus_emit_removed(Job *job);    /* JobRemoved */
