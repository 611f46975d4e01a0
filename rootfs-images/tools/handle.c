/*
 * handle - open a file by its file handle instead of its path: the call
 * behind the "shocker" container escape, to show what CAP_DAC_READ_SEARCH
 * guards.
 *
 *   handle PATH
 *
 * A file handle is a filesystem's own name for a file, a few bytes that most
 * filesystems fill with the inode number and a generation number.
 * name_to_handle_at(2) asks for the handle of a path; open_by_handle_at(2)
 * opens a file from a handle alone, given any open file on the same mount
 * to say which filesystem to look in. It was made for file servers in user
 * space (an NFS server hands handles to its clients and gets them back
 * later), and it walks no path: no directory on the way is checked, and a
 * root set by chroot() or pivot_root() does not matter. So the kernel
 * allows it only to a caller that could read and search every directory
 * anyway: one with CAP_DAC_READ_SEARCH in the initial user namespace, the
 * machine's own. (Since Linux 6.11 a process in a user namespace may also
 * open a directory by its handle, with O_DIRECTORY, if it holds
 * CAP_DAC_READ_SEARCH in its own namespace and CAP_SYS_ADMIN over the
 * filesystem, or over the mount with nothing locked on top, and every
 * directory above it belongs to ids its namespace maps. Any other file still
 * takes the capability in the initial namespace. See may_decode_fh() in
 * fs/fhandle.c.)
 *
 * "shocker" (2014) escaped from Docker before 1.0, which left containers
 * CAP_DAC_READ_SEARCH. Docker bind-mounted a file from the host into each
 * container; an open file on that mount was enough to name the host's
 * filesystem, and the handle of its root directory (inode 2 on ext4) was easy
 * to guess. open_by_handle_at() then opened the host's "/", and every file
 * below it.
 *
 * This program takes a path, asks for its handle, then opens the file by
 * that handle and reads its first line. It says what the kernel answered
 * and leaves a one-line note in /tmp/handle.result for whoever checks.
 *
 * Built static by rootfs-images/build.sh, so it runs in any image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define RESULT "/tmp/handle.result"

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("handle: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* The errors these two calls give, by the name the manual pages use. */
static const char *errno_name(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case ENOTDIR: return "ENOTDIR";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ELOOP: return "ELOOP";
	case ESTALE: return "ESTALE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EOVERFLOW: return "EOVERFLOW";
	default: return "?";
	}
}

/* Left for whoever checks afterwards (the lab reads it from the host side). */
static void leave_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void leave_result(const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(RESULT, "w");

	if (f) {
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
		fputc('\n', f);
	}
	if (!f || fclose(f) != 0) {
		say("could not write %s: %s", RESULT, strerror(errno));
		return;
	}
	say("report left in %s", RESULT);
}

/* Whether this process holds CAP_DAC_READ_SEARCH, in its own user namespace. */
static bool holds_dac_read_search(void)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct sets[2];

	if (syscall(SYS_capget, &head, sets) < 0)
		return false;
	return sets[0].effective & (1U << CAP_DAC_READ_SEARCH);
}

/* 1 if we are in a user namespace other than the machine's, 0 if not, -1 if
 * /proc cannot say: only the initial one maps every uid to itself. */
static int in_user_namespace(void)
{
	unsigned long inside, outside, count;
	FILE *f = fopen("/proc/self/uid_map", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%lu %lu %lu", &inside, &outside, &count);
	fclose(f);
	if (n != 3)
		return -1;
	return !(inside == 0 && outside == 0 && count == 4294967295UL);
}

/* The second half, in a child of ours. A seccomp filter that denies the call
 * may kill the process making it (SIGSYS, which no handler can catch); this
 * way we are still here to say so. Exit status: 0 opened, else the errno. */
static _Noreturn void open_in_child(int mount_fd, struct file_handle *fh, bool is_dir)
{
	char line[160];
	struct stat st;
	ssize_t n;
	/* O_DIRECTORY for a directory: only with it may a kernel since 6.11
	 * apply the relaxed rule for user namespaces (above). */
	int fd = open_by_handle_at(mount_fd, fh, O_RDONLY | (is_dir ? O_DIRECTORY : 0));

	if (fd < 0)
		_exit(errno);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		say("open_by_handle_at() gave fd %d, a directory", fd);
		_exit(0);
	}
	n = read(fd, line, sizeof line - 1);
	if (n <= 0) {
		say("open_by_handle_at() gave fd %d; it has nothing to read", fd);
		_exit(0);
	}
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	say("open_by_handle_at() gave fd %d; its first line: \"%s\"", fd, line);
	_exit(0);
}

