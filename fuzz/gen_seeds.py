#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the committed seed corpora in tests/fuzz/<name>/ (a few small valid
# inputs per target; see each fuzz/<name>_fuzz.c for the input layout).
# Rerun after changing a layout: python3 fuzz/gen_seeds.py
import gzip
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz")


def write(name, seeds):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for fname, data in seeds.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


# ---- blk_req: max-indirect byte, blkif_request_t (112 bytes), indirect page ----
def blk_rw(op, segs, sector=8, rid=0x1234):
    # operation u8, nr_segments u8, handle u16, pad u32, id u64, sector u64, 11 segments
    r = struct.pack("<BBHIQQ", op, len(segs), 0, 0, rid, sector)
    for gref, first, last in segs:
        r += struct.pack("<IBBH", gref, first, last, 0)
    return r.ljust(112, b"\0")


def blk_discard(sector, nr, secure):
    # operation u8, flag u8, handle u16, pad u32, id u64, sector u64, nr_sectors u64
    return struct.pack("<BBHIQQQ", 5, 1 if secure else 0, 0, 0, 7, sector, nr).ljust(112, b"\0")


def blk_indirect(op, nsegs, sector=0):
    # operation u8 (6), indirect_op u8, nr_segments u16, pad u32, id u64, sector u64,
    # handle u16, pad u16, pad u32, indirect_grefs[8] u32
    r = struct.pack("<BBHIQQHHI", 6, op, nsegs, 0, 9, sector, 0, 0, 0)
    r += struct.pack("<8I", *([200] + [0] * 7))
    page = b"".join(struct.pack("<IBBH", 300 + i, 0, 7, 0) for i in range(nsegs))
    return r.ljust(112, b"\0") + page


write("blk_req", {
    "read1": b"\xff" + blk_rw(0, [(100, 0, 7)]),
    "write11": b"\xff" + blk_rw(1, [(100 + i, i % 8, 7) for i in range(11)]),
    "flush0": b"\xff" + blk_rw(3, []),
    "flushdata": b"\xff" + blk_rw(3, [(5, 0, 3)]),
    "discard": b"\xff" + blk_discard(16, 64, False),
    "discardsec": b"\xff" + blk_discard(0, 8, True),
    "indirect_read": b"\xff" + blk_indirect(0, 20),
    "indirect_write": b"\x20" + blk_indirect(1, 32, 1024),
    "barrier": b"\xff" + blk_rw(2, [(1, 0, 7)]),
})


# ---- net_tx: cons u32, count u16, 12-byte tx slots, frame bytes ----
def tx(gref, offset, flags, rid, size):
    return struct.pack("<IHHHH", gref, offset, flags, rid, size)


def gso_extra(size, typ=1, more=False):
    # type u8, flags u8, gso.size u16, gso.type u8, pad u8, features u16
    return struct.pack("<BBHBBH", 1, 1 if more else 0, size, typ, 0, 0).ljust(12, b"\0")


def mcast_extra(more=False):
    return struct.pack("<BB", 2, 1 if more else 0).ljust(12, b"\0")


def net(cons, slots, frame=b""):
    return struct.pack("<IH", cons, len(slots)) + b"".join(slots) + frame


CSUM_BLANK, DATA_VALID, MORE, EXTRA = 1, 2, 4, 8


def udp4(payload=b"hello"):
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    ulen = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return eth + ip + struct.pack("!HHHH", 1000, 2000, ulen, 0) + payload


def tcp4(payload=b"x" * 40):
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 1, 0x4000, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack("!HHIIBBHHH", 1000, 80, 1, 0, 0x50, 0x18, 1024, 0, 0)
    return eth + ip + tcp + payload


def tcp6(payload=b"y" * 20):
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd"
    ip = struct.pack("!IHBB16s16s", 0x60000000, 20 + len(payload), 6, 64, b"\xfe\x80" + b"\0" * 13 + b"\1",
                     b"\xfe\x80" + b"\0" * 13 + b"\2")
    tcp = struct.pack("!HHIIBBHHH", 1000, 80, 1, 0, 0x50, 0x18, 1024, 0, 0)
    return eth + ip + tcp + payload


u, t4, t6 = udp4(), tcp4(), tcp6()
write("net_tx", {
    "one": net(0, [tx(1, 0, 0, 0, len(u))], u),
    "csum_udp": net(5, [tx(1, 64, CSUM_BLANK, 0, len(u))], u),
    "validated": net(0, [tx(1, 0, DATA_VALID, 0, 60)], u),
    "chain3": net(10, [tx(1, 0, MORE, 0, 300), tx(2, 0, MORE, 1, 100), tx(3, 100, 0, 2, 50)]),
    "wrap": net(255, [tx(2, 0, MORE, 0, 100), tx(3, 0, 0, 1, 40)]),
    "gso4": net(0, [tx(1, 0, CSUM_BLANK | EXTRA, 0, len(t4)), gso_extra(1448)], t4),
    "gso6_nocsum": net(0, [tx(1, 0, EXTRA, 0, len(t6)), gso_extra(1428, 2)], t6),
    "extras2": net(0xfffffffe, [tx(1, 0, EXTRA, 0, 60), mcast_extra(True), gso_extra(500)], t4),
    "two_pkts": net(0, [tx(1, 0, 0, 0, 60), tx(2, 0, MORE, 1, 80), tx(3, 0, 0, 2, 20)], u),
    "runt": net(0, [tx(1, 0, 0, 0, 10)]),
    "incomplete": net(0, [tx(1, 0, MORE, 0, 100)]),
})

