/* A VM's guest agent: GuestAgent, GuestInfo and GuestAddresses kept current off the loop */
#include "vm-guest.h"

#include "log.h"
#include "macro.h"
#include "manager.h"
#include "virt-cleanup.h"
#include "vm.h"

/* Agent reads in flight at most: each may wait GUEST_AGENT_TIMEOUT_SEC on a
 * hung agent, and the workers are for everyone's calls too. */
static unsigned vm_guest_reads_max(Manager *m) {
        unsigned n = m->options->workers / 4;

        return n > 0 ? n : 1;
}

static void vm_guest_set_agent(Vm *vm, GuestAgentState state) {
        if (vm->info.guest_agent == (int) state)
                return;
        vm->info.guest_agent = state;
        vm_emit_changed(vm, (const char *[]) { "GuestAgent" }, 1);
}

/* Swaps in what the agent said; PropertiesChanged for what differs. */
static void vm_guest_apply(Vm *vm, GuestInfo *info) {
        const char *changed[2];
        size_t n = 0;

        if (!guest_info_details_equal(&vm->guest, info))
                changed[n++] = "GuestInfo";
        if (!guest_info_addresses_equal(&vm->guest, info))
                changed[n++] = "GuestAddresses";
        guest_info_move(&vm->guest, info);
        if (n > 0)
                vm_emit_changed(vm, changed, n);
}

static void vm_guest_clear(Vm *vm) {
        GuestInfo empty = {};

        vm->guest_wanted = false;
        vm_guest_apply(vm, &empty);
}

typedef struct GuestRead {
        Manager *manager;
        virConnectPtr conn;
        char uuid[VIR_UUID_STRING_BUFLEN];
        GuestInfo info;
        char *error;
} GuestRead;

static int vm_guest_read_work(void *userdata) {
        GuestRead *g = userdata;

        return guest_info_read(g->conn, g->uuid, &g->info, &g->error);
}

static bool vm_guest_readable(Vm *vm) {
        /* A paused guest's agent cannot answer: it would only time out. */
        return vm->info.guest_agent == GUEST_AGENT_CONNECTED &&
               (vm->info.state == VM_STATE_RUNNING || vm->info.state == VM_STATE_BLOCKED);
}

static void vm_guest_read(Vm *vm);

static void vm_guest_start_wanted(Vm *vm, void *userdata) {
        Manager *m = userdata;

        if (vm->guest_wanted && !vm->guest_reading && m->guest_reads < vm_guest_reads_max(m))
                vm_guest_read(vm);
}

static void vm_guest_read_done(int result, void *userdata) {
        GuestRead *g = userdata;
        Manager *m = g->manager;
        Vm *vm = vm_find(m, g->uuid);

        m->guest_reads--;
        if (vm) {
                vm->guest_reading = false;
                /* A failed read keeps what was known: a frozen guest answers
                 * nothing, and its agent lifecycle events say when it is gone. */
                if (result >= 0 && vm_guest_readable(vm))
                        vm_guest_apply(vm, &g->info);
                else if (result < 0 && result != -ECANCELED)
                        log_fields(LOG_DEBUG, LOG_FIELDS("VM_UUID", g->uuid, "OBJECT_PATH", vm->path),
                                   "Cannot read guest information of VM %s: %s", strempty(vm->info.name),
                                   strempty(g->error));
        }
        guest_info_done(&g->info);
        virConnectClosep(&g->conn);
        free(g->error);
        free(g);
        if (result != -ECANCELED)
                vm_foreach(m, vm_guest_start_wanted, m);
}

/* One read per VM at a time; one wanted meanwhile follows it. */
static void vm_guest_read(Vm *vm) {
        Manager *m = vm->manager;
        GuestRead *g;
        int r;

        vm->guest_wanted = true;
        if (vm->guest_reading || m->guest_reads >= vm_guest_reads_max(m))
                return;
        g = calloc(1, sizeof *g);
        if (!g)
                return;
        g->conn = libvirt_conn_ref(m->libvirt);
        if (!g->conn) {
                free(g);
                return;
        }
        g->manager = m;
        memcpy(g->uuid, vm->info.uuid, sizeof g->uuid);
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, vm_guest_read_work, vm_guest_read_done, g);
        if (r < 0) {
                virConnectClosep(&g->conn);
                free(g);
                return;
        }
        vm->guest_wanted = false;
        vm->guest_reading = true;
        m->guest_reads++;
}

void vm_guest_follow(Vm *vm) {
        /* A VM that stopped has no agent connected, whatever was last read. */
        if (!vm_state_is_active(vm->info.state) && vm->info.guest_agent == GUEST_AGENT_CONNECTED)
                vm_guest_set_agent(vm, GUEST_AGENT_DISCONNECTED);
        if (vm->info.guest_agent != GUEST_AGENT_CONNECTED)
                vm_guest_clear(vm);
        else if (vm_guest_readable(vm))
                vm_guest_read(vm);
}

void vm_guest_agent_event(Manager *m, const char *uuid, bool connected) {
        Vm *vm = vm_find(m, uuid);

        if (!vm)
                return;
        log_fields(LOG_DEBUG, LOG_FIELDS("VM_UUID", uuid, "OBJECT_PATH", vm->path), "VM %s: guest agent %s",
                   strempty(vm->info.name), connected ? "connected" : "disconnected");
        /* A read of the domain begun before this event must not undo it. */
        vm->agent_clock = vm_clock_tick(&m->vm_clock);
        vm_guest_set_agent(vm, connected ? GUEST_AGENT_CONNECTED : GUEST_AGENT_DISCONNECTED);
        vm_guest_follow(vm);
}

static void vm_guest_tick_one(Vm *vm, void *userdata) {
        if (vm_guest_readable(vm))
                vm_guest_read(vm);
}

static int vm_guest_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (libvirt_conn_is_connected(m->libvirt))
                vm_foreach(m, vm_guest_tick_one, NULL);
        (void) sd_event_source_set_time_relative(s, m->options->guest_info_interval_sec * 1000000ULL);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

int vm_guest_timer_start(Manager *m) {
        uint64_t interval = m->options->guest_info_interval_sec * 1000000ULL;
        int r;

        if (m->guest_timer || interval == 0)
                return 0;
        r = sd_event_add_time_relative(m->event, &m->guest_timer, CLOCK_MONOTONIC, interval, 0,
                                       vm_guest_on_timer, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(m->guest_timer, "vm-guest-info");
        return 0;
}

void vm_guest_timer_stop(Manager *m) {
        m->guest_timer = sd_event_source_disable_unref(m->guest_timer);
}
