/* VM.Migrate and org.hostagent1.Migration on the bus */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"
#include "vm-migrate.h"

extern const sd_bus_vtable migration_vtable[];

int method_vm_migrate(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* The VM's Migration property: its queued or running migration job, or "/". */
int vm_migration_property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error);

/* PropertiesChanged of the Migration interface (NAMES NULL-terminated). */
void vm_migration_bus_emit(VmMigration *mig, const char **names);
/* PropertiesChanged of the VM's Migration property. */
void vm_migration_bus_emit_vm(Manager *m, const char *vm_path);

/* The Migration interface on migration jobs, and the job type resumed after a restart. */
int vm_migration_bus_register(Manager *m);
