/*
 * seat.c - a seat: the sealed box that P, and everything the lesson builds
 * after, live in when many people share one machine (stepbox serve --seats,
 * a workshop). "The host" the lesson talks about is then the seat: its own
 * user namespace (uid 0 inside is an unprivileged range outside), its own
 * mount, network, IPC, UTS, cgroup and pid namespaces, a read-only view of the
 * host's programs, and a small tmpfs of its own for everything writable.
 *
 *  server                            P (stepper run)
 *  "1 SEATUSER"           -------->  unshare(CLONE_NEWUSER)
 *  writes /proc/P/{uid,gid}_map ("0 <base> <count>") and moves P into the
 *  seat's cgroup: only a process outside the new namespace may do either
 *  "2 SEAT <dir> <name> <MiB>" ---->  setresuid(0), unshare() the rest,
 *                                    builds the root in <dir>/seat, pivots
 *                                    into it, forks the seat's init (pid 1),
 *                                    then P2 (pid 2), and steps aside
 *                         <--------  {"seq":2,"ok":true,"pid":<P2>}
 *  "3 CLONE ..."          -------->  P2 answers this and every later request
 *
 * unshare(CLONE_NEWPID) moves only P's children: P stays in the host's pid
 * namespace, and the kernel lets no such process make another (a lesson's
 * CLONE_NEWPID would fail with EINVAL). So P forks two children inside: the
 * seat's init, which mounts the seat's /proc (only a member of a pid
 * namespace can) and reaps orphans, and P2, which takes over P's socket and
 * serves the rest of the session. P only waits for P2 and ends with it, so
 * the server's pty still ends when the helper does. The pids P2 reports are
 * the seat's; the server turns them into the host's (NSpid in /proc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

#include "seat.h"
#include "util.h"

/* What the seat shows of the host, read-only: programs and their settings. */
static const char *const host_dirs[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "opt" };
/* Device files a shell needs, bound one by one: no disk, no console, no kmsg. */
static const char *const dev_files[] = { "null", "zero", "full", "random", "urandom", "tty" };
/* Everything else is the seat's own, on its tmpfs. */
static const char *const own_dirs[] = { "tmp", "root", "home", "var", "var/tmp", "run", "mnt", "dev", "dev/pts", "dev/shm", "proc", "sys", ".host" };

static char root[PATH_MAX];
bool in_seat;

static bool at(struct reply *r, char *out, const char *base, const char *rel)
{
	return snprintf(out, PATH_MAX, "%s/%s", base, rel) < PATH_MAX || reply_error(r, "path too long");
}

/*
 * The seat's forty-odd calls go back to the server, which keeps them; the
 * student's terminal gets one line, not a wall of mounts before the lesson.
 */
void do_seat_user(struct reply *r, struct request *rq)
{
	(void)rq;
	trace_muted = true;
	call_begin(r, "unshare(CLONE_NEWUSER)");
	call_end(r, unshare(CLONE_NEWUSER));
	trace_muted = false;
}

/* The host's directory or symlink `name`, the same in the seat; read-only if a directory. */
static bool show_host(struct reply *r, const char *name)
{
	char src[PATH_MAX], dst[PATH_MAX], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(src, sizeof src, "/%s", name);
	if (lstat(src, &st) < 0 || !at(r, dst, root, name))
		return r->ok;           /* this host has no such directory */
	if (S_ISLNK(st.st_mode)) {      /* merged /usr: /bin -> usr/bin */
		if ((n = readlink(src, link, sizeof link - 1)) < 0)
			return true;
		link[n] = '\0';
		call_begin(r, "symlink(%s, %s)", cq(link), cq(dst));
		return call_end(r, symlink(link, dst));
	}
	if (!S_ISDIR(st.st_mode))
		return true;
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	call_begin(r, "mkdir(%s, 0755)", cq(dst));
	if (!call_end(r, mkdir(dst, 0755)))
		return false;
	call_begin(r, "mount(%s, %s, NULL, MS_BIND|MS_REC, NULL)", cq(src), cq(dst));
	if (!call_end(r, mount(src, dst, NULL, MS_BIND | MS_REC, NULL)))
		return false;
	call_begin(r, "mount_setattr(AT_FDCWD, %s, AT_RECURSIVE, &{.attr_set = MOUNT_ATTR_RDONLY}, %zu)", cq(dst), sizeof ro);
	return call_end(r, mount_setattr(AT_FDCWD, dst, AT_RECURSIVE, &ro, sizeof ro));
}

