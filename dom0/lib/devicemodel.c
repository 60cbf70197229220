// SPDX-License-Identifier: MIT
/* libxendevicemodel (Xen's xendevicemodel.h API): a handle opens; every device-model op is ENOSYS.
 */
#include <errno.h>
#include <stdlib.h>
#include <xendevicemodel.h>

/*
 * Splitvisor runs PV guests only: there is no device model, no ioreq
 * server and no emulated interrupt controller to drive.  Xen's libxenctrl
 * opens a device-model handle in every xc_interface_open, so open must
 * succeed; each op then fails with ENOSYS, which libxl reports for HVM
 * paths and never reaches for PV ones.  A handle holds nothing.
 *
 * Thread safety: no state, any call from any thread.
 */
struct xendevicemodel_handle {
	int unused;
};

static int nosys(void)
{
	errno = ENOSYS;
	return -1;
}

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
					   unsigned int open_flags)
{
	return calloc(1, sizeof(xendevicemodel_handle));
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
	free(dmod);
	return 0;
}

int xendevicemodel_create_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
				       int handle_bufioreq, ioservid_t *id)
{
	return nosys();
}

int xendevicemodel_get_ioreq_server_info(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id,
					 xen_pfn_t *ioreq_gfn, xen_pfn_t *bufioreq_gfn,
					 evtchn_port_t *bufioreq_port)
{
	return nosys();
}

int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, int is_mmio, uint64_t start,
						uint64_t end)
{
	return nosys();
}

int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						    ioservid_t id, int is_mmio, uint64_t start,
						    uint64_t end)
{
	return nosys();
}

int xendevicemodel_map_mem_type_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, uint16_t type, uint32_t flags)
{
	return nosys();
}

int xendevicemodel_map_pcidev_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
					      ioservid_t id, uint16_t segment, uint8_t bus,
					      uint8_t device, uint8_t function)
{
	return nosys();
}

int xendevicemodel_unmap_pcidev_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						  ioservid_t id, uint16_t segment, uint8_t bus,
						  uint8_t device, uint8_t function)
{
	return nosys();
}

int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id)
{
	return nosys();
}

int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id,
					  int enabled)
{
	return nosys();
}

int xendevicemodel_set_pci_intx_level(xendevicemodel_handle *dmod, domid_t domid, uint16_t segment,
				      uint8_t bus, uint8_t device, uint8_t intx, unsigned int level)
{
	return nosys();
}

int xendevicemodel_set_isa_irq_level(xendevicemodel_handle *dmod, domid_t domid, uint8_t irq,
				     unsigned int level)
{
	return nosys();
}

int xendevicemodel_set_irq_level(xendevicemodel_handle *dmod, domid_t domid, unsigned int irq,
				 unsigned int level)
{
	return nosys();
}

int xendevicemodel_set_pci_link_route(xendevicemodel_handle *dmod, domid_t domid, uint8_t link,
				      uint8_t irq)
{
	return nosys();
}

int xendevicemodel_inject_msi(xendevicemodel_handle *dmod, domid_t domid, uint64_t msi_addr,
			      uint32_t msi_data)
{
	return nosys();
}

int xendevicemodel_track_dirty_vram(xendevicemodel_handle *dmod, domid_t domid, uint64_t first_pfn,
				    uint32_t nr, unsigned long *dirty_bitmap)
{
	return nosys();
}

int xendevicemodel_modified_memory(xendevicemodel_handle *dmod, domid_t domid, uint64_t first_pfn,
				   uint32_t nr)
{
	return nosys();
}

int xendevicemodel_modified_memory_bulk(xendevicemodel_handle *dmod, domid_t domid,
					struct xen_dm_op_modified_memory_extent extents[],
					uint32_t nr)
{
	return nosys();
}

int xendevicemodel_set_mem_type(xendevicemodel_handle *dmod, domid_t domid, hvmmem_type_t mem_type,
				uint64_t first_pfn, uint32_t nr)
{
	return nosys();
}

int xendevicemodel_inject_event(xendevicemodel_handle *dmod, domid_t domid, int vcpu,
				uint8_t vector, uint8_t type, uint32_t error_code, uint8_t insn_len,
				uint64_t extra)
{
	return nosys();
}

int xendevicemodel_shutdown(xendevicemodel_handle *dmod, domid_t domid, unsigned int reason)
{
	return nosys();
}

int xendevicemodel_relocate_memory(xendevicemodel_handle *dmod, domid_t domid, uint32_t size,
				   uint64_t src_gfn, uint64_t dst_gfn)
{
	return nosys();
}

int xendevicemodel_pin_memory_cacheattr(xendevicemodel_handle *dmod, domid_t domid, uint64_t start,
					uint64_t end, uint32_t type)
{
	return nosys();
}

int xendevicemodel_nr_vcpus(xendevicemodel_handle *dmod, domid_t domid, unsigned int *vcpus)
{
	return nosys();
}

/* Nothing to restrict: the handle reaches nothing. */
int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
	return 0;
}
