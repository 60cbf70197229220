// SPDX-License-Identifier: MIT
// The daemon's shared types: daemon context, connections and their transport table, domains,
// watches, transactions.
#ifndef XENSTORED_H
#define XENSTORED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "sv/list.h"
#include "xs_cbuf.h"
#include "xs_node.h"
#include "xs_wire.h"

#define XS_NR_DOMAINS 65536u
#define XS_DOMID_NONE (-1)

/* Quotas, named as Xen's C xenstored names them in CONTROL quota. */
enum xs_quota_id {
	XS_Q_NODES,	   /* nodes owned per domain */
	XS_Q_WATCHES,	   /* watches per connection */
	XS_Q_TRANSACTIONS, /* open transactions per connection */
	XS_Q_OUTSTANDING,  /* requests queued unanswered per connection */
	XS_Q_NODE_SIZE,	   /* bytes of one node (value, perms, children) */
	XS_Q_PERMS,	   /* ACL entries per node */
	XS_Q_COUNT
};

struct xs_quotas {
	int val[XS_Q_COUNT];
};

/* The main node tree: hash map plus per-domain ownership counts. */
struct xs_tree {
	struct xs_map map;
	uint64_t gen;	   /* last generation handed out */
	uint64_t load_seq; /* nodes loaded so far */
	uint32_t *owned;   /* nodes per owner domid */
	/* Persistence hooks, called for every main-tree change (may be NULL). */
	void (*on_put)(void *ctx, const struct xs_node *n);
	void (*on_del)(void *ctx, const char *path);
	void *hook_ctx;
};

/* Who is asking: decides permissions and quotas. */
struct xs_caller {
	unsigned int domid;
	int target;	 /* domain this one may act for, or -1 */
	bool privileged; /* dom0 tools: every access, no quota */
};

struct xs_conn;

/*
 * A transport moves bytes between a client and the daemon: a UNIX socket
 * or a guest's shared ring page. The core only ever calls these.
 */
struct xs_transport_ops {
	const char *name;
	/* Copy up to @len bytes in. >0 bytes, 0 nothing now, -errno (EOF: -EPIPE). */
	ssize_t (*read)(struct xs_conn *c, void *buf, size_t len);
	/* Copy up to @len bytes out. Bytes taken, 0 if full now, -errno. */
	ssize_t (*write)(struct xs_conn *c, const void *buf, size_t len);
	/* Whether read/write would make progress now (rings poll indexes). */
	bool (*can_read)(struct xs_conn *c);
	bool (*can_write)(struct xs_conn *c);
	/* Release the transport's resources (fd, mapping, event channel). */
	void (*close)(struct xs_conn *c);
	/*
	 * Optional, preferred over read/write: one call moving the bytes of
	 * the iovecs in io->mh that has the kernel store the count in
	 * io->mh.msg_len (recvmmsg/sendmmsg), so it survives a kill right
	 * after the call. Bytes, 0 if nothing now, -errno (EOF: -EPIPE).
	 */
	ssize_t (*recvmm)(struct xs_conn *c, struct xs_cbuf_io *io);
	ssize_t (*sendmm)(struct xs_conn *c, struct xs_cbuf_io *io);
	/* Optional: once at the end of a loop pass (rings: one kick per burst). */
	void (*end_pass)(struct xs_conn *c);
	/*
	 * The peer may add bytes without telling us while a read is under way:
	 * a guest notifies only when its write finds the ring empty (Linux's
	 * xb_write), and a write made while we copied found it not yet empty.
	 * A short read then proves nothing: read until a read returns 0.
	 */
	bool quiet_producer;
};

struct xs_watch {
	struct sv_list conn_link; /* in conn->watches */
	struct sv_list all_link;  /* in d->watches */
	struct xs_conn *conn;
	char *path; /* absolute path or @special */
	char *token;
	size_t rel_prefix; /* bytes to strip for relative watches, 0 if absolute */
};

/* An event remembered by a transaction until it commits. */
struct xs_txn_event {
	char *path;
	bool recursive;
	struct xs_perm *perms;
	uint32_t nperms;
};

