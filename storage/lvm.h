/* LVM through the lvm2 commands and their JSON reports */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent-errno.h"
#include "volume-info.h"

/* What marks a volume group or logical volume as the agent's: it changes
 * nothing that lacks it. */
#define LVM_AGENT_TAG "org.hostagent1"
/* What marks an LV being made (a copy): not a volume until the tag is
 * dropped, whatever other tags it has. The rest of the tag names the host. */
#define LVM_PARTIAL_TAG_PREFIX LVM_AGENT_TAG ".partial."

typedef struct LvmVg {
        bool exists;
        bool ours;        /* carries LVM_AGENT_TAG */
        bool partial;     /* a PV is missing */
        uint64_t size;
        uint64_t free;
} LvmVg;

/* All block, with a deadline per command; 0 or -errno with RET_MESSAGE set. */

/* The volume group DEVICE belongs to (RET_VG NULL: none), or -ENOENT when
 * it is not a PV at all. */
int lvm_pv_vg(const char *device, uint64_t timeout_usec, char **ret_vg, char **ret_message);

int lvm_vg_get(const char *vg, uint64_t timeout_usec, LvmVg *ret, char **ret_message);

/* pvcreate on each device (it refuses devices carrying a signature), then
 * vgcreate tagged as the agent's. */
int lvm_vg_create(const char *vg, char *const *devices, size_t n_devices, uint64_t timeout_usec,
                  char **ret_message);

/* Only a VG of ours without LVs (another's: -ERRNO_INVALID_STATE); its PVs are wiped with
 * pvremove. */
int lvm_vg_remove(const char *vg, char *const *devices, size_t n_devices, uint64_t timeout_usec,
                  char **ret_message);

/* The agent's LVs in VG (others are left out: not ours to show, and neither
 * are LVs being made). */
int lvm_lv_list(const char *vg, uint64_t timeout_usec, VolumeInfo **ret, size_t *ret_n, char **ret_message);

/* Without device-mapper (ACTIVATE false) the LV is created inactive and
 * unzeroed: metadata only. */
int lvm_lv_create(const char *vg, const char *lv, uint64_t size, bool activate, uint64_t timeout_usec,
                  char **ret_message);
int lvm_lv_extend(const char *vg, const char *lv, uint64_t size, uint64_t timeout_usec, char **ret_message);
int lvm_lv_remove(const char *vg, const char *lv, uint64_t timeout_usec, char **ret_message);

/* An LV being made, active, marked with PARTIAL_TAG besides the agent's
 * tag; lvm_lv_finish_partial() drops the mark in one metadata commit: from
 * then on it is a volume. */
int lvm_lv_create_partial(const char *vg, const char *lv, uint64_t size, const char *partial_tag,
                          uint64_t timeout_usec, char **ret_message);
int lvm_lv_finish_partial(const char *vg, const char *lv, const char *partial_tag, uint64_t timeout_usec,
                          char **ret_message);
/* Removes the LVs of VG marked with PARTIAL_TAG (only LV when not NULL). */
int lvm_lv_remove_partials(const char *vg, const char *partial_tag, const char *lv, uint64_t timeout_usec,
                           char **ret_message);

/* Whether this kernel can activate LVs at all. */
bool lvm_have_device_mapper(void);
