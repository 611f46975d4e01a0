/*
 * steps.c - the chapter's calls: the clone that P makes, then what C does
 * inside the new namespaces, in the order of the lesson. The page shows the
 * student each region marked "// [step:<kind>]" ... "// [/step]" as the code
 * that ran, so a region holds the real calls and the comments that explain
 * them, and the plumbing lives elsewhere: wire.c records the calls, stepper.c
 * routes the requests and runs C's loop.
 *
 * Every call is written twice: as text for the student (call_begin()), then
 * for real as the argument of call_end(), which times and records it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/audit.h>                /* AUDIT_ARCH_* */
#include <linux/capability.h>           /* CAP_*, capset()'s structs */
#include <linux/filter.h>               /* struct sock_filter, BPF_* */
#include <linux/sched.h>                /* struct clone_args */
#include <linux/seccomp.h>              /* SECCOMP_* */
#include <stddef.h>                     /* offsetof */

#include "seat.h"
#include "steps.h"
#include "util.h"

#define STACK_SIZE  (1024 * 1024)

/* ---- P: the clone ------------------------------------------------------- */

// [step:clone]
/*
 * A time namespace takes offsets only while nobody is in it: the first
 * process to enter freezes them. So, as unshare(1) and container runtimes
 * do, P makes the namespace for its future children (P itself stays on the
 * host's clocks), writes the offsets, and only then clones C, the first
 * process inside. Offsets count from the host's clocks, in seconds and
 * nanoseconds; the wall clock (CLOCK_REALTIME) has none.
 */
static bool prepare_time_ns(struct reply *r, long long mono_sec, long long boot_sec)
{
	char text[96];
	int fd;

	snprintf(text, sizeof text, "monotonic %lld 0\nboottime %lld 0\n", mono_sec, boot_sec);
	call_begin(r, "unshare(CLONE_NEWTIME)");
	if (!call_end(r, unshare(CLONE_NEWTIME)))
		return false;
	call_begin(r, "open(\"/proc/self/timens_offsets\", O_WRONLY|O_CLOEXEC)");
	/* Not dumpable, our /proc files belong to the host's root, which a
	 * seat's root is not: dumpable for just this open. */
	if (in_seat)
		prctl(PR_SET_DUMPABLE, 1);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (in_seat)
		prctl(PR_SET_DUMPABLE, 0);
	if (!call_end(r, fd))
		return false;
	call_begin(r, "write(%d, %s, %zu)", fd, cq(text), strlen(text));
	bool ok = call_end(r, write(fd, text, strlen(text)));
	close(fd);
	return ok;
}

/*
 * prepare_time_ns()'s unshare(CLONE_NEWTIME) leaves P's later children in
 * that namespace. A second CLONE (after a failed one, or once C is gone) must
 * not land there unasked: setns() into P's own time namespace puts them back
 * with P.
 */
static bool own_time_ns_for_children(struct reply *r)
{
	struct stat self, children;
	int fd;

	if (stat("/proc/self/ns/time", &self) < 0 || stat("/proc/self/ns/time_for_children", &children) < 0 ||
	    (self.st_dev == children.st_dev && self.st_ino == children.st_ino))
		return true;            /* no time namespaces here, or nothing to undo */
	call_begin(r, "open(\"/proc/self/ns/time\", O_RDONLY|O_CLOEXEC)");
	if (!call_end(r, fd = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC)))
		return false;
	call_begin(r, "setns(%d, CLONE_NEWTIME)", fd);
	bool ok = call_end(r, setns(fd, CLONE_NEWTIME));
	close(fd);
	return ok;
}

/*
 * Only a session leader can take a tty as its controlling tty, and taking
 * one that is still somebody's needs CAP_SYS_ADMIN in the initial user
 * namespace, which C lacks in a new user namespace. So P lets go first. The
 * kernel answers TIOCNOTTY with SIGHUP to our foreground group (us).
 */
static void give_up_tty(struct reply *r)
{
	signal(SIGHUP, SIG_IGN);
	if (tcgetsid(0) < 0)
		return;                 /* fd 0 is not (or no longer) our tty */
	call_begin(r, "ioctl(0, TIOCNOTTY)");
	call_end(r, ioctl(0, TIOCNOTTY));
}