struct xs_txn {
	struct sv_list link; /* in conn->txns */
	uint32_t id;
	struct xs_map overlay; /* nodes written or deleted (tombstones) */
	struct xs_map reads;   /* path -> node as first seen (deleted: absent) */
	struct xs_txn_event *events;
	uint32_t nevents, capevents;
	int nodes_added; /* net nodes created, for the node quota */
	uint64_t seq;	 /* overlay entries made so far */
};

struct xs_domain {
	unsigned int domid;
	bool introduced;
	uint64_t mfn;
	unsigned int port;
	int target;	      /* SET_TARGET, -1 none */
	bool shutdown;	      /* @releaseDomain sent for its shutdown */
	struct xs_conn *conn; /* ring connection once attached */
};

struct xs_conn {
	struct sv_list link; /* in d->conns */
	struct xs_daemon *d;
	const struct xs_transport_ops *ops;
	void *priv;   /* transport state */
	int fd;	      /* pollable fd, -1 if none */
	uint64_t key; /* unique id for logs and restart */
	unsigned int domid;
	bool restricted;	   /* dropped to domid's rights by CONTROL restrict */
	bool readonly;		   /* read-only socket */
	bool dead;		   /* to be freed at the end of the loop pass */
	bool persistent;	   /* survives restarts: journaled, fd with the keeper */
	bool want_out;		   /* output is queued */
	bool out_blocked;	   /* the transport took less than offered */
	bool throttled;		   /* input paused until output drains */
	uint32_t ep_events;	   /* epoll interest currently set */
	struct xs_cbuf cb;	   /* requests in, replies and events out */
	struct sv_list dirty_link; /* in d->dirty while cb.dirty */
	uint32_t out_msgs;	   /* replies queued but not yet sent */
	bool events_dropped;	   /* logged once per overflow */
	bool quota_logged;	   /* outstanding quota hit, logged once */
	bool oversize_logged;	   /* an event too long to send, logged */
	struct sv_list watches;
	unsigned int nwatches;
	struct sv_list txns;
	unsigned int ntxns;
	/* Served by the io_uring loop (xs_uring.c) instead of epoll. */
	bool uring;
	bool ur_recv, ur_send; /* a receive / a send in flight */
	bool ur_pollout;       /* waiting for a full socket to take more */
	size_t ur_want;	       /* bytes the send in flight offered */
	bool ur_ready;	       /* completions taken this pass */
	const char *ur_eof;    /* closed by the peer ("") or failed (why) */
	uint32_t ur_slot;
	struct msghdr ur_msg[2]; /* receive, send: read by the kernel until done */
	struct iovec ur_iov[2][2];
};

struct xs_persist;
struct xs_keeper;
struct xs_uring;

struct xs_daemon {
	struct xs_tree tree;
	struct sv_list conns;
	struct sv_list dirty; /* connections whose buffers moved this pass */
	uint64_t pass;	      /* loop passes (journal batches) so far */
	struct sv_list watches;
	struct xs_domain **domains; /* indexed by domid, NULL if unknown */
	struct xs_quotas quota;
	uint32_t next_txid;
	uint64_t next_conn_key;
	FILE *log;
	bool trace; /* CONTROL log on: log every request */
	struct xs_persist *persist;
	struct xs_keeper *keeper; /* NULL: sockets die with the daemon */
	/* Ring connections' buffers the keeper handed back, until attached. */
	struct xs_kept_ring {
		uint64_t key;
		int memfd; /* -1 once taken */
	} * kept_rings;
	unsigned int nkept_rings;
	void *xen; /* hypervisor handles (xs_xen.c), NULL if none */
	/* Binds a domain's ring; set when the hypervisor is there. */
	int (*ring_attach)(struct xs_daemon *d, struct xs_domain *dom);
	/* Tries to reach the hypervisor again (it restarted); NULL in tests. */
	int (*ring_reopen)(struct xs_daemon *d);
	int epfd;
	struct xs_uring *uring; /* the io_uring loop, NULL: epoll only */
	const char *rundir;
};