static bool bind_dev(struct reply *r, const char *name)
{
	char src[PATH_MAX], dst[PATH_MAX];
	int fd;

	snprintf(src, sizeof src, "/dev/%s", name);
	if (!at(r, dst, root, src + 1))
		return false;
	if ((fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666)) >= 0)
		close(fd);
	call_begin(r, "mount(%s, %s, NULL, MS_BIND, NULL)", cq(src), cq(dst));
	return call_end(r, mount(src, dst, NULL, MS_BIND, NULL));
}

static bool mount_fs(struct reply *r, const char *fs, const char *rel, unsigned long flags, const char *flags_text, const char *data)
{
	char dst[PATH_MAX];

	if (!at(r, dst, root, rel))
		return false;
	mkdir(dst, 0755);               /* a cgroup mount point under a tmpfs */
	call_begin(r, "mount(%s, %s, %s, %s, %s)", cq(fs), cq(dst), cq(fs), flags_text, data ? cq(data) : "NULL");
	return call_end(r, mount(fs, dst, fs, flags, data));
}

/*
 * The seat's /sys/fs/cgroup, laid out as the host's: the same hierarchies,
 * each mounted afresh, so that in the seat's cgroup namespace each shows only
 * the seat's own part of the tree.
 */
static bool mount_cgroups(struct reply *r)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	bool ok = true;

	if (!f)
		return reply_error(r, "cannot read /proc/self/mountinfo");
	while (ok && fgets(line, sizeof line, f)) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source super */
		char *point = NULL, *fstype = NULL, *super = NULL, *save, *field = strtok_r(line, " \n", &save);
		for (int i = 0; field; i++, field = strtok_r(NULL, " \n", &save)) {
			if (i == 4)
				point = field;
			if (fstype == NULL && strcmp(field, "-") == 0) {
				fstype = strtok_r(NULL, " \n", &save);
				strtok_r(NULL, " \n", &save);           /* the source */
				super = strtok_r(NULL, " \n", &save);
				break;
			}
		}
		if (!point || !fstype || !super || strncmp(point, "/sys/fs/cgroup", 14) != 0)
			continue;
		if (strncmp(super, "rw,", 3) == 0 || strncmp(super, "ro,", 3) == 0)
			super += 3;
		else if (strcmp(super, "rw") == 0)
			super = NULL;
		if (strcmp(fstype, "tmpfs") == 0)
			ok = mount_fs(r, "tmpfs", point + 1, MS_NOSUID | MS_NODEV | MS_NOEXEC, "MS_NOSUID|MS_NODEV|MS_NOEXEC", "mode=0755,size=64k");
		else if (strcmp(fstype, "cgroup2") == 0 || strcmp(fstype, "cgroup") == 0)
			ok = mount_fs(r, fstype, point + 1, MS_NOSUID | MS_NODEV | MS_NOEXEC, "MS_NOSUID|MS_NODEV|MS_NOEXEC",
				      strcmp(fstype, "cgroup") == 0 ? super : NULL);
	}
	fclose(f);
	return ok;
}

/* A new network namespace has only lo, and it is down. */
static bool loopback_up(struct reply *r)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return call_end(r, -1);
	ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	call_begin(r, "ioctl(sock, SIOCSIFFLAGS, &{.ifr_name = \"lo\", .ifr_flags |= IFF_UP})");
	ok = call_end(r, ioctl(fd, SIOCSIFFLAGS, &ifr));
	close(fd);
	return ok;
}

static void on_child(int sig) { (void)sig; }

