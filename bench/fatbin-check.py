#!/usr/bin/env python3
"""Loads every fatbin of a CUDA shared library through the CUDA driver (cuModuleLoadData), as the
CUDA runtime would on this GPU: checks that a library pruned by FatbinPrune (cubins of other
architectures zeroed) still has a loadable image for this device in every fatbin.
usage: fatbin-check.py LIB.so   -> prints a JSON summary; exit 1 when any fatbin fails to load."""
import ctypes, json, struct, sys, time

def section(data, wanted):
    shoff = struct.unpack_from('<Q', data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3A)
    secs = [struct.unpack_from('<IIQQQQ', data, shoff + i * shentsize) for i in range(shnum)]
    stroff = secs[shstrndx][4]
    for name, typ, flags, addr, off, size in secs:
        end = data.index(b'\0', stroff + name)
        if data[stroff + name:end].decode() == wanted:
            return off, size
    return None

def main():
    path = sys.argv[1]
    data = open(path, 'rb').read()
    off, size = section(data, '.nv_fatbin')
    cuda = ctypes.CDLL('libcuda.so.1')
    assert cuda.cuInit(0) == 0, 'cuInit failed'
    dev = ctypes.c_int(); cuda.cuDeviceGet(ctypes.byref(dev), 0)
    major, minor = ctypes.c_int(), ctypes.c_int()
    cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, dev); cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, dev)
    ctx = ctypes.c_void_p(); assert cuda.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
    assert cuda.cuCtxSetCurrent(ctx) == 0
    p, end, ok, failed, errors = off, off + size, 0, 0, {}
    t0 = time.time()
    while p + 16 <= end:
        magic, ver, hsize, fsize = struct.unpack_from('<IHHQ', data, p)
        if magic != 0xBA55ED50:
            p += 8; continue
        blob = ctypes.create_string_buffer(data[p:p + hsize + fsize], hsize + fsize)
        mod = ctypes.c_void_p()
        rc = cuda.cuModuleLoadData(ctypes.byref(mod), blob)
        if rc == 0:
            ok += 1; cuda.cuModuleUnload(mod)
        else:
            failed += 1; errors[str(rc)] = errors.get(str(rc), 0) + 1
        p += hsize + fsize
    r = {'library': path, 'device_sm': major.value * 10 + minor.value, 'fatbins_loaded': ok, 'fatbins_failed': failed,
         'errors_by_code': errors, 'seconds': round(time.time() - t0, 2)}
    print(json.dumps(r))
    sys.exit(1 if failed or not ok else 0)

main()