/* The classic clone(): C runs child_main() on a fresh 1 MiB stack. */
static pid_t clone_child(struct reply *r, unsigned long flags, struct child_ctl *ctl, int *pidfd)
{
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (stack == MAP_FAILED) {
		reply_error(r, "cannot allocate the child's stack");
		return -1;
	}
	call_begin(r, "clone(child_main, stack + %d, %s, &ctl, &pidfd)", STACK_SIZE,
		   clone_flags_text(flags | CLONE_PIDFD, "SIGCHLD"));
	pid_t pid = clone(child_main, stack + STACK_SIZE, (int)(flags | CLONE_PIDFD | SIGCHLD),
			  ctl, pidfd);
	call_end(r, pid);
	if (munmap(stack, STACK_SIZE) < 0)      /* no CLONE_VM: C has its own copy */
		warn("munmap");
	return pid;
}

/*
 * CLONE_NEWTIME is 0x80, a bit clone() reads as part of the exit signal, so
 * the kernel takes it only from clone3() or unshare(). Without offsets to
 * write, clone3() makes the namespace and puts C in it in one call (with
 * offsets, see prepare_time_ns()). clone3() alone can also start C inside a
 * cgroup v2 group (CLONE_INTO_CGROUP, given the group's directory fd): C is
 * never anywhere else, so no write to cgroup.procs has to catch it. Given no
 * stack it works like fork(): C goes on with a copy of ours.
 */
static pid_t clone3_child(struct reply *r, unsigned long flags, int cgroup, struct child_ctl *ctl, int *pidfd)
{
	struct clone_args args = {
		.flags = flags | CLONE_PIDFD | (cgroup >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = cgroup >= 0 ? (uint64_t)cgroup : 0,
	};
	char group[32] = "";

	if (cgroup >= 0)
		snprintf(group, sizeof group, ", .cgroup = %d", cgroup);
	call_begin(r, "clone3(&(struct clone_args){.flags = %s, .pidfd = &pidfd, "
		   ".exit_signal = SIGCHLD%s}, %zu)", clone_flags_text(args.flags, NULL), group, sizeof args);
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
	if (pid == 0)
		_exit(child_main(ctl));
	call_end(r, pid);
	return pid;
}

/*
 * We learn of C's death through its pidfd (CLONE_PIDFD): poll() finds it
 * readable and waitid(P_PIDFD) reaps exactly C. A signalfd would need SIGCHLD
 * blocked, and a blocked signal mask is inherited by C and, across execve(),
 * by the container's shell.
 */
bool clone_container(struct reply *r, struct request *rq, struct new_child *c)
{
	unsigned long flags = 0;
	long long mono_sec = 0, boot_sec = 0;
	/* CLONE <flags> [<monotonic s> <boottime s> | <cgroup v2 directory>] */
	bool offsets = rq->argc == 3;
	const char *into = rq->argc == 2 ? rq->argv[1] : NULL;
	int sv[2], cgroup = -1;

	if (!parse_ns_flags(r, rq->argv[0], &flags))
		return false;
	if (offsets && (!parse_seconds(rq->argv[1], &mono_sec) || !parse_seconds(rq->argv[2], &boot_sec)))
		return reply_error(r, "CLONE takes flags, then two clock offsets in seconds or a cgroup directory");
	/* The rule is the server's: refuse() in lab-server/src/steps/clone.ts
	 * stops such a step before it gets here. P checks only in self-defence. */
	if (offsets && !(flags & CLONE_NEWTIME))
		return reply_error(r, "clock offsets need CLONE_NEWTIME");
	if (!own_time_ns_for_children(r))
		return false;
	give_up_tty(r);
	call_begin(r, "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, sv)");
	if (!call_end(r, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)))
		return false;
	if (offsets) {
		if (!prepare_time_ns(r, mono_sec, boot_sec)) {
			close(sv[0]);
			close(sv[1]);
			return false;
		}
		flags &= ~(unsigned long)CLONE_NEWTIME;  /* made already: C just enters it */
	}
	if (into) {
		call_begin(r, "open(%s, O_RDONLY|O_DIRECTORY|O_CLOEXEC)", cq(into));
		if (!call_end(r, cgroup = open(into, O_RDONLY | O_DIRECTORY | O_CLOEXEC))) {
			close(sv[0]);
			close(sv[1]);
			return false;
		}
	}
	struct child_ctl ctl = { .sock = sv[1] };
	c->pidfd = -1;
	/* In a seat, P2 writes C's uid_map as the seat's root. A process that is
	 * not dumpable has /proc files owned by the machine's root, out of reach:
	 * C is born dumpable (as P2 is for this one call), before anyone can ask. */
	if (in_seat)
		prctl(PR_SET_DUMPABLE, 1);
	c->pid = flags & CLONE_NEWTIME || into ? clone3_child(r, flags, cgroup, &ctl, &c->pidfd)
					       : clone_child(r, flags, &ctl, &c->pidfd);
	if (in_seat)
		prctl(PR_SET_DUMPABLE, 0);
	if (cgroup >= 0)
		close(cgroup);
	close(sv[1]);           /* if we kept C's end open, C's exit would bring no EOF */
	if (c->pid < 0) {
		close(sv[0]);
		return false;
	}
	c->sock = sv[0];
	r->pid = c->pid;
	return true;
}
// [/step]

