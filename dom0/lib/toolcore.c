// SPDX-License-Identifier: MIT
/* libxentoolcore (Xen's xentoolcore.h and its library-internal ABI): restrict every open handle to
 * one domain. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <xentoolcore.h>

/*
 * Xen's other libraries (libxenstore among them) register each handle
 * they open, so that xentoolcore_restrict_all(domid) can ask every one of
 * them to restrict itself to a domain (QEMU's depriv).  A registered
 * handle starts with its restrict callback (Xen's layout; the list entry
 * after it is Xen's own and not used here): the registry is a separate
 * array of pointers.  Our own handles (libxencall & co.) keep no kernel
 * resource that could be restricted and do not register.
 *
 * Thread safety: `lock` covers the registry; any call from any thread.
 * As in Xen, restrict_all must not race with closes of the handles it
 * calls.
 */
typedef struct active_handle active_handle;
typedef int restrict_cb(active_handle *ah, domid_t domid);
struct active_handle {
	restrict_cb *restrict_callback;
	/* Xen's list entry follows; owned by the caller, untouched here. */
};

/* Library-internal calls of Xen's ABI (not in xentoolcore.h). */
void xentoolcore__register_active_handle(active_handle *ah);
void xentoolcore__deregister_active_handle(active_handle *ah);
int xentoolcore__restrict_by_dup2_null(int fd);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static active_handle **handles; /* owned by this file, under lock */
static size_t nr, cap;

/* Xen's register cannot fail; when memory runs out the handle is simply not restricted. */
void xentoolcore__register_active_handle(active_handle *ah)
{
	pthread_mutex_lock(&lock);
	if (nr == cap) {
		size_t ncap = cap ? cap * 2 : 16;
		active_handle **n = realloc(handles, ncap * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&lock);
			return;
		}
		handles = n;
		cap = ncap;
	}
	handles[nr++] = ah;
	pthread_mutex_unlock(&lock);
}

void xentoolcore__deregister_active_handle(active_handle *ah)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nr; i++) {
		if (handles[i] == ah) {
			handles[i] = handles[--nr];
			break;
		}
	}
	pthread_mutex_unlock(&lock);
}

/* Every registered handle restricts itself; -1 (errno from the callback) at the first failure. */
int xentoolcore_restrict_all(domid_t domid)
{
	int ret = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nr && !ret; i++)
		if (handles[i]->restrict_callback)
			ret = handles[i]->restrict_callback(handles[i], domid);
	pthread_mutex_unlock(&lock);
	return ret ? -1 : 0;
}

/* fd now refers to /dev/null (a handle that cannot be restricted is closed this way). */
int xentoolcore__restrict_by_dup2_null(int fd)
{
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int ret, saved;

	if (nullfd < 0)
		return -1;
	ret = dup2(nullfd, fd) < 0 ? -1 : 0;
	saved = errno;
	close(nullfd);
	errno = saved;
	return ret;
}
