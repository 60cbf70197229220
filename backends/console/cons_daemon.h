// SPDX-License-Identifier: MIT
// xenconsoled's shared state: the daemon context, its domains and clients.
#ifndef SV_CONS_DAEMON_H
#define SV_CONS_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#include "cons_buf.h"
#include "cons_proto.h"
#include "sv/list.h"
#include "sv/rate.h"
#include "cons_ring.h"

/* Bytes of output history a newly attached client receives first. */
#define CONS_HISTORY_SIZE (16 * 1024)
/* Per-client output queue; a client that stops reading loses the rest. */
#define CONS_CLIENT_OUT_SIZE (64 * 1024)
/* Per-domain input queue waiting for space in the guest's in[] ring. */
#define CONS_INPUT_SIZE 4096
/* Longest domain name used in guest-NAME.log. */
#define CONS_NAME_MAX 64
/*
 * What one guest's output may cost: out[] is read at CONS_OUT_RATE bytes
 * per second after a burst of CONS_OUT_BURST (past it the guest waits for
 * ring space, nothing is lost), and guest-NAME.log becomes
 * guest-NAME.log.1 at CONS_LOG_MAX.  cons_daemon's fields override them
 * (0: these).
 */
#define CONS_OUT_RATE (64u * 1024)
#define CONS_OUT_BURST (1024u * 1024)
#define CONS_LOG_MAX (8u * 1024 * 1024)
/* A throttled guest is read again once this much (or the burst) is allowed. */
#define CONS_OUT_RESUME 1024u

/* What an epoll event's data.ptr points at. */
enum cons_ep_kind {
	CONS_EP_LISTEN,
	CONS_EP_SIGNAL,
	CONS_EP_XS,
	CONS_EP_XS_CANARY,
	CONS_EP_EVTCHN,
	CONS_EP_CLIENT,
	CONS_EP_PTY, /* a guest's pty master: input typed on its slave */
};

struct cons_ep {
	enum cons_ep_kind kind;
};

struct cons_daemon;
struct svctl;

/* One guest's console as found in xenstore. */
struct cons_domain {
	struct sv_list link; /* in cons_daemon.domains */
	struct cons_daemon *d;
	uint32_t domid;
	char name[CONS_NAME_MAX + 1];	/* /local/domain/N/name, sanitised */
	uint64_t ring_ref;		/* console/ring-ref: gfn of the page */
	uint32_t remote_port;		/* console/port: the guest's port */
	int local_port;			/* our bound port, -1 when unbound */
	struct xencons_interface *intf; /* mapped page, NULL when unmapped */
	bool disabled;			/* rogue ring: ignored until keys change */
	bool seen;			/* mark for a full rescan */
	int log_fd;			/* DIR/console/guest-NAME.log or -1 */
	bool log_failed;		/* log write error already reported */
	bool log_mid_line;		/* the log's last byte was not '\n' */
	struct sv_rate out_rate;	/* bytes of out[] it may have read now */
	bool throttled;			/* out[] holds output the rate does not allow yet */
	bool limited;			/* in a rate-limit episode (logged at its start and end) */
	uint64_t throttles;		/* times it was throttled */
	struct cons_buf history;	/* last CONS_HISTORY_SIZE output bytes */
	struct cons_buf input;		/* client bytes waiting for in[] space */
	struct sv_list clients;		/* attached cons_client.link */
	int pty_master, pty_slave;	/* console/tty's pty, -1: none */
	bool tty_published;		/* its path is in console/tty */
};

/* One connection on xenconsoled.sock. */
struct cons_client {
	struct cons_ep ep;   /* CONS_EP_CLIENT */
	struct sv_list link; /* pending, a domain's clients, or dead */
	struct cons_daemon *d;
	struct cons_domain *dom; /* NULL until attached */
	int fd;
	uint32_t events;		/* epoll mask currently registered */
	char line[CONS_PROTO_MAX_LINE]; /* request line received so far */
	size_t line_len;
	struct cons_buf out;	/* bytes queued for the client */
	uint64_t dropped;	/* output bytes lost to a full queue */
	bool close_after_flush; /* error reply queued: then close */
	bool eof;		/* client shut its sending side */
	bool draining;		/* refused: discarding input until EOF */
	size_t drained;		/* bytes discarded so far */
	bool dead;		/* freed at the end of the loop pass */
};

