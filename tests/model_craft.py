#!/usr/bin/env python3
"""model_craft.py: writes hostile .chordlet files for the loader's tests, with
an independent reader and writer of the format (engine/modelfile.h, version 1).

  model_craft.py huge-claim IN OUT
      OUT keeps IN's metadata (a student model) but claims a student of
      2 GB of parameters (768 bins, layers 8/8/8, FF x16) and holds no
      tensor at all: a file of a few KB. A loader must refuse it for the
      missing tensors without allocating what it claims.

  model_craft.py set-f64 IN OUT KEY VALUE
      OUT is IN with the f64 metadata KEY (which IN has) set to VALUE, its
      checksum mended: a well-formed file with a value the loader must judge.
"""
import struct
import sys
import zlib

I64, F64, STR, I32A = 1, 2, 3, 4


def meta_entries(b):
    """(key, type, count, payload offset, payload size) of every metadata entry of the file b."""
    magic, version, _flags, n_meta, _n_tensors, _res, pos = struct.unpack_from("<4sIIIIIQ", b, 0)
    assert magic == b"CHLT" and version == 1, "not a chordlet model file"
    for _ in range(n_meta):
        (klen,) = struct.unpack_from("<H", b, pos)
        key = b[pos + 2:pos + 2 + klen].decode()
        pos += 2 + klen
        typ, _zero, count = struct.unpack_from("<BBI", b, pos)
        pos += 6
        size = {I64: 8, F64: 8, STR: count, I32A: 4 * count}[typ]
        yield key, typ, count, pos, size
        pos += size


def read_meta(path):
    b = open(path, "rb").read()
    return [[key, typ, count, b[pos:pos + size]] for key, typ, count, pos, size in meta_entries(b)]


def write_file(path, meta):
    body = b""
    for key, typ, count, payload in meta:
        k = key.encode()
        body += struct.pack("<H", len(k)) + k + struct.pack("<BBI", typ, 0, count) + payload
    meta_off = 64
    table_off = meta_off + len(body)
    blob_off = (table_off + 63) // 64 * 64
    total = blob_off + 4
    head = struct.pack("<4sIIIIIQQQQQ", b"CHLT", 1, 0, len(meta), 0, 0, meta_off, table_off, blob_off, 0, total)
    data = head + body + b"\0" * (blob_off - table_off)
    data += struct.pack("<I", zlib.crc32(data) & 0xFFFFFFFF)
    open(path, "wb").write(data)


def set_meta(meta, key, typ, value):
    if typ == I64:
        payload, count = struct.pack("<q", value), 1
    elif typ == I32A:
        payload, count = struct.pack("<%di" % len(value), *value), len(value)
    else:
        raise ValueError(typ)
    for m in meta:
        if m[0] == key:
            m[1:] = [typ, count, payload]
            return
    meta.append([key, typ, count, payload])


def set_f64(src, dst, key, value):
    b = bytearray(open(src, "rb").read())
    for name, typ, _count, pos, _size in meta_entries(b):
        if name == key:
            assert typ == F64, "%s is not an f64" % key
            struct.pack_into("<d", b, pos, value)
            struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])) & 0xFFFFFFFF)
            open(dst, "wb").write(bytes(b))
            return
    sys.exit("%s has no %s" % (src, key))


def overlap(src, dst):
    b = bytearray(open(src, "rb").read())
    _magic, _v, _f, n_meta, n_tensors, _r, _mo, table_off = struct.unpack_from("<4sIIIIIQQ", b, 0)
    assert n_tensors >= 2, "needs two tensors"
    pos, offsets_at = table_off, []
    for _ in range(n_tensors):
        (nlen,) = struct.unpack_from("<H", b, pos)
        pos += 2 + nlen
        ndim, _dtype = struct.unpack_from("<BB", b, pos)
        pos += 2 + 4 * ndim
        offsets_at.append(pos)
        pos += 16
    (first,) = struct.unpack_from("<Q", b, offsets_at[0])
    struct.pack_into("<Q", b, offsets_at[1], first)
    struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])) & 0xFFFFFFFF)
    open(dst, "wb").write(bytes(b))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "overlap":
        overlap(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 6 and sys.argv[1] == "set-f64":
        set_f64(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
        return
    if len(sys.argv) != 4 or sys.argv[1] != "huge-claim":
        sys.exit(__doc__)
    meta = read_meta(sys.argv[2])
    set_meta(meta, "student.n_bins", I64, 768)
    set_meta(meta, "stream.n_bins", I64, 768)
    set_meta(meta, "stream.bins_per_octave", I64, 96)
    set_meta(meta, "student.n_groups", I64, 2)
    set_meta(meta, "student.layers", I32A, [8, 8, 8])
    set_meta(meta, "student.heads", I32A, [2, 2, 2])
    set_meta(meta, "student.ff_mult", I64, 16)
    write_file(sys.argv[3], meta)


if __name__ == "__main__":
    main()
