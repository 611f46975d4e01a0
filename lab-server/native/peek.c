/*
 * peek.c - "stepper peek <pid> [argv...]" joins a running container's
 * namespaces and starts a shell there, like nsenter(1): the page's Peek
 * button, and how a lesson's task checks look from inside.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "peek.h"
#include "steps.h"
#include "util.h"

/* We start as the machine's root, privileged over every namespace, so each is
 * joined while we still are: the user namespace last, since inside it we would
 * hold no capability over namespaces its parents own (a seat's). time first: a
 * namespace made with clock offsets belongs to the machine's user namespace.
 * mnt after the rest: it changes our root and cwd, and they do not care about
 * paths. */
static const char *const ns_order[] = { "time", "cgroup", "ipc", "uts", "net", "pid", "mnt", "user" };

/* The target's namespace, or -1 if this kernel lacks it or we are in it already. */
static int open_new_ns(int dir, const char *name)
{
	char self[64];
	struct stat theirs, ours;
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0 || fstat(fd, &theirs) < 0) {
		snprintf(self, sizeof self, "open ns/%s", name);
		fatal(self);
	}
	snprintf(self, sizeof self, "/proc/self/ns/%s", name);
	if (stat(self, &ours) == 0 && ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

static _Noreturn void exec_shell(char **argv)
{
	char path[PATH_MAX];

	reset_signals();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)      /* fork() cleared ours */
		warn("prctl(PR_SET_PDEATHSIG)");
	if (setsid() < 0)
		warn("setsid");
	ioctl(0, TIOCSCTTY, 0);         /* best effort, as in run mode */
	if (chdir("/") < 0)
		warn("chdir");
	/* A plain prompt: before pivot_root this may be the host's dash, which
	 * knows no bash-style prompt escapes. */
	size_t n = 0;
	while (container_env[n])
		n++;
	const char *env[n + 1];
	for (size_t i = 0; i <= n; i++)
		env[i] = container_env[i] && strncmp(container_env[i], "PS1=", 4) == 0 ? "PS1=peek# " : container_env[i];
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, (char **)env);
	} else {
		for (int i = 0; i < 2; i++) {   /* a tiny PATH search: /bin, /usr/bin */
			snprintf(path, sizeof path, "%s/%s", i ? "/usr/bin" : "/bin", argv[0]);
			execve(path, argv, (char **)env);
		}
	}
	fatal(argv[0]);
}

/*
 * In a seat, a peek shell must count against the seat's limits like
 * everything else there: the server names the cgroup.procs files of the
 * seat's group (one per hierarchy, ':' apart) and we enter them first, before
 * anything we start can be born outside.
 */
static void join_cgroups(void)
{
	char *files = getenv("STEPBOX_CGROUP_PROCS"), *save, *file, me[24];

	if (!files)
		return;
	snprintf(me, sizeof me, "%d", (int)getpid());
	for (file = strtok_r(files, ":", &save); file; file = strtok_r(NULL, ":", &save)) {
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, me, strlen(me)) < 0)
			fatal(file);
		close(fd);
	}
	unsetenv("STEPBOX_CGROUP_PROCS");
}

int peek_main(const char *pid, char **argv)
{
	static char *default_argv[] = { "/bin/sh", NULL };
	char path[64], joined[128] = "";
	int fds[COUNT(ns_order)], dir, root, status;
	long long target;

	if (!parse_decimal(pid, &target) || target <= 0 || target > INT_MAX) {
		dprintf(2, "stepper: peek: bad pid\r\n");
		return 1;
	}
	die_with_parent();
	close_fds_except(-1);
	join_cgroups();
	snprintf(path, sizeof path, "/proc/%s/ns", pid);
	if ((dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fatal(path);
	for (size_t i = 0; i < COUNT(fds); i++)     /* all before any setns(): */
		fds[i] = open_new_ns(dir, ns_order[i]); /* joining mnt changes /proc */
	close(dir);
	/* A chrooted container's root is not its mount namespace's root, and
	 * joining mnt puts us at the latter: keep a handle on the former. */
	snprintf(path, sizeof path, "/proc/%s/root", pid);
	if ((root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		fatal(path);
	for (size_t i = 0; i < COUNT(fds); i++) {
		if (fds[i] < 0)
			continue;
		if (setns(fds[i], 0) < 0) {
			dprintf(2, "stepper: setns(%s): %s\r\n", ns_order[i], strerror(errno));
			return 1;
		}
		close(fds[i]);
		snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s",
			 joined[0] ? ", " : "joined ", ns_order[i]);
		/* Host root is not in the container's uid map: without this the shell
		 * would be "nobody". Where the map has no uid 0 yet, staying is right. */
		if (strcmp(ns_order[i], "user") == 0 &&
		    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) && errno != EINVAL)
			warn("setresuid");
	}
	/* Stand where the container stands, as nsenter --root does. */
	if (fchdir(root) < 0 || chroot(".") < 0)
		fatal("chroot to the container's root");
	close(root);
	trace("peek into %s: %s", pid, joined[0] ? joined : "no new namespaces: this shell is on the host");
	signal(SIGHUP, SIG_IGN);        /* the tty hand-over of give_up_tty() */
	if (tcgetsid(0) >= 0 && ioctl(0, TIOCNOTTY) < 0)
		warn("ioctl(TIOCNOTTY)");
	pid_t shell = fork();           /* pid and time namespaces apply to children */
	if (shell < 0)
		fatal("fork");
	if (shell == 0)
		exec_shell(argv[0] ? argv : default_argv);
	while (waitpid(shell, &status, 0) < 0)
		if (errno != EINTR)
			fatal("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