/* pid 1 of the seat: its /proc, then reaping until P (and so the seat) goes. */
static _Noreturn void seat_init(int ready)
{
	char ok = 1;

	/* Nothing of P's but the pipe: not the server's socket, not the pty. The
	 * session's reap kills the seat's cgroup, so a PDEATHSIG set too late
	 * (P already gone) leaves nothing behind either. */
	close_fds_except(ready);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		ok = 0;
	if (write(ready, &ok, 1) < 0)
		_exit(1);
	close(ready);
	/* A handler, not SIG_IGN or the default: either would leave pause()
	 * asleep when an orphan dies, and its pid would stay charged to the seat. */
	signal(SIGCHLD, on_child);
	for (;;)
		if (wait(NULL) < 0 && errno == ECHILD)
			pause();
}

static void build_seat(struct reply *r, struct request *rq);

/* P's end: the reply goes up from here, P2 serves from now on, P waits for it. */
static _Noreturn void step_aside(struct reply *r, pid_t p2)
{
	int status;

	r->pid = p2;
	send_reply(r);
	close(uplink);                  /* P2's death alone must bring the server EOF */
	while (waitpid(p2, &status, 0) < 0)
		if (errno != EINTR)
			_exit(1);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

void do_seat(struct reply *r, struct request *rq)
{
	trace_muted = true;
	build_seat(r, rq);
	trace_muted = false;
	if (!r->ok || r->error[0])
		return;
	trace("in %s: its own user, mount, network, IPC, UTS, cgroup and pid namespaces, "
	      "the host's programs read-only, a %s MiB tmpfs for the rest", rq->argv[1], rq->argv[2]);
	/* C will take the tty as its own: P, its session leader, lets go of it
	 * (the kernel sends us SIGHUP for that). */
	signal(SIGHUP, SIG_IGN);
	if (tcgetsid(0) >= 0 && ioctl(0, TIOCNOTTY) < 0)
		warn("ioctl(TIOCNOTTY)");
	pid_t p2 = fork();
	if (p2 < 0) {
		reply_error(r, "fork: %s", strerror(errno));
		return;
	}
	if (p2 > 0)
		step_aside(r, p2);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	in_seat = true;
	r->silent = true;               /* P has sent it */
}

static void build_seat(struct reply *r, struct request *rq)
{
	const char *dir = rq->argv[0], *name = rq->argv[1];
	char data[64], path[PATH_MAX], ok = 0;
	long long mib;
	int ready[2];

	if (!parse_decimal(rq->argv[2], &mib) || mib < 1 || mib > 65536) {
		reply_error(r, "SEAT takes a directory, a hostname and a scratch size in MiB");
		return;
	}
	if (!at(r, root, dir, "seat"))
		return;
	/* The server has written our maps: become the seat's root. */
	call_begin(r, "setresgid(0, 0, 0)");
	if (!call_end(r, setresgid(0, 0, 0)))
		return;
	call_begin(r, "setresuid(0, 0, 0)");
	if (!call_end(r, setresuid(0, 0, 0)))
		return;
	call_begin(r, "unshare(CLONE_NEWNS|CLONE_NEWNET|CLONE_NEWIPC|CLONE_NEWUTS|CLONE_NEWCGROUP|CLONE_NEWPID)");
	if (!call_end(r, unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWPID)))
		return;
	call_begin(r, "sethostname(%s, %zu)", cq(name), strlen(name));
	if (!call_end(r, sethostname(name, strlen(name))))
		return;
	/* Slave, not private: the overlay the server mounts later on the host in
	 * <dir>/rootfs must still arrive here. */
	call_begin(r, "mount(NULL, \"/\", NULL, MS_REC|MS_SLAVE, NULL)");
	if (!call_end(r, mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)))
		return;
	snprintf(data, sizeof data, "mode=0755,size=%lldm", mib);
	call_begin(r, "mount(\"seat\", %s, \"tmpfs\", MS_NOSUID|MS_NODEV, %s)", cq(root), cq(data));
	if (!call_end(r, mount("seat", root, "tmpfs", MS_NOSUID | MS_NODEV, data)))
		return;
	for (size_t i = 0; i < COUNT(own_dirs); i++)
		if (at(r, path, root, own_dirs[i]))
			mkdir(path, strncmp(own_dirs[i], "tmp", 3) == 0 || strcmp(own_dirs[i], "var/tmp") == 0 ||
				    strcmp(own_dirs[i], "dev/shm") == 0 ? 01777 : 0755);
	for (size_t i = 0; i < COUNT(host_dirs); i++)
		if (!show_host(r, host_dirs[i]))
			return;
	for (size_t i = 0; i < COUNT(dev_files); i++)
		if (!bind_dev(r, dev_files[i]))
			return;
	if (!mount_fs(r, "devpts", "dev/pts", MS_NOSUID | MS_NOEXEC, "MS_NOSUID|MS_NOEXEC", "newinstance,ptmxmode=0666,mode=0620") ||
	    !at(r, path, root, "dev/ptmx"))
		return;
	call_begin(r, "symlink(\"pts/ptmx\", %s)", cq(path));
	if (!call_end(r, symlink("pts/ptmx", path)))
		return;
	/* The session's directory alone, not recursively: the rootfs appears in it
	 * when the server mounts it, and this seat's own root stays out of sight. */
	if (!at(r, path, root, dir))
		return;
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); *p++ = '/') {
		*p = '\0';
		mkdir(path, 0755);
	}
	mkdir(path, 0755);
	call_begin(r, "mount(%s, %s, NULL, MS_BIND, NULL)", cq(dir), cq(path));
	if (!call_end(r, mount(dir, path, NULL, MS_BIND, NULL)))
		return;
	if (!mount_fs(r, "sysfs", "sys", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC", NULL) ||
	    !mount_cgroups(r) || !loopback_up(r))
		return;
	if (!at(r, path, root, ".host"))
		return;
	call_begin(r, "pivot_root(%s, %s)", cq(root), cq(path));
	if (!call_end(r, syscall(SYS_pivot_root, root, path)))
		return;
	if (chdir("/") < 0 || pipe2(ready, O_CLOEXEC) < 0)
		return (void)reply_error(r, "chdir or pipe: %s", strerror(errno));
	/* The host's /proc is still attached under /.host: a user namespace may
	 * mount proc only where one is fully visible already. */
	call_begin(r, "fork() /* the seat's init, pid 1: mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) */");
	pid_t init = fork();
	if (init == 0) {
		close(ready[0]);
		seat_init(ready[1]);
	}
	close(ready[1]);
	if (!call_end(r, init))
		return;
	if (read(ready[0], &ok, 1) != 1 || !ok)
		reply_error(r, "the seat's init could not mount /proc");
	close(ready[0]);
	call_begin(r, "umount2(\"/.host\", MNT_DETACH)");
	if (!call_end(r, umount2("/.host", MNT_DETACH)))
		return;
	rmdir("/.host");
}

