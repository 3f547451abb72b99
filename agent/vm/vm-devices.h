/* Changing a VM while it runs: disks, NICs, memory and vCPUs (the VM's second vtable) */
#pragma once

#include <systemd/sd-bus.h>

#include "bus-work.h"
#include "domain-devices.h"
#include "vm.h"
#include "vm-spec.h"

#define VM_CHANGE_STEPS_MAX 80   /* ApplyVM: every device twice, and the rest */

/* org.hostagent1.VM's members for devices, served beside vm_vtable on the same objects. */
extern const sd_bus_vtable vm_devices_vtable[];

/* The options of the device methods; -1 when not given. */
typedef struct VmChangeOptions {
        int live;
        int persistent;
} VmChangeOptions;

/* Reads the a{sv} options of AttachDisk and AttachNIC. */
int vm_change_options_read(sd_bus_message *msg, VmChangeOptions *ret, sd_bus_error *error);

/* Where a change goes: the running VM (LIVE) and/or its definition (CONFIG),
 * from the options and the VM's state; a named error when that cannot be. */
int vm_change_scope(Vm *vm, const VmChangeOptions *o, bool *ret_live, bool *ret_config, sd_bus_error *error);

/* A method's changes to one domain, made in order on a worker: a failing
 * step undoes the ones before it. Answered with ANSWER (a string) or
 * nothing, with the VM re-read and its properties in place. */
typedef struct VmChangeCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *name;
        char *what;                              /* "attach disk vdb to" */
        DomainChange steps[VM_CHANGE_STEPS_MAX];
        DomainChange undo[VM_CHANGE_STEPS_MAX];  /* undo[i] reverses steps[i]; kind _DOMAIN_CHANGE_INVALID: nothing to undo */
        size_t n_steps;
        VmSpecDisk disk;                         /* has_disk: made into steps[0]'s XML on the worker */
        bool has_disk;
        bool reaches_host;                       /* a host path or bridge: polkit's vm.create-raw */
        char *answer;
        VmClockRead read;
        VmInfo info;
        bool input_error;                        /* the worker found the caller's input wrong */
        bool reread;                             /* read again after a DEFINED event (change_reread()) */
        char *labels[VM_CHANGE_STEPS_MAX];       /* set: a failure names its step ("attach-disk vdb") */
        size_t failed_step;                      /* 1-based; 0: none */
        char *answer_path;                       /* set: the answer is (o ANSWER_PATH, s ANSWER) */
        /* Worker: more preparation once the domain is found (ApplyVM's XML). */
        int (*prepare)(struct VmChangeCall *c, virDomainPtr dom);
        void *data;
        void (*free_data)(void *data);
        /* Set: called from the loop with the result instead of answering (jobs). */
        void (*finished)(struct VmChangeCall *c, int result);
        void *userdata;
} VmChangeCall;

VmChangeCall *vm_change_call_new(Vm *vm, const char *what_format, ...) _printf_(2, 3);
void vm_change_call_free(VmChangeCall *c);
/* The next step, and its undo (NULL: none). Returns it, for the caller to fill. */
DomainChange *vm_change_call_step(VmChangeCall *c, DomainChangeKind kind, bool live, bool config);
/* Adds the spec step that records EDIT, when the VM has a spec and the change is to its definition. */
int vm_change_call_spec(VmChangeCall *c, Vm *vm, const void *edit, bool live);
/* For a method call MSG (answered), or for a job (MSG NULL: FINISHED runs). */
int vm_change_call_submit(VmChangeCall *c, Vm *vm, sd_bus_message *msg, sd_bus_error *error);

int method_vm_attach_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_vm_attach_nic(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_vm_set_memory(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_vm_set_vcpus(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_vm_detach_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_vm_detach_nic(sd_bus_message *msg, void *userdata, sd_bus_error *error);