/* xs_log.c */
void xs_log(struct xs_daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* xs_tree.c: main tree and the transaction view of it. */
int xs_tree_init(struct xs_tree *t);
void xs_tree_destroy(struct xs_tree *t);
const struct xs_node *xs_tree_get(struct xs_tree *t, struct xs_txn *tx, const char *path);
struct xs_node *xs_tree_mut(struct xs_tree *t, struct xs_txn *tx, const char *path);
int xs_tree_insert(struct xs_tree *t, struct xs_txn *tx, struct xs_node *n);
int xs_tree_remove(struct xs_tree *t, struct xs_txn *tx, const char *path);
void xs_tree_changed(struct xs_tree *t, struct xs_txn *tx, struct xs_node *n);
/* Puts a node loaded from disk without hooks; ownership counted. */
int xs_tree_load_node(struct xs_tree *t, struct xs_node *n);
/* Rebuilds parents' child lists after a load. */
int xs_tree_link_children(struct xs_tree *t);

/* xs_txn.c */
struct xs_txn *xs_txn_new(uint32_t id);
void xs_txn_free(struct xs_txn *tx);
/* Records (once) the node as the transaction first saw it; NULL on ENOMEM. */
struct xs_node *xs_txn_note_read(struct xs_txn *tx, const char *path, const struct xs_node *cur);
int xs_txn_add_event(struct xs_txn *tx, const char *path, bool recursive, const struct xs_perm *p,
		     uint32_t np);
/* Checks every read against the tree; -EAGAIN on conflict, else applies. */
int xs_txn_commit(struct xs_tree *t, struct xs_txn *tx);

/* xs_perms.c */
unsigned int xs_perms_for(const struct xs_caller *who, const struct xs_perm *p, uint32_t np);
bool xs_perms_can(const struct xs_caller *who, const struct xs_node *n, unsigned int want);
/* "r5" -> entry; -EINVAL if malformed. */
int xs_perms_parse(const char *s, struct xs_perm *out);
/* Writes "b0\0r5\0" into @buf; returns bytes or -E2BIG. */
int xs_perms_format(const struct xs_perm *p, uint32_t np, char *buf, size_t len);

/* xs_store.c: the store operations with permission and quota checks. */
struct xs_store_ctx {
	struct xs_daemon *d;
	struct xs_caller who;
	struct xs_txn *tx; /* NULL outside a transaction */
};
int xs_store_read(struct xs_store_ctx *s, const char *path, const struct xs_node **out);
int xs_store_write(struct xs_store_ctx *s, const char *path, const void *val, uint32_t len);
int xs_store_mkdir(struct xs_store_ctx *s, const char *path);
int xs_store_rm(struct xs_store_ctx *s, const char *path);
int xs_store_set_perms(struct xs_store_ctx *s, const char *path, const struct xs_perm *p,
		       uint32_t np);
/* Fire (or, in a transaction, remember) a change at @path. */
void xs_store_event(struct xs_store_ctx *s, const char *path, bool recursive,
		    const struct xs_perm *p, uint32_t np);

/* xs_watch.c */
int xs_watch_add(struct xs_daemon *d, struct xs_conn *c, const char *path, const char *token,
		 size_t rel_prefix);
int xs_watch_del(struct xs_daemon *d, struct xs_conn *c, const char *path, const char *token);
void xs_watch_del_all(struct xs_daemon *d, struct xs_conn *c);
void xs_watch_fire(struct xs_daemon *d, const char *path, bool recursive, const struct xs_perm *p,
		   uint32_t np);
/* Sends one WATCH_EVENT for @w with absolute @path. */
void xs_watch_send(struct xs_watch *w, const char *path);

/* xs_quota.c */
void xs_quota_defaults(struct xs_quotas *q);
const char *xs_quota_name(enum xs_quota_id id);
const char *xs_quota_descr(enum xs_quota_id id);
int xs_quota_lookup(const char *name);
/* True (and logged) if @used exceeds quota @id for @who. */
bool xs_quota_exceeded(struct xs_daemon *d, const struct xs_caller *who, enum xs_quota_id id,
		       long used);

/* xs_domain.c */
struct xs_domain *xs_domain_get(struct xs_daemon *d, unsigned int domid);
int xs_domain_introduce(struct xs_daemon *d, unsigned int domid, uint64_t mfn, unsigned int port);
int xs_domain_release(struct xs_daemon *d, unsigned int domid);
int xs_domain_set_target(struct xs_daemon *d, unsigned int domid, unsigned int target);
bool xs_domain_is_introduced(struct xs_daemon *d, unsigned int domid);
int xs_domain_attach_ring(struct xs_daemon *d, struct xs_domain *dom);
void xs_domain_free_all(struct xs_daemon *d);
void xs_caller_of(struct xs_daemon *d, const struct xs_conn *c, struct xs_caller *who);

/* xs_conn.c */
struct xs_conn *xs_conn_new(struct xs_daemon *d, const struct xs_transport_ops *ops, void *priv,
			    int fd, unsigned int domid, bool readonly);
/* The same over buffers the caller set up (shared, or recovered after a crash). */
struct xs_conn *xs_conn_new_cbuf(struct xs_daemon *d, const struct xs_transport_ops *ops,
				 void *priv, int fd, unsigned int domid, bool readonly,
				 const struct xs_cbuf *cb);
void xs_conn_kill(struct xs_conn *c, const char *why);
void xs_conn_free(struct xs_conn *c);
/* Reads what the transport has and handles every complete request. */
void xs_conn_handle_input(struct xs_conn *c);
/* Pushes queued output to the transport. */
void xs_conn_flush(struct xs_conn *c);
int xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id, const void *a,
		 uint32_t alen, const void *b, uint32_t blen);