/*
 * The parent's half of a user namespace, written by P for C: in a seat, C's
 * namespace is a child of the seat's, and the kernel takes a map only from a
 * process in that namespace or its parent, which the server (on the host) is
 * not. IDMAP <setgroups> <uid_map> <gid_map>
 */
void do_idmap(struct reply *r, struct request *rq)
{
	static const char *const files[] = { "setgroups", "uid_map", "gid_map" };
	char path[64], shown[QUOTE_MAX];
	pid_t pid = current_child();

	if (pid < 0) {
		reply_error(r, "no child process: clone first");
		return;
	}
	for (size_t i = 0; i < COUNT(files); i++) {
		const char *text = rq->argv[i];
		size_t n = strlen(text), k = 0;
		/* As the page shows a map: newlines as \n, the last one left out. */
		for (size_t j = 0; j < n && k + 3 < sizeof shown; j++) {
			if (text[j] == '\n' && j + 1 == n)
				break;
			if (text[j] == '\n') {
				shown[k++] = '\\';
				shown[k++] = 'n';
			} else {
				shown[k++] = text[j];
			}
		}
		shown[k] = '\0';
		snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, files[i]);
		call_begin(r, "write(open(\"%s\", O_WRONLY), \"%s\", %zu)", path, shown, n);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (!call_end(r, fd < 0 ? -1 : write(fd, text, n))) {
			if (fd >= 0)
				close(fd);
			return;
		}
		close(fd);
	}
}
