/* Live migration: the convergence policy (vdsm's downtime steps, post-copy, a stall and a hard timeout) */
#include "migration.h"

#include "macro.h"

#define USEC_PER_SEC 1000000ULL

void migration_policy_init(MigrationPolicy *p, const MigrationOptions *o, uint64_t now_usec) {
        *p = (MigrationPolicy) {
                .convergence = o->convergence,
                .max_downtime_ms = o->max_downtime_ms,
                .stall_usec = (uint64_t) o->stall_timeout_sec * USEC_PER_SEC,
                .timeout_usec = (uint64_t) o->timeout_sec * USEC_PER_SEC,
                .start_usec = now_usec,
                .progress_usec = now_usec,
                .lowest_remaining = UINT64_MAX,
        };
        /* Downtime steps start short, the others with the whole allowance. */
        p->downtime_ms = o->convergence == MIGRATION_CONVERGENCE_DOWNTIME_STEPS
                                 ? migration_downtime_at_step(o->max_downtime_ms, 0)
                                 : o->max_downtime_ms;
}

/* Progress stalled for a whole stall_timeout: the policy's next step. */
static MigrationAction policy_stalled(MigrationPolicy *p) {
        switch (p->convergence) {
        case MIGRATION_CONVERGENCE_DOWNTIME_STEPS:
                if (p->step >= MIGRATION_DOWNTIME_STEPS)
                        return MIGRATION_ACTION_ABORT_STALLED;
                p->downtime_ms = migration_downtime_at_step(p->max_downtime_ms, ++p->step);
                return MIGRATION_ACTION_SET_DOWNTIME;
        case MIGRATION_CONVERGENCE_AUTO_CONVERGE:
                /* QEMU throttles harder by itself; give it as many periods as the steps. */
                return ++p->step > MIGRATION_DOWNTIME_STEPS ? MIGRATION_ACTION_ABORT_STALLED : MIGRATION_ACTION_NONE;
        case MIGRATION_CONVERGENCE_POSTCOPY:
                p->postcopy = true;
                return MIGRATION_ACTION_START_POSTCOPY;
        default:
                return MIGRATION_ACTION_ABORT_STALLED;
        }
}

MigrationAction migration_policy_step(MigrationPolicy *p, const MigrationStats *s, uint64_t now_usec) {
        if (p->timeout_usec > 0 && now_usec - p->start_usec >= p->timeout_usec)
                return MIGRATION_ACTION_ABORT_TIMEOUT;
        if (p->postcopy || s->postcopy)
                return MIGRATION_ACTION_NONE;   /* post-copy always ends */
        /* Before QEMU reports anything (the destination still starting) is not a stall. */
        if (s->data_total == 0 || s->data_remaining < p->lowest_remaining) {
                if (s->data_total > 0)
                        p->lowest_remaining = s->data_remaining;
                p->progress_usec = now_usec;
                return MIGRATION_ACTION_NONE;
        }
        if (now_usec - p->progress_usec < p->stall_usec)
                return MIGRATION_ACTION_NONE;
        p->progress_usec = now_usec;   /* the next step gets a whole period too */
        return policy_stalled(p);
}