# ---- config: file text, then NUL-separated overrides ----
write("config", {
    "hello.cfg": b"""# A PV guest.
name = "hello"
type = 'pv'
memory = 256
maxmem = 0x200   # hex is fine
vcpus = 2; maxvcpus = 4
kernel = "/boot/hello.elf"
ramdisk = "/boot/initrd"
root = "/dev/xvda1 ro"
extra = "console=hvc0"
disk = [ 'phy:/dev/vg/hello,xvda,w',
         '/img/data.img,raw,xvdb,ro', # trailing comma next
       ]
vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0', '' ]
on_poweroff = "preserve"
on_crash = "coredump-restart"
uuid = "3D9A2F2E-1b2c-4d5e-8f90-a1b2c3d4e5f6"
""",
    "minimal.cfg": b'name="a"\nkernel="/k"\nmemory=64\n',
    "overrides": b'name="b"\nkernel="/k"\nmemory=128\n\0memory=512\0extra="quiet"\0vcpus=2\0',
    "disks.cfg": b"name='d'\nkernel='/k'\ndisk=['format=raw, vdev=xvda, access=rw, target=/img/a.img',"
                 b" 'file:/img/b,hdb,r', 'vdev=xvdc,devtype=cdrom,']\n"
                 b"vif=['bridge=br0,mac=00:16:3e:aa:bb:cc,type=vif,vifname=v1']\n",
    "pvh.cfg": b"name = \"p\"\ntype = \"pvh\"\nkernel = \"/k\"\nmemory = 32\nengine = \"process\"\n"
               b"cmdline = \"a=b c\"\non_reboot = 'restart'\n",
})


# ---- elf: a small PV kernel (text + data/bss + Xen notes), and variants ----
BASE = 0xffffffff80000000


def note(name, typ, desc):
    n = name + b"\0"
    return struct.pack("<III", len(n), len(desc), typ) + n.ljust((len(n) + 3) & ~3, b"\0") + \
        desc.ljust((len(desc) + 3) & ~3, b"\0")


def elf(notes_on=True, entry_note=True, sections=False):
    notes = b""
    if notes_on:
        notes += note(b"GNU", 3, b"abcd")
        notes += note(b"Xen", 6, b"linux\0") + note(b"Xen", 7, b"2.6\0")
        notes += note(b"Xen", 5, b"xen-3.0\0") + note(b"Xen", 8, b"generic\0")
        notes += note(b"Xen", 3, struct.pack("<Q", BASE)) + note(b"Xen", 4, struct.pack("<Q", 0))
        if entry_note:
            notes += note(b"Xen", 1, struct.pack("<Q", BASE + 0x100))
        notes += note(b"Xen", 2, struct.pack("<Q", BASE + 0x1000))
        notes += note(b"Xen", 10, b"!writable_page_tables|pae_pgdir_above_4gb\0")
        notes += note(b"Xen", 9, b"yes\0")
    NOTE_OFF, TEXT_OFF = 0x100, 0x400
    TEXT = 0x200
    DATA_OFF, DATA_FILE = TEXT_OFF + TEXT, 0x80
    phnum = 3 if notes_on and not sections else 2
    img = bytearray(DATA_OFF + DATA_FILE)
    shoff = len(img) if sections else 0
    eh = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, BASE + 0x40, 64, shoff, 0, 64, 56, phnum,
                      64 if sections else 0, 2 if sections else 0, 0)
    img[0:64] = eh
    ph = struct.pack("<IIQQQQQQ", 1, 5, TEXT_OFF, BASE, 0, TEXT, 0x2000, 4096)
    ph += struct.pack("<IIQQQQQQ", 1, 6, DATA_OFF, BASE + 0x2000, 0x2000, DATA_FILE, 0x1800, 4096)
    if phnum == 3:
        ph += struct.pack("<IIQQQQQQ", 4, 4, NOTE_OFF, 0, 0, len(notes), len(notes), 4)
    img[64:64 + len(ph)] = ph
    img[NOTE_OFF:NOTE_OFF + len(notes)] = notes
    img[TEXT_OFF:TEXT_OFF + TEXT] = b"\x90" * TEXT
    img[DATA_OFF:DATA_OFF + DATA_FILE] = b"\xda" * DATA_FILE
    if sections:
        img += b"\0" * 64  # SHT_NULL
        img += struct.pack("<IIQQQQIIQQ", 0, 7, 2, 0, NOTE_OFF, len(notes), 0, 0, 4, 0)
    return bytes(img)


