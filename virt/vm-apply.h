/* ApplyVM's plan: what differs between a VM's spec and the one wanted, as steps */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm-spec.h"

#define VM_APPLY_STEPS_MAX (2 * (VM_SPEC_MAX_DISKS + VM_SPEC_MAX_NICS) + 16)

typedef enum VmApplyAction {
        VM_APPLY_ATTACH_DISK,
        VM_APPLY_DETACH_DISK,
        VM_APPLY_ATTACH_NIC,
        VM_APPLY_DETACH_NIC,
        VM_APPLY_SET_MEMORY,
        VM_APPLY_SET_VCPUS,
        VM_APPLY_CHANGE,          /* FIELD, only in the definition: takes effect at the next start */
        VM_APPLY_SET_AUTOSTART,
        VM_APPLY_SET_METADATA,    /* only the spec's metadata (or its form) differs */
        VM_APPLY_RESTART,
        _VM_APPLY_ACTION_MAX,
        _VM_APPLY_ACTION_INVALID = -22,
} VmApplyAction;

const char *vm_apply_action_to_string(VmApplyAction a);

typedef struct VmApplyStep {
        VmApplyAction action;
        bool live;             /* made to the running VM now (else: at its next start) */
        char key[18];          /* the disk's target or the NIC's MAC */
        size_t index;          /* attach: the device's index in the final spec */
        uint64_t value;        /* memory MiB, vCPUs, autostart */
        const char *field;     /* VM_APPLY_CHANGE: "machine", "max_memory_mib", ... */
        char *from, *to;       /* VM_APPLY_CHANGE: the values, as JSON text */
} VmApplyStep;

/* What the running VM can take without a restart. */
typedef struct VmApplyLive {
        bool running;
        uint64_t max_memory_mib;
        unsigned max_vcpus;
} VmApplyLive;

typedef struct VmApplyPlan {
        VmApplyStep steps[VM_APPLY_STEPS_MAX];
        size_t n_steps;
        json_object *final;    /* the spec after: the desired one, with kept targets and MACs */
        bool define;           /* the definition changes (every step but autostart and a restart) */
} VmApplyPlan;

void vm_apply_plan_done(VmApplyPlan *plan);

/* The steps from CURRENT (the VM's stored spec, parsed) to DESIRED: disks
 * matched by pool and volume or path, NICs by MAC or else by network (so a
 * spec without MACs applies twice the same), live where LIVE allows, a
 * restart at the end when RESTART and something is left for the next start.
 * Equal specs give no steps. -EINVAL with RET_ERROR naming the field for
 * what cannot change (name, type, uuid). */
int vm_apply_plan(const VmSpec *current, const VmSpec *desired, const VmApplyLive *live, bool restart,
                  VmApplyPlan *ret, char **ret_error);

/* {"steps":[{"action":"attach-disk","target":"vdb","live":true},...]} */
char *vm_apply_plan_json(const VmApplyPlan *plan);
/* One step as a short label: "attach-disk vdb". */
int vm_apply_step_label(const VmApplyStep *s, char *buf, size_t size);
