/* Running a helper program (qemu-img, lvcreate, mount) with a deadline */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Called with each chunk the program writes to standard output, as it
 * arrives (qemu-img -p progress lines), and with CHUNK NULL at least every
 * quarter second. A negative return kills the program: command_run() then
 * returns that value. */
typedef int (*command_output_fn)(const char *chunk, size_t size, void *userdata);

typedef struct CommandResult {
        int exit_status;        /* the program's exit code; -1 when killed by a signal */
        char *out;              /* all of standard output, NUL-terminated */
        size_t out_size;        /* its length, for output that holds NULs itself */
        char *err;              /* the last part of standard error, NUL-terminated, trimmed */
} CommandResult;

void command_result_done(CommandResult *r);

/* Runs ARGV (argv[0] is looked up in PATH) with stdin from /dev/null, in a
 * process group of its own, in the C locale. Blocks: worker threads only.
 * The program is killed (SIGKILL) if the agent dies before it ends.
 * Past TIMEOUT_USEC the whole group is killed with SIGKILL and -ETIME is
 * returned. Returns 0 once the program has exited (whatever its status:
 * see RET), or -errno when it could not run. */
int command_run(char *const argv[], uint64_t timeout_usec, command_output_fn on_output, void *userdata,
                CommandResult *ret);

/* The same, for callers that only care whether it worked: -EIO when the
 * program exited non-zero, with RET_MESSAGE (may be NULL) set to what it
 * printed on standard error, or to a description of how it failed. */
int command_run_simple(char *const argv[], uint64_t timeout_usec, char **ret_out, char **ret_message);
