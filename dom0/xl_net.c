// SPDX-License-Identifier: MIT
/* xl's network devices: vif= at create, network-attach, network-detach, network-list. */
#include <stdint.h>
#include <stdio.h>
#include "xl.h"

/* Not written yet: the network split driver (issue 6) brings these. */
int xl_net_create_all(struct xs_handle *xs, uint32_t domid, const struct sv_config *cfg)
{
	if (cfg->nr_vifs)
		fprintf(stderr, "xl: warning: vif devices are not supported yet; %zu ignored\n",
			cfg->nr_vifs);
	return 0;
}

int xl_cmd_network_attach(int argc, char **argv)
{
	xl_err("network-attach is not implemented yet");
	return 1;
}

int xl_cmd_network_detach(int argc, char **argv)
{
	xl_err("network-detach is not implemented yet");
	return 1;
}

int xl_cmd_network_list(int argc, char **argv)
{
	xl_err("network-list is not implemented yet");
	return 1;
}
