/* Plays systemd's side of sd_notify(): prints each datagram on NOTIFY_SOCKET */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[4096];
        int fd;

        if (argc != 2 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                perror("notify socket");
                return 1;
        }
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
                struct timespec ts;

                if (n < 0)
                        return 1;
                buf[n] = '\0';
                clock_gettime(CLOCK_MONOTONIC, &ts);
                /* One line per assignment; a datagram may carry several. */
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                        printf("%lld.%03ld %s\n", (long long) ts.tv_sec, ts.tv_nsec / 1000000, line);
                fflush(stdout);
        }
}