/* ---- C: its steps, inside the new namespaces ---------------------------- */

static char old_root[PATH_MAX] = "/.oldroot";  /* where PIVOT put the host */

/* dir + "/" + name, without doubled slashes. */
static bool join_path(struct reply *r, char *out, const char *dir, const char *name)
{
	int n = (int)strlen(dir);

	while (n > 0 && dir[n - 1] == '/')
		n--;
	name += strspn(name, "/");
	return snprintf(out, PATH_MAX, "%.*s/%s", n, dir, name) < PATH_MAX ||
	       reply_error(r, "path too long");
}

// [step:idmap]
/*
 * The parent wrote uid_map and gid_map, but C still runs with the credentials
 * it was cloned with: host root, which the new map does not contain, so inside
 * it is "nobody" and files it creates would have no owner (EOVERFLOW). Taking
 * the mapped ids makes it the namespace's own root. gid first: after setuid
 * away from root there would be no right left to change the gid.
 */
void do_setid(struct reply *r, struct request *rq)
{
	long long uid, gid;

	if (!parse_decimal(rq->argv[0], &uid) || !parse_decimal(rq->argv[1], &gid) ||
	    uid < 0 || gid < 0 || uid > UINT32_MAX || gid > UINT32_MAX) {
		reply_error(r, "SETID takes a uid and a gid");
		return;
	}
	call_begin(r, "setresgid(%lld, %lld, %lld)", gid, gid, gid);
	if (!call_end(r, setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid)))
		return;
	call_begin(r, "setresuid(%lld, %lld, %lld)", uid, uid, uid);
	call_end(r, setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid));
}
// [/step]

// [step:hostname]
void do_hostname(struct reply *r, struct request *rq)
{
	const char *name = rq->argv[0];

	call_begin(r, "sethostname(%s, %zu)", cq(name), strlen(name));
	call_end(r, sethostname(name, strlen(name)));
}
// [/step]

// [step:propagation]
/* Private: our mounts must not leak back to the host, nor the host's to us. */
void do_propagation(struct reply *r, struct request *rq)
{
	static const struct { const char *name; unsigned long flags; const char *text; } kinds[] = {
		{ "private", FLAGS(MS_REC|MS_PRIVATE) },
		{ "slave", FLAGS(MS_REC|MS_SLAVE) },
		{ "shared", FLAGS(MS_REC|MS_SHARED) },
	};

	for (size_t i = 0; i < COUNT(kinds); i++) {
		if (strcmp(rq->argv[0], kinds[i].name) == 0) {
			call_begin(r, "mount(NULL, \"/\", NULL, %s, NULL)", kinds[i].text);
			call_end(r, mount(NULL, "/", NULL, kinds[i].flags, NULL));
			return;
		}
	}
	reply_error(r, "propagation must be private, slave or shared");
}
// [/step]

