/* The pod sandbox's process for the local node (e2e/node.py): registry.k8s.io/pause cannot be pulled here,
 * so e2e/image.py builds this with gcc, statically, as the one file of the `pause` image. Like the upstream
 * program it sleeps until SIGINT or SIGTERM and, as the pod's PID 1, reaps the zombies it inherits. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signal) {
    (void)signal;
    _exit(0);
}

static void reap(int signal) {
    (void)signal;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction action = {0};
    action.sa_handler = stop;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    action.sa_handler = reap;
    action.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &action, NULL);
    for (;;) {
        pause();
    }
}