def xen_guest_elf():
    # no notes, only the legacy __xen_guest section string (and .shstrtab)
    base = bytearray(elf(notes_on=False))
    guest = b"GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xffffffff80000000,ELF_PADDR_OFFSET=0," \
        b"HYPERCALL_PAGE=0x1,LOADER=generic\0"
    strtab = b"\0__xen_guest\0.shstrtab\0"
    goff = len(base)
    soff = goff + len(guest)
    shoff = (soff + len(strtab) + 7) & ~7
    img = base + guest + strtab
    img += b"\0" * (shoff - len(img))
    img += b"\0" * 64
    img += struct.pack("<IIQQQQIIQQ", 1, 1, 0, 0, goff, len(guest), 0, 0, 1, 0)
    img += struct.pack("<IIQQQQIIQQ", 13, 3, 0, 0, soff, len(strtab), 0, 0, 1, 0)
    img[0x28:0x30] = struct.pack("<Q", shoff)
    img[0x3a:0x40] = struct.pack("<HHH", 64, 3, 2)
    return bytes(img)


write("elf", {
    "pv_kernel": elf(),
    "pv_kernel_gz": gzip.compress(elf(), mtime=0),
    "xen_guest": xen_guest_elf(),
    "no_entry_note": elf(entry_note=False),
    "no_notes": elf(notes_on=False),
    "note_sections": elf(sections=True),
    "bzimage_hdr": b"\0" * 0x1f1 + b"\x10" + b"\0" * 0x0c + b"\x55\xaa" + b"\0" * 0x2 + b"HdrS" + b"\x0c\x02" + b"\0" * 0x20,
})


# ---- hypercall: fill length u16, data-page bytes, then records (see hypercall_fuzz.c) ----
RAW, PTR, SMALL = 0, 1, 2


def call(nr, *args):
    # args: (how, value) pairs or plain ints (raw); a PTR value is an offset in the data pages
    how, vals = 0, []
    for i in range(5):
        a = args[i] if i < len(args) else 0
        h, v = a if isinstance(a, tuple) else (RAW, a)
        how |= h << (2 * i)
        vals.append(v)
    return struct.pack("<BH5Q", nr, how, *vals)


def hc(data, *calls):
    return struct.pack("<H", len(data)) + data + b"".join(calls)


DOMID_SELF = 0x7FF0
write("hypercall", {
    "version_console": hc(b"hello", call(17, 0), call(17, 6, (PTR, 64)), call(18, 0, 5, (PTR, 0))),
    "evtchn": hc(struct.pack("<HHI", DOMID_SELF, 0, 0) + b"\0" * 8 + struct.pack("<III", 0, 0, 0),
                 call(32, 6, (PTR, 0)), call(32, 1, (PTR, 16)), call(32, 4, (PTR, 4)),
                 call(32, 3, (PTR, 4))),
    "gnttab_setup": hc(struct.pack("<HHIhhIQ", DOMID_SELF, 0, 1, 0, 0, 0, 0x400000 + 256),
                       call(20, 2, (PTR, 0), 1), call(20, 1, 0, 0)),
    "update_va": hc(b"", call(14, 0x401000, 0x11000 | 7, 0), call(14, 0x401000, 0, 2)),
    "vcpu_up": hc(b"\0" * 5168, call(24, 0, 1, (PTR, 0)), call(24, 1, 1), call(24, 3, 1),
                  call(24, 2, 1)),
    "memory": hc(struct.pack("<H", DOMID_SELF), call(12, 3, (PTR, 0)), call(12, 2, 0),
                 call(12, 12, (PTR, 64))),
    "shutdown": hc(struct.pack("<I", 0), call(29, 2, (PTR, 0))),
    # FIFO event channels: init_control {gfn 0x30, offset 0, vcpu 0}, expand_array {0x31},
    # an alloc_unbound to self at +64, set_priority {port 1, prio 2} at +32, a send, reset
    "evtchn_fifo": hc(struct.pack("<QII", 0x30, 0, 0).ljust(24, b"\0") + struct.pack("<Q", 0x31)
                      + struct.pack("<II", 1, 2).ljust(32, b"\0")
                      + struct.pack("<HHI", DOMID_SELF, DOMID_SELF, 0),
                      call(32, 11, (PTR, 0)), call(32, 12, (PTR, 24)), call(32, 6, (PTR, 64)),
                      call(32, 13, (PTR, 32)), call(32, 4, (PTR, 32)), call(32, 10, (PTR, 64))),
    # xen_memory_reservation {extent_start, nr_extents, extent_order, mem_flags, domid}, frames at +64
    "balloon": hc(struct.pack("<QQIIH", 0x400000 + 64, 2, 0, 0, DOMID_SELF).ljust(64, b"\0")
                  + struct.pack("<QQ", 0x30, 0x31),
                  call(12, 1, (PTR, 0)), call(12, 3, (PTR, 96)), call(12, 6, (PTR, 0)),
                  call(12, 0, (PTR, 0))),
})