// [step:bind-root]
/* pivot_root() wants the new root to be a mount point: bind it onto itself. */
void do_bind(struct reply *r, struct request *rq)
{
	const char *path = rq->argv[0];

	call_begin(r, "mount(%s, %s, NULL, MS_BIND|MS_REC, NULL)", cq(path), cq(path));
	call_end(r, mount(path, path, NULL, MS_BIND | MS_REC, NULL));
}
// [/step]

// [step:pivot-root]
void do_pivot(struct reply *r, struct request *rq)
{
	const char *new_root = rq->argv[0];
	char put_old[PATH_MAX], after[PATH_MAX];

	if (!join_path(r, put_old, new_root, rq->argv[1]) || !join_path(r, after, "/", rq->argv[1]))
		return;
	call_begin(r, "mkdir(%s, 0700)", cq(put_old));
	if (!call_try(r, mkdir(put_old, 0700)) && errno != EEXIST) {
		r->ok = false;
		return;
	}
	call_begin(r, "pivot_root(%s, %s)", cq(new_root), cq(put_old));
	if (!call_end(r, syscall(SYS_pivot_root, new_root, put_old)))  /* no glibc wrapper */
		return;
	memcpy(old_root, after, sizeof old_root);
	/* our cwd may still be a directory of the old root: step into the new */
	call_begin(r, "chdir(\"/\")");
	call_end(r, chdir("/"));
}
// [/step]

// [step:chroot]
/*
 * chroot() changes one thing only: where this process's lookups of "/" start.
 * The mount namespace keeps its own root, and the cwd stays wherever it was,
 * so chdir("/") must follow, or the cwd would be a door outside the new root.
 * Even then the door is only closed, not gone: a process that may call
 * chroot() again can put its root below its cwd and walk ".." out to the
 * mount namespace's real top (rootfs-images/tools/breakout.c does it).
 */
void do_chroot(struct reply *r, struct request *rq)
{
	const char *path = rq->argv[0];

	call_begin(r, "chroot(%s)", cq(path));
	if (!call_end(r, chroot(path)))
		return;
	call_begin(r, "chdir(\"/\")");
	call_end(r, chdir("/"));
}
// [/step]

// [step:detach-old-root]
/* MNT_DETACH: the old root is still busy (open files, other processes' cwd),
 * so unhook it now and let the kernel free it when the last user lets go. */
void do_detach(struct reply *r, struct request *rq)
{
	char path[PATH_MAX];

	if (!join_path(r, path, "/", rq->argv[0]))
		return;
	call_begin(r, "umount2(%s, MNT_DETACH)", cq(path));
	if (!call_end(r, umount2(path, MNT_DETACH)))
		return;
	call_begin(r, "rmdir(%s)", cq(path));
	call_end(r, rmdir(path));
}
// [/step]

/* Only a missing directory costs a call: an existing one is no news. */
static bool ensure_dir(struct reply *r, const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return true;
	call_begin(r, "mkdir(%s, 0755)", cq(path));
	return call_try(r, mkdir(path, 0755));
}

// [step:mount]
static const struct fs_mount {
	const char *kind, *source, *target, *fstype;
	unsigned long flags;
	const char *flags_text, *data;
} fs_mounts[] = {
	{ "proc", "proc", "/proc", "proc", FLAGS(MS_NOSUID|MS_NODEV|MS_NOEXEC), NULL },
	{ "sys", "sysfs", "/sys", "sysfs", FLAGS(MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RDONLY), NULL },
	{ "tmp", "tmpfs", "/tmp", "tmpfs", FLAGS(MS_NOSUID|MS_NODEV), "mode=1777" },
	{ "dev", "tmpfs", "/dev", "tmpfs", FLAGS(MS_NOSUID|MS_STRICTATIME), "mode=755,size=65536k" },
};

static bool mount_fs(struct reply *r, const struct fs_mount *m)
{
	if (!ensure_dir(r, m->target)) {
		r->ok = false;
		return false;
	}
	call_begin(r, "mount(%s, %s, %s, %s, %s)", cq(m->source), cq(m->target),
		   cq(m->fstype), m->flags_text, cq(m->data));
	return call_end(r, mount(m->source, m->target, m->fstype, m->flags, m->data));
}