int main(int argc, char **argv)
{
	union {         /* a file_handle with room for the largest handle */
		struct file_handle fh;
		char room[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h;
	struct stat st;
	char dir[4096];
	int mount_id, mount_fd, status, err;
	bool cap = holds_dac_read_search();
	pid_t child;

	if (argc != 2) {
		fprintf(stderr, "usage: handle PATH   (a file on a filesystem that makes handles: tmpfs, ext4...)\n");
		return 2;
	}
	const char *path = argv[1];

	say("this process %s CAP_DAC_READ_SEARCH%s", cap ? "holds" : "does not hold",
	    prctl(PR_GET_SECCOMP) == 2 ? ", and has a seccomp filter" : "");

	/* First half: the path, looked up as usual, turned into a handle. Any
	 * process may ask; the handle alone opens nothing. */
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, AT_SYMLINK_FOLLOW) < 0) {
		err = errno;
		say("name_to_handle_at(\"%s\"): %s", path, strerror(err));
		if (err == EOPNOTSUPP)
			say("the filesystem holding it cannot make handles (an overlay mounted without nfs_export=on cannot, nor /proc): try a file on a tmpfs");
		leave_result("failed: name_to_handle_at: %s (errno %s)", strerror(err), errno_name(err));
		return 2;
	}
	char hex[3 * MAX_HANDLE_SZ + 1] = "";
	for (unsigned i = 0; i < h.fh.handle_bytes; i++)
		snprintf(hex + 3 * i, sizeof hex - 3 * i, " %02x", (unsigned char)h.fh.f_handle[i]);
	say("name_to_handle_at(\"%s\"): handle type %d, %u bytes:%s", path, h.fh.handle_type,
	    h.fh.handle_bytes, hex);
	bool is_dir = false;
	if (stat(path, &st) == 0) {
		is_dir = S_ISDIR(st.st_mode);
		say("(its inode number is %llu, %#llx: most filesystems put it in the handle, lowest byte first)",
		    (unsigned long long)st.st_ino, (unsigned long long)st.st_ino);
	}

	/* Which filesystem to decode the handle on: any open file on the same
	 * mount will do. Here the directory holding the file, or a directory
	 * itself (it may be the top of a mount, its parent on another one).
	 * shocker used a file the engine had bind-mounted from the host. */
	snprintf(dir, sizeof dir, "%s", path);
	const char *where = is_dir ? dir : dirname(dir);
	mount_fd = open(where, O_RDONLY | O_DIRECTORY);
	if (mount_fd < 0) {
		err = errno;
		say("open(\"%s\"), the mount fd: %s", where, strerror(err));
		leave_result("failed: open mount fd: %s (errno %s)", strerror(err), errno_name(err));
		return 2;
	}

	/* Second half: the handle, with no path, back into an open file. */
	child = fork();
	if (child < 0) {
		say("fork: %s", strerror(errno));
		return 2;
	}
	if (child == 0)
		open_in_child(mount_fd, &h.fh, is_dir);
	if (waitpid(child, &status, 0) < 0) {
		say("waitpid: %s", strerror(errno));
		return 2;
	}

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		say("open_by_handle_at(): killed by SIGSYS: a seccomp filter denies this call, before the kernel even looks at capabilities");
		if (!cap)
			say("behind the filter, the kernel itself would refuse: no CAP_DAC_READ_SEARCH, EPERM");
		leave_result("refused: open_by_handle_at: killed by SIGSYS (seccomp filter)");
		return 1;
	}
	if (WIFSIGNALED(status)) {
		say("the child making the call died of signal %d", WTERMSIG(status));
		leave_result("failed: open_by_handle_at: signal %d", WTERMSIG(status));
		return 2;
	}
	err = WEXITSTATUS(status);
	if (err == 0) {
		say("OPENED by handle: no path was walked, no directory's permissions checked on the way");
		leave_result("opened %s by handle", path);
		return 0;
	}
	say("open_by_handle_at(): %s (%s)", strerror(err), errno_name(err));
	if (err == EPERM && !cap)
		say("REFUSED: opening by handle takes CAP_DAC_READ_SEARCH, and this process has none");
	else if (err == EPERM && in_user_namespace() == 1)
		say("REFUSED although this process holds CAP_DAC_READ_SEARCH: it holds it in a user namespace of its own, and for a file the kernel asks for it in the initial one, the machine's");
	else if (err == EPERM)
		say("REFUSED although this process holds CAP_DAC_READ_SEARCH: a seccomp filter answering EPERM, as Docker's does");
	else if (err == ESTALE)
		say("the handle names no file on the filesystem of the mount fd (a deleted file, or another filesystem)");
	leave_result("%s: open_by_handle_at: %s (errno %s)", err == EPERM || err == EACCES ? "refused" : "failed",
		     strerror(err), errno_name(err));
	return 1;
}
