// SPDX-License-Identifier: MIT
// xs-client's raw-protocol test modes (pipeline, noread, inflight).
#ifndef XS_CLIENT_RAW_H
#define XS_CLIENT_RAW_H

/* Runs a raw mode named by argv[1]: its exit status, or -1 if none matches. */
int xs_client_raw(int argc, char **argv);

#endif