static bool make_dev_node(struct reply *r, const char *name, unsigned major, unsigned minor)
{
	char path[64], host[PATH_MAX + 64];

	snprintf(path, sizeof path, "/dev/%s", name);
	call_begin(r, "mknod(%s, S_IFCHR|0666, makedev(%u, %u))", cq(path), major, minor);
	if (call_try(r, mknod(path, S_IFCHR | 0666, makedev(major, minor))))
		return true;
	if (errno != EPERM)
		return false;
	/* In a user namespace device nodes are out of reach (no CAP_MKNOD that
	 * counts, and its tmpfs is nodev anyway), so borrow the host's node:
	 * an empty file as the mount point, then a bind mount onto it. */
	call_begin(r, "mknod(%s, S_IFREG|0666, 0)", cq(path));
	if (!call_try(r, mknod(path, S_IFREG | 0666, 0)))
		return false;
	snprintf(host, sizeof host, "%s/dev/%s", old_root, name);
	call_begin(r, "mount(%s, %s, NULL, MS_BIND, NULL)", cq(host), cq(path));
	return call_try(r, mount(host, path, NULL, MS_BIND, NULL));
}

/* A devpts instance of our own: the container sees only its own ptys. */
static void mount_devpts(struct reply *r)
{
	static const char *const opts[] = {
		"newinstance,ptmxmode=0666,mode=0620,gid=5",
		"newinstance,ptmxmode=0666,mode=0620",  /* gid 5 unmapped: EINVAL */
	};

	if (!ensure_dir(r, "/dev/pts"))
		return;
	for (size_t i = 0; i < COUNT(opts); i++) {
		call_begin(r, "mount(\"devpts\", \"/dev/pts\", \"devpts\", MS_NOSUID|MS_NOEXEC, %s)",
			   cq(opts[i]));
		if (call_try(r, mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, opts[i]))
		    || errno != EINVAL)
			return;
	}
}

