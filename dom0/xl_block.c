// SPDX-License-Identifier: MIT
/* xl's block devices: disk= at create, block-attach, block-detach, block-list. */
#include <stdint.h>
#include <stdio.h>
#include "xl.h"

/* Not written yet: the block split driver (issue 5) brings these. */
int xl_block_create_all(struct xs_handle *xs, uint32_t domid, const struct sv_config *cfg)
{
	if (cfg->nr_disks)
		fprintf(stderr, "xl: warning: disk devices are not supported yet; %zu ignored\n",
			cfg->nr_disks);
	return 0;
}

int xl_cmd_block_attach(int argc, char **argv)
{
	xl_err("block-attach is not implemented yet");
	return 1;
}

int xl_cmd_block_detach(int argc, char **argv)
{
	xl_err("block-detach is not implemented yet");
	return 1;
}

int xl_cmd_block_list(int argc, char **argv)
{
	xl_err("block-list is not implemented yet");
	return 1;
}