struct cons_daemon {
	const char *rundir;
	char sock_path[4096];
	char console_dir[4096];
	int epfd, lfd, sigfd;
	struct xs_handle *xs;
	int xs_canary; /* idle socket to xenstored: HUP = gone */
	xenevtchn_handle *xce;
	xenforeignmemory_handle *fmem;
	struct svctl *ctl;	/* hypervisor control, for domain info */
	struct sv_list domains; /* struct cons_domain.link */
	struct sv_list pending; /* clients that have not attached yet */
	struct sv_list dead;	/* clients to free after this pass */
	bool quit;
	bool log_timestamps;	      /* --timestamp=guest */
	uint64_t out_rate, out_burst; /* per-guest output limits (0: CONS_OUT_*) */
	uint64_t log_max;	      /* guest log rotation size (0: CONS_LOG_MAX) */
	uint64_t (*clock)(void);      /* monotonic ns (NULL: CLOCK_MONOTONIC; tests set theirs) */
	bool xs_failed;		      /* a xenstore call failed for good */
	/* Domains named by the watch events of one wakeup (cons_xs.c). */
	uint64_t recheck[DOMID_FIRST_RESERVED / 64 + 1];
	struct cons_ep ep_listen, ep_sig, ep_xs, ep_evtchn, ep_canary;
};

/* One timestamped line on stderr, the daemon's log file (common/svd.c). */
#include "sv/daemon.h"
#define cons_log svd_log

/* cons_domain.c: the data plane of one guest console. */
struct cons_domain *cons_domain_find(struct cons_daemon *d, uint32_t domid);
struct cons_domain *cons_domain_new(struct cons_daemon *d, uint32_t domid, const char *name,
				    uint64_t ring_ref, uint32_t remote_port);
int cons_domain_connect(struct cons_domain *dom);
int cons_domain_reconnect(struct cons_domain *dom, uint64_t ring_ref, uint32_t remote_port);
void cons_domain_free(struct cons_domain *dom, const char *why);
void cons_domain_disable(struct cons_domain *dom, const char *why);
int cons_domain_handle_evtchn(struct cons_daemon *d);
/*
 * A guest's pty master is readable (the event names no domain, so that a
 * domain freed earlier in the same epoll batch leaves nothing dangling):
 * what was typed on each slave goes to its guest.
 */
void cons_domain_pty_input(struct cons_daemon *d);
void cons_domain_service(struct cons_domain *dom);
/* Milliseconds until a throttled guest may be read again (-1: none is throttled). */
int cons_domain_timeout_ms(struct cons_daemon *d);
/* Serves the throttled guests whose rate allows reading again. */
void cons_domain_service_throttled(struct cons_daemon *d);
void cons_domain_input_ready(struct cons_domain *dom);
void cons_domain_reopen_logs(struct cons_daemon *d);
void cons_domain_sanitise_name(char *dst, size_t cap, const char *src, uint32_t domid);

/* cons_client.c: connections on xenconsoled.sock. */
void cons_client_accept(struct cons_daemon *d);
void cons_client_handle(struct cons_client *c, uint32_t events);
void cons_client_send(struct cons_client *c, const char *buf, size_t len);
void cons_client_kill(struct cons_client *c);
void cons_client_set_reading(struct cons_client *c, bool on);
void cons_client_reap(struct cons_daemon *d);

/* cons_dominfo.c: whether a domain still lives (hypervisor). */
bool cons_dominfo_dead(struct cons_daemon *d, uint32_t domid);
void cons_dominfo_close(struct cons_daemon *d);

/* cons_xs.c: the control plane, domains and their keys in xenstore. */
int cons_xs_watch(struct cons_daemon *d);
int cons_xs_handle(struct cons_daemon *d);
void cons_xs_rescan(struct cons_daemon *d);

#endif