static void mount_dev(struct reply *r, const struct fs_mount *m)
{
	static const struct { const char *name; unsigned major, minor; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const char *const links[][2] = {
		{ "pts/ptmx", "/dev/ptmx" }, { "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" }, { "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};

	if (!mount_fs(r, m))
		return;
	mode_t saved = umask(0);        /* 0666 is the point: keep the umask out */
	for (size_t i = 0; i < COUNT(nodes); i++)
		r->ok &= make_dev_node(r, nodes[i].name, nodes[i].major, nodes[i].minor);
	umask(saved);
	mount_devpts(r);
	for (size_t i = 0; i < COUNT(links); i++) {
		call_begin(r, "symlink(%s, %s)", cq(links[i][0]), cq(links[i][1]));
		call_try(r, symlink(links[i][0], links[i][1]));
	}
}

void do_mount(struct reply *r, struct request *rq)
{
	for (size_t i = 0; i < COUNT(fs_mounts); i++) {
		const struct fs_mount *m = &fs_mounts[i];
		if (strcmp(rq->argv[0], m->kind) != 0)
			continue;
		if (strcmp(m->kind, "dev") == 0)
			mount_dev(r, m);
		else
			mount_fs(r, m);
		return;
	}
	reply_error(r, "MOUNT takes proc, sys, dev or tmp");
}
// [/step]

// [step:unshare]
void do_unshare(struct reply *r, struct request *rq)
{
	unsigned long flags = 0;

	if (!parse_ns_flags(r, rq->argv[0], &flags))
		return;
	call_begin(r, "unshare(%s)", clone_flags_text(flags, NULL));
	call_end(r, unshare((int)flags));
}
// [/step]

/* ENV names the file an interactive POSIX shell reads at start: an image sets its
 * prompt there (PS1 escapes differ between shells; "# " is understood by all). */
const char *const container_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root", "TERM=xterm-256color", "LANG=C.UTF-8", "PS1=# ",
	"ENV=/etc/shrc", NULL,
};

// [step:mask]
/*
 * Hide what a container has no business reading, as runc's maskedPaths and
 * readonlyPaths do: an empty read-only tmpfs over a directory, /dev/null bound
 * over a file (reads give nothing, writes vanish), and a read-only bind of
 * itself over what may be read but never written. The paths come from the
 * server (protocol/kernel.ts, which the OCI export writes too): the masked ones,
 * then "--", then the read-only ones. A path this kernel does not have is
 * skipped. Needs /proc, /sys and /dev mounted in here first.
 */
static bool mask_path(struct reply *r, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return true;
	if (S_ISDIR(st.st_mode)) {
		call_begin(r, "mount(\"tmpfs\", %s, \"tmpfs\", MS_RDONLY, NULL)", cq(path));
		return call_end(r, mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL));
	}
	call_begin(r, "mount(\"/dev/null\", %s, NULL, MS_BIND, NULL)", cq(path));
	return call_end(r, mount("/dev/null", path, NULL, MS_BIND, NULL));
}

static bool read_only_path(struct reply *r, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return true;
	/* A bind of itself, then that bind made read-only: a plain remount
	 * would change the whole /proc mount. */
	call_begin(r, "mount(%s, %s, NULL, MS_BIND|MS_REC, NULL)", cq(path), cq(path));
	if (!call_end(r, mount(path, path, NULL, MS_BIND | MS_REC, NULL)))
		return false;
	call_begin(r, "mount(NULL, %s, NULL, MS_BIND|MS_REMOUNT|MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)", cq(path));
	return call_end(r, mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
}

void do_mask(struct reply *r, struct request *rq)
{
	bool read_only = false;

	for (int i = 0; i < rq->argc; i++) {
		const char *path = rq->argv[i];
		if (strcmp(path, "--") == 0) {
			read_only = true;
			continue;
		}
		if (path[0] != '/') {
			reply_error(r, "MASK takes absolute paths");
			return;
		}
		if (!(read_only ? read_only_path(r, path) : mask_path(r, path)))
			return;
	}
}
// [/step]

// [step:caps]
/*
 * Keep only the capabilities named. Each other one leaves the bounding set,
 * the ceiling on what any later execve() can give; then effective, permitted
 * and inheritable become the kept ones and the ambient set is emptied. When
 * root execs the shell, the kernel gives it what the bounding set still holds.
 */
static const struct named capabilities[] = {
	{ FLAGS(CAP_CHOWN) }, { FLAGS(CAP_DAC_OVERRIDE) }, { FLAGS(CAP_DAC_READ_SEARCH) },
	{ FLAGS(CAP_FOWNER) }, { FLAGS(CAP_FSETID) }, { FLAGS(CAP_KILL) }, { FLAGS(CAP_SETGID) },
	{ FLAGS(CAP_SETUID) }, { FLAGS(CAP_SETPCAP) }, { FLAGS(CAP_LINUX_IMMUTABLE) },
	{ FLAGS(CAP_NET_BIND_SERVICE) }, { FLAGS(CAP_NET_BROADCAST) }, { FLAGS(CAP_NET_ADMIN) },
	{ FLAGS(CAP_NET_RAW) }, { FLAGS(CAP_IPC_LOCK) }, { FLAGS(CAP_IPC_OWNER) },
	{ FLAGS(CAP_SYS_MODULE) }, { FLAGS(CAP_SYS_RAWIO) }, { FLAGS(CAP_SYS_CHROOT) },
	{ FLAGS(CAP_SYS_PTRACE) }, { FLAGS(CAP_SYS_PACCT) }, { FLAGS(CAP_SYS_ADMIN) },
	{ FLAGS(CAP_SYS_BOOT) }, { FLAGS(CAP_SYS_NICE) }, { FLAGS(CAP_SYS_RESOURCE) },
	{ FLAGS(CAP_SYS_TIME) }, { FLAGS(CAP_SYS_TTY_CONFIG) }, { FLAGS(CAP_MKNOD) },
	{ FLAGS(CAP_LEASE) }, { FLAGS(CAP_AUDIT_WRITE) }, { FLAGS(CAP_AUDIT_CONTROL) },
	{ FLAGS(CAP_SETFCAP) }, { FLAGS(CAP_MAC_OVERRIDE) }, { FLAGS(CAP_MAC_ADMIN) },
	{ FLAGS(CAP_SYSLOG) }, { FLAGS(CAP_WAKE_ALARM) }, { FLAGS(CAP_BLOCK_SUSPEND) },
	{ FLAGS(CAP_AUDIT_READ) }, { 38, "CAP_PERFMON" }, { 39, "CAP_BPF" },
	{ 40, "CAP_CHECKPOINT_RESTORE" },
};

void do_caps(struct reply *r, struct request *rq)
{
	uint64_t keep = 0;

	for (int i = 0; i < rq->argc; i++) {
		const struct named *cap = find_named(capabilities, COUNT(capabilities), rq->argv[i]);
		if (!cap) {
			reply_error(r, "CAPS takes capability names, not %.40s", rq->argv[i]);
			return;
		}
		keep |= 1ULL << cap->value;
	}
	for (size_t k = 0; k < COUNT(capabilities); k++) {
		int cap = capabilities[k].value;
		/* Not kept, and still there: a kernel older than the cap lacks it. */
		if ((keep & (1ULL << cap)) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		call_begin(r, "prctl(PR_CAPBSET_DROP, %s, 0, 0, 0)", capabilities[k].name);
		if (!call_end(r, prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)))
			return;
	}
	call_begin(r, "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)");
	if (!call_end(r, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)))
		return;
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct sets[2] = {
		{ (uint32_t)keep, (uint32_t)keep, (uint32_t)keep },
		{ (uint32_t)(keep >> 32), (uint32_t)(keep >> 32), (uint32_t)(keep >> 32) },
	};
	call_begin(r, "capset(&{_LINUX_CAPABILITY_VERSION_3, 0}, {effective = permitted = inheritable = %#llx})", (unsigned long long)keep);
	call_end(r, syscall(SYS_capset, &head, sets));
}
// [/step]

// [step:no-new-privs]
/* From here on no execve() can give more privilege than the caller has: set-uid
 * bits and file capabilities are ignored. Inherited by every child, for good. */
void do_no_new_privs(struct reply *r, struct request *rq)
{
	(void)rq;
	call_begin(r, "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)");
	call_end(r, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}
// [/step]

// [step:seccomp]
/*
 * A filter the kernel runs on every system call of this process and all it
 * starts, a small BPF program: check the architecture (another one numbers its
 * calls differently), then compare the call's number with each denied one.
 * A match is answered with the action chosen, before the call does anything:
 * EPERM, or SIGSYS that kills the process. Everything else is allowed.
 */
#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif
#define SYSCALL(n) { __NR_##n, #n }
static const struct named denyable[] = {
	SYSCALL(keyctl), SYSCALL(add_key), SYSCALL(request_key), SYSCALL(unshare),
	SYSCALL(setns), SYSCALL(mount), SYSCALL(umount2), SYSCALL(pivot_root),
	SYSCALL(chroot), SYSCALL(kexec_load), SYSCALL(open_by_handle_at),
	SYSCALL(init_module), SYSCALL(finit_module), SYSCALL(delete_module),
	SYSCALL(ptrace), SYSCALL(bpf), SYSCALL(perf_event_open), SYSCALL(reboot),
	SYSCALL(swapon), SYSCALL(swapoff), SYSCALL(settimeofday), SYSCALL(clock_settime),
	SYSCALL(personality), SYSCALL(userfaultfd),
};

void do_seccomp(struct reply *r, struct request *rq)
{
#ifdef SECCOMP_ARCH
	struct sock_filter prog[8 + COUNT(denyable)];
	int nr[COUNT(denyable)];
	unsigned n = 0, deny = 0;
	bool kill = strcmp(rq->argv[0], "kill") == 0;

	if (!kill && strcmp(rq->argv[0], "errno") != 0) {
		reply_error(r, "SECCOMP takes errno or kill, then syscall names");
		return;
	}
	if (rq->argc - 1 > (int)COUNT(denyable)) {
		reply_error(r, "SECCOMP denies at most %zu calls", COUNT(denyable));
		return;
	}
	for (int i = 1; i < rq->argc; i++) {
		const struct named *call = find_named(denyable, COUNT(denyable), rq->argv[i]);
		if (!call) {
			reply_error(r, "SECCOMP cannot deny %.40s", rq->argv[i]);
			return;
		}
		nr[deny++] = call->value;
	}
	/* [0] the architecture, or kill: its numbers would mean other calls. */
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 calls are x86-64 numbers with bit 30 set: refuse them all. */
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, deny + 1, 0);
#endif
	for (unsigned i = 0; i < deny; i++) {
		/* Equal: jump over the remaining tests and the ALLOW, to the verdict. */
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr[i], deny - i, 0);
	}
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, kill ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));

	struct sock_fprog fprog = { .len = (unsigned short)n, .filter = prog };
	call_begin(r, "seccomp(SECCOMP_SET_MODE_FILTER, 0, &{%u instructions: %u calls denied with %s})",
		   n, deny, kill ? "SECCOMP_RET_KILL_PROCESS" : "SECCOMP_RET_ERRNO|EPERM");
	call_end(r, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog));
