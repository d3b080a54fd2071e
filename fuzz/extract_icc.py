#!/usr/bin/env python3
"""Seeds for the icc target: the ICC profiles embedded in JPEG (APP2) and PNG (iCCP) files.
usage: extract_icc.py OUT_DIR FILE..."""
import hashlib, os, sys, zlib

def jpeg_icc(b):
    parts, pos = {}, 2
    while pos + 4 <= len(b) and b[pos] == 0xFF:
        marker = b[pos + 1]
        if marker in (0xDA, 0xD9):
            break
        n = int.from_bytes(b[pos + 2:pos + 4], 'big')
        seg = b[pos + 4:pos + 2 + n]
        if marker == 0xE2 and seg.startswith(b'ICC_PROFILE\0') and len(seg) > 14:
            parts[seg[12]] = seg[14:]
        pos += 2 + n
    return b''.join(parts[k] for k in sorted(parts)) if parts else None

def png_icc(b):
    pos = 8
    while pos + 8 <= len(b):
        n = int.from_bytes(b[pos:pos + 4], 'big')
        kind = b[pos + 4:pos + 8]
        if kind == b'iCCP':
            data = b[pos + 8:pos + 8 + n]
            name_end = data.find(b'\0')
            try:
                return zlib.decompress(data[name_end + 2:])
            except Exception:
                return None
        if kind in (b'IDAT', b'IEND'):
            return None
        pos += 12 + n
    return None

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
count = 0
for path in sys.argv[2:]:
    try:
        b = open(path, 'rb').read()
    except OSError:
        continue
    icc = jpeg_icc(b) if b[:2] == b'\xff\xd8' else png_icc(b) if b[:4] == b'\x89PNG' else None
    if icc:
        open(os.path.join(out, hashlib.sha1(icc).hexdigest()), 'wb').write(icc)
        count += 1
print(f'{count} embedded profiles')