int xs_conn_send_error(struct xs_conn *c, const struct xsd_sockmsg *req, int err);
struct xs_txn *xs_conn_find_txn(struct xs_conn *c, uint32_t id);
void xs_conn_drop_txns(struct xs_conn *c);
/* Updates epoll interest after a state change (no-op without epoll). */
void xs_conn_update_events(struct xs_conn *c);
/* Around a journal batch: every connection that moved records where it stands. */
void xs_conn_mark_pending(struct xs_daemon *d, uint64_t pass);
void xs_conn_mark_committed(struct xs_daemon *d, uint64_t pass);
/* Bytes queued for the client but not yet taken by the transport. */
static inline uint64_t xs_conn_unsent(const struct xs_conn *c)
{
	return xs_cbuf_out_unsent(&c->cb);
}

/* xs_ops.c: one request in, replies queued on @c. */
void xs_ops_handle(struct xs_conn *c, const struct xsd_sockmsg *hdr, const char *payload);

/* xs_control.c */
int xs_control(struct xs_conn *c, const struct xsd_sockmsg *hdr, const struct xs_args *a);

/* xs_persist.c: state file (snapshot + journal); all no-ops when d->persist is NULL. */
int xs_persist_open(struct xs_daemon *d, const char *path);
void xs_persist_domain(struct xs_daemon *d, const struct xs_domain *dom);
void xs_persist_quota(struct xs_daemon *d);
/* Persistent connections: identity and watches, for a restart. */
void xs_persist_conn(struct xs_daemon *d, const struct xs_conn *c);
void xs_persist_conn_gone(struct xs_daemon *d, const struct xs_conn *c);
void xs_persist_watch(struct xs_daemon *d, const struct xs_conn *c, const struct xs_watch *w,
		      bool added);
/* Gives a restored connection its saved identity and watches; -ENOENT if none. */
int xs_persist_restore_conn(struct xs_daemon *d, struct xs_conn *c);
/* Drops saved connections nobody restored. */
void xs_persist_forget_saved(struct xs_daemon *d);
/*
 * Ends a loop pass: marks every connection that moved, writes the
 * buffered records with one write() (ending in a pass record), then
 * commits the marks; replies may leave after this. Compacts the file
 * when it has grown.
 */
void xs_persist_flush(struct xs_daemon *d);
/* Last pass the state file had at start-up (restored connections roll back to it). */
uint64_t xs_persist_loaded_pass(struct xs_daemon *d);
void xs_persist_close(struct xs_daemon *d);

/* xs_daemon.c: context set-up shared by main and tests. */
int xs_daemon_init(struct xs_daemon *d);
void xs_daemon_fini(struct xs_daemon *d);
/* Called once state is loaded: makes sure "/" and "/tool" exist. */
int xs_daemon_base_nodes(struct xs_daemon *d);

#endif