#else
	(void)rq;
	reply_error(r, "this helper was built for an architecture it has no seccomp filter for");
#endif
}
// [/step]

// [step:rlimit]
/*
 * A resource limit: a ceiling the kernel enforces on this process and all it
 * starts. The soft value is what applies; the process may raise it up to the
 * hard one, and lower the hard one, but raising the hard one takes
 * CAP_SYS_RESOURCE.
 */
static const struct { const char *name; int resource; const char *text; } rlimits[] = {
	{ "nofile", FLAGS(RLIMIT_NOFILE) }, { "nproc", FLAGS(RLIMIT_NPROC) },
	{ "core", FLAGS(RLIMIT_CORE) }, { "fsize", FLAGS(RLIMIT_FSIZE) },
	{ "memlock", FLAGS(RLIMIT_MEMLOCK) },
};

static bool rlimit_value(const char *s, rlim_t *v)
{
	long long n;

	if (strcmp(s, "unlimited") == 0) {
		*v = RLIM_INFINITY;
		return true;
	}
	if (!parse_decimal(s, &n) || n < 0)
		return false;
	*v = (rlim_t)n;
	return true;
}

void do_rlimit(struct reply *r, struct request *rq)
{
	struct rlimit rl;
	size_t k = 0;

	while (k < COUNT(rlimits) && strcmp(rlimits[k].name, rq->argv[0]) != 0)
		k++;
	if (k == COUNT(rlimits) || !rlimit_value(rq->argv[1], &rl.rlim_cur) || !rlimit_value(rq->argv[2], &rl.rlim_max)) {
		reply_error(r, "RLIMIT takes a resource, then a soft and a hard value");
		return;
	}
	call_begin(r, "setrlimit(%s, &{%s, %s})", rlimits[k].text, rq->argv[1], rq->argv[2]);
	call_end(r, setrlimit(rlimits[k].resource, &rl));
}
// [/step]

// [step:exec]
/*
 * A successful execve() never returns, so C cannot report it. C tells P what
 * it is about to run; its socket is CLOEXEC, so the kernel closes it the
 * moment the new program replaces C, and P takes that EOF as "execve worked"
 * (runc's trick). The trace line goes out first, for the same reason: after
 * a successful execve() nobody could print it before the new program talks.
 */
void do_exec(struct reply *r, struct request *rq)
{
	char text[CALL_MAX], notice[CALL_MAX + 16];
	struct sb s;

	sb_init(&s, text, sizeof text);
	sb_printf(&s, "execve(%s, [", cq(rq->argv[0]));
	for (int i = 0; i < rq->argc; i++) {
		if (s.len + 4 * QUOTE_MAX + 32 > sizeof text) {
			sb_printf(&s, ", ...");
			break;
		}
		sb_printf(&s, "%s", i ? ", " : "");
		sb_cquote(&s, rq->argv[i]);
	}
	sb_printf(&s, "], envp)");
	close_fds_except(uplink);
	snprintf(notice, sizeof notice, EXEC_NOTICE "%s\n", text);
	send_up(notice, strlen(notice));
	trace("%s ...", text);
	call_begin(r, "%s", text);
	call_end(r, execve(rq->argv[0], rq->argv, (char **)container_env));
}
// [/step]
